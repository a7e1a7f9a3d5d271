/*
 * test_net.h - helpers shared by the network stack's unit tests: a stack
 * over fakeplat, frame builders and an Internet checksum written apart
 * from the stack's own (a test must not check the code with itself).
 *
 * The network is 10.0.0.0/24: we are 10.0.0.2 (02:00:00:00:00:02), the
 * peer is 10.0.0.1 (02:00:00:00:00:01), the gateway (when configured)
 * 10.0.0.254.
 */
#ifndef ATOLL_TEST_NET_H
#define ATOLL_TEST_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/loop.h"
#include "fakeplat.h"
#include "net/net.h"
#include "net/stack.h"
#include "test.h"

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IP_US	 IP(10, 0, 0, 2)
#define IP_PEER	 IP(10, 0, 0, 1)
#define IP_GW	 IP(10, 0, 0, 254)
#define IP_BCAST IP(10, 0, 0, 255)

static const uint8_t MAC_US[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t MAC_PEER[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define TNET_HEAP (4u << 20)
#define FRAME_MAX 2048

struct tnet {
	struct heap heap;
	struct loop l;
	struct plat_start start;
	char *argv[16];
	struct stack *st;
	struct net *n;
	unsigned baseline; /* pool in_use with nothing queued */
};

static _Alignas(64) uint8_t tnet_mem[TNET_HEAP];

/* ---- Bytes -------------------------------------------------------------- */

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}
static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071, the textbook way: 32-bit accumulator, fold at the end. */
static inline uint32_t t_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}
static inline uint16_t t_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
static inline uint16_t t_csum(const uint8_t *p, size_t len)
{
	return t_fold(t_sum(p, len, 0));
}
static inline uint32_t t_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint8_t b[12];
	put32(b, src);
	put32(b + 4, dst);
	b[8] = 0;
	b[9] = proto;
	put16(b + 10, len);
	return t_sum(b, 12, 0);
}

/* ---- Frame builders: each returns the frame's length ------------------------- */

static inline size_t eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* An IPv4 header at f (ihl 5) with a correct checksum. */
static inline void ip_hdr(uint8_t *h, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
			  uint16_t frag, size_t payload)
{
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, (uint16_t)(20 + payload));
	put16(h + 4, id);
	put16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	put16(h + 10, 0);
	put32(h + 12, src);
	put32(h + 16, dst);
	put16(h + 10, t_csum(h, 20));
}
static inline void ip_fix_cksum(uint8_t *h)
{
	size_t ihl = (size_t)(h[0] & 15) * 4;
	put16(h + 10, 0);
	put16(h + 10, t_csum(h, ihl));
}

/* Ethernet + IPv4 from the peer to dst carrying payload. */
static inline size_t ip_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
			      uint16_t frag, const uint8_t *payload, size_t len)
{
	eth_hdr(f, MAC_US, MAC_PEER, 0x0800);
	ip_hdr(f + 14, src, dst, proto, id, frag, len);
	memcpy(f + 34, payload, len);
	return 34 + len;
}

/* A UDP datagram (header + data) with its checksum. */
static inline size_t udp_dgram(uint8_t *u, uint32_t src, uint32_t dst, uint16_t sport,
			       uint16_t dport, const uint8_t *data, size_t len)
{
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (len)
		memcpy(u + 8, data, len);
	uint16_t c = t_fold(t_sum(u, 8 + len, t_pseudo(src, dst, 17, (uint16_t)(8 + len))));
	put16(u + 6, c ? c : 0xffff);
	return 8 + len;
}

/* An ICMP echo request (type 8) with its checksum. */
static inline size_t icmp_echo(uint8_t *m, uint8_t type, uint16_t id, uint16_t seq,
			       const uint8_t *data, size_t len)
{
	m[0] = type;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	if (len)
		memcpy(m + 8, data, len);
	put16(m + 2, t_csum(m, 8 + len));
	return 8 + len;
}

static inline size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
			       uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	eth_hdr(f, eth_dst, sha, 0x0806);
	uint8_t *a = f + 14;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return 42;
}

static inline void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* ---- The stack under test --------------------------------------------------------- */

/* Open a stack on device "service" with the given boot arguments
 * (NULL-terminated).  Returns stack_open's result. */
static inline int tnet_open_args(struct tnet *t, const char *const *args)
{
	memset(t, 0, sizeof *t);
	fake_net_add("service", MAC_US, 1500);
	unsigned argc = 0;
	for (; args && args[argc] && argc < 15; argc++)
		t->argv[argc] = (char *)args[argc];
	t->argv[argc] = NULL;
	t->start.argc = (int)argc;
	t->start.argv = t->argv;
	t->start.heap = tnet_mem;
	t->start.heap_size = sizeof tnet_mem;
	heap_init(&t->heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t->l, &t->heap, &t->start);
	int rc = stack_open(&t->l, "service", &t->st);
	if (rc == ATL_OK) {
		t->n = net_of(t->st);
		t->baseline = t->n->pkts.in_use - t->n->rx_posted;
	}
	return rc;
}

/* 10.0.0.2/24 with a gateway; the start-up announcement is taken away. */
static inline void tnet_open(struct tnet *t)
{
	static const char *const args[] = {"ipv4=10.0.0.2/24", "ipv4-gateway=10.0.0.254", NULL};
	int rc = tnet_open_args(t, args);
	CHECK_EQ(rc, ATL_OK);
	uint8_t f[FRAME_MAX];
	while (fake_net_take("service", f, sizeof f) >= 0)
		;
}

static inline uint64_t cnt(struct tnet *t, const char *group, const char *name)
{
	return counters_get(&t->l, group, name);
}

/* Run every timer due by now. */
static inline void tnet_timers(struct tnet *t)
{
	loop_now(&t->l);
	while (t->l.timers && t->l.timers->deadline <= t->l.now) {
		struct timer *tm = t->l.timers;
		timer_cancel(&t->l, tm);
		tm->fn(&t->l, tm);
	}
}

/* Move the fake clock on by ns, firing timers on the way in order. */
static inline void tnet_advance(struct tnet *t, uint64_t ns)
{
	uint64_t end = fake_time() + ns;
	while (t->l.timers && t->l.timers->deadline <= end) {
		if (t->l.timers->deadline > fake_time())
			fake_set_time(t->l.timers->deadline);
		tnet_timers(t);
	}
	fake_set_time(end);
	tnet_timers(t);
}

/* Inject one frame and let the stack read it (one watch-handler call). */
static inline void tnet_rx(struct tnet *t, const uint8_t *f, size_t len)
{
	fake_net_inject("service", f, len);
	loop_now(&t->l);
	net_poll(&t->l, t->n);
}

static inline int tnet_tx(struct tnet *t, uint8_t *f)
{
	return fake_net_take("service", f, FRAME_MAX);
}

static inline unsigned tnet_drain(struct tnet *t)
{
	uint8_t f[FRAME_MAX];
	unsigned k = 0;
	while (fake_net_take("service", f, sizeof f) >= 0)
		k++;
	return k;
}

/* Teach the stack the peer's MAC the way a real peer would: an ARP
 * request for our address.  Takes the reply away. */
static inline void tnet_learn(struct tnet *t, const uint8_t *mac, uint32_t ip)
{
	uint8_t f[64];
	static const uint8_t zero[6];
	size_t len = arp_frame(f, MAC_BCAST, 1, mac, ip, zero, IP_US);
	tnet_rx(t, f, len);
	tnet_drain(t);
}

/* Buffers that hold data: those waiting in the receive ring are free. */
static inline unsigned tnet_in_use(struct tnet *t)
{
	return t->n->pkts.in_use - t->n->rx_posted;
}

/* ---- Receiving in a fiber --------------------------------------------------------- */

struct trecv {
	struct tnet *t;
	struct udp_sock *s;
	uint8_t buf[65536];
	size_t cap, len;
	struct ip4_ep from;
	uint64_t deadline;
	int rc;
	bool done;
};

static inline void trecv_fiber(void *arg)
{
	struct trecv *r = arg;
	r->rc = udp_recvfrom(r->s, &r->from, r->buf, r->cap, &r->len, r->deadline);
	r->done = true;
	loop_stop(&r->t->l);
}

/* udp_recvfrom in a fiber with a deadline `wait` ns away, running the
 * loop (frames injected before are read by the loop itself). */
static inline int trecv_run(struct trecv *r, struct tnet *t, struct udp_sock *s, size_t cap,
			    uint64_t wait)
{
	r->t = t;
	r->s = s;
	r->cap = cap;
	r->len = 0;
	r->done = false;
	r->rc = 999;
	r->deadline = loop_now(&t->l) + wait;
	if (!fiber_spawn(&t->l, "trecv", trecv_fiber, r, 0))
		return -999;
	loop_run(&t->l);
	CHECK(r->done);
	return r->rc;
}

#endif
