/*
 * h2.c - HTTP/2 frames and streams for a server (RFC 9113).  See h2.h.
 *
 * Errors follow RFC 9113 5.4: a connection error queues GOAWAY and ends
 * in H2_EV_CLOSE; a stream error queues RST_STREAM and the connection
 * goes on.  Header blocks are always decoded, even for a stream about to
 * be refused, because HPACK's table is the connection's (RFC 9113 4.3).
 */
#include <string.h>

#include "core/err.h"
#include "http/h2.h"

#define FLAG_END_STREAM	 0x1
#define FLAG_ACK	 0x1
#define FLAG_END_HEADERS 0x4
#define FLAG_PADDED	 0x8
#define FLAG_PRIORITY	 0x20

#define SETTINGS_HEADER_TABLE_SIZE	0x1
#define SETTINGS_ENABLE_PUSH		0x2
#define SETTINGS_MAX_CONCURRENT_STREAMS 0x3
#define SETTINGS_INITIAL_WINDOW_SIZE	0x4
#define SETTINGS_MAX_FRAME_SIZE		0x5
#define SETTINGS_MAX_HEADER_LIST_SIZE	0x6

#define WINDOW_MAX 0x7fffffff

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_frame_header(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
	p[0] = (uint8_t)(len >> 16);
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	p[3] = type;
	p[4] = flags;
	p[5] = (uint8_t)(stream >> 24 & 0x7f);
	p[6] = (uint8_t)(stream >> 16);
	p[7] = (uint8_t)(stream >> 8);
	p[8] = (uint8_t)stream;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Queue a control frame; false when the queue is full (the client is
 * not reading what it asks for). */
static bool ctl_frame(struct h2_conn *h, uint8_t type, uint8_t flags, uint32_t stream,
		      const uint8_t *payload, size_t len)
{
	if (h->ctl_len + H2_FRAME_HEADER + len > H2_CTL_MAX)
		return false;
	put_frame_header(h->ctl + h->ctl_len, len, type, flags, stream);
	if (len) /* an ack has no payload, and payload may then be NULL */
		memcpy(h->ctl + h->ctl_len + H2_FRAME_HEADER, payload, len);
	h->ctl_len += H2_FRAME_HEADER + len;
	return true;
}

void h2_conn_init(struct h2_conn *h)
{
	memset(h, 0, offsetof(struct h2_conn, block));
	memset(h->streams, 0, sizeof h->streams);
	h->ctl_len = 0;
	h->why = NULL;
	h->peer_frame_max = 16384;
	h->peer_initial_window = 65535;
	h->send_window = 65535;
	hpack_dec_init(&h->dec);
	static const struct {
		uint16_t id;
		uint32_t value;
	} ours[] = {
	    {SETTINGS_MAX_CONCURRENT_STREAMS, H2_STREAMS_MAX},
	    {SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
	    {SETTINGS_MAX_FRAME_SIZE, H2_FRAME_MAX},
	    {SETTINGS_MAX_HEADER_LIST_SIZE, H2_FIELD_BYTES},
	    {SETTINGS_ENABLE_PUSH, 0},
	};
	uint8_t p[6 * ARRAY_SIZE(ours)];
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
		p[6 * i] = (uint8_t)(ours[i].id >> 8);
		p[6 * i + 1] = (uint8_t)ours[i].id;
		put32(p + 6 * i + 2, ours[i].value);
	}
	ctl_frame(h, H2_SETTINGS, 0, 0, p, sizeof p);
}

void h2_conn_ctl_sent(struct h2_conn *h)
{
	h->ctl_len = 0;
}

void h2_conn_goaway(struct h2_conn *h, enum h2_error error)
{
	if (h->goaway_sent)
		return;
	uint8_t p[8];
	put32(p, h->last_stream);
	put32(p + 4, error);
	/* GOAWAY must get out even when the queue is full of acks */
	if (h->ctl_len + H2_FRAME_HEADER + sizeof p > H2_CTL_MAX)
		h->ctl_len = 0;
	ctl_frame(h, H2_GOAWAY, 0, 0, p, sizeof p);
	h->goaway_sent = true;
}

/* Remember a closed stream; ours: the client could still be sending on
 * it (we reset it, or answered before its END_STREAM). */
static void closed_add(struct h2_conn *h, uint32_t id, bool ours)
{
	h->closed[h->closed_next].id = id;
	h->closed[h->closed_next].ours = ours;
	h->closed_next = (h->closed_next + 1) % H2_CLOSED_MAX;
}

/* How id was closed, newest first: 1 by us, 0 otherwise, -1 not known
 * (never used, or closed too long ago). */
static int closed_find(const struct h2_conn *h, uint32_t id)
{
	for (unsigned k = 1; k <= H2_CLOSED_MAX; k++) {
		unsigned i = (h->closed_next + H2_CLOSED_MAX - k) % H2_CLOSED_MAX;
		if (h->closed[i].id == id)
			return h->closed[i].ours;
	}
	return -1;
}

static void stream_free(struct h2_conn *h, struct h2_stream *s)
{
	if (s->id && s->state != H2_ST_CLOSED && h->open > 0)
		h->open--;
	memset(s, 0, sizeof *s);
}

void h2_stream_reset(struct h2_conn *h, struct h2_stream *s, enum h2_error error)
{
	uint8_t p[4];
	put32(p, error);
	if (!ctl_frame(h, H2_RST_STREAM, 0, s->id, p, sizeof p))
		h2_conn_goaway(h, H2_ENHANCE_YOUR_CALM);
	closed_add(h, s->id, true);
	stream_free(h, s);
}

static struct h2_stream *stream_find(struct h2_conn *h, uint32_t id)
{
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++)
		if (h->streams[i].id == id)
			return &h->streams[i];
	return NULL;
}

/* ---- events ---- */

static void conn_error(struct h2_conn *h, struct h2_event *ev, enum h2_error e, const char *why)
{
	h2_conn_goaway(h, e);
	h->why = why;
	ev->type = H2_EV_CLOSE;
	ev->error = e;
	ev->why = why;
}

/*
 * A stream error: RST_STREAM for an id that need not have a slot.
 * budget: the stream was handed to the application, and its reset
 * counts as the client's own would (on_rst_stream).  "MadeYouReset"
 * (2025) is rapid reset by other means: a frame wrong on purpose makes
 * the server reset the request, its slot is free at once, and the work
 * it started goes on.  A request refused or malformed on arrival cost
 * no more than its header block, and is not counted.
 */
static void stream_error(struct h2_conn *h, struct h2_event *ev, uint32_t id, enum h2_error e,
			 const char *why, bool budget)
{
	struct h2_stream *s = stream_find(h, id);
	if (s && budget && ++h->resets > H2_RESET_BUDGET + h->completed) {
		/* the stream stays: the application frees it on CLOSE */
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "too many streams reset");
		return;
	}
	uint8_t p[4];
	put32(p, e);
	if (s) {
		ev->type = H2_EV_RESET;
		ev->app = s->app;
		h2_stream_reset(h, s, e);
	} else if (!ctl_frame(h, H2_RST_STREAM, 0, id, p, sizeof p)) {
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "control frames not read");
		return;
	} else if (id <= h->last_stream) {
		closed_add(h, id, true);
	}
	h->why = why;
	ev->why = why;
}

static void stream_error_id(struct h2_conn *h, struct h2_event *ev, uint32_t id, enum h2_error e,
			    const char *why)
{
	stream_error(h, ev, id, e, why, true);
}

static bool calm_down(struct h2_conn *h, struct h2_event *ev, const char *why)
{
	if (++h->empty_frames <= H2_EMPTY_FRAMES_MAX + h->completed)
		return false;
	conn_error(h, ev, H2_ENHANCE_YOUR_CALM, why);
	return true;
}

/* ---- requests: RFC 9113 8.3 ---- */

static bool is_lower_token(const struct http_span *n)
{
	for (size_t i = 0; i < n->n; i++) {
		char c = n->p[i];
		if (c >= 'A' && c <= 'Z')
			return false;
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f || c == ':')
			return false;
	}
	return n->n > 0;
}

static bool span_is(const struct http_span *s, const char *t)
{
	size_t n = strlen(t);
	return s->n == n && !memcmp(s->p, t, n);
}

/* A well-formed request header list (or trailers: no pseudo-fields)? */
static const char *check_fields(const struct hpack_field *f, unsigned n, bool trailers,
				struct h2_stream *s)
{
	bool regular = false, method = false, scheme = false, path = false, authority = false;
	bool connect = false;
	for (unsigned i = 0; i < n; i++) {
		const struct http_span *name = &f[i].name, *v = &f[i].value;
		for (size_t k = 0; k < v->n; k++) {
			unsigned char c = (unsigned char)v->p[k];
			if (c == 0 || c == '\r' || c == '\n')
				return "CR, LF or NUL in a field value"; /* RFC 9113 8.2.1 */
		}
		/* RFC 9113 8.2.1 too: HTTP/1.1 would strip it (RFC 9110 5.5),
		 * so a value passed on could mean one thing here and another
		 * behind us */
		if (v->n && (v->p[0] == ' ' || v->p[0] == '\t' || v->p[v->n - 1] == ' ' ||
			     v->p[v->n - 1] == '\t'))
			return "whitespace at an end of a field value";
		if (name->n && name->p[0] == ':') {
			if (regular || trailers)
				return "a pseudo-header after a regular field";
			bool *seen = span_is(name, ":method")	   ? &method
				     : span_is(name, ":scheme")	   ? &scheme
				     : span_is(name, ":path")	   ? &path
				     : span_is(name, ":authority") ? &authority
								   : NULL;
			if (!seen)
				return "an unknown pseudo-header";
			if (*seen)
				return "a repeated pseudo-header";
			*seen = true;
			if (seen == &method && span_is(v, "CONNECT"))
				connect = true;
			if (seen == &path && v->n == 0)
				return "an empty :path";
			continue;
		}
		regular = true;
		if (!is_lower_token(name))
			return "a field name that is not a lowercase token";
		/* RFC 9113 8.2.2: connection-specific fields are malformed */
		if (span_is(name, "connection") || span_is(name, "keep-alive") ||
		    span_is(name, "proxy-connection") || span_is(name, "transfer-encoding") ||
		    span_is(name, "upgrade"))
			return "a connection-specific field";
		if (span_is(name, "te") && !span_is(v, "trailers"))
			return "TE other than trailers";
		if (span_is(name, "content-length") && !trailers) {
			uint64_t x = 0;
			if (v->n == 0 || v->n > 19)
				return "a bad content-length";
			for (size_t k = 0; k < v->n; k++) {
				if (v->p[k] < '0' || v->p[k] > '9')
					return "a bad content-length";
				x = x * 10 + (uint64_t)(v->p[k] - '0');
			}
			if (s->has_length && s->content_length != x)
				return "content-length values differ";
			s->has_length = true;
			s->content_length = x;
		}
	}
	if (trailers)
		return NULL;
	if (!method)
		return "no :method";
	if (connect) /* RFC 9113 8.5: :authority is where to connect to */
		return path || scheme ? "CONNECT with :path or :scheme"
		       : !authority   ? "CONNECT without :authority"
				      : NULL;
	if (!scheme || !path)
		return "no :scheme or :path";
	return NULL;
}

/* A complete header block for stream id. */
static void header_block(struct h2_conn *h, struct h2_event *ev)
{
	uint32_t id = h->block_stream;
	bool end_stream = h->block_end_stream, trailers = h->block_trailers;
	bool self_dep = h->block_self_dep;
	h->block_stream = 0;
	unsigned n;
	int rc = hpack_decode(&h->dec, h->block, h->block_len, h->scratch, sizeof h->scratch,
			      h->fields, H2_FIELDS_MAX, &n);
	if (rc != 0) {
		conn_error(h, ev, (enum h2_error)rc,
			   rc == H2_COMPRESSION_ERROR ? "malformed HPACK block"
						      : "header list too large");
		return;
	}
	struct h2_stream *s;
	if (trailers) {
		s = stream_find(h, id);
		if (!s) /* closed by us (5.1): the block only fed HPACK */
			return;
		if (self_dep) {
			stream_error_id(h, ev, id, H2_PROTOCOL_ERROR,
					"a stream depending on itself");
			return;
		}
		if (!end_stream) {
			stream_error_id(h, ev, id, H2_PROTOCOL_ERROR,
					"trailers without END_STREAM");
			return;
		}
		const char *bad = check_fields(h->fields, n, true, s);
		if (bad) {
			stream_error_id(h, ev, id, H2_PROTOCOL_ERROR, bad);
			return;
		}
		/* RFC 9113 8.1.1: trailers end the body as END_STREAM on DATA
		 * would (DATA beyond the length was refused in on_data) */
		if (s->has_length && s->received != s->content_length) {
			stream_error_id(h, ev, id, H2_PROTOCOL_ERROR,
					"trailers short of content-length");
			return;
		}
		s->state = H2_ST_HALF_CLOSED_REMOTE;
		ev->type = H2_EV_TRAILERS_END;
		ev->stream = s;
		return;
	}
	if (h->goaway_sent) /* RFC 9113 6.8: streams after GOAWAY are ignored */
		return;
	/* RFC 9113 5.3.1: a stream error, once HPACK and the stream id have
	 * taken the block in (4.3, 5.1.1) */
	if (self_dep) {
		stream_error(h, ev, id, H2_PROTOCOL_ERROR, "a stream depending on itself", false);
		return;
	}
	if (h->open >= H2_STREAMS_MAX || !(s = stream_find(h, 0))) {
		stream_error(h, ev, id, H2_REFUSED_STREAM, "too many streams", false);
		return;
	}
	memset(s, 0, sizeof *s);
	s->id = id;
	s->state = end_stream ? H2_ST_HALF_CLOSED_REMOTE : H2_ST_OPEN;
	s->send_window = h->peer_initial_window;
	h->open++;
	const char *bad = check_fields(h->fields, n, false, s);
	if (!bad && end_stream && s->has_length && s->content_length != 0)
		bad = "content-length without DATA";
	if (bad) { /* (not given to the application: not counted) */
		stream_error(h, ev, id, H2_PROTOCOL_ERROR, bad, false);
		return;
	}
	ev->type = H2_EV_REQUEST;
	ev->stream = s;
	ev->end_stream = end_stream;
	ev->fields = h->fields;
	ev->nfields = n;
}

/* Strip padding (RFC 9113 6.1, 6.2): false when the pad is too long. */
static bool unpad(uint8_t flags, const uint8_t **p, size_t *len)
{
	if (!(flags & FLAG_PADDED))
		return true;
	if (*len < 1)
		return false;
	size_t pad = (*p)[0];
	(*p)++;
	(*len)--;
	if (pad > *len)
		return false;
	*len -= pad;
	return true;
}

static void on_settings(struct h2_conn *h, struct h2_event *ev, uint8_t flags, uint32_t id,
			const uint8_t *p, size_t len)
{
	if (id != 0) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "SETTINGS on a stream");
		return;
	}
	if (flags & FLAG_ACK) {
		if (len != 0) {
			conn_error(h, ev, H2_FRAME_SIZE_ERROR, "SETTINGS ack with a payload");
			return;
		}
		return;
	}
	if (len % 6) {
		conn_error(h, ev, H2_FRAME_SIZE_ERROR, "SETTINGS not a multiple of 6");
		return;
	}
	for (size_t i = 0; i < len; i += 6) {
		uint16_t k = (uint16_t)(p[i] << 8 | p[i + 1]);
		uint32_t v = be32(p + i + 2);
		switch (k) {
		case SETTINGS_ENABLE_PUSH:
			if (v > 1) {
				conn_error(h, ev, H2_PROTOCOL_ERROR, "ENABLE_PUSH not 0 or 1");
				return;
			}
			break;
		case SETTINGS_INITIAL_WINDOW_SIZE: {
			if (v > WINDOW_MAX) {
				conn_error(h, ev, H2_FLOW_CONTROL_ERROR,
					   "INITIAL_WINDOW_SIZE above 2^31-1");
				return;
			}
			/* RFC 9113 6.9.2: every stream's window moves by the change */
			int64_t delta = (int64_t)v - h->peer_initial_window;
			for (unsigned j = 0; j < H2_STREAMS_MAX; j++) {
				struct h2_stream *s = &h->streams[j];
				if (!s->id)
					continue;
				s->send_window += delta;
				if (s->send_window > WINDOW_MAX) {
					conn_error(h, ev, H2_FLOW_CONTROL_ERROR,
						   "a stream window above 2^31-1");
					return;
				}
			}
			h->peer_initial_window = v;
			ev->type = H2_EV_WINDOW;
			break;
		}
		case SETTINGS_MAX_FRAME_SIZE:
			if (v < 16384 || v > 16777215) {
				conn_error(h, ev, H2_PROTOCOL_ERROR, "MAX_FRAME_SIZE out of range");
				return;
			}
			h->peer_frame_max = v;
			break;
		default:
			break; /* HEADER_TABLE_SIZE: our encoder uses no table; others: ignored */
		}
	}
	if (!ctl_frame(h, H2_SETTINGS, FLAG_ACK, 0, NULL, 0))
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "SETTINGS acks not read");
}

static void on_window_update(struct h2_conn *h, struct h2_event *ev, uint32_t id, const uint8_t *p,
			     size_t len)
{
	if (len != 4) {
		conn_error(h, ev, H2_FRAME_SIZE_ERROR, "WINDOW_UPDATE not 4 bytes");
		return;
	}
	uint32_t inc = be32(p) & WINDOW_MAX;
	if (id == 0) {
		if (inc == 0) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
			return;
		}
		if (h->send_window + inc > WINDOW_MAX) {
			conn_error(h, ev, H2_FLOW_CONTROL_ERROR, "connection window overflow");
			return;
		}
		h->send_window += inc;
		ev->type = H2_EV_WINDOW;
		return;
	}
	if (id > h->last_stream) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
		return;
	}
	struct h2_stream *s = stream_find(h, id);
	if (!s)
		return; /* closed: RFC 9113 6.9 allows it to arrive late */
	if (inc == 0) {
		stream_error_id(h, ev, id, H2_PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
		return;
	}
	if (s->send_window + inc > WINDOW_MAX) {
		stream_error_id(h, ev, id, H2_FLOW_CONTROL_ERROR, "stream window overflow");
		return;
	}
	s->send_window += inc;
	ev->type = H2_EV_WINDOW;
}

/*
 * Give back receive window for DATA taken (RFC 9113 6.9), once half is
 * used: the connection's for every DATA frame, s's (NULL: the
 * connection's) for one on a stream still open.  Each is counted once:
 * credit beyond the bytes taken grows the client's view of our window
 * past 2^31-1, its FLOW_CONTROL_ERROR (6.9.1), after 2 GiB.
 */
static void replenish(struct h2_conn *h, struct h2_event *ev, struct h2_stream *s, size_t len)
{
	uint32_t *unacked = s ? &s->recv_unacked : &h->recv_unacked;
	*unacked += (uint32_t)len;
	if (*unacked < H2_WINDOW / 2)
		return;
	uint8_t p[4];
	put32(p, *unacked);
	if (!ctl_frame(h, H2_WINDOW_UPDATE, 0, s ? s->id : 0, p, 4)) {
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "control frames not read");
		return;
	}
	*unacked = 0;
}

static void on_data(struct h2_conn *h, struct h2_event *ev, uint8_t flags, uint32_t id,
		    const uint8_t *p, size_t len)
{
	size_t flow = len; /* padding counts against flow control too */
	if (id == 0) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "DATA on stream 0");
		return;
	}
	if (!unpad(flags, &p, &len)) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "DATA padding too long");
		return;
	}
	if (id > h->last_stream) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "DATA on an idle stream");
		return;
	}
	struct h2_stream *s = stream_find(h, id);
	replenish(h, ev, NULL, flow);
	if (ev->type == H2_EV_CLOSE)
		return;
	if (!s) /* RFC 9113 5.1: closed by us (a reset, or answered): ignored */
		return;
	if (s->state != H2_ST_OPEN) {
		stream_error_id(h, ev, id, H2_STREAM_CLOSED, "DATA after END_STREAM");
		return;
	}
	s->received += len;
	if (s->has_length && s->received > s->content_length) {
		stream_error_id(h, ev, id, H2_PROTOCOL_ERROR, "DATA beyond content-length");
		return;
	}
	bool end = flags & FLAG_END_STREAM;
	if (end && s->has_length && s->received != s->content_length) {
		stream_error_id(h, ev, id, H2_PROTOCOL_ERROR, "DATA short of content-length");
		return;
	}
	if (len == 0 && !end && calm_down(h, ev, "empty DATA frames"))
		return;
	if (!end) /* (after END_STREAM the stream's window no longer matters) */
		replenish(h, ev, s, flow);
	if (ev->type == H2_EV_CLOSE)
		return;
	if (end)
		s->state = H2_ST_HALF_CLOSED_REMOTE;
	ev->type = H2_EV_DATA;
	ev->stream = s;
	ev->data = p;
	ev->len = len;
	ev->end_stream = end;
}

static void on_headers(struct h2_conn *h, struct h2_event *ev, uint8_t flags, uint32_t id,
		       const uint8_t *p, size_t len)
{
	if (id == 0 || !(id & 1)) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "HEADERS on stream 0 or an even stream");
		return;
	}
	if (!unpad(flags, &p, &len)) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "HEADERS padding too long");
		return;
	}
	bool self_dep = false;
	if (flags & FLAG_PRIORITY) {
		if (len < 5) {
			conn_error(h, ev, H2_FRAME_SIZE_ERROR, "HEADERS priority cut short");
			return;
		}
		/* an error, but for header_block to raise (5.3.1) */
		self_dep = (be32(p) & WINDOW_MAX) == id;
		p += 5;
		len -= 5;
	}
	bool trailers = false;
	if (id <= h->last_stream) {
		/* trailers on an open stream; or HEADERS the client sent before
		 * it saw our RST_STREAM or END_STREAM, to be ignored (5.1) but
		 * still decoded; else the client's error: on a stream it ended,
		 * STREAM_CLOSED; on an id it never used, PROTOCOL_ERROR (5.1.1:
		 * new ids only grow) */
		struct h2_stream *s = stream_find(h, id);
		int closed = s ? -1 : closed_find(h, id);
		if (s && s->state != H2_ST_OPEN) {
			conn_error(h, ev, H2_STREAM_CLOSED, "HEADERS after END_STREAM");
			return;
		}
		if (!s && closed == 0) {
			conn_error(h, ev, H2_STREAM_CLOSED, "HEADERS on a closed stream");
			return;
		}
		if (!s && closed < 0) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "a new stream id not above the last");
			return;
		}
		trailers = true;
	} else {
		h->last_stream = id;
	}
	if (len > sizeof h->block) {
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "header block too large");
		return;
	}
	memcpy(h->block, p, len);
	h->block_len = len;
	h->block_stream = id;
	h->block_end_stream = flags & FLAG_END_STREAM;
	h->block_trailers = trailers;
	h->block_self_dep = self_dep;
	if (flags & FLAG_END_HEADERS)
		header_block(h, ev);
}

static void on_continuation(struct h2_conn *h, struct h2_event *ev, uint8_t flags, uint32_t id,
			    const uint8_t *p, size_t len)
{
	if (!h->block_stream || id != h->block_stream) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "CONTINUATION out of place");
		return;
	}
	if (len > sizeof h->block - h->block_len) {
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "header block too large");
		return;
	}
	if (len == 0 && !(flags & FLAG_END_HEADERS) && calm_down(h, ev, "empty CONTINUATION"))
		return;
	memcpy(h->block + h->block_len, p, len);
	h->block_len += len;
	if (flags & FLAG_END_HEADERS)
		header_block(h, ev);
}

static void on_rst_stream(struct h2_conn *h, struct h2_event *ev, uint32_t id, size_t len)
{
	if (len != 4) {
		conn_error(h, ev, H2_FRAME_SIZE_ERROR, "RST_STREAM not 4 bytes");
		return;
	}
	if (id == 0 || id > h->last_stream) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "RST_STREAM on an idle stream");
		return;
	}
	struct h2_stream *s = stream_find(h, id);
	if (!s)
		return;
	/* CVE-2023-44487, rapid reset: streams opened and cancelled at once
	 * cost the server work and the client nothing. */
	if (++h->resets > H2_RESET_BUDGET + h->completed) {
		conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "too many streams reset");
		return;
	}
	ev->type = H2_EV_RESET;
	ev->app = s->app;
	closed_add(h, id, false);
	stream_free(h, s);
}

static void on_frame(struct h2_conn *h, struct h2_event *ev, uint8_t type, uint8_t flags,
		     uint32_t id, const uint8_t *p, size_t len)
{
	/* RFC 9113 6.10: nothing may come between a header block's frames */
	if (h->block_stream && type != H2_CONTINUATION) {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "a frame inside a header block");
		return;
	}
	switch (type) {
	case H2_DATA: {
		on_data(h, ev, flags, id, p, len);
		return;
	}
	case H2_HEADERS: {
		on_headers(h, ev, flags, id, p, len);
		return;
	}
	case H2_PRIORITY:
		if (id == 0) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "PRIORITY on stream 0");
			return;
		}
		if (len != 5) {
			stream_error_id(h, ev, id, H2_FRAME_SIZE_ERROR, "PRIORITY not 5 bytes");
			return;
		}
		if (calm_down(h, ev, "PRIORITY flood"))
			return;
		return; /* RFC 9113 5.3.2: priority signals are ignored here */
	case H2_RST_STREAM: {
		on_rst_stream(h, ev, id, len);
		return;
	}
	case H2_SETTINGS:
		if (calm_down(h, ev, "SETTINGS flood"))
			return;
		{
			on_settings(h, ev, flags, id, p, len);
			return;
		}
	case H2_PUSH_PROMISE: {
		conn_error(h, ev, H2_PROTOCOL_ERROR, "PUSH_PROMISE from a client");
		return;
	}
	case H2_PING:
		if (id != 0) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "PING on a stream");
			return;
		}
		if (len != 8) {
			conn_error(h, ev, H2_FRAME_SIZE_ERROR, "PING not 8 bytes");
			return;
		}
		if (flags & FLAG_ACK)
			return;
		if (calm_down(h, ev, "PING flood"))
			return;
		if (!ctl_frame(h, H2_PING, FLAG_ACK, 0, p, 8))
			conn_error(h, ev, H2_ENHANCE_YOUR_CALM, "PING acks not read");
		return;
	case H2_GOAWAY:
		if (id != 0) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "GOAWAY on a stream");
			return;
		}
		if (len < 8) {
			conn_error(h, ev, H2_FRAME_SIZE_ERROR, "GOAWAY too short");
			return;
		}
		h->goaway_received = true;
		ev->type = H2_EV_CLOSE;
		ev->error = H2_NO_ERROR;
		ev->why = "the client sent GOAWAY";
		return;
	case H2_WINDOW_UPDATE: {
		on_window_update(h, ev, id, p, len);
		return;
	}
	case H2_CONTINUATION: {
		on_continuation(h, ev, flags, id, p, len);
		return;
	}
	default:
		return; /* RFC 9113 5.5: unknown types are ignored */
	}
}

void h2_conn_input(struct h2_conn *h, const uint8_t *in, size_t len, size_t *used,
		   struct h2_event *ev)
{
	memset(ev, 0, sizeof *ev);
	*used = 0;
	if (h->goaway_sent || h->goaway_received) {
		ev->type = H2_EV_CLOSE;
		ev->error = H2_NO_ERROR;
		ev->why = h->why;
		return;
	}
	if (!h->preface_seen) {
		size_t k = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;
		if (memcmp(in, H2_PREFACE, k)) {
			conn_error(h, ev, H2_PROTOCOL_ERROR, "no HTTP/2 connection preface");
			return;
		}
		if (len < H2_PREFACE_LEN)
			return;
		h->preface_seen = true;
		*used = H2_PREFACE_LEN;
		in += H2_PREFACE_LEN;
		len -= H2_PREFACE_LEN;
	}
	while (ev->type == H2_EV_NONE) {
		if (len < H2_FRAME_HEADER)
			return;
		/* the acks a burst of frames asks for leave before more are
		 * taken, so only a client that does not read fills the queue */
		if (h->ctl_len > H2_CTL_MAX / 2) {
			ev->type = H2_EV_CTL;
			return;
		}
		/* RFC 9113 3.4: the preface "MUST be followed by a SETTINGS
		 * frame", not an ack (it has nothing to acknowledge yet); the
		 * header alone tells */
		if (!h->settings_seen && (in[3] != H2_SETTINGS || (in[4] & FLAG_ACK))) {
			conn_error(h, ev, H2_PROTOCOL_ERROR,
				   "the preface not followed by SETTINGS");
			return;
		}
		size_t flen = be24(in);
		if (flen > H2_FRAME_MAX) {
			conn_error(h, ev, H2_FRAME_SIZE_ERROR, "a frame above MAX_FRAME_SIZE");
			return;
		}
		if (len < H2_FRAME_HEADER + flen)
			return;
		uint8_t type = in[3], flags = in[4];
		uint32_t id = be32(in + 5) & WINDOW_MAX;
		*used += H2_FRAME_HEADER + flen;
		h->settings_seen = true;
		on_frame(h, ev, type, flags, id, in + H2_FRAME_HEADER, flen);
		in += H2_FRAME_HEADER + flen;
		len -= H2_FRAME_HEADER + flen;
	}
}

/* Our END_STREAM went out: the stream is done for us.  If the client is
 * still sending its body, what comes is dropped (on_data: flow control
 * still counts it).  No RST_STREAM NO_ERROR (RFC 9113 8.1 allows one):
 * curl 7.88 then discards the response it has just been given. */
static void stream_done(struct h2_conn *h, struct h2_stream *s)
{
	h->completed++;
	closed_add(h, s->id, s->state == H2_ST_OPEN);
	stream_free(h, s);
}

size_t h2_stream_headers(struct h2_conn *h, struct h2_stream *s, uint8_t *out, size_t cap,
			 const uint8_t *block, size_t blen, bool end_stream)
{
	if (blen > h->peer_frame_max || H2_FRAME_HEADER + blen > cap)
		return 0;
	put_frame_header(out, blen, H2_HEADERS,
			 FLAG_END_HEADERS | (end_stream ? FLAG_END_STREAM : 0), s->id);
	memcpy(out + H2_FRAME_HEADER, block, blen);
	s->responding = true;
	if (end_stream)
		stream_done(h, s);
	return H2_FRAME_HEADER + blen;
}

size_t h2_stream_room(const struct h2_conn *h, const struct h2_stream *s)
{
	int64_t w = h->send_window < s->send_window ? h->send_window : s->send_window;
	if (w <= 0)
		return 0;
	return (size_t)(w < (int64_t)h->peer_frame_max ? w : (int64_t)h->peer_frame_max);
}

void h2_stream_data(struct h2_conn *h, struct h2_stream *s, uint8_t out[H2_FRAME_HEADER],
		    size_t len, bool end_stream)
{
	put_frame_header(out, len, H2_DATA, end_stream ? FLAG_END_STREAM : 0, s->id);
	h->send_window -= (int64_t)len;
	s->send_window -= (int64_t)len;
	if (end_stream)
		stream_done(h, s);
}
