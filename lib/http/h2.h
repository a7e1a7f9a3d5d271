/*
 * h2.h - the HTTP/2 server core (RFC 9113) and its header compression,
 * HPACK (RFC 7541).  I/O-free, like http.h: the caller reads bytes into a
 * buffer, hands them to h2_conn_input, and writes what the core queues.
 *
 * The server side only: streams are opened by the client, the server
 * never pushes (SETTINGS_ENABLE_PUSH is irrelevant to it), and its HPACK
 * encoder never adds to the peer's dynamic table (every field is a
 * static-table reference or a literal "without indexing"), so the
 * peer's table size settings cannot make it fail.
 *
 * Limits (the attack mitigations of RFC 9113 10.5 and the 2023 rapid
 * reset and 2024 CONTINUATION flood advisories): a header block is at
 * most H2_HEADER_BLOCK_MAX bytes however many CONTINUATION frames carry
 * it, and decodes to at most H2_FIELDS_MAX fields in H2_FIELD_BYTES
 * bytes (an HPACK bomb cannot grow past that); at most H2_STREAMS_MAX
 * streams are open at once (more are refused with REFUSED_STREAM); a
 * client that resets more streams than it lets complete, past
 * H2_RESET_BUDGET (or makes us reset them by stream errors on requests
 * already given to the application: "MadeYouReset"), or floods empty
 * frames or pings, gets GOAWAY with ENHANCE_YOUR_CALM.  What the client
 * sends on a stream we closed first (reset, or answered before its
 * END_STREAM) is ignored, its header blocks still decoded, as long as
 * the stream is among the last H2_CLOSED_MAX closed.  Control frames
 * the client makes us answer (SETTINGS and PING acknowledgements,
 * WINDOW_UPDATE, RST_STREAM) wait in a small queue; once it is half full
 * h2_conn_input stops taking frames and says H2_EV_CTL until the caller
 * has written it, so a client that does not read what it asks for only
 * stalls its own connection.
 */
#ifndef ATOLL_HTTP_H2_H
#define ATOLL_HTTP_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

#define H2_PREFACE	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN	    24
#define H2_FRAME_HEADER	    9
#define H2_FRAME_MAX	    16384 /* SETTINGS_MAX_FRAME_SIZE we announce (the minimum) */
#define H2_STREAMS_MAX	    100	  /* SETTINGS_MAX_CONCURRENT_STREAMS we announce */
#define H2_WINDOW	    65535 /* our receive windows (the initial size, kept topped up) */
#define H2_HEADER_BLOCK_MAX 16384 /* bytes of one HEADERS + CONTINUATION block */
#define H2_FIELD_BYTES	    16384 /* SETTINGS_MAX_HEADER_LIST_SIZE we announce */
#define H2_FIELDS_MAX	    64
#define H2_TABLE_SIZE	    4096 /* SETTINGS_HEADER_TABLE_SIZE (the default) */
#define H2_RESET_BUDGET	    100
#define H2_CTL_MAX	    1024 /* bytes of queued control frames */
#define H2_EMPTY_FRAMES_MAX 100	 /* empty DATA/CONTINUATION frames, PINGs, SETTINGS beyond need */
#define H2_CLOSED_MAX	    (2 * H2_STREAMS_MAX) /* closed streams remembered (RFC 9113 5.1) */

enum h2_frame_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
};

/* RFC 9113 7 */
enum h2_error {
	H2_NO_ERROR = 0,
	H2_PROTOCOL_ERROR = 1,
	H2_INTERNAL_ERROR = 2,
	H2_FLOW_CONTROL_ERROR = 3,
	H2_SETTINGS_TIMEOUT = 4,
	H2_STREAM_CLOSED = 5,
	H2_FRAME_SIZE_ERROR = 6,
	H2_REFUSED_STREAM = 7,
	H2_CANCEL = 8,
	H2_COMPRESSION_ERROR = 9,
	H2_CONNECT_ERROR = 10,
	H2_ENHANCE_YOUR_CALM = 11,
	H2_INADEQUATE_SECURITY = 12,
	H2_HTTP_1_1_REQUIRED = 13,
};

/* ---- HPACK (RFC 7541) ---- */

struct hpack_field {
	struct http_span name, value;
};

/* The decoder's dynamic table (RFC 7541 2.3.2): entries back to back in
 * buf, oldest first. */
struct hpack_dec {
	uint32_t max;  /* the size limit now in force (<= H2_TABLE_SIZE) */
	uint32_t size; /* RFC 7541 4.1: names + values + 32 per entry */
	unsigned n;
	struct {
		uint16_t off, nlen, vlen;
	} ent[H2_TABLE_SIZE / 32];
	uint8_t buf[H2_TABLE_SIZE];
};

void hpack_dec_init(struct hpack_dec *d);

/*
 * Decode one header block into fields[0..*n), the strings copied into
 * scratch[0..cap) (or pointing at the static table).  0 on success;
 * H2_COMPRESSION_ERROR for a malformed block (a bad index, integer or
 * Huffman string, a table size update above the limit or after a field);
 * H2_ENHANCE_YOUR_CALM when it decodes to more than max fields or cap
 * bytes.  Either error leaves the table unusable: the connection ends.
 */
int hpack_decode(struct hpack_dec *d, const uint8_t *in, size_t len, uint8_t *scratch, size_t cap,
		 struct hpack_field *fields, unsigned max, unsigned *n);

/* Decode a Huffman-coded string (RFC 7541 5.2) into out; its length, -1
 * when malformed (EOS inside, padding longer than 7 bits or not all
 * ones), -2 when longer than cap. */
long hpack_huffman_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* RFC 7541 Appendix B, as hpack.c holds it (for the unit test): each
 * symbol's code length, the symbols ordered by (length, symbol), and how
 * many codes each length has. */
extern const uint8_t hpack_huff_len[257];
extern const uint16_t hpack_huff_order[257];
extern const uint8_t hpack_huff_count[31];

/* Encoders for the server's responses (no dynamic table, no Huffman):
 * each appends to out[*len..cap) and returns false when it does not fit. */
bool hpack_encode_status(uint8_t *out, size_t cap, size_t *len, int status);
/* A field "without indexing", its name by static index when there is one;
 * the name must be lowercase. */
bool hpack_encode_field(uint8_t *out, size_t cap, size_t *len, const char *name, size_t nlen,
			const char *value, size_t vlen);

/* ---- HTTP/2 connections ---- */

enum h2_stream_state { H2_ST_IDLE = 0, H2_ST_OPEN, H2_ST_HALF_CLOSED_REMOTE, H2_ST_CLOSED };

struct h2_stream {
	uint32_t id; /* 0: the slot is free */
	enum h2_stream_state state;
	bool responding;	 /* our HEADERS went out; DATA may follow */
	int64_t send_window;	 /* RFC 9113 6.9: may go negative after a SETTINGS change */
	uint32_t recv_unacked;	 /* DATA bytes taken since our last WINDOW_UPDATE */
	bool has_length;	 /* content-length given ... */
	uint64_t content_length; /* ... and its value */
	uint64_t received;	 /* DATA bytes so far */
	void *app;		 /* the application's, untouched by the core */
};

enum h2_event_type {
	H2_EV_NONE,	    /* nothing more in the input given */
	H2_EV_REQUEST,	    /* a request's header block: ev.stream, ev.fields; ev.end_stream */
	H2_EV_DATA,	    /* request body bytes (already accounted for flow control) */
	H2_EV_TRAILERS_END, /* the end of a request's body (END_STREAM after DATA or trailers) */
	H2_EV_RESET,	    /* the client reset ev.stream: forget what it was for */
	H2_EV_WINDOW,	    /* a send window opened: data may go out again */
	H2_EV_CTL,	    /* h->ctl is half full: write it, then call again with the rest */
	H2_EV_CLOSE,	    /* the connection is over: write what is queued (GOAWAY) and close */
};

struct h2_event {
	enum h2_event_type type;
	struct h2_stream *stream;
	bool end_stream;
	const uint8_t *data; /* H2_EV_DATA */
	size_t len;
	unsigned nfields; /* H2_EV_REQUEST */
	const struct hpack_field *fields;
	void *app;	     /* H2_EV_RESET: the stream's app pointer (the stream is gone) */
	enum h2_error error; /* H2_EV_CLOSE: why (H2_NO_ERROR: the client said GOAWAY or closed) */
	const char *why;
};

struct h2_conn {
	bool preface_seen;
	bool settings_seen; /* RFC 9113 3.4: the client's preface ends with SETTINGS */
	bool goaway_sent, goaway_received;
	uint32_t last_stream; /* the highest stream id the client opened */
	uint32_t peer_frame_max;
	uint32_t peer_initial_window;
	int64_t send_window; /* the connection's */
	uint32_t recv_unacked;
	uint64_t completed, resets, empty_frames;
	unsigned open; /* streams open or half-closed */
	/* a header block arriving in HEADERS + CONTINUATION frames */
	uint32_t block_stream; /* 0: none in progress */
	bool block_end_stream, block_trailers;
	bool block_self_dep; /* its priority names the stream itself (RFC 9113 5.3.1) */
	size_t block_len;
	/* The streams closed lately, a ring (the oldest overwritten): what
	 * the client sends on one after we closed it first was in flight
	 * and is ignored (RFC 9113 5.1), where HEADERS on an id it never
	 * used is an error (5.1.1). */
	struct {
		uint32_t id;
		bool ours; /* we closed it while the client could still send */
	} closed[H2_CLOSED_MAX];
	unsigned closed_next;
	uint8_t block[H2_HEADER_BLOCK_MAX];
	struct hpack_dec dec;
	uint8_t scratch[H2_FIELD_BYTES];
	struct hpack_field fields[H2_FIELDS_MAX];
	struct h2_stream streams[H2_STREAMS_MAX];
	uint8_t ctl[H2_CTL_MAX]; /* control frames waiting to be written */
	size_t ctl_len;
	const char *why;
};

/* Ready the connection; queues our SETTINGS (the server's preface). */
void h2_conn_init(struct h2_conn *h);

/*
 * Take what the client sent in in[0..len): whole frames only (the
 * preface first).  *used is how many bytes were taken: the caller keeps
 * the rest and comes back with more.  One event per call; call again
 * with the rest until H2_EV_NONE.  Control frames the core must send
 * are queued in h->ctl (write them, then h2_conn_ctl_sent).
 */
void h2_conn_input(struct h2_conn *h, const uint8_t *in, size_t len, size_t *used,
		   struct h2_event *ev);

/* The queued control frames have been written. */
void h2_conn_ctl_sent(struct h2_conn *h);

/* Queue GOAWAY with error (last stream: the highest one opened). */
void h2_conn_goaway(struct h2_conn *h, enum h2_error error);

/* Queue RST_STREAM for s and close it. */
void h2_stream_reset(struct h2_conn *h, struct h2_stream *s, enum h2_error error);

/*
 * A HEADERS frame answering s into out[0..cap): the block must already
 * be HPACK-encoded in block[0..blen) and fit one frame (a response head
 * of ours always does).  end_stream: no body follows.  The frame's
 * length, or 0 when it does not fit.
 */
size_t h2_stream_headers(struct h2_conn *h, struct h2_stream *s, uint8_t *out, size_t cap,
			 const uint8_t *block, size_t blen, bool end_stream);

/* How many DATA bytes s may send now (both windows and the peer's frame
 * size); 0: wait for H2_EV_WINDOW. */
size_t h2_stream_room(const struct h2_conn *h, const struct h2_stream *s);

/* The 9-byte header of a DATA frame of len bytes (len <= h2_stream_room)
 * into out, the windows charged; end_stream closes our side. */
void h2_stream_data(struct h2_conn *h, struct h2_stream *s, uint8_t out[H2_FRAME_HEADER],
		    size_t len, bool end_stream);

#endif
