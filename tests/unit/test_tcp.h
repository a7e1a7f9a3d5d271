/*
 * test_tcp.h - helpers for TCP's unit tests.
 *
 * Two ways to drive the protocol core:
 *  - a pair: two atoll stacks ("a" 10.0.0.1, "b" 10.0.0.2) on one loop,
 *    joined by a wire fiber that moves frames between the fake devices
 *    every WIRE_STEP of virtual time, dropping, duplicating or reordering
 *    them from a seeded generator;
 *  - a scripted peer: one stack (test_net.h's tnet) and segments the test
 *    builds and reads itself, for the rules a well-behaved peer never
 *    exercises.
 */
#ifndef ATOLL_TEST_TCP_H
#define ATOLL_TEST_TCP_H

#include "test_net.h"

#define WIRE_STEP (50 * 1000ull) /* 50 us per hop */

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct wire {
	uint64_t rng;
	unsigned loss_pm, dup_pm, reorder_pm; /* per mille */
	uint8_t held[FRAME_MAX];	      /* one frame held back to reorder */
	int held_len;
	const char *held_to;
	bool cut; /* drop everything */
	bool stop;
	unsigned moved, dropped;
};

struct tpair {
	struct heap heap;
	struct loop l;
	struct plat_start start;
	char *argv[16];
	struct stack *a, *b;
	struct wire w;
};

static inline uint32_t wire_rand(struct wire *w)
{
	/* xorshift64*: deterministic from the seed */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (uint32_t)((w->rng * 2685821657736338717ull) >> 32);
}

static inline void wire_move(struct wire *w, const char *from, const char *to)
{
	uint8_t f[FRAME_MAX];
	int len;
	while ((len = fake_net_take(from, f, sizeof f)) >= 0) {
		if (w->cut || wire_rand(w) % 1000 < w->loss_pm) {
			w->dropped++;
			continue;
		}
		w->moved++;
		if (wire_rand(w) % 1000 < w->reorder_pm && w->held_len < 0) {
			memcpy(w->held, f, (size_t)len);
			w->held_len = len;
			w->held_to = to;
			continue;
		}
		fake_net_inject(to, f, (size_t)len);
		if (wire_rand(w) % 1000 < w->dup_pm)
			fake_net_inject(to, f, (size_t)len);
		if (w->held_len >= 0) {
			fake_net_inject(w->held_to, w->held, (size_t)w->held_len);
			w->held_len = -1;
		}
	}
}

static inline void wire_fiber(void *arg)
{
	struct tpair *p = arg;
	unsigned quiet = 0;
	while (!p->w.stop) {
		unsigned before = p->w.moved + p->w.dropped;
		wire_move(&p->w, "a", "b");
		wire_move(&p->w, "b", "a");
		quiet = p->w.moved + p->w.dropped == before ? quiet + 1 : 0;
		uint64_t now = loop_now(&p->l), next = now + WIRE_STEP;
		/* Nothing on the wire twice running: nothing happens before
		 * the next timer, so skip the idle steps up to it. */
		if (quiet >= 2 && p->l.timers && p->l.timers->deadline > next)
			next = p->l.timers->deadline;
		if (fiber_sleep(&p->l, next) != ATL_OK)
			return;
	}
	/* The test's fibers are done: end loop_run (devices stay watched). */
	loop_stop(&p->l);
}

static _Alignas(64) uint8_t tpair_mem[16u << 20];

/* Two stacks with extra boot arguments (NULL-terminated, may be NULL). */
static inline void tpair_open(struct tpair *p, uint64_t seed, const char *const *extra)
{
	memset(p, 0, sizeof *p);
	fake_reset();
	fake_set_time(1000 * NS_PER_SEC);
	fake_net_add("a", MAC_A, 1500);
	fake_net_add("b", MAC_B, 1500);
	unsigned argc = 0;
	p->argv[argc++] = (char *)"a.ipv4=10.0.0.1/24";
	p->argv[argc++] = (char *)"b.ipv4=10.0.0.2/24";
	for (unsigned i = 0; extra && extra[i] && argc < 15; i++)
		p->argv[argc++] = (char *)extra[i];
	p->argv[argc] = NULL;
	p->start.argc = (int)argc;
	p->start.argv = p->argv;
	p->start.heap = tpair_mem;
	p->start.heap_size = sizeof tpair_mem;
	heap_init(&p->heap, tpair_mem, sizeof tpair_mem);
	loop_init(&p->l, &p->heap, &p->start);
	CHECK_EQ(stack_open(&p->l, "a", &p->a), ATL_OK);
	CHECK_EQ(stack_open(&p->l, "b", &p->b), ATL_OK);
	p->w.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	p->w.held_len = -1;
	CHECK(fiber_spawn(&p->l, "wire", wire_fiber, p, 0) != NULL);
}

static inline uint64_t tpair_cnt(struct tpair *p, const char *group, const char *name)
{
	return counters_get(&p->l, group, name);
}

/* ---- Scripted segments ------------------------------------------------------ */

struct tseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opts;
	size_t optlen;
	const uint8_t *data;
	size_t len;
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* A frame from the peer (10.0.0.1) to us carrying a TCP segment. */
static inline size_t tcp_frame(uint8_t *f, const struct tseg *s)
{
	uint8_t t[FRAME_MAX];
	size_t hlen = 20 + s->optlen;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	put16(t + 12, (uint16_t)((hlen / 4) << 12 | s->flags));
	put16(t + 14, s->wnd);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (s->optlen)
		memcpy(t + 20, s->opts, s->optlen);
	if (s->len)
		memcpy(t + hlen, s->data, s->len);
	size_t tl = hlen + s->len;
	put16(t + 16, t_fold(t_sum(t, tl, t_pseudo(IP_PEER, IP_US, 6, (uint16_t)tl))));
	return ip_frame(f, IP_PEER, IP_US, 6, 1, 0, t, tl);
}

/* A segment the stack sent, parsed; false if the frame is not TCP. */
struct tout {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	size_t len; /* payload */
	uint8_t data[FRAME_MAX];
	bool has_mss, has_ws, has_ts, has_sackok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned nsack;
	uint32_t sack[4][2];
	bool cksum_ok;
};

static inline bool tcp_parse_out(const uint8_t *f, size_t flen, struct tout *o)
{
	memset(o, 0, sizeof *o);
	if (flen < 54 || get16(f + 12) != 0x0800 || f[14 + 9] != 6)
		return false;
	size_t ihl = (size_t)(f[14] & 15) * 4;
	size_t tot = get16(f + 16);
	const uint8_t *t = f + 14 + ihl;
	size_t tl = tot - ihl;
	o->sport = get16(t);
	o->dport = get16(t + 2);
	o->seq = get32(t + 4);
	o->ack = get32(t + 8);
	size_t hlen = (size_t)(t[12] >> 4) * 4;
	o->flags = t[13] & 0x3f;
	o->wnd = get16(t + 14);
	o->len = tl - hlen;
	memcpy(o->data, t + hlen, o->len);
	o->cksum_ok =
	    t_fold(t_sum(t, tl, t_pseudo(get32(f + 26), get32(f + 30), 6, (uint16_t)tl))) == 0;
	for (size_t i = 20; i < hlen;) {
		uint8_t k = t[i];
		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		uint8_t ol = t[i + 1];
		if (k == 2)
			o->has_mss = true, o->mss = get16(t + i + 2);
		if (k == 3)
			o->has_ws = true, o->ws = t[i + 2];
		if (k == 8)
			o->has_ts = true, o->tsval = get32(t + i + 2), o->tsecr = get32(t + i + 6);
		if (k == 4)
			o->has_sackok = true;
		for (unsigned b = 0; k == 5 && b < (ol - 2u) / 8 && b < 4; b++) {
			o->sack[b][0] = get32(t + i + 2 + 8 * b);
			o->sack[b][1] = get32(t + i + 6 + 8 * b);
			o->nsack = b + 1;
		}
		if (ol < 2)
			break;
		i += ol;
	}
	return true;
}

/* The next TCP segment the stack sent (other frames skipped). */
static inline bool tnet_take_seg(struct tnet *t, struct tout *o)
{
	uint8_t f[FRAME_MAX];
	int len;
	while ((len = tnet_tx(t, f)) >= 0)
		if (tcp_parse_out(f, (size_t)len, o))
			return true;
	return false;
}

#endif
