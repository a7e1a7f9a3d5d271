/*
 * web.h - what the web unikernel's files share: the server and its
 * connections (web.c), the responses (resp.c: what to answer, the same
 * for HTTP/1.1 and HTTP/2) and the HTTP/2 connection driver (h2conn.c).
 */
#ifndef ATOLL_APPS_WEB_WEB_H
#define ATOLL_APPS_WEB_WEB_H

#include "core/loop.h"
#include "http/h2.h"
#include "http/http.h"
#include "net/stack.h"
#include "tls/tls.h"

#include "../tlsd/tlsargs.h"
#include "site.h"

#define WEB_OUT		 8192 /* a response head and a small body, written at once */
#define WEB_HEAD_MAX	 2048 /* the header lines of one response */
#define WEB_RANGES_MAX	 16
#define WEB_LOCATION_MAX 1024
#define WEB_ERROR_PAGES	 24

enum {
	WEB_S_CONNS,
	WEB_S_REFUSED,
	WEB_S_REQUESTS,
	WEB_S_H2_REQUESTS,
	WEB_S_2XX,
	WEB_S_3XX,
	WEB_S_4XX,
	WEB_S_5XX,
	WEB_S_BYTES,
	WEB_S_HANDSHAKES,
	WEB_S_TLS_FAILURES,
	WEB_S_TIMEOUTS,
	WEB_S_H2_CONNS,
	WEB_S_H2_RESETS,
	WEB_S_H2_GOAWAY,
	WEB_S_LOG_SUPPRESSED,
	WEB_S_N
};

/* The answer to one request, whichever HTTP carries it. */
struct web_resp {
	int status;
	char head[WEB_HEAD_MAX]; /* header lines, "Name: value\r\n" each (no Connection) */
	size_t hlen;
	const uint8_t *body; /* the content (persistent: the archive or an error page) */
	size_t blen;
	bool no_body; /* HEAD, 204, 304: the head only */
	/* multipart/byteranges (HTTP/1.1 only): these ranges of rep's content */
	unsigned nranges;
	const struct web_file *file, *rep; /* the parts' type is the file's */
	struct http_range rg[WEB_RANGES_MAX];
	uint64_t length; /* the content's length as sent (Content-Length) */
};

struct web_h2;
struct web_acme;

struct web_conn {
	struct web *w;
	struct tcp_conn *tcp; /* NULL: the slot is free */
	struct ip4_ep peer;
	bool tls;
	struct tls_stream *s;
	void *tls_mem;	   /* tls_stream_size bytes */
	struct web_h2 *h2; /* HTTP/2 state, when the server speaks it */
	uint8_t *in;	   /* request bytes: [0, have) */
	size_t have;
	char *out; /* what is being put together to write: [0, olen) */
	size_t olen;
	struct http_req req;
	struct web_resp resp;
};

struct web_port {
	struct web *w;
	struct tcp_listener *ls;
	bool tls;
	uint16_t port;
};

struct web {
	struct loop *loop;
	struct tls_config cfg;
	struct tlsargs targs;
	struct http_limits lim;
	struct web_site site;
	struct web_port ports[2];
	unsigned nports;
	bool serve_plain;  /* http=serve: the site on the plain port too */
	bool h2;	   /* HTTP/2 offered (ALPN h2, and h2c with prior knowledge on plain) */
	uint16_t tls_port; /* for redirects (0: no HTTPS) */
	uint64_t hsts;	   /* max-age, 0: no header */
	uint64_t header_ns, idle_ns;
	uint64_t keepalive_requests, max_body;
	bool access_log;
	uint64_t log_rate;		/* lines per second */
	uint64_t log_tokens, log_stamp; /* token bucket: lines left, second of refill */
	char boundary[40];		/* multipart/byteranges */
	char date[HTTP_DATE_LEN + 1];	/* Date of the current second */
	uint64_t date_sec;
	struct {
		int status;
		size_t len;
		char body[200];
	} errpages[WEB_ERROR_PAGES];
	struct web_acme *acme; /* NULL: no ACME (acme.c) */
	size_t stream_size, in_cap;
	unsigned nslots;
	struct web_conn *slots;
	uint64_t stat[WEB_S_N];
	struct counter_group group;
};

/* resp.c */
void web_respond(struct web *w, bool tls, const struct http_req *req, bool multipart_ok,
		 struct web_resp *r);
void web_resp_error(struct web *w, bool tls, const struct http_req *req, int status,
		    const char *extra, struct web_resp *r);
void web_log(struct web_conn *c, const struct http_req *req, int status, uint64_t bytes);
uint64_t web_deadline(struct web *w, uint64_t ns);
int web_part_head(const struct web *w, const char *type, const struct web_file *rep,
		  const struct http_range *g, char *buf, size_t cap);

/* web.c: connection I/O */
int web_conn_read(struct web_conn *c, uint8_t *buf, size_t cap, size_t *n, uint64_t deadline);
int web_conn_write(struct web_conn *c, const void *p, size_t n);
int web_out_flush(struct web_conn *c);
/* Bytes to write after what is in c->out: copied when they fit, else
 * written straight from where they are. */
int web_out_put(struct web_conn *c, const void *p, size_t n);

/* acme.c: certificates from an ACME server (RFC 8555), when configured.
 * web_acme_start: after the listeners are up (ATL_OK when not configured);
 * web_acme_stop: wipe its keys at exit;
 * web_acme_challenge: the key authorization answering an HTTP-01 token
 * (RFC 8555 8.3), or NULL. */
int web_acme_start(struct web *w, struct stack *st);
void web_acme_stop(struct web *w);
const char *web_acme_challenge(const struct web *w, const char *token, size_t tlen, size_t *len);

/* h2conn.c: an HTTP/2 connection whose preface may already be in c->in */
size_t web_h2_size(void);
void web_h2_run(struct web_conn *c);

#endif
