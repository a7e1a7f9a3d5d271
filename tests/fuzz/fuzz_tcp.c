/*
 * fuzz_tcp.c - libFuzzer target for TCP segment input against live
 * connection state.
 *
 * Each input sets up a stack over fakeplat with a listener and one
 * connection established by a handshake whose SYN options come from the
 * input, then runs a program of operations: segments with fuzzer-chosen
 * flags, options, window and payload whose sequence and acknowledgment
 * numbers are chosen relative to the connection's own (so the fuzzer
 * reaches the in-window paths that random numbers never hit), the passing
 * of time, application writes, reads, shutdown and close, and SYNs from
 * other ports, whole handshakes from other ports (which reach SYN
 * cookies once the backlog of 3 or the pool of 4 is full), and ICMP
 * errors quoting the connection's segments (path MTU discovery).  Checksums
 * are always fixed up.
 *
 * After every operation the connection's invariants must hold (sequence
 * numbers ordered, rings within their capacity, out-of-order ranges
 * inside the window); at the end, once everything is closed and every
 * timer has run out, every control block and packet buffer must be back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fakeplat.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "net/net.h"
#include "net/stack.h"

#define US    0x0a000002u
#define PEER  0x0a000001u
#define LPORT 80
#define RPORT 40000

static const uint8_t mac_us[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_peer[6] = {0x02, 0, 0, 0, 0, 0x01};

static struct fz {
	struct heap heap;
	struct loop l;
	struct plat_start start;
	char *argv[4];
	struct stack *st;
	struct net *n;
	struct tcp_listener *ls;
	struct tcp_conn *c; /* the application's, NULL once closed */
	unsigned baseline;
	uint8_t frame[FAKE_FRAME_MAX];
	uint8_t buf[8192];
} z;

static _Alignas(64) uint8_t heap_mem[2 << 20];

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "fuzz_tcp: " __VA_ARGS__);                                         \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

static uint32_t sum_bytes(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fire_timers(void)
{
	loop_now(&z.l);
	while (z.l.timers && z.l.timers->deadline <= z.l.now) {
		struct timer *t = z.l.timers;
		timer_cancel(&z.l, t);
		t->fn(&z.l, t);
	}
}

static void advance(uint64_t ns)
{
	uint64_t end = fake_time() + ns;
	while (z.l.timers && z.l.timers->deadline <= end) {
		if (z.l.timers->deadline > fake_time())
			fake_set_time(z.l.timers->deadline);
		fire_timers();
	}
	fake_set_time(end);
	fire_timers();
}

static void drain(void)
{
	while (fake_net_take("service", z.frame, sizeof z.frame) >= 0)
		;
}

/* Send the stack one TCP segment from the peer. */
static void segment(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		    const uint8_t *opts, size_t optlen, const uint8_t *data, size_t len)
{
	uint8_t *f = z.frame;
	size_t hlen = 20 + (optlen & ~(size_t)3);
	size_t tl = hlen + len;
	struct wr w = wr_make(f, sizeof z.frame);
	wr_bytes(&w, mac_us, 6);
	wr_bytes(&w, mac_peer, 6);
	wr_be16(&w, 0x0800);
	size_t ip = w.pos;
	wr_u8(&w, 0x45);
	wr_u8(&w, 0);
	wr_be16(&w, (uint16_t)(20 + tl));
	wr_be32(&w, 0);
	wr_u8(&w, 64);
	wr_u8(&w, 6);
	wr_be16(&w, 0);
	wr_be32(&w, PEER);
	wr_be32(&w, US);
	size_t t = w.pos;
	wr_be16(&w, sport);
	wr_be16(&w, LPORT);
	wr_be32(&w, seq);
	wr_be32(&w, ack);
	wr_be16(&w, (uint16_t)((hlen / 4) << 12 | flags));
	wr_be16(&w, wnd);
	wr_be16(&w, 0);
	wr_be16(&w, 0);
	wr_bytes(&w, opts, hlen - 20);
	wr_bytes(&w, data, len);
	if (!wr_ok(&w))
		return;
	wr_be16_at(&w, ip + 10, fold(sum_bytes(f + ip, 20, 0)));
	uint8_t ph[12];
	struct wr pw = wr_make(ph, sizeof ph);
	wr_be32(&pw, PEER);
	wr_be32(&pw, US);
	wr_be16(&pw, 6);
	wr_be16(&pw, (uint16_t)tl);
	wr_be16_at(&w, t + 16, fold(sum_bytes(f + t, tl, sum_bytes(ph, 12, 0))));
	fake_net_inject("service", f, w.pos);
	loop_now(&z.l);
	net_poll(&z.l, z.n);
}

static struct tcp_conn *live(void)
{
	/* The connection under test, whether or not the app still holds it. */
	for (struct tcp_conn *c = z.n->tcp->list; c; c = c->next)
		if (c->rport == RPORT)
			return c;
	return NULL;
}

static void check(void)
{
	struct tcp_conn *c = live();
	if (c) {
		if (c->state != TCP_SYN_SENT && c->state != TCP_SYN_RCVD &&
		    (tcp_seq_lt(c->snd_nxt, c->snd_una) || tcp_seq_lt(c->snd_max, c->snd_nxt)))
			FAIL("send sequence out of order: una %u nxt %u max %u", c->snd_una,
			     c->snd_nxt, c->snd_max);
		if (c->snd.len > c->snd.cap || c->rcv.len > c->rcv.cap)
			FAIL("ring overflow");
		if (c->nooo > TCP_OOO_MAX)
			FAIL("too many out-of-order ranges");
		for (unsigned i = 0; i < c->nooo; i++) {
			uint32_t rel_end = c->ooo[i].end - c->rcv_nxt;
			if (tcp_seq_le(c->ooo[i].start, c->rcv_nxt) ||
			    rel_end > c->rcv.cap - c->rcv.len)
				FAIL("out-of-order range outside the window");
		}
	}
	if (z.n->tcp->conns.in_use > z.n->tcp->conns.total)
		FAIL("control block accounting");
}

static void setup(struct rd *r)
{
	fake_reset();
	fake_set_time(1000 * NS_PER_SEC);
	fake_net_add("service", mac_us, 1500);
	memset(&z, 0, sizeof z);
	z.argv[0] = (char *)"ipv4=10.0.0.2/24";
	z.argv[1] = (char *)"tcp-conns=4";
	z.argv[2] = (char *)"tcp-buf=8192";
	z.start.argc = 3;
	z.start.argv = z.argv;
	z.start.heap = heap_mem;
	z.start.heap_size = sizeof heap_mem;
	heap_init(&z.heap, heap_mem, sizeof heap_mem);
	loop_init(&z.l, &z.heap, &z.start);
	if (stack_open(&z.l, "service", &z.st) != ATL_OK)
		FAIL("stack_open");
	z.n = net_of(z.st);
	z.baseline = z.n->pkts.in_use;
	struct ip4_ep local = {0, LPORT};
	if (tcp_listen(z.st, &local, 3, &z.ls) != ATL_OK)
		FAIL("tcp_listen");
	/* Teach ARP the peer: an ARP request for us. */
	uint8_t a[42];
	struct wr w = wr_make(a, sizeof a);
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6] = {0};
	wr_bytes(&w, bc, 6);
	wr_bytes(&w, mac_peer, 6);
	wr_be16(&w, 0x0806);
	wr_be16(&w, 1);
	wr_be16(&w, 0x0800);
	wr_u8(&w, 6);
	wr_u8(&w, 4);
	wr_be16(&w, 1);
	wr_bytes(&w, mac_peer, 6);
	wr_be32(&w, PEER);
	wr_bytes(&w, zero, 6);
	wr_be32(&w, US);
	fake_net_inject("service", a, sizeof a);
	net_poll(&z.l, z.n);
	drain();
	/* The handshake, with SYN options from the input. */
	uint8_t optlen = rd_u8(r) % 41;
	const uint8_t *opts = rd_take(r, optlen);
	if (!opts)
		optlen = 0;
	segment(RPORT, 1000, 0, 0x02, 65535, opts, optlen, NULL, 0);
	struct tcp_conn *c = live();
	if (c)
		segment(RPORT, 1001, c->iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	if (tcp_accept(z.ls, &z.c, NULL, TCP_NOWAIT) != ATL_OK)
		z.c = NULL;
	drain();
}

static void op_segment(struct rd *r)
{
	struct tcp_conn *c = live();
	uint8_t flags = rd_u8(r) & 0x3f;
	int16_t dseq = (int16_t)rd_be16(r);
	int16_t dack = (int16_t)rd_be16(r);
	uint16_t wnd = rd_be16(r);
	uint8_t optlen = rd_u8(r) % 41;
	const uint8_t *opts = rd_take(r, optlen);
	uint16_t len = rd_be16(r) % 1461;
	uint8_t fill = rd_u8(r);
	if (!rd_ok(r))
		return;
	memset(z.buf, fill, len);
	uint32_t seq = (c ? c->rcv_nxt : 1001) + (uint32_t)(int32_t)dseq;
	uint32_t ack = (c ? c->snd_una : 0) + (uint32_t)(int32_t)dack;
	segment(RPORT, seq, ack, flags, wnd, opts, optlen, z.buf, len);
}

static void op_time(struct rd *r)
{
	uint16_t ms = rd_be16(r);
	advance((uint64_t)ms * NS_PER_MS * (ms > 60000 ? 60 : 1));
}

static void op_write(struct rd *r)
{
	uint16_t len = rd_be16(r) % sizeof z.buf;
	if (!z.c || !rd_ok(r))
		return;
	memset(z.buf, 'w', len);
	size_t done;
	int rc = tcp_write(z.c, z.buf, len, &done, TCP_NOWAIT);
	if (done > len || (rc == ATL_OK && done != len))
		FAIL("tcp_write accounting");
}

static void op_read(struct rd *r)
{
	uint16_t cap = rd_be16(r) % sizeof z.buf;
	if (!z.c || !rd_ok(r))
		return;
	size_t len;
	if (tcp_read(z.c, z.buf, cap, &len, TCP_NOWAIT) == ATL_OK && len > cap)
		FAIL("tcp_read overran");
}

static void op_shutdown(struct rd *r)
{
	(void)r;
	if (z.c)
		tcp_shutdown(z.c);
}

static void op_close(struct rd *r)
{
	(void)r;
	if (z.c)
		tcp_close(z.c);
	z.c = NULL;
}

static void op_syn(struct rd *r)
{
	/* Another connection attempt, to fill the backlog and the pool. */
	uint16_t sport = rd_be16(r);
	if (sport == RPORT)
		sport++;
	segment(sport, rd_be32(r), 0, 0x02, 1000, NULL, 0, NULL, 0);
}

static void op_handshake(struct rd *r)
{
	/* A whole handshake from another port: SYN (options from the input),
	 * then the ACK of whatever SYN-ACK came back (a cookie when the
	 * backlog or the pool is full), off by a little and with data and
	 * flags from the input, to reach the cookie checks and the
	 * connections they make. */
	uint16_t sport = rd_be16(r);
	uint32_t iss = rd_be32(r);
	uint8_t optlen = rd_u8(r) % 41;
	const uint8_t *opts = rd_take(r, optlen);
	uint8_t flags = rd_u8(r) & 0x3f;
	int8_t dack = (int8_t)rd_u8(r);
	uint16_t len = rd_be16(r) % 1461;
	if (!rd_ok(r) || !opts)
		return;
	if (sport == RPORT)
		sport++;
	drain();
	segment(sport, iss, 0, 0x02, 65535, opts, optlen, NULL, 0);
	int flen;
	uint32_t synack = 0;
	bool got = false;
	while ((flen = fake_net_take("service", z.frame, sizeof z.frame)) >= 0) {
		if (flen >= 54 && z.frame[23] == 6 && (z.frame[47] & 0x12) == 0x12) {
			struct rd f = rd_make(z.frame + 38, 4);
			synack = rd_be32(&f);
			got = true;
		}
	}
	if (!got)
		return;
	memset(z.buf, 'h', len);
	segment(sport, iss + 1, synack + 1 + (uint32_t)(int32_t)dack, flags, 65535, NULL, 0, z.buf,
		len);
}

static void op_icmp(struct rd *r)
{
	/* An ICMP error from a router quoting one of our segments to the peer
	 * (the connection under test), with a sequence number near SND.UNA,
	 * type, code and next-hop MTU from the input: path MTU discovery and
	 * the RFC 5927 checks. */
	struct tcp_conn *c = live();
	uint8_t type = rd_u8(r), code = rd_u8(r);
	uint16_t mtu = rd_be16(r);
	int16_t dseq = (int16_t)rd_be16(r);
	uint16_t qtot = rd_be16(r);
	if (!rd_ok(r))
		return;
	uint8_t m[8 + 28];
	struct wr q = wr_make(m, sizeof m);
	wr_u8(&q, (uint8_t)(3 + type % 3 * 8)); /* 3, 11 or 19 (unknown) */
	wr_u8(&q, code % 16);
	wr_be16(&q, 0);
	wr_be16(&q, 0);
	wr_be16(&q, mtu);
	wr_u8(&q, 0x45); /* the quoted IP header: us to the peer, TCP */
	wr_u8(&q, 0);
	wr_be16(&q, qtot);
	wr_be32(&q, 0x40000000u);
	wr_u8(&q, 64);
	wr_u8(&q, 6);
	wr_be16(&q, 0);
	wr_be32(&q, US);
	wr_be32(&q, PEER);
	wr_be16(&q, LPORT);
	wr_be16(&q, RPORT);
	wr_be32(&q, (c ? c->snd_una : 0) + (uint32_t)(int32_t)dseq);
	wr_be16_at(&q, 2, fold(sum_bytes(m, sizeof m, 0)));
	uint8_t *f = z.frame;
	struct wr w = wr_make(f, sizeof z.frame);
	wr_bytes(&w, mac_us, 6);
	wr_bytes(&w, mac_peer, 6);
	wr_be16(&w, 0x0800);
	size_t ip = w.pos;
	wr_u8(&w, 0x45);
	wr_u8(&w, 0);
	wr_be16(&w, (uint16_t)(20 + sizeof m));
	wr_be32(&w, 0);
	wr_u8(&w, 64);
	wr_u8(&w, 1);
	wr_be16(&w, 0);
	wr_be32(&w, PEER);
	wr_be32(&w, US);
	wr_bytes(&w, m, sizeof m);
	wr_be16_at(&w, ip + 10, fold(sum_bytes(f + ip, 20, 0)));
	fake_net_inject("service", f, w.pos);
	loop_now(&z.l);
	net_poll(&z.l, z.n);
}

static void op_setopt(struct rd *r)
{
	uint8_t v = rd_u8(r);
	if (z.c)
		tcp_setopt(z.c, (v & 1) ? TCP_OPT_KEEPALIVE : TCP_OPT_NODELAY, v & 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_make(data, size);
	setup(&r);
	static void (*const ops[])(struct rd *) = {op_segment, op_segment,   op_segment, op_segment,
						   op_time,    op_write,     op_read,	 op_write,
						   op_read,    op_shutdown,  op_close,	 op_syn,
						   op_setopt,  op_handshake, op_icmp};
	for (unsigned steps = 0; rd_left(&r) && steps < 256; steps++) {
		ops[rd_u8(&r) % ARRAY_SIZE(ops)](&r);
		fire_timers();
		drain();
		check();
	}
	/* Everything ends: close, stop listening, let every timer run out. */
	if (z.c)
		tcp_close(z.c);
	z.c = NULL;
	tcp_unlisten(z.ls);
	for (int i = 0; i < 40 && z.n->tcp->conns.in_use > 0; i++) {
		advance(60 * NS_PER_SEC);
		drain();
	}
	if (z.n->tcp->conns.in_use != 0)
		FAIL("%u control blocks never freed", z.n->tcp->conns.in_use);
	/* Frames that were waiting for ARP go once it gives up. */
	advance(60 * NS_PER_SEC);
	drain();
	net_rx_release(z.n); /* the receive ring's are free ones */
	if (z.n->pkts.in_use != z.baseline)
		FAIL("packet buffers leaked: %u in use, %u at start", z.n->pkts.in_use, z.baseline);
	return 0;
}
