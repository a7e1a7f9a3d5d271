/*
 * resp.c - what the web unikernel answers to a request: the status, the
 * header lines and the content, decided once for HTTP/1.1 and HTTP/2
 * alike (web.c and h2conn.c each put them on the wire their own way).
 * The access log is here too, since it is one line per answer.
 */
#include <string.h>

#include "core/err.h"
#include "core/fmt.h"
#include "core/log.h"
#include "dns/tar.h"

#include "web.h"

#define WEB_LOG_FIELD 200 /* bytes of a request line, Referer or User-Agent logged */
#define WEB_ALLOW     "Allow: GET, HEAD, OPTIONS\r\n"

uint64_t web_deadline(struct web *w, uint64_t ns)
{
	return loop_now(w->loop) + ns;
}

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
void web_log(struct web_conn *c, const struct http_req *req, int status, uint64_t bytes)
{
	struct web *w = c->w;
	w->stat[status >= 500	? WEB_S_5XX
		: status >= 400 ? WEB_S_4XX
		: status >= 300 ? WEB_S_3XX
				: WEB_S_2XX]++;
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
		fmt_snprintf(line, sizeof line, "%s %s HTTP/%s", m, t,
			     req->version == 10	  ? "1.0"
			     : req->version == 20 ? "2.0"
						  : "1.1");
	} else {
		memcpy(line, "-", 2);
	}
	log_field(ref, sizeof ref, r ? &r->value : &none);
	log_field(ua, sizeof ua, u ? &u->value : &none);
	/* [07/Dec/2026:13:00:00 +0000] from the Date form */
	const char *d = web_date(w);
	LOG_INFO(w->loop, "%s - - [%.2s/%.3s/%.4s:%.8s +0000] \"%s\" %d %llu \"%s\" \"%s\"",
		 ip4_fmt(c->peer.addr, a), d + 5, d + 8, d + 12, d + 17, line, status,
		 (unsigned long long)bytes, ref, ua);
}

/* ---- building a response ---- */

__attribute__((format(printf, 2, 3))) static void head_printf(struct web_resp *r, const char *fmt,
							      ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(r->head + r->hlen, WEB_HEAD_MAX - r->hlen, fmt, ap);
	va_end(ap);
	/* every line's parts are bounded well below WEB_HEAD_MAX */
	ASSERT(n >= 0 && (size_t)n < WEB_HEAD_MAX - r->hlen);
	r->hlen += (size_t)n;
}

/* The header lines every answer carries. */
static void resp_begin(struct web *w, bool tls, int status, struct web_resp *r)
{
	r->status = status;
	r->hlen = 0;
	r->body = NULL;
	r->blen = 0;
	r->no_body = false;
	r->nranges = 0;
	r->rep = NULL;
	r->length = 0;
	head_printf(r, "Server: atoll\r\nDate: %s\r\n", web_date(w));
	if (tls && w->hsts)
		head_printf(r, "Strict-Transport-Security: max-age=%llu\r\n",
			    (unsigned long long)w->hsts);
}

/* The short HTML page naming a status, made once per status. */
static const char *error_page(struct web *w, int status, size_t *len)
{
	unsigned i = 0;
	for (; i < WEB_ERROR_PAGES && w->errpages[i].status; i++)
		if (w->errpages[i].status == status)
			break;
	if (i == WEB_ERROR_PAGES)
		i = WEB_ERROR_PAGES - 1; /* more statuses than pages: reuse the last */
	if (w->errpages[i].status != status) {
		w->errpages[i].status = status;
		int n = fmt_snprintf(w->errpages[i].body, sizeof w->errpages[i].body,
				     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
				     "<body><h1>%d %s</h1></body></html>\n",
				     status, http_reason(status), status, http_reason(status));
		w->errpages[i].len = (size_t)n;
	}
	*len = w->errpages[i].len;
	return w->errpages[i].body;
}

void web_resp_error(struct web *w, bool tls, const struct http_req *req, int status,
		    const char *extra, struct web_resp *r)
{
	resp_begin(w, tls, status, r);
	size_t bl;
	const char *body = error_page(w, status, &bl);
	head_printf(r, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n%s", bl,
		    extra ? extra : "");
	r->body = (const uint8_t *)body;
	r->blen = bl;
	r->length = bl;
	r->no_body = req && req->method == HTTP_M_HEAD;
}

/* The headers that describe the representation (200, 206, 304 alike). */
static void rep_headers(struct web_resp *r, const struct web_file *f, const struct web_file *rep)
{
	char lm[HTTP_DATE_LEN + 1];
	http_date_fmt(rep->mtime, lm);
	head_printf(r, "Last-Modified: %s\r\nETag: %.*s\r\n", lm, (int)rep->elen, rep->etag);
	if (f->cache)
		head_printf(r, "Cache-Control: %s\r\n", f->cache);
	if (f->has_twin)
		head_printf(r, "Vary: Accept-Encoding\r\n");
	if (rep != f)
		head_printf(r, "Content-Encoding: %s\r\n", rep == f->br ? "br" : "gzip");
}

/* The part head of one range in a multipart/byteranges body (RFC 9110 14.6). */
int web_part_head(const struct web *w, const char *type, const struct web_file *rep,
		  const struct http_range *g, char *buf, size_t cap)
{
	return fmt_snprintf(
	    buf, cap, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%zu\r\n\r\n",
	    w->boundary, type, (unsigned long long)g->first, (unsigned long long)g->last, rep->len);
}

static void resp_ranges(struct web *w, bool tls, const struct web_file *f,
			const struct web_file *rep, const struct http_range *rg, unsigned n,
			struct web_resp *r)
{
	resp_begin(w, tls, 206, r);
	rep_headers(r, f, rep);
	if (n == 1) {
		uint64_t len = rg[0].last - rg[0].first + 1;
		head_printf(r,
			    "Content-Type: %s\r\nContent-Range: bytes %llu-%llu/%zu\r\n"
			    "Content-Length: %llu\r\nAccept-Ranges: bytes\r\n",
			    f->type, (unsigned long long)rg[0].first,
			    (unsigned long long)rg[0].last, rep->len, (unsigned long long)len);
		r->body = rep->data + rg[0].first;
		r->blen = (size_t)len;
		r->length = len;
		return;
	}
	char ph[256];
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += (uint64_t)web_part_head(w, f->type, rep, &rg[i], ph, sizeof ph) +
			 (rg[i].last - rg[i].first + 1);
	total += (uint64_t)fmt_snprintf(ph, sizeof ph, "\r\n--%s--\r\n", w->boundary);
	head_printf(r,
		    "Content-Type: multipart/byteranges; boundary=%s\r\n"
		    "Content-Length: %llu\r\nAccept-Ranges: bytes\r\n",
		    w->boundary, (unsigned long long)total);
	r->file = f;
	r->rep = rep;
	r->nranges = n;
	memcpy(r->rg, rg, n * sizeof *rg);
	r->length = total;
}

/* "Location: https://host[:port]<target>" for the plain port's redirect. */
static void resp_redirect_https(struct web *w, const struct http_req *req, struct web_resp *r)
{
	const char *h = req->host.p;
	size_t hl = req->host.n;
	if (!h || hl == 0) {
		web_resp_error(w, false, req, 400, NULL, r);
		return;
	}
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
	if (w->tls_port != 443)
		fmt_snprintf(port, sizeof port, ":%u", w->tls_port);
	const struct http_span *t = req->form == HTTP_FORM_ABSOLUTE ? &req->path : &req->target;
	bool q = req->form == HTTP_FORM_ABSOLUTE && req->query.p;
	if (cut + t->n + req->query.n + 32 > WEB_LOCATION_MAX) {
		web_resp_error(w, false, req, 414, NULL, r);
		return;
	}
	char loc[WEB_LOCATION_MAX + 64];
	fmt_snprintf(loc, sizeof loc, "Location: https://%.*s%s%.*s%s%.*s\r\n", (int)cut, h, port,
		     (int)t->n, t->p, q ? "?" : "", q ? (int)req->query.n : 0,
		     q ? req->query.p : "");
	web_resp_error(w, false, req, 301, loc, r);
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
static void resp_file(struct web *w, bool tls, const struct http_req *req, const struct web_file *f,
		      bool multipart_ok, struct web_resp *r)
{
	const struct web_file *rep = pick_rep(req, f);
	int cond = http_cond_eval(req, rep->etag, rep->elen, rep->mtime);
	if (cond == 304) {
		resp_begin(w, tls, 304, r);
		rep_headers(r, f, rep);
		r->no_body = true;
		return;
	}
	if (cond == 412) {
		web_resp_error(w, tls, req, 412, NULL, r);
		return;
	}
	const struct http_hdr *range = http_req_find(req, "range");
	if (range && req->method == HTTP_M_GET &&
	    http_if_range(req, rep->etag, rep->elen, rep->mtime)) {
		struct http_range rg[WEB_RANGES_MAX];
		unsigned n;
		int v = http_range_parse(range->value.p, range->value.n, rep->len, rg,
					 multipart_ok ? WEB_RANGES_MAX : 1, &n);
		if (v == 206) {
			resp_ranges(w, tls, f, rep, rg, n, r);
			return;
		}
		if (v == 416) {
			char cr[64];
			fmt_snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", rep->len);
			{
				web_resp_error(w, tls, req, 416, cr, r);
				return;
			}
		}
	}
	resp_begin(w, tls, 200, r);
	rep_headers(r, f, rep);
	head_printf(r, "Content-Type: %s\r\nContent-Length: %zu\r\nAccept-Ranges: bytes\r\n",
		    f->type, rep->len);
	r->body = rep->data;
	r->blen = rep->len;
	r->length = rep->len;
	r->no_body = req->method == HTTP_M_HEAD;
}

void web_respond(struct web *w, bool tls, const struct http_req *req, bool multipart_ok,
		 struct web_resp *r)
{
	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		break;
	case HTTP_M_OPTIONS:
		resp_begin(w, tls, 204, r);
		head_printf(r, WEB_ALLOW);
		r->no_body = true;
		return;
	default: {
		web_resp_error(w, tls, req, 405, WEB_ALLOW, r);
		return;
	}
	}
	/* RFC 8555 8.3: HTTP-01 challenges come over plain HTTP */
	static const char acme_prefix[] = "/.well-known/acme-challenge/";
	size_t apl = sizeof acme_prefix - 1;
	if (req->path.n > apl && !memcmp(req->path.p, acme_prefix, apl)) {
		size_t kl;
		const char *ka = web_acme_challenge(w, req->path.p + apl, req->path.n - apl, &kl);
		if (ka) {
			resp_begin(w, tls, 200, r);
			head_printf(r,
				    "Content-Type: application/octet-stream\r\n"
				    "Content-Length: %zu\r\n",
				    kl);
			r->body = (const uint8_t *)ka;
			r->blen = kl;
			r->length = kl;
			r->no_body = req->method == HTTP_M_HEAD;
			return;
		}
	}
	if (!tls && !w->serve_plain) {
		resp_redirect_https(w, req, r);
		return;
	}
	char path[DNS_TAR_NAME_MAX + 16];
	int rc = http_path_clean(req->path.p, req->path.n, path, DNS_TAR_NAME_MAX + 1);
	if (rc == ATL_EMSGSIZE) {
		web_resp_error(w, tls, req, 414, NULL, r);
		return;
	}
	if (rc != ATL_OK) {
		web_resp_error(w, tls, req, 400, NULL, r);
		return;
	}
	size_t pl = strlen(path);
	if (pl == 0 || path[pl - 1] == '/') {
		memcpy(path + pl, "index.html", sizeof "index.html");
		const struct web_file *f = web_site_find(&w->site, path);
		if (!f) {
			web_resp_error(w, tls, req, 404, NULL, r);
			return;
		}
		{
			resp_file(w, tls, req, f, multipart_ok, r);
			return;
		}
	}
	const struct web_file *f = web_site_find(&w->site, path);
	if (f) {
		resp_file(w, tls, req, f, multipart_ok, r);
		return;
	}
	/* a directory named without its slash: send the client to it */
	memcpy(path + pl, "/index.html", sizeof "/index.html");
	if (!web_site_find(&w->site, path)) {
		web_resp_error(w, tls, req, 404, NULL, r);
		return;
	}
	if (req->path.n + req->query.n + 64 > WEB_LOCATION_MAX) {
		web_resp_error(w, tls, req, 414, NULL, r);
		return;
	}
	char loc[WEB_LOCATION_MAX + 64];
	fmt_snprintf(loc, sizeof loc, "Location: %.*s/%s%.*s\r\n", (int)req->path.n, req->path.p,
		     req->query.p ? "?" : "", req->query.p ? (int)req->query.n : 0,
		     req->query.p ? req->query.p : "");
	web_resp_error(w, tls, req, 301, loc, r);
}
