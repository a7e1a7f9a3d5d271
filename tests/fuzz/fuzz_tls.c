/*
 * fuzz_tls.c - libFuzzer target for lib/tls: what a hostile peer can send
 * a server or a client.
 *
 * A real client engine and a real server engine talk to each other with
 * fixed seeds, so their conversation is the same every run; the input
 * says which record of it, towards which side, is replaced, and with what.
 * Input: byte 0: bit 0 the victim (0 server, 1 client), bits 1-2 the
 * version limits (both, 1.2 only, 1.3 only), bit 3 tickets and a resumed
 * second connection; byte 1: the index of the record to replace (records
 * before it pass unchanged); then chunks, each a two-byte length and its
 * bytes, sent to the victim in place of that record and after it.
 * Invariants: no crash or sanitizer report; the output never overruns
 * (ASan); a failed engine has an alert and is no longer established; a
 * conversation the fuzzer did not touch (the first connection of a
 * resumption pair, or a record index past its end) ends with both sides
 * established.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "tls/tls_int.h"

/* The credential, loaded through tls_cred_load like any; the client does
 * not validate, but hostile certificate bytes still reach BearSSL's X.509
 * decoder through tls_chain_verify. */
#include "tls_fixture.h"

static uint8_t heap_mem[64 << 10] __attribute__((aligned(16)));

static struct tls_cred *fixture(void)
{
	static struct heap h;
	struct tls_cred *cr;
	heap_init(&h, heap_mem, sizeof heap_mem);
	if (tls_cred_load(NULL, &h, fuzz_cert_der, sizeof fuzz_cert_der, fuzz_key_der,
			  sizeof fuzz_key_der, &cr) != ATL_OK)
		abort();
	return cr;
}

#define CONN_MEM 80000

static uint8_t cmem[CONN_MEM] __attribute__((aligned(16)));
static uint8_t smem[CONN_MEM] __attribute__((aligned(16)));
static struct tls_cred *cred;

/* Move whole records from one side's output to the other's input; the
 * victim's n-th record (counted in *idx) and later ones come from the
 * fuzzer instead once that index is reached. */
struct feed {
	const uint8_t *data;
	size_t len, pos;
	unsigned target;
	bool victim_server;
	bool touched; /* a record was replaced or dropped, or bytes added */
};

static void to_engine(struct tls_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t cap;
		uint8_t *b = tls_conn_recv_buf(c, &cap);
		if (cap == 0) {
			uint8_t sink[4096];
			size_t got;
			if (tls_conn_read(c, sink, sizeof sink, &got) != ATL_OK || got == 0)
				return;
			continue;
		}
		size_t k = n < cap ? n : cap;
		memcpy(b, p, k);
		if (tls_conn_recv_done(c, k) != ATL_OK)
			return;
		p += k;
		n -= k;
	}
}

/* One step: drain from's output towards to; returns bytes moved. */
static size_t pump(struct tls_conn *from, struct tls_conn *to, bool to_is_victim, struct feed *f,
		   unsigned *idx)
{
	size_t moved = 0, n;
	const uint8_t *p;
	while ((p = tls_conn_send_buf(from, &n)) != NULL) {
		size_t off = 0;
		while (off + 5 <= n) {
			size_t rl = 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
			if (off + rl > n)
				break;
			if (to_is_victim && (*idx)++ >= f->target) {
				/* The fuzzer's chunks instead, one per record
				 * (none left: the record is dropped). */
				f->touched = true;
				if (f->pos + 2 <= f->len) {
					size_t cl =
					    (size_t)f->data[f->pos] << 8 | f->data[f->pos + 1];
					f->pos += 2;
					if (cl > f->len - f->pos)
						cl = f->len - f->pos;
					to_engine(to, f->data + f->pos, cl);
					f->pos += cl;
				}
			} else {
				to_engine(to, p + off, rl);
			}
			off += rl;
		}
		tls_conn_send_done(from, n);
		moved += n;
	}
	return moved;
}

static void check(struct tls_conn *c)
{
	unsigned st = tls_conn_state(c);
	if (st & TLS_ST_FAILED) {
		bool sent;
		if (tls_conn_alert(c, &sent) < 0)
			abort();
		if (st & TLS_ST_ESTABLISHED)
			abort();
	}
}

static void session(const struct tls_config *scfg, const struct tls_config *ccfg,
		    const struct tls_session *resume, struct feed *f, struct tls_session *out,
		    uint8_t seed_tweak)
{
	uint8_t seed[32];
	memset(seed, 0x5a ^ seed_tweak, sizeof seed);
	struct tls_conn *s = tls_conn_init(smem, sizeof smem, scfg, seed, 32, NULL, NULL);
	seed[0] ^= 1;
	struct tls_conn *c = tls_conn_init(cmem, sizeof cmem, ccfg, seed, 32, "fuzz.test", resume);
	if (!s || !c)
		abort();
	tls_conn_set_time(s, 1700000000000ull);
	tls_conn_set_time(c, 1700000000000ull);
	unsigned idx = 0;
	for (int round = 0; round < 16; round++) {
		size_t m = pump(c, s, f->victim_server, f, &idx);
		m += pump(s, c, !f->victim_server, f, &idx);
		if ((tls_conn_state(c) & TLS_ST_ESTABLISHED) && round == 4) {
			size_t d;
			tls_conn_write(c, "ping", 4, &d);
			tls_conn_key_update(c, true);
		}
		if (m == 0 && f->pos >= f->len)
			break;
		/* Left-over fuzz chunks go in even when the sender is silent. */
		if (m == 0) {
			to_engine(f->victim_server ? s : c, f->data + f->pos, f->len - f->pos);
			f->pos = f->len;
			f->touched = true;
		}
		check(s);
		check(c);
	}
	uint8_t sink[2048];
	size_t got;
	while (tls_conn_read(s, sink, sizeof sink, &got) == ATL_OK && got > 0)
		;
	check(s);
	check(c);
	/* An untouched conversation is a plain handshake: it must succeed. */
	if (!f->touched && (!(tls_conn_state(s) & TLS_ST_ESTABLISHED) ||
			    !(tls_conn_state(c) & TLS_ST_ESTABLISHED) ||
			    ((tls_conn_state(s) | tls_conn_state(c)) & TLS_ST_FAILED)))
		abort();
	if (out)
		*out = *tls_conn_session(c);
	tls_conn_wipe(s);
	tls_conn_wipe(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (!cred)
		cred = fixture();
	struct tls_config scfg, ccfg;
	tls_config_init(&scfg, true);
	tls_config_init(&ccfg, false);
	scfg.creds[0] = cred;
	scfg.ncreds = 1;
	ccfg.verify_peer = false;
	unsigned v = (data[0] >> 1) & 3;
	if (v == 1)
		scfg.max_version = ccfg.max_version = 0x0303;
	if (v == 2)
		scfg.min_version = ccfg.min_version = 0x0304;
	bool tickets = data[0] & 8;
	scfg.tickets_enabled = tickets;
	memset(scfg.ticket_key, 0x33, sizeof scfg.ticket_key);
	scfg.in_buf = ccfg.in_buf = 16709;
	scfg.out_buf = ccfg.out_buf = 16709;
	scfg.hs_buf = ccfg.hs_buf = 8192;
	if (tls_conn_size(&scfg) > CONN_MEM)
		abort();

	struct feed f = {data + 2, size - 2, 0, data[1], !(data[0] & 1), false};
	struct tls_session sess;
	memset(&sess, 0, sizeof sess);
	if (tickets) {
		/* A clean first connection for a ticket, then the fuzzed one
		 * resumes with it. */
		struct feed clean = {NULL, 0, 0, ~0u, true, false};
		session(&scfg, &ccfg, NULL, &clean, &sess, 0);
	}
	session(&scfg, &ccfg, tickets ? &sess : NULL, &f, NULL, 1);
	return 0;
}
