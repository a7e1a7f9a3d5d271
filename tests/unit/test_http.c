/*
 * test_http.c - unit tests of lib/http, written from http.h's contract
 * and the RFCs: the request-head parser (RFC 9112 2.2, 3, 5, 6, 11) with
 * its limits, the chunked decoder (RFC 9112 7.1), byte ranges (RFC 9110
 * 14), preconditions (RFC 9110 13), dates (RFC 9110 5.6.7),
 * Accept-Encoding (RFC 9110 12.5.3), list tokens, path cleaning (RFC 3986
 * 5.2.4) and reason phrases.
 */
#include <stdlib.h>

#include "core/err.h"
#include "http/http.h"
#include "test.h"

/* ---- helpers ---- */

static struct http_req req; /* large: keep it off the stack */

/* Every span of a parsed request lies inside buf[0..len). */
static bool span_inside(struct http_span s, const uint8_t *buf, size_t len)
{
	if (!s.p)
		return s.n == 0;
	const char *b = (const char *)buf;
	return s.p >= b && s.n <= len && (size_t)(s.p - b) <= len - s.n;
}

static bool spans_inside(const struct http_req *r, const uint8_t *buf, size_t len)
{
	bool ok = span_inside(r->method_s, buf, len) && span_inside(r->target, buf, len) &&
		  span_inside(r->query, buf, len) && span_inside(r->host, buf, len);
	/* An absolute-form target without a path may get a static "/". */
	if (!span_inside(r->path, buf, len) &&
	    !(r->path.n == 1 && r->path.p && r->path.p[0] == '/'))
		ok = false;
	for (unsigned i = 0; i < r->nhdr && i < HTTP_HEADERS_CAP; i++)
		ok = ok && span_inside(r->hdr[i].name, buf, len) &&
		     span_inside(r->hdr[i].value, buf, len);
	return ok;
}

/* Parse n bytes of s with limits lim (NULL: the defaults). */
static int parse_lim(const struct http_limits *lim, const char *s, size_t n, size_t *head_len)
{
	struct http_limits d;
	if (!lim) {
		http_limits_default(&d);
		lim = &d;
	}
	size_t hl = (size_t)-1;
	memset(&req, 0xa5, sizeof req);
	int rc = http_req_parse(lim, (const uint8_t *)s, n, &req, &hl);
	if (rc == HTTP_OK) {
		CHECK(hl <= n);
		CHECK(spans_inside(&req, (const uint8_t *)s, n));
		CHECK(req.nhdr <= lim->headers);
	} else if (rc != HTTP_MORE) {
		CHECK(rc >= 400 && rc <= 505);
		CHECK(req.why != NULL);
	}
	if (head_len)
		*head_len = hl;
	return rc;
}

static int parse_n(const char *s, size_t n)
{
	return parse_lim(NULL, s, n, NULL);
}
static int parse(const char *s)
{
	return parse_lim(NULL, s, strlen(s), NULL);
}

/* A whole request must parse to its full length. */
static int parse_whole(const char *s)
{
	size_t hl;
	int rc = parse_lim(NULL, s, strlen(s), &hl);
	if (rc == HTTP_OK)
		CHECK_EQ(hl, strlen(s));
	return rc;
}

static bool span_is(struct http_span s, const char *want)
{
	return s.p && s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static bool hdr_is(const char *name, const char *value)
{
	const struct http_hdr *h = http_req_find(&req, name);
	return h && span_is(h->value, value);
}

/* ---- request line ---- */

TEST(limits_default_values)
{
	struct http_limits l;
	memset(&l, 0, sizeof l);
	http_limits_default(&l);
	CHECK_EQ(l.line, 8192);
	CHECK_EQ(l.field, 8192);
	CHECK_EQ(l.head, 16384);
	CHECK_EQ(l.headers, 64);
	CHECK(l.headers <= HTTP_HEADERS_CAP);
}

TEST(simple_get_fills_every_field)
{
	const char *s = "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\n"
			"User-Agent: t\r\nAccept: */*\r\n\r\n";
	CHECK_EQ(parse_whole(s), HTTP_OK);
	CHECK_EQ(req.method, HTTP_M_GET);
	CHECK(span_is(req.method_s, "GET"));
	CHECK(req.method_s.p == s);
	CHECK(span_is(req.target, "/index.html?a=1&b=2"));
	CHECK_EQ(req.form, HTTP_FORM_ORIGIN);
	CHECK(span_is(req.path, "/index.html"));
	CHECK(span_is(req.query, "a=1&b=2"));
	CHECK(span_is(req.host, "example.com"));
	CHECK_EQ(req.version, 11);
	CHECK(req.keep_alive);
	CHECK(!req.chunked);
	CHECK(!req.expect_continue);
	CHECK_EQ(req.content_length, 0);
	CHECK_EQ(req.nhdr, 3);
	CHECK(span_is(req.hdr[0].name, "Host"));
	CHECK(span_is(req.hdr[0].value, "example.com"));
	CHECK(span_is(req.hdr[1].name, "User-Agent"));
	CHECK(span_is(req.hdr[2].name, "Accept"));
	CHECK(span_is(req.hdr[2].value, "*/*"));
}

TEST(methods_are_mapped_case_sensitively)
{
	static const struct {
		const char *req;
		enum http_method m;
	} t[] = {
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_GET},
	    {"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_HEAD},
	    {"POST / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_POST},
	    {"PUT / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_PUT},
	    {"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_DELETE},
	    {"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", HTTP_M_CONNECT},
	    {"OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OPTIONS},
	    {"TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_TRACE},
	    {"PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_PATCH},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_EQ(parse_whole(t[i].req), HTTP_OK);
		CHECK_EQ(req.method, t[i].m);
	}
	/* RFC 9110 9.1: methods are case-sensitive tokens; an unknown one is 501. */
	CHECK_EQ(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	CHECK_EQ(parse("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	CHECK_EQ(parse("GETX / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	CHECK_EQ(parse("M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	/* Not tokens (RFC 9110 5.6.2): 400. */
	CHECK_EQ(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("G\"T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse(" / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /\r\nHost: a\r\n\r\n"), 400);
}

TEST(request_line_separators_are_single_spaces)
{
	/* RFC 9112 3: request-line = method SP request-target SP HTTP-version. */
	CHECK_EQ(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET  /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	/* RFC 9112 3.2: whitespace inside the target is an invalid request-line. */
	CHECK_EQ(parse("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n"), 400);
}

TEST(versions)
{
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.version, 11);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.version, 10);
	/* RFC 9110 6.2: a later 1.x minor version is served as 1.1. */
	CHECK_EQ(parse_whole("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.version, 11);
	CHECK_EQ(parse_whole("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.version, 11);
	CHECK_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
	CHECK_EQ(parse("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
	/* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
	CHECK_EQ(parse("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/11\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / FTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

TEST(line_endings_and_leading_empty_lines)
{
	/* RFC 9112 2.2: a bare LF may terminate a line. */
	const char *lf = "GET /x HTTP/1.1\nHost: a\nX: y\n\n";
	CHECK_EQ(parse_whole(lf), HTTP_OK);
	CHECK(span_is(req.path, "/x"));
	CHECK(span_is(req.host, "a"));
	CHECK(hdr_is("X", "y"));
	CHECK_EQ(parse_whole("GET /x HTTP/1.1\r\nHost: a\nX: y\r\n\n"), HTTP_OK);
	CHECK(hdr_is("X", "y"));
	CHECK_EQ(parse_whole("GET /x HTTP/1.1\nHost: a\r\n\r\n"), HTTP_OK);
	/* RFC 9112 2.2: a bare CR is invalid. */
	CHECK_EQ(parse("GET /x HTTP/1.1\rHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /x\r HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /x HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /x HTTP/1.1\r\nHost: a\r\nX: ab\r\r\n\r\n"), 400);
	CHECK_EQ(parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\r\n"), 400);
	CHECK_EQ(parse("GET /x HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n"), 400);
	/* RFC 9112 2.2: empty lines before the request line are skipped. */
	const char *lead = "\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n";
	CHECK_EQ(parse_whole(lead), HTTP_OK);
	CHECK(req.method_s.p == lead + 4);
	CHECK(span_is(req.path, "/y"));
	CHECK_EQ(parse_whole("\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.path, "/y"));
	CHECK_EQ(parse("\r\n"), HTTP_MORE);
	CHECK_EQ(parse("\r\n\r\n"), HTTP_MORE);
	CHECK_EQ(parse("\n"), HTTP_MORE);
}

static void every_prefix_is_more_lim(const struct http_limits *lim, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int rc = parse_lim(lim, s, k, NULL);
		if (rc != HTTP_MORE)
			printf("#   prefix %zu of %zu: %d (%s)\n", k, n, rc,
			       rc > 1 && req.why ? req.why : "");
		CHECK_EQ(rc, HTTP_MORE);
	}
	size_t hl;
	CHECK_EQ(parse_lim(lim, s, n, &hl), HTTP_OK);
	CHECK_EQ(hl, n);
}

static void every_prefix_is_more(const char *s)
{
	every_prefix_is_more_lim(NULL, s, strlen(s));
}

TEST(incomplete_heads_are_more)
{
	every_prefix_is_more("GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
			     "Connection: keep-alive\r\nContent-Length: 12\r\n\r\n");
	every_prefix_is_more("\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			     "Expect: 100-continue\r\n\r\n");
	every_prefix_is_more("GET / HTTP/1.0\n\n");
	every_prefix_is_more("GET http://h:8080/p HTTP/1.1\nHost: h:8080\nX:\n\n");
	every_prefix_is_more("OPTIONS * HTTP/1.1\r\nHost: a\r\nEmpty:\r\n\r\n");
	every_prefix_is_more("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
}

TEST(pipelined_requests_and_bodies_follow_the_head)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t hl, hl2;
	CHECK_EQ(parse_lim(NULL, s, strlen(s), &hl), HTTP_OK);
	CHECK_EQ(hl, 28);
	CHECK(span_is(req.path, "/a"));
	CHECK_EQ(parse_lim(NULL, s + hl, strlen(s) - hl, &hl2), HTTP_OK);
	CHECK_EQ(hl2, 28);
	CHECK(span_is(req.path, "/b"));
	const char *p = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
	CHECK_EQ(parse_lim(NULL, p, strlen(p), &hl), HTTP_OK);
	CHECK_EQ(hl, strlen(p) - 8);
	CHECK_EQ(req.content_length, 5);
	CHECK_EQ(req.method, HTTP_M_POST);
}

TEST(request_target_forms)
{
	/* origin-form, RFC 9112 3.2.1 */
	CHECK_EQ(parse_whole("GET /a/b HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.form, HTTP_FORM_ORIGIN);
	CHECK(span_is(req.path, "/a/b"));
	CHECK(req.query.p == NULL);
	CHECK_EQ(parse_whole("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.path, "/a"));
	CHECK(req.query.p != NULL);
	CHECK_EQ(req.query.n, 0);
	CHECK_EQ(parse_whole("GET /?x?y=/z HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.path, "/"));
	CHECK(span_is(req.query, "x?y=/z"));
	CHECK_EQ(parse("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	/* absolute-form, RFC 9112 3.2.2: the host comes from the target. */
	CHECK_EQ(parse_whole("GET http://example.com:8080/p/q?r=s HTTP/1.1\r\n"
			     "Host: other.example\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.form, HTTP_FORM_ABSOLUTE);
	CHECK(span_is(req.target, "http://example.com:8080/p/q?r=s"));
	CHECK(span_is(req.host, "example.com:8080"));
	CHECK(span_is(req.path, "/p/q"));
	CHECK(span_is(req.query, "r=s"));
	CHECK_EQ(parse_whole("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.form, HTTP_FORM_ABSOLUTE);
	CHECK(span_is(req.host, "example.com"));
	CHECK_EQ(req.path.n, 1);
	CHECK(req.path.p && req.path.p[0] == '/');
	CHECK_EQ(parse_whole("GET http://example.com?q HTTP/1.1\r\nHost: example.com\r\n\r\n"),
		 HTTP_OK);
	CHECK(span_is(req.host, "example.com"));
	CHECK(span_is(req.query, "q"));
	CHECK_EQ(parse_whole("GET https://h.example/x HTTP/1.1\r\nHost: h.example\r\n\r\n"),
		 HTTP_OK);
	CHECK(span_is(req.host, "h.example"));
	CHECK(span_is(req.path, "/x"));
	/* HTTP/1.0 needs no Host; the authority is still the host. */
	CHECK_EQ(parse_whole("GET http://h.example/x HTTP/1.0\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.host, "h.example"));
	/* asterisk-form, RFC 9112 3.2.4: OPTIONS only. */
	CHECK_EQ(parse_whole("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.form, HTTP_FORM_ASTERISK);
	CHECK_EQ(req.method, HTTP_M_OPTIONS);
	CHECK(span_is(req.target, "*"));
	CHECK_EQ(parse("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	CHECK_EQ(parse("HEAD * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	/* authority-form, RFC 9112 3.2.3: CONNECT only, and CONNECT only with it. */
	CHECK_EQ(parse_whole("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.form, HTTP_FORM_AUTHORITY);
	CHECK_EQ(req.method, HTTP_M_CONNECT);
	CHECK(span_is(req.target, "example.com:443"));
	CHECK_EQ(parse("GET example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
	CHECK_EQ(parse("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	CHECK_EQ(parse("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	/* authority-form = uri-host ":" port */
	CHECK_EQ(parse("CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
	CHECK_EQ(parse("CONNECT http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
}

/* ---- header fields ---- */

TEST(host_rules)
{
	/* RFC 9112 3.2: 400 for a 1.1 request without Host, or with two. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nX: y\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
	CHECK_EQ(parse("GET http://a/ HTTP/1.1\r\n\r\n"), 400);
	/* RFC 9110 4.2.4: userinfo in an http(s) target is an error (as '@' in Host is). */
	CHECK_EQ(parse("GET http://evil@good.example/ HTTP/1.1\r\nHost: good.example\r\n\r\n"),
		 400);
	/* ... or with an invalid Host value. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
	/* Host optional in 1.0. */
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\n\r\n"), HTTP_OK);
	CHECK(req.host.p == NULL);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\nHost: x.example\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.host, "x.example"));
	/* The name is case-insensitive. */
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nhOST: Mixed.Example\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.host, "Mixed.Example"));
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.host, "[2001:db8::1]:8080"));
}

TEST(field_syntax)
{
	/* RFC 9112 5.1: no whitespace between the name and the colon. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
	/* RFC 9112 5.2: obs-fold is rejected with 400. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), 400);
	/* RFC 9112 2.2: whitespace before the first field line. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
	/* Not a token, no colon, empty name. */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX@Y: b\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400);
	CHECK_EQ(parse_n("GET / HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n", 34), 400);
	/* RFC 9110 5.5: NUL and other CTLs are not field-vchar; HTAB and obs-text are. */
	CHECK_EQ(parse_n("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35), 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01"
		       "b\r\n\r\n"),
		 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f"
		       "b\r\n\r\n"),
		 400);
	CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b"
		       "b\r\n\r\n"),
		 400);
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"), HTTP_OK);
	CHECK(hdr_is("X", "a\tb"));
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"), HTTP_OK);
	CHECK(hdr_is("X", "caf\xc3\xa9"));
	/* A tchar-rich name is fine. */
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nX-!#$%&'*+.^_`|~09az: v\r\n\r\n"),
		 HTTP_OK);
	CHECK(hdr_is("x-!#$%&'*+.^_`|~09AZ", "v"));
}

TEST(field_values_are_trimmed)
{
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nX:   a b \t \r\nY:\r\nZ: \t \r\n"
			     "W:v\r\n\r\n"),
		 HTTP_OK);
	CHECK(hdr_is("X", "a b"));
	const struct http_hdr *h = http_req_find(&req, "Y");
	CHECK(h != NULL);
	CHECK(h && h->value.n == 0);
	h = http_req_find(&req, "Z");
	CHECK(h && h->value.n == 0);
	CHECK(hdr_is("W", "v"));
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost:\ta\t\r\n\r\n"), HTTP_OK);
	CHECK(span_is(req.host, "a"));
}

TEST(find_is_case_insensitive_and_returns_the_first)
{
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nX-Thing: 1\r\nx-thing: 2\r\n"
			     "Accept-Encoding: gzip\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.nhdr, 4);
	CHECK(hdr_is("x-thing", "1"));
	CHECK(hdr_is("X-THING", "1"));
	CHECK(hdr_is("accept-encoding", "gzip"));
	CHECK(http_req_find(&req, "X-Thin") == NULL);
	CHECK(http_req_find(&req, "X-Things") == NULL);
	CHECK(http_req_find(&req, "Missing") == NULL);
	CHECK(http_req_find(&req, "host") == &req.hdr[0]);
}

TEST(content_length)
{
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.content_length, 5);
	CHECK(!req.chunked);
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.content_length, 0);
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 007\r\n\r\n"), HTTP_OK);
	CHECK_EQ(req.content_length, 7);
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.content_length, 1234567890123ll);
	/* RFC 9110 8.6 / RFC 9112 6.3: identical repeats may be accepted as one. */
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.content_length, 5);
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
			     "Content-Length: 5\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(req.content_length, 5);
	/* RFC 9112 6.3 (5): anything else is unrecoverable: 400. */
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		       "Content-Length: 6\r\n\r\n"),
		 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400);
	CHECK_EQ(
	    parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"),
	    400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n"
		       "\r\n"),
		 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 36893488147419103237\r\n"
		       "\r\n"),
		 400); /* 2^65 + 5: wraps to 5 if unchecked */
}

TEST(transfer_encoding_and_smuggling)
{
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
		 HTTP_OK);
	CHECK(req.chunked);
	CHECK_EQ(req.content_length, 0);
	/* RFC 9112 7: coding names are case-insensitive. */
	CHECK_EQ(parse_whole("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:\tChunked \r\n\r\n"),
		 HTTP_OK);
	CHECK(req.chunked);
	/* RFC 9112 6.3 (3): Content-Length and Transfer-Encoding together. */
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n"),
		 400);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		       "Content-Length: 0\r\n\r\n"),
		 400);
	/* RFC 9112 6.1: a coding the server does not know is 501 ... */
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
		 501);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n"),
		 501);
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), 501);
	/* ... and a request whose final coding is not chunked is 400 (6.3 (4)). */
	CHECK_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
		 400);
	int rc = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
	CHECK(rc >= 400);
	rc = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n");
	CHECK(rc >= 400);
	rc = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n");
	CHECK(rc >= 400);
	rc = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n");
	CHECK(rc >= 400);
	/* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing. */
	CHECK_EQ(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
	CHECK_EQ(parse("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(keep_alive)
{
	/* RFC 9112 9.3 */
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_OK);
	CHECK(req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), HTTP_OK);
	CHECK(!req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"),
		 HTTP_OK);
	CHECK(!req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"),
		 HTTP_OK);
	CHECK(req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), HTTP_OK);
	CHECK(req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\n\r\n"), HTTP_OK);
	CHECK(!req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), HTTP_OK);
	CHECK(req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), HTTP_OK);
	CHECK(req.keep_alive);
	CHECK_EQ(parse_whole("GET / HTTP/1.0\r\nConnection: foo\r\n\r\n"), HTTP_OK);
	CHECK(!req.keep_alive);
}

TEST(expect)
{
	CHECK_EQ(parse_whole("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
			     "Expect: 100-continue\r\n\r\n"),
		 HTTP_OK);
	CHECK(req.expect_continue);
	/* RFC 9110 10.1.1: the value is case-insensitive. */
	CHECK_EQ(parse_whole("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
			     "expect: 100-Continue\r\n\r\n"),
		 HTTP_OK);
	CHECK(req.expect_continue);
	CHECK_EQ(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n"), 417);
	CHECK_EQ(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 417);
	/* RFC 9110 10.1.1: 100-continue in an HTTP/1.0 request is ignored. */
	CHECK_EQ(parse_whole("PUT / HTTP/1.0\r\nContent-Length: 3\r\n"
			     "Expect: 100-continue\r\n\r\n"),
		 HTTP_OK);
	CHECK(!req.expect_continue);
}

/* ---- limits ---- */

static char big[40000];

/* "GET /aaa...a HTTP/1.1" of exactly n bytes (n >= 16) into big, then rest. */
static size_t request_line_of(size_t n, const char *rest)
{
	size_t k = 0;
	memcpy(big, "GET /", 5);
	k = 5;
	while (k < n - 9)
		big[k++] = 'a';
	memcpy(big + k, " HTTP/1.1", 9);
	k += 9;
	size_t r = strlen(rest);
	memcpy(big + k, rest, r);
	return k + r;
}

TEST(limit_request_line_414)
{
	struct http_limits lim = {.line = 64, .field = 64, .head = 1024, .headers = 8};
	size_t hl;
	size_t n = request_line_of(64, "\r\nHost: a\r\n\r\n");
	CHECK_EQ(parse_lim(&lim, big, n, &hl), HTTP_OK);
	CHECK_EQ(hl, n);
	/* Its prefixes are incomplete, not too long (the CRLF is not the line's). */
	every_prefix_is_more_lim(&lim, big, n);
	n = request_line_of(64, "\nHost: a\n\n");
	CHECK_EQ(parse_lim(&lim, big, n, &hl), HTTP_OK);
	every_prefix_is_more_lim(&lim, big, n);
	n = request_line_of(65, "\r\nHost: a\r\n\r\n");
	CHECK_EQ(parse_lim(&lim, big, n, &hl), 414);
	/* Over the limit before the line ends: no need to wait for it. */
	n = request_line_of(200, "");
	CHECK_EQ(parse_lim(&lim, big, 65, &hl), 414);
	CHECK_EQ(parse_lim(&lim, big, n, &hl), 414);
	/* At the limit and not ended yet: more. */
	CHECK_EQ(parse_lim(&lim, big, 64, &hl), HTTP_MORE);
	/* The defaults. */
	n = request_line_of(8192, "\r\nHost: a\r\n\r\n");
	CHECK_EQ(parse_lim(NULL, big, n, &hl), HTTP_OK);
	CHECK_EQ(hl, n);
	n = request_line_of(8193, "\r\nHost: a\r\n\r\n");
	CHECK_EQ(parse_lim(NULL, big, n, &hl), 414);
}

/* A request whose one X field line is exactly n bytes ("X: vvv"). */
static size_t field_line_of(size_t n)
{
	const char *pre = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t k = strlen(pre);
	memcpy(big, pre, k);
	for (size_t i = 3; i < n; i++)
		big[k++] = 'v';
	memcpy(big + k, "\r\n\r\n", 4);
	return k + 4;
}

TEST(limit_field_line_431)
{
	struct http_limits lim = {.line = 64, .field = 64, .head = 1024, .headers = 8};
	size_t hl;
	size_t n = field_line_of(64);
	CHECK_EQ(parse_lim(&lim, big, n, &hl), HTTP_OK);
	CHECK_EQ(hl, n);
	CHECK(hdr_is("x", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"));
	every_prefix_is_more_lim(&lim, big, n);
	n = field_line_of(65);
	CHECK_EQ(parse_lim(&lim, big, n, &hl), 431);
	/* Over the limit before the line ends. */
	n = field_line_of(300);
	CHECK_EQ(parse_lim(&lim, big, n - 4, &hl), 431);
	CHECK_EQ(parse_lim(&lim, big, 25 + 65, &hl), 431);
	/* Trailing whitespace counts toward the line. */
	n = field_line_of(60);
	memcpy(big + n - 4, "     \r\n\r\n", 9);
	CHECK_EQ(parse_lim(&lim, big, n + 5, &hl), 431);
	/* The defaults. */
	n = field_line_of(8192);
	CHECK_EQ(parse_lim(NULL, big, n, &hl), HTTP_OK);
	n = field_line_of(8193);
	CHECK_EQ(parse_lim(NULL, big, n, &hl), 431);
}

TEST(limit_head_431)
{
	struct http_limits lim = {.line = 64, .field = 64, .head = 256, .headers = 20};
	/* "GET / HTTP/1.1\r\n" (16) + "Host: a\r\n" (9) + fields + "\r\n" (2). */
	const char *pre = "GET / HTTP/1.1\r\nHost: a\r\n";
	for (size_t want = 255; want <= 257; want++) {
		size_t k = strlen(pre);
		memcpy(big, pre, k);
		size_t left = want - k - 2;
		unsigned i = 0;
		while (left) {
			/* Field lines of 50 bytes + CRLF, the last one what is left. */
			size_t line = left > 52 + 10 ? 50 : left - 2;
			big[k++] = (char)('A' + i++);
			big[k++] = ':';
			for (size_t j = 2; j < line; j++)
				big[k++] = 'v';
			big[k++] = '\r';
			big[k++] = '\n';
			left -= line + 2;
		}
		big[k++] = '\r';
		big[k++] = '\n';
		CHECK_EQ(k, want);
		size_t hl;
		int rc = parse_lim(&lim, big, k, &hl);
		CHECK_EQ(rc, want <= 256 ? HTTP_OK : 431);
		if (rc == HTTP_OK)
			CHECK_EQ(hl, want);
		if (want <= 256)
			every_prefix_is_more_lim(&lim, big, k);
	}
	/* Longer than the head limit before it ends. */
	size_t k = strlen(pre);
	memcpy(big, pre, k);
	for (unsigned i = 0; i < 10; i++)
		k += (size_t)sprintf(big + k, "F%u: 0123456789012345678901234567890123\r\n", i);
	CHECK(k > 256);
	size_t hl;
	CHECK_EQ(parse_lim(&lim, big, k, &hl), 431);
}

TEST(limit_header_count_431)
{
	struct http_limits lim = {.line = 64, .field = 64, .head = 4096, .headers = 4};
	const char *four = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	size_t hl;
	CHECK_EQ(parse_lim(&lim, four, strlen(four), &hl), HTTP_OK);
	CHECK_EQ(req.nhdr, 4);
	const char *five = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
	CHECK_EQ(parse_lim(&lim, five, strlen(five), &hl), 431);
	/* Before the head ends. */
	CHECK_EQ(parse_lim(&lim, five, strlen(five) - 2, &hl), 431);
	/* The defaults: 64 fields are fine, 65 are not. */
	struct http_limits d;
	http_limits_default(&d);
	for (unsigned want = 64; want <= 65; want++) {
		size_t k = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (unsigned i = 1; i < want; i++)
			k += (size_t)sprintf(big + k, "X-%u: %u\r\n", i, i);
		k += (size_t)sprintf(big + k, "\r\n");
		int rc = parse_lim(&d, big, k, &hl);
		CHECK_EQ(rc, want <= 64 ? HTTP_OK : 431);
		if (rc == HTTP_OK)
			CHECK_EQ(req.nhdr, 64);
	}
	/* The compile-time ceiling. */
	d.headers = HTTP_HEADERS_CAP;
	d.head = sizeof big;
	size_t k = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (unsigned i = 1; i < HTTP_HEADERS_CAP; i++)
		k += (size_t)sprintf(big + k, "X-%u: %u\r\n", i, i);
	CHECK_EQ(parse_lim(&d, big, k + (size_t)sprintf(big + k, "\r\n"), &hl), HTTP_OK);
	CHECK_EQ(req.nhdr, HTTP_HEADERS_CAP);
	k += (size_t)sprintf(big + k, "Y: 1\r\n");
	CHECK_EQ(parse_lim(&d, big, k + (size_t)sprintf(big + k, "\r\n"), &hl), 431);
}

/* ---- chunked bodies ---- */

/* Decode s (n bytes) fed in pieces of the sizes sizes() gives; returns
 * the last result, with the data in *data / *dn and input taken in *used. */
static uint32_t rng = 12345;
static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

enum feed { FEED_WHOLE, FEED_BYTES, FEED_RANDOM };

static int decode(const char *s, size_t n, uint64_t max, enum feed how, char *data, size_t *dn,
		  size_t *used)
{
	static uint8_t buf[16384];
	struct http_chunked ch;
	memset(&ch, 0, sizeof ch);
	ch.max = max;
	memcpy(buf, s, n);
	size_t pos = 0;
	*dn = 0;
	*used = 0;
	int rc = HTTP_MORE;
	while (pos < n) {
		size_t piece = n - pos;
		if (how == FEED_BYTES)
			piece = 1;
		else if (how == FEED_RANDOM)
			piece = 1 + rnd() % (piece < 9 ? piece : 9);
		size_t u = (size_t)-1, o = (size_t)-1;
		rc = http_chunked_decode(&ch, buf + pos, piece, &u, &o);
		if (rc != HTTP_OK && rc != HTTP_MORE) {
			CHECK(ch.why != NULL);
			return rc;
		}
		CHECK(u <= piece);
		CHECK(o <= u);
		if (u > piece || o > u)
			return -1;
		if (rc == HTTP_MORE)
			CHECK_EQ(u, piece);
		memcpy(data + *dn, buf + pos, o);
		*dn += o;
		pos += u;
		*used = pos;
		if (rc == HTTP_OK) {
			CHECK_EQ(ch.total, *dn);
			return rc;
		}
	}
	return rc;
}

/* s decodes to want (all three ways) and ends after end bytes. */
static void chunked_ok(const char *s, size_t n, const char *want, size_t end)
{
	for (enum feed f = FEED_WHOLE; f <= FEED_RANDOM; f++) {
		static char data[16384];
		size_t dn, used;
		int rc = decode(s, n, 0, f, data, &dn, &used);
		if (rc != HTTP_OK)
			printf("#   feed %d: %d\n", f, rc);
		CHECK_EQ(rc, HTTP_OK);
		CHECK_EQ(used, end);
		CHECK_EQ(dn, strlen(want));
		CHECK(dn == strlen(want) && memcmp(data, want, dn) == 0);
	}
}

static int chunked_rc(const char *s, uint64_t max)
{
	static char data[16384];
	size_t dn, used;
	int r0 = decode(s, strlen(s), max, FEED_WHOLE, data, &dn, &used);
	int r1 = decode(s, strlen(s), max, FEED_BYTES, data, &dn, &used);
	int r2 = decode(s, strlen(s), max, FEED_RANDOM, data, &dn, &used);
	CHECK_EQ(r0, r1);
	CHECK_EQ(r0, r2);
	return r0;
}

TEST(chunked_simple_extensions_trailers)
{
	const char *s = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	chunked_ok(s, strlen(s), "hello world", strlen(s));
	s = "5;name=value\r\nhello\r\n1;a;b=\"q s\\\"\"\r\n!\r\n0;last\r\n\r\n";
	chunked_ok(s, strlen(s), "hello!", strlen(s));
	s = "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nChecksum: abc\r\n\r\n";
	chunked_ok(s, strlen(s), "abc", strlen(s));
	s = "0\r\n\r\n";
	chunked_ok(s, strlen(s), "", strlen(s));
	s = "0000\r\n\r\n";
	chunked_ok(s, strlen(s), "", strlen(s));
	/* RFC 9112 7.1: chunk-size is hex, either case, leading zeros fine. */
	s = "a\r\n0123456789\r\nA\r\nabcdefghij\r\n1f\r\n0123456789012345678901234567890\r\n"
	    "1F\r\n0123456789012345678901234567890\r\n0005\r\nxyzzy\r\n0\r\n\r\n";
	chunked_ok(s, strlen(s),
		   "0123456789abcdefghij0123456789012345678901234567890"
		   "0123456789012345678901234567890xyzzy",
		   strlen(s));
	/* Data bytes are opaque: CR, LF and NUL inside a chunk. */
	s = "4\r\n\r\n\0\n\r\n0\r\n\r\n";
	static char d[16384];
	size_t dn, used;
	CHECK_EQ(decode(s, 14, 0, FEED_BYTES, d, &dn, &used), HTTP_OK);
	CHECK_EQ(dn, 4);
	CHECK_MEM(d, "\r\n\0\n", 4);
	CHECK_EQ(used, 14);
}

TEST(chunked_leaves_the_next_request)
{
	const char *s = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	chunked_ok(s, strlen(s), "hello", 15);
	s = "2\r\nhi\r\n0\r\nT: x\r\n\r\nPOST";
	chunked_ok(s, strlen(s), "hi", strlen(s) - 4);
	/* Every prefix of a body is more, and takes all it is given. */
	s = "5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n";
	for (size_t k = 1; k < strlen(s); k++) {
		static uint8_t buf[64];
		struct http_chunked ch;
		memset(&ch, 0, sizeof ch);
		memcpy(buf, s, k);
		size_t u, o;
		CHECK_EQ(http_chunked_decode(&ch, buf, k, &u, &o), HTTP_MORE);
		CHECK_EQ(u, k);
	}
}

TEST(chunked_bad_framing_400)
{
	CHECK_EQ(chunked_rc("g\r\nx\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("\r\nx\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("-5\r\nhello\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("0x5\r\nhello\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("+5\r\nhello\r\n0\r\n\r\n", 0), 400);
	/* A size that overflows 64 bits. */
	CHECK_EQ(chunked_rc("10000000000000000\r\nx\r\n", 0), 400);
	CHECK_EQ(chunked_rc("FFFFFFFFFFFFFFFFF\r\nx\r\n", 0), 400);
	CHECK_EQ(chunked_rc("100000000000000005\r\nhello\r\n0\r\n\r\n", 0), 400);
	/* The CRLF after the data is missing or wrong. */
	CHECK_EQ(chunked_rc("5\r\nhelloX\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("5\r\nhello\r0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("5\r\nhello0\r\n\r\n", 0), 400);
	/* RFC 9112 7.1: chunk lines end in CRLF; a lone LF is a missing CRLF
	 * (2.2's leniency is for the start-line and fields, and here it
	 * lets two parsers disagree on where the body ends: RFC 9112 11.2). */
	CHECK_EQ(chunked_rc("5\nhello\r\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("5\r\nhello\n0\r\n\r\n", 0), 400);
	CHECK_EQ(chunked_rc("5;a=b\nhello\r\n0\r\n\r\n", 0), 400);
	/* A bare CR after the size. */
	CHECK_EQ(chunked_rc("5\rhello\r\n0\r\n\r\n", 0), 400);
	/* A line longer than 4096 bytes. */
	static char longx[6000];
	memcpy(longx, "1;", 2);
	memset(longx + 2, 'e', 5000);
	memcpy(longx + 5002, "\r\nx\r\n0\r\n\r\n", 11);
	CHECK_EQ(chunked_rc(longx, 0), 400);
	memcpy(longx, "1\r\nx\r\n0\r\nT: ", 12);
	memset(longx + 12, 't', 5000);
	memcpy(longx + 5012, "\r\n\r\n", 5);
	CHECK_EQ(chunked_rc(longx, 0), 400);
}

TEST(chunked_max_413)
{
	CHECK_EQ(chunked_rc("5\r\nhello\r\n0\r\n\r\n", 5), HTTP_OK);
	CHECK_EQ(chunked_rc("5\r\nhello\r\n0\r\n\r\n", 4), 413);
	CHECK_EQ(chunked_rc("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 6), HTTP_OK);
	CHECK_EQ(chunked_rc("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 5), 413);
	/* A big chunk: refused once its data pass the ceiling. */
	static char s[2100], d[2100];
	size_t dn, used;
	memcpy(s, "ffffff\r\n", 8);
	memset(s + 8, 'x', 2000);
	CHECK_EQ(decode(s, 2008, 1000, FEED_WHOLE, d, &dn, &used), 413);
	CHECK_EQ(decode(s, 2008, 1000, FEED_RANDOM, d, &dn, &used), 413);
	CHECK_EQ(decode(s, 2008, 0, FEED_WHOLE, d, &dn, &used), HTTP_MORE);
	CHECK_EQ(dn, 2000);
	/* A size that makes total + size wrap around 2^64 is still too much. */
	int k = sprintf(s, "5\r\nhello\r\nFFFFFFFFFFFFFFFB\r\n");
	memset(s + k, 'x', 1000);
	CHECK_EQ(decode(s, (size_t)k + 1000, 100, FEED_WHOLE, d, &dn, &used), 413);
	CHECK_EQ(decode(s, (size_t)k + 1000, 100, FEED_BYTES, d, &dn, &used), 413);
}

/* ---- ranges ---- */

static int range(const char *v, uint64_t size, unsigned max, struct http_range *r, unsigned *n)
{
	*n = 12345;
	int rc = http_range_parse(v, strlen(v), size, r, max, n);
	CHECK(rc == 200 || rc == 206 || rc == 416);
	if (rc == 206) {
		CHECK(*n >= 1 && *n <= max);
		for (unsigned i = 0; i < *n && i < max; i++)
			CHECK(r[i].first <= r[i].last && r[i].last < size);
	}
	return rc;
}

static void range1(const char *v, uint64_t size, uint64_t first, uint64_t last)
{
	struct http_range r[8];
	unsigned n;
	CHECK_EQ(range(v, size, 8, r, &n), 206);
	CHECK_EQ(n, 1);
	CHECK_EQ(r[0].first, first);
	CHECK_EQ(r[0].last, last);
}

TEST(ranges_single)
{
	/* RFC 9110 14.1.2's examples against a 10000-byte representation. */
	range1("bytes=0-499", 10000, 0, 499);
	range1("bytes=500-999", 10000, 500, 999);
	range1("bytes=-500", 10000, 9500, 9999);
	range1("bytes=9500-", 10000, 9500, 9999);
	range1("bytes=0-0", 10000, 0, 0);
	range1("bytes=-1", 10000, 9999, 9999);
	range1("bytes=9999-9999", 10000, 9999, 9999);
	range1("bytes=0-", 10000, 0, 9999);
	/* A suffix longer than the representation is all of it. */
	range1("bytes=-20000", 10000, 0, 9999);
	/* A last-pos beyond the end is clipped. */
	range1("bytes=9500-20000", 10000, 9500, 9999);
	/* A huge last-pos is clipped too, or (RFC 9110 14.2: a server MAY ignore
	 * Range) the value is ignored; never anything else. */
	struct http_range r[8];
	unsigned n;
	int rc = range("bytes=0-99999999999999999999999", 10000, 8, r, &n);
	CHECK(rc == 200 || (rc == 206 && n == 1 && r[0].first == 0 && r[0].last == 9999));
	/* RFC 9110 14.1: range units are case-insensitive. */
	range1("Bytes=1-2", 10000, 1, 2);
	range1("BYTES=1-2", 10000, 1, 2);
	range1("bytes=-1", 1, 0, 0);
	range1("bytes=0-5", 1, 0, 0);
}

TEST(ranges_unsatisfiable_416)
{
	struct http_range r[8];
	unsigned n;
	CHECK_EQ(range("bytes=10000-", 10000, 8, r, &n), 416);
	CHECK_EQ(range("bytes=10000-10001", 10000, 8, r, &n), 416);
	CHECK_EQ(range("bytes=20000-30000", 10000, 8, r, &n), 416);
	/* RFC 9110 14.1.2: a suffix-length of zero is unsatisfiable. */
	CHECK_EQ(range("bytes=-0", 10000, 8, r, &n), 416);
	CHECK_EQ(range("bytes=-0, 10000-", 10000, 8, r, &n), 416);
	/* Zero-size representation: nothing can be satisfied. */
	CHECK_EQ(range("bytes=0-", 0, 8, r, &n), 416);
	CHECK_EQ(range("bytes=0-0", 0, 8, r, &n), 416);
	CHECK_EQ(range("bytes=-0", 0, 8, r, &n), 416);
	int rc = range("bytes=-5", 0, 8, r, &n);
	CHECK(rc != 206);
}

TEST(ranges_multiple)
{
	struct http_range r[8];
	unsigned n;
	CHECK_EQ(range("bytes=0-1,5-6", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 2);
	CHECK(r[0].first == 0 && r[0].last == 1 && r[1].first == 5 && r[1].last == 6);
	/* RFC 9110 5.6.1: OWS around the commas. */
	CHECK_EQ(range("bytes=0-1 , 5-6,\t9-9", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 3);
	CHECK(r[2].first == 9 && r[2].last == 9);
	/* RFC 9110 5.6.1.2: empty list elements are ignored. */
	CHECK_EQ(range("bytes=0-1, ,5-6", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 2);
	/* Two in the order asked, even out of order. */
	CHECK_EQ(range("bytes=5-6,0-1", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 2);
	CHECK(r[0].first == 5 && r[1].first == 0);
	/* Mixed: only the satisfiable ones are kept. */
	CHECK_EQ(range("bytes=0-1,20000-30000", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 1);
	CHECK(r[0].first == 0 && r[0].last == 1);
	CHECK_EQ(range("bytes=20000-,-10", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 1);
	CHECK(r[0].first == 9990 && r[0].last == 9999);
	/* More than max: the whole representation. */
	CHECK_EQ(range("bytes=0-1,3-4", 10000, 2, r, &n), 206);
	CHECK_EQ(n, 2);
	CHECK_EQ(range("bytes=0-1,3-4,6-7", 10000, 2, r, &n), 200);
	CHECK_EQ(range("bytes=0-1,3-4,6-7", 10000, 3, r, &n), 206);
	CHECK_EQ(n, 3);
	/* More than two that overlap or are out of order. */
	CHECK_EQ(range("bytes=0-5,3-8,10-12", 10000, 8, r, &n), 200);
	CHECK_EQ(range("bytes=10-12,0-1,5-6", 10000, 8, r, &n), 200);
	CHECK_EQ(range("bytes=0-1,5-6,-10", 10000, 8, r, &n), 206);
	CHECK_EQ(n, 3);
}

TEST(ranges_invalid_are_ignored_200)
{
	static const char *bad[] = {
	    "bytes=abc",    "bytes=",	 "bytes=-",    "bytes=1-2-3", "bytes=5-1", "bytes 0-1",
	    "bytes=0-1;x",  "bytes=a-1", "bytes=1-a",  "bytes=--1",   "bytes0-1",  "=0-1",
	    "bytes= 0-1 x", "",		 "bytes=1 -2", "bytes=0x1-2",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct http_range r[8];
		unsigned n;
		int rc = range(bad[i], 10000, 8, r, &n);
		if (rc != 200)
			printf("#   \"%s\": %d\n", bad[i], rc);
		CHECK_EQ(rc, 200);
	}
	/* RFC 9110 14.2: another unit is ignored. */
	struct http_range r[8];
	unsigned n;
	CHECK_EQ(range("items=0-1", 10000, 8, r, &n), 200);
	CHECK_EQ(range("none", 10000, 8, r, &n), 200);
}

/* ---- preconditions ---- */

#define ETAG	 "\"abc\""
#define MTIME	 784111777ull /* Sun, 06 Nov 1994 08:49:37 GMT */
#define MTIME_S	 "Sun, 06 Nov 1994 08:49:37 GMT"
#define BEFORE_S "Sun, 06 Nov 1994 08:49:36 GMT"
#define AFTER_S	 "Sun, 06 Nov 1994 08:50:00 GMT"

/* Parse a GET with the given extra header lines (each ending in CRLF). */
static void get_with(const char *fields)
{
	static char s[2048];
	snprintf(s, sizeof s, "GET /f HTTP/1.1\r\nHost: a\r\n%s\r\n", fields);
	CHECK_EQ(parse_whole(s), HTTP_OK);
}

static int cond(const char *fields)
{
	get_with(fields);
	return http_cond_eval(&req, ETAG, strlen(ETAG), MTIME);
}

TEST(conditional_if_none_match)
{
	CHECK_EQ(cond(""), 0);
	CHECK_EQ(cond("If-None-Match: \"abc\"\r\n"), 304);
	CHECK_EQ(cond("If-None-Match: \"xyz\"\r\n"), 0);
	CHECK_EQ(cond("If-None-Match: \"ab\"\r\n"), 0);
	CHECK_EQ(cond("If-None-Match: \"abcd\"\r\n"), 0);
	/* RFC 9110 13.1.2: weak comparison. */
	CHECK_EQ(cond("If-None-Match: W/\"abc\"\r\n"), 304);
	CHECK_EQ(cond("If-None-Match: W/\"xyz\"\r\n"), 0);
	CHECK_EQ(cond("If-None-Match: *\r\n"), 304);
	CHECK_EQ(cond("If-None-Match: \"x\", \"abc\"\r\n"), 304);
	CHECK_EQ(cond("If-None-Match: \"x\",W/\"abc\" , \"y\"\r\n"), 304);
	CHECK_EQ(cond("If-None-Match: \"x\", \"y\"\r\n"), 0);
	CHECK_EQ(cond("if-none-match: \"abc\"\r\n"), 304);
	/* Also for HEAD. */
	CHECK_EQ(parse_whole("HEAD / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\"\r\n\r\n"),
		 HTTP_OK);
	CHECK_EQ(http_cond_eval(&req, ETAG, strlen(ETAG), MTIME), 304);
}

TEST(conditional_if_modified_since)
{
	/* RFC 9110 13.1.3: not modified when mtime <= the date. */
	CHECK_EQ(cond("If-Modified-Since: " MTIME_S "\r\n"), 304);
	CHECK_EQ(cond("If-Modified-Since: " AFTER_S "\r\n"), 304);
	CHECK_EQ(cond("If-Modified-Since: " BEFORE_S "\r\n"), 0);
	CHECK_EQ(cond("If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n"), 304);
	CHECK_EQ(cond("If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n"), 304);
	/* An invalid date is ignored. */
	CHECK_EQ(cond("If-Modified-Since: yesterday\r\n"), 0);
	CHECK_EQ(cond("If-Modified-Since: \r\n"), 0);
	/* RFC 9110 13.1.3: ignored when If-None-Match is present. */
	CHECK_EQ(cond("If-None-Match: \"xyz\"\r\nIf-Modified-Since: " AFTER_S "\r\n"), 0);
	CHECK_EQ(cond("If-Modified-Since: " AFTER_S "\r\nIf-None-Match: \"xyz\"\r\n"), 0);
	/* An unknown mtime cannot be compared. */
	get_with("If-Modified-Since: " AFTER_S "\r\n");
	CHECK_EQ(http_cond_eval(&req, ETAG, strlen(ETAG), 0), 0);
}

TEST(conditional_if_match_and_if_unmodified_since)
{
	CHECK_EQ(cond("If-Match: \"abc\"\r\n"), 0);
	CHECK_EQ(cond("If-Match: \"xyz\"\r\n"), 412);
	CHECK_EQ(cond("If-Match: *\r\n"), 0);
	CHECK_EQ(cond("If-Match: \"x\", \"abc\"\r\n"), 0);
	/* RFC 9110 13.1.1: strong comparison; a weak tag never matches. */
	CHECK_EQ(cond("If-Match: W/\"abc\"\r\n"), 412);
	/* RFC 9110 13.1.4 */
	CHECK_EQ(cond("If-Unmodified-Since: " BEFORE_S "\r\n"), 412);
	CHECK_EQ(cond("If-Unmodified-Since: " MTIME_S "\r\n"), 0);
	CHECK_EQ(cond("If-Unmodified-Since: " AFTER_S "\r\n"), 0);
	CHECK_EQ(cond("If-Unmodified-Since: garbage\r\n"), 0);
	/* RFC 9110 13.2.2: If-Unmodified-Since only without If-Match. */
	CHECK_EQ(cond("If-Match: \"abc\"\r\nIf-Unmodified-Since: " BEFORE_S "\r\n"), 0);
	/* ... and If-Match before If-None-Match. */
	CHECK_EQ(cond("If-Match: \"xyz\"\r\nIf-None-Match: \"abc\"\r\n"), 412);
	CHECK_EQ(cond("If-Match: \"abc\"\r\nIf-None-Match: \"abc\"\r\n"), 304);
	CHECK_EQ(cond("If-Unmodified-Since: " BEFORE_S "\r\nIf-None-Match: \"abc\"\r\n"), 412);
	CHECK_EQ(cond("If-Unmodified-Since: " AFTER_S "\r\nIf-Modified-Since: " AFTER_S "\r\n"),
		 304);
}

static bool if_range(const char *fields, uint64_t mtime)
{
	get_with(fields);
	return http_if_range(&req, ETAG, strlen(ETAG), mtime);
}

TEST(conditional_if_range)
{
	CHECK(if_range("", MTIME));
	CHECK(if_range("Range: bytes=0-1\r\n", MTIME));
	CHECK(if_range("If-Range: \"abc\"\r\n", MTIME));
	CHECK(!if_range("If-Range: \"xyz\"\r\n", MTIME));
	/* RFC 9110 13.1.5: a strong match is needed. */
	CHECK(!if_range("If-Range: W/\"abc\"\r\n", MTIME));
	CHECK(if_range("If-Range: " MTIME_S "\r\n", MTIME));
	CHECK(!if_range("If-Range: " AFTER_S "\r\n", MTIME));
	CHECK(!if_range("If-Range: " BEFORE_S "\r\n", MTIME));
	CHECK(!if_range("If-Range: " MTIME_S "\r\n", 0));
	CHECK(!if_range("If-Range: nonsense\r\n", MTIME));
	/* A date on a Wednesday is a date, not a weak tag. */
	CHECK(if_range("If-Range: Wed, 09 Nov 1994 08:49:37 GMT\r\n", MTIME + 3 * 86400));
	CHECK(if_range("If-Range: Wednesday, 09-Nov-94 08:49:37 GMT\r\n", MTIME + 3 * 86400));
	CHECK(if_range("If-Range: Wed Nov  9 08:49:37 1994\r\n", MTIME + 3 * 86400));
}

/* ---- dates ---- */

static bool fmt_is(uint64_t t, const char *want)
{
	char out[HTTP_DATE_LEN + 1];
	memset(out, 'x', sizeof out);
	http_date_fmt(t, out);
	if (strcmp(out, want) != 0) {
		printf("#   %" PRIu64 ": \"%.*s\" != \"%s\"\n", t, HTTP_DATE_LEN + 1, out, want);
		return false;
	}
	return true;
}

static bool parses_to(const char *s, uint64_t want)
{
	uint64_t t = 0xdeadbeef;
	if (!http_date_parse(s, strlen(s), &t)) {
		printf("#   \"%s\" does not parse\n", s);
		return false;
	}
	if (t != want)
		printf("#   \"%s\" -> %" PRIu64 " != %" PRIu64 "\n", s, t, want);
	return t == want;
}

TEST(date_format)
{
	CHECK_EQ(strlen("Sun, 06 Nov 1994 08:49:37 GMT"), HTTP_DATE_LEN);
	CHECK(fmt_is(0, "Thu, 01 Jan 1970 00:00:00 GMT"));
	CHECK(fmt_is(784111777, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CHECK(fmt_is(951782400, "Tue, 29 Feb 2000 00:00:00 GMT"));
	CHECK(fmt_is(1709210096, "Thu, 29 Feb 2024 12:34:56 GMT"));
	CHECK(fmt_is(946684799, "Fri, 31 Dec 1999 23:59:59 GMT"));
	CHECK(fmt_is(2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"));
	CHECK(fmt_is(2147483648ull, "Tue, 19 Jan 2038 03:14:08 GMT"));
	CHECK(fmt_is(4107542399ull, "Sun, 28 Feb 2100 23:59:59 GMT"));
	CHECK(fmt_is(4107542400ull, "Mon, 01 Mar 2100 00:00:00 GMT"));
	CHECK(fmt_is(253402300799ull, "Fri, 31 Dec 9999 23:59:59 GMT"));
}

TEST(date_parse_three_forms)
{
	/* RFC 9110 5.6.7's three examples. */
	CHECK(parses_to("Sun, 06 Nov 1994 08:49:37 GMT", 784111777));
	CHECK(parses_to("Sunday, 06-Nov-94 08:49:37 GMT", 784111777));
	CHECK(parses_to("Sun Nov  6 08:49:37 1994", 784111777));
	CHECK(parses_to("Thu, 01 Jan 1970 00:00:00 GMT", 0));
	CHECK(parses_to("Tue, 29 Feb 2000 00:00:00 GMT", 951782400));
	CHECK(parses_to("Tue, 19 Jan 2038 03:14:08 GMT", 2147483648ull));
	CHECK(parses_to("Mon, 01 Mar 2100 00:00:00 GMT", 4107542400ull));
	CHECK(parses_to("Thursday, 04-Mar-10 05:06:07 GMT", 1267679167));
	CHECK(parses_to("Wed Nov 16 08:49:37 1994", 784111777 + 10 * 86400));
	CHECK(parses_to("Thu Feb 29 12:34:56 2024", 1709210096));
	static const uint64_t ts[] = {0,
				      1,
				      59,
				      86399,
				      86400,
				      784111777,
				      951782400,
				      1709210096,
				      2147483648ull,
				      4107542400ull,
				      4102444799ull};
	for (unsigned i = 0; i < ARRAY_SIZE(ts); i++) {
		char out[HTTP_DATE_LEN + 1];
		http_date_fmt(ts[i], out);
		CHECK(parses_to(out, ts[i]));
	}
	for (uint64_t t = 0; t < 5000000000ull; t += 7777777) {
		char out[HTTP_DATE_LEN + 1];
		uint64_t back = 1;
		http_date_fmt(t, out);
		CHECK(http_date_parse(out, HTTP_DATE_LEN, &back) && back == t);
	}
}

TEST(date_parse_rejects_garbage)
{
	static const char *bad[] = {
	    "",
	    "garbage",
	    "Sun, 06 Nov 1994",
	    "Sun, 06 Nov 1994 08:49",
	    "Sun, 06 Nov 1994 08:49:37",
	    "Sun, 32 Nov 1994 08:49:37 GMT",
	    "Sun, 00 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Foo 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 25:00:00 GMT",
	    "Sun, 06 Nov 1994 08:61:37 GMT",
	    "Sun, 06 Nov 1994 08:49:61 GMT",
	    "Sun, 06 Nov 19x4 08:49:37 GMT",
	    "Sunday, 06-Nov-94 08:49:37",
	    "Sunday, 06-Nov-1994x08:49:37 GMT",
	    "Sun Nov  6 08:49:37",
	    "Wed, 31 Dec 1969 23:59:59 GMT",
	    "1994-11-06T08:49:37Z",
	    "784111777",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t t;
		bool ok = http_date_parse(bad[i], strlen(bad[i]), &t);
		if (ok)
			printf("#   \"%s\" parsed to %" PRIu64 "\n", bad[i], t);
		CHECK(!ok);
	}
	/* The length is honoured: a valid date cut short is not one. */
	uint64_t t;
	CHECK(!http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 28, &t));
}

/* ---- Accept-Encoding, lists ---- */

static bool acc(const char *v, const char *coding)
{
	return http_accepts(v, strlen(v), coding);
}

TEST(accept_encoding)
{
	CHECK(acc("gzip", "gzip"));
	CHECK(acc("gzip, deflate, br", "br"));
	CHECK(!acc("deflate, br", "gzip"));
	CHECK(!acc("", "gzip"));
	CHECK(!acc("x-gzip", "gzip"));
	CHECK(!acc("gzipx", "gzip"));
	CHECK(!acc("gzi", "gzip"));
	/* RFC 9110 12.4.2: q-values; q=0 is "not acceptable". */
	CHECK(acc("gzip;q=1", "gzip"));
	CHECK(acc("gzip;q=1.000", "gzip"));
	CHECK(acc("gzip;q=0.5", "gzip"));
	CHECK(acc("gzip;q=0.001", "gzip"));
	CHECK(acc("gzip ; q=0.001", "gzip"));
	CHECK(!acc("gzip;q=0", "gzip"));
	CHECK(!acc("gzip;q=0.0", "gzip"));
	CHECK(!acc("gzip;q=0.000", "gzip"));
	CHECK(!acc("gzip ;q=0", "gzip"));
	CHECK(!acc("gzip; q=0", "gzip"));
	CHECK(!acc("gzip;Q=0", "gzip")); /* RFC 5234 2.3: "q=" is case-insensitive */
	CHECK(acc("br;q=0, gzip;q=0.8", "gzip"));
	CHECK(!acc("br;q=0, gzip;q=0.8", "br"));
	/* RFC 9110 12.5.3: "*" stands for every coding not listed. */
	CHECK(acc("*", "gzip"));
	CHECK(acc("*;q=0.1", "br"));
	CHECK(!acc("*;q=0", "gzip"));
	CHECK(!acc("gzip;q=0, *", "gzip"));
	CHECK(!acc("*, gzip;q=0", "gzip"));
	CHECK(acc("br;q=0, *", "gzip"));
	CHECK(acc("gzip, *;q=0", "gzip"));
	CHECK(!acc("br, *;q=0", "gzip"));
	/* Codings are case-insensitive; whitespace around list members. */
	CHECK(acc("GZIP", "gzip"));
	CHECK(acc("Gzip;Q=0.5", "gzip"));
	CHECK(acc("  deflate ,\tgzip  ", "gzip"));
	CHECK(acc("deflate,,gzip", "gzip"));
	CHECK(acc("deflate;q=0.5,gzip;q=0.5", "gzip"));
}

static bool has(const char *v, const char *t)
{
	return http_list_has(v, strlen(v), t);
}

TEST(list_has)
{
	CHECK(has("close", "close"));
	CHECK(has("Close", "close"));
	CHECK(has("close", "CLOSE"));
	CHECK(has("keep-alive, close", "close"));
	CHECK(has("keep-alive,close", "close"));
	CHECK(has(" foo ,\tbar ", "bar"));
	CHECK(has(" foo ,\tbar ", "foo"));
	CHECK(has("foo,,bar", "bar"));
	CHECK(has(", close ,", "close"));
	CHECK(!has("", "close"));
	CHECK(!has("closed", "close"));
	CHECK(!has("xclose", "close"));
	CHECK(!has("clos", "close"));
	CHECK(!has("keep-alive, upgrade", "close"));
	CHECK(!has("clo se", "close"));
}

/* ---- path cleaning ---- */

static bool clean_is(const char *p, const char *want)
{
	char out[256];
	memset(out, 'x', sizeof out);
	int rc = http_path_clean(p, strlen(p), out, sizeof out);
	if (rc < 0 || strcmp(out, want) != 0) {
		printf("#   \"%s\": %d \"%.40s\" != \"%s\"\n", p, rc, rc < 0 ? "" : out, want);
		return false;
	}
	return true;
}

static int clean_rc(const char *p)
{
	char out[256];
	return http_path_clean(p, strlen(p), out, sizeof out);
}

TEST(path_clean)
{
	CHECK(clean_is("/", ""));
	CHECK(clean_is("/a", "a"));
	CHECK(clean_is("/a/b", "a/b"));
	CHECK(clean_is("/a/b/", "a/b/"));
	CHECK(clean_is("/a/../b", "b"));
	CHECK(clean_is("/a/./b", "a/b"));
	CHECK(clean_is("//a///b", "a/b"));
	CHECK(clean_is("/./a", "a"));
	CHECK(clean_is("/a/.", "a/"));
	CHECK(clean_is("/a/b/..", "a/"));
	CHECK(clean_is("/a/b/../", "a/"));
	CHECK(clean_is("/a/..", ""));
	CHECK(clean_is("/a/b/../../c", "c"));
	CHECK(clean_is("/a/./", "a/"));
	CHECK(clean_is("/...", "..."));
	CHECK(clean_is("/.a/..b/c..", ".a/..b/c.."));
	CHECK(clean_is("/a+b", "a+b"));
	/* RFC 3986 2.1: percent-decoding, either case of hex. */
	CHECK(clean_is("/%61", "a"));
	CHECK(clean_is("/%4a%4A", "JJ"));
	CHECK(clean_is("/a%20b", "a b"));
	CHECK(clean_is("/%25", "%"));
	CHECK(clean_is("/%2e/a", "a"));
	CHECK(clean_is("/a/%2e%2e", ""));
	/* Climbing above the root, NUL, bad escapes. */
	CHECK_EQ(clean_rc("/.."), ATL_EINVAL);
	CHECK_EQ(clean_rc("/../x"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/a/../../x"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/a/b/../../.."), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%2e%2e/x"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/.%2E/x"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%00"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/a%00b"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%zz"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%4"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%"), ATL_EINVAL);
	CHECK_EQ(clean_rc("/%g1"), ATL_EINVAL);
	/* The length is honoured. */
	char out[16];
	CHECK(http_path_clean("/ab/../..", 5, out, sizeof out) >= 0);
	CHECK(strcmp(out, "ab/") == 0);
	/* Output space: the result and its NUL. */
	CHECK_EQ(http_path_clean("/abc", 4, out, 3), ATL_EMSGSIZE);
	CHECK(http_path_clean("/abc", 4, out, 4) >= 0);
	CHECK(strcmp(out, "abc") == 0);
	CHECK_EQ(http_path_clean("/", 1, out, 0), ATL_EMSGSIZE);
	CHECK(http_path_clean("/", 1, out, 1) >= 0);
	CHECK(strcmp(out, "") == 0);
	/* A segment that ".." removes still has to fit while it is written
	 * (http.h); with room for it, only what is left is the answer. */
	CHECK_EQ(http_path_clean("/aaaaaaaa/../b", 14, out, 2), ATL_EMSGSIZE);
	CHECK(http_path_clean("/aaaaaaaa/../b", 14, out, 16) >= 0);
	CHECK(strcmp(out, "b") == 0);
}

TEST(reason_phrases)
{
	CHECK(strcmp(http_reason(200), "OK") == 0);
	CHECK(strcmp(http_reason(206), "Partial Content") == 0);
	CHECK(strcmp(http_reason(304), "Not Modified") == 0);
	CHECK(strcmp(http_reason(400), "Bad Request") == 0);
	CHECK(strcmp(http_reason(404), "Not Found") == 0);
	CHECK(strcmp(http_reason(412), "Precondition Failed") == 0);
	CHECK(strcmp(http_reason(414), "URI Too Long") == 0);
	CHECK(strcmp(http_reason(416), "Range Not Satisfiable") == 0);
	CHECK(strcmp(http_reason(417), "Expectation Failed") == 0);
	CHECK(strcmp(http_reason(431), "Request Header Fields Too Large") == 0);
	CHECK(strcmp(http_reason(501), "Not Implemented") == 0);
	CHECK(strcmp(http_reason(505), "HTTP Version Not Supported") == 0);
	CHECK(strcmp(http_reason(299), "Unknown") == 0);
	CHECK(strcmp(http_reason(0), "Unknown") == 0);
	CHECK(strcmp(http_reason(-1), "Unknown") == 0);
	CHECK(strcmp(http_reason(1000), "Unknown") == 0);
}

TEST_MAIN(TEST_ENTRY(limits_default_values), TEST_ENTRY(simple_get_fills_every_field),
	  TEST_ENTRY(methods_are_mapped_case_sensitively),
	  TEST_ENTRY(request_line_separators_are_single_spaces), TEST_ENTRY(versions),
	  TEST_ENTRY(line_endings_and_leading_empty_lines), TEST_ENTRY(incomplete_heads_are_more),
	  TEST_ENTRY(pipelined_requests_and_bodies_follow_the_head),
	  TEST_ENTRY(request_target_forms), TEST_ENTRY(host_rules), TEST_ENTRY(field_syntax),
	  TEST_ENTRY(field_values_are_trimmed),
	  TEST_ENTRY(find_is_case_insensitive_and_returns_the_first), TEST_ENTRY(content_length),
	  TEST_ENTRY(transfer_encoding_and_smuggling), TEST_ENTRY(keep_alive), TEST_ENTRY(expect),
	  TEST_ENTRY(limit_request_line_414), TEST_ENTRY(limit_field_line_431),
	  TEST_ENTRY(limit_head_431), TEST_ENTRY(limit_header_count_431),
	  TEST_ENTRY(chunked_simple_extensions_trailers),
	  TEST_ENTRY(chunked_leaves_the_next_request), TEST_ENTRY(chunked_bad_framing_400),
	  TEST_ENTRY(chunked_max_413), TEST_ENTRY(ranges_single),
	  TEST_ENTRY(ranges_unsatisfiable_416), TEST_ENTRY(ranges_multiple),
	  TEST_ENTRY(ranges_invalid_are_ignored_200), TEST_ENTRY(conditional_if_none_match),
	  TEST_ENTRY(conditional_if_modified_since),
	  TEST_ENTRY(conditional_if_match_and_if_unmodified_since),
	  TEST_ENTRY(conditional_if_range), TEST_ENTRY(date_format),
	  TEST_ENTRY(date_parse_three_forms), TEST_ENTRY(date_parse_rejects_garbage),
	  TEST_ENTRY(accept_encoding), TEST_ENTRY(list_has), TEST_ENTRY(path_clean),
	  TEST_ENTRY(reason_phrases))
