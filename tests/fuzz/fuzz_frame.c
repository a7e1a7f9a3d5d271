/*
 * fuzz_frame.c - libFuzzer target for atoll's own network stack over
 * fakeplat: Ethernet, ARP, IPv4 (with reassembly), ICMP and UDP input,
 * plus the application calls and the passing of time that interleave with
 * it in real life.
 *
 * Each input is a program of operations read with struct rd (see op_*
 * below): raw frames, and frames built from fuzzer-chosen fields by
 * templates that fix up the checksums (random bytes almost never carry a
 * valid Internet checksum, which would keep the fuzzer at the door).  A
 * fresh stack is set up for every input so that a crash replays from its
 * input alone; one input can hold hundreds of frames, so long histories
 * are still explored.
 *
 * A device with offloads (platform.h's PLAT_NET_OFF_*) is one of the
 * choices: then every frame carries a virtio-net header that the fuzzer
 * writes (op_vnet), frames may be up to 64 KiB (op_big: one datagram
 * that a host's GRO would hand over whole, scattered over buffers), and
 * every frame the stack sends must carry a sound header.
 *
 * After every operation the buffer accounting must be exact: every pool
 * buffer in use is held by a reassembly, an ARP queue or a socket queue,
 * each within its bound.  Every frame the stack sends must be well formed.
 * At the end, after every timeout, all buffers must be back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "../unit/fakeplat.h"
#include "net/net.h"
#include "net/stack.h"

#define US     0x0a000002u
#define PEER   0x0a000001u
#define GW     0x0a0000feu
#define NSOCKS 3

static const uint8_t mac_us[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_peer[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct fz {
	struct heap heap;
	struct loop l;
	struct plat_start start;
	char *argv[4];
	char bufs_arg[32];
	const char *dev;
	struct stack *st;
	struct net *n;
	struct udp_sock *socks[NSOCKS];
	uint8_t frame[FAKE_BIG_FRAME_MAX];
	bool vnet;		   /* the device has offloads */
	uint8_t vh[FAKE_VNET_HDR]; /* the header the next frames get */
	uint8_t big[FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX];
	uint8_t dgram[70000];
	uint8_t rxbuf[70000];
} z;

static _Alignas(64) uint8_t heap_mem[1 << 20];

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "fuzz_frame: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

/* ---- Checksums (the harness's own) ------------------------------------------ */

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

static uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint8_t b[12];
	struct wr w = wr_make(b, sizeof b);
	wr_be32(&w, src);
	wr_be32(&w, dst);
	wr_u8(&w, 0);
	wr_u8(&w, proto);
	wr_be16(&w, (uint16_t)len);
	return sum_bytes(b, sizeof b, 0);
}

/* ---- Driving the stack ------------------------------------------------------ */

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

/* Every frame the stack sent must be one a peer can parse. */
static void check_sent(void)
{
	static uint8_t buf[FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX];
	int len;
	while ((len = fake_net_take(z.dev, buf, sizeof buf)) >= 0) {
		uint8_t *f = buf;
		if (z.vnet) {
			/* No TCP here: the header of every frame says "no
			 * offload", but for UDP in one frame, whose checksum is
			 * left to the host: complete it as the host would, so
			 * the sum below checks what the stack put in. */
			static const uint8_t none[FAKE_VNET_HDR];
			struct vnet_hdr vh;
			if (len < FAKE_VNET_HDR || vnet_hdr_get(f, FAKE_VNET_HDR, &vh) != ATL_OK)
				FAIL("sent a frame without a virtio-net header");
			f += FAKE_VNET_HDR;
			len -= FAKE_VNET_HDR;
			if (vh.flags == VNET_F_NEEDS_CSUM && vh.gso_type == VNET_GSO_NONE &&
			    vh.csum_start == 34 && vh.csum_offset == 6 && len >= 42 &&
			    f[23] == 17 && (load_be16(f + 20) & 0x3fff) == 0) {
				size_t end = 14 + (size_t)load_be16(f + 16);
				if (end > (size_t)len || end < 42)
					FAIL("sent a partial UDP checksum past the frame");
				store_be16(f + 40, fold(sum_bytes(f + 34, end - 34, 0)));
			} else if (memcmp(buf, none, FAKE_VNET_HDR) != 0) {
				FAIL("sent a frame without an empty virtio-net header");
			}
		}
		if (len < 60 || len > z.n->mtu + 14)
			FAIL("sent a frame of %d bytes", len);
		struct rd r = rd_make(f, (size_t)len);
		rd_skip(&r, 6);
		const uint8_t *src = rd_take(&r, 6);
		uint16_t type = rd_be16(&r);
		if (memcmp(src, z.n->mac, 6) != 0)
			FAIL("sent a frame from another MAC");
		if (type == 0x0806)
			continue;
		if (type != 0x0800)
			FAIL("sent ethertype %04x", type);
		const uint8_t *h = rd_take(&r, 20);
		if (!h || h[0] != 0x45 || h[8] != IP4_TTL || fold(sum_bytes(h, 20, 0)) != 0)
			FAIL("sent a bad IPv4 header");
		size_t total = load_be16(h + 2);
		if (total < 20 || total + 14 > (size_t)len ||
		    (total + 14 != (size_t)len && len != 60))
			FAIL("sent total length %zu in a %d-byte frame", total, len);
		if (load_be32(h + 12) != z.n->addr)
			FAIL("sent from another address");
		uint16_t frag = load_be16(h + 6);
		const uint8_t *body = rd_take(&r, total - 20);
		if ((frag & 0x3fff) == 0 && (h[9] == 1 || h[9] == 17)) {
			uint32_t s = h[9] == 17 ? pseudo(load_be32(h + 12), load_be32(h + 16), 17,
							 total - 20)
						: 0;
			if (fold(sum_bytes(body, total - 20, s)) != 0)
				FAIL("sent a bad %s checksum", h[9] == 1 ? "ICMP" : "UDP");
		}
	}
}

/* Buffers in use are exactly those held by queues, each within bounds. */
static void check_accounting(void)
{
	struct net *n = z.n;
	unsigned held = 0, reasm = 0, arpq = 0;
	for (unsigned i = 0; i < REASM_SLOTS; i++) {
		const struct reasm *ra = &n->reasm[i];
		if (!ra->used) {
			if (ra->frags)
				FAIL("free reassembly slot holds buffers");
			continue;
		}
		uint32_t end = 0, have = 0;
		unsigned k = 0;
		for (const struct pkt *p = ra->frags; p; p = p->more, k++) {
			if (p->frag_off < end)
				FAIL("reassembly list unsorted or overlapping");
			end = p->frag_off + p->len;
			have += p->len;
		}
		if (k != ra->nbufs || have != ra->have || (ra->dead && k))
			FAIL("reassembly slot miscounted");
		if (ra->have_last && end > ra->total)
			FAIL("fragment past the datagram's end");
		reasm += k;
	}
	if (reasm != n->reasm_bufs || reasm > n->reasm_max_bufs)
		FAIL("reassembly holds %u buffers, counted %u, max %u", reasm, n->reasm_bufs,
		     n->reasm_max_bufs);
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &n->arp[i];
		unsigned k = 0;
		for (const struct pkt *p = e->q_head; p; p = p->next, k++)
			if (p->more)
				FAIL("queued frame is a chain");
		if (k != e->q_len || k > ARP_QUEUE_MAX || (k && e->state != ARP_INCOMPLETE))
			FAIL("ARP queue miscounted");
		arpq += k;
	}
	if (arpq != n->arp_queued || arpq > ARP_QUEUE_TOTAL)
		FAIL("ARP queues hold %u frames, counted %u", arpq, n->arp_queued);
	held = reasm + arpq;
	for (const struct udp_sock *s = n->udp; s; s = s->next) {
		unsigned k = 0, d = 0;
		for (const struct pkt *p = s->q_head; p; p = p->next, d++) {
			k += pkt_chain_count(p);
			if (pkt_chain_len(p) != p->dlen)
				FAIL("queued datagram length mismatch");
		}
		if (k != s->q_bufs || d != s->q_dgrams || d > UDP_RXQ_DGRAMS || k > UDP_RXQ_BUFS)
			FAIL("socket queue miscounted");
		held += k;
	}
	/* The receive ring's posted buffers: fresh, each once. */
	if (n->rx_posted > n->rx_ring)
		FAIL("%u buffers posted, ring of %u", n->rx_posted, n->rx_ring);
	for (unsigned i = 0; i < n->rx_posted; i++) {
		const struct pkt *p = n->rxp[i];
		if (p == n->scratch || p->more || p->len || p->off != PKT_HEADROOM ||
		    n->rxf[i].data != p->data + PKT_HEADROOM ||
		    n->rxf[i].cap != PKT_CAP - PKT_HEADROOM)
			FAIL("posted buffer %u is not a fresh one in its slot", i);
		for (unsigned j = 0; j < i; j++)
			if (n->rxp[j] == p)
				FAIL("buffer posted twice");
	}
	held += n->rx_posted;
	if (n->pkts.in_use != held)
		FAIL("%u buffers in use, %u accounted for", n->pkts.in_use, held);
	/* The stack sizes frames from the MTU: the device never refuses one. */
	if (n->cnt_eth[C_eth_tx_errors])
		FAIL("the device refused %llu frames",
		     (unsigned long long)n->cnt_eth[C_eth_tx_errors]);
}

static void inject(const uint8_t *f, size_t len)
{
	if (z.vnet) {
		if (len > FAKE_BIG_FRAME_MAX)
			len = FAKE_BIG_FRAME_MAX;
		if (f != z.big + FAKE_VNET_HDR)
			memmove(z.big + FAKE_VNET_HDR, f, len);
		memcpy(z.big, z.vh, FAKE_VNET_HDR);
		fake_net_inject(z.dev, z.big, FAKE_VNET_HDR + len);
	} else {
		if (len > FAKE_FRAME_MAX)
			len = FAKE_FRAME_MAX;
		fake_net_inject(z.dev, f, len);
	}
	loop_now(&z.l);
	net_poll(&z.l, z.n);
}

/* ---- Address choices: a few interesting values, or any --------------------- */

static uint32_t pick_addr(struct rd *r)
{
	static const uint32_t table[] = {PEER,	     GW,	 US,	     0,
					 0xffffffff, 0x0a0000ff, 0x0a000000, 0xe0000001,
					 0x7f000001, 0xc0000201, 0x0a000003, 0x0a000004};
	uint8_t c = rd_u8(r);
	if (c < 2 * ARRAY_SIZE(table))
		return table[c % ARRAY_SIZE(table)];
	if (c < 200)
		return 0x0a000000 | c; /* somewhere on the subnet */
	return rd_be32(r);
}

static const uint8_t *pick_mac(struct rd *r)
{
	static uint8_t other[6];
	uint8_t c = rd_u8(r);
	switch (c % 4) {
	case 0:
		return mac_us;
	case 1:
		return mac_bcast;
	case 2:
		return mac_peer;
	default:
		rd_copy(r, other, 6);
		return other;
	}
}

/* ---- Operations --------------------------------------------------------------- */

/* Any bytes as a frame, or after an Ethernet header for us (random
 * bytes rarely start with our MAC). */
static void op_raw(struct rd *r)
{
	uint8_t flags = rd_u8(r);
	size_t len = rd_be16(r) % 1600;
	if (len > rd_left(r))
		len = rd_left(r);
	const uint8_t *bytes = rd_take(r, len);
	if (!bytes)
		return;
	struct wr w = wr_make(z.frame, sizeof z.frame);
	if (flags & 1) {
		wr_bytes(&w, (flags & 2) ? mac_bcast : mac_us, 6);
		wr_bytes(&w, mac_peer, 6);
		wr_be16(&w, (flags & 4) ? 0x0806 : 0x0800);
	}
	wr_bytes(&w, bytes, len);
	inject(z.frame, w.pos);
}

/* An IPv4 header from fields; checksums fixed as asked.  Writes to f
 * after the Ethernet header; returns the frame length. */
static size_t build_ip(struct rd *r, uint8_t *f, uint8_t proto, uint16_t frag,
		       const uint8_t *payload, size_t plen, uint16_t id, uint32_t src, uint32_t dst)
{
	struct wr w = wr_make(f, FAKE_BIG_FRAME_MAX);
	uint8_t flags = rd_u8(r);
	wr_bytes(&w, (flags & 0x80) ? pick_mac(r) : mac_us, 6);
	wr_bytes(&w, mac_peer, 6);
	wr_be16(&w, 0x0800);
	size_t opt = (flags & 0x40) ? (size_t)(rd_u8(r) % 11) * 4 : 0;
	uint8_t *h = wr_take(&w, 20);
	if (!h)
		return 0;
	h[0] = (uint8_t)(0x40 | (5 + opt / 4));
	h[1] = 0;
	size_t total = 20 + opt + plen;
	store_be16(h + 2, (uint16_t)((flags & 0x20) ? rd_be16(r) : total));
	store_be16(h + 4, id);
	store_be16(h + 6, frag);
	h[8] = 64;
	h[9] = proto;
	store_be16(h + 10, 0);
	store_be32(h + 12, src);
	store_be32(h + 16, dst);
	for (size_t i = 0; i < opt; i++)
		wr_u8(&w, (flags & 0x10) ? rd_u8(r) : 1); /* NOPs, or anything */
	if ((flags & 0x07) == 0x07)
		h[0] = rd_u8(r); /* any version and IHL */
	if (!(flags & 0x08))
		store_be16(h + 10, fold(sum_bytes(h, 20 + opt, 0)));
	wr_bytes(&w, payload, plen);
	return wr_ok(&w) ? w.pos : 0;
}

/* A UDP datagram or ICMP message of the chosen size into z.dgram, with a
 * valid checksum unless asked otherwise; returns its length. */
static size_t build_l4(struct rd *r, uint8_t proto, size_t len, uint32_t src, uint32_t dst)
{
	uint8_t flags = rd_u8(r);
	if (len < 8)
		len = 8;
	if (len > sizeof z.dgram)
		len = sizeof z.dgram;
	/* The fuzzer's bytes first, then a pattern. */
	size_t take = rd_left(r) < len ? rd_left(r) : len;
	if (take)
		memcpy(z.dgram, rd_take(r, take), take);
	for (size_t i = take; i < len; i++)
		z.dgram[i] = (uint8_t)(i * 13);
	struct wr w = wr_make(z.dgram, 8);
	if (proto == 17) {
		static const uint16_t ports[] = {7, 9, 53, 0};
		wr_be16(&w, rd_be16(r));
		uint8_t pc = rd_u8(r);
		uint16_t dport;
		if (pc < ARRAY_SIZE(ports))
			dport = ports[pc];
		else if (pc < ARRAY_SIZE(ports) + NSOCKS && z.socks[pc - ARRAY_SIZE(ports)])
			dport = z.socks[pc - ARRAY_SIZE(ports)]->port;
		else
			dport = rd_be16(r);
		wr_be16(&w, dport);
		wr_be16(&w, (uint16_t)((flags & 1) ? rd_be16(r) : len));
		wr_be16(&w, 0);
		if (!(flags & 2)) {
			uint16_t c = fold(sum_bytes(z.dgram, len, pseudo(src, dst, 17, len)));
			store_be16(z.dgram + 6, c ? c : 0xffff);
		}
	} else if (proto == 1) {
		wr_u8(&w, (flags & 4) ? rd_u8(r) : 8);
		wr_u8(&w, 0);
		wr_be16(&w, 0);
		if (!(flags & 2))
			store_be16(z.dgram + 2, fold(sum_bytes(z.dgram, len, 0)));
	}
	return len;
}

static uint8_t pick_proto(struct rd *r)
{
	uint8_t c = rd_u8(r);
	return c < 100 ? 17 : c < 200 ? 1 : c;
}

/* One datagram, not fragmented (or with a fuzzer-chosen fragment field). */
static void op_ip(struct rd *r)
{
	uint8_t proto = pick_proto(r);
	uint32_t src = pick_addr(r), dst = pick_addr(r);
	uint16_t frag = rd_u8(r) < 32 ? rd_be16(r) : 0;
	size_t len = build_l4(r, proto, rd_be16(r) % 1500, src, dst);
	size_t flen = build_ip(r, z.frame, proto, frag, z.dgram, len, rd_be16(r) & 7, src, dst);
	if (rd_u8(r) < 16)
		flen = rd_be16(r) % (flen + 1); /* cut anywhere */
	if (flen)
		inject(z.frame, flen);
}

/* A datagram cut into fragments the fuzzer describes (any offsets and
 * lengths, overlapping or not, MF set unless a fragment reaches the end). */
static void op_frags(struct rd *r)
{
	uint8_t proto = pick_proto(r);
	uint32_t src = rd_u8(r) & 1 ? pick_addr(r) : PEER;
	size_t len = build_l4(r, proto, rd_be16(r) + 8u, src, US);
	uint16_t id = rd_be16(r) & 15;
	unsigned count = rd_u8(r) % 64;
	for (unsigned i = 0; i < count && rd_ok(r); i++) {
		size_t off = (size_t)(rd_be16(r) & 0x1fff) * 8;
		size_t flen = (size_t)(rd_u8(r) + 1) * 8;
		uint8_t mfc = rd_u8(r);
		if (off >= len && !(mfc & 0x80))
			off = len ? ((len - 1) & ~(size_t)7) : 0;
		if (flen > 1480)
			flen = 1480;
		size_t avail = off < len ? len - off : 0;
		size_t c = flen < avail ? flen : avail;
		bool mf = off + c < len;
		if (mfc & 0x40)
			mf = !mf;
		static uint8_t junk[1480];
		const uint8_t *data = off < len ? z.dgram + off : junk;
		size_t fl = build_ip(r, z.frame, proto, (uint16_t)((mf ? 0x2000 : 0) | off / 8),
				     data, off < len ? c : (mfc & 0x3f), id, src, US);
		if (fl)
			inject(z.frame, fl);
	}
}

/* A datagram fragmented properly, sent in order, reversed or rotated,
 * with duplicates. */
static void op_frag_whole(struct rd *r)
{
	uint8_t proto = pick_proto(r);
	size_t len = build_l4(r, proto, rd_be16(r) + 8u, PEER, US);
	size_t step = (size_t)(rd_u8(r) % 185 + 1) * 8;
	uint8_t order = rd_u8(r);
	uint16_t id = rd_be16(r) & 15;
	size_t n = (len + step - 1) / step;
	if (n > 256)
		n = 256;
	for (size_t k = 0; k < n; k++) {
		size_t i = (order & 3) == 0 ? k : (order & 3) == 1 ? n - 1 - k : (k + order) % n;
		size_t off = i * step;
		if (off >= len)
			continue;
		size_t c = len - off < step ? len - off : step;
		size_t fl =
		    build_ip(r, z.frame, proto, (uint16_t)((off + c < len ? 0x2000 : 0) | off / 8),
			     z.dgram + off, c, id, PEER, US);
		if (!fl)
			continue;
		inject(z.frame, fl);
		if (order & 0x80)
			inject(z.frame, fl);
	}
}

static void op_arp(struct rd *r)
{
	uint8_t f[64];
	struct wr w = wr_make(f, sizeof f);
	wr_bytes(&w, pick_mac(r), 6);
	const uint8_t *sha = pick_mac(r);
	wr_bytes(&w, sha, 6);
	wr_be16(&w, 0x0806);
	uint8_t flags = rd_u8(r);
	wr_be16(&w, (flags & 1) ? rd_be16(r) : 1);
	wr_be16(&w, (flags & 2) ? rd_be16(r) : 0x0800);
	wr_u8(&w, (flags & 4) ? rd_u8(r) : 6);
	wr_u8(&w, (flags & 4) ? rd_u8(r) : 4);
	wr_be16(&w, (flags & 8) ? rd_be16(r) : (flags & 16) ? 2 : 1);
	wr_bytes(&w, sha, 6);
	wr_be32(&w, pick_addr(r));
	wr_bytes(&w, pick_mac(r), 6);
	wr_be32(&w, pick_addr(r));
	size_t len = w.pos;
	if (flags & 32)
		len = rd_u8(r) % (len + 1);
	inject(f, len);
}

/* The virtio-net header the next frames carry (on a plain device, the
 * bytes are read and nothing else happens): any bytes, or the flags and
 * GSO type Linux uses. */
static void op_vnet(struct rd *r)
{
	uint8_t c = rd_u8(r);
	memset(z.vh, 0, sizeof z.vh);
	if (c & 1) {
		rd_copy(r, z.vh, sizeof z.vh);
		return;
	}
	z.vh[0] = (c >> 1) & 3; /* NEEDS_CSUM, DATA_VALID */
	z.vh[1] = (c & 8) ? 1 : 0;
}

/* One datagram of up to 64 KiB in one frame, as GRO hands it over; its
 * checksum valid unless asked otherwise. */
static void op_big(struct rd *r)
{
	uint8_t proto = pick_proto(r);
	uint32_t src = pick_addr(r);
	size_t len = build_l4(r, proto, rd_be16(r) % (65535 - 20 - 40 + 1), src, US);
	size_t flen = build_ip(r, z.big + FAKE_VNET_HDR, proto, 0, z.dgram, len, 1, src, US);
	if (rd_u8(r) < 16)
		flen = rd_be16(r) % (flen + 1);
	if (flen)
		inject(z.big + FAKE_VNET_HDR, flen);
}

static void op_time(struct rd *r)
{
	advance((uint64_t)rd_be16(r) * 10 * NS_PER_MS);
}

static void op_send(struct rd *r)
{
	struct udp_sock *s = z.socks[rd_u8(r) % NSOCKS];
	uint32_t dst = pick_addr(r);
	struct ip4_ep to = {dst, rd_be16(r)};
	size_t len = rd_be16(r);
	if (!s)
		return;
	if (len > sizeof z.dgram)
		len = sizeof z.dgram;
	for (size_t i = 0; i < len; i++)
		z.dgram[i] = (uint8_t)i;
	int rc = udp_sendto(s, &to, z.dgram, len);
	if (rc > 0)
		FAIL("udp_sendto returned %d", rc);
}

static void op_recv(struct rd *r)
{
	struct udp_sock *s = z.socks[rd_u8(r) % NSOCKS];
	size_t cap = rd_be16(r);
	/* Only with a datagram waiting: waiting would need a fiber. */
	if (!s || !s->q_head)
		return;
	if (cap > sizeof z.rxbuf)
		cap = sizeof z.rxbuf;
	struct ip4_ep from;
	size_t len = 0;
	size_t want = s->q_head->dlen;
	int rc = udp_recvfrom(s, &from, z.rxbuf, cap, &len, DEADLINE_NEVER);
	if (len != want || (rc != ATL_OK && rc != ATL_EMSGSIZE) ||
	    (rc == ATL_EMSGSIZE) != (want > cap))
		FAIL("udp_recvfrom: rc %d len %zu of %zu cap %zu", rc, len, want, cap);
}

static void op_socket(struct rd *r)
{
	unsigned i = rd_u8(r) % NSOCKS;
	if (z.socks[i]) {
		udp_close(z.socks[i]);
		z.socks[i] = NULL;
		return;
	}
	struct ip4_ep local = {rd_u8(r) & 1 ? US : 0, rd_u8(r) < 128 ? 0 : rd_be16(r)};
	if (udp_open(z.st, &local, &z.socks[i]) != ATL_OK)
		z.socks[i] = NULL;
}

/* One device per MTU, made once: fakeplat's queues are large and ASan
 * zeroes them on every allocation. */
static const char *const devs[] = {"m1500", "m576", "m1280", "m68"};
static const uint16_t mtus[] = {1500, 576, 1280, 68};
static const char *const vnet_dev = "vnet1500";

static void setup(struct rd *r)
{
	static bool once;
	if (!once) {
		fake_reset();
		for (unsigned i = 0; i < ARRAY_SIZE(devs); i++)
			fake_net_add(devs[i], mac_us, mtus[i]);
		fake_net_add_offload(vnet_dev, mac_us, 1500, PLAT_NET_OFF_CSUM | PLAT_NET_OFF_TSO4);
		once = true;
	}
	fake_set_time(0);
	uint8_t cfg = rd_u8(r);
	z.dev = devs[cfg & 3];
	z.vnet = (cfg & 0xe0) == 0xe0;
	if (z.vnet)
		z.dev = vnet_dev;
	memset(z.vh, 0, sizeof z.vh);
	snprintf(z.bufs_arg, sizeof z.bufs_arg, "net-buffers=%u", 16 + ((cfg >> 2) & 7) * 16);
	z.argv[0] = "ipv4=10.0.0.2/24";
	z.argv[1] = "ipv4-gateway=10.0.0.254";
	z.argv[2] = z.bufs_arg;
	z.argv[3] = NULL;
	z.start.argc = 3;
	z.start.argv = z.argv;
	heap_init(&z.heap, heap_mem, sizeof heap_mem);
	loop_init(&z.l, &z.heap, &z.start);
	z.l.log_level = LOG_ERROR; /* conflicts and the like would flood stderr */
	if (stack_open(&z.l, z.dev, &z.st) != ATL_OK)
		FAIL("stack_open failed");
	z.n = net_of(z.st);
	/* Entropy carries over between inputs: pin what it chose, so an
	 * input replays alone exactly as it ran. */
	z.n->ip_id = 0;
	z.n->udp_next_port = 50000;
	memset(z.socks, 0, sizeof z.socks);
	struct ip4_ep e7 = {0, 7}, e9 = {US, 9};
	udp_open(z.st, &e7, &z.socks[0]);
	udp_open(z.st, &e9, &z.socks[1]);
	check_sent();
}

static void teardown(void)
{
	/* Past every deadline: reassemblies time out, ARP gives up and
	 * expires; then nothing may be left but what sockets hold. */
	for (int i = 0; i < 4; i++)
		advance(100 * NS_PER_SEC);
	check_sent();
	check_accounting();
	for (unsigned i = 0; i < NSOCKS; i++)
		if (z.socks[i])
			udp_close(z.socks[i]);
	net_rx_release(z.n); /* the receive ring's are free ones */
	if (z.n->pkts.in_use != 0)
		FAIL("%u buffers leaked", z.n->pkts.in_use);
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (z.n->arp[i].state != ARP_FREE)
			FAIL("ARP entry outlived every deadline");
	if (z.n->reasm_timer.armed || z.n->arp_timer.armed)
		FAIL("timer armed with nothing to do");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_make(data, size);
	setup(&r);
	static void (*const ops[])(struct rd *) = {
	    op_raw,  op_ip,   op_ip,	 op_frags, op_frag_whole, op_arp,  op_time,
	    op_send, op_recv, op_socket, op_ip,	   op_frags,	  op_vnet, op_big};
	for (unsigned steps = 0; rd_left(&r) && steps < 512; steps++) {
		ops[rd_u8(&r) % ARRAY_SIZE(ops)](&r);
		fire_timers();
		check_sent();
		check_accounting();
	}
	teardown();
	return 0;
}
