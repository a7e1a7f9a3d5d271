/*
 * web - a static web server unikernel: HTTP/1.1 over TLS 1.2/1.3 (port
 * 443) and plain HTTP (port 80: a redirect to HTTPS, or the site itself
 * with http=serve).
 *
 * The site is a POSIX tar archive on the block device "site" (site.c
 * indexes it), or a built-in page; credentials come from the "certs"
 * archive exactly as tlsd's.  Each connection runs in a fiber of its own:
 * the TLS handshake, then requests read into one buffer, parsed by
 * lib/http, answered in order (keep-alive, pipelining), until the client
 * closes, a timeout, an error that spoils the framing, or
 * keepalive-requests.
 *
 * Deadlines are the slowloris defence: a whole request head must arrive
 * within header-timeout of its first byte (408 otherwise), an idle
 * keep-alive connection lives idle-timeout, and every write must make
 * progress within idle-timeout.
 */
#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "dns/tar.h"
#include "http/http.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "tls/tls.h"

#include "../tlsd/default_cred.h"
#include "../tlsd/tlsargs.h"
#include "default_site.h"
#include "site.h"

#define WEB_HTTPS_PORT	  443
#define WEB_HTTP_PORT	  80
#define WEB_CONNS_DEFAULT 64
#define WEB_CONNS_MAX	  4096
#define WEB_BACKLOG	  64
#define WEB_STACK	  (64u << 10) /* BearSSL's signatures run on the fiber's stack */
#define WEB_OUT		  8192	      /* a response head and a small body, written at once */
#define WEB_SITE_MAX	  (1ull << 32)
#define WEB_RANGES_MAX	  16
#define WEB_CLOSE_TIMEOUT (2 * NS_PER_SEC)
#define WEB_LOG_FIELD	  200 /* bytes of a request line, Referer or User-Agent logged */
#define WEB_LOCATION_MAX  2048

enum {
	WEB_S_CONNS,
	WEB_S_REFUSED,
	WEB_S_REQUESTS,
	WEB_S_2XX,
	WEB_S_3XX,
	WEB_S_4XX,
	WEB_S_5XX,
	WEB_S_BYTES,
	WEB_S_HANDSHAKES,
	WEB_S_TLS_FAILURES,
	WEB_S_TIMEOUTS,
	WEB_S_LOG_SUPPRESSED,
	WEB_S_N
};
static const char *const web_stat_names[] = {
    "conns", "refused", "requests",   "s2xx",	      "s3xx",	  "s4xx",
    "s5xx",  "bytes",	"handshakes", "tls_failures", "timeouts", "log_suppressed"};

struct web;

struct web_conn {
	struct web *w;
	struct tcp_conn *tcp; /* NULL: the slot is free */
	struct ip4_ep peer;
	bool tls;
	struct tls_stream *s;
	void *tls_mem; /* tls_stream_size bytes */
	uint8_t *in;   /* request bytes: [0, have) */
	size_t have;
	char *out; /* the response being put together: [0, olen) */
	size_t olen;
	uint64_t body_sent; /* body bytes of the current response, for the log */
	struct http_req req;
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
	size_t stream_size, in_cap;
	unsigned nslots;
	struct web_conn *slots;
	uint64_t stat[WEB_S_N];
	struct counter_group group;
};

static uint64_t wall_sec(void)
{
	return plat_clock_wall() / NS_PER_SEC;
}

static const char *web_date(struct web *w)
{
	uint64_t t = wall_sec();
	if (t != w->date_sec || !w->date[0]) {
		http_date_fmt(t, w->date);
		w->date_sec = t;
	}
	return w->date;
}

static uint64_t deadline_in(struct web *w, uint64_t ns)
{
	return loop_now(w->loop) + ns;
}

/* ---- connection I/O: TLS or plain TCP ---- */

static int conn_read(struct web_conn *c, uint8_t *buf, size_t cap, size_t *n, uint64_t deadline)
{
	if (c->tls)
		return tls_read(c->s, buf, cap, n, deadline);
	return tcp_read(c->tcp, buf, cap, n, deadline);
}

static int conn_write(struct web_conn *c, const void *p, size_t n)
{
	uint64_t deadline = deadline_in(c->w, c->w->idle_ns);
	if (c->tls)
		return tls_write(c->s, p, n, deadline);
	return tcp_write(c->tcp, p, n, NULL, deadline);
}

static int out_flush(struct web_conn *c)
{
	int rc = c->olen ? conn_write(c, c->out, c->olen) : ATL_OK;
	c->olen = 0;
	return rc;
}

/* Append to the response head; an overflow is a programmer error (the
 * head's parts are bounded well below WEB_OUT). */
__attribute__((format(printf, 2, 3))) static void out_printf(struct web_conn *c, const char *fmt,
							     ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(c->out + c->olen, WEB_OUT - c->olen, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0 && (size_t)n < WEB_OUT - c->olen);
	c->olen += (size_t)n;
}

/* Body bytes: into the response buffer when they fit, else written
 * straight from where they are (the archive) after what is buffered. */
static int out_body(struct web_conn *c, const void *p, size_t n)
{
	c->body_sent += n;
	c->w->stat[WEB_S_BYTES] += n;
	if (n <= WEB_OUT - c->olen) {
		memcpy(c->out + c->olen, p, n);
		c->olen += n;
		return ATL_OK;
	}
	int rc = out_flush(c);
	return rc == ATL_OK ? conn_write(c, p, n) : rc;
}

/* ---- the access log (combined log format), rate-limited ---- */

/* A header value for the log: printable ASCII, '"' and '\' escaped. */
static void log_field(char *dst, size_t cap, const struct http_span *v)
{
	size_t o = 0;
	if (!v->p) {
		dst[o++] = '-';
	} else {
		for (size_t i = 0; i < v->n && o + 5 < cap; i++) {
			unsigned char ch = (unsigned char)v->p[i];
			if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f)
				o += (size_t)fmt_snprintf(dst + o, cap - o, "\\x%02x", ch);
			else
				dst[o++] = (char)ch;
		}
	}
	dst[o] = '\0';
}

static bool log_allowed(struct web *w)
{
	uint64_t t = wall_sec();
	if (t != w->log_stamp) {
		w->log_stamp = t;
		w->log_tokens = w->log_rate;
	}
	if (w->log_tokens == 0) {
		w->stat[WEB_S_LOG_SUPPRESSED]++;
		return false;
	}
	w->log_tokens--;
	return true;
}

/* One line per answer; req is NULL when no request line was understood. */
static void web_log(struct web_conn *c, const struct http_req *req, int status)
{
	struct web *w = c->w;
	if (!w->access_log || !log_allowed(w))
		return;
	char a[16], line[WEB_LOG_FIELD * 2], ref[WEB_LOG_FIELD], ua[WEB_LOG_FIELD];
	struct http_span none = {NULL, 0};
	const struct http_hdr *r = req ? http_req_find(req, "referer") : NULL;
	const struct http_hdr *u = req ? http_req_find(req, "user-agent") : NULL;
	if (req) {
		char m[WEB_LOG_FIELD], t[WEB_LOG_FIELD];
		log_field(m, sizeof m, &req->method_s);
		log_field(t, sizeof t, &req->target);
		fmt_snprintf(line, sizeof line, "%s %s HTTP/1.%d", m, t,
			     req->version == 10 ? 0 : 1);
	} else {
		memcpy(line, "-", 2);
	}
	log_field(ref, sizeof ref, r ? &r->value : &none);
	log_field(ua, sizeof ua, u ? &u->value : &none);
	/* [07/Dec/2026:13:00:00 +0000] from the Date form */
	const char *d = web_date(w);
	LOG_INFO(w->loop, "%s - - [%.2s/%.3s/%.4s:%.8s +0000] \"%s\" %d %llu \"%s\" \"%s\"",
		 ip4_fmt(c->peer.addr, a), d + 5, d + 8, d + 12, d + 17, line, status,
		 (unsigned long long)c->body_sent, ref, ua);
}

/* ---- responses ---- */

static void count_status(struct web *w, int status)
{
	w->stat[status >= 500	? WEB_S_5XX
		: status >= 400 ? WEB_S_4XX
		: status >= 300 ? WEB_S_3XX
				: WEB_S_2XX]++;
}

/* Status line and the headers every answer carries. */
static void head_begin(struct web_conn *c, int status, bool keep, unsigned version)
{
	struct web *w = c->w;
	c->body_sent = 0;
	count_status(w, status);
	out_printf(c, "HTTP/1.1 %d %s\r\nServer: atoll\r\nDate: %s\r\n", status,
		   http_reason(status), web_date(w));
	if (c->tls && w->hsts)
		out_printf(c, "Strict-Transport-Security: max-age=%llu\r\n",
			   (unsigned long long)w->hsts);
	if (!keep)
		out_printf(c, "Connection: close\r\n");
	else if (version == 10)
		out_printf(c, "Connection: keep-alive\r\n");
}

/* A short HTML page naming the status. */
static int web_error(struct web_conn *c, const struct http_req *req, int status, bool keep,
		     const char *extra)
{
	char body[256];
	int bl = fmt_snprintf(body, sizeof body,
			      "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
			      "<body><h1>%d %s</h1></body></html>\n",
			      status, http_reason(status), status, http_reason(status));
	head_begin(c, status, keep, req ? req->version : 11);
	out_printf(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n", bl,
		   extra ? extra : "");
	int rc = ATL_OK;
	if (!req || req->method != HTTP_M_HEAD)
		rc = out_body(c, body, (size_t)bl);
	if (rc == ATL_OK)
		rc = out_flush(c);
	web_log(c, req, status);
	return rc;
}

/* The headers that describe the representation (200, 206, 304 alike). */
static void rep_headers(struct web_conn *c, const struct web_file *f, const struct web_file *rep)
{
	char lm[HTTP_DATE_LEN + 1];
	http_date_fmt(rep->mtime, lm);
	out_printf(c, "Last-Modified: %s\r\nETag: %.*s\r\n", lm, (int)rep->elen, rep->etag);
	if (f->cache)
		out_printf(c, "Cache-Control: %s\r\n", f->cache);
	if (f->has_twin)
		out_printf(c, "Vary: Accept-Encoding\r\n");
}

/* The part head of one range in a multipart/byteranges body (RFC 9110 14.6). */
static int part_head(const struct web *w, const struct web_file *f, const struct http_range *r,
		     char *buf, size_t cap)
{
	return fmt_snprintf(
	    buf, cap, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%zu\r\n\r\n",
	    w->boundary, f->type, (unsigned long long)r->first, (unsigned long long)r->last,
	    f->len);
}

static int web_ranges(struct web_conn *c, const struct http_req *req, const struct web_file *f,
		      const struct web_file *rep, const struct http_range *rg, unsigned n,
		      bool keep)
{
	struct web *w = c->w;
	head_begin(c, 206, keep, req->version);
	rep_headers(c, f, rep);
	if (rep != f)
		out_printf(c, "Content-Encoding: %s\r\n", rep == f->br ? "br" : "gzip");
	int rc;
	if (n == 1) {
		uint64_t len = rg[0].last - rg[0].first + 1;
		out_printf(c,
			   "Content-Type: %s\r\nContent-Range: bytes %llu-%llu/%zu\r\n"
			   "Content-Length: %llu\r\nAccept-Ranges: bytes\r\n\r\n",
			   f->type, (unsigned long long)rg[0].first, (unsigned long long)rg[0].last,
			   rep->len, (unsigned long long)len);
		rc = out_body(c, rep->data + rg[0].first, (size_t)len);
	} else {
		char ph[256];
		uint64_t total = 0;
		for (unsigned i = 0; i < n; i++)
			total += (uint64_t)part_head(w, rep, &rg[i], ph, sizeof ph) +
				 (rg[i].last - rg[i].first + 1);
		int tl = fmt_snprintf(ph, sizeof ph, "\r\n--%s--\r\n", w->boundary);
		total += (uint64_t)tl;
		out_printf(c,
			   "Content-Type: multipart/byteranges; boundary=%s\r\n"
			   "Content-Length: %llu\r\nAccept-Ranges: bytes\r\n\r\n",
			   w->boundary, (unsigned long long)total);
		rc = ATL_OK;
		for (unsigned i = 0; i < n && rc == ATL_OK; i++) {
			int hl = part_head(w, rep, &rg[i], ph, sizeof ph);
			rc = out_body(c, ph, (size_t)hl);
			if (rc == ATL_OK)
				rc = out_body(c, rep->data + rg[i].first,
					      (size_t)(rg[i].last - rg[i].first + 1));
		}
		if (rc == ATL_OK) {
			fmt_snprintf(ph, sizeof ph, "\r\n--%s--\r\n", w->boundary);
			rc = out_body(c, ph, (size_t)tl);
		}
	}
	if (rc == ATL_OK)
		rc = out_flush(c);
	web_log(c, req, 206);
	return rc;
}

/* "Location: https://host[:port]<target>" for the plain port's redirect. */
static int web_redirect_https(struct web_conn *c, const struct http_req *req, bool keep)
{
	struct web *w = c->w;
	const char *h = req->host.p;
	size_t hl = req->host.n;
	if (!h || hl == 0)
		return web_error(c, req, 400, false, NULL);
	/* the host without its port; an IPv6 literal keeps its brackets */
	size_t cut = hl;
	for (size_t i = hl; i-- > 0;) {
		if (h[i] == ']')
			break;
		if (h[i] == ':') {
			cut = i;
			break;
		}
	}
	char port[8] = "";
	if (w->tls_port != WEB_HTTPS_PORT)
		fmt_snprintf(port, sizeof port, ":%u", w->tls_port);
	const struct http_span *t = req->form == HTTP_FORM_ABSOLUTE ? &req->path : &req->target;
	if (cut + t->n + 32 > WEB_LOCATION_MAX)
		return web_error(c, req, 414, false, NULL);
	char loc[WEB_LOCATION_MAX + 64];
	fmt_snprintf(loc, sizeof loc, "Location: https://%.*s%s%.*s%s%.*s\r\n", (int)cut, h, port,
		     (int)t->n, t->p, req->form == HTTP_FORM_ABSOLUTE && req->query.p ? "?" : "",
		     req->form == HTTP_FORM_ABSOLUTE && req->query.p ? (int)req->query.n : 0,
		     req->query.p ? req->query.p : "");
	return web_error(c, req, 301, keep, loc);
}

/* The representation to send: a precompressed twin when the client takes it. */
static const struct web_file *pick_rep(const struct http_req *req, const struct web_file *f)
{
	const struct http_hdr *ae = http_req_find(req, "accept-encoding");
	if (!ae || !f->has_twin)
		return f;
	if (f->br && http_accepts(ae->value.p, ae->value.n, "br"))
		return f->br;
	if (f->gz && http_accepts(ae->value.p, ae->value.n, "gzip"))
		return f->gz;
	return f;
}

/* GET or HEAD of a file of the site. */
static int web_file(struct web_conn *c, const struct http_req *req, const struct web_file *f,
		    bool keep)
{
	const struct web_file *rep = pick_rep(req, f);
	int cond = http_cond_eval(req, rep->etag, rep->elen, rep->mtime);
	if (cond == 304) {
		head_begin(c, 304, keep, req->version);
		rep_headers(c, f, rep);
		out_printf(c, "\r\n");
		int rc = out_flush(c);
		web_log(c, req, 304);
		return rc;
	}
	if (cond == 412)
		return web_error(c, req, 412, keep, NULL);
	const struct http_hdr *range = http_req_find(req, "range");
	if (range && req->method == HTTP_M_GET &&
	    http_if_range(req, rep->etag, rep->elen, rep->mtime)) {
		struct http_range rg[WEB_RANGES_MAX];
		unsigned n;
		int r = http_range_parse(range->value.p, range->value.n, rep->len, rg,
					 WEB_RANGES_MAX, &n);
		if (r == 206)
			return web_ranges(c, req, f, rep, rg, n, keep);
		if (r == 416) {
			char cr[64];
			fmt_snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", rep->len);
			return web_error(c, req, 416, keep, cr);
		}
	}
	head_begin(c, 200, keep, req->version);
	rep_headers(c, f, rep);
	if (rep != f)
		out_printf(c, "Content-Encoding: %s\r\n", rep == f->br ? "br" : "gzip");
	out_printf(c, "Content-Type: %s\r\nContent-Length: %zu\r\nAccept-Ranges: bytes\r\n\r\n",
		   f->type, rep->len);
	int rc = ATL_OK;
	if (req->method == HTTP_M_GET)
		rc = out_body(c, rep->data, rep->len);
	if (rc == ATL_OK)
		rc = out_flush(c);
	web_log(c, req, 200);
	return rc;
}

#define WEB_ALLOW "Allow: GET, HEAD, OPTIONS\r\n"

/* The answer to one parsed request whose body has been read. */
static int web_respond(struct web_conn *c, const struct http_req *req, bool keep)
{
	struct web *w = c->w;
	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		break;
	case HTTP_M_OPTIONS:
		head_begin(c, 204, keep, req->version);
		out_printf(c, WEB_ALLOW "\r\n");
		web_log(c, req, 204);
		return out_flush(c);
	default:
		return web_error(c, req, 405, keep, WEB_ALLOW);
	}
	if (!c->tls && !w->serve_plain)
		return web_redirect_https(c, req, keep);
	char path[DNS_TAR_NAME_MAX + 16];
	int rc = http_path_clean(req->path.p, req->path.n, path, DNS_TAR_NAME_MAX + 1);
	if (rc == ATL_EMSGSIZE)
		return web_error(c, req, 414, keep, NULL);
	if (rc != ATL_OK)
		return web_error(c, req, 400, keep, NULL);
	size_t pl = strlen(path);
	if (pl == 0 || path[pl - 1] == '/') {
		memcpy(path + pl, "index.html", sizeof "index.html");
		const struct web_file *f = web_site_find(&w->site, path);
		return f ? web_file(c, req, f, keep) : web_error(c, req, 404, keep, NULL);
	}
	const struct web_file *f = web_site_find(&w->site, path);
	if (f)
		return web_file(c, req, f, keep);
	/* a directory named without its slash: send the client to it */
	memcpy(path + pl, "/index.html", sizeof "/index.html");
	if (!web_site_find(&w->site, path))
		return web_error(c, req, 404, keep, NULL);
	if (req->path.n + req->query.n + 64 > WEB_LOCATION_MAX)
		return web_error(c, req, 414, keep, NULL);
	char loc[WEB_LOCATION_MAX + 64];
	fmt_snprintf(loc, sizeof loc, "Location: %.*s/%s%.*s\r\n", (int)req->path.n, req->path.p,
		     req->query.p ? "?" : "", req->query.p ? (int)req->query.n : 0,
		     req->query.p ? req->query.p : "");
	return web_error(c, req, 301, keep, loc);
}

/* ---- reading requests ---- */

/* Read and drop the request's body.  The head is c->in[0, head_len);
 * on return *next is where the next request starts in c->in.  0, or the
 * status to close with (400, 408, 413), or a negative I/O error. */
static int web_body(struct web_conn *c, const struct http_req *req, size_t head_len, size_t *next)
{
	struct web *w = c->w;
	*next = head_len;
	if (!req->chunked && req->content_length == 0)
		return 0;
	if (!req->chunked && req->content_length > w->max_body)
		return 413;
	if (req->expect_continue && c->have == head_len) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		int rc = conn_write(c, cont, sizeof cont - 1);
		if (rc != ATL_OK)
			return rc;
	}
	uint8_t *buf = c->in + head_len;
	size_t cap = w->in_cap - head_len;
	size_t got = c->have - head_len; /* body bytes already in buf */
	uint64_t left = req->content_length;
	struct http_chunked ch = {.max = w->max_body};
	for (;;) {
		if (req->chunked) {
			size_t used, out;
			int r = http_chunked_decode(&ch, buf, got, &used, &out);
			if (r == HTTP_OK) {
				/* what follows the body: the next request */
				memmove(buf, buf + used, got - used);
				c->have = head_len + got - used;
				return 0;
			}
			if (r != HTTP_MORE)
				return r;
			got = 0;
		} else {
			size_t k = got < left ? got : (size_t)left;
			left -= k;
			if (left == 0) {
				memmove(buf, buf + k, got - k);
				c->have = head_len + got - k;
				return 0;
			}
			got = 0;
		}
		int rc = conn_read(c, buf, cap, &got, deadline_in(w, w->header_ns));
		if (rc == ATL_ETIMEDOUT) {
			w->stat[WEB_S_TIMEOUTS]++;
			return 408;
		}
		if (rc != ATL_OK)
			return rc;
		if (got == 0)
			return ATL_ECONNRESET; /* the client went away mid-body */
	}
}

/* Requests on one connection until it ends. */
static void web_http(struct web_conn *c)
{
	struct web *w = c->w;
	struct loop *l = w->loop;
	struct http_req *req = &c->req;
	c->have = 0;
	for (uint64_t nreq = 0;; nreq++) {
		/* idle until a first byte (a new connection: header-timeout),
		 * then header-timeout for the whole head */
		uint64_t deadline = deadline_in(w, nreq && !c->have ? w->idle_ns : w->header_ns);
		bool started = c->have > 0;
		size_t head_len = 0;
		int rc;
		for (;;) {
			rc = http_req_parse(&w->lim, c->in, c->have, req, &head_len);
			if (rc != HTTP_MORE)
				break;
			size_t n;
			int e = conn_read(c, c->in + c->have, w->in_cap - c->have, &n, deadline);
			if (e == ATL_ETIMEDOUT && started) {
				w->stat[WEB_S_TIMEOUTS]++;
				web_error(c, NULL, 408, false, NULL);
				return;
			}
			if (e != ATL_OK || n == 0)
				return; /* closed, reset or idle too long: nothing to answer */
			c->have += n;
			if (!started) {
				started = true;
				deadline = deadline_in(w, w->header_ns);
			}
		}
		w->stat[WEB_S_REQUESTS]++;
		if (rc != HTTP_OK) {
			LOG_DEBUG(l, "bad request: %d %s", rc, req->why ? req->why : "");
			web_error(c, NULL, rc, false, NULL);
			return;
		}
		bool keep = req->keep_alive && nreq + 1 < w->keepalive_requests;
		size_t next;
		rc = web_body(c, req, head_len, &next);
		if (rc > 0) {
			web_error(c, req, rc, false, NULL);
			return;
		}
		if (rc < 0)
			return;
		if (web_respond(c, req, keep) != ATL_OK || !keep)
			return;
		/* a pipelined request may already be here */
		memmove(c->in, c->in + next, c->have - next);
		c->have -= next;
	}
}

/* RFC 9112 9.6: after the last response, close our side and read what
 * the client still sends for a moment, so that our data is not cut by a
 * reset answering unread bytes. */
static void web_lingering_close(struct web_conn *c)
{
	struct web *w = c->w;
	if (c->tls) {
		tls_close(c->s, deadline_in(w, WEB_CLOSE_TIMEOUT));
		return;
	}
	tcp_shutdown(c->tcp);
	uint64_t deadline = deadline_in(w, WEB_CLOSE_TIMEOUT);
	for (;;) {
		size_t n;
		if (tcp_read(c->tcp, c->in, w->in_cap, &n, deadline) != ATL_OK || n == 0)
			break;
	}
	tcp_close(c->tcp);
}

static void web_conn_run(void *arg)
{
	struct web_conn *c = arg;
	struct web *w = c->w;
	struct loop *l = w->loop;
	c->olen = 0;
	if (c->tls) {
		int rc = tls_stream_accept(c->tls_mem, w->stream_size, &w->cfg, c->tcp,
					   deadline_in(w, w->header_ns), &c->s);
		if (rc != ATL_OK) {
			char a[16];
			w->stat[WEB_S_TLS_FAILURES]++;
			struct tls_conn *tc = c->s ? tls_stream_conn(c->s) : NULL;
			bool sent = false;
			int alert = tc ? tls_conn_alert(tc, &sent) : -1;
			LOG_INFO(l, "TLS handshake with %s:%u failed: %s alert=%s reason=%s",
				 ip4_fmt(c->peer.addr, a), c->peer.port, atl_strerror(rc),
				 alert >= 0 ? tls_alert_name(alert) : "none",
				 tc && tls_conn_reason(tc) ? tls_conn_reason(tc) : "none");
			if (c->s)
				tls_close(c->s, TCP_NOWAIT);
			else
				tcp_close(c->tcp);
			c->tcp = NULL;
			return;
		}
		w->stat[WEB_S_HANDSHAKES]++;
	}
	web_http(c);
	web_lingering_close(c);
	c->tcp = NULL; /* the slot is free again */
}

static void web_accept(void *arg)
{
	struct web_port *p = arg;
	struct web *w = p->w;
	for (;;) {
		struct tcp_conn *tcp;
		struct ip4_ep peer;
		int rc = tcp_accept(p->ls, &tcp, &peer, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		w->stat[WEB_S_CONNS]++;
		struct web_conn *c = NULL;
		for (unsigned i = 0; i < w->nslots && !c; i++)
			if (!w->slots[i].tcp)
				c = &w->slots[i];
		if (!c || !fiber_spawn(w->loop, p->tls ? "web-https" : "web-http", web_conn_run, c,
				       WEB_STACK)) {
			w->stat[WEB_S_REFUSED]++;
			tcp_close(tcp);
			continue;
		}
		tcp_setopt(tcp, TCP_OPT_NODELAY, 1);
		c->tcp = tcp;
		c->peer = peer;
		c->tls = p->tls;
		c->s = NULL;
	}
}

/* ---- start-up ---- */

/* A ustar header for a member of name and len bytes. */
static void tar_header(uint8_t h[512], const char *name, size_t len, uint64_t mtime)
{
	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	fmt_snprintf((char *)h + 100, 8, "%07o", 0644);
	fmt_snprintf((char *)h + 108, 8, "%07o", 0);
	fmt_snprintf((char *)h + 116, 8, "%07o", 0);
	fmt_snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
	fmt_snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum += h[i];
	fmt_snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* The built-in site, as an archive in the heap, so that it goes through
 * the same index as a real one. */
static int builtin_archive(struct loop *l, struct rd *out)
{
	static const struct {
		const char *name;
		const char *data;
		size_t len;
	} files[] = {
	    {"index.html", web_default_index, sizeof web_default_index - 1},
	    {"style.css", web_default_css, sizeof web_default_css - 1},
	};
	size_t total = 1024;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		total += 512 + (files[i].len + 511) / 512 * 512;
	uint8_t *ar = heap_alloc(l->heap, total, 16);
	if (!ar)
		return ATL_ENOMEM;
	memset(ar, 0, total);
	size_t o = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		tar_header(ar + o, files[i].name, files[i].len, WEB_DEFAULT_MTIME);
		memcpy(ar + o + 512, files[i].data, files[i].len);
		o += 512 + (files[i].len + 511) / 512 * 512;
	}
	*out = rd_make(ar, total);
	return ATL_OK;
}

static int web_load_site(struct web *w)
{
	struct loop *l = w->loop;
	struct rd ar;
	int rc = tlsargs_read_device(l, "site", WEB_SITE_MAX, &ar);
	bool builtin = rc == ATL_ENOENT;
	if (builtin)
		rc = builtin_archive(l, &ar);
	if (rc != ATL_OK)
		return rc;
	rc = web_site_load(l, l->heap, ar.data, ar.len, &w->site);
	if (rc == ATL_ENOMEM)
		LOG_ERROR(l, "heap too small to index the site");
	if (rc != ATL_OK)
		return rc;
	LOG_INFO(l, "site: %s, %u files (%u skipped), %zu bytes",
		 builtin ? "the built-in page" : "the site archive", w->site.n, w->site.skipped,
		 ar.len);
	return ATL_OK;
}

static int web_configure(struct web *w)
{
	struct loop *l = w->loop;
	uint64_t v, to_h, to_i;
	const char *mode = args_get(l->start, "http");
	if (!mode || !strcmp(mode, "redirect")) {
		w->serve_plain = false;
	} else if (!strcmp(mode, "serve")) {
		w->serve_plain = true;
	} else {
		LOG_ERROR(l, "http=%s: give redirect or serve", mode);
		return ATL_EINVAL;
	}
	if (args_get_u64(l, "hsts", 31536000, 1ull << 32, &w->hsts) != ATL_OK ||
	    args_get_u64(l, "header-timeout", 10, 3600, &to_h) != ATL_OK ||
	    args_get_u64(l, "idle-timeout", 30, 86400, &to_i) != ATL_OK ||
	    args_get_u64(l, "keepalive-requests", 1000, 1ull << 32, &w->keepalive_requests) !=
		ATL_OK ||
	    args_get_u64(l, "max-body", 1u << 20, 1ull << 40, &w->max_body) != ATL_OK ||
	    args_get_u64(l, "access-log", 1, 1, &v) != ATL_OK ||
	    args_get_u64(l, "log-rate", 50, 1000000, &w->log_rate) != ATL_OK)
		return ATL_EINVAL;
	if (to_h == 0 || to_i == 0 || w->keepalive_requests == 0) {
		LOG_ERROR(l, "header-timeout=, idle-timeout= and keepalive-requests= must be >0");
		return ATL_EINVAL;
	}
	w->header_ns = to_h * NS_PER_SEC;
	w->idle_ns = to_i * NS_PER_SEC;
	w->access_log = v != 0;
	http_limits_default(&w->lim);
	uint64_t rnd;
	plat_entropy(&rnd, sizeof rnd);
	fmt_snprintf(w->boundary, sizeof w->boundary, "atoll-byteranges-%016llx",
		     (unsigned long long)rnd);

	tls_config_init(&w->cfg, true);
	w->cfg.loop = l;
	if (tlsargs_apply(l, &w->cfg, &w->targs) != ATL_OK)
		return ATL_EINVAL;
	if (!args_get(l->start, "alpn")) {
		w->cfg.alpn[0] = "http/1.1";
		w->cfg.nalpn = 1;
	}
	plat_entropy(w->cfg.ticket_key, sizeof w->cfg.ticket_key);
	w->cfg.tickets_enabled = true;
	if (tlsargs_load_creds(l, &w->cfg, tlsd_default_cert, sizeof tlsd_default_cert - 1,
			       tlsd_default_key, sizeof tlsd_default_key - 1) != ATL_OK)
		return ATL_EINVAL;
	if (tls_config_check(&w->cfg) != ATL_OK)
		return ATL_EINVAL;
	return web_load_site(w);
}

static int web_listen(struct web *w, struct stack *st, uint64_t port, bool tls)
{
	if (port == 0)
		return ATL_OK;
	struct web_port *p = &w->ports[w->nports];
	struct ip4_ep local = {0, (uint16_t)port};
	int rc = tcp_listen(st, &local, WEB_BACKLOG, &p->ls);
	if (rc != ATL_OK) {
		LOG_ERROR(w->loop, "cannot listen on TCP port %u: %s", (unsigned)port,
			  atl_strerror(rc));
		return rc;
	}
	p->w = w;
	p->tls = tls;
	p->port = (uint16_t)port;
	w->nports++;
	if (!fiber_spawn(w->loop, "web-accept", web_accept, p, 0)) {
		LOG_ERROR(w->loop, "heap too small for a fiber");
		return ATL_ENOMEM;
	}
	return ATL_OK;
}

static int web_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct web *w = heap_alloc(&heap, sizeof *w, 16);
	if (!w) {
		LOG_ERROR(&l, "heap too small");
		return 1;
	}
	memset(w, 0, sizeof *w);
	w->loop = &l;
	uint64_t port, http_port, nconns;
	if (args_get_u64(&l, "port", WEB_HTTPS_PORT, 65535, &port) != ATL_OK ||
	    args_get_u64(&l, "http-port", WEB_HTTP_PORT, 65535, &http_port) != ATL_OK ||
	    args_get_u64(&l, "conns", WEB_CONNS_DEFAULT, WEB_CONNS_MAX, &nconns) != ATL_OK ||
	    nconns == 0 || (port == 0 && http_port == 0))
		return 2;
	w->tls_port = (uint16_t)port;
	if (web_configure(w) != ATL_OK)
		return 2;
	if (port == 0 && !w->serve_plain) {
		LOG_ERROR(&l, "port=0 (no HTTPS) needs http=serve");
		return 2;
	}

	w->stream_size = port ? tls_stream_size(&w->cfg) : 0;
	w->in_cap = w->lim.head + 1024;
	w->nslots = (unsigned)nconns;
	w->slots = heap_alloc(&heap, w->nslots * sizeof *w->slots, 16);
	for (unsigned i = 0; w->slots && i < w->nslots; i++) {
		struct web_conn *c = &w->slots[i];
		memset(c, 0, sizeof *c);
		c->w = w;
		c->tls_mem = w->stream_size ? heap_alloc(&heap, w->stream_size, 16) : NULL;
		c->in = heap_alloc(&heap, w->in_cap, 16);
		c->out = heap_alloc(&heap, WEB_OUT, 16);
		if ((w->stream_size && !c->tls_mem) || !c->in || !c->out) {
			w->slots = NULL;
			break;
		}
	}
	if (!w->slots) {
		LOG_ERROR(&l, "heap too small for %u connections of %zu bytes", w->nslots,
			  w->stream_size + w->in_cap + WEB_OUT + sizeof(struct web_conn));
		return 1;
	}

	struct stack *st;
	int rc = stack_open(&l, "service", &st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	if (web_listen(w, st, port, true) != ATL_OK ||
	    web_listen(w, st, http_port, false) != ATL_OK)
		return 1;
	w->group = (struct counter_group){.name = "web",
					  .names = web_stat_names,
					  .values = w->stat,
					  .n = ARRAY_SIZE(web_stat_names)};
	counters_register(&l, &w->group);
	LOG_INFO(&l,
		 "web on %s stack: HTTPS on TCP port %u, HTTP on %u (%s); %u credential%s, %u "
		 "connections of %zu bytes",
		 st->ops->name, (unsigned)port, (unsigned)http_port,
		 w->serve_plain ? "serving" : "redirecting", w->cfg.ncreds,
		 w->cfg.ncreds == 1 ? "" : "s", w->nslots,
		 w->stream_size + w->in_cap + WEB_OUT + sizeof(struct web_conn));
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	for (unsigned i = 0; i < w->cfg.ncreds; i++)
		tls_cred_wipe(w->cfg.creds[i]);
	return 0;
}

static const struct plat_device_decl web_devices[] = {
    {"service", PLAT_DEV_NET, "the network the web service answers on"},
    {"site", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive of the site (web.conf in it: cache-control rules); "
     "default: a built-in page"},
    {"certs", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive of cert.pem + key.pem, <name>.cert.pem + <name>.key.pem "
     "for SNI (default: a built-in self-signed localhost credential)"},
};

static const struct plat_arg_decl web_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"port", "HTTPS port (default 443; 0: none, with http=serve)"},
    {"http-port", "plain HTTP port (default 80; 0: none)"},
    {"http", "redirect (default): the plain port sends clients to HTTPS; serve: the site "
	     "there too"},
    {"hsts", "Strict-Transport-Security max-age in seconds on HTTPS (default 31536000; 0: "
	     "none)"},
    {"conns", "connections at once, HTTPS and HTTP together (default 64)"},
    {"header-timeout", "seconds for a TLS handshake and for a whole request head (default "
		       "10)"},
    {"idle-timeout", "seconds a keep-alive connection may wait for its next request, and a "
		     "write for progress (default 30)"},
    {"keepalive-requests", "requests per connection (default 1000)"},
    {"max-body", "request body bytes taken (default 1048576; more is 413)"},
    {"access-log", "1: one line per request, combined log format (default); 0: none"},
    {"log-rate", "access log lines per second at most (default 50; the rest are counted)"},
    TLSARGS_DECLS,
    TCP_ARG_DECLS,
};

const struct plat_app web_app = {
    .name = "web",
    .summary = "static web server: HTTP/1.1 over TLS 1.2/1.3, site from a tar archive",
    .devices = web_devices,
    .ndevices = ARRAY_SIZE(web_devices),
    .args = web_args,
    .nargs = ARRAY_SIZE(web_args),
    .main = web_main,
};
