/*
 * fuzz_h2.c - libFuzzer target for the HTTP/2 server core (lib/http/h2.c)
 * and HPACK (lib/http/hpack.c).
 *
 * The first byte picks the mode.  Mode 0: the rest goes to hpack_decode
 * (a header block, against a table the block itself fills) and to
 * hpack_huffman_decode.  Otherwise the rest is what a client sends after
 * the preface, fed to h2_conn_input in pieces whose sizes the first byte
 * sets; the fuzzer plays the server too: every request is answered with
 * HEADERS and as much DATA as the windows allow, and the queued control
 * frames are taken.  Invariants: the queue stays within H2_CTL_MAX, open
 * streams within H2_STREAMS_MAX, every field lies in the connection's
 * scratch or in static memory, windows never pass 2^31-1, and after
 * H2_EV_CLOSE a GOAWAY has been queued.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/h2.h"

static void check_span(const struct h2_conn *h, const struct http_span *s)
{
	const char *lo = (const char *)h->scratch, *hi = lo + sizeof h->scratch;
	bool inside = s->p >= lo && s->p + s->n <= hi;
	/* the static table's strings are the only others */
	if (!inside && s->n > 32)
		abort();
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
		static struct hpack_dec d;
		static uint8_t scratch[H2_FIELD_BYTES];
		struct hpack_field f[H2_FIELDS_MAX];
		unsigned n;
		hpack_dec_init(&d);
		int rc =
		    hpack_decode(&d, data, size, scratch, sizeof scratch, f, H2_FIELDS_MAX, &n);
		if (rc != 0 && rc != H2_COMPRESSION_ERROR && rc != H2_ENHANCE_YOUR_CALM)
			abort();
		if (d.size > d.max || d.max > H2_TABLE_SIZE)
			abort();
		uint8_t out[4096];
		long k = hpack_huffman_decode(data, size, out, sizeof out);
		if (k < -2 || k > (long)sizeof out)
			abort();
		return 0;
	}
	static struct h2_conn h;
	h2_conn_init(&h);
	static uint8_t in[H2_PREFACE_LEN + 65536];
	if (size > sizeof in - H2_PREFACE_LEN)
		size = sizeof in - H2_PREFACE_LEN;
	memcpy(in, H2_PREFACE, H2_PREFACE_LEN);
	memcpy(in + H2_PREFACE_LEN, data, size);
	size_t total = H2_PREFACE_LEN + size, fed = 0, off = 0;
	size_t piece = (size_t)(mode % 64) * 61 + 1;
	uint8_t frame[H2_FRAME_HEADER + 64];
	for (unsigned round = 0; round < 100000; round++) {
		fed = fed + piece < total ? fed + piece : total;
		struct h2_event ev;
		size_t used;
		h2_conn_input(&h, in + off, fed - off, &used, &ev);
		if (used > fed - off || h.ctl_len > H2_CTL_MAX || h.open > H2_STREAMS_MAX ||
		    h.send_window > 0x7fffffff)
			abort();
		off += used;
		if (ev.type == H2_EV_CLOSE) {
			if (ev.error != H2_NO_ERROR && !h.goaway_sent)
				abort();
			return 0;
		}
		if (ev.type == H2_EV_REQUEST) {
			for (unsigned i = 0; i < ev.nfields; i++) {
				check_span(&h, &ev.fields[i].name);
				check_span(&h, &ev.fields[i].value);
			}
			uint8_t block[16];
			size_t bl = 0;
			if (!hpack_encode_status(block, sizeof block, &bl, 200))
				abort();
			struct h2_stream *s = ev.stream;
			bool body = (mode & 1) != 0;
			if (h2_stream_headers(&h, s, frame, sizeof frame, block, bl, !body) == 0)
				abort();
			if (body) {
				size_t room = h2_stream_room(&h, s);
				if (room > 0)
					h2_stream_data(&h, s, frame, room < 100 ? room : 100, true);
				else
					h2_stream_reset(&h, s, H2_CANCEL);
			}
		}
		for (unsigned i = 0; i < H2_STREAMS_MAX; i++)
			if (h.streams[i].id && h.streams[i].send_window > 0x7fffffff)
				abort();
		if (ev.type == H2_EV_CTL || (mode & 2))
			h2_conn_ctl_sent(&h);
		if (ev.type == H2_EV_NONE && fed == total)
			return 0;
	}
	return 0;
}
