/*
 * test_net_offload.c - a network device with offloads (platform.h's
 * PLAT_NET_OFF_*): the virtio-net header's layout; checksums the host
 * vouches for; TCP super-segments (TSO) out of one stack cut by a wire
 * that does what the Linux kernel does with them, and GRO'd super-frames
 * into it, byte-exact both ways, under loss too.
 */
#include "test_tcp.h"

#define PORT 9
#define VH   FAKE_VNET_HDR

/* ---- The header ------------------------------------------------------------------ */

TEST(vnet_header_layout)
{
	struct vnet_hdr h = {VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 66, 1448, 34, 16}, g;
	uint8_t b[12];
	memset(b, 0xee, sizeof b);
	vnet_hdr_put(b, 12, &h);
	/* virtio 1.x 5.1.6: u8 flags, u8 gso_type, then le16 hdr_len,
	 * gso_size, csum_start, csum_offset (and num_buffers, zero). */
	static const uint8_t want[12] = {1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0};
	CHECK_MEM(b, want, 12);
	CHECK_EQ(vnet_hdr_get(b, 10, &g), ATL_OK);
	CHECK_EQ(g.flags, 1);
	CHECK_EQ(g.gso_type, VNET_GSO_TCPV4);
	CHECK_EQ(g.hdr_len, 66);
	CHECK_EQ(g.gso_size, 1448);
	CHECK_EQ(g.csum_start, 34);
	CHECK_EQ(g.csum_offset, 16);
	CHECK_EQ(vnet_hdr_get(b, 9, &g), ATL_EINVAL);
}

/* The checksum a device completes: the sum from csum_start to the end,
 * stored at csum_start + csum_offset (virtio 1.x 5.1.6.2). */
static void complete_csum(uint8_t *f, size_t len, size_t start, size_t off)
{
	put16(f + start + off, t_fold(t_sum(f + start, len - start, 0)));
}

static bool tcp_ok(const uint8_t *ip, size_t len)
{
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	return t_fold(t_sum(ip + 20, len - 20, t_pseudo(src, dst, 6, (uint16_t)(len - 20)))) == 0;
}

/* ---- Checksums the host vouches for -------------------------------------------------- */

static struct tnet t;

/* A stack over a device with offloads; more: one boot argument more, or
 * NULL. */
static void open_offload_args(uint32_t offloads, const char *more)
{
	memset(&t, 0, sizeof t);
	fake_reset();
	fake_net_add_offload("service", MAC_US, 1500, offloads);
	t.argv[0] = (char *)"ipv4=10.0.0.2/24";
	t.argv[1] = (char *)more;
	t.start.argc = more ? 2 : 1;
	t.start.argv = t.argv;
	t.start.heap = tnet_mem;
	t.start.heap_size = sizeof tnet_mem;
	heap_init(&t.heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t.l, &t.heap, &t.start);
	CHECK_EQ(stack_open(&t.l, "service", &t.st), ATL_OK);
	t.n = net_of(t.st);
	uint8_t f[FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX];
	while (fake_net_take("service", f, sizeof f) >= 0)
		;
}

static void open_offload(uint32_t offloads)
{
	open_offload_args(offloads, NULL);
}

/* A SYN to a closed port whose checksum field holds only the pseudo-header
 * sum, as Linux leaves it for NEEDS_CSUM; the answer is a RST exactly when
 * the header says the host vouches for it. */
static void syn_partial(uint8_t vflags)
{
	uint8_t f[VH + 80];
	struct vnet_hdr vh = {.flags = vflags, .csum_start = 34, .csum_offset = 16};
	vnet_hdr_put(f, VH, &vh);
	uint8_t s[20];
	memset(s, 0, sizeof s);
	put16(s, 40000);
	put16(s + 2, 4444);
	put32(s + 4, 1000);
	put16(s + 12, 5 << 12 | F_SYN);
	put16(s + 14, 65535);
	put16(s + 16, (uint16_t)~t_fold(t_pseudo(IP_PEER, IP_US, 6, 20)));
	size_t len = ip_frame(f + VH, IP_PEER, IP_US, 6, 1, 0, s, sizeof s);
	fake_net_inject("service", f, VH + len);
	loop_now(&t.l);
	net_poll(&t.l, t.n);
}

TEST(partial_checksum_is_taken_when_the_host_vouches)
{
	open_offload(PLAT_NET_OFF_CSUM);
	CHECK_EQ(t.n->vnet_len, VH);
	CHECK_EQ(t.n->tso_max, 0);
	/* The peer's MAC from an ARP request (behind an empty header). */
	uint8_t f[VH + 80];
	static const uint8_t zero[6];
	memset(f, 0, VH);
	size_t alen = arp_frame(f + VH, MAC_BCAST, 1, MAC_PEER, IP_PEER, zero, IP_US);
	fake_net_inject("service", f, VH + alen);
	loop_now(&t.l);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "arp", "replies_tx"), 1);
	CHECK(fake_net_take("service", f, sizeof f) > 0);
	/* TCP in use (a listener elsewhere): port 4444 is closed. */
	struct tcp_listener *ls;
	struct ip4_ep local = {0, 80};
	CHECK_EQ(tcp_listen(t.st, &local, 1, &ls), ATL_OK);
	syn_partial(0);
	CHECK_EQ(cnt(&t, "tcp", "bad_cksum"), 1);
	CHECK_EQ(cnt(&t, "tcp", "rst_tx"), 0);
	syn_partial(VNET_F_NEEDS_CSUM);
	CHECK_EQ(cnt(&t, "tcp", "bad_cksum"), 1);
	CHECK_EQ(cnt(&t, "tcp", "rst_tx"), 1);
	CHECK_EQ(cnt(&t, "eth", "rx_csum_host"), 1);
	/* The RST, built apart from connections, carries a whole checksum
	 * behind an empty header. */
	int len = fake_net_take("service", f, sizeof f);
	CHECK(len >= VH + 54);
	if (len < VH + 54)
		return;
	struct vnet_hdr g;
	CHECK_EQ(vnet_hdr_get(f, VH, &g), ATL_OK);
	CHECK_EQ(g.flags, 0);
	CHECK_EQ(g.gso_type, VNET_GSO_NONE);
	CHECK(tcp_ok(f + VH + 14, 40));
	/* A frame without a whole header is dropped and counted. */
	fake_net_inject("service", f, 5);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "eth", "bad_vnet"), 1);
}

/* ---- UDP: checksums left to the host, and the receive ring ------------------------- */

static bool udp_ok(const uint8_t *ip, size_t len)
{
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	return t_fold(t_sum(ip + 20, len - 20, t_pseudo(src, dst, 17, (uint16_t)(len - 20)))) == 0;
}

/* The peer's MAC from an ARP request behind an empty header; the reply
 * is taken away. */
static void offload_learn_peer(void)
{
	uint8_t f[VH + 80];
	static const uint8_t zero[6];
	memset(f, 0, VH);
	size_t alen = arp_frame(f + VH, MAC_BCAST, 1, MAC_PEER, IP_PEER, zero, IP_US);
	fake_net_inject("service", f, VH + alen);
	loop_now(&t.l);
	net_poll(&t.l, t.n);
	CHECK(fake_net_take("service", f, sizeof f) > 0);
}

/* A UDP datagram from the peer to port 53 behind header vh; the checksum
 * field holds the pseudo-header sum only when partial. */
static void udp_in(const struct vnet_hdr *vh, bool partial, size_t dlen)
{
	static uint8_t f[VH + 1514], u[1500];
	uint8_t data[1400];
	fill_pattern(data, dlen, 3);
	size_t ulen = udp_dgram(u, IP_PEER, IP_US, 5353, 53, data, dlen);
	if (partial)
		put16(u + 6, (uint16_t)~t_fold(t_pseudo(IP_PEER, IP_US, 17, (uint16_t)ulen)));
	vnet_hdr_put(f, VH, vh);
	size_t len = ip_frame(f + VH, IP_PEER, IP_US, 17, 1, 0, u, ulen);
	fake_net_inject("service", f, VH + len);
}

TEST(udp_checksums_with_offloads)
{
	open_offload(PLAT_NET_OFF_CSUM | PLAT_NET_OFF_TSO4);
	offload_learn_peer();
	struct udp_sock *s;
	struct ip4_ep local = {0, 53};
	CHECK_EQ(udp_open(t.st, &local, &s), ATL_OK);
	/* In: a partial checksum is taken when the host vouches for it
	 * (NEEDS_CSUM, DATA_VALID), and refused otherwise. */
	struct vnet_hdr need = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	struct vnet_hdr valid = {.flags = VNET_F_DATA_VALID}, none = {0};
	udp_in(&need, true, 100);
	udp_in(&valid, true, 100);
	udp_in(&none, true, 100);
	udp_in(&none, false, 100);
	loop_now(&t.l);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "udp", "delivered"), 3);
	CHECK_EQ(cnt(&t, "udp", "bad_cksum"), 1);
	CHECK_EQ(cnt(&t, "eth", "rx_csum_host"), 2);

	/* Out: a datagram in one frame leaves its checksum to the host
	 * (NEEDS_CSUM from the UDP header on, the field holding the
	 * pseudo-header sum), as Linux does for its own sockets. */
	static uint8_t data[3000], f[VH + FAKE_BIG_FRAME_MAX];
	fill_pattern(data, sizeof data, 9);
	struct ip4_ep to = {IP_PEER, 5353};
	CHECK_EQ(udp_sendto(s, &to, data, 1472), ATL_OK);
	int len = fake_net_take("service", f, sizeof f);
	CHECK_EQ(len, VH + 14 + 20 + 8 + 1472);
	if (len != VH + 14 + 20 + 8 + 1472)
		return;
	struct vnet_hdr g;
	CHECK_EQ(vnet_hdr_get(f, VH, &g), ATL_OK);
	CHECK_EQ(g.flags, VNET_F_NEEDS_CSUM);
	CHECK_EQ(g.gso_type, VNET_GSO_NONE);
	CHECK_EQ(g.csum_start, 34);
	CHECK_EQ(g.csum_offset, 6);
	uint8_t *ip = f + VH + 14;
	CHECK_EQ(get16(ip + 26), (uint16_t)~t_fold(t_pseudo(IP_US, IP_PEER, 17, 8 + 1472)));
	complete_csum(f + VH, (size_t)len - VH, g.csum_start, g.csum_offset);
	CHECK(udp_ok(ip, 20 + 8 + 1472));
	CHECK_MEM(ip + 28, data, 1472);
	/* One byte more needs two fragments: a whole checksum, no header
	 * flags (a partial checksum cannot be fragmented). */
	CHECK_EQ(udp_sendto(s, &to, data, 1473), ATL_OK);
	len = fake_net_take("service", f, sizeof f);
	CHECK(len > VH + 42);
	if (len <= VH + 42)
		return;
	CHECK_EQ(vnet_hdr_get(f, VH, &g), ATL_OK);
	CHECK_EQ(g.flags, 0);
	CHECK_EQ(get16(ip + 6), 0x2000); /* MF, offset 0 */
	uint8_t whole[8 + 1473];
	size_t got = get16(ip + 2) - 20u;
	CHECK_EQ(got, 1480);
	memcpy(whole, ip + 20, got);
	len = fake_net_take("service", f, sizeof f);
	CHECK(len > VH + 34);
	CHECK_EQ(get16(ip + 2) - 20u, sizeof whole - got);
	if (len <= VH + 34 || get16(ip + 2) - 20u != sizeof whole - got)
		return;
	memcpy(whole + got, ip + 20, sizeof whole - got);
	CHECK_EQ(t_fold(t_sum(whole, sizeof whole, t_pseudo(IP_US, IP_PEER, 17, sizeof whole))), 0);
	CHECK_EQ(cnt(&t, "udp", "tx"), 2);
	udp_close(s);
}

/* The receive ring with offloads: all NET_RX_SLOTS buffers stay posted,
 * a wakeup takes from the pool only the buffers its frames arrived in,
 * and a sender short of buffers takes the ring's back. */
TEST(receive_ring_stays_posted)
{
	open_offload(PLAT_NET_OFF_CSUM | PLAT_NET_OFF_TSO4);
	offload_learn_peer();
	/* The slot the ARP request came in is filled at the next wakeup
	 * (the receive that found the device empty was not worth making:
	 * the slots left could hold another frame). */
	CHECK_EQ(t.n->rx_posted, NET_RX_SLOTS - 1);
	net_poll(&t.l, t.n);
	CHECK_EQ(t.n->rx_posted, NET_RX_SLOTS);
	CHECK_EQ(t.n->pkts.in_use, NET_RX_SLOTS);
	struct pkt *ring[NET_RX_SLOTS];
	memcpy(ring, t.n->rxp, sizeof ring);
	/* Wakeups with nothing to read: not a buffer taken or given. */
	net_poll(&t.l, t.n);
	net_poll(&t.l, t.n);
	CHECK_EQ(t.n->pkts.in_use, NET_RX_SLOTS);
	CHECK_MEM(t.n->rxp, ring, sizeof ring);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), 0);
	CHECK_EQ(cnt(&t, "pkt", "rx_posted"), NET_RX_SLOTS);
	/* Three datagrams queued on a socket: three buffers more in use. */
	struct udp_sock *s;
	struct ip4_ep local = {0, 53};
	CHECK_EQ(udp_open(t.st, &local, &s), ATL_OK);
	struct vnet_hdr need = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	for (unsigned i = 0; i < 3; i++)
		udp_in(&need, true, 200);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "udp", "delivered"), 3);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), 3);
	CHECK_EQ(t.n->pkts.in_use - t.n->rx_posted, 3);
	udp_close(s);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), 0);

	/* 64 buffers: the ring holds all but the reserve (8), and a sender
	 * needing more than those 8 takes the ring's back: a 64 KiB
	 * datagram is 45 fragments. */
	open_offload_args(PLAT_NET_OFF_CSUM | PLAT_NET_OFF_TSO4, "net-buffers=64");
	offload_learn_peer();
	CHECK_EQ(t.n->rx_posted, 64 - 8 - 1);
	CHECK_EQ(udp_open(t.st, &local, &s), ATL_OK);
	static uint8_t big[65507];
	struct ip4_ep to = {IP_PEER, 5353};
	CHECK_EQ(udp_sendto(s, &to, big, sizeof big), ATL_OK);
	CHECK_EQ(t.n->rx_posted, 0);
	CHECK_EQ(cnt(&t, "pkt", "tx_nobuf_drop"), 0);
	unsigned frames = 0;
	static uint8_t f[VH + FAKE_BIG_FRAME_MAX];
	while (fake_net_take("service", f, sizeof f) >= 0)
		frames++;
	CHECK_EQ(frames, 45);
	/* The next wakeup posts the ring again. */
	net_poll(&t.l, t.n);
	CHECK_EQ(t.n->rx_posted, 64 - 8);
	/* A burst beyond the ring is read whole in one wakeup: slots are
	 * posted again as frames leave them. */
	for (unsigned i = 0; i < 100; i++)
		udp_in(&need, true, 20);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "udp", "delivered"), UDP_RXQ_DGRAMS);
	CHECK_EQ(cnt(&t, "udp", "queue_full_drop"), 100 - UDP_RXQ_DGRAMS);
	CHECK_EQ(cnt(&t, "pkt", "rx_nobuf_drop"), 0);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), UDP_RXQ_DGRAMS);
	udp_close(s);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), 0);
}

/* ---- TSO out, GRO in: a pair over a wire that plays the host ------------------------ */

struct owire {
	struct tpair *p;
	uint64_t rng;
	unsigned loss_pm;
	bool stop;
	unsigned supers, segs, bad; /* super-frames cut, segments made, broken frames */
	unsigned gro;		    /* super-frames built for "a" */
	uint8_t in[VH + FAKE_BIG_FRAME_MAX];
	uint8_t out[2048];
	uint8_t agg[VH + FAKE_BIG_FRAME_MAX]; /* the GRO frame being built */
	size_t agg_len;
};

static bool owire_drop(struct owire *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (uint32_t)((w->rng * 2685821657736338717ull) >> 32) % 1000 < w->loss_pm;
}

/* Frames from "a" (with headers) to "b" (without): what Linux's TAP and
 * GSO do with them, checked on the way. */
static void owire_a_to_b(struct owire *w)
{
	int len;
	while ((len = fake_net_take("a", w->in, sizeof w->in)) >= 0) {
		struct vnet_hdr h;
		if (len < VH + 34 || vnet_hdr_get(w->in, VH, &h) != ATL_OK) {
			w->bad++;
			continue;
		}
		uint8_t *f = w->in + VH;
		size_t flen = (size_t)len - VH;
		if (h.flags & VNET_F_NEEDS_CSUM) {
			if (h.csum_start != 34 || (size_t)h.csum_start + h.csum_offset + 2 > flen) {
				w->bad++;
				continue;
			}
			complete_csum(f, flen, h.csum_start, h.csum_offset);
		}
		size_t iplen = get16(f + 16);
		if (h.gso_type == VNET_GSO_NONE) {
			if (flen > 1514 || (f[23] == 6 && !tcp_ok(f + 14, iplen)))
				w->bad++;
			else if (!owire_drop(w))
				fake_net_inject("b", f, flen);
			continue;
		}
		/* TSO: the seed must have made the whole super-segment's sum
		 * right, and the header must describe it. */
		size_t thl = (size_t)(f[14 + 20 + 12] >> 4) * 4;
		if (h.gso_type != VNET_GSO_TCPV4 || h.hdr_len != 34 + thl ||
		    !tcp_ok(f + 14, iplen) || h.gso_size == 0 || h.hdr_len + h.gso_size > 1514 ||
		    iplen + 14 != flen) {
			w->bad++;
			continue;
		}
		w->supers++;
		uint32_t seq = get32(f + 38);
		uint16_t id = get16(f + 18);
		size_t data = flen - h.hdr_len;
		for (size_t off = 0; off < data; off += h.gso_size) {
			size_t k = data - off < h.gso_size ? data - off : h.gso_size;
			bool last = off + k == data;
			memcpy(w->out, f, h.hdr_len);
			memcpy(w->out + h.hdr_len, f + h.hdr_len + off, k);
			uint8_t *ip = w->out + 14, *tcp = ip + 20;
			put16(ip + 2, (uint16_t)(20 + thl + k));
			put16(ip + 4, (uint16_t)(id + off / h.gso_size));
			ip_fix_cksum(ip);
			put32(tcp + 4, seq + (uint32_t)off);
			if (!last)
				tcp[13] &= (uint8_t) ~(F_FIN | F_PSH);
			put16(tcp + 16, 0);
			put16(tcp + 16, t_fold(t_sum(tcp, thl + k,
						     t_pseudo(get32(ip + 12), get32(ip + 16), 6,
							      (uint16_t)(thl + k)))));
			w->segs++;
			if (!owire_drop(w))
				fake_net_inject("b", w->out, h.hdr_len + k);
		}
	}
}

static void owire_flush(struct owire *w)
{
	if (w->agg_len == 0)
		return;
	uint8_t *f = w->agg + VH;
	size_t flen = w->agg_len - VH;
	size_t hl = 34 + (size_t)(f[46] >> 4) * 4;
	struct vnet_hdr h = {.flags = VNET_F_DATA_VALID};
	if (get16(f + 16) + 14u > 1514u) {
		/* Linux marks a GRO'd frame as checksummed and segmentable. */
		h.gso_type = VNET_GSO_TCPV4;
		h.hdr_len = (uint16_t)hl;
		h.gso_size = 1448;
		w->gro++;
	}
	vnet_hdr_put(w->agg, VH, &h);
	ip_fix_cksum(f + 14);
	if (!owire_drop(w))
		fake_net_inject("a", w->agg, VH + flen);
	w->agg_len = 0;
}

/* Frames from "b" to "a": runs of in-order data segments of one
 * connection are merged into one super-frame of up to 60000 bytes, the
 * way GRO hands them to a TAP with TUN_F_TSO4. */
static void owire_b_to_a(struct owire *w)
{
	int len;
	while ((len = fake_net_take("b", w->in + VH, sizeof w->in - VH)) >= 0) {
		uint8_t *f = w->in + VH;
		bool tcp = len >= 54 && get16(f + 12) == 0x0800 && f[23] == 6;
		size_t iplen = tcp ? get16(f + 16) : 0;
		size_t hl = tcp ? 34 + (size_t)(f[46] >> 4) * 4 : 0;
		size_t dlen = tcp && iplen + 14 > hl ? iplen + 14 - hl : 0;
		bool plain = tcp && dlen > 0 && (f[47] & ~(F_ACK | F_PSH)) == 0;
		if (w->agg_len) {
			uint8_t *a = w->agg + VH;
			size_t ahl = 34 + (size_t)(a[46] >> 4) * 4;
			size_t alen = get16(a + 16) + 14u - ahl;
			bool joins = plain && hl == ahl && memcmp(a + 34, f + 34, 4) == 0 &&
				     get32(f + 38) == get32(a + 38) + alen &&
				     get32(f + 42) == get32(a + 42) &&
				     memcmp(a + 54, f + 54, hl - 54) == 0 &&
				     get16(a + 16) + dlen <= 60000;
			if (joins) {
				memcpy(a + ahl + alen, f + hl, dlen);
				put16(a + 16, (uint16_t)(get16(a + 16) + dlen));
				a[47] |= f[47];
				w->agg_len += dlen;
				continue;
			}
			owire_flush(w);
		}
		if (plain && tcp_ok(f + 14, iplen)) {
			memcpy(w->agg + VH, f, hl + dlen);
			w->agg_len = VH + hl + dlen;
			continue;
		}
		struct vnet_hdr none = {0};
		vnet_hdr_put(w->in, VH, &none);
		if (!owire_drop(w))
			fake_net_inject("a", w->in, VH + (size_t)len);
	}
	owire_flush(w);
}

static void owire_fiber(void *arg)
{
	struct owire *w = arg;
	while (!w->stop) {
		owire_a_to_b(w);
		owire_b_to_a(w);
		if (fiber_sleep(&w->p->l, loop_now(&w->p->l) + WIRE_STEP) != ATL_OK)
			return;
	}
	loop_stop(&w->p->l);
}

struct oxfer {
	struct owire *w;
	size_t size; /* bytes each way */
	size_t got_b, got_a;
	bool bad;
	int rc_a, rc_b;
	unsigned done;
	struct tcp_listener *ls;
	uint64_t deadline;
};

static uint8_t opat(size_t i, unsigned dir)
{
	return (uint8_t)(i * 131 + (i >> 11) + dir * 29);
}

/* The client (dir 0) writes its size bytes and shuts its side, then reads
 * the server's; the server (dir 1) reads first, then writes back. */
static int pump(struct oxfer *x, struct tcp_conn *c, unsigned dir, size_t *got)
{
	static uint8_t buf[2][16384];
	int rc = ATL_OK;
	for (unsigned phase = 0; phase < 2 && rc == ATL_OK; phase++) {
		if (phase == dir) {
			for (size_t sent = 0; rc == ATL_OK && sent < x->size;) {
				size_t k = x->size - sent < sizeof buf[dir] ? x->size - sent
									    : sizeof buf[dir];
				for (size_t i = 0; i < k; i++)
					buf[dir][i] = opat(sent + i, dir);
				size_t done;
				rc = tcp_write(c, buf[dir], k, &done, x->deadline);
				sent += done;
			}
			if (rc == ATL_OK)
				rc = tcp_shutdown(c);
			continue;
		}
		for (;;) {
			size_t len;
			rc = tcp_read(c, buf[dir], sizeof buf[dir], &len, x->deadline);
			if (rc != ATL_OK || len == 0)
				break;
			for (size_t i = 0; i < len; i++)
				if (buf[dir][i] != opat(*got + i, !dir))
					x->bad = true;
			*got += len;
		}
	}
	tcp_close(c);
	if (++x->done == 2)
		x->w->stop = true;
	return rc;
}

static void ox_server(void *arg)
{
	struct oxfer *x = arg;
	struct tcp_conn *c;
	struct ip4_ep peer;
	x->rc_b = tcp_accept(x->ls, &c, &peer, x->deadline);
	if (x->rc_b == ATL_OK)
		x->rc_b = pump(x, c, 1, &x->got_b);
	else if (++x->done == 2)
		x->w->stop = true;
}

static void ox_client(void *arg)
{
	struct oxfer *x = arg;
	struct tcp_conn *c;
	struct ip4_ep to = {IP(10, 0, 0, 2), PORT};
	x->rc_a = tcp_connect(x->w->p->a, &to, &c, x->deadline);
	if (x->rc_a == ATL_OK)
		x->rc_a = pump(x, c, 0, &x->got_a);
	else if (++x->done == 2)
		x->w->stop = true;
}

static struct tpair op;
static struct owire ow;

/* "a" with offloads (10.0.0.1), "b" plain (10.0.0.2), size bytes each
 * way at the same time, loss_pm per mille lost on the wire. */
static void offload_pair_run(size_t size, unsigned loss_pm, uint64_t seed)
{
	struct tpair *p = &op;
	memset(p, 0, sizeof *p);
	fake_reset();
	fake_set_time(1000 * NS_PER_SEC);
	fake_net_add_offload("a", MAC_A, 1500, PLAT_NET_OFF_CSUM | PLAT_NET_OFF_TSO4);
	fake_net_add("b", MAC_B, 1500);
	static const char *const args[] = {"a.ipv4=10.0.0.1/24", "b.ipv4=10.0.0.2/24",
					   "tcp-buf=256K", "tcp-conns=4", NULL};
	for (unsigned i = 0; args[i]; i++)
		p->argv[i] = (char *)args[i];
	p->start.argc = 4;
	p->start.argv = p->argv;
	p->start.heap = tpair_mem;
	p->start.heap_size = sizeof tpair_mem;
	heap_init(&p->heap, tpair_mem, sizeof tpair_mem);
	loop_init(&p->l, &p->heap, &p->start);
	CHECK_EQ(stack_open(&p->l, "a", &p->a), ATL_OK);
	CHECK_EQ(stack_open(&p->l, "b", &p->b), ATL_OK);
	CHECK(net_of(p->a)->tso_max > 0);
	memset(&ow, 0, sizeof ow);
	ow.p = p;
	ow.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	ow.loss_pm = loss_pm;
	static struct oxfer x;
	memset(&x, 0, sizeof x);
	x.w = &ow;
	x.size = size;
	x.deadline = loop_now(&p->l) + 600 * NS_PER_SEC;
	struct ip4_ep local = {0, PORT};
	CHECK_EQ(tcp_listen(p->b, &local, 4, &x.ls), ATL_OK);
	CHECK(fiber_spawn(&p->l, "wire", owire_fiber, &ow, 0) != NULL);
	CHECK(fiber_spawn(&p->l, "server", ox_server, &x, 0) != NULL);
	CHECK(fiber_spawn(&p->l, "client", ox_client, &x, 0) != NULL);
	loop_run(&p->l);
	CHECK_EQ(x.done, 2);
	CHECK_EQ(x.rc_a, ATL_OK);
	CHECK_EQ(x.rc_b, ATL_OK);
	CHECK_EQ(x.got_a, size);
	CHECK_EQ(x.got_b, size);
	CHECK(!x.bad);
	CHECK_EQ(ow.bad, 0);
	CHECK_EQ(tpair_cnt(p, "b.tcp", "bad_cksum"), 0);
	CHECK_EQ(tpair_cnt(p, "a.tcp", "bad_cksum"), 0);
}

TEST(tso_super_segments_out_and_gro_frames_in)
{
	offload_pair_run(2u << 20, 0, 1);
	/* Super-segments went out, each cut into several MSS segments. */
	CHECK(ow.supers > 50);
	CHECK(ow.segs > 3 * ow.supers);
	CHECK_EQ(tpair_cnt(&op, "a.eth", "tx_gso"), ow.supers);
	/* GRO'd frames came in and were taken whole. */
	CHECK(ow.gro > 10);
	CHECK_EQ(tpair_cnt(&op, "a.eth", "rx_gso"), ow.gro);
	/* No loss: no retransmission timeout, no fast retransmit (a loss
	 * probe may go when the last ACK is delayed). */
	CHECK_EQ(tpair_cnt(&op, "a.tcp", "rexmt_timeout"), 0);
	CHECK_EQ(tpair_cnt(&op, "a.tcp", "fast_rexmt"), 0);
}

TEST(tso_and_gro_under_loss)
{
	offload_pair_run(1u << 20, 20, 7);
	CHECK(ow.supers > 10);
	CHECK(tpair_cnt(&op, "a.tcp", "rexmt_segs") > 0);
}

TEST_MAIN(TEST_ENTRY(vnet_header_layout),
	  TEST_ENTRY(partial_checksum_is_taken_when_the_host_vouches),
	  TEST_ENTRY(udp_checksums_with_offloads), TEST_ENTRY(receive_ring_stays_posted),
	  TEST_ENTRY(tso_super_segments_out_and_gro_frames_in), TEST_ENTRY(tso_and_gro_under_loss))
