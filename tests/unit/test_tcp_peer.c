/*
 * test_tcp_peer.c - TCP against a scripted peer: the segments a
 * well-behaved peer never sends, and the exact segments we answer with.
 * Option negotiation (MSS, window scale, timestamps), RFC 5961 challenge
 * ACKs, PAWS, delayed ACKs, Nagle and its switch, zero-window probes,
 * keep-alive, simultaneous open and close, fast retransmit, RTO backoff.
 */
#include "test_tcp.h"

#define LPORT	 80
#define RPORT	 40000
#define PEER_ISS 1000000u

struct peer {
	struct tnet t;
	struct tcp_listener *ls;
	struct tcp_conn *c;
	uint32_t iss; /* ours, from the SYN-ACK */
	uint32_t snd; /* the peer's next sequence number */
	uint32_t ts;  /* the peer's timestamp clock */
	bool use_ts;
	struct tout o; /* the last segment taken */
};

static void peer_send(struct peer *p, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		      const uint8_t *data, size_t len)
{
	uint8_t f[FRAME_MAX], opts[12];
	size_t optlen = 0;
	if (p->use_ts) {
		opts[0] = 1;
		opts[1] = 1;
		opts[2] = 8;
		opts[3] = 10;
		put32(opts + 4, p->ts);
		put32(opts + 8, p->o.tsval);
		optlen = 12;
	}
	struct tseg s = {RPORT, LPORT, seq, ack, flags, wnd, opts, optlen, data, len};
	tnet_rx(&p->t, f, tcp_frame(f, &s));
}

static bool take(struct peer *p)
{
	return tnet_take_seg(&p->t, &p->o);
}

/* Listen, take a SYN with the given options, answer the SYN-ACK. */
static void peer_open(struct peer *p, const uint8_t *opts, size_t optlen, const char *const *args)
{
	memset(p, 0, sizeof *p);
	if (args)
		CHECK_EQ(tnet_open_args(&p->t, args), ATL_OK);
	else
		tnet_open(&p->t);
	tnet_drain(&p->t);
	tnet_learn(&p->t, MAC_PEER, IP_PEER);
	struct ip4_ep local = {0, LPORT};
	CHECK_EQ(tcp_listen(p->t.st, &local, 4, &p->ls), ATL_OK);
	uint8_t f[FRAME_MAX];
	struct tseg syn = {RPORT, LPORT, PEER_ISS, 0, F_SYN, 65535, opts, optlen, NULL, 0};
	tnet_rx(&p->t, f, tcp_frame(f, &syn));
	CHECK(take(p));
	CHECK_EQ(p->o.flags, F_SYN | F_ACK);
	CHECK_EQ(p->o.ack, PEER_ISS + 1);
	CHECK(p->o.cksum_ok);
	p->iss = p->o.seq;
	p->snd = PEER_ISS + 1;
	p->ts = 5000;
	p->use_ts = p->o.has_ts;
	peer_send(p, p->snd, p->iss + 1, F_ACK, 65535, NULL, 0);
	CHECK_EQ(tcp_accept(p->ls, &p->c, NULL, TCP_NOWAIT), ATL_OK);
}

static const uint8_t SYN_OPTS[] = {2, 4, 0x05, 0xb4,		       /* MSS 1460 */
				   1, 3, 3,    7,		       /* NOP, WS 7 */
				   1, 1, 8,    10,   0, 0, 0x13, 0x88, /* NOP NOP TS 5000 */
				   0, 0, 0,    0};

static void plain_open(struct peer *p)
{
	/* MSS 1000, no window scale, no timestamps: simple arithmetic. */
	static const uint8_t mss[] = {2, 4, 0x03, 0xe8};
	peer_open(p, mss, sizeof mss, NULL);
}

TEST(syn_ack_negotiates_mss_wscale_timestamps)
{
	struct peer p;
	static const char *const args[] = {"ipv4=10.0.0.2/24", "tcp-buf=256K", "tcp-conns=2", NULL};
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, args);
	/* The SYN-ACK said: MSS 1460 (1500 - 40), window scale for a 256 KiB
	 * buffer (RFC 7323 2.2: 2^18 >> 3 < 65536), timestamps echoed. */
	CHECK(p.use_ts);
	CHECK(!p.c->sack_ok);	       /* not offered, not used */
	CHECK_EQ(p.c->mss, 1460 - 12); /* the peer's MSS less our TS option */
	CHECK_EQ(p.c->snd_wscale, 7);
	CHECK_EQ(p.c->rcv_wscale, 3);
	/* Data from us carries the timestamp option and a scaled window. */
	CHECK_EQ(tcp_write(p.c, "hello", 5, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&p));
	CHECK(p.o.has_ts);
	CHECK_EQ(p.o.tsecr, 5000);
	CHECK_EQ(p.o.len, 5);
	CHECK_EQ(p.o.wnd, (256u << 10) >> 3);
}

TEST(syn_without_options_gets_defaults)
{
	/* No options in the SYN: MSS 536 (RFC 9293 3.7.1), no scaling, no
	 * timestamps in anything we send. */
	struct peer q;
	peer_open(&q, NULL, 0, NULL);
	CHECK(!q.use_ts);
	CHECK_EQ(q.c->mss, 536);
	CHECK_EQ(q.c->rcv_wscale, 0);
	CHECK_EQ(tcp_write(q.c, "x", 1, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&q));
	CHECK(!q.o.has_ts && !q.o.has_ws);
}

TEST(sack_blocks_report_out_of_order_data)
{
	struct peer p;
	/* MSS 1000, SACK permitted (RFC 2018 2), no timestamps. */
	static const uint8_t opts[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2};
	memset(&p, 0, sizeof p);
	peer_open(&p, opts, sizeof opts, NULL);
	CHECK(p.c->sack_ok);
	uint8_t data[1000];
	fill_pattern(data, sizeof data, 5);
	/* Segments 2 and 4 of five arrive; then 3. */
	peer_send(&p, p.snd + 1000, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(p.o.nsack, 1);
	CHECK_EQ(p.o.sack[0][0], p.snd + 1000);
	CHECK_EQ(p.o.sack[0][1], p.snd + 2000);
	peer_send(&p, p.snd + 3000, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	/* RFC 2018 4: the block with the latest segment comes first. */
	CHECK_EQ(p.o.nsack, 2);
	CHECK_EQ(p.o.sack[0][0], p.snd + 3000);
	CHECK_EQ(p.o.sack[1][0], p.snd + 1000);
	peer_send(&p, p.snd + 2000, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.nsack, 1);
	CHECK_EQ(p.o.sack[0][0], p.snd + 1000);
	CHECK_EQ(p.o.sack[0][1], p.snd + 4000);
	/* The hole at the front filled: no blocks left. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd + 4000);
	CHECK_EQ(p.o.nsack, 0);
}

TEST(duplicates_are_reported_with_dsack_blocks)
{
	/* RFC 2883: data received twice is reported in the first SACK block
	 * of the ACK it draws, once; above RCV.NXT the block holding it
	 * follows. */
	struct peer p;
	static const uint8_t opts[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2};
	peer_open(&p, opts, sizeof opts, NULL);
	uint8_t data[1000];
	fill_pattern(data, sizeof data, 6);
	/* In order, then again: a D-SACK below RCV.NXT (4.1.1). */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	uint32_t base = p.snd;
	p.snd += 1000;
	bool seen = false;
	while (take(&p)) {
		if (p.o.nsack == 1 && p.o.sack[0][0] == base && p.o.sack[0][1] == base + 1000) {
			CHECK_EQ(p.o.ack, p.snd);
			seen = true;
		}
	}
	CHECK(seen);
	CHECK_EQ(cnt(&p.t, "tcp", "dsack_tx"), 1);
	/* Out of order, then half of it again: the duplicate half first,
	 * then the block that holds it (4.1.2). */
	peer_send(&p, p.snd + 1000, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.nsack, 1);
	peer_send(&p, p.snd + 1500, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(p.o.nsack, 2);
	CHECK_EQ(p.o.sack[0][0], p.snd + 1500);
	CHECK_EQ(p.o.sack[0][1], p.snd + 2000);
	CHECK_EQ(p.o.sack[1][0], p.snd + 1000);
	CHECK_EQ(p.o.sack[1][1], p.snd + 2500);
	/* Reported once: the next ACK has the plain blocks only. */
	peer_send(&p, p.snd + 3000, p.iss + 1, F_ACK, 65535, data, 500);
	CHECK(take(&p));
	CHECK_EQ(p.o.nsack, 2);
	CHECK_EQ(p.o.sack[0][0], p.snd + 3000);
	CHECK_EQ(p.o.sack[1][0], p.snd + 1000);
	CHECK_EQ(cnt(&p.t, "tcp", "dsack_tx"), 2);
}

/* Send a duplicate ACK carrying SACK blocks (pairs of offsets from ISS+1). */
static void sack_ack(struct peer *p, const uint32_t (*blocks)[2], unsigned n)
{
	uint8_t opts[36], f[FRAME_MAX];
	opts[0] = 1;
	opts[1] = 1;
	opts[2] = 5;
	opts[3] = (uint8_t)(2 + 8 * n);
	for (unsigned i = 0; i < n; i++) {
		put32(opts + 4 + 8 * i, p->iss + 1 + blocks[i][0]);
		put32(opts + 8 + 8 * i, p->iss + 1 + blocks[i][1]);
	}
	struct tseg s = {RPORT, LPORT, p->snd, p->iss + 1, F_ACK, 65535, opts, 4 + 8 * (size_t)n,
			 NULL,	0};
	tnet_rx(&p->t, f, tcp_frame(f, &s));
}

TEST(sack_guides_retransmission_to_the_holes)
{
	struct peer p;
	static const uint8_t opts[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2};
	peer_open(&p, opts, sizeof opts, NULL);
	CHECK(p.c->sack_ok);
	tcp_setopt(p.c, TCP_OPT_NODELAY, 1);
	p.c->cwnd = 8000; /* eight segments in flight at once */
	static uint8_t data[8000];
	fill_pattern(data, sizeof data, 9);
	CHECK_EQ(tcp_write(p.c, data, sizeof data, NULL, TCP_NOWAIT), ATL_OK);
	unsigned segs = 0;
	while (take(&p))
		segs++;
	CHECK_EQ(segs, 8);
	/* Segments 1 and 4 (offsets 0 and 3000) are lost; the peer SACKs
	 * the rest as they arrive. */
	static const uint32_t b1[][2] = {{1000, 2000}};
	static const uint32_t b2[][2] = {{1000, 3000}};
	static const uint32_t b3[][2] = {{4000, 5000}, {1000, 3000}};
	static const uint32_t b4[][2] = {{4000, 6000}, {1000, 3000}};
	static const uint32_t b5[][2] = {{4000, 7000}, {1000, 3000}};
	sack_ack(&p, b1, 1);
	sack_ack(&p, b2, 1);
	CHECK(!take(&p));
	/* Third duplicate, and 3000 bytes SACKed above the first hole (RFC
	 * 6675 IsLost): fast retransmit of the first hole; cwnd = ssthresh =
	 * half the flight. */
	sack_ack(&p, b3, 2);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(p.o.len, 1000);
	CHECK_EQ(p.c->nsacked, 2);
	CHECK_EQ(p.c->cwnd, 4000);
	/* pipe: the retransmission, the second hole (not yet lost: one range
	 * and only 1000 bytes SACKed above it) and the 3000-byte tail. */
	CHECK_EQ(tcp_pipe(p.c), 1000 + 1000 + 3000);
	CHECK(!take(&p));
	/* Two segments SACKed above the second hole: not lost yet, and the
	 * pipe (4000) leaves no room. */
	sack_ack(&p, b4, 2);
	CHECK_EQ(tcp_pipe(p.c), 4000);
	CHECK(!take(&p));
	/* Three: the second hole is lost and repaired, not new data; then,
	 * no new data being left, the one rescue retransmission of the
	 * highest unSACKed segment (RFC 6675 NextSeg rule 4). */
	sack_ack(&p, b5, 2);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 3000);
	CHECK_EQ(p.o.len, 1000);
	CHECK_MEM(p.o.data, data + 3000, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 7000);
	CHECK_EQ(cnt(&p.t, "tcp", "rescue_rexmt"), 1);
	CHECK(!take(&p));
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 1);
	/* Both holes filled: everything acknowledged, recovery over. */
	peer_send(&p, p.snd, p.iss + 1 + 8000, F_ACK, 65535, NULL, 0);
	CHECK_EQ(p.c->snd_una, p.iss + 1 + 8000);
	CHECK(!p.c->in_recovery);
	CHECK_EQ(p.c->nsacked, 0);
	CHECK_EQ(cnt(&p.t, "tcp", "rexmt_timeout"), 0);
}

/* A SACK-carrying ACK with a given window (a different window makes it
 * no duplicate ACK). */
static void sack_ack_wnd(struct peer *p, const uint32_t (*blocks)[2], unsigned n, uint16_t wnd)
{
	uint8_t opts[36], f[FRAME_MAX];
	opts[0] = 1;
	opts[1] = 1;
	opts[2] = 5;
	opts[3] = (uint8_t)(2 + 8 * n);
	for (unsigned i = 0; i < n; i++) {
		put32(opts + 4 + 8 * i, p->iss + 1 + blocks[i][0]);
		put32(opts + 8 + 8 * i, p->iss + 1 + blocks[i][1]);
	}
	struct tseg s = {RPORT, LPORT, p->snd, p->iss + 1, F_ACK, wnd, opts, 4 + 8 * (size_t)n,
			 NULL,	0};
	tnet_rx(&p->t, f, tcp_frame(f, &s));
}

static void sack_open(struct peer *p, uint32_t cwnd, size_t len)
{
	static const uint8_t opts[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2}; /* MSS 1000, SACK */
	static uint8_t data[16000];
	peer_open(p, opts, sizeof opts, NULL);
	CHECK(p->c->sack_ok);
	tcp_setopt(p->c, TCP_OPT_NODELAY, 1);
	p->c->cwnd = cwnd;
	p->c->srtt = NS_PER_MS;
	fill_pattern(data, sizeof data, 4);
	CHECK_EQ(tcp_write(p->c, data, len, NULL, TCP_NOWAIT), ATL_OK);
}

TEST(limited_transmit_sends_new_data_on_the_first_two_dupacks)
{
	/* RFC 3042: with a window of four segments and the first lost, each
	 * of the first two duplicate ACKs lets one new segment out, so the
	 * third duplicate comes and fast retransmit repairs the loss. */
	struct peer p;
	sack_open(&p, 4000, 8000);
	unsigned segs = 0;
	while (take(&p))
		segs++;
	CHECK_EQ(segs, 4);
	static const uint32_t b1[][2] = {{1000, 2000}};
	static const uint32_t b2[][2] = {{1000, 3000}};
	static const uint32_t b3[][2] = {{1000, 4000}};
	sack_ack(&p, b1, 1);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 4000);
	CHECK(!take(&p));
	sack_ack(&p, b2, 1);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 5000);
	CHECK(!take(&p));
	CHECK(!p.c->in_recovery);
	sack_ack(&p, b3, 1);
	CHECK(p.c->in_recovery);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 1);
}

TEST(sacked_data_starts_recovery_without_three_dupacks)
{
	/* RFC 6675 5: IsLost(HighACK + 1) starts recovery too.  ACKs that
	 * also change the window are not duplicates, but their SACKs count:
	 * once more than two segments are SACKed above the first, it is lost. */
	struct peer p;
	sack_open(&p, 6000, 6000);
	while (take(&p))
		;
	static const uint32_t b1[][2] = {{1000, 3000}};
	static const uint32_t b2[][2] = {{1000, 4000}};
	sack_ack_wnd(&p, b1, 1, 60000);
	CHECK(!p.c->in_recovery);
	CHECK_EQ(p.c->dupacks, 0);
	sack_ack_wnd(&p, b2, 1, 50000);
	CHECK(p.c->in_recovery);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(p.o.len, 1000);
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 1);
}

TEST(a_lost_retransmission_is_sent_again_once_later_data_is_sacked)
{
	/* The first segment is lost, and so is its fast retransmission.  New
	 * data sent after that retransmission arrives and is SACKed: once
	 * more than two segments of it are, the retransmission is lost too
	 * and goes again, without waiting for the timer. */
	struct peer p;
	sack_open(&p, 4000, 16000);
	while (take(&p))
		;
	static const uint32_t b[][1][2] = {{{1000, 2000}}, {{1000, 3000}}, {{1000, 4000}},
					   {{1000, 5000}}, {{1000, 6000}}, {{1000, 7000}},
					   {{1000, 8000}}, {{1000, 9000}}};
	unsigned first = 0;
	for (unsigned i = 0; i < 8; i++) {
		sack_ack(&p, b[i], 1);
		while (take(&p))
			if (p.o.seq == p.iss + 1)
				first++;
		if (i < 7)
			CHECK_EQ(cnt(&p.t, "tcp", "lost_rexmt"), 0);
	}
	CHECK_EQ(first, 2); /* the fast retransmission, then the second */
	CHECK_EQ(cnt(&p.t, "tcp", "lost_rexmt"), 1);
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 1);
	CHECK_EQ(cnt(&p.t, "tcp", "rexmt_timeout"), 0);
}

TEST(a_silent_flight_gets_one_loss_probe_before_the_timeout)
{
	/* Four segments out, nothing comes back: after max(2 SRTT, 10 ms)
	 * the last segment is sent again (RFC 8985 7.3) to draw an ACK with
	 * SACKs; one probe only, then the retransmission timer as before. */
	struct peer p;
	sack_open(&p, 4000, 4000);
	while (take(&p))
		;
	tnet_advance(&p.t, 9 * NS_PER_MS);
	CHECK(!take(&p));
	tnet_advance(&p.t, 2 * NS_PER_MS);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 3000);
	CHECK_EQ(p.o.len, 1000);
	CHECK_EQ(cnt(&p.t, "tcp", "loss_probe"), 1);
	CHECK_EQ(cnt(&p.t, "tcp", "rexmt_timeout"), 0);
	CHECK_EQ(p.c->cwnd, 4000);
	/* No second probe; the retransmission timer (200 ms after the
	 * handshake's RTT sample) goes back to the first segment. */
	tnet_advance(&p.t, 150 * NS_PER_MS);
	CHECK(!take(&p));
	tnet_advance(&p.t, 100 * NS_PER_MS);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(cnt(&p.t, "tcp", "rexmt_timeout"), 1);
	CHECK_EQ(cnt(&p.t, "tcp", "loss_probe"), 1);
}

/* The next frame the stack sent, raw (ARP and other frames skipped). */
static size_t take_raw(struct peer *p, uint8_t *f)
{
	int len;
	while ((len = tnet_tx(&p->t, f)) >= 0)
		if (len >= 54 && f[23] == 6)
			return (size_t)len;
	return 0;
}

/* An ICMP error from a router (10.0.0.254) quoting the IP header and the
 * first 8 bytes of the TCP segment in frame f; seq_delta shifts the
 * quoted sequence number. */
static void icmp_about(struct peer *p, uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *f,
		       int32_t seq_delta)
{
	uint8_t m[8 + 28], out[FRAME_MAX];
	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put16(m + 4, 0);
	put16(m + 6, mtu);
	memcpy(m + 8, f + 14, 28);
	put32(m + 8 + 24, get32(f + 14 + 24) + (uint32_t)seq_delta);
	put16(m + 2, t_csum(m, sizeof m));
	tnet_rx(&p->t, out, ip_frame(out, IP(10, 0, 0, 254), IP_US, 1, 7, 0, m, sizeof m));
}

TEST(path_mtu_discovery_lowers_the_mss_on_fragmentation_needed)
{
	struct peer p;
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, NULL); /* MSS 1460 with timestamps */
	tcp_setopt(p.c, TCP_OPT_NODELAY, 1);
	CHECK_EQ(p.c->mss, 1448);
	static uint8_t data[3000];
	fill_pattern(data, sizeof data, 6);
	CHECK_EQ(tcp_write(p.c, data, sizeof data, NULL, TCP_NOWAIT), ATL_OK);
	uint8_t f1[FRAME_MAX], f2[FRAME_MAX];
	CHECK(take_raw(&p, f1) > 0);
	CHECK(take_raw(&p, f2) > 0);
	CHECK(take(&p)); /* the last 104 bytes */
	/* RFC 1191: DF is set on every segment. */
	CHECK(get16(f1 + 14 + 6) & 0x4000);
	/* RFC 5927 4.1: a quoted sequence number outside SND.UNA..SND.NXT
	 * is not about anything we sent: ignored. */
	icmp_about(&p, 3, 4, 1000, f1, -1);
	icmp_about(&p, 3, 4, 1000, f2, 3000);
	CHECK_EQ(cnt(&p.t, "tcp", "icmp_ignored"), 2);
	CHECK_EQ(p.c->mss, 1448);
	CHECK(!take(&p));
	/* A valid one: next-hop MTU 1000, so MSS 1000 - 40 - 12; the data in
	 * flight goes again at the new size, cwnd untouched. */
	uint32_t cwnd = p.c->cwnd;
	icmp_about(&p, 3, 4, 1000, f1, 0);
	CHECK_EQ(cnt(&p.t, "icmp", "errors_to_tcp"), 3);
	CHECK_EQ(cnt(&p.t, "tcp", "pmtu_lowered"), 1);
	CHECK_EQ(p.c->mss, 948);
	CHECK_EQ(p.c->cwnd, cwnd);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(p.o.len, 948);
	CHECK_MEM(p.o.data, data, 948);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1 + 948);
	CHECK_EQ(p.o.len, 948);
	/* An absurd MTU is taken as 576 (TCP_PMTU_MIN); a larger one never
	 * raises the MSS. */
	icmp_about(&p, 3, 4, 68, f1, 0);
	CHECK_EQ(p.c->mss, 576 - 40 - 12);
	icmp_about(&p, 3, 4, 1400, f1, 0);
	CHECK_EQ(p.c->mss, 576 - 40 - 12);
	/* Other unreachables on a synchronized connection are soft errors. */
	icmp_about(&p, 3, 3, 0, f1, 0);
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
}

TEST(port_unreachable_ends_a_connect_in_syn_sent)
{
	/* RFC 5461 / RFC 1122 4.2.3.9: an ICMP port unreachable about our
	 * SYN ends the connect at once (ECONNREFUSED) instead of a minute of
	 * SYN retries. */
	struct peer p;
	memset(&p, 0, sizeof p);
	tnet_open(&p.t);
	tnet_learn(&p.t, MAC_PEER, IP_PEER);
	struct ip4_ep to = {IP_PEER, 4000};
	struct tcp_conn *c;
	CHECK_EQ(tcp_connect(p.t.st, &to, &c, TCP_NOWAIT), ATL_EAGAIN); /* in progress */
	uint8_t f[FRAME_MAX];
	CHECK(take_raw(&p, f) > 0);
	CHECK_EQ(f[14 + 33], 0x02); /* SYN */
	icmp_about(&p, 3, 3, 0, f, 0);
	CHECK_EQ(cnt(&p.t, "tcp", "icmp_abort"), 1);
	CHECK_EQ(c->state, TCP_CLOSED);
	CHECK_EQ(c->err, ATL_ECONNREFUSED);
	tcp_close(c);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 0);
}

TEST(rst_checks_follow_rfc5961)
{
	struct peer p;
	plain_open(&p);
	/* In the window but not exactly RCV.NXT: a challenge ACK. */
	peer_send(&p, p.snd + 100, 0, F_RST, 0, NULL, 0);
	CHECK(take(&p));
	CHECK_EQ(p.o.flags, F_ACK);
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	CHECK_EQ(cnt(&p.t, "tcp", "challenge_ack"), 1);
	/* Outside the window: silently dropped. */
	peer_send(&p, p.snd + 10000000, 0, F_RST, 0, NULL, 0);
	CHECK(!take(&p));
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	/* Another in the window at once: over the rate limit (7), not
	 * answered. */
	peer_send(&p, p.snd + 200, 0, F_RST, 0, NULL, 0);
	CHECK(!take(&p));
	CHECK_EQ(cnt(&p.t, "tcp", "challenge_ack_skipped"), 1);
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	tnet_advance(&p.t, TCP_OOW_ACK_INTERVAL_NS);
	/* A SYN on an established connection: a challenge ACK too (4.2). */
	peer_send(&p, p.snd, p.iss + 1, F_SYN, 65535, NULL, 0);
	CHECK(take(&p));
	CHECK_EQ(p.o.flags, F_ACK);
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	CHECK_EQ(cnt(&p.t, "tcp", "challenge_ack"), 2);
	/* An ACK for data never sent: ACKed and dropped (5.2). */
	tnet_advance(&p.t, TCP_OOW_ACK_INTERVAL_NS);
	peer_send(&p, p.snd, p.iss + 5000, F_ACK, 65535, (const uint8_t *)"zz", 2);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd); /* the data was not taken */
	CHECK_EQ(cnt(&p.t, "tcp", "ack_too_new"), 1);
	/* Exactly RCV.NXT: the connection is reset. */
	peer_send(&p, p.snd, 0, F_RST, 0, NULL, 0);
	CHECK_EQ(p.c->state, TCP_CLOSED);
	uint8_t b[4];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_ECONNRESET);
	CHECK(tcp_events(p.c) & TCP_EV_CLOSED);
	tcp_close(p.c);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 0);
}

TEST(paws_answers_stale_pure_acks_at_a_limited_rate)
{
	/* Pure ACKs overtaken by later ones (a reordering path) fail PAWS;
	 * answering each would double the ACK traffic. */
	struct peer p;
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, NULL);
	fake_set_time(fake_time() + TCP_OOW_ACK_INTERVAL_NS);
	p.ts = 6000;
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, NULL, 0);
	while (take(&p))
		;
	p.ts = 5500;
	for (int i = 0; i < 5; i++)
		peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, NULL, 0);
	CHECK_EQ(cnt(&p.t, "tcp", "paws_drop"), 5);
	int acks = 0;
	while (take(&p))
		acks++;
	CHECK_EQ(acks, 1);
	/* A stale segment with data is always answered. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, (const uint8_t *)"def", 3);
	CHECK(take(&p));
	CHECK_EQ(cnt(&p.t, "tcp", "paws_drop"), 6);
}

TEST(paws_drops_old_timestamps)
{
	struct peer p;
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, NULL);
	p.ts = 6000;
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, (const uint8_t *)"abc", 3);
	p.snd += 3;
	p.ts = 5500; /* older than TS.Recent */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, (const uint8_t *)"def", 3);
	CHECK_EQ(cnt(&p.t, "tcp", "paws_drop"), 1);
	uint8_t b[16];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, 3);
	CHECK_MEM(b, "abc", 3);
}

TEST(delayed_ack_and_every_second_segment)
{
	struct peer p;
	plain_open(&p);
	uint8_t data[1000];
	fill_pattern(data, sizeof data, 1);
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 500);
	p.snd += 500;
	CHECK(!take(&p)); /* delayed */
	tnet_advance(&p.t, TCP_DELACK_NS);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(cnt(&p.t, "tcp", "delack"), 1);
	/* Two segments: the second is ACKed at once (RFC 5681 4.2). */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	p.snd += 1000;
	CHECK(!take(&p));
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	p.snd += 1000;
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd);
	/* Out of order: an immediate duplicate ACK. */
	peer_send(&p, p.snd + 1000, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(cnt(&p.t, "tcp", "ooo_rx"), 1);
	/* The hole filled: everything ACKed at once, read in order. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, 1000);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd + 2000);
	static uint8_t b[8000];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, 500 + 4000);
}

TEST(a_scaled_window_never_offers_bytes_past_the_buffer)
{
	/* Window scale 3 (8-byte units) and segments of 1001 bytes, which
	 * move RCV.NXT off the unit: a greedy peer sends up to every edge we
	 * offer while the application reads nothing, until the window is
	 * shut.  Every byte sent must fit (RFC 7323 2.4: round the edge
	 * down, never up past the buffer). */
	struct peer p;
	static const char *const args[] = {"ipv4=10.0.0.2/24", "tcp-buf=256K", "tcp-conns=2", NULL};
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, args);
	CHECK_EQ(p.c->rcv_wscale, 3);
	static uint8_t data[1001];
	fill_pattern(data, sizeof data, 7);
	uint32_t edge = p.snd + (65535u << 3), sent = 0;
	for (int i = 0; i < 1000 && tcp_seq_lt(p.snd, edge); i++) {
		uint32_t len = edge - p.snd < sizeof data ? edge - p.snd : sizeof data;
		peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, data, len);
		p.snd += len;
		sent += len;
		tnet_advance(&p.t, TCP_DELACK_NS);
		while (take(&p)) {
			CHECK_EQ(p.o.ack, p.snd); /* nothing cut off */
			edge = p.o.ack + ((uint32_t)p.o.wnd << 3);
		}
	}
	CHECK_EQ(p.o.wnd, 0);
	/* All of the buffer taken but for less than a segment (SWS avoidance). */
	CHECK(sent > (256u << 10) - 1000 && sent <= 256u << 10);
	CHECK_EQ(cnt(&p.t, "tcp", "rcv_trim"), 0);
	CHECK_EQ(cnt(&p.t, "tcp", "ooo_rx"), 0);
}

/* 30 segments of 1,000 bytes from the peer, in order, and the delayed
 * ACK's time: 30,000 of the 32 KiB buffer are then waiting to be read. */
static void send_thirty_segments(struct peer *p)
{
	static uint8_t data[1000];
	fill_pattern(data, sizeof data, 3);
	for (int i = 0; i < 30; i++) {
		peer_send(p, p->snd, p->iss + 1, F_ACK, 65535, data, sizeof data);
		p->snd += sizeof data;
	}
	tnet_advance(&p->t, TCP_DELACK_NS);
}

TEST(window_updates_wait_until_the_window_doubles)
{
	/* 32 KiB buffer, MSS 1000, no scaling: 30,000 bytes arrive and the
	 * application reads them back 1,000 at a time.  A window update of
	 * its own goes only while the offer is under half the buffer and
	 * once it at least doubles (as Linux): 2,768 -> 5,768 -> 11,768 ->
	 * 23,768, then none (the offer is over half). */
	struct peer p;
	plain_open(&p);
	send_thirty_segments(&p);
	uint32_t wnd = 0;
	while (take(&p))
		wnd = p.o.wnd;
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(wnd, 32768 - 30000);
	uint32_t updates[8];
	unsigned n = 0;
	for (int i = 0; i < 30; i++) {
		uint8_t b[1000];
		size_t len;
		CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
		CHECK_EQ(len, sizeof b);
		tnet_advance(&p.t, 0); /* the fiber has run: the update goes */
		while (take(&p)) {
			CHECK_EQ(p.o.len, 0);
			if (n < 8)
				updates[n] = p.o.wnd;
			n++;
		}
	}
	CHECK_EQ(n, 3);
	CHECK_EQ(updates[0], 5768);
	CHECK_EQ(updates[1], 11768);
	CHECK_EQ(updates[2], 23768);
}

TEST(a_reply_written_after_a_read_carries_the_window_update)
{
	/* As above, but the application answers what it read before it
	 * yields: one segment, the reply with the new window, not a window
	 * update and then the reply. */
	struct peer p;
	plain_open(&p);
	send_thirty_segments(&p);
	tnet_drain(&p.t);
	static uint8_t b[3000];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, sizeof b);
	CHECK_EQ(tcp_write(p.c, "ok", 2, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&p));
	CHECK_EQ(p.o.len, 2);
	CHECK_EQ(p.o.ack, p.snd);
	CHECK_EQ(p.o.wnd, 32768 - 27000);
	tnet_advance(&p.t, 0);
	CHECK(!take(&p)); /* nothing more */
}

TEST(the_ack_of_a_fin_goes_with_ours_when_the_application_closes)
{
	/* The peer's FIN is acknowledged like data, after a delay, so that
	 * an application closing on end of file sends FIN and ACK in one
	 * segment (as Linux); one that does not close still ACKs in time. */
	struct peer p;
	plain_open(&p);
	peer_send(&p, p.snd, p.iss + 1, F_ACK | F_FIN, 65535, NULL, 0);
	p.snd++;
	CHECK(!take(&p));
	CHECK_EQ(p.c->state, TCP_CLOSE_WAIT);
	size_t len;
	uint8_t b[8];
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, 0); /* end of file */
	tcp_close(p.c);
	CHECK(take(&p));
	CHECK_EQ(p.o.flags, F_FIN | F_ACK);
	CHECK_EQ(p.o.ack, p.snd);
	CHECK(!take(&p));

	struct peer q;
	plain_open(&q);
	peer_send(&q, q.snd, q.iss + 1, F_ACK | F_FIN, 65535, NULL, 0);
	q.snd++;
	CHECK(!take(&q));
	tnet_advance(&q.t, TCP_DELACK_NS);
	CHECK(take(&q));
	CHECK_EQ(q.o.flags, F_ACK);
	CHECK_EQ(q.o.ack, q.snd);
}

TEST(nagle_holds_small_segments_and_nodelay_does_not)
{
	struct peer p;
	plain_open(&p);
	CHECK_EQ(tcp_write(p.c, "aaaa", 4, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&p));
	CHECK_EQ(p.o.len, 4);
	CHECK_EQ(tcp_write(p.c, "bbbb", 4, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(!take(&p)); /* RFC 9293 3.7.4: waits for the ACK */
	peer_send(&p, p.snd, p.iss + 5, F_ACK, 65535, NULL, 0);
	CHECK(take(&p));
	CHECK_EQ(p.o.len, 4);
	CHECK_MEM(p.o.data, "bbbb", 4);
	CHECK_EQ(tcp_setopt(p.c, TCP_OPT_NODELAY, 1), ATL_OK);
	CHECK_EQ(tcp_write(p.c, "cccc", 4, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&p)); /* unacknowledged data, sent anyway */
	CHECK_MEM(p.o.data, "cccc", 4);
}

TEST(zero_window_is_probed_until_it_opens)
{
	struct peer p;
	plain_open(&p);
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 0, NULL, 0); /* window 0 */
	CHECK_EQ(tcp_write(p.c, "0123456789", 10, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(!take(&p));
	tnet_advance(&p.t, 2 * NS_PER_SEC);
	CHECK(take(&p));
	CHECK_EQ(p.o.len, 1); /* RFC 9293 3.8.6.1: one byte beyond */
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK(cnt(&p.t, "tcp", "persist_probe") >= 1);
	/* Still closed: probes back off but never give up while the peer
	 * answers them (RFC 1122 4.2.2.17). */
	for (int i = 0; i < 20; i++) {
		peer_send(&p, p.snd, p.iss + 1, F_ACK, 0, NULL, 0);
		tnet_advance(&p.t, 60 * NS_PER_SEC);
	}
	CHECK(cnt(&p.t, "tcp", "persist_probe") >= 20);
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	tnet_drain(&p.t);
	tnet_learn(&p.t, MAC_PEER, IP_PEER); /* the ARP entry aged meanwhile */
	/* The window opens: the data follows. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 1000, NULL, 0);
	CHECK(take(&p));
	CHECK_EQ(p.o.len, 10);
	CHECK_MEM(p.o.data, "0123456789", 10);
}

TEST(zero_window_probes_give_up_when_nobody_answers)
{
	struct peer p;
	plain_open(&p);
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 0, NULL, 0);
	CHECK_EQ(tcp_write(p.c, "abc", 3, NULL, TCP_NOWAIT), ATL_OK);
	tcp_close(p.c); /* orphaned behind a closed window */
	tnet_advance(&p.t, 3600 * NS_PER_SEC);
	CHECK_EQ(cnt(&p.t, "tcp", "aborted_timeout"), 1);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 0);
}

TEST(keepalive_probes_then_gives_up)
{
	struct peer p;
	plain_open(&p);
	CHECK_EQ(tcp_setopt(p.c, TCP_OPT_KEEPALIVE, 1), ATL_OK);
	tnet_advance(&p.t, TCP_KEEPIDLE_NS - NS_PER_SEC);
	CHECK(!take(&p));
	tnet_learn(&p.t, MAC_PEER, IP_PEER); /* the ARP entry aged meanwhile */
	tnet_advance(&p.t, NS_PER_SEC);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss); /* SND.NXT - 1 (RFC 1122 4.2.3.6) */
	CHECK_EQ(p.o.len, 0);
	/* An answer resets the count; silence ends the connection. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, NULL, 0);
	tnet_advance(&p.t, TCP_KEEPIDLE_NS + TCP_KEEPCNT * TCP_KEEPINTVL_NS);
	CHECK_EQ(cnt(&p.t, "tcp", "keepalive_probe"), 1 + TCP_KEEPCNT);
	CHECK_EQ(p.c->state, TCP_CLOSED);
	uint8_t b[4];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_ETIMEDOUT);
	tcp_close(p.c);
}

TEST(simultaneous_open)
{
	struct peer p;
	memset(&p, 0, sizeof p);
	tnet_open(&p.t);
	tnet_learn(&p.t, MAC_PEER, IP_PEER);
	struct ip4_ep to = {IP_PEER, RPORT};
	CHECK_EQ(tcp_connect(p.t.st, &to, &p.c, TCP_NOWAIT), ATL_EAGAIN);
	CHECK(take(&p));
	CHECK_EQ(p.o.flags, F_SYN);
	uint32_t iss = p.o.seq;
	uint16_t lport = p.o.sport;
	/* The peer's SYN crosses ours (RFC 9293 3.5 figure 8). */
	uint8_t f[FRAME_MAX];
	struct tseg syn = {RPORT, lport, PEER_ISS, 0, F_SYN, 65535, NULL, 0, NULL, 0};
	tnet_rx(&p.t, f, tcp_frame(f, &syn));
	CHECK(take(&p));
	CHECK_EQ(p.o.flags, F_SYN | F_ACK);
	CHECK_EQ(p.o.seq, iss);
	CHECK_EQ(p.o.ack, PEER_ISS + 1);
	CHECK_EQ(p.c->state, TCP_SYN_RCVD);
	struct tseg synack = {RPORT, lport, PEER_ISS, iss + 1, F_SYN | F_ACK,
			      65535, NULL,  0,	      NULL,    0};
	tnet_rx(&p.t, f, tcp_frame(f, &synack));
	/* Our SYN-ACK was ACKed by the peer's SYN-ACK... which also repeats
	 * its SYN: a challenge ACK; the plain ACK establishes it. */
	struct tseg ack = {RPORT, lport, PEER_ISS + 1, iss + 1, F_ACK, 65535, NULL, 0, NULL, 0};
	tnet_rx(&p.t, f, tcp_frame(f, &ack));
	CHECK_EQ(p.c->state, TCP_ESTABLISHED);
	CHECK(tcp_events(p.c) & TCP_EV_WRITABLE);
	tcp_close(p.c);
}

TEST(simultaneous_close_goes_through_closing)
{
	struct peer p;
	plain_open(&p);
	CHECK_EQ(tcp_shutdown(p.c), ATL_OK);
	CHECK(take(&p));
	CHECK(p.o.flags & F_FIN);
	CHECK_EQ(p.c->state, TCP_FIN_WAIT_1);
	/* The peer's FIN crosses ours, not acknowledging it. */
	peer_send(&p, p.snd, p.iss + 1, F_ACK | F_FIN, 65535, NULL, 0);
	CHECK_EQ(p.c->state, TCP_CLOSING);
	CHECK(take(&p));
	CHECK_EQ(p.o.ack, p.snd + 1);
	peer_send(&p, p.snd + 1, p.iss + 2, F_ACK, 65535, NULL, 0);
	CHECK_EQ(p.c->state, TCP_TIME_WAIT);
	uint8_t b[4];
	size_t len;
	CHECK_EQ(tcp_read(p.c, b, sizeof b, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, 0); /* end of stream */
	tcp_close(p.c);
	tnet_advance(&p.t, TCP_TIMEWAIT_NS);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 0);
}

TEST(fast_retransmit_after_three_dupacks)
{
	struct peer p;
	plain_open(&p);
	tcp_setopt(p.c, TCP_OPT_NODELAY, 1);
	static uint8_t data[4000];
	fill_pattern(data, sizeof data, 3);
	CHECK_EQ(tcp_write(p.c, data, sizeof data, NULL, TCP_NOWAIT), ATL_OK);
	unsigned segs = 0;
	while (take(&p))
		segs++;
	CHECK_EQ(segs, 4); /* IW = 4 x 1000 (RFC 5681 3.1) */
	/* The first segment is lost: three duplicate ACKs. */
	for (int i = 0; i < 3; i++)
		peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, NULL, 0);
	CHECK(take(&p));
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(p.o.len, 1000);
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 1);
	CHECK_EQ(cnt(&p.t, "tcp", "rexmt_timeout"), 0);
	CHECK_EQ(p.c->ssthresh, 2000); /* max(flight/2, 2 MSS) */
}

TEST(cubic_reduces_by_beta_and_follows_the_cubic)
{
	struct peer p;
	static const uint8_t mss[] = {2, 4, 0x03, 0xe8};
	static const char *const args[] = {"ipv4=10.0.0.2/24", "tcp-cc=cubic", NULL};
	peer_open(&p, mss, sizeof mss, args);
	CHECK_EQ(p.c->cc, TCP_CC_CUBIC);
	tcp_setopt(p.c, TCP_OPT_NODELAY, 1);
	static uint8_t data[4000];
	CHECK_EQ(tcp_write(p.c, data, sizeof data, NULL, TCP_NOWAIT), ATL_OK);
	while (take(&p))
		;
	for (int i = 0; i < 3; i++)
		peer_send(&p, p.snd, p.iss + 1, F_ACK, 65535, NULL, 0);
	/* RFC 9438 4.6: ssthresh = cwnd x 0.7 (NewReno would halve the
	 * flight: 2000); W_max remembers the window before. */
	CHECK_EQ(p.c->ssthresh, 2800);
	CHECK_EQ(p.c->w_max, 4000);

	/* 4.2: W_cubic(t) = C (t - K)^3 + W_max.  With W_max = 100 segments
	 * of 1000 bytes and K = cbrt(100 x 0.3 / 0.4) = 4.217 s: 70 segments
	 * at the epoch's start, 100 at K, 130 at 2K. */
	p.c->w_max = 100000;
	p.c->k_ms = 4217;
	CHECK(tcp_cubic_window(p.c, 0) > 69900 && tcp_cubic_window(p.c, 0) < 70100);
	CHECK_EQ(tcp_cubic_window(p.c, 4217 * NS_PER_MS), 100000);
	CHECK(tcp_cubic_window(p.c, 8434 * NS_PER_MS) > 129900 &&
	      tcp_cubic_window(p.c, 8434 * NS_PER_MS) < 130100);
	/* concave then convex: slow near W_max */
	uint32_t a = tcp_cubic_window(p.c, 2000 * NS_PER_MS);
	uint32_t b = tcp_cubic_window(p.c, 4000 * NS_PER_MS);
	CHECK(a - 70000 > b - a);
}

TEST(hystart_leaves_slow_start_when_the_rtt_grows)
{
	/* RFC 9406 with CUBIC: three rounds at an RTT of 10 ms, then 40 ms
	 * (a queue building): the first round at 40 ms, once it has 8 RTT
	 * samples, leaves slow start for Conservative Slow Start; five rounds
	 * later congestion avoidance begins with ssthresh = cwnd, no loss
	 * having happened. */
	static const char *const args[] = {"ipv4=10.0.0.2/24", "tcp-buf=512K", "tcp-conns=2",
					   "tcp-cc=cubic", NULL};
	struct peer p;
	peer_open(&p, SYN_OPTS, sizeof SYN_OPTS, args);
	tcp_setopt(p.c, TCP_OPT_NODELAY, 1);
	static uint8_t buf[65536];
	static uint32_t end[1024], tsv[1024];
	uint32_t css_cwnd = 0;
	for (int round = 0; round < 10; round++) {
		size_t done;
		while (tcp_write(p.c, buf, sizeof buf, &done, TCP_NOWAIT) == ATL_OK)
			;
		unsigned k = 0;
		while (k < 1024 && take(&p)) {
			end[k] = p.o.seq + (uint32_t)p.o.len;
			tsv[k++] = p.o.tsval;
		}
		CHECK(k > 0);
		fake_set_time(fake_time() + (round < 3 ? 10 : 40) * NS_PER_MS);
		for (unsigned i = 0; i < k; i++) {
			p.o.tsval = tsv[i];
			p.ts++;
			peer_send(&p, p.snd, end[i], F_ACK, 65535, NULL, 0);
		}
		if (round < 3)
			CHECK(!p.c->hs_css);
		if (round == 3) {
			CHECK(p.c->hs_css);
			CHECK_EQ(cnt(&p.t, "tcp", "hystart_css"), 1);
			CHECK_EQ(p.c->ssthresh, UINT32_MAX);
			css_cwnd = p.c->cwnd;
		}
	}
	/* Out of slow start without a loss; in CSS cwnd grew by a quarter
	 * of slow start's pace (at most 1.25 times per round). */
	CHECK(p.c->ssthresh != UINT32_MAX);
	CHECK(!p.c->hs_css);
	CHECK(p.c->ssthresh <= css_cwnd * 4);
	CHECK_EQ(cnt(&p.t, "tcp", "fast_rexmt"), 0);
}

TEST(rto_backs_off_and_karn_ignores_retransmissions)
{
	struct peer p;
	plain_open(&p);
	uint64_t rto0 = p.c->rto;
	CHECK(rto0 >= TCP_RTO_MIN_NS);
	CHECK_EQ(tcp_write(p.c, "data", 4, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(take(&p));
	tnet_advance(&p.t, rto0);
	CHECK(take(&p)); /* first retransmission */
	CHECK_EQ(p.o.seq, p.iss + 1);
	CHECK_EQ(p.c->rto, 2 * rto0);
	tnet_advance(&p.t, 2 * rto0 - 1);
	CHECK(!take(&p));
	tnet_advance(&p.t, 1);
	CHECK(take(&p));	       /* second, after twice the time (RFC 6298 5.5) */
	CHECK_EQ(p.c->cwnd, p.c->mss); /* RFC 5681 3.1: loss window */
	/* The ACK of a retransmitted segment gives no RTT sample (Karn):
	 * the backed-off RTO stays until new data is timed. */
	tnet_advance(&p.t, 100 * NS_PER_MS);
	peer_send(&p, p.snd, p.iss + 5, F_ACK, 65535, NULL, 0);
	CHECK_EQ(p.c->rto, 4 * rto0);
}

TEST_MAIN(TEST_ENTRY(syn_ack_negotiates_mss_wscale_timestamps),
	  TEST_ENTRY(syn_without_options_gets_defaults),
	  TEST_ENTRY(sack_blocks_report_out_of_order_data),
	  TEST_ENTRY(duplicates_are_reported_with_dsack_blocks),
	  TEST_ENTRY(sack_guides_retransmission_to_the_holes),
	  TEST_ENTRY(path_mtu_discovery_lowers_the_mss_on_fragmentation_needed),
	  TEST_ENTRY(port_unreachable_ends_a_connect_in_syn_sent),
	  TEST_ENTRY(limited_transmit_sends_new_data_on_the_first_two_dupacks),
	  TEST_ENTRY(sacked_data_starts_recovery_without_three_dupacks),
	  TEST_ENTRY(a_lost_retransmission_is_sent_again_once_later_data_is_sacked),
	  TEST_ENTRY(a_silent_flight_gets_one_loss_probe_before_the_timeout),
	  TEST_ENTRY(rst_checks_follow_rfc5961), TEST_ENTRY(paws_drops_old_timestamps),
	  TEST_ENTRY(paws_answers_stale_pure_acks_at_a_limited_rate),
	  TEST_ENTRY(delayed_ack_and_every_second_segment),
	  TEST_ENTRY(a_scaled_window_never_offers_bytes_past_the_buffer),
	  TEST_ENTRY(window_updates_wait_until_the_window_doubles),
	  TEST_ENTRY(a_reply_written_after_a_read_carries_the_window_update),
	  TEST_ENTRY(the_ack_of_a_fin_goes_with_ours_when_the_application_closes),
	  TEST_ENTRY(nagle_holds_small_segments_and_nodelay_does_not),
	  TEST_ENTRY(zero_window_is_probed_until_it_opens),
	  TEST_ENTRY(zero_window_probes_give_up_when_nobody_answers),
	  TEST_ENTRY(keepalive_probes_then_gives_up), TEST_ENTRY(simultaneous_open),
	  TEST_ENTRY(simultaneous_close_goes_through_closing),
	  TEST_ENTRY(fast_retransmit_after_three_dupacks),
	  TEST_ENTRY(cubic_reduces_by_beta_and_follows_the_cubic),
	  TEST_ENTRY(hystart_leaves_slow_start_when_the_rtt_grows),
	  TEST_ENTRY(rto_backs_off_and_karn_ignores_retransmissions))
