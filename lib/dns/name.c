/*
 * name.c - domain names: text and wire forms, comparison, compression.
 */
#include "core/err.h"
#include "dns/dns.h"

static inline uint8_t lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Whether n bytes (a label: at most 63) are equal.  Labels are short, so
 * this beats a call to memcmp: eight, four, two, one bytes at a time. */
static inline bool label_same(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t x, y;
	uint32_t u, v;
	uint16_t s, t;
	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	if (n & 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		a += 4;
		b += 4;
	}
	if (n & 2) {
		memcpy(&s, a, 2);
		memcpy(&t, b, 2);
		if (s != t)
			return false;
		a += 2;
		b += 2;
	}
	return !(n & 1) || *a == *b;
}

size_t dns_name_len(const uint8_t *name)
{
	size_t i = 0;
	while (name[i])
		i += name[i] + 1u;
	return i + 1;
}

unsigned dns_name_labels(const uint8_t *name)
{
	unsigned n = 0;
	for (size_t i = 0; name[i]; i += name[i] + 1u)
		n++;
	return n;
}

const uint8_t *dns_name_skip(const uint8_t *name, unsigned n)
{
	while (n-- && name[0])
		name += name[0] + 1;
	return name;
}

void dns_name_lower(uint8_t *name)
{
	for (size_t i = 0; name[i]; i += name[i] + 1u)
		for (unsigned j = 1; j <= name[i]; j++)
			name[i + j] = lc(name[i + j]);
}

bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		unsigned n = *a;
		if (!n)
			return true;
		/* Labels mostly match as they are (compared words at a time):
		 * fold case only when not. */
		if (!label_same(a + 1, b + 1, n))
			for (unsigned j = 1; j <= n; j++)
				if (lc(a[j]) != lc(b[j]))
					return false;
		a += n + 1;
		b += n + 1;
	}
}

/* Offsets of each label of name, leftmost first; returns the count. */
unsigned dns_name_offsets(const uint8_t *name, uint8_t off[128])
{
	unsigned n = 0;
	for (unsigned i = 0; name[i]; i += name[i] + 1u)
		off[n++] = (uint8_t)i;
	return n;
}

/* RFC 4034 6.1: compare label by label from the rightmost, each label as
 * a lowercased octet string where a shorter prefix sorts first. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t ob[128];
	unsigned nb = dns_name_offsets(b, ob);
	return dns_name_cmp_offsets(a, b, ob, nb);
}

int dns_name_cmp_offsets(const uint8_t *a, const uint8_t *b, const uint8_t *ob, unsigned nb)
{
	uint8_t oa[128];
	unsigned na = dns_name_offsets(a, oa);
	while (na && nb) {
		const uint8_t *la = a + oa[--na], *lb = b + ob[--nb];
		unsigned n = la[0] < lb[0] ? la[0] : lb[0];
		for (unsigned j = 1; j <= n; j++) {
			uint8_t x = lc(la[j]), y = lc(lb[j]);
			if (x != y)
				return x < y ? -1 : 1;
		}
		if (la[0] != lb[0])
			return la[0] < lb[0] ? -1 : 1;
	}
	return na ? 1 : nb ? -1 : 0;
}

bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	unsigned n = dns_name_labels(name), p = dns_name_labels(parent);
	return n >= p && dns_name_equal(dns_name_skip(name, n - p), parent);
}

static int digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

int dns_name_from_text(const char *s, size_t n, const uint8_t *origin, uint8_t *out)
{
	if (n == 1 && s[0] == '@') {
		if (!origin)
			return ATL_EINVAL;
		memcpy(out, origin, dns_name_len(origin));
		return ATL_OK;
	}
	if (n == 1 && s[0] == '.') {
		out[0] = 0;
		return ATL_OK;
	}
	if (n == 0)
		return ATL_EINVAL;
	size_t o = 0;	/* bytes of out used */
	size_t lab = 0; /* offset of the current label's length byte */
	bool absolute = false;
	out[0] = 0;
	o = 1;
	for (size_t i = 0; i < n;) {
		char c = s[i++];
		if (c == '.') {
			if (out[lab] == 0) /* empty label */
				return ATL_EINVAL;
			if (i == n) {
				absolute = true;
				break;
			}
			lab = o;
			if (o >= DNS_NAME_MAX)
				return ATL_EINVAL;
			out[o++] = 0;
			continue;
		}
		uint8_t b = (uint8_t)c;
		if (c == '\\') {
			if (i >= n)
				return ATL_EINVAL;
			if (digit(s[i]) >= 0) {
				if (i + 3 > n || digit(s[i + 1]) < 0 || digit(s[i + 2]) < 0)
					return ATL_EINVAL;
				int v = digit(s[i]) * 100 + digit(s[i + 1]) * 10 + digit(s[i + 2]);
				if (v > 255)
					return ATL_EINVAL;
				b = (uint8_t)v;
				i += 3;
			} else {
				b = (uint8_t)s[i++];
			}
		}
		if (out[lab] == DNS_LABEL_MAX || o >= DNS_NAME_MAX - 1)
			return ATL_EINVAL;
		out[o++] = b;
		out[lab]++;
	}
	/* o counts the labels written; close with the root or the origin. */
	if (absolute) {
		if (o >= DNS_NAME_MAX)
			return ATL_EINVAL;
		out[o++] = 0;
		return ATL_OK;
	}
	if (!origin)
		return ATL_EINVAL;
	size_t ol = dns_name_len(origin);
	if (o + ol > DNS_NAME_MAX)
		return ATL_EINVAL;
	memcpy(out + o, origin, ol);
	return ATL_OK;
}

int dns_name_to_text(const uint8_t *name, char *buf, size_t cap)
{
	size_t o = 0;
#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (o + 1 >= cap)                                                                  \
			return ATL_EMSGSIZE;                                                       \
		buf[o++] = (ch);                                                                   \
	} while (0)
	if (!name[0])
		PUT('.');
	for (size_t i = 0; name[i]; i += name[i] + 1u) {
		for (unsigned j = 1; j <= name[i]; j++) {
			uint8_t c = name[i + j];
			if (c <= 0x20 || c >= 0x7f) {
				PUT('\\');
				PUT((char)('0' + c / 100));
				PUT((char)('0' + c / 10 % 10));
				PUT((char)('0' + c % 10));
			} else {
				if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' ||
				    c == ')' || c == '@' || c == '$')
					PUT('\\');
				PUT((char)c);
			}
		}
		PUT('.');
	}
#undef PUT
	buf[o] = 0;
	return (int)o;
}

int dns_name_read(struct rd *r, uint8_t *out)
{
	struct rd m = rd_make(r->data, r->len);
	m.pos = r->pos;
	size_t start = r->pos; /* start of the run of labels being read */
	size_t o = 0;
	bool jumped = false;
	if (r->err)
		return ATL_EINVAL;
	for (;;) {
		uint8_t c = rd_u8(&m);
		if (!rd_ok(&m))
			goto bad;
		if ((c & 0xc0) == 0xc0) {
			size_t target = (size_t)(c & 0x3f) << 8 | rd_u8(&m);
			if (!rd_ok(&m))
				goto bad;
			if (!jumped) {
				r->pos = m.pos;
				jumped = true;
			}
			/* Strictly backwards from the run that led here: the
			 * offsets fall at every jump, so this ends. */
			if (target >= start)
				goto bad;
			start = target;
			m.pos = target;
			continue;
		}
		if (c & 0xc0) /* 0x40 and 0x80: RFC 6891 5 / obsolete */
			goto bad;
		if (o + 1u + c > DNS_NAME_MAX)
			goto bad;
		out[o++] = c;
		if (!c)
			break;
		rd_copy(&m, out + o, c);
		if (!rd_ok(&m))
			goto bad;
		o += c;
	}
	if (!jumped)
		r->pos = m.pos;
	return ATL_OK;
bad:
	r->err = true;
	return ATL_EINVAL;
}

/*
 * Whether the (possibly compressed) name at off in msg equals name,
 * compared label by label in place so a mismatch costs a byte or two.
 * The message is ours, but pointers are still only followed backwards.
 */
static bool msg_name_equal(const uint8_t *msg, size_t len, size_t off, const uint8_t *name)
{
	size_t start = off;
	for (;;) {
		if (off >= len)
			return false;
		uint8_t c = msg[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= len)
				return false;
			size_t target = (size_t)(c & 0x3f) << 8 | msg[off + 1];
			if (target >= start)
				return false;
			start = off = target;
			continue;
		}
		if (c != name[0] || off + 1u + c > len)
			return false;
		if (!c)
			return true;
		if (!label_same(msg + off + 1, name + 1, c))
			for (unsigned j = 1; j <= c; j++)
				if (lc(msg[off + j]) != lc(name[j]))
					return false;
		off += c + 1u;
		name += c + 1;
	}
}

void dns_name_write(struct wr *w, const uint8_t *name, struct dns_cmp *c)
{
	size_t left = c ? dns_name_len(name) : 0; /* of the suffix at p */
	for (const uint8_t *p = name; *p; left -= *p + 1u, p += *p + 1) {
		if (c) {
			/* Only a name of the same length can match: most
			 * candidates are passed over without reading them. */
			for (unsigned i = 0; i < c->n; i++) {
				if (c->len[i] == left &&
				    msg_name_equal(w->data, w->pos, c->off[i], p)) {
					wr_be16(w, (uint16_t)(0xc000 | c->off[i]));
					return;
				}
			}
			if (c->n < DNS_CMP_MAX && w->pos < 0x3fff && !w->err) {
				c->len[c->n] = (uint8_t)left;
				c->off[c->n++] = (uint16_t)w->pos;
			}
		}
		wr_bytes(w, p, *p + 1u);
	}
	wr_u8(w, 0);
}

int dns_rr_cmp(const uint8_t *owner_a, uint16_t type_a, const uint8_t *rd_a, size_t rdlen_a,
	       const uint8_t *owner_b, uint16_t type_b, const uint8_t *rd_b, size_t rdlen_b)
{
	int c = dns_name_cmp(owner_a, owner_b);
	if (c)
		return c;
	if (type_a != type_b)
		return type_a < type_b ? -1 : 1;
	c = memcmp(rd_a, rd_b, rdlen_a < rdlen_b ? rdlen_a : rdlen_b);
	if (c)
		return c;
	return rdlen_a == rdlen_b ? 0 : rdlen_a < rdlen_b ? -1 : 1;
}
