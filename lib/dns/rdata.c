/*
 * rdata.c - record data of each type: presentation text to wire, wire to
 * text, and well-formedness, driven by one field list per type.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "dns/dns.h"

/*
 * Field codes, in wire order:
 *   n  domain name, compressible (RFC 1035 types)   N  name, never compressed
 *   1 2 4  unsigned integers of 1, 2, 4 bytes       P  32-bit period (TTL units)
 *   a  IPv4 address    6  IPv6 address (RFC 4291 2.2)
 *   s  one <character-string>   S  one or more, to the end
 *   x  hex to the end (tokens joined)   b  base64 to the end (RFC 4648 4)
 *   t  a type mnemonic (RRSIG type covered)   e  RRSIG time (RFC 4034 3.2)
 *   m  type bitmap to the end (RFC 4034 4.1.2)
 *   h  one-byte-length hex salt, "-" when empty (RFC 5155 3.3)
 *   B  one-byte-length base32hex without padding (RFC 5155 3.3)
 *   c  CAA tag (RFC 8659 4.1)   C  CAA value: one string, to the end
 *   v  SVCB SvcParams to the end (RFC 9460 2.1)
 */
struct rtype {
	uint16_t type;
	const char *name;
	const char *fields;
};

static const struct rtype rtypes[] = {
    {DNS_T_A, "A", "a"},
    {DNS_T_NS, "NS", "n"},
    {DNS_T_CNAME, "CNAME", "n"},
    {DNS_T_SOA, "SOA", "nn4PPPP"},
    {DNS_T_PTR, "PTR", "n"},
    {DNS_T_HINFO, "HINFO", "ss"},
    {DNS_T_MX, "MX", "2n"},
    {DNS_T_TXT, "TXT", "S"},
    {DNS_T_AAAA, "AAAA", "6"},
    {DNS_T_SRV, "SRV", "222N"},
    {DNS_T_NAPTR, "NAPTR", "22sssN"},
    {DNS_T_DNAME, "DNAME", "N"},
    {DNS_T_DS, "DS", "211x"},
    {DNS_T_SSHFP, "SSHFP", "11x"},
    {DNS_T_RRSIG, "RRSIG", "t114ee2Nb"},
    {DNS_T_NSEC, "NSEC", "Nm"},
    {DNS_T_DNSKEY, "DNSKEY", "211b"},
    {DNS_T_NSEC3, "NSEC3", "112hBm"},
    {DNS_T_NSEC3PARAM, "NSEC3PARAM", "112h"},
    {DNS_T_TLSA, "TLSA", "111x"},
    {DNS_T_SVCB, "SVCB", "2Nv"},
    {DNS_T_HTTPS, "HTTPS", "2Nv"},
    {DNS_T_CAA, "CAA", "1cC"},
    /* Known by name only (queries, meta types): rdata is generic. */
    {DNS_T_OPT, "OPT", NULL},
    {DNS_T_TSIG, "TSIG", NULL},
    {DNS_T_IXFR, "IXFR", NULL},
    {DNS_T_AXFR, "AXFR", NULL},
    {DNS_T_ANY, "ANY", NULL},
};

static const struct rtype *rtype_find(uint16_t type)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rtypes); i++)
		if (rtypes[i].type == type)
			return &rtypes[i];
	return NULL;
}

static bool ieq(const char *s, size_t n, const char *lit)
{
	size_t i = 0;
	for (; i < n && lit[i]; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != lit[i])
			return false;
	}
	return i == n && !lit[i];
}

static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!n || n > 20)
		return ATL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ATL_EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return ATL_EINVAL;
	}
	*out = v;
	return ATL_OK;
}

int dns_type_from_text(const char *s, size_t n)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rtypes); i++)
		if (ieq(s, n, rtypes[i].name))
			return rtypes[i].type;
	uint64_t v;
	if (n > 4 && ieq(s, 4, "TYPE") && parse_uint(s + 4, n - 4, 65535, &v) == ATL_OK)
		return (int)v; /* RFC 3597 5 */
	return ATL_EINVAL;
}

const char *dns_type_name(uint16_t type, char *buf, size_t cap)
{
	const struct rtype *t = rtype_find(type);
	if (t)
		fmt_snprintf(buf, cap, "%s", t->name);
	else
		fmt_snprintf(buf, cap, "TYPE%u", type);
	return buf;
}

bool dns_type_compressible(uint16_t type)
{
	/* RFC 3597 4: the RFC 1035 types with names in their rdata. */
	return type == DNS_T_NS || type == DNS_T_CNAME || type == DNS_T_SOA || type == DNS_T_PTR ||
	       type == DNS_T_MX;
}

/* ---- text to wire ----------------------------------------------------------- */

/* Period in seconds with optional units (1w2d3h4m5s), as in $TTL. */
int dns_ttl_from_text(const char *s, size_t n, uint32_t *out);
int dns_ttl_from_text(const char *s, size_t n, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	bool digits = false, unit = false;
	if (!n)
		return ATL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (uint64_t)(c - '0');
			digits = true;
			if (cur > 0xffffffffu)
				return ATL_EINVAL;
			continue;
		}
		uint64_t m;
		switch (c | 0x20) {
		case 'w':
			m = 604800;
			break;
		case 'd':
			m = 86400;
			break;
		case 'h':
			m = 3600;
			break;
		case 'm':
			m = 60;
			break;
		case 's':
			m = 1;
			break;
		default:
			return ATL_EINVAL;
		}
		if (!digits)
			return ATL_EINVAL;
		total += cur * m;
		cur = 0;
		digits = false;
		unit = true;
	}
	if (digits)
		total += cur;
	else if (!unit)
		return ATL_EINVAL;
	if (total > 0xffffffffu)
		return ATL_EINVAL;
	*out = (uint32_t)total;
	return ATL_OK;
}

static int parse_ip4(const char *s, size_t n, uint8_t out[4])
{
	unsigned part = 0, val = 0, ndig = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!ndig || part > 3)
				return ATL_EINVAL;
			out[part++] = (uint8_t)val;
			val = ndig = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++ndig > 3)
			return ATL_EINVAL;
		val = val * 10 + (unsigned)(s[i] - '0');
		if (val > 255)
			return ATL_EINVAL;
	}
	return part == 4 ? ATL_OK : ATL_EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 4291 2.2, including "::" and a trailing dotted IPv4 part. */
static int parse_ip6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t w[8];
	int nw = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
		if (n == 2)
			goto done;
	} else if (n && s[0] == ':') {
		return ATL_EINVAL;
	}
	for (;;) {
		size_t j = i;
		unsigned v = 0;
		while (j < n && hexval(s[j]) >= 0 && j - i < 4)
			v = v << 4 | (unsigned)hexval(s[j++]);
		if (j < n && s[j] == '.') { /* embedded IPv4: the last 32 bits */
			if (nw > 6)
				return ATL_EINVAL;
			uint8_t v4[4];
			if (parse_ip4(s + i, n - i, v4) != ATL_OK)
				return ATL_EINVAL;
			w[nw++] = (uint16_t)(v4[0] << 8 | v4[1]);
			w[nw++] = (uint16_t)(v4[2] << 8 | v4[3]);
			break;
		}
		if (j == i || nw >= 8)
			return ATL_EINVAL;
		w[nw++] = (uint16_t)v;
		if (j == n)
			break;
		if (s[j] != ':')
			return ATL_EINVAL;
		if (j + 1 < n && s[j + 1] == ':') {
			if (gap >= 0)
				return ATL_EINVAL;
			gap = nw;
			i = j + 2;
			if (i == n)
				break;
		} else {
			i = j + 1;
			if (i == n)
				return ATL_EINVAL;
		}
	}
done:
	if (gap < 0 ? nw != 8 : nw > 7)
		return ATL_EINVAL;
	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : nw - gap;
	int head = gap < 0 ? nw : gap;
	for (int k = 0; k < head; k++)
		store_be16(out + 2 * k, w[k]);
	for (int k = 0; k < tail; k++)
		store_be16(out + 16 - 2 * (tail - k), w[head + k]);
	return ATL_OK;
}

/* A <character-string>: escapes resolved, at most 255 bytes. */
static int put_string(struct wr *w, const struct dns_tok *t, bool with_len)
{
	size_t lenpos = w->pos;
	if (with_len)
		wr_u8(w, 0);
	size_t start = w->pos;
	for (size_t i = 0; i < t->n;) {
		char c = t->s[i++];
		uint8_t b = (uint8_t)c;
		if (c == '\\') {
			if (i >= t->n)
				return ATL_EINVAL;
			if (t->s[i] >= '0' && t->s[i] <= '9') {
				uint64_t v;
				if (i + 3 > t->n || parse_uint(t->s + i, 3, 255, &v) != ATL_OK)
					return ATL_EINVAL;
				b = (uint8_t)v;
				i += 3;
			} else {
				b = (uint8_t)t->s[i++];
			}
		}
		wr_u8(w, b);
	}
	if (!wr_ok(w))
		return ATL_EMSGSIZE;
	if (with_len) {
		if (w->pos - start > 255)
			return ATL_EINVAL;
		w->data[lenpos] = (uint8_t)(w->pos - start);
	}
	return ATL_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32[] = "0123456789abcdefghijklmnopqrstuv";

static int b64val(char c)
{
	for (int i = 0; i < 64; i++)
		if (b64[i] == c)
			return i;
	return -1;
}

static int b32val(char c)
{
	c = (char)(c | 0x20);
	for (int i = 0; i < 32; i++)
		if (b32[i] == c)
			return i;
	return -1;
}

/* Tokens t[0..nt) joined: hex digits. */
static int put_hex(struct wr *w, const struct dns_tok *t, unsigned nt)
{
	int hi = -1;
	for (unsigned k = 0; k < nt; k++)
		for (size_t i = 0; i < t[k].n; i++) {
			int v = hexval(t[k].s[i]);
			if (v < 0)
				return ATL_EINVAL;
			if (hi < 0) {
				hi = v;
			} else {
				wr_u8(w, (uint8_t)(hi << 4 | v));
				hi = -1;
			}
		}
	return hi < 0 ? ATL_OK : ATL_EINVAL;
}

static int put_b64(struct wr *w, const struct dns_tok *t, unsigned nt)
{
	uint32_t acc = 0;
	unsigned bits = 0, pad = 0;
	for (unsigned k = 0; k < nt; k++)
		for (size_t i = 0; i < t[k].n; i++) {
			char c = t[k].s[i];
			if (c == '=') {
				pad++;
				continue;
			}
			int v = b64val(c);
			if (v < 0 || pad)
				return ATL_EINVAL;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				wr_u8(w, (uint8_t)(acc >> bits));
			}
		}
	/* Leftover bits must be zero padding; padding must complete a quad. */
	if (bits >= 6 || (acc & ((1u << bits) - 1)) || pad > 2)
		return ATL_EINVAL;
	return ATL_OK;
}

static int put_b32(struct wr *w, const char *s, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b32val(s[i]);
		if (v < 0)
			return ATL_EINVAL;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			wr_u8(w, (uint8_t)(acc >> bits));
		}
	}
	return bits >= 5 || (acc & ((1u << bits) - 1)) ? ATL_EINVAL : ATL_OK;
}

/* RFC 4034 3.2: YYYYMMDDHHmmSS in UTC, or seconds since 1970. */
static int parse_time(const char *s, size_t n, uint32_t *out)
{
	uint64_t v;
	if (n != 14) {
		if (parse_uint(s, n, 0xffffffffu, &v) != ATL_OK)
			return ATL_EINVAL;
		*out = (uint32_t)v;
		return ATL_OK;
	}
	uint64_t f[6];
	static const uint8_t w[6] = {4, 2, 2, 2, 2, 2};
	for (int i = 0, o = 0; i < 6; o += w[i], i++)
		if (parse_uint(s + o, w[i], 9999, &f[i]) != ATL_OK)
			return ATL_EINVAL;
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 ||
	    f[0] < 1970)
		return ATL_EINVAL;
	static const uint16_t cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	uint64_t y = f[0];
	uint64_t days = (y - 1970) * 365 + (y - 1969) / 4 - (y - 1901) / 100 + (y - 1601) / 400;
	days += cum[f[1] - 1] + f[2] - 1;
	if (f[1] > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		days++;
	*out = (uint32_t)(days * 86400 + f[3] * 3600 + f[4] * 60 +
			  f[5]); /* mod 2^32: RFC 4034 3.1.5 */
	return ATL_OK;
}

static int put_bitmap(struct wr *w, const struct dns_tok *t, unsigned nt)
{
	uint8_t map[256][32];
	uint8_t used[256] = {0};
	memset(map, 0, sizeof map);
	for (unsigned k = 0; k < nt; k++) {
		int ty = dns_type_from_text(t[k].s, t[k].n);
		if (ty < 0)
			return ATL_EINVAL;
		unsigned win = (unsigned)ty >> 8, bit = (unsigned)ty & 0xff;
		map[win][bit >> 3] |= (uint8_t)(0x80 >> (bit & 7));
		if (used[win] < (bit >> 3) + 1)
			used[win] = (uint8_t)((bit >> 3) + 1);
	}
	for (unsigned win = 0; win < 256; win++) {
		if (!used[win])
			continue;
		wr_u8(w, (uint8_t)win);
		wr_u8(w, used[win]);
		wr_bytes(w, map[win], used[win]);
	}
	return ATL_OK;
}

/* ---- SVCB (RFC 9460) -------------------------------------------------------- */

static const char *const svc_keys[] = {"mandatory", "alpn", "no-default-alpn", "port",
				       "ipv4hint",  "ech",  "ipv6hint"};

static int svc_key_from_text(const char *s, size_t n)
{
	for (unsigned i = 0; i < ARRAY_SIZE(svc_keys); i++) {
		size_t j = 0;
		while (j < n && svc_keys[i][j] && (s[j] | 0x20) == svc_keys[i][j])
			j++;
		if (j == n && !svc_keys[i][j])
			return (int)i;
	}
	uint64_t v;
	if (n > 3 && (s[0] | 0x20) == 'k' && (s[1] | 0x20) == 'e' && (s[2] | 0x20) == 'y' &&
	    parse_uint(s + 3, n - 3, 65534, &v) == ATL_OK)
		return (int)v;
	return ATL_EINVAL;
}

/* Unescape a value (quoted or not) into buf; returns its length. */
static int svc_unescape(const char *s, size_t n, uint8_t *buf, size_t cap)
{
	struct dns_tok t = {s, (uint16_t)n, false};
	struct wr w = wr_make(buf, cap);
	int rc = put_string(&w, &t, false);
	return rc == ATL_OK ? (int)w.pos : rc;
}

/* One key=value into w (key and length included). */
static int svc_param(struct wr *w, int key, const uint8_t *v, size_t vn, bool hasv)
{
	wr_be16(w, (uint16_t)key);
	size_t lenpos = w->pos;
	wr_be16(w, 0);
	size_t start = w->pos;
	switch (key) {
	case 0: /* mandatory: comma-separated keys */
	case 1: /* alpn: comma-separated, "\," is a literal comma (RFC 9460 A.1) */
	case 4:
	case 6: {
		if (!hasv || !vn)
			return ATL_EINVAL;
		size_t i = 0;
		while (i <= vn) {
			uint8_t item[256];
			size_t in = 0;
			while (i < vn && v[i] != ',') {
				if (v[i] == '\\' && i + 1 < vn)
					i++;
				if (in >= sizeof item)
					return ATL_EINVAL;
				item[in++] = v[i++];
			}
			i++;
			if (!in)
				return ATL_EINVAL;
			if (key == 1) {
				wr_u8(w, (uint8_t)in);
				wr_bytes(w, item, in);
			} else if (key == 0) {
				int k = svc_key_from_text((const char *)item, in);
				if (k < 0)
					return ATL_EINVAL;
				wr_be16(w, (uint16_t)k);
			} else if (key == 4) {
				uint8_t a[4];
				if (parse_ip4((const char *)item, in, a) != ATL_OK)
					return ATL_EINVAL;
				wr_bytes(w, a, 4);
			} else {
				uint8_t a[16];
				if (parse_ip6((const char *)item, in, a) != ATL_OK)
					return ATL_EINVAL;
				wr_bytes(w, a, 16);
			}
		}
		break;
	}
	case 2: /* no-default-alpn: no value */
		if (hasv)
			return ATL_EINVAL;
		break;
	case 3: {
		uint64_t p;
		if (!hasv || parse_uint((const char *)v, vn, 65535, &p) != ATL_OK)
			return ATL_EINVAL;
		wr_be16(w, (uint16_t)p);
		break;
	}
	case 5: {
		struct dns_tok t = {(const char *)v, (uint16_t)vn, false};
		if (!hasv || put_b64(w, &t, 1) != ATL_OK)
			return ATL_EINVAL;
		break;
	}
	default:
		wr_bytes(w, v, vn);
		break;
	}
	if (!wr_ok(w) || w->pos - start > 65535)
		return ATL_EMSGSIZE;
	store_be16(w->data + lenpos, (uint16_t)(w->pos - start));
	return ATL_OK;
}

static int put_svcparams(struct wr *w, const struct dns_tok *t, unsigned nt)
{
	/* Each token is key[=value]; a quoted value may be its own token
	 * after "key=" (the tokenizer splits at the quote). */
	uint8_t tmp[4096];
	struct wr pw = wr_make(tmp, sizeof tmp);
	uint16_t keys[64];
	size_t offs[65];
	unsigned np = 0;
	for (unsigned k = 0; k < nt; k++) {
		const char *s = t[k].s;
		size_t n = t[k].n, eq = 0;
		while (eq < n && s[eq] != '=')
			eq++;
		int key = svc_key_from_text(s, eq);
		if (key < 0 || np >= 64)
			return ATL_EINVAL;
		uint8_t val[1024];
		int vn = 0;
		bool hasv = eq < n;
		if (hasv) {
			if (eq + 1 == n && k + 1 < nt && t[k + 1].quoted) {
				k++;
				vn = svc_unescape(t[k].s, t[k].n, val, sizeof val);
			} else {
				vn = svc_unescape(s + eq + 1, n - eq - 1, val, sizeof val);
			}
			if (vn < 0)
				return ATL_EINVAL;
		}
		offs[np] = pw.pos;
		keys[np++] = (uint16_t)key;
		if (svc_param(&pw, key, val, (size_t)vn, hasv) != ATL_OK)
			return ATL_EINVAL;
	}
	offs[np] = pw.pos;
	/* RFC 9460 2.2: keys in strictly increasing order on the wire. */
	uint16_t last = 0;
	for (unsigned done = 0; done < np; done++) {
		unsigned best = np;
		for (unsigned i = 0; i < np; i++)
			if ((!done || keys[i] > last) && (best == np || keys[i] < keys[best]))
				best = i;
		if (best == np)
			return ATL_EINVAL; /* a repeated key */
		last = keys[best];
		wr_bytes(w, tmp + offs[best], offs[best + 1] - offs[best]);
	}
	return ATL_OK;
}

static int put_rfc3597(struct wr *w, const struct dns_tok *t, unsigned nt, const char **why)
{
	uint64_t n;
	if (nt < 1 || parse_uint(t[0].s, t[0].n, 65535, &n) != ATL_OK) {
		*why = "\\# needs a length";
		return ATL_EINVAL;
	}
	size_t start = w->pos;
	if (put_hex(w, t + 1, nt - 1) != ATL_OK) {
		*why = "bad hex in \\# rdata";
		return ATL_EINVAL;
	}
	if (wr_ok(w) && w->pos - start != n) {
		*why = "\\# length does not match its data";
		return ATL_EINVAL;
	}
	return ATL_OK;
}

int dns_rdata_from_text(uint16_t type, const struct dns_tok *t, unsigned nt, const uint8_t *origin,
			uint8_t *out, size_t cap, const char **why)
{
	struct wr w = wr_make(out, cap);
	static const char *dummy;
	if (!why)
		why = &dummy;
	*why = "bad rdata";
	if (nt >= 1 && !t[0].quoted && t[0].n == 2 && t[0].s[0] == '\\' && t[0].s[1] == '#') {
		if (put_rfc3597(&w, t + 1, nt - 1, why) != ATL_OK)
			return ATL_EINVAL;
		goto check;
	}
	const struct rtype *rt = rtype_find(type);
	if (!rt || !rt->fields) {
		*why = "unknown type needs \\# rdata";
		return ATL_EINVAL;
	}
	unsigned k = 0;
	for (const char *f = rt->fields; *f; f++) {
		bool rest = *f == 'S' || *f == 'x' || *f == 'b' || *f == 'm' || *f == 'v';
		if (k >= nt && !(rest && (*f == 'm' || *f == 'v'))) {
			*why = "too few rdata fields";
			return ATL_EINVAL;
		}
		const struct dns_tok *c = &t[k];
		uint64_t v;
		uint32_t v32;
		uint8_t name[DNS_NAME_MAX];
		int rc = ATL_OK;
		switch (*f) {
		case 'n':
		case 'N':
			if (c->quoted || dns_name_from_text(c->s, c->n, origin, name) != ATL_OK) {
				*why = "bad domain name";
				return ATL_EINVAL;
			}
			wr_bytes(&w, name, dns_name_len(name));
			break;
		case '1':
		case '2':
		case '4': {
			uint64_t max = *f == '1' ? 0xff : *f == '2' ? 0xffff : 0xffffffffu;
			if (parse_uint(c->s, c->n, max, &v) != ATL_OK) {
				*why = "bad number";
				return ATL_EINVAL;
			}
			if (*f == '1')
				wr_u8(&w, (uint8_t)v);
			else if (*f == '2')
				wr_be16(&w, (uint16_t)v);
			else
				wr_be32(&w, (uint32_t)v);
			break;
		}
		case 'P':
			if (dns_ttl_from_text(c->s, c->n, &v32) != ATL_OK) {
				*why = "bad time value";
				return ATL_EINVAL;
			}
			wr_be32(&w, v32);
			break;
		case 'a': {
			uint8_t a[4];
			if (parse_ip4(c->s, c->n, a) != ATL_OK) {
				*why = "bad IPv4 address";
				return ATL_EINVAL;
			}
			wr_bytes(&w, a, 4);
			break;
		}
		case '6': {
			uint8_t a[16];
			if (parse_ip6(c->s, c->n, a) != ATL_OK) {
				*why = "bad IPv6 address";
				return ATL_EINVAL;
			}
			wr_bytes(&w, a, 16);
			break;
		}
		case 's':
			rc = put_string(&w, c, true);
			break;
		case 'S':
			for (; k < nt && rc == ATL_OK; k++)
				rc = put_string(&w, &t[k], true);
			break;
		case 'x':
			rc = put_hex(&w, c, nt - k);
			k = nt;
			break;
		case 'b':
			rc = put_b64(&w, c, nt - k);
			k = nt;
			break;
		case 't': {
			int ty = dns_type_from_text(c->s, c->n);
			if (ty < 0) {
				*why = "unknown type";
				return ATL_EINVAL;
			}
			wr_be16(&w, (uint16_t)ty);
			break;
		}
		case 'e':
			if (parse_time(c->s, c->n, &v32) != ATL_OK) {
				*why = "bad time";
				return ATL_EINVAL;
			}
			wr_be32(&w, v32);
			break;
		case 'm':
			rc = put_bitmap(&w, c, nt - k);
			k = nt;
			break;
		case 'h': {
			size_t lenpos = w.pos;
			wr_u8(&w, 0);
			if (!(c->n == 1 && c->s[0] == '-'))
				rc = put_hex(&w, c, 1);
			if (wr_ok(&w) && w.pos - lenpos - 1 > 255)
				rc = ATL_EINVAL;
			if (wr_ok(&w))
				out[lenpos] = (uint8_t)(w.pos - lenpos - 1);
			break;
		}
		case 'B': {
			size_t lenpos = w.pos;
			wr_u8(&w, 0);
			rc = put_b32(&w, c->s, c->n);
			if (wr_ok(&w) && w.pos - lenpos - 1 > 255)
				rc = ATL_EINVAL;
			if (wr_ok(&w))
				out[lenpos] = (uint8_t)(w.pos - lenpos - 1);
			break;
		}
		case 'c': {
			/* RFC 8659 4.1.1: the tag is letters and digits. */
			if (!c->n || c->n > 255 || c->quoted)
				rc = ATL_EINVAL;
			for (size_t i = 0; i < c->n && rc == ATL_OK; i++) {
				char ch = (char)(c->s[i] | 0x20);
				if (!((ch >= 'a' && ch <= 'z') ||
				      (c->s[i] >= '0' && c->s[i] <= '9')))
					rc = ATL_EINVAL;
			}
			if (rc == ATL_OK) {
				wr_u8(&w, (uint8_t)c->n);
				wr_bytes(&w, c->s, c->n);
			}
			break;
		}
		case 'C':
			rc = put_string(&w, c, false);
			break;
		case 'v':
			rc = put_svcparams(&w, c, nt - k);
			k = nt;
			break;
		}
		if (rc != ATL_OK) {
			if (rc == ATL_EMSGSIZE)
				*why = "rdata too long";
			return ATL_EINVAL;
		}
		if (!rest)
			k++;
	}
	if (k < nt) {
		*why = "too many rdata fields";
		return ATL_EINVAL;
	}
check:
	if (!wr_ok(&w)) {
		*why = "rdata too long";
		return ATL_EINVAL;
	}
	if (!dns_rdata_valid(type, out, w.pos)) {
		*why = "rdata does not fit its type";
		return ATL_EINVAL;
	}
	return (int)w.pos;
}

/* ---- wire: validity and text ------------------------------------------------ */

struct out {
	char *b;
	size_t cap, n;
	bool err;
};

static void out_c(struct out *o, char c)
{
	if (o->n + 1 >= o->cap) {
		o->err = true;
		return;
	}
	o->b[o->n++] = c;
}

static void out_s(struct out *o, const char *s)
{
	while (*s)
		out_c(o, *s++);
}

static void out_u(struct out *o, uint64_t v)
{
	char t[24];
	fmt_snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	out_s(o, t);
}

static void out_hex(struct out *o, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out_c(o, hx[p[i] >> 4]);
		out_c(o, hx[p[i] & 15]);
	}
}

static void out_b64(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out_c(o, b64[v >> 18 & 63]);
		out_c(o, b64[v >> 12 & 63]);
		out_c(o, i + 1 < n ? b64[v >> 6 & 63] : '=');
		out_c(o, i + 2 < n ? b64[v & 63] : '=');
	}
}

static void out_string(struct out *o, const uint8_t *p, size_t n, bool quote)
{
	if (quote)
		out_c(o, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c < 0x20 || c >= 0x7f || (!quote && c == ' ')) {
			char t[5];
			fmt_snprintf(t, sizeof t, "\\%03u", c);
			out_s(o, t);
		} else {
			if (c == '"' || c == '\\')
				out_c(o, '\\');
			out_c(o, (char)c);
		}
	}
	if (quote)
		out_c(o, '"');
}

static void out_ip4(struct out *o, const uint8_t *a)
{
	char t[16];
	fmt_snprintf(t, sizeof t, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	out_s(o, t);
}

/* RFC 5952 4: lowercase, the longest run of two or more zero words as "::". */
static void out_ip6(struct out *o, const uint8_t *a)
{
	int best = -1, bestn = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !load_be16(a + 2 * j))
			j++;
		if (j - i > bestn) {
			best = i;
			bestn = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			out_s(o, "::");
			i += bestn - 1;
			continue;
		}
		if (i && i != best + bestn)
			out_c(o, ':');
		char t[8];
		fmt_snprintf(t, sizeof t, "%x", load_be16(a + 2 * i));
		out_s(o, t);
	}
}

static void out_name(struct out *o, const uint8_t *name)
{
	char t[1024];
	if (dns_name_to_text(name, t, sizeof t) < 0)
		o->err = true;
	else
		out_s(o, t);
}

/* Read an uncompressed name inside rdata. */
static bool rd_name(struct rd *r, uint8_t *name)
{
	size_t o = 0;
	for (;;) {
		uint8_t c = rd_u8(r);
		if (!rd_ok(r) || c > DNS_LABEL_MAX || o + 1u + c > DNS_NAME_MAX)
			return false;
		name[o++] = c;
		if (!c)
			return true;
		rd_copy(r, name + o, c);
		o += c;
	}
}

/*
 * Walk rdata by its field list: check it and, with o, print it.  Returns
 * false when the rdata is malformed for the type.
 */
static bool walk(const struct rtype *rt, const uint8_t *p, size_t len, struct out *o)
{
	struct rd r = rd_make(p, len);
	char tb[24];
	for (const char *f = rt->fields; *f; f++) {
		if (o && f != rt->fields && !(*f == 'm' && !rd_left(&r)) &&
		    !(*f == 'v' && !rd_left(&r)))
			out_c(o, ' ');
		uint8_t name[DNS_NAME_MAX];
		switch (*f) {
		case 'n':
		case 'N':
			if (!rd_name(&r, name))
				return false;
			if (o)
				out_name(o, name);
			break;
		case '1':
			if (o)
				out_u(o, rd_u8(&r));
			else
				rd_u8(&r);
			break;
		case '2':
			if (o)
				out_u(o, rd_be16(&r));
			else
				rd_be16(&r);
			break;
		case '4':
		case 'P':
		case 'e':
			if (o)
				out_u(o, rd_be32(&r));
			else
				rd_be32(&r);
			break;
		case 'a': {
			const uint8_t *a = rd_take(&r, 4);
			if (o && a)
				out_ip4(o, a);
			break;
		}
		case '6': {
			const uint8_t *a = rd_take(&r, 16);
			if (o && a)
				out_ip6(o, a);
			break;
		}
		case 's':
		case 'S':
			do {
				uint8_t n = rd_u8(&r);
				const uint8_t *s = rd_take(&r, n);
				if (!s)
					return false;
				if (o)
					out_string(o, s, n, true);
				if (*f == 'S' && rd_left(&r) && o)
					out_c(o, ' ');
			} while (*f == 'S' && rd_left(&r));
			break;
		case 'x':
		case 'b': {
			size_t n = rd_left(&r);
			const uint8_t *s = rd_take(&r, n);
			if (!n && *f == 'x' && rt->type != DNS_T_TLSA)
				return false;
			if (o && s)
				*f == 'x' ? out_hex(o, s, n) : out_b64(o, s, n);
			break;
		}
		case 't':
			if (o)
				out_s(o, dns_type_name(rd_be16(&r), tb, sizeof tb));
			else
				rd_be16(&r);
			break;
		case 'm': {
			/* RFC 4034 4.1.2: windows in order, 1..32 bytes each. */
			int last = -1;
			bool first = true;
			while (rd_ok(&r) && rd_left(&r)) {
				unsigned win = rd_u8(&r), n = rd_u8(&r);
				const uint8_t *bm = rd_take(&r, n);
				if (!bm || (int)win <= last || n < 1 || n > 32)
					return false;
				last = (int)win;
				for (unsigned i = 0; i < n * 8; i++) {
					if (!(bm[i >> 3] & (0x80 >> (i & 7))))
						continue;
					if (o) {
						if (!first)
							out_c(o, ' ');
						out_s(o, dns_type_name((uint16_t)(win << 8 | i), tb,
								       sizeof tb));
					}
					first = false;
				}
			}
			break;
		}
		case 'h': {
			uint8_t n = rd_u8(&r);
			const uint8_t *s = rd_take(&r, n);
			if (o && s) {
				if (n)
					out_hex(o, s, n);
				else
					out_c(o, '-');
			}
			break;
		}
		case 'B': {
			uint8_t n = rd_u8(&r);
			const uint8_t *s = rd_take(&r, n);
			if (!s || !n)
				return false;
			if (o) {
				uint32_t acc = 0;
				unsigned bits = 0;
				for (unsigned i = 0; i < n; i++) {
					acc = acc << 8 | s[i];
					bits += 8;
					while (bits >= 5) {
						bits -= 5;
						out_c(o, b32[acc >> bits & 31]);
					}
				}
				if (bits)
					out_c(o, b32[acc << (5 - bits) & 31]);
			}
			break;
		}
		case 'c': {
			uint8_t n = rd_u8(&r);
			const uint8_t *s = rd_take(&r, n);
			if (!s || !n)
				return false;
			if (o)
				out_string(o, s, n, false);
			break;
		}
		case 'C': {
			size_t n = rd_left(&r);
			const uint8_t *s = rd_take(&r, n);
			if (o && s)
				out_string(o, s, n, true);
			break;
		}
		case 'v': {
			int last = -1;
			bool first = true;
			while (rd_ok(&r) && rd_left(&r)) {
				uint16_t key = rd_be16(&r), n = rd_be16(&r);
				const uint8_t *v = rd_take(&r, n);
				if (!v || (int)key <= last)
					return false;
				last = key;
				if (!o)
					continue;
				if (!first)
					out_c(o, ' ');
				first = false;
				if (key < ARRAY_SIZE(svc_keys)) {
					out_s(o, svc_keys[key]);
				} else {
					out_s(o, "key");
					out_u(o, key);
				}
				if (key == 2 && !n)
					continue;
				out_c(o, '=');
				if (key == 3 && n == 2) {
					out_u(o, load_be16(v));
				} else if (key == 4 && n && n % 4 == 0) {
					for (unsigned i = 0; i < n; i += 4) {
						if (i)
							out_c(o, ',');
						out_ip4(o, v + i);
					}
				} else if (key == 6 && n && n % 16 == 0) {
					for (unsigned i = 0; i < n; i += 16) {
						if (i)
							out_c(o, ',');
						out_ip6(o, v + i);
					}
				} else if (key == 0 && n && n % 2 == 0) {
					for (unsigned i = 0; i < n; i += 2) {
						if (i)
							out_c(o, ',');
						uint16_t mk = load_be16(v + i);
						if (mk < ARRAY_SIZE(svc_keys)) {
							out_s(o, svc_keys[mk]);
						} else {
							out_s(o, "key");
							out_u(o, mk);
						}
					}
				} else if (key == 1) {
					/* Unquoted; a comma or backslash inside an
					 * ALPN id is escaped twice (RFC 9460 A.1). */
					struct rd a = rd_make(v, n);
					bool f1 = true;
					while (rd_left(&a)) {
						uint8_t an = rd_u8(&a);
						const uint8_t *as = rd_take(&a, an);
						if (!as)
							return false;
						if (!f1)
							out_c(o, ',');
						f1 = false;
						for (unsigned i = 0; i < an; i++) {
							if (as[i] == ',' || as[i] == '\\')
								out_s(o, "\\\\");
							out_string(o, as + i, 1, false);
						}
					}
				} else if (key == 5) {
					out_b64(o, v, n);
				} else {
					out_string(o, v, n, false);
				}
			}
			break;
		}
		}
		if (!rd_ok(&r))
			return false;
	}
	return rd_ok(&r) && !rd_left(&r);
}

bool dns_rdata_valid(uint16_t type, const uint8_t *rd, size_t len)
{
	const struct rtype *rt = rtype_find(type);
	if (!rt || !rt->fields)
		return len <= 65535;
	return walk(rt, rd, len, NULL);
}

int dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t len, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};
	const struct rtype *rt = rtype_find(type);
	if (!rt || !rt->fields || !walk(rt, rd, len, NULL)) {
		/* RFC 3597 5: the generic form. */
		out_s(&o, "\\# ");
		out_u(&o, len);
		if (len) {
			out_c(&o, ' ');
			out_hex(&o, rd, len);
		}
	} else {
		walk(rt, rd, len, &o);
	}
	if (o.err || !cap)
		return ATL_EMSGSIZE;
	buf[o.n] = 0;
	return (int)o.n;
}
