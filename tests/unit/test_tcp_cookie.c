/*
 * test_tcp_cookie.c - SYN cookies (RFC 4987 3.6) against a scripted peer
 * with the fake clock: when the backlog is full, or the pool is held by
 * half-open connections, a SYN gets a stateless SYN-ACK whose sequence
 * number is the cookie; the ACK that returns it makes the connection with
 * the options of the SYN; a wrong, stale or unasked-for cookie is reset.
 */
#include "test_tcp.h"

#define LPORT 80

struct cpeer {
	struct tnet t;
	struct tcp_listener *ls;
	struct tout o;
};

static void cpeer_open(struct cpeer *p, const char *const *args, unsigned backlog)
{
	memset(p, 0, sizeof *p);
	CHECK_EQ(tnet_open_args(&p->t, args), ATL_OK);
	tnet_drain(&p->t);
	tnet_learn(&p->t, MAC_PEER, IP_PEER);
	struct ip4_ep local = {0, LPORT};
	CHECK_EQ(tcp_listen(p->t.st, &local, backlog, &p->ls), ATL_OK);
}

static void cpeer_send(struct cpeer *p, uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags,
		       const uint8_t *opts, size_t optlen, const void *data, size_t len)
{
	uint8_t f[FRAME_MAX];
	struct tseg s = {port, LPORT, seq, ack, flags, 65535, opts, optlen, data, len};
	tnet_rx(&p->t, f, tcp_frame(f, &s));
}

static bool cpeer_take(struct cpeer *p)
{
	return tnet_take_seg(&p->t, &p->o);
}

/* A SYN from port with sequence number iss; the SYN-ACK is taken. */
static void cpeer_syn(struct cpeer *p, uint16_t port, uint32_t iss, const uint8_t *opts,
		      size_t optlen)
{
	cpeer_send(p, port, iss, 0, F_SYN, opts, optlen, NULL, 0);
	CHECK(cpeer_take(p));
	CHECK_EQ(p->o.flags, F_SYN | F_ACK);
	CHECK_EQ(p->o.ack, iss + 1);
	CHECK(p->o.cksum_ok);
}

static uint64_t ccnt(struct cpeer *p, const char *name)
{
	return cnt(&p->t, "tcp", name);
}

/* MSS 1460, window scale 7, SACK permitted, timestamps 7000/0. */
static const uint8_t FULL_OPTS[] = {2, 4, 0x05, 0xb4, 1, 3, 3,	  7,	1, 1, 4, 2,
				    1, 1, 8,	10,   0, 0, 0x1b, 0x58, 0, 0, 0, 0};
static const uint8_t MSS1000[] = {2, 4, 0x03, 0xe8};

static const char *const ARGS[] = {"ipv4=10.0.0.2/24", "tcp-buf=128K", "tcp-conns=4", NULL};

TEST(cookies_when_the_backlog_is_full_keep_the_options)
{
	struct cpeer p;
	cpeer_open(&p, ARGS, 2);
	/* Two half-open connections fill the backlog of 2. */
	cpeer_syn(&p, 50000, 100000, MSS1000, sizeof MSS1000);
	cpeer_syn(&p, 50001, 200000, MSS1000, sizeof MSS1000);
	CHECK_EQ(ccnt(&p, "passive_open"), 2);
	CHECK_EQ(ccnt(&p, "syncookie_sent"), 0);
	/* The third SYN is answered with a cookie: no block taken, the SYN's
	 * options all offered back. */
	cpeer_syn(&p, 50002, 300000, FULL_OPTS, sizeof FULL_OPTS);
	CHECK_EQ(ccnt(&p, "syncookie_sent"), 1);
	CHECK_EQ(ccnt(&p, "passive_open"), 2);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 2);
	CHECK(p.o.has_mss && p.o.has_ws && p.o.has_ts && p.o.has_sackok);
	CHECK_EQ(p.o.mss, 1460);
	CHECK_EQ(p.o.ws, 2); /* for a 128 KiB buffer */
	CHECK_EQ(p.o.tsecr, 7000);
	uint32_t cookie = p.o.seq, tsval = p.o.tsval;
	/* A retransmitted SYN gets the same cookie (nothing was kept). */
	cpeer_syn(&p, 50002, 300000, FULL_OPTS, sizeof FULL_OPTS);
	CHECK_EQ(p.o.seq, cookie);

	/* An ACK with a wrong cookie: RST, counted. */
	uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0x1b, 0x59};
	put32(ts + 8, tsval);
	cpeer_send(&p, 50002, 300001, cookie + 2, F_ACK, ts, sizeof ts, NULL, 0);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.flags, F_RST);
	CHECK_EQ(ccnt(&p, "syncookie_bad"), 1);

	/* The right one, with data: the connection exists, ESTABLISHED, in
	 * place of the oldest half-open one (the backlog still holds). */
	cpeer_send(&p, 50002, 300001, cookie + 1, F_ACK | F_PSH, ts, sizeof ts, "hello", 5);
	CHECK_EQ(ccnt(&p, "syncookie_ok"), 1);
	CHECK_EQ(ccnt(&p, "synrcvd_dropped"), 1);
	CHECK_EQ(p.ls->pending, 2);
	struct tcp_conn *c;
	struct ip4_ep peer;
	CHECK_EQ(tcp_accept(p.ls, &c, &peer, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(peer.port, 50002);
	CHECK_EQ(c->state, TCP_ESTABLISHED);
	CHECK(c->ws_ok && c->sack_ok && c->ts_ok);
	CHECK_EQ(c->snd_wscale, 7);
	CHECK_EQ(c->rcv_wscale, 2);
	CHECK_EQ(c->mss, 1460 - 12);
	CHECK_EQ(c->snd_wnd, 65535u << 7);
	uint8_t buf[16];
	size_t len;
	CHECK_EQ(tcp_read(c, buf, sizeof buf, &len, TCP_NOWAIT), ATL_OK);
	CHECK_EQ(len, 5);
	CHECK_MEM(buf, "hello", 5);
	/* Our data follows the cookie, with timestamps on the clock the
	 * SYN-ACK used (the offset comes from the cookie's MAC). */
	tnet_drain(&p.t);
	CHECK_EQ(tcp_write(c, "world", 5, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.seq, cookie + 1);
	CHECK_EQ(p.o.ack, 300001 + 5);
	CHECK_EQ(p.o.len, 5);
	CHECK(p.o.has_ts);
	CHECK(p.o.tsval - tsval < 1000);
	/* The oldest half-open connection (port 50000) is gone: its ACK now
	 * finds no connection and no cookie, and is reset. */
	cpeer_send(&p, 50000, 100001, 1, F_ACK, NULL, 0, NULL, 0);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.flags, F_RST);
	/* The other one completes as usual. */
	tcp_close(c);
}

TEST(a_cookie_is_good_for_two_ticks_only)
{
	struct cpeer p;
	cpeer_open(&p, ARGS, 1);
	cpeer_syn(&p, 50000, 100000, MSS1000, sizeof MSS1000); /* fills the backlog */
	cpeer_syn(&p, 50001, 200000, MSS1000, sizeof MSS1000);
	uint32_t old = p.o.seq;
	/* 130 s on, beyond the cookie's tick and the next (and the first
	 * half-open connection's SYN-ACK retries); the flood goes on: a new
	 * half-open connection and a new cookie. */
	tnet_advance(&p.t, 130 * NS_PER_SEC);
	tnet_drain(&p.t);
	tnet_learn(&p.t, MAC_PEER, IP_PEER); /* the ARP entry aged meanwhile */
	CHECK_EQ(p.ls->pending, 0);
	cpeer_syn(&p, 50003, 400000, MSS1000, sizeof MSS1000);
	cpeer_syn(&p, 50002, 300000, MSS1000, sizeof MSS1000);
	CHECK_EQ(ccnt(&p, "syncookie_sent"), 2);
	uint32_t fresh = p.o.seq;
	cpeer_send(&p, 50001, 200001, old + 1, F_ACK, NULL, 0, NULL, 0);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.flags, F_RST);
	CHECK_EQ(ccnt(&p, "syncookie_bad"), 1);
	/* 60 s later the fresh one still works (one tick back at most). */
	tnet_advance(&p.t, 60 * NS_PER_SEC);
	tnet_drain(&p.t);
	tnet_learn(&p.t, MAC_PEER, IP_PEER);
	cpeer_send(&p, 50002, 300001, fresh + 1, F_ACK, NULL, 0, NULL, 0);
	CHECK_EQ(ccnt(&p, "syncookie_ok"), 1);
	struct tcp_conn *c;
	CHECK_EQ(tcp_accept(p.ls, &c, NULL, TCP_NOWAIT), ATL_OK);
	CHECK(!c->ws_ok && !c->ts_ok && !c->sack_ok);
	CHECK_EQ(c->mss, 536); /* 1000 rounds down to the table's 536 */
	tcp_close(c);
}

TEST(without_a_flood_an_ack_to_a_listener_is_reset)
{
	struct cpeer p;
	cpeer_open(&p, ARGS, 4);
	cpeer_send(&p, 50000, 5000, 12345, F_ACK, NULL, 0, NULL, 0);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.flags, F_RST);
	CHECK_EQ(p.o.seq, 12345);
	CHECK_EQ(ccnt(&p, "syncookie_bad"), 0);
	CHECK_EQ(p.t.n->tcp->conns.in_use, 0);
}

TEST(a_pool_held_by_half_open_connections_answers_with_cookies)
{
	static const char *const args[] = {"ipv4=10.0.0.2/24", "tcp-conns=2", NULL};
	struct cpeer p;
	cpeer_open(&p, args, 16);
	cpeer_syn(&p, 50000, 100000, MSS1000, sizeof MSS1000);
	cpeer_syn(&p, 50001, 200000, MSS1000, sizeof MSS1000);
	uint32_t iss1 = p.o.seq;
	CHECK_EQ(p.t.n->tcp->conns.in_use, 2);
	/* The pool is empty but for half-open blocks: a cookie, not a RST. */
	cpeer_syn(&p, 50002, 300000, MSS1000, sizeof MSS1000);
	CHECK_EQ(ccnt(&p, "syncookie_sent"), 1);
	CHECK_EQ(ccnt(&p, "conn_refused_nomem"), 0);
	cpeer_send(&p, 50002, 300001, p.o.seq + 1, F_ACK, NULL, 0, NULL, 0);
	CHECK_EQ(ccnt(&p, "syncookie_ok"), 1);
	CHECK_EQ(ccnt(&p, "synrcvd_dropped"), 1);
	struct tcp_conn *c1, *c2;
	CHECK_EQ(tcp_accept(p.ls, &c1, NULL, TCP_NOWAIT), ATL_OK);
	/* The younger half-open connection completes the usual way. */
	cpeer_send(&p, 50001, 200001, iss1 + 1, F_ACK, NULL, 0, NULL, 0);
	CHECK_EQ(tcp_accept(p.ls, &c2, NULL, TCP_NOWAIT), ATL_OK);
	/* A pool of live connections only: refused with RST, no cookie. */
	tnet_drain(&p.t);
	cpeer_send(&p, 50003, 400000, 0, F_SYN, MSS1000, sizeof MSS1000, NULL, 0);
	CHECK(cpeer_take(&p));
	CHECK_EQ(p.o.flags, F_RST | F_ACK);
	CHECK_EQ(ccnt(&p, "conn_refused_nomem"), 1);
	CHECK_EQ(ccnt(&p, "syncookie_sent"), 1);
	tcp_close(c1);
	tcp_close(c2);
}

TEST_MAIN(TEST_ENTRY(cookies_when_the_backlog_is_full_keep_the_options),
	  TEST_ENTRY(a_cookie_is_good_for_two_ticks_only),
	  TEST_ENTRY(without_a_flood_an_ack_to_a_listener_is_reset),
	  TEST_ENTRY(a_pool_held_by_half_open_connections_answers_with_cookies))
