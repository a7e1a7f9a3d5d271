/*
 * fuzz_http.c - libFuzzer target for lib/http.
 *
 * Each input is the bytes a client sent on one connection.  The request
 * head is parsed under three sets of limits (tiny, small, the defaults).
 * Invariants: the result is HTTP_OK, HTTP_MORE or a status 400..505 with
 * a reason; on HTTP_OK the head fits in the input, every span lies inside
 * the head, the header count keeps its limit and the framing fields agree
 * with each other (chunked excludes a length, 1.1 has a Host, the forms
 * go with their methods); what smaller limits accept larger ones accept
 * the same way; every prefix of an accepted head is HTTP_MORE; a prefix
 * that fails makes the whole input fail.  When the head is accepted, the
 * bytes after it go to the chunked decoder (if the request is chunked)
 * whole, split at a point the input picks, and a byte at a time: all
 * three give the same result, the same bytes taken and the same data.
 * The header values go through ranges (the satisfiable ranges are inside
 * the representation and, past two, ascending and disjoint),
 * preconditions, If-Range, Accept-Encoding, dates (a parsed date formats
 * and parses back to itself) and path cleaning (no dot segments, no
 * empty segment, idempotent).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/http.h"

#define FAIL(what)                                                                                 \
	do {                                                                                       \
		fprintf(stderr, "fuzz_http: %s (line %d)\n", what, __LINE__);                      \
		abort();                                                                           \
	} while (0)

static bool is_status(int rc)
{
	return rc >= 400 && rc <= 505;
}

static bool span_in(struct http_span s, const uint8_t *buf, size_t len)
{
	if (!s.p)
		return s.n == 0;
	const char *b = (const char *)buf;
	return s.p >= b && s.n <= len && (size_t)(s.p - b) <= len - s.n;
}

static void check_req(const struct http_limits *lim, const struct http_req *r, const uint8_t *buf,
		      size_t head_len)
{
	if (r->nhdr > lim->headers || r->nhdr > HTTP_HEADERS_CAP)
		FAIL("too many headers");
	if (!span_in(r->method_s, buf, head_len) || !span_in(r->target, buf, head_len) ||
	    !span_in(r->query, buf, head_len) || !span_in(r->host, buf, head_len))
		FAIL("span outside the head");
	if (!r->method_s.p || !r->method_s.n || !r->target.p || !r->target.n)
		FAIL("no method or target");
	if (!span_in(r->path, buf, head_len) && !(r->path.p && r->path.n == 1 && *r->path.p == '/'))
		FAIL("path outside the head");
	for (unsigned i = 0; i < r->nhdr; i++) {
		if (!span_in(r->hdr[i].name, buf, head_len) ||
		    !span_in(r->hdr[i].value, buf, head_len) || !r->hdr[i].name.n)
			FAIL("header span outside the head");
		const struct http_span *v = &r->hdr[i].value;
		if (v->n && (v->p[0] == ' ' || v->p[0] == '\t' || v->p[v->n - 1] == ' ' ||
			     v->p[v->n - 1] == '\t'))
			FAIL("value not trimmed");
		for (size_t j = 0; j < v->n; j++)
			if (v->p[j] == '\r' || v->p[j] == '\n' || v->p[j] == 0)
				FAIL("CR, LF or NUL in a value");
	}
	if (r->version != 10 && r->version != 11)
		FAIL("version");
	if (r->method == HTTP_M_OTHER)
		FAIL("unknown method accepted");
	if (r->chunked && (r->content_length || r->version != 11))
		FAIL("chunked with a length, or in 1.0");
	if (r->version == 11 && !r->host.p)
		FAIL("1.1 without a host");
	if ((r->form == HTTP_FORM_ASTERISK) != (r->target.n == 1 && r->target.p[0] == '*'))
		FAIL("asterisk form");
	if (r->form == HTTP_FORM_ASTERISK && r->method != HTTP_M_OPTIONS)
		FAIL("asterisk form without OPTIONS");
	if ((r->form == HTTP_FORM_AUTHORITY) != (r->method == HTTP_M_CONNECT))
		FAIL("authority form and CONNECT");
	if ((r->form == HTTP_FORM_ORIGIN || r->form == HTTP_FORM_ABSOLUTE) &&
	    (!r->path.p || !r->path.n || r->path.p[0] != '/'))
		FAIL("path does not start with /");
	if (r->form == HTTP_FORM_ORIGIN && r->target.p[0] != '/')
		FAIL("origin form not starting with /");
	if (r->expect_continue && r->version != 11)
		FAIL("100-continue in 1.0");
	/* http_req_find finds every field, or one of the same name before it. */
	for (unsigned i = 0; i < r->nhdr; i++) {
		char name[64];
		if (r->hdr[i].name.n >= sizeof name)
			continue;
		memcpy(name, r->hdr[i].name.p, r->hdr[i].name.n);
		name[r->hdr[i].name.n] = 0;
		const struct http_hdr *h = http_req_find(r, name);
		if (!h || h < r->hdr || h > &r->hdr[i] || h->name.n != r->hdr[i].name.n)
			FAIL("http_req_find");
	}
	if (http_req_find(r, "no\x01such") != NULL)
		FAIL("found a name that cannot be there");
}

/* Parse and check the invariants that hold for any result. */
static int parse(const struct http_limits *lim, const uint8_t *buf, size_t len, struct http_req *r,
		 size_t *head_len)
{
	*head_len = (size_t)-1;
	int rc = http_req_parse(lim, buf, len, r, head_len);
	if (rc == HTTP_OK) {
		if (*head_len == 0 || *head_len > len)
			FAIL("head_len");
		size_t lead = 0; /* RFC 9112 2.2: empty lines before the head */
		while (lead < len && (buf[lead] == '\r' || buf[lead] == '\n'))
			lead++;
		if (*head_len - lead > lim->head)
			FAIL("head longer than its limit");
		check_req(lim, r, buf, *head_len);
	} else if (rc != HTTP_MORE && (!is_status(rc) || !r->why || !http_reason(rc)[0])) {
		FAIL("result");
	}
	return rc;
}

/* ---- chunked bodies ---- */

static uint8_t body_a[1 << 16], body_b[1 << 16], body_c[1 << 16];
static uint8_t data_b[1 << 16], data_c[1 << 16];

struct decoded {
	int rc;
	size_t used, out;
	uint64_t total;
};

/* Decode buf[0..len) in pieces of at most step bytes (0: whole, or the
 * split point first then the rest when split), gathering the data in data. */
static struct decoded decode(uint8_t *buf, size_t len, uint64_t max, size_t split, size_t step,
			     uint8_t *data)
{
	struct http_chunked ch;
	memset(&ch, 0, sizeof ch);
	ch.max = max;
	struct decoded d = {HTTP_MORE, 0, 0, 0};
	size_t pos = 0;
	while (pos < len) {
		size_t piece = len - pos;
		if (step)
			piece = step < piece ? step : piece;
		else if (pos == 0 && split < len)
			piece = split ? split : 1;
		size_t used = (size_t)-1, out = (size_t)-1;
		int rc = http_chunked_decode(&ch, buf + pos, piece, &used, &out);
		d.rc = rc;
		if (rc != HTTP_OK && rc != HTTP_MORE) {
			if (rc != 400 && rc != 413)
				FAIL("chunked result");
			if (!ch.why)
				FAIL("chunked error without a reason");
			return d;
		}
		if (used > piece || out > used)
			FAIL("chunked used/out");
		if (rc == HTTP_MORE && used != piece)
			FAIL("chunked more without taking everything");
		if (data)
			memmove(data + d.out, buf + pos, out);
		d.out += out;
		pos += used;
		d.used = pos;
		if (ch.total != d.out)
			FAIL("chunked total");
		if (max && ch.total > max)
			FAIL("chunked over max");
		if (rc == HTTP_OK)
			break;
	}
	d.total = ch.total;
	return d;
}

static void check_chunked(const uint8_t *body, size_t len, const uint8_t *sel, size_t nsel)
{
	if (len > sizeof body_a)
		len = sizeof body_a;
	uint64_t max = 0;
	if (nsel > 2 && (sel[2] & 1))
		max = sel[2] >> 1;
	size_t split = nsel > 3 ? ((size_t)sel[3] << 8 | (nsel > 4 ? sel[4] : 0)) % (len + 1) : 0;
	memcpy(body_a, body, len);
	memcpy(body_b, body, len);
	memcpy(body_c, body, len);
	struct decoded a = decode(body_a, len, max, len, 0, NULL);
	struct decoded b = decode(body_b, len, max, split, 0, data_b);
	if (a.rc != b.rc)
		FAIL("chunked: whole and split differ in result");
	if (a.rc == HTTP_OK || a.rc == HTTP_MORE) {
		if (a.used != b.used || a.out != b.out || memcmp(body_a, data_b, a.out))
			FAIL("chunked: whole and split differ in data");
	}
	if (len <= 4096) {
		struct decoded c = decode(body_c, len, max, len, 1, data_c);
		if (a.rc != c.rc)
			FAIL("chunked: whole and bytewise differ in result");
		if ((a.rc == HTTP_OK || a.rc == HTTP_MORE) &&
		    (a.used != c.used || a.out != c.out || memcmp(body_a, data_c, a.out)))
			FAIL("chunked: whole and bytewise differ in data");
	}
	/* The data are never more than the body bytes taken. */
	if (a.out > a.used)
		FAIL("chunked: more data than input");
}

/* ---- the header-value functions ---- */

static void check_range(const struct http_req *r, const uint8_t *sel, size_t nsel)
{
	const struct http_hdr *h = http_req_find(r, "Range");
	if (!h)
		return;
	static const uint64_t sizes[] = {0, 1, 2, 10, 500, 10000, UINT64_MAX};
	for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint64_t size = sizes[s];
		struct http_range ranges[16];
		unsigned max = nsel > 5 ? 1 + sel[5] % 16 : 4, n = 0;
		int rc = http_range_parse(h->value.p, h->value.n, size, ranges, max, &n);
		if (rc == 200 || rc == 416)
			continue;
		if (rc != 206)
			FAIL("range result");
		if (!n || n > max)
			FAIL("range count");
		for (unsigned i = 0; i < n; i++) {
			if (ranges[i].first > ranges[i].last || ranges[i].last >= size)
				FAIL("range outside the representation");
			if (n > 2 && i && ranges[i].first <= ranges[i - 1].last)
				FAIL("more than two ranges out of order or overlapping");
		}
	}
}

static void check_dates(const struct http_req *r)
{
	for (unsigned i = 0; i < r->nhdr; i++) {
		uint64_t t;
		if (!http_date_parse(r->hdr[i].value.p, r->hdr[i].value.n, &t))
			continue;
		char out[HTTP_DATE_LEN + 1];
		memset(out, 0, sizeof out);
		http_date_fmt(t, out);
		if (out[HTTP_DATE_LEN] != 0 || strlen(out) != HTTP_DATE_LEN)
			FAIL("formatted date length");
		uint64_t back;
		if (!http_date_parse(out, HTTP_DATE_LEN, &back) || back != t)
			FAIL("date does not round-trip");
	}
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void check_path(const struct http_req *r, const uint8_t *sel, size_t nsel)
{
	static char out[20000], again[20000], re[20001];
	size_t cap = nsel > 6 ? (size_t)sel[6] * 4 : sizeof out;
	if (cap > sizeof out)
		cap = sizeof out;
	int rc = http_path_clean(r->path.p, r->path.n, out, cap);
	if (rc == ATL_EINVAL || rc == ATL_EMSGSIZE)
		return;
	if (rc < 0)
		FAIL("path result");
	size_t n = strlen(out);
	if (n >= cap)
		FAIL("path over its cap");
	if (n && out[0] == '/')
		FAIL("path starts with /");
	/* No empty, "." or ".." segment. */
	const char *seg = out;
	bool has_pct = false;
	for (const char *p = out;; p++) {
		if (*p == '%')
			has_pct = true;
		if (*p == '/' || !*p) {
			size_t sl = (size_t)(p - seg);
			if (*p == '/' && sl == 0)
				FAIL("empty segment");
			if ((sl == 1 && seg[0] == '.') ||
			    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
				FAIL("dot segment left");
			if (!*p)
				break;
			seg = p + 1;
		}
	}
	/* Cleaning a clean path changes nothing (when nothing can be decoded again). */
	if (!has_pct) {
		re[0] = '/';
		memcpy(re + 1, out, n);
		if (http_path_clean(re, n + 1, again, sizeof again) < 0 || strcmp(again, out))
			FAIL("path cleaning is not idempotent");
	}
	/* A bad escape anywhere is refused. */
	for (size_t i = 0; i < r->path.n; i++)
		if (r->path.p[i] == '%' &&
		    (i + 2 >= r->path.n || !is_hex(r->path.p[i + 1]) || !is_hex(r->path.p[i + 2])))
			FAIL("bad escape accepted");
}

static void check_values(const struct http_req *r, const uint8_t *sel, size_t nsel)
{
	check_range(r, sel, nsel);
	static const char etag[] = "\"abc\"";
	static const uint64_t mtimes[] = {0, 784111777, UINT64_MAX / 2};
	for (unsigned i = 0; i < 3; i++) {
		int rc = http_cond_eval(r, etag, sizeof etag - 1, mtimes[i]);
		if (rc != 0 && rc != 304 && rc != 412)
			FAIL("cond result");
		(void)http_if_range(r, etag, sizeof etag - 1, mtimes[i]);
	}
	if (!http_req_find(r, "If-Range") && !http_if_range(r, etag, sizeof etag - 1, 1))
		FAIL("no If-Range but not honoured");
	const struct http_hdr *h = http_req_find(r, "Accept-Encoding");
	if (h) {
		(void)http_accepts(h->value.p, h->value.n, "gzip");
		(void)http_accepts(h->value.p, h->value.n, "br");
	}
	h = http_req_find(r, "Connection");
	if (h) {
		bool close = http_list_has(h->value.p, h->value.n, "close");
		if (close && r->keep_alive)
			FAIL("Connection: close but keep-alive");
	}
	check_dates(r);
	if (r->form == HTTP_FORM_ORIGIN || r->form == HTTP_FORM_ABSOLUTE)
		check_path(r, sel, nsel);
}

/* ---- the target ---- */

static struct http_req reqs[3], pre;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lims[3] = {
	    {.line = 24, .field = 24, .head = 96, .headers = 3},
	    {.line = 256, .field = 128, .head = 1024, .headers = 12},
	};
	http_limits_default(&lims[2]);
	int rc[3];
	size_t hl[3];
	for (int i = 0; i < 3; i++)
		rc[i] = parse(&lims[i], data, size, &reqs[i], &hl[i]);
	/* What smaller limits accept, larger ones accept the same way. */
	for (int i = 0; i < 2; i++) {
		if (rc[i] != HTTP_OK)
			continue;
		if (rc[i + 1] != HTTP_OK || hl[i] != hl[i + 1] ||
		    reqs[i].nhdr != reqs[i + 1].nhdr || reqs[i].chunked != reqs[i + 1].chunked ||
		    reqs[i].content_length != reqs[i + 1].content_length ||
		    reqs[i].keep_alive != reqs[i + 1].keep_alive ||
		    reqs[i].method != reqs[i + 1].method || reqs[i].form != reqs[i + 1].form ||
		    reqs[i].version != reqs[i + 1].version)
			FAIL("a larger limit changed an accepted head");
	}
	/* Deterministic. */
	size_t hl2;
	if (parse(&lims[2], data, size, &pre, &hl2) != rc[2] || (rc[2] == HTTP_OK && hl2 != hl[2]))
		FAIL("not deterministic");
	/* Prefixes: of an accepted head, more; a failing prefix fails the whole. */
	size_t cut = size > 1 ? ((size_t)data[0] << 8 | data[1]) % size : 0;
	int prc = parse(&lims[2], data, cut, &pre, &hl2);
	if (rc[2] == HTTP_OK && cut < hl[2] && prc != HTTP_MORE)
		FAIL("a prefix of an accepted head is not more");
	if (is_status(prc) && !is_status(rc[2]))
		FAIL("a failing prefix made a whole that does not fail");
	if (rc[2] == HTTP_OK) {
		if (parse(&lims[2], data, hl[2] - 1, &pre, &hl2) != HTTP_MORE)
			FAIL("the head less one byte is not more");
		if (parse(&lims[2], data, hl[2], &pre, &hl2) != HTTP_OK || hl2 != hl[2])
			FAIL("the head alone is not the same head");
	}
	for (int i = 0; i < 3; i++) {
		if (rc[i] != HTTP_OK)
			continue;
		struct http_req *r = &reqs[i];
		if (r->chunked)
			check_chunked(data + hl[i], size - hl[i], data, size);
		check_values(r, data, size);
	}
	/* The chunked decoder and the value functions on raw bytes as well. */
	if (size > 1 && data[0] == 'C')
		check_chunked(data + 1, size - 1, data, size);
	if (size > 1 && data[0] == 'V') {
		struct http_range ranges[4];
		unsigned n;
		const char *v = (const char *)data + 1;
		(void)http_range_parse(v, size - 1, 1000, ranges, 4, &n);
		uint64_t t;
		if (http_date_parse(v, size - 1, &t)) {
			char out[HTTP_DATE_LEN + 1];
			uint64_t back;
			http_date_fmt(t, out);
			if (!http_date_parse(out, HTTP_DATE_LEN, &back) || back != t)
				FAIL("raw date does not round-trip");
		}
		(void)http_accepts(v, size - 1, "gzip");
		(void)http_list_has(v, size - 1, "close");
		static char out[4096];
		if (v[0] == '/' && http_path_clean(v, size - 1, out, sizeof out) >= 0 &&
		    strlen(out) >= sizeof out)
			FAIL("raw path over its cap");
	}
	return 0;
}
