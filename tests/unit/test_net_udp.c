/*
 * test_net_udp.c - UDP (RFC 768) sockets of atoll's own stack: delivery
 * to a waiting fiber, port unreachable, checksums and lengths, bounded
 * receive queues, binding rules, and what udp_sendto puts on the wire.
 */
#include "test_net.h"

static struct trecv rcv;

static struct udp_sock *open_sock(struct tnet *t, uint32_t addr, uint16_t port)
{
	struct udp_sock *s = NULL;
	struct ip4_ep local = {addr, port};
	CHECK_EQ(udp_open(t->st, &local, &s), ATL_OK);
	return s;
}

/* A frame carrying a UDP datagram from the peer. */
static size_t udp_frame(uint8_t *f, uint32_t dst, uint16_t sport, uint16_t dport,
			const uint8_t *data, size_t len)
{
	static uint8_t u[FRAME_MAX];
	size_t ulen = udp_dgram(u, IP_PEER, dst, sport, dport, data, len);
	return ip_frame(f, IP_PEER, dst, 17, 1, 0, u, ulen);
}

TEST(delivers_to_bound_socket)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 0, 7);
	uint8_t f[FRAME_MAX], data[300];
	fill_pattern(data, sizeof data, 4);
	size_t len = udp_frame(f, IP_US, 1234, 7, data, sizeof data);
	fake_net_inject("service", f, len); /* read by the loop itself */
	CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, sizeof data);
	CHECK_MEM(rcv.buf, data, sizeof data);
	CHECK_EQ(rcv.from.addr, IP_PEER);
	CHECK_EQ(rcv.from.port, 1234);
	CHECK_EQ(cnt(&t, "udp", "delivered"), 1);
	CHECK_EQ(tnet_in_use(&t), t.baseline);

	/* Waiting first, then the datagram: the fiber is woken. */
	len = udp_frame(f, IP_US, 1235, 7, data, 10);
	rcv.t = &t;
	rcv.s = s;
	rcv.cap = sizeof rcv.buf;
	rcv.done = false;
	rcv.deadline = loop_now(&t.l) + 10 * NS_PER_SEC;
	CHECK(fiber_spawn(&t.l, "trecv", trecv_fiber, &rcv, 0) != NULL);
	/* One loop turn runs the fiber into its wait; then the frame. */
	fake_net_inject("service", f, len);
	loop_run(&t.l);
	CHECK(rcv.done);
	CHECK_EQ(rcv.rc, ATL_OK);
	CHECK_EQ(rcv.len, 10);
	CHECK_EQ(rcv.from.port, 1235);
	/* And nothing more: the deadline passes. */
	CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_ETIMEDOUT);
}

TEST(truncates_to_the_callers_buffer)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 0, 7);
	uint8_t f[FRAME_MAX], data[100];
	fill_pattern(data, sizeof data, 4);
	tnet_rx(&t, f, udp_frame(f, IP_US, 1234, 7, data, sizeof data));
	memset(rcv.buf, 0xaa, 64);
	CHECK_EQ(trecv_run(&rcv, &t, s, 40, NS_PER_SEC), ATL_EMSGSIZE);
	CHECK_EQ(rcv.len, 100);
	CHECK_MEM(rcv.buf, data, 40);
	CHECK_EQ(rcv.buf[40], 0xaa);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	/* Empty datagrams are datagrams too. */
	tnet_rx(&t, f, udp_frame(f, IP_US, 1234, 7, NULL, 0));
	CHECK_EQ(trecv_run(&rcv, &t, s, 40, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, 0);
}

TEST(reassembled_datagram_delivered_whole)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 0, 7);
	static uint8_t data[20000], u[20100];
	fill_pattern(data, sizeof data, 8);
	size_t ulen = udp_dgram(u, IP_PEER, IP_US, 999, 7, data, sizeof data);
	/* Reversed, in 1480-byte fragments. */
	size_t nfr = (ulen + 1479) / 1480;
	for (size_t i = nfr; i-- > 0;) {
		uint8_t f[FRAME_MAX];
		size_t off = i * 1480, c = ulen - off < 1480 ? ulen - off : 1480;
		uint16_t frag = (uint16_t)(off / 8) | (i + 1 < nfr ? 0x2000 : 0);
		tnet_rx(&t, f, ip_frame(f, IP_PEER, IP_US, 17, 4321, frag, u + off, c));
	}
	CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, sizeof data);
	CHECK_MEM(rcv.buf, data, sizeof data);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(unbound_port_gets_port_unreachable)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	open_sock(&t, 0, 7);
	uint8_t f[FRAME_MAX], r[FRAME_MAX];
	size_t len = udp_frame(f, IP_US, 1234, 9, (const uint8_t *)"hello world", 11);
	tnet_rx(&t, f, len);
	int got = tnet_tx(&t, r);
	CHECK_EQ(got, 14 + 20 + 8 + 28);
	CHECK_MEM(r, MAC_PEER, 6);
	CHECK_EQ(get16(r + 12), 0x0800);
	CHECK_EQ(t_csum(r + 14, 20), 0);
	CHECK_EQ(r[23], 1);
	CHECK_EQ(get32(r + 26), IP_US);
	CHECK_EQ(get32(r + 30), IP_PEER);
	CHECK_EQ(r[34], 3);
	CHECK_EQ(r[35], 3);
	CHECK_EQ(get32(r + 38), 0);
	CHECK_MEM(r + 42, f + 14, 28);
	CHECK_EQ(t_csum(r + 34, 36), 0);
	CHECK_EQ(cnt(&t, "udp", "no_port"), 1);

	/* RFC 1122 3.2.2: not for a broadcast, link or IP level. */
	len = udp_frame(f, IP_BCAST, 1234, 9, (const uint8_t *)"x", 1);
	tnet_rx(&t, f, len);
	memcpy(f, MAC_BCAST, 6);
	tnet_rx(&t, f, len);
	len = udp_frame(f, 0xffffffff, 1234, 9, (const uint8_t *)"x", 1);
	memcpy(f, MAC_BCAST, 6);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "udp", "no_port"), 4);
	CHECK_EQ(cnt(&t, "icmp", "err_suppressed"), 3);
	/* Nor to a source that is not one host. */
	len = udp_frame(f, IP_US, 68, 9, (const uint8_t *)"x", 1);
	put32(f + 26, 0);
	ip_fix_cksum(f + 14);
	put16(f + 40, 0); /* the checksum over the old source no longer holds */
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "icmp", "err_suppressed"), 4);
	CHECK_EQ(tnet_tx(&t, r), -1);
}

TEST(broadcast_reaches_wildcard_sockets)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *any = open_sock(&t, 0, 67);
	struct udp_sock *mine = open_sock(&t, IP_US, 68);
	uint8_t f[FRAME_MAX];
	size_t len = udp_frame(f, 0xffffffff, 68, 67, (const uint8_t *)"hi", 2);
	memcpy(f, MAC_BCAST, 6);
	tnet_rx(&t, f, len);
	CHECK_EQ(trecv_run(&rcv, &t, any, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, 2);
	/* A socket bound to our unicast address hears only that. */
	len = udp_frame(f, IP_BCAST, 67, 68, (const uint8_t *)"hi", 2);
	tnet_rx(&t, f, len);
	CHECK_EQ(trecv_run(&rcv, &t, mine, sizeof rcv.buf, NS_PER_SEC), ATL_ETIMEDOUT);
	len = udp_frame(f, IP_US, 67, 68, (const uint8_t *)"hi", 2);
	tnet_rx(&t, f, len);
	CHECK_EQ(trecv_run(&rcv, &t, mine, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
}

TEST(checksums_and_lengths)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 0, 7);
	uint8_t f[FRAME_MAX], data[64];
	fill_pattern(data, sizeof data, 1);
	/* Bad checksum: dropped silently (no port unreachable either). */
	size_t len = udp_frame(f, IP_US, 1, 7, data, 20);
	f[45] ^= 0x10;
	tnet_rx(&t, f, len);
	len = udp_frame(f, IP_US, 1, 9, data, 20);
	f[45] ^= 0x10;
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "udp", "bad_cksum"), 2);
	CHECK_EQ(tnet_tx(&t, f), -1);
	/* Zero: no checksum was computed; accepted (RFC 768). */
	len = udp_frame(f, IP_US, 1, 7, data, 21);
	put16(f + 40, 0);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "udp", "no_cksum"), 1);
	CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, 21);
	/* UDP length above the IP payload, or below the header. */
	len = udp_frame(f, IP_US, 1, 7, data, 20);
	put16(f + 38, 29);
	tnet_rx(&t, f, len);
	put16(f + 38, 7);
	tnet_rx(&t, f, len);
	CHECK_EQ(cnt(&t, "udp", "bad_len"), 2);
	/* UDP length below the IP payload: the rest is not the datagram's
	 * (the checksum is over the UDP length). */
	static uint8_t u[128];
	size_t ulen = udp_dgram(u, IP_PEER, IP_US, 1, 7, data, 10);
	memset(u + ulen, 0x55, 6);
	len = ip_frame(f, IP_PEER, IP_US, 17, 1, 0, u, ulen + 6);
	tnet_rx(&t, f, len);
	CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
	CHECK_EQ(rcv.len, 10);
	CHECK_MEM(rcv.buf, data, 10);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(receive_queue_is_bounded)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *s = open_sock(&t, 0, 7);
	uint8_t f[FRAME_MAX], data[16];
	for (unsigned i = 0; i < UDP_RXQ_DGRAMS + 8; i++) {
		data[0] = (uint8_t)i;
		tnet_rx(&t, f, udp_frame(f, IP_US, 1, 7, data, sizeof data));
	}
	CHECK_EQ(cnt(&t, "udp", "queue_full_drop"), 8);
	CHECK_EQ(tnet_in_use(&t), t.baseline + UDP_RXQ_DGRAMS);
	for (unsigned i = 0; i < UDP_RXQ_DGRAMS; i++) {
		CHECK_EQ(trecv_run(&rcv, &t, s, sizeof rcv.buf, NS_PER_SEC), ATL_OK);
		CHECK_EQ(rcv.buf[0], i);
	}
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	/* Closing a socket frees what it still held. */
	for (unsigned i = 0; i < 5; i++)
		tnet_rx(&t, f, udp_frame(f, IP_US, 1, 7, data, sizeof data));
	CHECK_EQ(tnet_in_use(&t), t.baseline + 5);
	udp_close(s);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
	tnet_rx(&t, f, udp_frame(f, IP_US, 1, 7, data, sizeof data));
	CHECK_EQ(cnt(&t, "udp", "no_port"), 1);
}

TEST(binding_rules)
{
	struct tnet t;
	tnet_open(&t);
	struct udp_sock *a = open_sock(&t, 0, 53), *b = NULL;
	struct ip4_ep ep = {0, 53};
	CHECK_EQ(udp_open(t.st, &ep, &b), ATL_EADDRINUSE);
	ep.addr = IP_US;
	CHECK_EQ(udp_open(t.st, &ep, &b), ATL_EADDRINUSE);
	ep.addr = IP(10, 0, 0, 9);
	ep.port = 54;
	CHECK_EQ(udp_open(t.st, &ep, &b), ATL_EINVAL);
	udp_close(a);
	ep.addr = 0;
	ep.port = 53;
	CHECK_EQ(udp_open(t.st, &ep, &b), ATL_OK);
	/* Ephemeral ports: distinct, in the dynamic range (RFC 6335). */
	struct udp_sock *eph[UDP_SOCKS];
	unsigned n = 0;
	ep.port = 0;
	while (n < UDP_SOCKS && udp_open(t.st, &ep, &eph[n]) == ATL_OK)
		n++;
	CHECK_EQ(n, UDP_SOCKS - 1); /* the pool is shared with port 53 */
	CHECK_EQ(udp_open(t.st, &ep, &a), ATL_ENOMEM);
	for (unsigned i = 0; i < n; i++) {
		CHECK(eph[i]->port >= UDP_EPHEMERAL_LO);
		for (unsigned j = 0; j < i; j++)
			CHECK(eph[i]->port != eph[j]->port);
	}
	CHECK_EQ(udp_open(t.st, NULL, &a), ATL_ENOMEM);
	udp_close(eph[0]);
	CHECK_EQ(udp_open(t.st, NULL, &a), ATL_OK);
}

TEST(sendto_on_the_wire)
{
	struct tnet t;
	tnet_open(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 0, 7);
	uint8_t data[333], f[FRAME_MAX];
	fill_pattern(data, sizeof data, 6);
	struct ip4_ep to = {IP_PEER, 40000};
	CHECK_EQ(udp_sendto(s, &to, data, sizeof data), ATL_OK);
	int len = tnet_tx(&t, f);
	CHECK_EQ(len, 14 + 20 + 8 + 333);
	CHECK_MEM(f, MAC_PEER, 6);
	CHECK_EQ(t_csum(f + 14, 20), 0);
	CHECK_EQ(get16(f + 16), 20 + 8 + 333);
	CHECK_EQ(get16(f + 20), 0); /* not a fragment, DF clear */
	CHECK_EQ(f[22], 64);
	CHECK_EQ(f[23], 17);
	CHECK_EQ(get16(f + 34), 7);
	CHECK_EQ(get16(f + 36), 40000);
	CHECK_EQ(get16(f + 38), 8 + 333);
	CHECK(get16(f + 40) != 0);
	CHECK_EQ(t_fold(t_sum(f + 34, 8 + 333, t_pseudo(IP_US, IP_PEER, 17, 8 + 333))), 0);
	CHECK_MEM(f + 42, data, sizeof data);
	/* Errors. */
	CHECK_EQ(udp_sendto(s, NULL, data, 1), ATL_EINVAL);
	to.port = 0;
	CHECK_EQ(udp_sendto(s, &to, data, 1), ATL_EINVAL);
	to.port = 9;
	CHECK_EQ(udp_sendto(s, &to, data, 65508), ATL_EMSGSIZE);
	CHECK_EQ(cnt(&t, "udp", "tx"), 1);
	CHECK_EQ(cnt(&t, "udp", "tx_errors"), 3);
}

TEST(sendto_out_of_buffers)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.0.0.2/24", "net-buffers=16", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	tnet_drain(&t);
	tnet_learn(&t, MAC_PEER, IP_PEER);
	struct udp_sock *s = open_sock(&t, 0, 7);
	static uint8_t data[65507];
	struct ip4_ep to = {IP_PEER, 9};
	/* 45 fragments from 16 buffers: refused whole, nothing sent. */
	CHECK_EQ(udp_sendto(s, &to, data, sizeof data), ATL_ENOMEM);
	CHECK_EQ(tnet_drain(&t), 0);
	CHECK_EQ(cnt(&t, "pkt", "tx_nobuf_drop"), 1);
	CHECK_EQ(udp_sendto(s, &to, data, 10000), ATL_OK);
	CHECK_EQ(tnet_drain(&t), 7);
	CHECK_EQ(tnet_in_use(&t), t.baseline);
}

TEST(flood_is_drained_when_buffers_run_out)
{
	struct tnet t;
	static const char *const args[] = {"ipv4=10.0.0.2/24", "net-buffers=16", NULL};
	CHECK_EQ(tnet_open_args(&t, args), ATL_OK);
	tnet_drain(&t);
	struct udp_sock *s = open_sock(&t, 0, 7);
	(void)s;
	uint8_t f[FRAME_MAX], data[8] = {0};
	size_t len = udp_frame(f, IP_US, 1, 7, data, sizeof data);
	/* 16 buffers, 2 kept back for replies: 14 datagrams fit on the
	 * socket, the rest are drained unread and counted. */
	for (unsigned i = 0; i < 40; i++)
		fake_net_inject("service", f, len);
	loop_now(&t.l);
	net_poll(&t.l, t.n);
	CHECK_EQ(cnt(&t, "udp", "delivered"), 14);
	CHECK_EQ(cnt(&t, "pkt", "rx_nobuf_drop"), 40 - 14);
	CHECK_EQ(tnet_in_use(&t), 14);
	CHECK_EQ(cnt(&t, "pkt", "hwm"), 14);
	CHECK_EQ(cnt(&t, "pkt", "in_use"), 14);
}

TEST_MAIN(TEST_ENTRY(delivers_to_bound_socket), TEST_ENTRY(truncates_to_the_callers_buffer),
	  TEST_ENTRY(reassembled_datagram_delivered_whole),
	  TEST_ENTRY(unbound_port_gets_port_unreachable),
	  TEST_ENTRY(broadcast_reaches_wildcard_sockets), TEST_ENTRY(checksums_and_lengths),
	  TEST_ENTRY(receive_queue_is_bounded), TEST_ENTRY(binding_rules),
	  TEST_ENTRY(sendto_on_the_wire), TEST_ENTRY(sendto_out_of_buffers),
	  TEST_ENTRY(flood_is_drained_when_buffers_run_out))
