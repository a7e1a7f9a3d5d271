/*
 * fuzz_h2.c - libFuzzer target for the HTTP/2 server core (lib/http/h2.c)
 * and HPACK (lib/http/hpack.c).
 *
 * The first byte picks the mode.
 *
 *   0     the rest is one header block for hpack_decode (decoded twice,
 *         the second time against the table the first left) and a string
 *         for hpack_huffman_decode; a string that decodes must encode
 *         back to the same bytes with the code rebuilt from
 *         hpack_huff_len (padding is then exactly the EOS prefix), and
 *         the encoders' output must decode to what they were given.
 *   0x40  HPACK across blocks: then the table size, the scratch size and
 *         the field limit, then blocks of <1-byte length><bytes>, all
 *         against one table.
 *   else  a connection: the rest is what a client sends after the
 *         preface (bit 0x80: the rest is everything, preface included
 *         or not), fed to h2_conn_input in pieces of sizes drawn from the
 *         low six bits.  The fuzzer plays the server: every request is
 *         answered with HEADERS and, bit 0x01, a body sent as the windows
 *         allow; bit 0x02: the control frames are written after every
 *         event, else only on H2_EV_CTL (a server whose client does not
 *         read); bit 0x40: every third request is reset by the server,
 *         and the server says GOAWAY after the tenth.
 *
 * Invariants: the core never takes more than it was given, and when it
 * says NONE what is left is not a whole frame; the control queue stays
 * within H2_CTL_MAX (over half full only with H2_EV_CTL); open streams
 * within H2_STREAMS_MAX and equal to the slots in use; windows never
 * above 2^31-1 while the connection lives, ours never negative; every
 * field lies in h->scratch or is a string of the static table; requests
 * are well formed (pseudo-fields first, :method, and :scheme and :path
 * but for CONNECT, which has :authority; names lowercase tokens, no CR,
 * LF or NUL in values, nor SP or HTAB at their ends), on odd, increasing
 * stream ids; DATA lies in the input; a stream the server holds is never
 * freed behind its back; the control frames written are well formed,
 * our SETTINGS first and GOAWAY last; the WINDOW_UPDATE credit we give
 * never exceeds the DATA bytes taken, on the connection and on each
 * stream; after H2_EV_CLOSE for an error a GOAWAY with that code and
 * the last stream has been queued.  With the control frames written at
 * every event and no body, feeding the input whole or in pieces gives
 * the same events and the same control bytes.
 *
 * The client's preface must be followed by SETTINGS (RFC 9113 3.4): an
 * input that starts otherwise ends at once, and the seeds all start so.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h2.h"

#define FAIL(what)                                                                                 \
	do {                                                                                       \
		fprintf(stderr, "fuzz_h2: %s (line %d)\n", what, __LINE__);                        \
		abort();                                                                           \
	} while (0)

#define WINDOW_MAX 0x7fffffff

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 7541 Appendix A's strings: a field outside the scratch must be one
 * of them (the table's own, NUL-terminated). */
static const char *const static_strings[] = {
    "",
    ":authority",
    ":method",
    "GET",
    "POST",
    ":path",
    "/",
    "/index.html",
    ":scheme",
    "http",
    "https",
    ":status",
    "200",
    "204",
    "206",
    "304",
    "400",
    "404",
    "500",
    "accept-charset",
    "accept-encoding",
    "gzip, deflate",
    "accept-language",
    "accept-ranges",
    "accept",
    "access-control-allow-origin",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-range",
    "content-type",
    "cookie",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "link",
    "location",
    "max-forwards",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "refresh",
    "retry-after",
    "server",
    "set-cookie",
    "strict-transport-security",
    "transfer-encoding",
    "user-agent",
    "vary",
    "via",
    "www-authenticate",
};

static void check_span(const struct http_span *s, const uint8_t *scratch, size_t cap)
{
	const char *lo = (const char *)scratch;
	if (s->n && !s->p)
		FAIL("a span without a pointer");
	if (s->p >= lo && s->p <= lo + cap && s->n <= (size_t)(lo + cap - s->p))
		return;
	for (size_t i = 0; i < sizeof static_strings / sizeof static_strings[0]; i++)
		if (strlen(static_strings[i]) == s->n &&
		    memcmp(static_strings[i], s->p, s->n) == 0 && s->p[s->n] == '\0')
			return;
	FAIL("a field neither in the scratch nor a static string");
}

static void check_table(const struct hpack_dec *d)
{
	if (d->max > H2_TABLE_SIZE || d->size > d->max || d->n > H2_TABLE_SIZE / 32)
		FAIL("table over its limits");
	uint32_t sum = 0, off = 0;
	for (unsigned i = 0; i < d->n; i++) {
		if (d->ent[i].off != off)
			FAIL("table entries not back to back");
		off += d->ent[i].nlen + d->ent[i].vlen;
		sum += d->ent[i].nlen + d->ent[i].vlen + 32u;
	}
	if (sum != d->size || off > sizeof d->buf)
		FAIL("table size is not the sum of its entries");
}

/* ---- HPACK ---- */

static uint32_t huff_code[257];

static void huff_derive(void)
{
	static bool done;
	if (done)
		return;
	uint32_t code = 0;
	unsigned prev = 0;
	bool first = true;
	for (unsigned len = 1; len <= 30; len++)
		for (unsigned s = 0; s < 257; s++)
			if (hpack_huff_len[s] == len) {
				if (!first)
					code = (code + 1) << (len - prev);
				first = false;
				prev = len;
				huff_code[s] = code;
			}
	done = true;
}

static size_t huff_encode(const uint8_t *s, size_t n, uint8_t *out)
{
	uint64_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << hpack_huff_len[s[i]] | huff_code[s[i]];
		bits += hpack_huff_len[s[i]];
		while (bits >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits)
		out[o++] = (uint8_t)(acc << (8 - bits) | (0xffu >> bits));
	return o;
}

static struct hpack_dec dec;
static uint8_t scratch[H2_FIELD_BYTES];
static struct hpack_field fields[H2_FIELDS_MAX];

static int decode(const uint8_t *in, size_t len, size_t cap, unsigned max)
{
	unsigned n = 12345;
	int rc = hpack_decode(&dec, in, len, scratch, cap, fields, max, &n);
	if (rc != 0 && rc != H2_COMPRESSION_ERROR && rc != H2_ENHANCE_YOUR_CALM)
		FAIL("hpack_decode result");
	check_table(&dec);
	if (rc == 0) {
		if (n > max)
			FAIL("more fields than max");
		for (unsigned i = 0; i < n; i++) {
			check_span(&fields[i].name, scratch, cap);
			check_span(&fields[i].value, scratch, cap);
		}
	}
	return rc;
}

static void fuzz_huffman(const uint8_t *in, size_t len)
{
	static uint8_t out[1 << 16], again[1 << 16];
	if (len > 32768)
		len = 32768;
	long k = hpack_huffman_decode(in, len, out, sizeof out);
	if (k < -2 || k > (long)sizeof out)
		FAIL("huffman result");
	if (k < 0)
		return;
	/* at least 5 bits a symbol, at most 7 of padding */
	if ((size_t)k * 5 > len * 8 || len * 8 > (size_t)k * 30 + 7)
		FAIL("huffman length impossible");
	huff_derive();
	size_t n = huff_encode(out, (size_t)k, again);
	if (n != len || memcmp(again, in, len))
		FAIL("huffman string does not encode back to itself");
	if (k > 0 && hpack_huffman_decode(in, len, out, (size_t)k - 1) != -2)
		FAIL("huffman over its cap not -2");
}

static void fuzz_encoders(const uint8_t *in, size_t len)
{
	char name[64], value[256];
	size_t nl = 0, vl = 0;
	for (size_t i = 0; i < len && nl < sizeof name; i++) {
		char c = (char)in[i];
		if (c >= 'a' && c <= 'z')
			name[nl++] = c;
		else if (c == '-' && nl)
			name[nl++] = c;
	}
	for (size_t i = 0; i < len && vl < sizeof value; i++)
		value[vl++] = (char)in[i];
	if (!nl)
		return;
	uint8_t block[512];
	size_t bl = 0;
	int status = len ? 100 + in[0] * 3 % 900 : 200;
	if (!hpack_encode_status(block, sizeof block, &bl, status) ||
	    !hpack_encode_field(block, sizeof block, &bl, name, nl, value, vl))
		FAIL("encoder refused what fits");
	hpack_dec_init(&dec);
	unsigned n;
	if (hpack_decode(&dec, block, bl, scratch, sizeof scratch, fields, H2_FIELDS_MAX, &n) !=
		0 ||
	    n != 2 || dec.n != 0)
		FAIL("encoded fields do not decode");
	char sv[4];
	snprintf(sv, sizeof sv, "%d", status);
	if (fields[0].value.n != 3 || memcmp(fields[0].value.p, sv, 3) || fields[1].name.n != nl ||
	    memcmp(fields[1].name.p, name, nl) || fields[1].value.n != vl ||
	    (vl && memcmp(fields[1].value.p, value, vl)))
		FAIL("encoded fields decode to something else");
	/* the field alone, in one byte less than it needs: false */
	size_t need = 0, l = 0;
	if (!hpack_encode_field(block, sizeof block, &need, name, nl, value, vl) ||
	    hpack_encode_field(block, need - 1, &l, name, nl, value, vl) || l > need - 1)
		FAIL("encoder cap");
}

static void fuzz_hpack(const uint8_t *in, size_t len)
{
	hpack_dec_init(&dec);
	if (decode(in, len, sizeof scratch, H2_FIELDS_MAX) == 0)
		(void)decode(in, len, sizeof scratch, H2_FIELDS_MAX); /* the table it left */
	fuzz_huffman(in, len);
	fuzz_encoders(in, len);
}

static void fuzz_hpack_blocks(const uint8_t *in, size_t len)
{
	if (len < 3)
		return;
	hpack_dec_init(&dec);
	dec.max = (uint32_t)in[0] * 17 % (H2_TABLE_SIZE + 1);
	size_t cap = (size_t)in[1] * 65 % sizeof scratch + 1;
	unsigned max = in[2] % H2_FIELDS_MAX + 1;
	for (size_t i = 3; i < len;) {
		size_t n = in[i++];
		if (n > len - i)
			n = len - i;
		if (decode(in + i, n, cap, max) != 0)
			return;
		i += n;
	}
}

/* ---- a connection ---- */

struct job {
	struct h2_stream *s; /* NULL: free */
	uint32_t id;
	size_t left;
};

/* What one run saw, for the whole-versus-pieces comparison. */
struct record {
	unsigned nev;
	struct {
		uint8_t type, error;
		uint32_t id;
		size_t len;
	} ev[4096];
	size_t ctl_len;
	uint8_t ctl[1 << 17];
};

static struct h2_conn conn;
static struct job jobs[H2_STREAMS_MAX];
static uint8_t in[H2_PREFACE_LEN + (1 << 20)];
static struct record rec_a, rec_b;

struct run_state {
	bool body, eager, actions;
	bool settings_seen, goaway_seen;
	uint32_t last_request;
	unsigned requests;
	uint64_t data_taken, data_credit;
	uint64_t stream_taken[H2_STREAMS_MAX]; /* by slot, while its id is the same */
	uint64_t stream_credit[H2_STREAMS_MAX];
	uint32_t stream_taken_id[H2_STREAMS_MAX];
	struct record *rec;
};

/* The control frames are written: check each, keep them. */
static void ctl_write(struct run_state *st)
{
	struct h2_conn *h = &conn;
	if (h->ctl_len > H2_CTL_MAX)
		FAIL("control queue over H2_CTL_MAX");
	for (size_t o = 0; o < h->ctl_len;) {
		if (h->ctl_len - o < H2_FRAME_HEADER)
			FAIL("control frame cut");
		const uint8_t *f = h->ctl + o;
		size_t len = be24(f);
		uint8_t type = f[3], flags = f[4];
		uint32_t id = be32(f + 5);
		const uint8_t *p = f + H2_FRAME_HEADER;
		if (h->ctl_len - o - H2_FRAME_HEADER < len)
			FAIL("control frame cut");
		if (id & 0x80000000u)
			FAIL("reserved bit set");
		if (st->goaway_seen)
			FAIL("a frame after our GOAWAY");
		if (!st->settings_seen && type != H2_SETTINGS)
			FAIL("our first frame is not SETTINGS");
		switch (type) {
		case H2_SETTINGS:
			if (id != 0 || len % 6)
				FAIL("SETTINGS malformed");
			if (st->settings_seen && (flags != 1 || len != 0))
				FAIL("a SETTINGS of ours after the first is not an ack");
			st->settings_seen = true;
			break;
		case H2_PING:
			if (id != 0 || len != 8 || flags != 1)
				FAIL("PING ack malformed");
			break;
		case H2_WINDOW_UPDATE: {
			if (len != 4)
				FAIL("WINDOW_UPDATE malformed");
			uint32_t inc = be32(p);
			if (inc == 0 || inc > WINDOW_MAX)
				FAIL("WINDOW_UPDATE increment");
			if (id == 0) {
				st->data_credit += inc;
				if (st->data_credit > st->data_taken)
					FAIL("more connection credit than DATA taken");
			}
			for (unsigned i = 0; id && i < H2_STREAMS_MAX; i++) {
				if (st->stream_taken_id[i] != id)
					continue;
				st->stream_credit[i] += inc;
				if (st->stream_credit[i] > st->stream_taken[i])
					FAIL("more stream credit than DATA taken");
			}
			break;
		}
		case H2_RST_STREAM:
			if (len != 4 || id == 0 || be32(p) > H2_HTTP_1_1_REQUIRED)
				FAIL("RST_STREAM malformed");
			break;
		case H2_GOAWAY:
			if (id != 0 || len != 8 || (be32(p) & WINDOW_MAX) != h->last_stream)
				FAIL("GOAWAY malformed");
			st->goaway_seen = true;
			break;
		default:
			FAIL("a control frame of another type");
		}
		o += H2_FRAME_HEADER + len;
	}
	struct record *r = st->rec;
	if (r) {
		size_t n = h->ctl_len < sizeof r->ctl - r->ctl_len ? h->ctl_len
								   : sizeof r->ctl - r->ctl_len;
		memcpy(r->ctl + r->ctl_len, h->ctl, n);
		r->ctl_len += n;
	}
	h2_conn_ctl_sent(h);
}

static bool is_pseudo(const struct http_span *n)
{
	return n->n && n->p[0] == ':';
}

static bool span_eq(const struct http_span *s, const char *t)
{
	return s->n == strlen(t) && memcmp(s->p, t, s->n) == 0;
}

static void check_request(struct run_state *st, const struct h2_event *ev)
{
	struct h2_conn *h = &conn;
	struct h2_stream *s = ev->stream;
	if (!s || s < h->streams || s >= h->streams + H2_STREAMS_MAX || !s->id)
		FAIL("request without a stream");
	if (!(s->id & 1) || s->id <= st->last_request || s->id > h->last_stream)
		FAIL("request stream id");
	st->last_request = s->id;
	if (s->state != (ev->end_stream ? H2_ST_HALF_CLOSED_REMOTE : H2_ST_OPEN))
		FAIL("request stream state");
	if (ev->fields != h->fields || ev->nfields > H2_FIELDS_MAX)
		FAIL("request fields");
	bool regular = false, method = false, scheme = false, path = false, authority = false;
	bool connect = false;
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct http_span *n = &ev->fields[i].name, *v = &ev->fields[i].value;
		check_span(n, h->scratch, sizeof h->scratch);
		check_span(v, h->scratch, sizeof h->scratch);
		for (size_t k = 0; k < v->n; k++)
			if (v->p[k] == 0 || v->p[k] == '\r' || v->p[k] == '\n')
				FAIL("CR, LF or NUL in a value");
		if (v->n && (v->p[0] == ' ' || v->p[0] == '\t' || v->p[v->n - 1] == ' ' ||
			     v->p[v->n - 1] == '\t'))
			FAIL("SP or HTAB at an end of a value");
		if (is_pseudo(n)) {
			if (regular)
				FAIL("pseudo-field after a regular one");
			if (span_eq(n, ":method")) {
				if (method)
					FAIL("two :method");
				method = true;
				connect = span_eq(v, "CONNECT");
			}
			scheme |= span_eq(n, ":scheme");
			path |= span_eq(n, ":path");
			authority |= span_eq(n, ":authority");
			continue;
		}
		regular = true;
		if (!n->n)
			FAIL("empty field name");
		for (size_t k = 0; k < n->n; k++) {
			unsigned char c = (unsigned char)n->p[k];
			if (c <= 0x20 || c >= 0x7f || (c >= 'A' && c <= 'Z') || c == ':')
				FAIL("field name not a lowercase token");
		}
		if (span_eq(n, "connection") || span_eq(n, "transfer-encoding") ||
		    span_eq(n, "upgrade") || span_eq(n, "keep-alive") ||
		    span_eq(n, "proxy-connection"))
			FAIL("connection-specific field");
		if (span_eq(n, "te") && !span_eq(v, "trailers"))
			FAIL("te other than trailers");
	}
	if (!method || (!connect && (!scheme || !path)) || (connect && !authority))
		FAIL("mandatory pseudo-fields missing");
}

/* A stream the server holds must still be the one it was given. */
static void check_jobs(void)
{
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++) {
		struct job *j = &jobs[i];
		if (j->s && (j->s->id != j->id || j->s->app != j))
			FAIL("a stream freed behind the server's back");
	}
}

static void check_conn(const struct run_state *st)
{
	const struct h2_conn *h = &conn;
	if (h->ctl_len > H2_CTL_MAX)
		FAIL("control queue over H2_CTL_MAX");
	unsigned open = 0;
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++) {
		const struct h2_stream *s = &h->streams[i];
		if (!s->id)
			continue;
		open++;
		if (!(s->id & 1) || s->id > h->last_stream)
			FAIL("a stream's id");
		if (!h->goaway_sent && s->send_window > WINDOW_MAX)
			FAIL("a stream window above 2^31-1");
	}
	if (open != h->open || h->open > H2_STREAMS_MAX)
		FAIL("open streams");
	if (!h->goaway_sent && h->send_window > WINDOW_MAX)
		FAIL("connection window above 2^31-1");
	if (h->send_window < 0)
		FAIL("connection window below 0");
	(void)st;
}

static void answer(struct run_state *st, struct h2_stream *s, const struct h2_event *ev)
{
	struct h2_conn *h = &conn;
	st->requests++;
	if (st->actions && st->requests % 3 == 0) {
		h2_stream_reset(h, s, H2_CANCEL);
		return;
	}
	uint8_t block[64], frame[H2_FRAME_HEADER + 64];
	size_t bl = 0;
	if (!hpack_encode_status(block, sizeof block, &bl, 200 + (int)(ev->nfields % 4)) ||
	    !hpack_encode_field(block, sizeof block, &bl, "content-type", 12, "text/plain", 10))
		FAIL("encoding a response");
	size_t left = 0;
	if (st->body)
		left = (size_t)(ev->nfields * 7919 + s->id * 31) % 70000;
	uint32_t id = s->id;
	size_t fl = h2_stream_headers(h, s, frame, sizeof frame, block, bl, left == 0);
	if (fl != H2_FRAME_HEADER + bl || be24(frame) != bl || frame[3] != H2_HEADERS ||
	    be32(frame + 5) != id || !(frame[4] & 0x4) || !!(frame[4] & 1) != (left == 0))
		FAIL("our HEADERS frame");
	if (left == 0) {
		if (s->id == id)
			FAIL("END_STREAM did not free the stream");
		return;
	}
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++)
		if (!jobs[i].s) {
			jobs[i] = (struct job){s, id, left};
			s->app = &jobs[i];
			return;
		}
	FAIL("more streams than jobs");
}

static void pump(struct run_state *st)
{
	struct h2_conn *h = &conn;
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++) {
		struct job *j = &jobs[i];
		if (!j->s)
			continue;
		size_t room = h2_stream_room(h, j->s);
		if (room > h->peer_frame_max ||
		    (room && ((int64_t)room > h->send_window || (int64_t)room > j->s->send_window)))
			FAIL("room beyond a window or the peer's frame size");
		size_t n = j->left < room ? j->left : room;
		if (!n)
			continue;
		uint8_t fh[H2_FRAME_HEADER];
		bool end = n == j->left;
		int64_t cw = h->send_window, sw = j->s->send_window;
		h2_stream_data(h, j->s, fh, n, end);
		if (be24(fh) != n || fh[3] != H2_DATA || be32(fh + 5) != j->id ||
		    (fh[4] & 1) != end)
			FAIL("our DATA frame");
		if (h->send_window != cw - (int64_t)n ||
		    (!end && j->s->send_window != sw - (int64_t)n))
			FAIL("DATA not charged to the windows");
		j->left -= n;
		if (end) {
			if (j->s->id == j->id)
				FAIL("END_STREAM did not free the stream");
			j->s = NULL;
		}
	}
	(void)st;
}

/* The frames in in[from..to) the core has just taken: count DATA. */
static void taken(struct run_state *st, size_t from, size_t to, bool preface_before)
{
	struct h2_conn *h = &conn;
	if (!preface_before && h->preface_seen)
		from += H2_PREFACE_LEN;
	while (from + H2_FRAME_HEADER <= to) {
		size_t len = be24(in + from);
		if (in[from + 3] == H2_DATA) {
			uint32_t id = be32(in + from + 5) & WINDOW_MAX;
			st->data_taken += len;
			for (unsigned i = 0; i < H2_STREAMS_MAX; i++)
				if (h->streams[i].id == id && id) {
					if (st->stream_taken_id[i] != id) {
						st->stream_taken_id[i] = id;
						st->stream_taken[i] = st->stream_credit[i] = 0;
					}
					st->stream_taken[i] += len;
				}
		}
		from += H2_FRAME_HEADER + len;
	}
}

static void record(struct run_state *st, const struct h2_event *ev)
{
	struct record *r = st->rec;
	if (!r || ev->type == H2_EV_NONE || ev->type == H2_EV_CTL || r->nev == 4096)
		return;
	r->ev[r->nev].type = (uint8_t)ev->type;
	r->ev[r->nev].error = (uint8_t)ev->error;
	r->ev[r->nev].id = ev->stream ? ev->stream->id : 0;
	r->ev[r->nev].len = ev->len;
	r->nev++;
}

static void run(const uint8_t *data, size_t size, uint8_t mode, bool whole, struct record *rec)
{
	struct h2_conn *h = &conn;
	struct run_state st;
	memset(&st, 0, sizeof st);
	st.body = mode & 1;
	st.eager = mode & 2;
	st.actions = mode & 0x40;
	st.rec = rec;
	if (rec)
		rec->nev = 0, rec->ctl_len = 0;
	memset(jobs, 0, sizeof jobs);
	h2_conn_init(h);
	ctl_write(&st); /* our SETTINGS go first */
	size_t total = 0;
	if (!(mode & 0x80)) {
		memcpy(in, H2_PREFACE, H2_PREFACE_LEN);
		total = H2_PREFACE_LEN;
	}
	if (size > sizeof in - total)
		size = sizeof in - total;
	memcpy(in + total, data, size);
	total += size;
	uint32_t rng = mode * 2654435761u + 1;
	size_t base = (size_t)(mode % 64) * 61 + 1, fed = 0, off = 0;
	for (;;) { /* each round feeds a byte at least */
		rng = rng * 1103515245u + 12345;
		size_t piece = whole ? total : 1 + (rng >> 8) % (2 * base);
		fed = fed + piece < total ? fed + piece : total;
		for (;;) {
			struct h2_event ev;
			size_t used = (size_t)-1, avail = fed - off;
			bool preface_before = h->preface_seen;
			h2_conn_input(h, in + off, avail, &used, &ev);
			if (used > avail)
				FAIL("took more than given");
			taken(&st, off, off + used, preface_before);
			off += used;
			check_conn(&st);
			record(&st, &ev);
			switch (ev.type) {
			case H2_EV_NONE: {
				/* what is left is not a whole frame */
				size_t rem = fed - off;
				if (!h->preface_seen ? rem >= H2_PREFACE_LEN
						     : rem >= H2_FRAME_HEADER &&
							   rem >= H2_FRAME_HEADER + be24(in + off))
					FAIL("NONE with a whole frame left");
				break;
			}
			case H2_EV_REQUEST:
				check_request(&st, &ev);
				answer(&st, ev.stream, &ev);
				if (st.actions && st.requests == 10)
					h2_conn_goaway(h, H2_NO_ERROR);
				break;
			case H2_EV_DATA:
			case H2_EV_TRAILERS_END:
				if (!ev.stream || !ev.stream->id)
					FAIL("body event without a stream");
				if (ev.type == H2_EV_DATA &&
				    (ev.len > H2_FRAME_MAX ||
				     (ev.len && (ev.data < in || ev.data + ev.len > in + fed))))
					FAIL("DATA outside the input");
				if (ev.type == H2_EV_TRAILERS_END &&
				    ev.stream->state != H2_ST_HALF_CLOSED_REMOTE)
					FAIL("trailers did not close the client's side");
				break;
			case H2_EV_RESET: {
				struct job *j = ev.app;
				if (j) {
					if (j < jobs || j >= jobs + H2_STREAMS_MAX || !j->s)
						FAIL("RESET with an app pointer not ours");
					j->s = NULL;
				}
				break;
			}
			case H2_EV_WINDOW:
				break;
			case H2_EV_CTL:
				if (h->ctl_len <= H2_CTL_MAX / 2)
					FAIL("CTL with the queue not half full");
				ctl_write(&st);
				break;
			case H2_EV_CLOSE:
				if (!ev.why && ev.error != H2_NO_ERROR)
					FAIL("CLOSE without a reason");
				if (ev.error != H2_NO_ERROR) {
					/* our GOAWAY with that code: queued, or written */
					if (!h->goaway_sent)
						FAIL("CLOSE for an error without GOAWAY");
				}
				h2_conn_goaway(h, H2_NO_ERROR);
				ctl_write(&st);
				if (!st.goaway_seen)
					FAIL("no GOAWAY after CLOSE");
				return;
			default:
				FAIL("unknown event");
			}
			check_jobs(); /* (a RESET's job is freed above) */
			if (st.eager)
				ctl_write(&st);
			else if (h->ctl_len > H2_CTL_MAX / 2 + 64)
				FAIL("control queue over half full without CTL");
			if (ev.type == H2_EV_NONE)
				break;
		}
		pump(&st);
		check_jobs();
		if (fed == total)
			break;
	}
	ctl_write(&st); /* what is left, written at last */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode == 0) {
		fuzz_hpack(data, size);
		return 0;
	}
	if (mode == 0x40) {
		fuzz_hpack_blocks(data, size);
		return 0;
	}
	bool compare = !(mode & 1) && (mode & 2);
	run(data, size, mode, false, compare ? &rec_a : NULL);
	if (compare) {
		run(data, size, mode, true, &rec_b);
		if (rec_a.nev != rec_b.nev)
			FAIL("events differ between whole and pieces");
		for (unsigned i = 0; i < rec_a.nev; i++)
			if (rec_a.ev[i].type != rec_b.ev[i].type ||
			    rec_a.ev[i].error != rec_b.ev[i].error ||
			    rec_a.ev[i].id != rec_b.ev[i].id || rec_a.ev[i].len != rec_b.ev[i].len)
				FAIL("events differ between whole and pieces");
		if (rec_a.ctl_len != rec_b.ctl_len || memcmp(rec_a.ctl, rec_b.ctl, rec_a.ctl_len))
			FAIL("control frames differ between whole and pieces");
	}
	return 0;
}
