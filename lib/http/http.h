/*
 * http.h - the HTTP/1.1 server core (RFC 9110 semantics, RFC 9112 syntax).
 *
 * Everything here is a pure function of its inputs: no I/O, no clock, no
 * allocation, no globals.  The caller reads bytes into a buffer of its
 * own and asks the core what they mean; it writes the answer itself.
 *
 *  - http_req_parse: a request head (request line + header section),
 *    with strict limits and the framing rules that keep a server from
 *    being smuggled past (RFC 9112 6.3, 11.2).
 *  - http_chunked_decode: a chunked request body, in place.
 *  - http_range_parse, http_cond_eval, http_if_range: byte ranges and
 *    conditional requests (RFC 9110 13, 14).
 *  - http_date_fmt / http_date_parse, http_accepts, http_path_clean,
 *    http_reason: the small pieces a server needs around them.
 *
 * Strings: what the core returns points into the caller's buffer (spans
 * of pointer + length, not NUL-terminated) and lives as long as it.
 *
 * Results: HTTP_OK (0) for success, HTTP_MORE (1) when the input is a
 * correct prefix and more is needed, and otherwise the HTTP status code
 * (>= 400) the server should answer with before closing the connection;
 * req->why (a static string) says what was wrong, for the log.
 */
#ifndef ATOLL_HTTP_HTTP_H
#define ATOLL_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_OK	  0
#define HTTP_MORE 1

/* Compile-time ceiling of header fields kept per request (struct size);
 * the limit in force is struct http_limits.headers. */
#define HTTP_HEADERS_CAP 100

/* The limits a request head is held to.  http_limits_default gives them
 * their defaults (nginx's, where nginx has one). */
struct http_limits {
	size_t line;	  /* request line, bytes: longer is 414 (default 8192) */
	size_t field;	  /* one header field line, bytes: longer is 431 (default 8192) */
	size_t head;	  /* the whole head, bytes: longer is 431 (default 16384) */
	unsigned headers; /* header fields: more is 431 (default 64, <= HTTP_HEADERS_CAP) */
};
void http_limits_default(struct http_limits *lim);

enum http_method {
	HTTP_M_OTHER, /* a token the server does not know: 501 */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_CONNECT,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
};

struct http_span {
	const char *p; /* NULL: absent */
	size_t n;
};

struct http_hdr {
	struct http_span name, value; /* value without surrounding whitespace */
};

/* Request-target forms (RFC 9112 3.2). */
enum http_form { HTTP_FORM_ORIGIN, HTTP_FORM_ABSOLUTE, HTTP_FORM_ASTERISK, HTTP_FORM_AUTHORITY };

struct http_req {
	enum http_method method;
	struct http_span method_s; /* as sent */
	struct http_span target;   /* as sent */
	enum http_form form;
	struct http_span path;	 /* origin-form part of the target, query excluded ("/" at least) */
	struct http_span query;	 /* after '?', NULL when there is none */
	struct http_span host;	 /* Host, or the authority of an absolute-form target */
	unsigned version;	 /* 10 (HTTP/1.0) or 11 (HTTP/1.1 and later 1.x) */
	bool keep_alive;	 /* the connection may carry another request after this one */
	bool chunked;		 /* the body is chunked (Transfer-Encoding: chunked) */
	bool expect_continue;	 /* Expect: 100-continue */
	uint64_t content_length; /* the body's length when !chunked (0: none) */
	unsigned nhdr;
	struct http_hdr hdr[HTTP_HEADERS_CAP];
	const char *why; /* after an error: what was wrong, for the log */
};

/*
 * Parse the request head at the start of buf[0..len).  HTTP_OK: *req is
 * filled and *head_len is the head's length (the body, if any, and any
 * pipelined request follow it).  HTTP_MORE: no complete head yet, and none
 * of the limits is exceeded (call again with more bytes; re-parsing from
 * the start is cheap next to reading).  Otherwise the status to answer:
 * 400 (syntax, framing, a missing or repeated Host, obs-fold, whitespace
 * before a colon, a bare CR, both Content-Length and Transfer-Encoding),
 * 414, 431, 501 (an unknown method or transfer coding), 505 (HTTP/2+ in
 * an HTTP/1 request line), 417 (an Expect other than 100-continue).
 * Empty lines before the request line are skipped (RFC 9112 2.2).
 */
int http_req_parse(const struct http_limits *lim, const uint8_t *buf, size_t len,
		   struct http_req *req, size_t *head_len);

/* The method a token names (case-sensitive, RFC 9110 9.1); HTTP_M_OTHER if none. */
enum http_method http_method_parse(const char *s, size_t n);

/* The path and query of an origin-form target (or "*") into req: the
 * part HTTP/2's :path shares with HTTP/1.1's request-target.  400 for
 * anything else. */
int http_req_set_target(struct http_req *req, const char *t, size_t n);

/* The first header field called name (ASCII case-insensitive), or NULL. */
const struct http_hdr *http_req_find(const struct http_req *req, const char *name);

/* A chunked body's decoding state (RFC 9112 7.1); zero it to start. */
struct http_chunked {
	unsigned state;
	uint64_t left;	 /* data bytes left in the current chunk */
	size_t line;	 /* bytes of the current size or trailer line */
	size_t trailer;	 /* bytes of the trailer section so far */
	uint64_t total;	 /* data bytes decoded so far */
	uint64_t max;	 /* body ceiling: more is 413 (0: none) */
	bool cr;	 /* the last byte was a CR: an LF must follow */
	bool ext;	 /* past the ";" of a chunk extension */
	const char *why; /* after an error: what was wrong */
};

/*
 * Decode the chunked body bytes in buf[0..len) in place: the data bytes
 * they carry are moved to buf[0..*out).  *used is how many input bytes
 * were taken.  HTTP_MORE: all were taken and the body goes on.  HTTP_OK:
 * the body (and its trailer section, which is discarded) ended after
 * *used bytes; what follows belongs to the next request.  400 for bad
 * framing (a size that is not hex or overflows, a missing CRLF, a chunk
 * extension or trailer line longer than 4096 bytes), 413 when the data
 * exceed ch->max.
 */
int http_chunked_decode(struct http_chunked *ch, uint8_t *buf, size_t len, size_t *used,
			size_t *out);

/* One byte range, first..last inclusive, both < the representation's size. */
struct http_range {
	uint64_t first, last;
};

/*
 * A Range header value against a representation of size bytes (RFC 9110
 * 14.1.2, 14.2).  206: ranges[0..*n) are the satisfiable ranges in the
 * order asked (at least one).  416: none is satisfiable.  200: serve the
 * whole representation, because the value is not a valid "bytes" range
 * set (RFC 9110 14.2: such a Range is ignored), or asks for more than max
 * ranges, or for ranges that overlap or are out of order when there are
 * more than two (RFC 9110 14.2's denial-of-service advice; one response
 * is then cheaper than many small parts).
 */
int http_range_parse(const char *v, size_t vlen, uint64_t size, struct http_range *ranges,
		     unsigned max, unsigned *n);

/*
 * The preconditions of RFC 9110 13.2.2 for a GET or HEAD of a
 * representation with strong entity-tag etag ("\"...\"", quotes
 * included) last modified at mtime (seconds since 1970; 0: unknown):
 * If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in that
 * order.  0: go on; 304 (Not Modified); 412 (Precondition Failed).
 */
int http_cond_eval(const struct http_req *req, const char *etag, size_t elen, uint64_t mtime);

/* If-Range (RFC 9110 13.1.5): true when a Range may be honoured (no
 * If-Range, or it names this representation's etag or exact mtime). */
bool http_if_range(const struct http_req *req, const char *etag, size_t elen, uint64_t mtime);

/* True when an Accept-Encoding value admits coding (e.g. "gzip") with a
 * q-value above 0, by name or by "*" (RFC 9110 12.5.3). */
bool http_accepts(const char *v, size_t vlen, const char *coding);

/* True when a Connection-style list value holds token (ASCII case-insensitive). */
bool http_list_has(const char *v, size_t vlen, const char *token);

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* IMF-fixdate of t (seconds since 1970) into out, NUL-terminated. */
void http_date_fmt(uint64_t t, char out[HTTP_DATE_LEN + 1]);

/* An HTTP-date in any of the three forms of RFC 9110 5.6.7 (IMF-fixdate,
 * RFC 850, asctime); false when it is none of them. */
bool http_date_parse(const char *s, size_t n, uint64_t *t);

/*
 * The path of a request (req->path) as a file name: percent-decoded
 * (RFC 3986 2.1), dot segments removed (RFC 3986 5.2.4), runs of '/'
 * merged, into out without the leading '/' and NUL-terminated ("" for
 * the root; a trailing '/' is kept).  ATL_EINVAL for a path that climbs
 * above the root, has a bad escape or decodes to a NUL, '/' or '\' (an
 * escaped separator would name another file than it seems to);
 * ATL_EMSGSIZE when it does not fit in cap bytes (segments that ".."
 * removes count while they are written).
 */
int http_path_clean(const char *path, size_t n, char *out, size_t cap);

/* The reason phrase of a status code ("Not Found"); "Unknown" if none. */
const char *http_reason(int status);

#endif
