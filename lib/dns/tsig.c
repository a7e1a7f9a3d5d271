/*
 * tsig.c - transaction signatures (RFC 8945): keys, checking a request,
 * signing responses and the messages of a transfer.
 *
 * The HMAC is BearSSL's; this file only lays out the bytes that go into
 * it (RFC 8945 4.3) and compares MACs in constant time.
 */
#include "bearssl/bearssl_hash.h"
#include "bearssl/bearssl_hmac.h"

#include "core/err.h"
#include "core/fmt.h"
#include "dns/dns.h"

static const struct {
	const char *name;
	uint8_t wire[16]; /* the algorithm's name in wire form */
	const br_hash_class *hash;
} algs[] = {
    [DNS_TSIG_HMAC_SHA1] = {"hmac-sha1", "\011hmac-sha1", &br_sha1_vtable},
    [DNS_TSIG_HMAC_SHA224] = {"hmac-sha224", "\013hmac-sha224", &br_sha224_vtable},
    [DNS_TSIG_HMAC_SHA256] = {"hmac-sha256", "\013hmac-sha256", &br_sha256_vtable},
    [DNS_TSIG_HMAC_SHA384] = {"hmac-sha384", "\013hmac-sha384", &br_sha384_vtable},
    [DNS_TSIG_HMAC_SHA512] = {"hmac-sha512", "\013hmac-sha512", &br_sha512_vtable},
};

static int alg_from_wire(const uint8_t *name)
{
	for (unsigned i = 1; i < ARRAY_SIZE(algs); i++)
		if (dns_name_equal(name, algs[i].wire))
			return (int)i;
	return 0;
}

static size_t mac_size(uint8_t alg)
{
	return (size_t)(algs[alg].hash->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static bool word_equal_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		if (x != *b)
			return false;
	}
	return *a == *b;
}

/* ---- the keys file ------------------------------------------------------- */

struct kp {
	const char *s, *end;
	unsigned line;
	char tok[512];
	size_t n;
	bool quoted;
};

/* The next token: a word, a quoted string, or one of { } ;.  False at
 * the end of the text. */
static bool kp_next(struct kp *p)
{
	for (;;) {
		while (p->s < p->end &&
		       (*p->s == ' ' || *p->s == '\t' || *p->s == '\r' || *p->s == '\n')) {
			if (*p->s == '\n')
				p->line++;
			p->s++;
		}
		if (p->s >= p->end)
			return false;
		if (*p->s == '#' || (*p->s == '/' && p->s + 1 < p->end && p->s[1] == '/')) {
			while (p->s < p->end && *p->s != '\n')
				p->s++;
			continue;
		}
		if (*p->s == '/' && p->s + 1 < p->end && p->s[1] == '*') {
			p->s += 2;
			while (p->s + 1 < p->end && !(p->s[0] == '*' && p->s[1] == '/')) {
				if (*p->s == '\n')
					p->line++;
				p->s++;
			}
			p->s = p->s + 2 < p->end ? p->s + 2 : p->end;
			continue;
		}
		break;
	}
	p->n = 0;
	p->quoted = false;
	if (*p->s == '{' || *p->s == '}' || *p->s == ';') {
		p->tok[p->n++] = *p->s++;
	} else if (*p->s == '"') {
		p->quoted = true;
		p->s++;
		while (p->s < p->end && *p->s != '"' && p->n < sizeof p->tok - 1)
			p->tok[p->n++] = *p->s++;
		if (p->s < p->end && *p->s == '"')
			p->s++;
	} else {
		while (p->s < p->end && !strchr(" \t\r\n{};\"", *p->s) && p->n < sizeof p->tok - 1)
			p->tok[p->n++] = *p->s++;
	}
	p->tok[p->n] = 0;
	return true;
}

static bool kp_is(const struct kp *p, const char *w)
{
	return !p->quoted && !strcmp(p->tok, w);
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 4648 4 base64 (padding optional, no other characters); returns
 * the byte count or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	while (n && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}

static int kp_fail(struct kp *p, char *err, size_t errcap, const char *why)
{
	fmt_snprintf(err, errcap, "keys:%u: %s", p->line, why);
	return ATL_EINVAL;
}

int dns_tsig_keys_parse(struct dns_tsig_keys *ks, const char *text, size_t len, char *err,
			size_t errcap)
{
	struct kp p = {.s = text, .end = text + len, .line = 1};
	while (kp_next(&p)) {
		if (!kp_is(&p, "key"))
			return kp_fail(&p, err, errcap, "expected: key \"name\" { ... };");
		if (ks->n >= DNS_TSIG_KEYS_MAX)
			return kp_fail(&p, err, errcap, "too many keys");
		struct dns_tsig_key *k = &ks->k[ks->n];
		memset(k, 0, sizeof *k);
		if (!kp_next(&p) ||
		    dns_name_from_text(p.tok, p.n, (const uint8_t *)"", k->name) != ATL_OK)
			return kp_fail(&p, err, errcap, "the key name is not a domain name");
		dns_name_lower(k->name);
		if (dns_tsig_key_find(ks, k->name))
			return kp_fail(&p, err, errcap, "a key of that name is already defined");
		if (!kp_next(&p) || !kp_is(&p, "{"))
			return kp_fail(&p, err, errcap, "expected {");
		bool secret = false;
		for (;;) {
			if (!kp_next(&p))
				return kp_fail(&p, err, errcap, "unterminated key");
			if (kp_is(&p, "}"))
				break;
			if (kp_is(&p, "algorithm")) {
				if (!kp_next(&p))
					return kp_fail(&p, err, errcap, "algorithm: missing");
				for (unsigned i = 1; i < ARRAY_SIZE(algs); i++)
					if (word_equal_nocase(p.tok, algs[i].name))
						k->alg = (uint8_t)i;
				if (!k->alg)
					return kp_fail(&p, err, errcap,
						       "unknown algorithm (hmac-sha1, -sha224, "
						       "-sha256, -sha384, -sha512)");
			} else if (kp_is(&p, "secret")) {
				int n = kp_next(&p)
					    ? b64_decode(p.tok, p.n, k->secret, sizeof k->secret)
					    : -1;
				if (n <= 0)
					return kp_fail(&p, err, errcap,
						       "the secret is not base64 (or over 128 "
						       "bytes)");
				k->secret_len = (uint8_t)n;
				secret = true;
			} else {
				return kp_fail(&p, err, errcap,
					       "expected algorithm or secret inside a key");
			}
			if (!kp_next(&p) || !kp_is(&p, ";"))
				return kp_fail(&p, err, errcap, "expected ;");
		}
		if (kp_next(&p) && !kp_is(&p, ";"))
			return kp_fail(&p, err, errcap, "expected ; after }");
		if (!k->alg || !secret)
			return kp_fail(&p, err, errcap, "a key needs an algorithm and a secret");
		ks->n++;
	}
	return ATL_OK;
}

const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_keys *ks, const uint8_t *name)
{
	for (unsigned i = 0; i < ks->n; i++)
		if (dns_name_equal(ks->k[i].name, name))
			return &ks->k[i];
	return NULL;
}

/* ---- MACs ---------------------------------------------------------------- */

struct mac {
	br_hmac_key_context kc;
	br_hmac_context c;
};

static void mac_begin(struct mac *m, const struct dns_tsig_key *k)
{
	br_hmac_key_init(&m->kc, algs[k->alg].hash, k->secret, k->secret_len);
	br_hmac_init(&m->c, &m->kc, 0);
}

static void mac_add(struct mac *m, const void *p, size_t n)
{
	br_hmac_update(&m->c, p, n);
}

static void mac_add16(struct mac *m, uint16_t v)
{
	uint8_t b[2];
	store_be16(b, v);
	mac_add(m, b, 2);
}

static void mac_add48(struct mac *m, uint64_t v)
{
	uint8_t b[6];
	store_be16(b, (uint16_t)(v >> 32));
	store_be32(b + 2, (uint32_t)v);
	mac_add(m, b, 6);
}

static void mac_add_name(struct mac *m, const uint8_t *name)
{
	uint8_t low[DNS_NAME_MAX];
	memcpy(low, name, dns_name_len(name));
	dns_name_lower(low);
	mac_add(m, low, dns_name_len(low));
}

/*
 * The message as it was before the TSIG was added (RFC 8945 4.3.2):
 * ARCOUNT one less, the ID the original one, the TSIG RR cut off.
 */
static void mac_add_msg(struct mac *m, const uint8_t *msg, size_t off, uint16_t orig_id)
{
	uint8_t h[DNS_HDR_LEN];
	memcpy(h, msg, DNS_HDR_LEN);
	store_be16(h, orig_id);
	store_be16(h + 10, (uint16_t)(load_be16(h + 10) - 1));
	mac_add(m, h, DNS_HDR_LEN);
	mac_add(m, msg + DNS_HDR_LEN, off - DNS_HDR_LEN);
}

/* RFC 8945 4.3.3: the TSIG variables. */
static void mac_add_vars(struct mac *m, const uint8_t *name, const uint8_t *alg, uint64_t time,
			 uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t olen)
{
	mac_add_name(m, name);
	mac_add16(m, DNS_C_ANY);
	uint8_t ttl[4] = {0};
	mac_add(m, ttl, 4);
	mac_add_name(m, alg);
	mac_add48(m, time);
	mac_add16(m, fudge);
	mac_add16(m, error);
	mac_add16(m, olen);
	mac_add(m, other, olen);
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* ---- requests -------------------------------------------------------------- */

/* A message's TSIG RR, as read. */
struct tsig_rr {
	size_t off; /* where the RR starts */
	uint8_t name[DNS_NAME_MAX], alg[DNS_NAME_MAX];
	uint64_t time;
	uint16_t fudge, maclen, orig_id, error, olen;
	const uint8_t *mac, *other;
};

/* Find and read the TSIG: ATL_ENOENT when there is none, DNS_R_FORMERR
 * when it is malformed or not the last record (RFC 8945 5.2). */
static int tsig_read(const uint8_t *msg, size_t len, struct tsig_rr *x)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r))
		return DNS_R_FORMERR;
	uint8_t name[DNS_NAME_MAX];
	for (unsigned i = 0; i < h.qd; i++) {
		if (dns_name_read(&r, name) != ATL_OK)
			return DNS_R_FORMERR;
		rd_skip(&r, 4);
	}
	unsigned total = (unsigned)h.an + h.ns + h.ar;
	struct dns_rr rr;
	x->off = 0;
	for (unsigned i = 0; i < total; i++) {
		size_t start = r.pos;
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return DNS_R_FORMERR;
		if (rr.type != DNS_T_TSIG)
			continue;
		if (i != total - 1 || i < (unsigned)h.an + h.ns || rr.class != DNS_C_ANY ||
		    rr.ttl != 0)
			return DNS_R_FORMERR;
		x->off = start;
		memcpy(x->name, rr.owner, dns_name_len(rr.owner));
	}
	if (!x->off)
		return ATL_ENOENT;
	if (!rd_ok(&r) || r.pos != len)
		return DNS_R_FORMERR;
	struct rd d = rd_make(msg, rr.rdoff + rr.rdlen);
	d.pos = rr.rdoff;
	if (dns_name_read(&d, x->alg) != ATL_OK)
		return DNS_R_FORMERR;
	x->time = (uint64_t)rd_be16(&d) << 32;
	x->time |= rd_be32(&d);
	x->fudge = rd_be16(&d);
	x->maclen = rd_be16(&d);
	x->mac = rd_take(&d, x->maclen);
	x->orig_id = rd_be16(&d);
	x->error = rd_be16(&d);
	x->olen = rd_be16(&d);
	x->other = rd_take(&d, x->olen);
	if (!rd_ok(&d) || d.pos != d.len)
		return DNS_R_FORMERR;
	return DNS_R_NOERROR;
}

static bool time_ok(uint64_t now, uint64_t time, uint16_t fudge)
{
	return (now > time ? now - time : time - now) <= fudge;
}

int dns_tsig_verify(const struct dns_tsig_keys *ks, const uint8_t *msg, size_t len, uint64_t now,
		    struct dns_tsig *t)
{
	memset(t, 0, sizeof *t);
	struct tsig_rr x;
	int rc = tsig_read(msg, len, &x);
	if (rc != DNS_R_NOERROR)
		return rc;
	t->off = x.off;
	memcpy(t->name, x.name, dns_name_len(x.name));
	memcpy(t->alg, x.alg, dns_name_len(x.alg));
	t->time = x.time;
	t->fudge = x.fudge;
	t->orig_id = x.orig_id;

	/* RFC 8945 5.2.1: an unknown key or algorithm is BADKEY. */
	const struct dns_tsig_key *k = dns_tsig_key_find(ks, t->name);
	if (!k || alg_from_wire(t->alg) != k->alg) {
		t->error = DNS_TSIG_BADKEY;
		return DNS_R_NOTAUTH;
	}
	/* 5.2.2: the MAC, full length only (no truncation accepted). */
	size_t want = mac_size(k->alg);
	struct mac m;
	uint8_t got[DNS_TSIG_MAC_MAX];
	mac_begin(&m, k);
	mac_add_msg(&m, msg, t->off, t->orig_id);
	mac_add_vars(&m, t->name, t->alg, t->time, t->fudge, x.error, x.other, x.olen);
	br_hmac_out(&m.c, got);
	if (x.maclen != want || !ct_equal(got, x.mac, want)) {
		t->error = DNS_TSIG_BADSIG;
		return DNS_R_NOTAUTH;
	}
	memcpy(t->mac, x.mac, want);
	t->maclen = want;
	t->key = k;
	/* 5.2.3: the time, after the MAC, so only the key holder learns
	 * our clock.  The response is signed (with the request's time). */
	if (!time_ok(now, t->time, t->fudge)) {
		t->error = DNS_TSIG_BADTIME;
		return DNS_R_NOTAUTH;
	}
	return DNS_R_NOERROR;
}

int dns_tsig_verify_response(struct dns_tsig *t, const uint8_t *msg, size_t len, uint64_t now)
{
	struct tsig_rr x;
	int rc = tsig_read(msg, len, &x);
	if (rc != DNS_R_NOERROR)
		return rc;
	/* RFC 8945 5.3.2: the server's error, unsigned for BADKEY/BADSIG. */
	if (x.error) {
		t->error = x.error;
		return DNS_R_NOTAUTH;
	}
	if (!dns_name_equal(x.name, t->key->name) || alg_from_wire(x.alg) != t->key->alg) {
		t->error = DNS_TSIG_BADKEY;
		return DNS_R_NOTAUTH;
	}
	size_t want = mac_size(t->key->alg);
	struct mac m;
	uint8_t got[DNS_TSIG_MAC_MAX];
	mac_begin(&m, t->key);
	/* 4.3.1 / 5.3.1: the previous MAC (the request's for the first). */
	mac_add16(&m, (uint16_t)t->maclen);
	mac_add(&m, t->mac, t->maclen);
	mac_add_msg(&m, msg, x.off, x.orig_id);
	if (t->nverified == 0) {
		mac_add_vars(&m, x.name, x.alg, x.time, x.fudge, x.error, x.other, x.olen);
	} else {
		mac_add48(&m, x.time);
		mac_add16(&m, x.fudge);
	}
	br_hmac_out(&m.c, got);
	if (x.maclen != want || !ct_equal(got, x.mac, want)) {
		t->error = DNS_TSIG_BADSIG;
		return DNS_R_NOTAUTH;
	}
	if (!time_ok(now, x.time, x.fudge)) {
		t->error = DNS_TSIG_BADTIME;
		return DNS_R_NOTAUTH;
	}
	memcpy(t->mac, x.mac, want);
	t->maclen = want;
	t->nverified++;
	return DNS_R_NOERROR;
}

/* ---- responses ---------------------------------------------------------------- */

size_t dns_tsig_sign(struct dns_tsig *t, uint8_t *msg, size_t len, size_t cap, uint64_t now)
{
	bool sign = t->key && t->error != DNS_TSIG_BADKEY && t->error != DNS_TSIG_BADSIG;
	uint64_t time = t->error == DNS_TSIG_BADTIME ? t->time : now;
	uint16_t fudge = DNS_TSIG_FUDGE;
	uint8_t other[6];
	uint16_t olen = 0;
	if (t->error == DNS_TSIG_BADTIME) {
		/* RFC 8945 5.2.3: our time in Other Data. */
		store_be16(other, (uint16_t)(now >> 32));
		store_be32(other + 2, (uint32_t)now);
		olen = 6;
	}
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t maclen = 0;
	uint16_t id = load_be16(msg);
	if (sign) {
		struct mac m;
		mac_begin(&m, t->key);
		/* 4.3.1 / 5.3.1: the previous MAC (the request's first);
		 * a request has none. */
		if (t->maclen || t->nsigned) {
			mac_add16(&m, (uint16_t)t->maclen);
			mac_add(&m, t->mac, t->maclen);
		}
		mac_add(&m, msg, len);
		if (t->nsigned == 0) {
			mac_add_vars(&m, t->key->name, algs[t->key->alg].wire, time, fudge,
				     t->error, other, olen);
		} else {
			mac_add48(&m, time); /* 4.3.3.2: timers only */
			mac_add16(&m, fudge);
		}
		br_hmac_out(&m.c, mac);
		maclen = mac_size(t->key->alg);
	}
	struct wr w = wr_make(msg, cap);
	w.pos = len;
	const uint8_t *alg = sign ? algs[t->key->alg].wire : t->alg;
	dns_name_write(&w, sign ? t->key->name : t->name, NULL);
	wr_be16(&w, DNS_T_TSIG);
	wr_be16(&w, DNS_C_ANY);
	wr_be32(&w, 0);
	size_t rdlen = w.pos;
	wr_be16(&w, 0);
	dns_name_write(&w, alg, NULL);
	wr_be16(&w, (uint16_t)(time >> 32));
	wr_be32(&w, (uint32_t)time);
	wr_be16(&w, fudge);
	wr_be16(&w, (uint16_t)maclen);
	wr_bytes(&w, mac, maclen);
	wr_be16(&w, id);
	wr_be16(&w, t->error);
	wr_be16(&w, olen);
	wr_bytes(&w, other, olen);
	if (!wr_ok(&w))
		return 0;
	store_be16(msg + rdlen, (uint16_t)(w.pos - rdlen - 2));
	store_be16(msg + 10, (uint16_t)(load_be16(msg + 10) + 1));
	memcpy(t->mac, mac, maclen);
	t->maclen = maclen;
	t->nsigned++;
	return w.pos;
}

size_t dns_tsig_size(const struct dns_tsig *t)
{
	bool sign = t->key && t->error != DNS_TSIG_BADKEY && t->error != DNS_TSIG_BADSIG;
	const uint8_t *name = sign ? t->key->name : t->name;
	const uint8_t *alg = sign ? algs[t->key->alg].wire : t->alg;
	/* owner, type class TTL rdlength, algorithm, time fudge MAC-size,
	 * MAC, original ID, error, other-length, other. */
	return dns_name_len(name) + 10 + dns_name_len(alg) + 10 +
	       (sign ? mac_size(t->key->alg) : 0) + 6 + (t->error == DNS_TSIG_BADTIME ? 6 : 0);
}

size_t dns_tsig_error_response(struct dns_tsig *t, const uint8_t *msg, size_t len, uint16_t rcode,
			       uint8_t *out, size_t cap, uint64_t now)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r) || (h.flags & DNS_F_QR) || cap < DNS_UDP_MIN)
		return 0;
	uint8_t qname[DNS_NAME_MAX];
	bool q = h.qd == 1 && dns_name_read(&r, qname) == ATL_OK && rd_left(&r) >= 4;
	struct wr w = wr_make(out, cap);
	struct dns_hdr rh = {
	    h.id, (uint16_t)(DNS_F_QR | (h.flags & 0x7900) | (rcode & 0xf)), q ? 1 : 0, 0, 0, 0};
	dns_hdr_write(&w, &rh);
	if (q) {
		dns_name_write(&w, qname, NULL);
		wr_be16(&w, rd_be16(&r));
		wr_be16(&w, rd_be16(&r));
	}
	if (!wr_ok(&w))
		return 0;
	if (!t)
		return w.pos;
	return dns_tsig_sign(t, out, w.pos, cap, now);
}
