/*
 * json.c - base64url (RFC 4648 5) and a bounded JSON reader (RFC 8259)
 * for the ACME core.
 *
 * The reader never builds a tree: a value is the span of text it covers,
 * and a lookup walks the text again.  ACME objects are small (a few
 * kilobytes), so walking twice costs less than a tree would in memory.
 * Nesting deeper than ACME_JSON_DEPTH is refused, so hostile input
 * cannot run the stack down.
 */
#include <string.h>

#include "acme/acme.h"
#include "core/err.h"

/* ---- base64url ---- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t acme_b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

int acme_b64url_encode(const void *src, size_t n, char *out, size_t cap, size_t *len)
{
	const uint8_t *s = src;
	size_t need = acme_b64url_len(n);
	if (cap < need + 1)
		return ATL_EMSGSIZE;
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	if (len)
		*len = o;
	return ATL_OK;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int acme_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	if (n % 4 == 1)
		return ATL_EINVAL;
	size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (need > cap)
		return ATL_EMSGSIZE;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(s[i]);
		if (v < 0)
			return ATL_EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* RFC 4648 3.5: the bits left over must be zero */
	if (acc & ((1u << bits) - 1))
		return ATL_EINVAL;
	*len = o;
	return ATL_OK;
}

/* ---- JSON ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The end of the string that starts at p (a '"'), or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	p++;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (end - p < 2)
				return NULL;
			char e = p[1];
			if (e == 'u') {
				if (end - p < 6)
					return NULL;
				for (int i = 2; i < 6; i++)
					if (hexval(p[i]) < 0)
						return NULL;
				p += 6;
				continue;
			}
			if (e == '\0' || !strchr("\"\\/bfnrt", e))
				return NULL;
			p += 2;
			continue;
		}
		p++;
	}
	return NULL;
}

static const char *skip_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p == end)
		return NULL;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return NULL;
	}
	if (p < end && *p == '.') {
		p++;
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
	}
	return p;
}

static const char *skip_word(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(end - p) < n || memcmp(p, w, n))
		return NULL;
	return p + n;
}

/* The end of the value that starts at p (no leading whitespace), or NULL. */
static const char *skip_value(const char *p, const char *end, unsigned depth)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		return skip_string(p, end);
	case 't':
		return skip_word(p, end, "true");
	case 'f':
		return skip_word(p, end, "false");
	case 'n':
		return skip_word(p, end, "null");
	case '{':
	case '[': {
		if (depth >= ACME_JSON_DEPTH)
			return NULL;
		bool obj = *p == '{';
		char close = obj ? '}' : ']';
		p = skip_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if (p >= end || *p != '"')
					return NULL;
				p = skip_string(p, end);
				if (!p)
					return NULL;
				p = skip_ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p = skip_ws(p + 1, end);
			}
			p = skip_value(p, end, depth + 1);
			if (!p)
				return NULL;
			p = skip_ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p = skip_ws(p + 1, end);
		}
	}
	default:
		return skip_number(p, end);
	}
}

int acme_json_parse(const char *text, size_t n, struct acme_span *v)
{
	const char *end = text + n;
	const char *p = skip_ws(text, end);
	const char *q = skip_value(p, end, 0);
	if (!q || skip_ws(q, end) != end)
		return ATL_EINVAL;
	v->p = p;
	v->n = (size_t)(q - p);
	return ATL_OK;
}

/* One UTF-8 sequence of code point cp into out[o..cap); the new o, or 0. */
static size_t put_utf8(char *out, size_t o, size_t cap, uint32_t cp)
{
	uint8_t b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 63));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
		b[2] = (uint8_t)(0x80 | (cp & 63));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 63));
		b[3] = (uint8_t)(0x80 | (cp & 63));
		k = 4;
	}
	if (cap - o < k + 1)
		return 0;
	memcpy(out + o, b, k);
	return o + k;
}

static uint32_t hex4(const char *p)
{
	return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 |
			  hexval(p[3]));
}

int acme_json_string(struct acme_span v, char *out, size_t cap)
{
	if (cap == 0)
		return ATL_EMSGSIZE;
	const char *p = v.p, *end = v.p + v.n;
	if (v.n < 2 || *p != '"' || skip_string(p, end) != end)
		return ATL_EINVAL;
	p++;
	end--; /* the closing quote */
	size_t o = 0;
	while (p < end) {
		uint32_t cp;
		if (*p != '\\') {
			if (cap - o < 2)
				return ATL_EMSGSIZE;
			out[o++] = *p++;
			continue;
		}
		char e = p[1];
		if (e != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			if (cap - o < 2)
				return ATL_EMSGSIZE;
			out[o++] = to[strchr(from, e) - from];
			p += 2;
			continue;
		}
		cp = hex4(p + 2);
		p += 6;
		if (cp >= 0xD800 && cp < 0xDC00) {
			/* RFC 8259 7: a surrogate pair */
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return ATL_EINVAL;
			uint32_t lo = hex4(p + 2);
			if (lo < 0xDC00 || lo >= 0xE000)
				return ATL_EINVAL;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		} else if (cp >= 0xDC00 && cp < 0xE000) {
			return ATL_EINVAL;
		}
		if (cp == 0)
			return ATL_EINVAL; /* a NUL would cut the string short */
		o = put_utf8(out, o, cap, cp);
		if (o == 0)
			return ATL_EMSGSIZE;
	}
	out[o] = '\0';
	return ATL_OK;
}

/* After an object's member or an array's element: the ',' and the
 * next one (ATL_OK, *p moved there), the closing character (ATL_ENOENT:
 * no more), or anything else (ATL_EINVAL). */
static int next_item(const char **p, const char *end, char close)
{
	const char *q = skip_ws(*p, end);
	if (q >= end)
		return ATL_EINVAL;
	if (*q == close)
		return ATL_ENOENT;
	if (*q != ',')
		return ATL_EINVAL;
	*p = skip_ws(q + 1, end);
	return ATL_OK;
}

int acme_json_member(struct acme_span obj, const char *key, struct acme_span *val)
{
	const char *p = obj.p, *end = obj.p + obj.n;
	if (obj.n == 0 || *p != '{')
		return ATL_EINVAL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return ATL_ENOENT;
	size_t klen = strlen(key);
	for (;;) {
		if (p >= end || *p != '"')
			return ATL_EINVAL;
		const char *ks = p;
		p = skip_string(p, end);
		if (!p)
			return ATL_EINVAL;
		struct acme_span k = {ks, (size_t)(p - ks)};
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return ATL_EINVAL;
		p = skip_ws(p + 1, end);
		const char *vs = p;
		p = skip_value(p, end, 1);
		if (!p)
			return ATL_EINVAL;
		char kb[64];
		if (acme_json_string(k, kb, sizeof kb) == ATL_OK && strlen(kb) == klen &&
		    !memcmp(kb, key, klen)) {
			val->p = vs;
			val->n = (size_t)(p - vs);
			return ATL_OK;
		}
		int rc = next_item(&p, end, '}');
		if (rc != ATL_OK)
			return rc;
	}
}

int acme_json_index(struct acme_span arr, unsigned i, struct acme_span *val)
{
	const char *p = arr.p, *end = arr.p + arr.n;
	if (arr.n == 0 || *p != '[')
		return ATL_EINVAL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return ATL_ENOENT;
	for (unsigned k = 0;; k++) {
		const char *vs = p;
		p = skip_value(p, end, 1);
		if (!p)
			return ATL_EINVAL;
		if (k == i) {
			val->p = vs;
			val->n = (size_t)(p - vs);
			return ATL_OK;
		}
		int rc = next_item(&p, end, ']');
		if (rc != ATL_OK)
			return rc;
	}
}

int acme_json_get_string(struct acme_span obj, const char *key, char *out, size_t cap)
{
	struct acme_span v;
	int rc = acme_json_member(obj, key, &v);
	return rc == ATL_OK ? acme_json_string(v, out, cap) : rc;
}

int acme_json_bool(struct acme_span v, bool *out)
{
	if (v.n == 4 && !memcmp(v.p, "true", 4))
		*out = true;
	else if (v.n == 5 && !memcmp(v.p, "false", 5))
		*out = false;
	else
		return ATL_EINVAL;
	return ATL_OK;
}
