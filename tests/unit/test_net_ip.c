/*
 * test_net_ip.c - IPv4 and ICMPv4 in atoll's own stack: echo replies
 * byte for byte, header checks against hostile input, reassembly (in
 * order, reversed, duplicated, overlapping, endless, too big, timed out)
 * with memory back to its baseline, fragmentation on output, routing and
 * the rules and rate of ICMP errors.
 */
#include "test_net.h"

static uint8_t big[70000];

/* Check the Ethernet and IPv4 headers of a frame we sent; returns the
 * IP header. */
static const uint8_t *check_ip(const uint8_t *f, int len, const uint8_t *eth_dst, uint32_t dst,
			       uint8_t proto)
{
	CHECK(len >= 34);
	if (len < 34)
		return f + 14;
	CHECK_MEM(f, eth_dst, 6);
	CHECK_MEM(f + 6, MAC_US, 6);
	CHECK_EQ(get16(f + 12), 0x0800);
	const uint8_t *h = f + 14;
	CHECK_EQ(h[0], 0x45);
	CHECK_EQ(h[8], 64);
	CHECK_EQ(h[9], proto);
	CHECK_EQ(get32(h + 12), IP_US);
	CHECK_EQ(get32(h + 16), dst);
	CHECK_EQ(t_csum(h, 20), 0);
	CHECK(get16(h + 2) + 14 <= len);
	return h;
}

/* Ping from the peer (already known by ARP) with len bytes of data. */
static size_t ping_frame(uint8_t *f, uint16_t id, uint16_t seq, size_t len)
{
	uint8_t m[1600];
	uint8_t data[1600];
	fill_pattern(data, len, seq);
	size_t mlen = icmp_echo(m, 8, id, seq, data, len);
	return ip_frame(f, IP_PEER, IP_US, 1, 0x4242, 0, m, mlen);
}

TEST(ping_reply_is_exact)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	size_t sizes[] = {0, 1, 7, 56, 1472};
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t f[FRAME_MAX], r[FRAME_MAX], want[FRAME_MAX];
		size_t len = ping_frame(f, 0x1234, (uint16_t)i, sizes[i]);
		tnet_rx(&t, f, len);
		int got = tnet_tx(&t, r);
		CHECK_EQ(got, len < 60 ? 60 : len);
		if (got < 34)
			continue;
		/* The reply we expect, built here: IP identification is the
		 * stack's choice, everything else is fixed. */
		memset(want, 0, sizeof want);
		eth_hdr(want, MAC_PEER, MAC_US, 0x0800);
		uint8_t *m = want + 34;
		memcpy(m, f + 34, len - 34);
		m[0] = 0;
		put16(m + 2, 0);
		put16(m + 2, t_csum(m, len - 34));
		ip_hdr(want + 14, IP_US, IP_PEER, 1, get16(r + 18), 0, len - 34);
		CHECK_MEM(r, want, (size_t)got);
		CHECK_EQ(t_csum(r + 34, len - 34), 0);
		CHECK_EQ(tnet_tx(&t, r), -1);
	}
	CHECK_EQ(cnt(&t, "icmp", "echo_rx"), ARRAY_SIZE(sizes));
	CHECK_EQ(cnt(&t, "icmp", "echo_tx"), ARRAY_SIZE(sizes));
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(ping_padding_and_options)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX], r[FRAME_MAX];
	/* A short ping padded by Ethernet: the total length rules. */
	size_t len = ping_frame(f, 1, 1, 4);
	memset(f + len, 0xee, 60 - len);
	tnet_rx(&t, f, 60);
	int got = tnet_tx(&t, r);
	CHECK_EQ(got, 60);
	CHECK_EQ(get16(r + 16), 20 + 12);
	CHECK_MEM(r + 34 + 4, f + 34 + 4, 12 - 4);
	CHECK_EQ(t_csum(r + 34, 12), 0);

	/* Options (a 4-byte NOP/EOL word) are skipped, not echoed. */
	uint8_t m[64];
	uint8_t data[16];
	fill_pattern(data, sizeof data, 9);
	size_t mlen = icmp_echo(m, 8, 7, 7, data, sizeof data);
	eth_hdr(f, MAC_US, MAC_PEER, 0x0800);
	ip_hdr(f + 14, IP_PEER, IP_US, 1, 1, 0, mlen + 4);
	f[14] = 0x46;
	memcpy(f + 34, "\x01\x01\x01\x00", 4);
	memcpy(f + 38, m, mlen);
	ip_fix_cksum(f + 14);
	tnet_rx(&t, f, 38 + mlen);
	got = tnet_tx(&t, r);
	const uint8_t *h = check_ip(r, got, MAC_PEER, IP_PEER, 1);
	CHECK_EQ(get16(h + 2), 20 + mlen);
	CHECK_MEM(r + 34 + 4, m + 4, mlen - 4);
	CHECK_EQ(cnt(&t, "ipv4", "options"), 1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(ping_not_answered)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX];
	/* RFC 1122 3.2.2.6: broadcast echo, both kinds. */
	size_t len = ping_frame(f, 1, 1, 10);
	put32(f + 30, IP_BCAST);
	ip_fix_cksum(f + 14);
	tnet_rx(&t, f, len);
	memcpy(f, MAC_BCAST, 6);
	put32(f + 30, 0xffffffff);
	ip_fix_cksum(f + 14);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "icmp", "echo_bcast_drop"), 2);
	/* Bad ICMP checksum. */
	len = ping_frame(f, 1, 1, 10);
	f[40] ^= 0x40;
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "icmp", "bad_cksum"), 1);
	/* Echo replies, errors and unknown types are taken in silently. */
	uint8_t m[64];
	size_t mlen = icmp_echo(m, 0, 1, 1, NULL, 0);
	tnet_rx(&t, f, ip_frame(f, IP_PEER, IP_US, 1, 1, 0, m, mlen));
	mlen = icmp_echo(m, 3, 1, 1, NULL, 0);
	tnet_rx(&t, f, ip_frame(f, IP_PEER, IP_US, 1, 1, 0, m, mlen));
	mlen = icmp_echo(m, 42, 1, 1, NULL, 0);
	tnet_rx(&t, f, ip_frame(f, IP_PEER, IP_US, 1, 1, 0, m, mlen));
	CHECK_EQ(cnt(&t, "icmp", "echo_reply_rx"), 1);
	CHECK_EQ(cnt(&t, "icmp", "errors_rx"), 1);
	CHECK_EQ(cnt(&t, "icmp", "unknown_type"), 1);
	/* Shorter than an ICMP header. */
	tnet_rx(&t, f, ip_frame(f, IP_PEER, IP_US, 1, 1, 0, m, 5));
	CHECK_EQ(cnt(&t, "icmp", "truncated"), 1);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

/* Sum of the counters a malformed IPv4 frame can land in. */
static uint64_t ip_drops(struct tnet *t)
{
	static const char *const names[][2] = {
	    {"eth", "truncated"},  {"ipv4", "truncated"},  {"ipv4", "bad_version"},
	    {"ipv4", "bad_ihl"},   {"ipv4", "bad_len"},	   {"ipv4", "bad_cksum"},
	    {"ipv4", "bad_src"},   {"ipv4", "not_for_us"}, {"icmp", "truncated"},
	    {"icmp", "bad_cksum"}, {"udp", "truncated"},   {"udp", "bad_len"},
	    {"udp", "bad_cksum"},
	};
	uint64_t s = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		s += cnt(t, names[i][0], names[i][1]);
	return s;
}

TEST(truncated_at_every_length)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX];
	size_t len = ping_frame(f, 1, 1, 32);
	for (size_t cut = 0; cut < len; cut++)
		tnet_rx(&t, f, cut);
	CHECK_EQ(ip_drops(&t), len);
	CHECK_EQ(cnt(&t, "eth", "truncated"), 14);
	CHECK_EQ(cnt(&t, "ipv4", "truncated"), 20);
	CHECK_EQ(cnt(&t, "ipv4", "bad_len"), len - 34);
	/* UDP too, with the IP total length cut to match each time: then
	 * the UDP layer sees every short length. */
	uint8_t u[64];
	size_t ulen = udp_dgram(u, IP_PEER, IP_US, 5, 7, (const uint8_t *)"hello", 5);
	for (size_t cut = 0; cut < ulen; cut++) {
		size_t flen = ip_frame(f, IP_PEER, IP_US, 17, 1, 0, u, cut);
		tnet_rx(&t, f, flen);
	}
	CHECK_EQ(cnt(&t, "udp", "truncated"), 8);
	CHECK_EQ(cnt(&t, "udp", "bad_len"), ulen - 8);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(malformed_headers)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t good[FRAME_MAX], f[FRAME_MAX];
	size_t len = ping_frame(good, 1, 1, 32);
	uint64_t before = ip_drops(&t);
	unsigned n = 0;

#define MUTATE(stmt, fix, counter_group, counter)                                                  \
	do {                                                                                       \
		memcpy(f, good, len);                                                              \
		stmt;                                                                              \
		if (fix)                                                                           \
			ip_fix_cksum(f + 14);                                                      \
		uint64_t c0 = cnt(&t, counter_group, counter);                                     \
		tnet_rx(&t, f, len);                                                               \
		CHECK_EQ(cnt(&t, counter_group, counter), c0 + 1);                                 \
		n++;                                                                               \
	} while (0)

	MUTATE(f[24] ^= 1, false, "ipv4", "bad_cksum");
	MUTATE(f[14] = 0x65, true, "ipv4", "bad_version");
	MUTATE(f[14] = 0x44, false, "ipv4", "bad_ihl");
	MUTATE(f[14] = 0x40, false, "ipv4", "bad_ihl");
	MUTATE(put16(f + 16, (uint16_t)(len - 14 + 1)), true, "ipv4", "bad_len");
	MUTATE(put16(f + 16, 0xffff), true, "ipv4", "bad_len");
	MUTATE(put16(f + 16, 19), true, "ipv4", "bad_len");
	MUTATE(put16(f + 16, 0), true, "ipv4", "bad_len");
	/* Smaller than the frame but at least a header: the ICMP message
	 * is cut, so its checksum fails. */
	MUTATE(put16(f + 16, (uint16_t)(len - 14 - 2)), true, "icmp", "bad_cksum");
	MUTATE(put32(f + 26, 0xffffffff), true, "ipv4", "bad_src");
	MUTATE(put32(f + 26, IP(224, 0, 0, 1)), true, "ipv4", "bad_src");
	MUTATE(put32(f + 26, IP(127, 0, 0, 1)), true, "ipv4", "bad_src");
	MUTATE(put32(f + 26, IP_BCAST), true, "ipv4", "bad_src");
	MUTATE(put32(f + 26, IP_US), true, "ipv4", "bad_src");
	MUTATE(put32(f + 30, IP(10, 0, 0, 3)), true, "ipv4", "not_for_us");
	MUTATE(put32(f + 30, IP(224, 0, 0, 1)), true, "ipv4", "not_for_us");
	/* RFC 1122 3.3.6: link broadcast carrying a unicast IP datagram. */
	MUTATE(memcpy(f, MAC_BCAST, 6), false, "ipv4", "not_for_us");
#undef MUTATE
	CHECK_EQ(ip_drops(&t) - before, n);
	/* IHL 15 (60 bytes) in a frame with 28 bytes of IP. */
	memcpy(f, good, len);
	f[14] = 0x4f;
	uint64_t tr = cnt(&t, "ipv4", "truncated");
	tnet_rx(&t, f, 14 + 28);
	CHECK_EQ(cnt(&t, "ipv4", "truncated"), tr + 1);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

/* ---- Reassembly ------------------------------------------------------------ */

/* Fragment the ICMP echo request m (mlen bytes) into frames of at most
 * step payload bytes: frames[i], lens[i]; returns how many. */
static unsigned fragment(uint8_t frames[][FRAME_MAX], size_t *lens, const uint8_t *m, size_t mlen,
			 size_t step, uint8_t proto, uint16_t id)
{
	unsigned k = 0;
	for (size_t off = 0; off < mlen; off += step, k++) {
		size_t c = mlen - off < step ? mlen - off : step;
		uint16_t frag = (uint16_t)(off / 8) | (off + c < mlen ? 0x2000 : 0);
		lens[k] = ip_frame(frames[k], IP_PEER, IP_US, proto, id, frag, m + off, c);
	}
	return k;
}

static uint8_t frames[64][FRAME_MAX];
static size_t lens[64];

/* Reassemble the fragments of one datagram we sent from the capture:
 * checks their headers and returns the payload length. */
static size_t collect(struct tnet *t, uint8_t *out, unsigned *nfrags, uint8_t proto)
{
	uint8_t f[FRAME_MAX];
	size_t total = 0, expect_off = 0;
	int id = -1;
	int len;
	*nfrags = 0;
	while ((len = tnet_tx(t, f)) >= 0) {
		const uint8_t *h = check_ip(f, len, MAC_PEER, IP_PEER, proto);
		if (id < 0)
			id = get16(h + 4);
		CHECK_EQ(get16(h + 4), id);
		uint16_t frag = get16(h + 6);
		size_t off = (size_t)(frag & 0x1fff) * 8;
		size_t plen = (size_t)get16(h + 2) - 20;
		CHECK_EQ(off, expect_off);
		CHECK(len <= 1514);
		memcpy(out + off, f + 34, plen);
		expect_off = off + plen;
		total = expect_off;
		(*nfrags)++;
		if (!(frag & 0x2000))
			break;
		CHECK_EQ(plen % 8, 0);
	}
	return total;
}

static void check_big_ping_reply(struct tnet *t, const uint8_t *m, size_t mlen)
{
	unsigned nf;
	size_t got = collect(t, big, &nf, 1);
	CHECK_EQ(got, mlen);
	CHECK_EQ(nf, (mlen + 1479) / 1480);
	CHECK_EQ(big[0], 0);
	CHECK_MEM(big + 4, m + 4, mlen - 4);
	CHECK_EQ(t_csum(big, mlen), 0);
}

static size_t big_ping(uint8_t *m, size_t datalen)
{
	static uint8_t data[66000];
	fill_pattern(data, datalen, 5);
	return icmp_echo(m, 8, 0x77, 1, data, datalen);
}

TEST(reassembly_in_order_reversed_duplicated)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	static uint8_t m[70000];
	size_t mlen = big_ping(m, 4000);

	/* In order, with the fragments small (stressing the chain). */
	unsigned k = fragment(frames, lens, m, mlen, 504, 1, 100);
	for (unsigned i = 0; i < k; i++)
		tnet_rx(&t, frames[i], lens[i]);
	check_big_ping_reply(&t, m, mlen);

	/* Reversed. */
	k = fragment(frames, lens, m, mlen, 1480, 1, 101);
	for (unsigned i = k; i-- > 0;)
		tnet_rx(&t, frames[i], lens[i]);
	check_big_ping_reply(&t, m, mlen);

	/* Every fragment but the last twice, then the last. */
	k = fragment(frames, lens, m, mlen, 1000, 1, 102);
	CHECK_EQ(k, 5);
	for (unsigned i = 0; i + 1 < k; i++) {
		tnet_rx(&t, frames[i], lens[i]);
		tnet_rx(&t, frames[i], lens[i]);
	}
	tnet_rx(&t, frames[k - 1], lens[k - 1]);
	check_big_ping_reply(&t, m, mlen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_dup"), k - 1);

	/* Shuffled, a duplicate in the middle. */
	k = fragment(frames, lens, m, mlen, 1000, 1, 103);
	static const unsigned order[] = {2, 0, 2, 4, 1, 3};
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++)
		tnet_rx(&t, frames[order[i]], lens[order[i]]);
	check_big_ping_reply(&t, m, mlen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_dup"), k);

	/* A duplicate after completion starts a reassembly that can only
	 * time out. */
	tnet_rx(&t, frames[3], lens[3]);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_ok"), 4);
	CHECK_EQ(tnet_tx(&t, frames[0]), -1);
	tnet_advance(&t, REASM_TIMEOUT_NS);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_timeout"), 1);
	CHECK_EQ(tnet_tx(&t, frames[0]), -1); /* no fragment zero: no time exceeded */
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(reassembly_of_the_largest_datagram)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	static uint8_t m[70000];
	size_t mlen = big_ping(m, 65535 - 20 - 8);
	unsigned k = fragment(frames, lens, m, mlen, 1480, 1, 7);
	CHECK_EQ(k, 45);
	for (unsigned i = 0; i < k; i++)
		tnet_rx(&t, frames[i], lens[i]);
	check_big_ping_reply(&t, m, mlen);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	CHECK(t.n->pkts.hwm >= 45);
}

TEST(overlapping_fragments_drop_the_datagram)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	static uint8_t m[70000];
	size_t mlen = big_ping(m, 3000);
	unsigned k = fragment(frames, lens, m, mlen, 1000, 1, 55);
	CHECK_EQ(k, 4);
	uint8_t f[FRAME_MAX];
	tnet_rx(&t, frames[0], lens[0]);
	tnet_rx(&t, frames[1], lens[1]);
	/* Bytes 992..1999 over 1000..1999: a partial overlap. */
	size_t flen = ip_frame(f, IP_PEER, IP_US, 1, 55, 0x2000 | 124, m + 992, 1000);
	tnet_rx(&t, f, flen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_overlap"), 1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	/* The rest of the datagram is refused until the timeout. */
	tnet_rx(&t, frames[2], lens[2]);
	tnet_rx(&t, frames[3], lens[3]);
	CHECK_EQ(cnt(&t, "ipv4", "frag_dead_drop"), 2);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);

	/* Same offset and length but other bytes: not a duplicate. */
	k = fragment(frames, lens, m, mlen, 1000, 1, 56);
	tnet_rx(&t, frames[1], lens[1]);
	frames[1][40] ^= 1;
	tnet_rx(&t, frames[1], lens[1]);
	CHECK_EQ(cnt(&t, "ipv4", "frag_overlap"), 2);

	/* Two "last" fragments that disagree on the length. */
	k = fragment(frames, lens, m, mlen, 1000, 1, 57);
	tnet_rx(&t, frames[3], lens[3]);
	flen = ip_frame(f, IP_PEER, IP_US, 1, 57, 375, m, 16);
	tnet_rx(&t, f, flen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_overlap"), 3);
	/* A fragment past the end the last one fixed. */
	k = fragment(frames, lens, m, mlen, 1000, 1, 58);
	tnet_rx(&t, frames[3], lens[3]);
	flen = ip_frame(f, IP_PEER, IP_US, 1, 58, 0x2000 | 500, m, 16);
	tnet_rx(&t, f, flen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_overlap"), 4);
	/* Non-last fragments must carry multiples of 8 bytes. */
	flen = ip_frame(f, IP_PEER, IP_US, 1, 59, 0x2000, m, 13);
	tnet_rx(&t, f, flen);
	flen = ip_frame(f, IP_PEER, IP_US, 1, 59, 0x2000 | 8, m, 0);
	tnet_rx(&t, f, flen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_bad"), 2);
	CHECK_EQ(tnet_tx(&t, f), -1);
	tnet_advance(&t, REASM_TIMEOUT_NS);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	for (unsigned i = 0; i < REASM_SLOTS; i++)
		CHECK(!t.n->reasm[i].used);
}

TEST(endless_fragments_stay_bounded)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX];
	static uint8_t junk[1480];
	fill_pattern(junk, sizeof junk, 1);
	/* Many datagrams that never complete (a middle fragment each). */
	unsigned max_in_use = 0;
	for (unsigned i = 0; i < 300; i++) {
		size_t flen =
		    ip_frame(f, IP_PEER, IP_US, 17, (uint16_t)(1000 + i), 0x2000 | 64, junk, 512);
		tnet_rx(&t, f, flen);
		if (tnet_in_use(&t) > max_in_use)
			max_in_use = tnet_in_use(&t);
	}
	CHECK(max_in_use <= t.baseline + REASM_SLOTS);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_limit"), 300 - REASM_SLOTS);

	/* One datagram that goes on and on: the buffer budget caps it. */
	for (unsigned i = 0; i < 100; i++) {
		size_t flen = ip_frame(f, IP_PEER, IP_US, 17, 7777,
				       (uint16_t)(0x2000 | (i * 1480 / 8)), junk, 1480);
		tnet_rx(&t, f, flen);
		if (tnet_in_use(&t) > max_in_use)
			max_in_use = tnet_in_use(&t);
	}
	CHECK(max_in_use <= t.baseline + t.n->reasm_max_bufs);
	CHECK(cnt(&t, "ipv4", "frag_toobig") >= 1);
	/* Claims past 65535 bytes. */
	uint64_t big0 = cnt(&t, "ipv4", "frag_toobig");
	size_t flen = ip_frame(f, IP_PEER, IP_US, 17, 5000, 8189, junk, 512);
	tnet_rx(&t, f, flen);
	CHECK_EQ(cnt(&t, "ipv4", "frag_toobig"), big0 + 1);
	/* Everything times out and every buffer comes back. */
	CHECK_EQ(tnet_tx(&t, f), -1);
	tnet_advance(&t, REASM_TIMEOUT_NS);
	CHECK(cnt(&t, "ipv4", "reasm_timeout") >= 1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	CHECK_EQ(t.n->reasm_bufs, 0);
	CHECK(!t.n->reasm_timer.armed);
	CHECK_EQ(tnet_tx(&t, f), -1); /* no fragment zero anywhere: no errors */
}

TEST(buffer_budget_evicts_oldest_datagram)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.0.0.2/24", "net-buffers=32", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	tnet_drain(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	CHECK_EQ(t.n->reasm_max_bufs, 16);
	static uint8_t m[70000];
	/* An incomplete datagram holding 10 buffers... */
	size_t mlen = big_ping(m, 20000);
	unsigned k = fragment(frames, lens, m, mlen, 1000, 1, 1);
	for (unsigned i = 0; i < 10; i++)
		tnet_rx(&t, frames[i], lens[i]);
	CHECK_EQ(t.n->reasm_bufs, 10);
	/* ...gives way to a newer one that needs 8. */
	mlen = big_ping(m, 8000);
	k = fragment(frames, lens, m, mlen, 1024, 1, 2);
	CHECK_EQ(k, 8);
	for (unsigned i = 0; i < k; i++)
		tnet_rx(&t, frames[i], lens[i]);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_limit"), 1);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_ok"), 1);
	check_big_ping_reply(&t, m, mlen);
	tnet_advance(&t, REASM_TIMEOUT_NS);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(reassembly_timeout_sends_time_exceeded)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	static uint8_t m[70000];
	size_t mlen = big_ping(m, 3000);
	fragment(frames, lens, m, mlen, 1480, 1, 9);
	tnet_rx(&t, frames[0], lens[0]);
	CHECK_EQ(tnet_in_use(&t), t.baseline + 1);
	tnet_advance(&t, REASM_TIMEOUT_NS - 1);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_timeout"), 0);
	tnet_advance(&t, 1);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_timeout"), 1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	/* RFC 1122 3.3.2: time exceeded, code 1, quoting fragment zero. */
	uint8_t r[FRAME_MAX];
	int got = tnet_tx(&t, r);
	const uint8_t *h = check_ip(r, got, MAC_PEER, IP_PEER, 1);
	CHECK_EQ(get16(h + 2), 20 + 8 + 28);
	CHECK_EQ(r[34], 11);
	CHECK_EQ(r[35], 1);
	CHECK_EQ(t_csum(r + 34, 36), 0);
	CHECK_MEM(r + 42, frames[0] + 14, 28);
	CHECK_EQ(cnt(&t, "icmp", "timex_tx"), 1);

	/* Not about an ICMP error, though (RFC 1122 3.2.2). */
	uint8_t err[600];
	size_t elen = icmp_echo(err, 3, 0, 0, m, 500);
	fragment(frames, lens, err, elen, 256, 1, 10);
	tnet_rx(&t, frames[0], lens[0]);
	tnet_advance(&t, REASM_TIMEOUT_NS);
	CHECK_EQ(cnt(&t, "ipv4", "reasm_timeout"), 2);
	CHECK_EQ(cnt(&t, "icmp", "err_suppressed"), 1);
	CHECK_EQ(tnet_tx(&t, r), -1);
}

/* ---- Output ------------------------------------------------------------------ */

static struct udp_sock *open_sock(struct tnet *t, uint16_t port)
{
	struct udp_sock *s = NULL;
	struct ip4_ep local = {0, port};
	CHECK_EQ(udp_open(t->st, &local, &s), ATL_OK);
	return s;
}

TEST(sending_fragments_large_datagrams)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 4000);
	static uint8_t data[65600];
	fill_pattern(data, sizeof data, 11);
	struct ip4_ep to = {IP_PEER, 5555};
	CHECK_EQ(udp_sendto(s, &to, data, 5000), ATL_OK);

	/* 5008 bytes of UDP: 1480 + 1480 + 1480 + 568, offsets 0, 185,
	 * 370, 555 (8-byte units), MF on all but the last. */
	uint8_t f[FRAME_MAX];
	static const uint16_t want_len[] = {1480, 1480, 1480, 568};
	static const uint16_t want_off[] = {0, 185, 370, 555};
	int id = -1;
	for (unsigned i = 0; i < 4; i++) {
		int got = tnet_tx(&t, f);
		const uint8_t *h = check_ip(f, got, MAC_PEER, IP_PEER, 17);
		CHECK_EQ(got, 34 + want_len[i]);
		CHECK_EQ(get16(h + 2), 20 + want_len[i]);
		CHECK_EQ(get16(h + 6) & 0x1fff, want_off[i]);
		CHECK_EQ(!!(get16(h + 6) & 0x2000), i < 3);
		CHECK_EQ(get16(h + 6) & 0x4000, 0);
		if (id < 0)
			id = get16(h + 4);
		CHECK_EQ(get16(h + 4), id);
		memcpy(big + want_off[i] * 8, f + 34, want_len[i]);
	}
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(get16(big), 4000);
	CHECK_EQ(get16(big + 2), 5555);
	CHECK_EQ(get16(big + 4), 5008);
	CHECK_EQ(t_fold(t_sum(big, 5008, t_pseudo(IP_US, IP_PEER, 17, 5008))), 0);
	CHECK_MEM(big + 8, data, 5000);

	/* The next datagram gets another identification. */
	CHECK_EQ(udp_sendto(s, &to, data, 10), ATL_OK);
	tnet_tx(&t, f);
	CHECK(get16(f + 18) != id);

	/* The largest datagram, and one byte more. */
	CHECK_EQ(udp_sendto(s, &to, data, 65507), ATL_OK);
	unsigned nf;
	CHECK_EQ(collect(&t, big, &nf, 17), 65515);
	CHECK_EQ(nf, 45);
	CHECK_MEM(big + 8, data, 65507);
	CHECK_EQ(udp_sendto(s, &to, data, 65508), ATL_EMSGSIZE);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	CHECK_EQ(cnt(&t, "ipv4", "tx_frags"), 4 + 45);
}

TEST(sending_with_a_small_mtu)
{
	struct tnet t;
	memset(&t, 0, sizeof t);
	static const char *const args[] = {"ipv4=10.0.0.2/24", NULL};
	/* The device comes first: a 576-byte MTU gives 552-byte steps. */
	fake_net_add("service", MAC_US, 576);
	t.argv[0] = (char *)args[0];
	t.start.argc = 1;
	t.start.argv = t.argv;
	heap_init(&t.heap, tnet_mem, sizeof tnet_mem);
	loop_init(&t.l, &t.heap, &t.start);
	CHECK_EQ(stack_open(&t.l, "service", &t.st), ATL_OK);
	t.n = net_of(t.st);
	tnet_drain(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 4000);
	static uint8_t data[2000];
	struct ip4_ep to = {IP_PEER, 5555};
	CHECK_EQ(udp_sendto(s, &to, data, 2000), ATL_OK);
	uint8_t f[FRAME_MAX];
	unsigned k = 0;
	int len;
	while ((len = tnet_tx(&t, f)) >= 0) {
		CHECK(len <= 576 + 14);
		CHECK_EQ(get16(f + 20) & 0x1fff, k * 552 / 8);
		k++;
	}
	CHECK_EQ(k, 4); /* 2008 = 552 * 3 + 352 */
}

TEST(routing)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 4000);
	uint8_t data[10] = {0};
	uint8_t f[FRAME_MAX];
	/* Off the subnet: through the gateway, whose MAC is asked for. */
	struct ip4_ep far = {IP(192, 0, 2, 1), 53};
	CHECK_EQ(udp_sendto(s, &far, data, sizeof data), ATL_OK);
	int len = tnet_tx(&t, f);
	CHECK_EQ(len, 60);
	CHECK_EQ(get16(f + 12), 0x0806);
	CHECK_EQ(get32(f + 38), IP_GW);
	size_t alen = arp_frame(f, MAC_US, 2, MAC_GW, IP_GW, MAC_US, IP_US);
	tnet_rx(&t, f, alen);
	len = tnet_tx(&t, f);
	check_ip(f, len, MAC_GW, IP(192, 0, 2, 1), 17);
	/* Broadcasts go to the broadcast MAC without ARP. */
	struct ip4_ep bc = {0xffffffff, 67};
	CHECK_EQ(udp_sendto(s, &bc, data, sizeof data), ATL_OK);
	len = tnet_tx(&t, f);
	check_ip(f, len, MAC_BCAST, 0xffffffff, 17);
	bc.addr = IP_BCAST;
	CHECK_EQ(udp_sendto(s, &bc, data, sizeof data), ATL_OK);
	len = tnet_tx(&t, f);
	check_ip(f, len, MAC_BCAST, IP_BCAST, 17);
	/* No multicast, no loopback, no address 0. */
	struct ip4_ep bad = {IP(224, 0, 0, 1), 5};
	CHECK_EQ(udp_sendto(s, &bad, data, sizeof data), ATL_EHOSTUNREACH);
	bad.addr = IP_US;
	CHECK_EQ(udp_sendto(s, &bad, data, sizeof data), ATL_EHOSTUNREACH);
	bad.addr = 0;
	CHECK_EQ(udp_sendto(s, &bad, data, sizeof data), ATL_EINVAL);
	CHECK_EQ(tnet_tx(&t, f), -1);

	/* Without a gateway, off-subnet is unreachable. */
	struct tnet t2;
	static const char *const args[] = {"ipv4=10.0.0.2/24", NULL};
	fake_reset();
	CHECK_EQ(tnet_open_args(&t2, args), ATL_OK);
	struct udp_sock *s2 = open_sock(&t2, 4000);
	CHECK_EQ(udp_sendto(s2, &far, data, sizeof data), ATL_EHOSTUNREACH);
	CHECK_EQ(cnt(&t2, "ipv4", "tx_no_route"), 1);
}

/* ---- ICMP errors ----------------------------------------------------------- */

TEST(protocol_unreachable)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX], r[FRAME_MAX];
	uint8_t payload[40];
	fill_pattern(payload, sizeof payload, 2);
	/* SCTP (132): a protocol the stack does not speak. */
	size_t len = ip_frame(f, IP_PEER, IP_US, 132, 3, 0, payload, sizeof payload);
	tnet_rx(&t, f, len);
	int got = tnet_tx(&t, r);
	check_ip(r, got, MAC_PEER, IP_PEER, 1);
	CHECK_EQ(r[34], 3);
	CHECK_EQ(r[35], 2);
	CHECK_EQ(get32(r + 38), 0);
	CHECK_MEM(r + 42, f + 14, 28); /* header + 64 bits of data */
	CHECK_EQ(t_csum(r + 34, 36), 0);
	CHECK_EQ(cnt(&t, "ipv4", "unknown_proto"), 1);
}

TEST(icmp_errors_are_rate_limited)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	uint8_t f[FRAME_MAX], u[64];
	size_t ulen = udp_dgram(u, IP_PEER, IP_US, 5, 9, (const uint8_t *)"x", 1);
	size_t len = ip_frame(f, IP_PEER, IP_US, 17, 1, 0, u, ulen);
	for (unsigned i = 0; i < 3 * ICMP_ERR_BURST; i++)
		tnet_rx(&t, f, len);
	CHECK_EQ(tnet_drain(&t), ICMP_ERR_BURST);
	CHECK_EQ(cnt(&t, "icmp", "err_ratelimit_drop"), 2 * ICMP_ERR_BURST);
	tnet_advance(&t, ICMP_ERR_INTERVAL_NS);
	for (unsigned i = 0; i < 3; i++)
		tnet_rx(&t, f, len);
	CHECK_EQ(tnet_drain(&t), 1);
	tnet_advance(&t, 100 * ICMP_ERR_INTERVAL_NS);
	for (unsigned i = 0; i < 3 * ICMP_ERR_BURST; i++)
		tnet_rx(&t, f, len);
	CHECK_EQ(tnet_drain(&t), ICMP_ERR_BURST);
	CHECK_EQ(cnt(&t, "icmp", "unreach_tx"), 2 * ICMP_ERR_BURST + 1);
}

TEST_MAIN(TEST_ENTRY(ping_reply_is_exact), TEST_ENTRY(ping_padding_and_options),
	  TEST_ENTRY(ping_not_answered), TEST_ENTRY(truncated_at_every_length),
	  TEST_ENTRY(malformed_headers), TEST_ENTRY(reassembly_in_order_reversed_duplicated),
	  TEST_ENTRY(reassembly_of_the_largest_datagram),
	  TEST_ENTRY(overlapping_fragments_drop_the_datagram),
	  TEST_ENTRY(endless_fragments_stay_bounded),
	  TEST_ENTRY(buffer_budget_evicts_oldest_datagram),
	  TEST_ENTRY(reassembly_timeout_sends_time_exceeded),
	  TEST_ENTRY(sending_fragments_large_datagrams), TEST_ENTRY(sending_with_a_small_mtu),
	  TEST_ENTRY(routing), TEST_ENTRY(protocol_unreachable),
	  TEST_ENTRY(icmp_errors_are_rate_limited))
