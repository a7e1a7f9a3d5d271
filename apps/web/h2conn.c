/*
 * h2conn.c - an HTTP/2 connection of the web unikernel, in its fiber:
 * lib/http's h2 core takes the client's frames, resp.c decides each
 * answer, and this file puts answers on the wire: a HEADERS frame at
 * once, then DATA for every stream with something to send, round robin,
 * as far as the flow-control windows let it, before reading again.
 *
 * A request is answered as soon as its header block is complete: a
 * static site needs no request body, so one that is still coming is
 * read and dropped once the answer is out.
 */
#include <string.h>

#include "core/err.h"
#include "core/log.h"

#include "web.h"

#define H2_DATA_CHUNK (WEB_OUT - H2_FRAME_HEADER) /* one DATA frame per output buffer */
#define H2_BLOCK_MAX  (WEB_HEAD_MAX + 64)

struct web_h2_job {
	struct h2_stream *s; /* NULL: free */
	const uint8_t *p;    /* what is left to send */
	size_t left;
};

struct web_h2 {
	struct h2_conn h;
	struct web_h2_job jobs[H2_STREAMS_MAX];
	unsigned next; /* round-robin start */
	unsigned active;
	uint8_t block[H2_BLOCK_MAX]; /* a response's header block */
};

size_t web_h2_size(void)
{
	return sizeof(struct web_h2);
}

static int write_ctl(struct web_conn *c, struct web_h2 *x)
{
	int rc = ATL_OK;
	if (x->h.ctl_len)
		rc = web_out_put(c, x->h.ctl, x->h.ctl_len);
	h2_conn_ctl_sent(&x->h);
	return rc;
}

/* The request of a complete header block, as lib/http's struct http_req,
 * so that resp.c answers it as it answers HTTP/1.1.  0, or the status
 * to answer with. */
static int h2_req(const struct h2_event *ev, struct http_req *req)
{
	memset(req, 0, offsetof(struct http_req, hdr));
	req->version = 20;
	req->keep_alive = true;
	struct http_span path = {NULL, 0};
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct hpack_field *f = &ev->fields[i];
		if (f->name.n && f->name.p[0] == ':') {
			if (f->name.n == 7 && !memcmp(f->name.p, ":method", 7)) {
				req->method_s = f->value;
				req->method = http_method_parse(f->value.p, f->value.n);
			} else if (f->name.n == 5 && !memcmp(f->name.p, ":path", 5)) {
				path = f->value;
			} else if (f->name.n == 10 && !memcmp(f->name.p, ":authority", 10)) {
				req->host = f->value;
			}
			continue;
		}
		if (f->name.n == 4 && !memcmp(f->name.p, "host", 4) && !req->host.p)
			req->host = f->value;
		if (req->nhdr < HTTP_HEADERS_CAP)
			req->hdr[req->nhdr++] = (struct http_hdr){f->name, f->value};
	}
	if (req->method == HTTP_M_OTHER)
		return 501;
	if (!path.p) /* CONNECT: no :path */
		return 405;
	if (http_req_set_target(req, path.p, path.n) != HTTP_OK)
		return 400;
	return 0;
}

/* HEADERS for the response r on stream s; a job for its content. */
static int h2_answer(struct web_conn *c, struct web_h2 *x, struct h2_stream *s,
		     const struct http_req *req, const struct web_resp *r)
{
	/* the frames the core queued so far go first: our SETTINGS must be
	 * the first frame of the connection */
	if (write_ctl(c, x) != ATL_OK)
		return ATL_EIO;
	size_t bl = 0;
	bool ok = hpack_encode_status(x->block, sizeof x->block, &bl, r->status);
	/* the header lines, names lowercased (RFC 9113 8.2.1) */
	for (size_t i = 0; ok && i < r->hlen;) {
		const char *line = r->head + i;
		const char *eol = memchr(line, '\r', r->hlen - i);
		const char *colon = memchr(line, ':', r->hlen - i);
		ASSERT(eol && colon && colon < eol);
		char name[64];
		size_t nl = (size_t)(colon - line);
		ASSERT(nl < sizeof name);
		for (size_t k = 0; k < nl; k++)
			name[k] = line[k] >= 'A' && line[k] <= 'Z' ? (char)(line[k] + 32) : line[k];
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		ok = hpack_encode_field(x->block, sizeof x->block, &bl, name, nl, v,
					(size_t)(eol - v));
		i = (size_t)(eol - r->head) + 2;
	}
	ASSERT(ok); /* WEB_HEAD_MAX bounds the lines, H2_BLOCK_MAX their encoding */
	bool body = !r->no_body && r->blen > 0;
	uint8_t frame[H2_FRAME_HEADER + H2_BLOCK_MAX];
	size_t fl = h2_stream_headers(&x->h, s, frame, sizeof frame, x->block, bl, !body);
	ASSERT(fl > 0);
	c->w->stat[WEB_S_H2_REQUESTS]++;
	web_log(c, req, r->status, body ? r->length : 0);
	int rc = web_out_put(c, frame, fl);
	if (rc != ATL_OK || !body)
		return rc;
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++) {
		struct web_h2_job *j = &x->jobs[i];
		if (!j->s) {
			*j = (struct web_h2_job){s, r->body, r->blen};
			s->app = j;
			x->active++;
			return ATL_OK;
		}
	}
	return ATL_ENOMEM; /* not reached: a job per stream the core allows */
}

static void job_free(struct web_h2 *x, struct web_h2_job *j)
{
	if (j && j->s) {
		j->s = NULL;
		x->active--;
	}
}

/* DATA for every job the windows allow; *blocked: some wait for a window. */
static int h2_pump(struct web_conn *c, struct web_h2 *x, bool *blocked)
{
	*blocked = false;
	for (bool progress = true; progress && x->active;) {
		progress = false;
		for (unsigned k = 0; k < H2_STREAMS_MAX; k++) {
			struct web_h2_job *j = &x->jobs[(x->next + k) % H2_STREAMS_MAX];
			if (!j->s)
				continue;
			size_t room = h2_stream_room(&x->h, j->s);
			if (room == 0) {
				*blocked = true;
				continue;
			}
			size_t n = j->left < room ? j->left : room;
			if (n > H2_DATA_CHUNK)
				n = H2_DATA_CHUNK;
			bool end = n == j->left;
			uint8_t fh[H2_FRAME_HEADER];
			h2_stream_data(&x->h, j->s, fh, n, end);
			int rc = web_out_put(c, fh, sizeof fh);
			if (rc == ATL_OK)
				rc = web_out_put(c, j->p, n);
			if (rc != ATL_OK)
				return rc;
			c->w->stat[WEB_S_BYTES] += n;
			j->p += n;
			j->left -= n;
			if (end)
				job_free(x, j); /* the core freed the stream */
			progress = true;
		}
		x->next = (x->next + 1) % H2_STREAMS_MAX;
		/* the core's own frames (acks) must not wait behind bulk data */
		if (x->h.ctl_len && write_ctl(c, x) != ATL_OK)
			return ATL_EIO;
	}
	if (x->active == 0)
		*blocked = false;
	return ATL_OK;
}

void web_h2_run(struct web_conn *c)
{
	struct web *w = c->w;
	struct loop *l = w->loop;
	struct web_h2 *x = c->h2;
	h2_conn_init(&x->h);
	memset(x->jobs, 0, sizeof x->jobs);
	x->next = x->active = 0;
	w->stat[WEB_S_H2_CONNS]++;
	const char *why = NULL;
	/* RFC 9113 3.4: our SETTINGS first, before any answer to what is
	 * already in the buffer (h2c with prior knowledge) */
	if (write_ctl(c, x) != ATL_OK)
		return;
	for (;;) {
		size_t off = 0;
		for (;;) {
			struct h2_event ev;
			size_t used;
			h2_conn_input(&x->h, c->in + off, c->have - off, &used, &ev);
			off += used;
			if (ev.type == H2_EV_NONE)
				break;
			if (ev.type == H2_EV_CLOSE) {
				why = ev.why;
				if (ev.error != H2_NO_ERROR)
					w->stat[WEB_S_H2_GOAWAY]++;
				goto out;
			}
			if (ev.type == H2_EV_CTL) {
				if (write_ctl(c, x) != ATL_OK)
					goto out;
			} else if (ev.type == H2_EV_RESET) {
				w->stat[WEB_S_H2_RESETS]++;
				job_free(x, ev.app);
			} else if (ev.type == H2_EV_REQUEST) {
				w->stat[WEB_S_REQUESTS]++;
				int st = h2_req(&ev, &c->req);
				if (st)
					web_resp_error(w, c->tls, &c->req, st, NULL, &c->resp);
				else
					web_respond(w, c->tls, &c->req, false, &c->resp);
				if (h2_answer(c, x, ev.stream, &c->req, &c->resp) != ATL_OK)
					goto out;
			}
			/* DATA of a request already answered: dropped */
		}
		memmove(c->in, c->in + off, c->have - off);
		c->have -= off;
		bool blocked;
		if (write_ctl(c, x) != ATL_OK || h2_pump(c, x, &blocked) != ATL_OK ||
		    web_out_flush(c) != ATL_OK)
			goto out;
		size_t n;
		int rc = web_conn_read(c, c->in + c->have, w->in_cap - c->have, &n,
				       web_deadline(w, w->idle_ns));
		if (rc == ATL_ETIMEDOUT) {
			w->stat[WEB_S_TIMEOUTS]++;
			why = x->active ? "a stream's window stayed shut" : "idle";
			h2_conn_goaway(&x->h, x->active ? H2_FLOW_CONTROL_ERROR : H2_NO_ERROR);
			goto out;
		}
		if (rc != ATL_OK || n == 0)
			return;
		c->have += n;
	}
out:
	/* GOAWAY (ours or the answer to theirs) before the close */
	if (!x->h.goaway_sent)
		h2_conn_goaway(&x->h, H2_NO_ERROR);
	if (write_ctl(c, x) == ATL_OK)
		web_out_flush(c);
	if (why)
		LOG_DEBUG(l, "HTTP/2 connection ends: %s", why);
}
