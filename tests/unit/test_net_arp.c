/*
 * test_net_arp.c - ARP (RFC 826) in atoll's own stack: the start-up
 * announcement, replies, learning by the merge rule, resolution with
 * queued frames, giving up, expiry, refresh, eviction and hostile input.
 */
#include "test_net.h"

static const uint8_t ZERO[6];

/* The ARP body of a frame the stack sent: checks the Ethernet header. */
static const uint8_t *arp_body(const uint8_t *f, int len, const uint8_t *eth_dst)
{
	CHECK_EQ(len, 60); /* 42 bytes padded to the Ethernet minimum */
	CHECK_MEM(f, eth_dst, 6);
	CHECK_MEM(f + 6, MAC_US, 6);
	CHECK_EQ(get16(f + 12), 0x0806);
	const uint8_t *a = f + 14;
	CHECK_EQ(get16(a), 1);
	CHECK_EQ(get16(a + 2), 0x0800);
	CHECK_EQ(a[4], 6);
	CHECK_EQ(a[5], 4);
	for (int i = 42; i < 60 && i < len; i++)
		CHECK_EQ(f[i], 0);
	return a;
}

static void check_request(const uint8_t *f, int len, uint32_t tpa, const uint8_t *eth_dst)
{
	const uint8_t *a = arp_body(f, len, eth_dst);
	CHECK_EQ(get16(a + 6), 1);
	CHECK_MEM(a + 8, MAC_US, 6);
	CHECK_EQ(get32(a + 14), IP_US);
	CHECK_MEM(a + 18, ZERO, 6);
	CHECK_EQ(get32(a + 24), tpa);
}

static struct udp_sock *open_sock(struct tnet *t, uint16_t port)
{
	struct udp_sock *s = NULL;
	struct ip4_ep local = {0, port};
	CHECK_EQ(udp_open(t->st, &local, &s), ATL_OK);
	return s;
}

static int send_to(struct udp_sock *s, uint32_t ip, size_t len)
{
	static uint8_t data[65536];
	fill_pattern(data, len, 3);
	struct ip4_ep to = {ip, 9};
	return udp_sendto(s, &to, data, len);
}

TEST(announces_at_start)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.0.0.2/24", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	uint8_t f[FRAME_MAX];
	int len = tnet_tx(&t, f);
	/* RFC 5227 2.3: a request with our address as sender and target. */
	check_request(f, len, IP_US, MAC_BCAST);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(cnt(&t, "arp", "requests_tx"), 1);
}

TEST(replies_to_request_and_learns_sender)
{
	struct tnet t;
	tnet_open(&t);
	uint8_t f[FRAME_MAX];
	size_t len = arp_frame(f, MAC_BCAST, 1, MAC_PEER, IP_PEER, ZERO, IP_US);
	tnet_rx(&t, f, len);
	int got = tnet_tx(&t, f);
	const uint8_t *a = arp_body(f, got, MAC_PEER);
	CHECK_EQ(get16(a + 6), 2);
	CHECK_MEM(a + 8, MAC_US, 6);
	CHECK_EQ(get32(a + 14), IP_US);
	CHECK_MEM(a + 18, MAC_PEER, 6);
	CHECK_EQ(get32(a + 24), IP_PEER);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(cnt(&t, "arp", "replies_tx"), 1);
	CHECK_EQ(cnt(&t, "arp", "learned"), 1);

	/* RFC 826 merge rule: the requester is now known, so a datagram to
	 * it goes out at once, with no request of our own. */
	struct udp_sock *s = open_sock(&t, 1000);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	got = tnet_tx(&t, f);
	CHECK_EQ(got, 60);
	CHECK_MEM(f, MAC_PEER, 6);
	CHECK_EQ(get16(f + 12), 0x0800);
	CHECK_EQ(cnt(&t, "arp", "requests_tx"), 1); /* the announcement only */
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(ignores_requests_for_others)
{
	struct tnet t;
	tnet_open(&t);
	uint8_t f[FRAME_MAX];
	size_t len = arp_frame(f, MAC_BCAST, 1, MAC_PEER, IP_PEER, ZERO, IP(10, 0, 0, 77));
	tnet_rx(&t, f, len);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(cnt(&t, "arp", "ignored"), 1);
	CHECK_EQ(cnt(&t, "arp", "learned"), 0);
	/* Not learned: sending to the peer asks for it. */
	struct udp_sock *s = open_sock(&t, 1000);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
}

TEST(resolution_queues_and_flushes)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 1000);
	uint8_t f[FRAME_MAX];
	CHECK_EQ(send_to(s, IP_PEER, 100), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
	CHECK_EQ(send_to(s, IP_PEER, 200), ATL_OK);
	CHECK_EQ(send_to(s, IP_PEER, 3000), ATL_OK); /* 3 fragments */
	CHECK_EQ(tnet_tx(&t, f), -1);		     /* one request for all of them */
	CHECK_EQ(cnt(&t, "arp", "queued"), 5);
	CHECK_EQ(tnet_in_use(&t), t.baseline + 5);

	size_t len = arp_frame(f, MAC_US, 2, MAC_PEER, IP_PEER, MAC_US, IP_US);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "resolved"), 1);
	/* In the order they were sent, now addressed to the peer. */
	size_t want[] = {100, 200, 1480, 1480, 3008 - 2960};
	for (unsigned i = 0; i < 5; i++) {
		int got = tnet_tx(&t, f);
		CHECK(got > 34);
		CHECK_MEM(f, MAC_PEER, 6);
		CHECK_MEM(f + 6, MAC_US, 6);
		uint16_t tot = get16(f + 16 + 0);
		size_t payload = (size_t)tot - 20;
		if (i < 2)
			payload -= 8;
		CHECK_EQ(payload, want[i]);
	}
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(gives_up_after_three_requests)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 1000);
	uint8_t f[FRAME_MAX];
	CHECK_EQ(send_to(s, IP_PEER, 100), ATL_OK);
	CHECK_EQ(send_to(s, IP_PEER, 100), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
	tnet_advance(&t, NS_PER_SEC / 2);
	CHECK_EQ(tnet_tx(&t, f), -1); /* RFC 1122 2.3.2.1: at most one a second */
	tnet_advance(&t, NS_PER_SEC / 2);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
	tnet_advance(&t, NS_PER_SEC);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
	CHECK_EQ(cnt(&t, "arp", "giveup"), 0);
	tnet_advance(&t, NS_PER_SEC);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(cnt(&t, "arp", "giveup"), 1);
	CHECK_EQ(cnt(&t, "arp", "giveup_drop"), 2);
	CHECK_EQ(cnt(&t, "arp", "requests_tx"), 4); /* announcement + 3 */
	CHECK_EQ(tnet_in_use(&t), t.baseline);

	/* While the failure is fresh, sends fail fast instead of flooding. */
	CHECK_EQ(send_to(s, IP_PEER, 100), ATL_EHOSTUNREACH);
	CHECK_EQ(tnet_tx(&t, f), -1);
	tnet_advance(&t, ARP_FAILED_HOLD_NS);
	CHECK_EQ(send_to(s, IP_PEER, 100), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
}

TEST(entries_expire)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 1000);
	uint8_t f[FRAME_MAX];
	tnet_advance(&t, ARP_REACHABLE_NS - NS_PER_SEC);
	CHECK_EQ(cnt(&t, "arp", "expired"), 0);
	tnet_advance(&t, NS_PER_SEC);
	CHECK_EQ(cnt(&t, "arp", "expired"), 1);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP_PEER, MAC_BCAST);
	CHECK_EQ(tnet_tx(&t, f), -1);
}

TEST(entries_in_use_are_refreshed_unicast)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 1000);
	uint8_t f[FRAME_MAX];
	tnet_advance(&t, ARP_REACHABLE_NS - ARP_REFRESH_NS - NS_PER_SEC);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	CHECK_EQ(tnet_tx(&t, f), 60);
	CHECK_EQ(get16(f + 12), 0x0800);
	CHECK_EQ(tnet_tx(&t, f), -1); /* not yet close to expiry */
	tnet_advance(&t, 2 * NS_PER_SEC);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK); /* one poll per second at most */
	int len = tnet_tx(&t, f);
	check_request(f, len, IP_PEER, MAC_PEER); /* RFC 1122 2.3.2.1 unicast poll */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(tnet_tx(&t, f), 60);
		CHECK_EQ(get16(f + 12), 0x0800);
	}
	CHECK_EQ(tnet_tx(&t, f), -1);
	/* The peer answers: the entry lives on past its first expiry. */
	size_t alen = arp_frame(f, MAC_US, 2, MAC_PEER, IP_PEER, MAC_US, IP_US);
	tnet_rx(&t, f, alen);
	tnet_advance(&t, 10 * NS_PER_SEC);
	CHECK_EQ(cnt(&t, "arp", "expired"), 0);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	CHECK_EQ(tnet_tx(&t, f), 60);
	CHECK_EQ(get16(f + 12), 0x0800);
}

TEST(pending_queue_is_bounded)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 1000);
	unsigned ok = 0;
	for (unsigned i = 0; i < ARP_QUEUE_MAX + 10; i++)
		if (send_to(s, IP_PEER, 10) == ATL_OK)
			ok++;
	CHECK_EQ(ok, ARP_QUEUE_MAX);
	CHECK_EQ(cnt(&t, "arp", "queue_drop"), 10);
	CHECK_EQ(tnet_in_use(&t), t.baseline + ARP_QUEUE_MAX);
	/* A datagram that does not fit whole is refused whole. */
	/* 45 frames: within one address's bound, beyond the total. */
	CHECK_EQ(send_to(s, IP(10, 0, 0, 3), 65507), ATL_ENOMEM);
	CHECK_EQ(cnt(&t, "arp", "queue_drop"), 10 + 45);
	tnet_advance(&t, 4 * NS_PER_SEC);
	CHECK_EQ(cnt(&t, "arp", "giveup_drop"), ARP_QUEUE_MAX);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(cache_is_bounded_with_eviction)
{
	struct tnet t;
	tnet_open(&t);
	for (unsigned i = 0; i < ARP_CACHE_SIZE + 5; i++) {
		uint8_t mac[6] = {0x02, 0, 0, 1, (uint8_t)(i >> 8), (uint8_t)i};
		tnet_learn(&t, mac, IP(10, 0, 0, 10 + i));
		tnet_advance(&t, NS_PER_MS);
	}
	CHECK_EQ(cnt(&t, "arp", "learned"), ARP_CACHE_SIZE + 5);
	CHECK_EQ(cnt(&t, "arp", "evicted"), 5);
	/* The oldest went first: 10.0.0.10 must be asked for again, the
	 * newest is still known. */
	struct udp_sock *s = open_sock(&t, 1000);
	uint8_t f[FRAME_MAX];
	CHECK_EQ(send_to(s, IP(10, 0, 0, 10 + ARP_CACHE_SIZE + 4), 10), ATL_OK);
	CHECK_EQ(tnet_tx(&t, f), 60);
	CHECK_EQ(get16(f + 12), 0x0800);
	CHECK_EQ(send_to(s, IP(10, 0, 0, 10), 10), ATL_OK);
	check_request(f, tnet_tx(&t, f), IP(10, 0, 0, 10), MAC_BCAST);
}

TEST(merge_updates_known_entries_only)
{
	struct tnet t;
	tnet_open(&t);
	uint8_t f[FRAME_MAX];
	static const uint8_t NEW_MAC[6] = {0x02, 0, 0, 0, 0, 0x99};
	/* A reply nobody asked for, to someone else: nothing to merge. */
	size_t len = arp_frame(f, MAC_BCAST, 2, MAC_PEER, IP_PEER, MAC_GW, IP_GW);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "ignored"), 1);
	CHECK_EQ(cnt(&t, "arp", "learned"), 0);
	/* Known peer, then a gratuitous ARP with a new MAC: updated. */
	tnet_learn(&t, MAC_PEER, IP_PEER);
	len = arp_frame(f, MAC_BCAST, 1, NEW_MAC, IP_PEER, ZERO, IP_PEER);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "updated"), 1);
	CHECK_EQ(tnet_tx(&t, f), -1); /* not a request for us: no reply */
	struct udp_sock *s = open_sock(&t, 1000);
	CHECK_EQ(send_to(s, IP_PEER, 10), ATL_OK);
	CHECK_EQ(tnet_tx(&t, f), 60);
	CHECK_MEM(f, NEW_MAC, 6);
}

TEST(hostile_arp_dropped_and_counted)
{
	struct tnet t;
	tnet_open(&t);
	uint8_t good[FRAME_MAX], f[FRAME_MAX];
	size_t len = arp_frame(good, MAC_BCAST, 1, MAC_PEER, IP_PEER, ZERO, IP_US);
	/* Every truncation of the ARP body. */
	for (size_t cut = 14; cut < len; cut++)
		tnet_rx(&t, good, cut);
	CHECK_EQ(cnt(&t, "arp", "truncated"), len - 14);
	CHECK_EQ(tnet_tx(&t, f), -1);

	unsigned bad = 0;
	struct {
		size_t off;
		uint8_t val;
	} mutations[] = {{14, 9}, {16, 0x86}, {18, 8}, {19, 16}, {21, 3}, {21, 0}};
	for (unsigned i = 0; i < ARRAY_SIZE(mutations); i++) {
		memcpy(f, good, len);
		f[mutations[i].off] = mutations[i].val;
		tnet_rx(&t, f, len);
		bad++;
	}
	CHECK_EQ(cnt(&t, "arp", "bad_format"), bad);
	/* A group address as sender MAC (in the ARP body only). */
	memcpy(f, good, len);
	f[22] = 0x01;
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "bad_sender"), 1);
	/* Our own MAC claiming another address. */
	len = arp_frame(f, MAC_BCAST, 1, MAC_US, IP_PEER, ZERO, IP_US);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "bad_sender"), 2);
	CHECK_EQ(tnet_tx(&t, f), -1);
	/* Someone claims our address: counted, not learned, no reply. */
	len = arp_frame(f, MAC_BCAST, 1, MAC_PEER, IP_US, ZERO, IP_US);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "conflict"), 1);
	/* An off-link sender asking for us gets an answer but no entry. */
	len = arp_frame(f, MAC_BCAST, 1, MAC_PEER, IP(192, 168, 1, 1), ZERO, IP_US);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "arp", "bad_sender"), 3);
	CHECK_EQ(tnet_drain(&t), 1);
	CHECK_EQ(cnt(&t, "arp", "learned"), 0);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(ethernet_filtering)
{
	struct tnet t;
	tnet_open(&t);
	uint8_t f[FRAME_MAX];
	size_t len = arp_frame(f, MAC_BCAST, 1, MAC_PEER, IP_PEER, ZERO, IP_US);
	for (size_t cut = 0; cut < 14; cut++)
		tnet_rx(&t, f, cut);
	CHECK_EQ(cnt(&t, "eth", "truncated"), 14);
	static const uint8_t OTHER[6] = {0x02, 0, 0, 0, 0, 0x33};
	static const uint8_t MCAST[6] = {0x01, 0, 0x5e, 0, 0, 1};
	memcpy(f, OTHER, 6);
	tnet_rx(&t, f, len);
	memcpy(f, MCAST, 6);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "eth", "not_for_us"), 2);
	memcpy(f, MAC_US, 6);
	memcpy(f + 6, MCAST, 6);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "eth", "bad_src"), 1);
	memcpy(f + 6, MAC_PEER, 6);
	put16(f + 12, 0x8100);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "eth", "vlan"), 1);
	put16(f + 12, 0x86dd);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "eth", "unknown_type"), 1);
	CHECK_EQ(tnet_tx(&t, f), -1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST_MAIN(TEST_ENTRY(announces_at_start), TEST_ENTRY(replies_to_request_and_learns_sender),
	  TEST_ENTRY(ignores_requests_for_others), TEST_ENTRY(resolution_queues_and_flushes),
	  TEST_ENTRY(gives_up_after_three_requests), TEST_ENTRY(entries_expire),
	  TEST_ENTRY(entries_in_use_are_refreshed_unicast), TEST_ENTRY(pending_queue_is_bounded),
	  TEST_ENTRY(cache_is_bounded_with_eviction), TEST_ENTRY(merge_updates_known_entries_only),
	  TEST_ENTRY(hostile_arp_dropped_and_counted), TEST_ENTRY(ethernet_filtering))
