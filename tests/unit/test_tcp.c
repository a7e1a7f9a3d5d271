/*
 * test_tcp.c - TCP between two atoll stacks over a fake wire with virtual
 * time: handshake, transfers both ways with half-close, byte-exact under
 * loss, duplication and reordering; refusal, connect timeout, the memory
 * bound (refusal when the connection pool is empty), TIME-WAIT recycling.
 */
#include "test_tcp.h"

#define PORT 7

struct xfer {
	struct tpair *p;
	size_t size;	 /* bytes the client sends */
	size_t echo;	 /* bytes the server sends back after the client's FIN */
	size_t got;	 /* bytes the server read, checked against the pattern */
	size_t got_back; /* bytes the client read back */
	bool bad;	 /* a byte differed */
	int crc, src;	 /* client / server result */
	bool cdone, sdone;
	struct tcp_listener *ls;
	uint64_t deadline;
};

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9) + 7);
}

static void xfer_server(void *arg)
{
	struct xfer *x = arg;
	struct tcp_conn *c;
	struct ip4_ep peer;
	x->src = tcp_accept(x->ls, &c, &peer, x->deadline);
	if (x->src != ATL_OK)
		goto out;
	static uint8_t buf[7000];
	for (;;) {
		size_t len;
		x->src = tcp_read(c, buf, sizeof buf, &len, x->deadline);
		if (x->src != ATL_OK || len == 0)
			break;
		for (size_t i = 0; i < len; i++)
			if (buf[i] != pat(x->got + i))
				x->bad = true;
		x->got += len;
	}
	/* The client has shut its side: ours is still open (half-close). */
	for (size_t off = 0; x->src == ATL_OK && off < x->echo;) {
		uint8_t out[3000];
		size_t k = x->echo - off < sizeof out ? x->echo - off : sizeof out;
		for (size_t i = 0; i < k; i++)
			out[i] = pat(off + i + 1);
		size_t done;
		x->src = tcp_write(c, out, k, &done, x->deadline);
		off += done;
	}
	tcp_close(c);
out:
	x->sdone = true;
	if (x->cdone)
		x->p->w.stop = true;
}

static void xfer_client(void *arg)
{
	struct xfer *x = arg;
	struct tcp_conn *c;
	struct ip4_ep to = {IP(10, 0, 0, 2), PORT};
	x->crc = tcp_connect(x->p->a, &to, &c, x->deadline);
	if (x->crc != ATL_OK)
		goto out;
	for (size_t off = 0; off < x->size;) {
		uint8_t out[5000];
		size_t k = x->size - off < sizeof out ? x->size - off : sizeof out;
		for (size_t i = 0; i < k; i++)
			out[i] = pat(off + i);
		size_t done;
		x->crc = tcp_write(c, out, k, &done, x->deadline);
		off += done;
		if (x->crc != ATL_OK)
			goto close;
	}
	x->crc = tcp_shutdown(c);
	for (;;) {
		uint8_t buf[4096];
		size_t len;
		x->crc = tcp_read(c, buf, sizeof buf, &len, x->deadline);
		if (x->crc != ATL_OK || len == 0)
			break;
		for (size_t i = 0; i < len; i++)
			if (buf[i] != pat(x->got_back + i + 1))
				x->bad = true;
		x->got_back += len;
	}
close:
	tcp_close(c);
out:
	x->cdone = true;
	if (x->sdone)
		x->p->w.stop = true;
}

/* Run one transfer; the loop ends when both sides are done. */
static void run_xfer(struct tpair *p, struct xfer *x, size_t size, size_t echo)
{
	memset(x, 0, sizeof *x);
	x->p = p;
	x->size = size;
	x->echo = echo;
	x->deadline = loop_now(&p->l) + 600 * NS_PER_SEC;
	struct ip4_ep local = {0, PORT};
	CHECK_EQ(tcp_listen(p->b, &local, 4, &x->ls), ATL_OK);
	CHECK(fiber_spawn(&p->l, "server", xfer_server, x, 0) != NULL);
	CHECK(fiber_spawn(&p->l, "client", xfer_client, x, 0) != NULL);
	loop_run(&p->l);
	CHECK(x->cdone && x->sdone);
	CHECK_EQ(x->crc, ATL_OK);
	CHECK_EQ(x->src, ATL_OK);
	CHECK_EQ(x->got, size);
	CHECK_EQ(x->got_back, echo);
	CHECK(!x->bad);
}

/* Connections in use on stack st (TIME-WAIT included). */
static unsigned conns_in_use(struct stack *st)
{
	struct net *n = net_of(st);
	return n->tcp ? n->tcp->conns.in_use : 0;
}

static uint64_t sleeper_ns;

/* Let the wire run for sleeper_ns of virtual time. */
static void sleeper(void *arg)
{
	struct tpair *p = arg;
	fiber_sleep(&p->l, loop_now(&p->l) + sleeper_ns);
	p->w.stop = true;
}

TEST(transfer_both_ways_with_half_close)
{
	struct tpair p;
	tpair_open(&p, 1, NULL);
	struct xfer x;
	run_xfer(&p, &x, 300 * 1000, 120 * 1000);
	CHECK_EQ(tpair_cnt(&p, "a.tcp", "established"), 1);
	CHECK_EQ(tpair_cnt(&p, "b.tcp", "established"), 1);
	CHECK_EQ(tpair_cnt(&p, "a.tcp", "rexmt_timeout"), 0);
	CHECK_EQ(tpair_cnt(&p, "b.tcp", "bad_cksum"), 0);
	/* The client closed first: it holds TIME-WAIT, the server is gone
	 * once the last ACK arrives. */
	p.w.stop = false;
	CHECK(fiber_spawn(&p.l, "wire", wire_fiber, &p, 0) != NULL);
	sleeper_ns = NS_PER_SEC;
	CHECK(fiber_spawn(&p.l, "sleeper", sleeper, &p, 0) != NULL);
	loop_run(&p.l);
	CHECK_EQ(conns_in_use(p.b), 0);
	CHECK_EQ(conns_in_use(p.a), 1);
	CHECK_EQ(net_of(p.a)->tcp->list->state, TCP_TIME_WAIT);
	/* TIME-WAIT ends after 2 MSL of virtual time. */
	p.w.stop = false;
	CHECK(fiber_spawn(&p.l, "wire", wire_fiber, &p, 0) != NULL);
	sleeper_ns = TCP_TIMEWAIT_NS;
	CHECK(fiber_spawn(&p.l, "sleeper", sleeper, &p, 0) != NULL);
	loop_run(&p.l);
	CHECK_EQ(conns_in_use(p.a), 0);
}

TEST(transfer_under_loss_dup_reorder)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct tpair p;
		tpair_open(&p, seed, NULL);
		p.w.loss_pm = 50;
		p.w.dup_pm = 20;
		p.w.reorder_pm = 30;
		struct xfer x;
		run_xfer(&p, &x, 200 * 1000, 50 * 1000);
		CHECK(p.w.dropped > 0);
		CHECK(tpair_cnt(&p, "a.tcp", "rexmt_segs") + tpair_cnt(&p, "b.tcp", "rexmt_segs") >
		      0);
		CHECK(tpair_cnt(&p, "b.tcp", "ooo_rx") > 0);
	}
}

TEST(cubic_transfers_under_loss)
{
	static const char *const args[] = {"a.tcp-cc=cubic", "b.tcp-cc=cubic", NULL};
	for (uint64_t seed = 11; seed <= 13; seed++) {
		struct tpair p;
		tpair_open(&p, seed, args);
		p.w.loss_pm = 20;
		p.w.reorder_pm = 10;
		struct xfer x;
		run_xfer(&p, &x, 1000 * 1000, 200 * 1000);
		CHECK(tpair_cnt(&p, "a.tcp", "fast_rexmt") > 0);
		CHECK_EQ(net_of(p.a)->tcp->cc, TCP_CC_CUBIC);
	}
}

TEST(fast_retransmit_repairs_single_losses)
{
	struct tpair p;
	tpair_open(&p, 42, NULL);
	p.w.loss_pm = 10;
	struct xfer x;
	run_xfer(&p, &x, 2000 * 1000, 0);
	CHECK(tpair_cnt(&p, "a.tcp", "fast_rexmt") > 0);
}

struct conn_try {
	struct tpair *p;
	uint16_t port;
	int rc;
};

static void connect_fiber(void *arg)
{
	struct conn_try *t = arg;
	struct tcp_conn *c;
	struct ip4_ep to = {IP(10, 0, 0, 2), t->port};
	t->rc = tcp_connect(t->p->a, &to, &c, loop_now(&t->p->l) + 3600 * NS_PER_SEC);
	if (t->rc == ATL_OK)
		tcp_close(c);
	t->p->w.stop = true;
}

TEST(connect_to_closed_port_is_refused)
{
	struct tpair p;
	tpair_open(&p, 3, NULL);
	struct ip4_ep local = {0, PORT};
	struct tcp_listener *ls;
	CHECK_EQ(tcp_listen(p.b, &local, 4, &ls), ATL_OK); /* TCP on, other port */
	struct conn_try t = {&p, 9, 999};
	CHECK(fiber_spawn(&p.l, "client", connect_fiber, &t, 0) != NULL);
	loop_run(&p.l);
	CHECK_EQ(t.rc, ATL_ECONNREFUSED);
	CHECK_EQ(tpair_cnt(&p, "b.tcp", "no_port"), 1);
	CHECK_EQ(conns_in_use(p.a), 0);
}

TEST(connect_gives_up_after_syn_retries)
{
	struct tpair p;
	tpair_open(&p, 4, NULL);
	p.w.cut = true;
	struct conn_try t = {&p, PORT, 999};
	uint64_t t0 = loop_now(&p.l);
	CHECK(fiber_spawn(&p.l, "client", connect_fiber, &t, 0) != NULL);
	loop_run(&p.l);
	CHECK_EQ(t.rc, ATL_ETIMEDOUT);
	/* RFC 6298 5.5: 1 + 2 + 4 + ... + 32 s of backed-off timeouts,
	 * then the 60 s cap (2.5). */
	uint64_t took = loop_now(&p.l) - t0;
	CHECK(took >= 123 * NS_PER_SEC && took < 124 * NS_PER_SEC);
	CHECK_EQ(tpair_cnt(&p, "a.tcp", "rexmt_timeout"), TCP_SYN_RETRIES + 1);
	CHECK_EQ(conns_in_use(p.a), 0);
}

/* Memory: with one control block on the server, a second connection is
 * refused with RST while the first one carries on to the end. */
struct hold {
	struct tpair *p;
	struct tcp_listener *ls;
	int rc1, rc2;
	size_t got;
	bool done;
};

static void hold_server(void *arg)
{
	struct hold *h = arg;
	struct tcp_conn *c;
	uint64_t dl = loop_now(&h->p->l) + 60 * NS_PER_SEC;
	if (tcp_accept(h->ls, &c, NULL, dl) != ATL_OK)
		return;
	for (;;) {
		uint8_t buf[2048];
		size_t len;
		if (tcp_read(c, buf, sizeof buf, &len, dl) != ATL_OK || len == 0)
			break;
		h->got += len;
	}
	tcp_close(c);
}

static void hold_client(void *arg)
{
	struct hold *h = arg;
	struct tcp_conn *c1, *c2;
	struct ip4_ep to = {IP(10, 0, 0, 2), PORT};
	uint64_t dl = loop_now(&h->p->l) + 60 * NS_PER_SEC;
	h->rc1 = tcp_connect(h->p->a, &to, &c1, dl);
	if (h->rc1 != ATL_OK)
		goto out;
	h->rc2 = tcp_connect(h->p->a, &to, &c2, dl);
	if (h->rc2 == ATL_OK)
		tcp_close(c2);
	static uint8_t data[100000];
	size_t done;
	tcp_write(c1, data, sizeof data, &done, dl);
	tcp_shutdown(c1);
	uint8_t b[16];
	size_t len;
	tcp_read(c1, b, sizeof b, &len, dl);
	tcp_close(c1);
out:
	h->done = true;
	h->p->w.stop = true;
}

TEST(no_memory_refuses_new_connections_cleanly)
{
	static const char *const args[] = {"b.tcp-conns=1", NULL};
	struct tpair p;
	tpair_open(&p, 5, args);
	struct hold h = {.p = &p};
	struct ip4_ep local = {0, PORT};
	CHECK_EQ(tcp_listen(p.b, &local, 4, &h.ls), ATL_OK);
	CHECK(fiber_spawn(&p.l, "server", hold_server, &h, 0) != NULL);
	CHECK(fiber_spawn(&p.l, "client", hold_client, &h, 0) != NULL);
	loop_run(&p.l);
	CHECK(h.done);
	CHECK_EQ(h.rc1, ATL_OK);
	CHECK_EQ(h.rc2, ATL_ECONNREFUSED);
	CHECK_EQ(h.got, 100000);
	CHECK_EQ(tpair_cnt(&p, "b.tcp", "conn_refused_nomem"), 1);
	CHECK_EQ(net_of(p.b)->tcp->conns.hwm, 1);
}

TEST(time_wait_is_recycled_when_blocks_run_out)
{
	static const char *const args[] = {"a.tcp-conns=1", NULL};
	struct tpair p;
	tpair_open(&p, 6, args);
	for (int i = 0; i < 3; i++) {
		struct xfer x;
		run_xfer(&p, &x, 1000, 10);
		p.w.stop = false;
		CHECK(fiber_spawn(&p.l, "wire", wire_fiber, &p, 0) != NULL);
		tcp_unlisten(x.ls);
	}
	/* Each client close left TIME-WAIT; the next connect reused it. */
	CHECK_EQ(tpair_cnt(&p, "a.tcp", "timewait_recycled"), 2);
}

TEST_MAIN(TEST_ENTRY(transfer_both_ways_with_half_close),
	  TEST_ENTRY(transfer_under_loss_dup_reorder),
	  TEST_ENTRY(fast_retransmit_repairs_single_losses), TEST_ENTRY(cubic_transfers_under_loss),
	  TEST_ENTRY(connect_to_closed_port_is_refused),
	  TEST_ENTRY(connect_gives_up_after_syn_retries),
	  TEST_ENTRY(no_memory_refuses_new_connections_cleanly),
	  TEST_ENTRY(time_wait_is_recycled_when_blocks_run_out))
