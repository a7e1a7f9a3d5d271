/*
 * http.c - the HTTP/1.1 request head, framing and the small semantic
 * pieces of RFC 9110 a static server needs.  See http.h.
 *
 * The parser is strict where leniency lets two parsers disagree about
 * where a message ends (RFC 9112 11.2): whitespace before a colon,
 * obs-fold, a bare CR, Content-Length next to Transfer-Encoding, or
 * Content-Length values that differ are refused, never repaired.
 */
#include "http/http.h"

#include <string.h>

#include "core/err.h"

void http_limits_default(struct http_limits *lim)
{
	lim->line = 8192;
	lim->field = 8192;
	lim->head = 16384;
	lim->headers = 64;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *s, size_t n, const char *t)
{
	size_t i = 0;
	for (; i < n && t[i]; i++)
		if (lower(s[i]) != lower(t[i]))
			return false;
	return i == n && t[i] == '\0';
}

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ows((*p)[*n - 1]))
		(*n)--;
}

/* The next element of a comma-separated list (RFC 9110 5.6.1), trimmed;
 * empty elements are skipped.  False at the end. */
static bool list_next(const char **v, size_t *vlen, const char **e, size_t *elen)
{
	while (*vlen) {
		const char *s = *v;
		size_t i = 0;
		bool quoted = false;
		while (i < *vlen && (quoted || s[i] != ',')) {
			if (s[i] == '"')
				quoted = !quoted;
			else if (quoted && s[i] == '\\' && i + 1 < *vlen)
				i++;
			i++;
		}
		*v = s + i + (i < *vlen);
		*vlen -= i + (i < *vlen);
		const char *p = s;
		size_t n = i;
		trim(&p, &n);
		if (n) {
			*e = p;
			*elen = n;
			return true;
		}
	}
	return false;
}

bool http_list_has(const char *v, size_t vlen, const char *token)
{
	const char *e;
	size_t n;
	while (list_next(&v, &vlen, &e, &n))
		if (ieq(e, n, token))
			return true;
	return false;
}

const struct http_hdr *http_req_find(const struct http_req *req, const char *name)
{
	for (unsigned i = 0; i < req->nhdr; i++)
		if (ieq(req->hdr[i].name.p, req->hdr[i].name.n, name))
			return &req->hdr[i];
	return NULL;
}

/* ---- the request head ---- */

static const struct {
	const char *name;
	enum http_method m;
} methods[] = {
    {"GET", HTTP_M_GET},	 {"HEAD", HTTP_M_HEAD},	    {"POST", HTTP_M_POST},
    {"PUT", HTTP_M_PUT},	 {"DELETE", HTTP_M_DELETE}, {"CONNECT", HTTP_M_CONNECT},
    {"OPTIONS", HTTP_M_OPTIONS}, {"TRACE", HTTP_M_TRACE},   {"PATCH", HTTP_M_PATCH},
};

enum http_method http_method_parse(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strlen(methods[i].name) == n && !memcmp(methods[i].name, s, n))
			return methods[i].m;
	return HTTP_M_OTHER;
}

static int fail(struct http_req *req, int status, const char *why)
{
	req->why = why;
	return status;
}

/* The end of the line starting at buf[pos]: the index of its LF, or
 * len when there is none yet.  *bare_cr: a CR not followed by LF. */
static size_t line_end(const uint8_t *buf, size_t len, size_t pos, bool *bare_cr)
{
	const uint8_t *lf = memchr(buf + pos, '\n', len - pos);
	size_t end = lf ? (size_t)(lf - buf) : len;
	const uint8_t *cr = memchr(buf + pos, '\r', end - pos);
	*bare_cr = cr && (size_t)(cr - buf) + 1 != end;
	return end;
}

/* The bytes of an unfinished line from pos, a CR at its end not counted
 * (its LF may be in the next read). */
static size_t partial(const uint8_t *buf, size_t pos, size_t len)
{
	return len - pos - (len > pos && buf[len - 1] == '\r');
}

/* Decimal digits only (RFC 9110 8.6), no overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* RFC 9110 7.2: Host = uri-host [ ":" port ], no userinfo. */
static bool host_ok(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c <= 0x20 || c >= 0x7f || c == '@' || c == '/' || c == '?' || c == '#' ||
		    c == '\\')
			return false;
	}
	return true;
}

/* RFC 9112 3.2: the request-target, with its form and its parts. */
static int parse_target(struct http_req *req)
{
	const char *t = req->target.p;
	size_t n = req->target.n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= 0x20 || c >= 0x7f || c == '#')
			return fail(req, 400, "bad character in the request-target");
	}
	const char *path = t;
	size_t plen = n;
	if (t[0] == '/' && req->method == HTTP_M_CONNECT) {
		return fail(req, 400, "CONNECT with an origin-form target");
	} else if (t[0] == '/') {
		req->form = HTTP_FORM_ORIGIN;
	} else if (n == 1 && t[0] == '*') {
		if (req->method != HTTP_M_OPTIONS)
			return fail(req, 400, "asterisk-form outside OPTIONS");
		req->form = HTTP_FORM_ASTERISK;
		req->path = (struct http_span){t, 1};
		return HTTP_OK;
	} else if (req->method == HTTP_M_CONNECT) {
		/* RFC 9112 3.2.3: authority-form is host ":" port */
		const char *colon = NULL;
		for (size_t i = n; i-- > 0 && !colon;)
			if (t[i] == ':')
				colon = t + i;
		size_t pl = colon ? n - (size_t)(colon - t) - 1 : 0;
		uint64_t port;
		if (!colon || colon == t || !parse_u64(colon + 1, pl, &port) || port > 65535 ||
		    memchr(t, '/', n) || !host_ok(t, n))
			return fail(req, 400, "CONNECT target is not host:port");
		req->form = HTTP_FORM_AUTHORITY;
		req->host = req->target;
		req->path = (struct http_span){"/", 1};
		return HTTP_OK;
	} else {
		/* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
		size_t i = 0;
		while (i < n && t[i] != ':')
			i++;
		if (!(ieq(t, i, "http") || ieq(t, i, "https")) || n - i < 3 || t[i + 1] != '/' ||
		    t[i + 2] != '/')
			return fail(req, 400, "request-target is no origin or absolute form");
		size_t a = i + 3, e = a;
		while (e < n && t[e] != '/' && t[e] != '?')
			e++;
		if (e == a || !host_ok(t + a, e - a))
			return fail(req, 400, "absolute-form without a host, or with userinfo");
		req->form = HTTP_FORM_ABSOLUTE;
		req->host = (struct http_span){t + a, e - a};
		path = t + e;
		plen = n - e;
	}
	const char *q = memchr(path, '?', plen);
	size_t before = q ? (size_t)(q - path) : plen;
	req->path = before ? (struct http_span){path, before} : (struct http_span){"/", 1};
	if (q)
		req->query = (struct http_span){q + 1, plen - before - 1};
	return HTTP_OK;
}

int http_req_set_target(struct http_req *req, const char *t, size_t n)
{
	req->target = (struct http_span){t, n};
	if (n == 0 || (t[0] != '/' && !(n == 1 && t[0] == '*')))
		return fail(req, 400, "a :path that is not origin-form");
	return parse_target(req);
}

/* RFC 9112 3: method SP request-target SP HTTP-version */
static int parse_request_line(struct http_req *req, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n);
	if (!sp1 || sp1 == s)
		return fail(req, 400, "no method");
	size_t ml = (size_t)(sp1 - s);
	for (size_t i = 0; i < ml; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(req, 400, "bad method token");
	const char *rest = sp1 + 1;
	size_t rl = n - ml - 1;
	const char *sp2 = memchr(rest, ' ', rl);
	if (!sp2 || sp2 == rest)
		return fail(req, 400, "no request-target");
	req->method_s = (struct http_span){s, ml};
	req->target = (struct http_span){rest, (size_t)(sp2 - rest)};
	const char *v = sp2 + 1;
	size_t vl = rl - req->target.n - 1;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive */
	if (vl != 8 || memcmp(v, "HTTP/", 5) || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]))
		return fail(req, 400, "bad HTTP-version");
	if (v[5] != '1')
		return fail(req, v[5] == '0' ? 400 : 505,
			    v[5] == '0' ? "HTTP/0.x" : "HTTP major version above 1");
	req->version = v[7] == '0' ? 10 : 11;
	req->method = http_method_parse(s, ml);
	if (req->method == HTTP_M_OTHER)
		return fail(req, 501, "unknown method"); /* RFC 9110 9.1 */
	return parse_target(req);
}

/* RFC 9112 5: field-name ":" OWS field-value OWS */
static int parse_field(struct http_req *req, const struct http_limits *lim, const char *s, size_t n)
{
	if (is_ows(s[0]))
		return fail(req, 400, "obs-fold (a header line starting with whitespace)");
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return fail(req, 400, "header line without a field name");
	size_t nl = (size_t)(colon - s);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(req, 400,
				    is_ows(s[i]) ? "whitespace before a header's colon"
						 : "bad character in a header name");
	const char *v = colon + 1;
	size_t vl = n - nl - 1;
	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(req, 400, "control character in a header value");
	}
	trim(&v, &vl);
	if (req->nhdr >= lim->headers || req->nhdr >= HTTP_HEADERS_CAP)
		return fail(req, 431, "too many header fields");
	req->hdr[req->nhdr++] = (struct http_hdr){{s, nl}, {v, vl}};
	return HTTP_OK;
}

/* What the core takes from the fields: Host, framing, Connection, Expect. */
static int parse_semantics(struct http_req *req)
{
	bool have_len = false, have_te = false, have_host = false;
	bool close = false, keep = false;
	for (unsigned i = 0; i < req->nhdr; i++) {
		const struct http_hdr *h = &req->hdr[i];
		const char *v = h->value.p;
		size_t vl = h->value.n;
		if (ieq(h->name.p, h->name.n, "host")) {
			/* RFC 9112 3.2: exactly one Host in 1.1 */
			if (have_host)
				return fail(req, 400, "more than one Host");
			have_host = true;
			if (!host_ok(v, vl))
				return fail(req, 400, "bad Host");
			if (req->form != HTTP_FORM_ABSOLUTE && req->form != HTTP_FORM_AUTHORITY)
				req->host = (struct http_span){v, vl};
		} else if (ieq(h->name.p, h->name.n, "content-length")) {
			/* RFC 9110 8.6: a list of identical values may stand for one */
			const char *e;
			size_t el;
			bool any = false;
			while (list_next(&v, &vl, &e, &el)) {
				uint64_t x;
				if (!parse_u64(e, el, &x))
					return fail(req, 400, "bad Content-Length");
				if (have_len && x != req->content_length)
					return fail(req, 400, "Content-Length values differ");
				have_len = any = true;
				req->content_length = x;
			}
			if (!any)
				return fail(req, 400, "empty Content-Length");
		} else if (ieq(h->name.p, h->name.n, "transfer-encoding")) {
			const char *e;
			size_t el;
			while (list_next(&v, &vl, &e, &el)) {
				if (req->chunked)
					return fail(req, 400, "a transfer coding after chunked");
				if (!ieq(e, el, "chunked"))
					return fail(req, 501, "unknown transfer coding");
				req->chunked = true;
			}
			have_te = true;
		} else if (ieq(h->name.p, h->name.n, "connection")) {
			close = close || http_list_has(v, vl, "close");
			keep = keep || http_list_has(v, vl, "keep-alive");
		} else if (ieq(h->name.p, h->name.n, "expect")) {
			if (!ieq(v, vl, "100-continue"))
				return fail(req, 417, "an Expect other than 100-continue");
			req->expect_continue = true;
		}
	}
	if (have_te) {
		/* RFC 9112 6.1: TE in a 1.0 message is faulty framing;
		 * 6.3: with Content-Length it is a smuggling attempt;
		 * chunked must be the final coding. */
		if (req->version == 10)
			return fail(req, 400, "Transfer-Encoding in HTTP/1.0");
		if (have_len)
			return fail(req, 400, "both Content-Length and Transfer-Encoding");
		if (!req->chunked)
			return fail(req, 400, "Transfer-Encoding without chunked");
	}
	if (req->version == 11 && !have_host)
		return fail(req, 400, "no Host in an HTTP/1.1 request");
	if (req->version == 10 && req->expect_continue)
		req->expect_continue = false; /* RFC 9110 10.1.1: ignore in 1.0 */
	req->keep_alive = req->version == 11 ? !close : keep && !close;
	return HTTP_OK;
}

int http_req_parse(const struct http_limits *lim, const uint8_t *buf, size_t len,
		   struct http_req *req, size_t *head_len)
{
	memset(req, 0, offsetof(struct http_req, hdr));
	size_t pos = 0;
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (pos < len && (buf[pos] == '\n' || buf[pos] == '\r')) {
		if (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] != '\n')
			return fail(req, 400, "bare CR");
		pos++;
		if (pos > lim->line)
			return fail(req, 400, "too many empty lines");
	}
	size_t start = pos;
	bool bare_cr;
	size_t end = line_end(buf, len, pos, &bare_cr);
	if (bare_cr)
		return fail(req, 400, "bare CR in the request line");
	size_t ll = end - pos - (end > pos && buf[end - 1] == '\r');
	if (end == len) {
		if (partial(buf, pos, len) > lim->line)
			return fail(req, 414, "request line too long");
		return HTTP_MORE;
	}
	if (ll > lim->line)
		return fail(req, 414, "request line too long");
	if (ll == 0)
		return fail(req, 400, "empty request line");
	const char *line = (const char *)buf + pos;
	int rc = parse_request_line(req, line, ll);
	if (rc != HTTP_OK)
		return rc;
	pos = end + 1;
	for (;;) {
		end = line_end(buf, len, pos, &bare_cr);
		if (bare_cr)
			return fail(req, 400, "bare CR in a header line");
		/* the head's bytes up to this line's LF (or the one that must
		 * still come) */
		if (end + 1 - start > lim->head)
			return fail(req, 431, "request head too large");
		if (end == len) {
			if (partial(buf, pos, len) > lim->field)
				return fail(req, 431, "header line too long");
			return HTTP_MORE;
		}
		size_t fl = end - pos - (end > pos && buf[end - 1] == '\r');
		if (fl > lim->field)
			return fail(req, 431, "header line too long");
		if (fl == 0)
			break;
		rc = parse_field(req, lim, (const char *)buf + pos, fl);
		if (rc != HTTP_OK)
			return rc;
		pos = end + 1;
	}
	rc = parse_semantics(req);
	if (rc != HTTP_OK)
		return rc;
	*head_len = end + 1;
	return HTTP_OK;
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

enum {
	CH_SIZE,    /* in chunk-size hex digits */
	CH_EXT,	    /* after the size: chunk-ext up to CRLF */
	CH_DATA,    /* in chunk-data */
	CH_DATA_CR, /* expecting the line end after the data */
	CH_TRAILER, /* at the start of a trailer line */
	CH_TRAILER_LINE,
	CH_DONE,
};

#define CH_LINE_MAX 4096

static int ch_fail(struct http_chunked *ch, int status, const char *why)
{
	ch->why = why;
	ch->state = CH_DONE + 1;
	return status;
}

/* A CR must be followed by LF (RFC 9112 2.2: a bare CR is refused). */
static int ch_cr(struct http_chunked *ch, uint8_t c, bool *skip)
{
	*skip = false;
	if (ch->cr) {
		ch->cr = false;
		if (c != '\n')
			return ch_fail(ch, 400, "bare CR in a chunk line");
	} else if (c == '\n') {
		/* RFC 9112 7.1: chunk framing ends its lines with CRLF; a lone
		 * LF read differently by another parser is a smuggling vector */
		return ch_fail(ch, 400, "LF without CR in chunk framing");
	} else if (c == '\r') {
		ch->cr = true;
		*skip = true;
	}
	return HTTP_OK;
}

int http_chunked_decode(struct http_chunked *ch, uint8_t *buf, size_t len, size_t *used,
			size_t *out)
{
	size_t i = 0, o = 0;
	*out = 0;
	*used = 0;
	if (ch->state > CH_DONE)
		return 400;
	if (ch->state == CH_DONE)
		return HTTP_OK;
	while (i < len) {
		uint8_t c = buf[i];
		bool skip;
		if (ch->state == CH_DATA) {
			size_t k = len - i;
			if (k > ch->left)
				k = (size_t)ch->left;
			memmove(buf + o, buf + i, k);
			o += k;
			i += k;
			ch->left -= k;
			ch->total += k;
			if (ch->left == 0)
				ch->state = CH_DATA_CR;
			continue;
		}
		if (ch->state == CH_SIZE) {
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d >= 0) {
				if (ch->left >> 60)
					return ch_fail(ch, 400, "chunk size overflows");
				if (++ch->line > CH_LINE_MAX)
					return ch_fail(ch, 400, "chunk size line too long");
				ch->left = ch->left << 4 | (uint64_t)d;
				i++;
				continue;
			}
			if (ch->line == 0)
				return ch_fail(ch, 400, "chunk size is not hex");
			/* RFC 9112 7.1.1: BWS, then ";" chunk-ext, or the line end */
			if (c != ';' && c != ' ' && c != '\t' && c != '\r' && c != '\n')
				return ch_fail(ch, 400, "junk after a chunk size");
			ch->state = CH_EXT;
			continue; /* this byte is looked at again in the extension */
		}
		i++;
		if (ch_cr(ch, c, &skip) != HTTP_OK)
			return 400;
		if (skip)
			continue;
		switch (ch->state) {
		case CH_EXT:
			if (++ch->line > CH_LINE_MAX)
				return ch_fail(ch, 400, "chunk extension too long");
			/* RFC 9112 7.1.1: BWS, then ";" before any extension */
			if (!ch->ext && c != '\n') {
				if (c == ';')
					ch->ext = true;
				else if (c != ' ' && c != '\t')
					return ch_fail(ch, 400, "junk after a chunk size");
			}
			if (c == '\n') {
				ch->line = 0;
				ch->ext = false;
				if (ch->left == 0) {
					ch->state = CH_TRAILER;
				} else {
					if (ch->max && ch->left > ch->max - ch->total)
						return ch_fail(ch, 413, "body too large");
					ch->state = CH_DATA;
				}
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				return ch_fail(ch, 400, "control character in a chunk extension");
			}
			break;
		case CH_DATA_CR:
			if (c != '\n')
				return ch_fail(ch, 400, "no CRLF after chunk data");
			ch->state = CH_SIZE;
			ch->line = 0;
			break;
		case CH_TRAILER:
		case CH_TRAILER_LINE:
			if (c == '\n') {
				if (ch->state == CH_TRAILER) {
					ch->state = CH_DONE;
					*used = i;
					*out = o;
					return HTTP_OK;
				}
				ch->state = CH_TRAILER;
				ch->line = 0;
			} else {
				if ((c < 0x20 && c != '\t') || c == 0x7f)
					return ch_fail(ch, 400, "control character in a trailer");
				ch->state = CH_TRAILER_LINE;
				if (++ch->line > CH_LINE_MAX || ++ch->trailer > 4 * CH_LINE_MAX)
					return ch_fail(ch, 400, "trailer section too long");
			}
			break;
		}
	}
	*used = i;
	*out = o;
	return HTTP_MORE;
}

/* ---- ranges (RFC 9110 14.1.2) ---- */

int http_range_parse(const char *v, size_t vlen, uint64_t size, struct http_range *ranges,
		     unsigned max, unsigned *n)
{
	*n = 0;
	trim(&v, &vlen);
	if (vlen < 6 || !ieq(v, 6, "bytes="))
		return 200;
	v += 6;
	vlen -= 6;
	const char *e;
	size_t el;
	unsigned asked = 0;
	bool any = false, out_of_order = false;
	uint64_t prev_end = 0;
	while (list_next(&v, &vlen, &e, &el)) {
		const char *dash = memchr(e, '-', el);
		if (!dash)
			return 200;
		size_t fl = (size_t)(dash - e), ll = el - fl - 1;
		uint64_t first, last;
		if (fl == 0) {
			/* suffix-range: the last N bytes */
			if (!parse_u64(dash + 1, ll, &last))
				return 200;
			if (last == 0 || size == 0) {
				asked++;
				continue;
			}
			first = last >= size ? 0 : size - last;
			last = size - 1;
		} else {
			if (!parse_u64(e, fl, &first))
				return 200;
			if (ll == 0) {
				last = size ? size - 1 : 0;
			} else if (!parse_u64(dash + 1, ll, &last) || last < first) {
				return 200;
			}
			if (first >= size) {
				asked++;
				continue;
			}
			if (last >= size)
				last = size - 1;
		}
		if (++asked > max)
			return 200;
		if (any && first <= prev_end)
			out_of_order = true;
		prev_end = last;
		any = true;
		ranges[(*n)++] = (struct http_range){first, last};
	}
	if (asked == 0)
		return 200;
	if (*n == 0)
		return 416;
	if (*n > 2 && out_of_order) {
		*n = 0;
		return 200;
	}
	return 206;
}

/* ---- dates (RFC 9110 5.6.7) ---- */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wdays_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					  "Thursday", "Friday", "Saturday"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void http_date_fmt(uint64_t t, char out[HTTP_DATE_LEN + 1])
{
	if (t > 253402300799ull)
		t = 253402300799ull; /* 9999-12-31 23:59:59: four digits of year */
	int64_t days = (int64_t)(t / 86400);
	unsigned secs = (unsigned)(t % 86400);
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	memcpy(out, wdays[(days + 4) % 7], 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, d);
	out[7] = ' ';
	memcpy(out + 8, months[m - 1], 3);
	out[11] = ' ';
	unsigned yy = (unsigned)(y > 9999 ? 9999 : y);
	put2(out + 12, yy / 100);
	put2(out + 14, yy % 100);
	out[16] = ' ';
	put2(out + 17, secs / 3600);
	out[19] = ':';
	put2(out + 20, secs / 60 % 60);
	out[22] = ':';
	put2(out + 23, secs % 60);
	memcpy(out + 25, " GMT", 5);
}

/* n decimal digits at s. */
static bool digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static int month_of(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (!memcmp(s, months[i], 3))
			return i + 1;
	return 0;
}

/* "HH:MM:SS" */
static bool hms(const char *s, unsigned *secs)
{
	unsigned h, m, x;
	if (s[2] != ':' || s[5] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &m) ||
	    !digits(s + 6, 2, &x) || h > 23 || m > 59 || x > 60)
		return false;
	*secs = h * 3600 + m * 60 + x;
	return true;
}

static bool date_make(unsigned y, unsigned m, unsigned d, unsigned secs, uint64_t *t)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || y < 1970)
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	*t = (uint64_t)days_from_civil(y, m, d) * 86400 + secs;
	return true;
}

bool http_date_parse(const char *s, size_t n, uint64_t *t)
{
	unsigned d, y, secs;
	int m;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (n == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
	    !memcmp(s + 25, " GMT", 4)) {
		if (!digits(s + 5, 2, &d) || !(m = month_of(s + 8)) || !digits(s + 12, 4, &y) ||
		    !hms(s + 17, &secs))
			return false;
		return date_make(y, (unsigned)m, d, secs, t);
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	if (n == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
		char dd[2] = {s[8] == ' ' ? '0' : s[8], s[9]};
		if (!digits(dd, 2, &d) || !(m = month_of(s + 4)) || !hms(s + 11, &secs) ||
		    !digits(s + 20, 4, &y))
			return false;
		return date_make(y, (unsigned)m, d, secs, t);
	}
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	for (int w = 0; w < 7; w++) {
		size_t wl = strlen(wdays_long[w]);
		if (n != wl + 24 || memcmp(s, wdays_long[w], wl) || s[wl] != ',')
			continue;
		const char *p = s + wl + 1;
		if (p[0] != ' ' || p[3] != '-' || p[7] != '-' || p[10] != ' ' ||
		    memcmp(p + 19, " GMT", 4) || !digits(p + 1, 2, &d) || !(m = month_of(p + 4)) ||
		    !digits(p + 8, 2, &y) || !hms(p + 11, &secs))
			return false;
		/* RFC 9110 5.6.7: a two-digit year more than 50 years ahead is past */
		y += y >= 70 ? 1900 : 2000;
		return date_make(y, (unsigned)m, d, secs, t);
	}
	return false;
}

/* ---- conditional requests (RFC 9110 13) ---- */

/* An entity-tag at the start of e: W/ prefix and opaque part. */
static bool etag_split(const char *e, size_t n, bool *weak, const char **op, size_t *on)
{
	*weak = n >= 2 && e[0] == 'W' && e[1] == '/';
	if (*weak) {
		e += 2;
		n -= 2;
	}
	if (n < 2 || e[0] != '"' || e[n - 1] != '"')
		return false;
	*op = e + 1;
	*on = n - 2;
	return true;
}

/* Does the If-Match / If-None-Match list v hold etag?  Weak comparison
 * ignores W/ on both sides; strong needs both strong. */
static bool etag_list_match(const char *v, size_t vl, const char *etag, size_t elen, bool strong)
{
	bool ew;
	const char *eo;
	size_t en;
	if (!etag_split(etag, elen, &ew, &eo, &en))
		return false;
	if (ieq(v, vl, "*"))
		return true;
	const char *e;
	size_t el;
	while (list_next(&v, &vl, &e, &el)) {
		bool w;
		const char *o;
		size_t on;
		if (!etag_split(e, el, &w, &o, &on))
			continue;
		if (strong && (w || ew))
			continue;
		if (on == en && !memcmp(o, eo, on))
			return true;
	}
	return false;
}

static bool hdr_date(const struct http_req *req, const char *name, uint64_t *t)
{
	const struct http_hdr *h = http_req_find(req, name);
	return h && http_date_parse(h->value.p, h->value.n, t);
}

int http_cond_eval(const struct http_req *req, const char *etag, size_t elen, uint64_t mtime)
{
	const struct http_hdr *im = http_req_find(req, "if-match");
	const struct http_hdr *inm = http_req_find(req, "if-none-match");
	uint64_t t;
	if (im) {
		if (!etag_list_match(im->value.p, im->value.n, etag, elen, true))
			return 412;
	} else if (mtime && hdr_date(req, "if-unmodified-since", &t)) {
		if (mtime > t)
			return 412;
	}
	if (inm) {
		if (etag_list_match(inm->value.p, inm->value.n, etag, elen, false))
			return req->method == HTTP_M_GET || req->method == HTTP_M_HEAD ? 304 : 412;
	} else if (mtime && (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD) &&
		   hdr_date(req, "if-modified-since", &t)) {
		if (mtime <= t)
			return 304;
	}
	return 0;
}

bool http_if_range(const struct http_req *req, const char *etag, size_t elen, uint64_t mtime)
{
	const struct http_hdr *h = http_req_find(req, "if-range");
	if (!h)
		return true;
	const char *v = h->value.p;
	size_t vl = h->value.n;
	if (vl && (v[0] == '"' || (vl >= 2 && v[0] == 'W' && v[1] == '/'))) {
		/* RFC 9110 13.1.5: a strong comparison; a weak tag never matches */
		bool w, ew;
		const char *o, *eo;
		size_t on, en;
		return etag_split(v, vl, &w, &o, &on) && !w &&
		       etag_split(etag, elen, &ew, &eo, &en) && !ew && on == en &&
		       !memcmp(o, eo, on);
	}
	uint64_t t;
	return mtime && http_date_parse(v, vl, &t) && t == mtime;
}

/* ---- content codings (RFC 9110 12.5.3) ---- */

/* The q-value of a list element's parameters; 1000 = 1.0.  -1: bad. */
static int qvalue(const char *p, size_t n)
{
	while (n) {
		while (n && (is_ows(*p) || *p == ';')) {
			p++;
			n--;
		}
		size_t k = 0;
		while (k < n && p[k] != ';')
			k++;
		const char *a = p;
		size_t al = k;
		trim(&a, &al);
		if (al >= 2 && lower(a[0]) == 'q' && a[1] == '=') {
			a += 2;
			al -= 2;
			if (al == 0 || (a[0] != '0' && a[0] != '1'))
				return -1;
			int q = (a[0] - '0') * 1000;
			if (al > 1 && a[1] != '.')
				return -1;
			int scale = 100;
			for (size_t i = 2; i < al && i < 5; i++, scale /= 10) {
				if (!is_digit(a[i]))
					return -1;
				q += (a[i] - '0') * scale;
			}
			if (al > 5 || q > 1000)
				return -1;
			return q;
		}
		p += k;
		n -= k;
	}
	return 1000;
}

bool http_accepts(const char *v, size_t vlen, const char *coding)
{
	const char *e;
	size_t el;
	int named = -1, star = -1;
	while (list_next(&v, &vlen, &e, &el)) {
		size_t k = 0;
		while (k < el && e[k] != ';' && !is_ows(e[k]))
			k++;
		int q = qvalue(e + k, el - k);
		if (q < 0)
			continue;
		if (ieq(e, k, coding))
			named = q;
		else if (ieq(e, k, "*"))
			star = q;
	}
	return named >= 0 ? named > 0 : star > 0;
}

/* ---- paths ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_path_clean(const char *path, size_t n, char *out, size_t cap)
{
	size_t o = 0; /* out holds segments joined by '/', no leading '/' */
	size_t i = 0;
	bool trailing = false;
	while (i < n) {
		while (i < n && path[i] == '/')
			i++;
		if (i == n) {
			trailing = o > 0 || n > 0;
			break;
		}
		/* one segment, decoded, appended to out */
		size_t seg = o ? o + 1 : 0;
		if (o) {
			if (o + 1 >= cap)
				return ATL_EMSGSIZE;
			out[o] = '/';
		}
		size_t w = seg;
		while (i < n && path[i] != '/') {
			char c = path[i++];
			if (c == '%') {
				int hi = i < n ? hexval(path[i]) : -1;
				int lo = i + 1 < n ? hexval(path[i + 1]) : -1;
				if (hi < 0 || lo < 0)
					return ATL_EINVAL;
				c = (char)(hi << 4 | lo);
				i += 2;
				if (c == '\0' || c == '/' || c == '\\')
					return ATL_EINVAL;
			}
			if (w + 1 >= cap)
				return ATL_EMSGSIZE;
			out[w++] = c;
		}
		size_t sl = w - seg;
		trailing = false;
		if (sl == 1 && out[seg] == '.') {
			trailing = true;
			continue; /* o unchanged */
		}
		if (sl == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (o == 0)
				return ATL_EINVAL;
			/* drop the last segment */
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			trailing = true;
			continue;
		}
		o = w;
	}
	if (trailing && o > 0) {
		if (o + 1 >= cap)
			return ATL_EMSGSIZE;
		out[o++] = '/';
	}
	if (o >= cap)
		return ATL_EMSGSIZE;
	out[o] = '\0';
	return ATL_OK;
}

const char *http_reason(int status)
{
	static const struct {
		int code;
		const char *text;
	} reasons[] = {
	    {100, "Continue"},
	    {200, "OK"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {411, "Length Required"},
	    {412, "Precondition Failed"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {416, "Range Not Satisfiable"},
	    {417, "Expectation Failed"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "Unknown";
}
