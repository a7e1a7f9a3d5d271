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
#include "default_site.h"
#include "web.h"

#define WEB_HTTPS_PORT	  443
#define WEB_HTTP_PORT	  80
#define WEB_CONNS_DEFAULT 64
#define WEB_CONNS_MAX	  4096
#define WEB_BACKLOG	  64
#define WEB_STACK	  (64u << 10) /* BearSSL's signatures run on the fiber's stack */
#define WEB_SITE_MAX	  (1ull << 32)
#define WEB_CLOSE_TIMEOUT (2 * NS_PER_SEC)
#define WEB_BODY_MIN_RATE 1024 /* bytes a second a request body must average */

static const char *const web_stat_names[] = {
    "conns",	"refused",   "requests",  "h2_requests",   "s2xx",	   "s3xx",
    "s4xx",	"s5xx",	     "bytes",	  "handshakes",	   "tls_failures", "timeouts",
    "h2_conns", "h2_resets", "h2_goaway", "log_suppressed"};

/* ---- connection I/O: TLS or plain TCP ---- */

int web_conn_read(struct web_conn *c, uint8_t *buf, size_t cap, size_t *n, uint64_t deadline)
{
	if (c->tls)
		return tls_read(c->s, buf, cap, n, deadline);
	return tcp_read(c->tcp, buf, cap, n, deadline);
}

int web_conn_write(struct web_conn *c, const void *p, size_t n)
{
	uint64_t deadline = web_deadline(c->w, c->w->idle_ns);
	if (c->tls)
		return tls_write(c->s, p, n, deadline);
	return tcp_write(c->tcp, p, n, NULL, deadline);
}

int web_out_flush(struct web_conn *c)
{
	int rc = c->olen ? web_conn_write(c, c->out, c->olen) : ATL_OK;
	c->olen = 0;
	return rc;
}

int web_out_put(struct web_conn *c, const void *p, size_t n)
{
	if (n <= WEB_OUT - c->olen) {
		memcpy(c->out + c->olen, p, n);
		c->olen += n;
		return ATL_OK;
	}
	int rc = web_out_flush(c);
	if (rc != ATL_OK)
		return rc;
	if (n <= WEB_OUT) {
		memcpy(c->out, p, n);
		c->olen = n;
		return ATL_OK;
	}
	return web_conn_write(c, p, n);
}

/* ---- HTTP/1.1 on the wire ---- */

/* The response r to req: status line, its header lines, Connection, the
 * content (or the parts of a multipart/byteranges one). */
static int h1_send(struct web_conn *c, const struct http_req *req, const struct web_resp *r,
		   bool keep)
{
	struct web *w = c->w;
	int n = fmt_snprintf(c->out + c->olen, WEB_OUT - c->olen, "HTTP/1.1 %d %s\r\n", r->status,
			     http_reason(r->status));
	c->olen += (size_t)n;
	int rc = web_out_put(c, r->head, r->hlen);
	const char *conn = !keep		       ? "Connection: close\r\n\r\n"
			   : req && req->version == 10 ? "Connection: keep-alive\r\n\r\n"
						       : "\r\n";
	if (rc == ATL_OK)
		rc = web_out_put(c, conn, strlen(conn));
	if (rc == ATL_OK && !r->no_body) {
		if (r->nranges == 0) {
			rc = web_out_put(c, r->body, r->blen);
		} else {
			char ph[256];
			for (unsigned i = 0; i < r->nranges && rc == ATL_OK; i++) {
				const struct http_range *g = &r->rg[i];
				int hl = web_part_head(w, r->file->type, r->rep, g, ph, sizeof ph);
				rc = web_out_put(c, ph, (size_t)hl);
				if (rc == ATL_OK)
					rc = web_out_put(c, r->rep->data + g->first,
							 (size_t)(g->last - g->first + 1));
			}
			if (rc == ATL_OK) {
				int tl = fmt_snprintf(ph, sizeof ph, "\r\n--%s--\r\n", w->boundary);
				rc = web_out_put(c, ph, (size_t)tl);
			}
		}
		if (rc == ATL_OK)
			w->stat[WEB_S_BYTES] += r->length;
	}
	if (rc == ATL_OK)
		rc = web_out_flush(c);
	web_log(c, req, r->status, r->no_body ? 0 : r->length);
	return rc;
}

static int h1_error(struct web_conn *c, const struct http_req *req, int status)
{
	web_resp_error(c->w, c->tls, req, status, NULL, &c->resp);
	return h1_send(c, req, &c->resp, false);
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
		int rc = web_conn_write(c, cont, sizeof cont - 1);
		if (rc != ATL_OK)
			return rc;
	}
	uint8_t *buf = c->in + head_len;
	size_t cap = w->in_cap - head_len;
	size_t got = c->have - head_len; /* body bytes already in buf */
	uint64_t left = req->content_length;
	struct http_chunked ch = {.max = w->max_body};
	/* A body gets header-timeout= between two reads, and all of it must
	 * come at WEB_BODY_MIN_RATE on average after a first header-timeout=
	 * (as Apache's mod_reqtimeout): a byte dripped now and then does not
	 * hold the connection for ever. */
	uint64_t start = loop_now(w->loop), total = got;
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
		uint64_t due = start + w->header_ns + total * NS_PER_SEC / WEB_BODY_MIN_RATE;
		uint64_t deadline = web_deadline(w, w->header_ns);
		int rc = web_conn_read(c, buf, cap, &got, due < deadline ? due : deadline);
		total += got;
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
	for (uint64_t nreq = 0;; nreq++) {
		/* idle until a first byte (a new connection: header-timeout),
		 * then header-timeout for the whole head */
		uint64_t deadline = web_deadline(w, nreq && !c->have ? w->idle_ns : w->header_ns);
		bool started = c->have > 0;
		size_t head_len = 0;
		int rc;
		for (;;) {
			/* RFC 9113 3.3: HTTP/2 with prior knowledge starts with
			 * its preface, where a request line would be */
			size_t k = c->have < H2_PREFACE_LEN ? c->have : H2_PREFACE_LEN;
			bool h2c = nreq == 0 && w->h2 && c->have && !memcmp(c->in, H2_PREFACE, k);
			if (h2c && c->have >= H2_PREFACE_LEN) {
				web_h2_run(c);
				return;
			}
			rc = h2c ? HTTP_MORE
				 : http_req_parse(&w->lim, c->in, c->have, req, &head_len);
			if (rc != HTTP_MORE)
				break;
			size_t n;
			int e =
			    web_conn_read(c, c->in + c->have, w->in_cap - c->have, &n, deadline);
			if (e == ATL_ETIMEDOUT && started) {
				w->stat[WEB_S_TIMEOUTS]++;
				h1_error(c, NULL, 408);
				return;
			}
			if (e != ATL_OK || n == 0)
				return; /* closed, reset or idle too long: nothing to answer */
			c->have += n;
			if (!started) {
				started = true;
				deadline = web_deadline(w, w->header_ns);
			}
		}
		w->stat[WEB_S_REQUESTS]++;
		if (rc != HTTP_OK) {
			LOG_DEBUG(l, "bad request: %d %s", rc, req->why ? req->why : "");
			h1_error(c, NULL, rc);
			return;
		}
		bool keep = req->keep_alive && nreq + 1 < w->keepalive_requests;
		size_t next;
		rc = web_body(c, req, head_len, &next);
		if (rc > 0) {
			h1_error(c, req, rc);
			return;
		}
		if (rc < 0)
			return;
		web_respond(w, c->tls, req, true, &c->resp);
		if (h1_send(c, req, &c->resp, keep) != ATL_OK || !keep)
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
		tls_close(c->s, web_deadline(w, WEB_CLOSE_TIMEOUT));
		return;
	}
	tcp_shutdown(c->tcp);
	uint64_t deadline = web_deadline(w, WEB_CLOSE_TIMEOUT);
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
					   web_deadline(w, w->header_ns), &c->s);
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
	c->have = 0;
	const char *alpn = c->tls ? tls_conn_alpn(tls_stream_conn(c->s)) : NULL;
	if (alpn && !strcmp(alpn, "h2"))
		web_h2_run(c);
	else
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
		w->cfg.alpn[0] = "h2";
		w->cfg.alpn[1] = "http/1.1";
		w->cfg.nalpn = 2;
	}
	for (unsigned i = 0; i < w->cfg.nalpn; i++)
		w->h2 = w->h2 || !strcmp(w->cfg.alpn[i], "h2");
	plat_entropy(w->cfg.ticket_key, sizeof w->cfg.ticket_key);
	w->cfg.tickets_enabled = true;
	if (tlsargs_load_creds(l, &w->cfg, tlsd_default_cert, sizeof tlsd_default_cert - 1,
			       tlsd_default_key, sizeof tlsd_default_key - 1,
			       args_get(l->start, "acme") != NULL) != ATL_OK)
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
		c->h2 = w->h2 ? heap_alloc(&heap, web_h2_size(), 16) : NULL;
		if ((w->stream_size && !c->tls_mem) || !c->in || !c->out || (w->h2 && !c->h2)) {
			w->slots = NULL;
			break;
		}
	}
	if (!w->slots) {
		LOG_ERROR(&l, "heap too small for %u connections of %zu bytes", w->nslots,
			  w->stream_size + w->in_cap + WEB_OUT + sizeof(struct web_conn) +
			      (w->h2 ? web_h2_size() : 0));
		return 1;
	}

	/* TCP control blocks: one per connection slot, and room for those
	 * still closing (lingering, FIN-WAIT) while new ones come */
	l.tcp_conns_default = w->nslots + w->nslots / 4 + 8;
	struct stack *st;
	int rc = stack_open(&l, "service", &st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	if (web_listen(w, st, port, true) != ATL_OK ||
	    web_listen(w, st, http_port, false) != ATL_OK || web_acme_start(w, st) != ATL_OK)
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
		 w->stream_size + w->in_cap + WEB_OUT + sizeof(struct web_conn) +
		     (w->h2 ? web_h2_size() : 0));
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	for (unsigned i = 0; i < w->cfg.ncreds; i++)
		tls_cred_wipe(w->cfg.creds[i]);
	web_acme_stop(w);
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
    {"acme", "https:// URL of an ACME directory (RFC 8555): certificates for acme-names= "
	     "from it, renewed before they expire (needs acme-ca.pem in the certs archive)"},
    {"acme-names", "DNS names of the ACME certificate, comma-separated (the first is its "
		   "subject)"},
    {"acme-challenge", "http-01 (default: answered on the plain port) or dns-01 (a TSIG "
		       "UPDATE to acme-dns=)"},
    {"acme-server", "address[:port] of the ACME server (default: the URL's host, if an IPv4 "
		    "address)"},
    {"acme-email", "contact address for the ACME account"},
    {"acme-renew-before", "seconds before expiry to renew (default: a third of the "
			  "certificate's lifetime)"},
    {"acme-dns", "dns-01: address[:port] of the DNS server taking the UPDATE (port 53 by "
		 "default)"},
    {"acme-dns-key", "dns-01: the TSIG key (in the certs archive's tsig.key, BIND syntax) "
		     "signing the UPDATE"},
    {"acme-dns-zone", "dns-01: the zone updated (default: the first name's parent)"},
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
