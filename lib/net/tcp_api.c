/*
 * tcp_api.c - the TCP calls of stack.h over atoll's own stack: listen,
 * accept, connect, read, write, shutdown, close, in the calling fiber or
 * without waiting (TCP_NOWAIT).  The protocol itself is in tcp.c.
 */
#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "net/net.h"

#define TCP_COUNTER_NAME(g, name) #name,
static const char *const tcp_names[] = {TCP_COUNTERS(TCP_COUNTER_NAME)};

static int tcp_arg(struct net *n, const char *key, uint64_t def, uint64_t lo, uint64_t hi,
		   uint64_t *out)
{
	struct loop *l = n->loop;
	const char *v = l->start ? args_get_dev(l->start, n->dev, key) : NULL;
	*out = def;
	if (v && (args_parse_u64(v, out) != ATL_OK || *out < lo || *out > hi)) {
		LOG_ERROR(l, "%s: %s=%s: give a value from %llu to %llu", n->dev, key, v,
			  (unsigned long long)lo, (unsigned long long)hi);
		return ATL_EINVAL;
	}
	return ATL_OK;
}

int tcp_init(struct net *n)
{
	struct loop *l = n->loop;
	uint64_t nconns, bufsz;
	uint64_t def = l->tcp_conns_default ? l->tcp_conns_default : TCP_CONNS_DEFAULT;
	if (def > TCP_CONNS_MAX)
		def = TCP_CONNS_MAX;
	if (tcp_arg(n, "tcp-conns", def, 1, TCP_CONNS_MAX, &nconns) != ATL_OK ||
	    tcp_arg(n, "tcp-buf", TCP_BUF_DEFAULT, TCP_BUF_MIN, TCP_BUF_MAX, &bufsz) != ATL_OK)
		return ATL_EINVAL;
	struct tcp *t = heap_alloc(l->heap, sizeof *t, 16);
	if (!t)
		goto nomem;
	t->n = n;
	t->buf_size = (uint32_t)bufsz;
	const char *cc = l->start ? args_get_dev(l->start, n->dev, "tcp-cc") : NULL;
	if (cc && strcmp(cc, "cubic") == 0) {
		t->cc = TCP_CC_CUBIC;
	} else if (cc && strcmp(cc, "newreno") != 0) {
		LOG_ERROR(l, "%s: tcp-cc=%s: give newreno or cubic", n->dev, cc);
		return ATL_EINVAL;
	}
	if (pool_init(&t->conns, l->heap, "tcp", sizeof(struct tcp_conn), (unsigned)nconns) !=
		ATL_OK ||
	    pool_init(&t->listeners_pool, l->heap, "tcp-listen", sizeof(struct tcp_listener),
		      TCP_LISTENERS) != ATL_OK)
		goto nomem;
	/* Each control block keeps its two rings for life. */
	struct tcp_conn *all = NULL;
	for (unsigned i = 0; i < nconns; i++) {
		struct tcp_conn *c = pool_get(&t->conns);
		memset(c, 0, sizeof *c);
		c->snd.buf = heap_alloc(l->heap, t->buf_size, 16);
		c->rcv.buf = heap_alloc(l->heap, t->buf_size, 16);
		c->aq_next = all;
		all = c;
		if (!c->snd.buf || !c->rcv.buf)
			goto nomem;
	}
	while (all) {
		struct tcp_conn *next = all->aq_next;
		pool_put(&t->conns, all);
		all = next;
	}
	t->conns.hwm = 0;
	plat_entropy(t->isn_key, sizeof t->isn_key);
	uint16_t r;
	plat_entropy(&r, sizeof r);
	t->next_port = (uint16_t)(TCP_EPHEMERAL_LO + r % (TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1));
	if (strcmp(n->dev, "service") == 0)
		fmt_snprintf(t->group_name, sizeof t->group_name, "tcp");
	else
		fmt_snprintf(t->group_name, sizeof t->group_name, "%s.tcp", n->dev);
	t->group.name = t->group_name;
	t->group.names = tcp_names;
	t->group.values = t->cnt;
	t->group.n = C_tcp_N;
	counters_register(l, &t->group);
	n->tcp = t;
	LOG_INFO(l, "%s: tcp: %u connections, %u-byte buffers, %s", n->dev, (unsigned)nconns,
		 t->buf_size, t->cc == TCP_CC_CUBIC ? "cubic" : "newreno");
	return ATL_OK;
nomem:
	LOG_ERROR(l, "%s: heap too small for %u TCP connections of 2 x %u bytes", n->dev,
		  (unsigned)nconns, (unsigned)bufsz);
	return ATL_ENOMEM;
}

static int tcp_ready(struct net *n)
{
	return n->tcp ? ATL_OK : tcp_init(n);
}

static bool tcp_deadline_past(struct loop *l, uint64_t deadline)
{
	return deadline != DEADLINE_NEVER && deadline <= loop_now(l);
}

/* Wait on q as fiber_wait does; ATL_EAGAIN for a past deadline. */
static int tcp_wait(struct loop *l, struct waitq *q, uint64_t deadline)
{
	if (tcp_deadline_past(l, deadline))
		return deadline == TCP_NOWAIT ? ATL_EAGAIN : ATL_ETIMEDOUT;
	return fiber_wait(l, q, deadline);
}

/* ---- Listening ------------------------------------------------------------ */

int net_tcp_listen(struct stack *st, const struct ip4_ep *local, unsigned backlog,
		   struct tcp_listener **out)
{
	struct net *n = net_of(st);
	int rc = tcp_ready(n);
	if (rc != ATL_OK)
		return rc;
	if (!local || local->port == 0 || (local->addr != 0 && local->addr != n->addr) ||
	    backlog == 0)
		return ATL_EINVAL;
	if (backlog > TCP_BACKLOG_MAX)
		backlog = TCP_BACKLOG_MAX;
	for (struct tcp_listener *q = n->tcp->listeners; q; q = q->next)
		if (q->port == local->port)
			return ATL_EADDRINUSE;
	struct tcp_listener *ls = pool_get(&n->tcp->listeners_pool);
	if (!ls)
		return ATL_ENOMEM;
	memset(ls, 0, sizeof *ls);
	ls->st = st;
	ls->n = n;
	ls->addr = local->addr;
	ls->port = local->port;
	ls->backlog = backlog;
	ls->next = n->tcp->listeners;
	n->tcp->listeners = ls;
	*out = ls;
	return ATL_OK;
}

int net_tcp_accept(struct tcp_listener *ls, struct tcp_conn **out, struct ip4_ep *peer,
		   uint64_t deadline)
{
	struct loop *l = ls->n->loop;
	while (!ls->aq_head) {
		int rc = tcp_wait(l, &ls->wq, deadline);
		if (rc != ATL_OK)
			return rc;
	}
	struct tcp_conn *c = ls->aq_head;
	ls->aq_head = c->aq_next;
	if (!ls->aq_head)
		ls->aq_tail = NULL;
	ls->pending--;
	c->parent = NULL;
	c->aq_next = NULL;
	c->app_owned = true;
	if (peer) {
		peer->addr = c->raddr;
		peer->port = c->rport;
	}
	*out = c;
	return ATL_OK;
}

void net_tcp_unlisten(struct tcp_listener *ls)
{
	struct net *n = ls->n;
	ASSERT(waitq_empty(&ls->wq));
	for (struct tcp_listener **link = &n->tcp->listeners; *link; link = &(*link)->next) {
		if (*link == ls) {
			*link = ls->next;
			break;
		}
	}
	/* Connections still in the handshake or the queue are reset. */
	for (struct tcp_conn *c = n->tcp->list, *next; c; c = next) {
		next = c->next;
		if (c->parent == ls) {
			c->parent = NULL;
			c->app_owned = true;
			c->fin_queued = false;
			c->rcv.len = 1; /* make release reset it */
			tcp_conn_release(c, loop_now(n->loop));
		}
	}
	pool_put(&n->tcp->listeners_pool, ls);
}

/* ---- Connecting ------------------------------------------------------------ */

static bool tcp_tuple_used(struct net *n, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	for (struct tcp_conn *c = n->tcp->list; c; c = c->next)
		if (c->lport == lport && c->raddr == raddr && c->rport == rport)
			return true;
	for (struct tcp_listener *ls = n->tcp->listeners; ls; ls = ls->next)
		if (ls->port == lport)
			return true;
	return false;
}

int net_tcp_connect(struct stack *st, const struct ip4_ep *remote, struct tcp_conn **out,
		    uint64_t deadline)
{
	struct net *n = net_of(st);
	struct loop *l = n->loop;
	int rc = tcp_ready(n);
	if (rc != ATL_OK)
		return rc;
	if (!remote || remote->addr == 0 || remote->port == 0 || ip4_is_bcast(n, remote->addr) ||
	    remote->addr >> 28 >= 0xe)
		return ATL_EINVAL;
	uint16_t port = 0;
	unsigned range = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	for (unsigned i = 0; i < range && port == 0; i++) {
		/* RFC 6056 3.3.1-like: random start, then sequential. */
		uint16_t cand = n->tcp->next_port;
		n->tcp->next_port =
		    cand == TCP_EPHEMERAL_HI ? TCP_EPHEMERAL_LO : (uint16_t)(cand + 1);
		if (!tcp_tuple_used(n, cand, remote->addr, remote->port))
			port = cand;
	}
	if (port == 0)
		return ATL_EADDRINUSE;
	struct tcp_conn *c = tcp_conn_new(n);
	if (!c)
		return ATL_ENOMEM;
	n->tcp->cnt[C_tcp_active_open]++;
	uint64_t now = loop_now(l);
	c->app_owned = true;
	c->laddr = n->addr;
	c->lport = port;
	c->raddr = remote->addr;
	c->rport = remote->port;
	c->iss = tcp_isn(n->tcp, c->laddr, c->lport, c->raddr, c->rport, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	c->recover = c->iss;
	c->state = TCP_SYN_SENT;
	tcp_conn_kick(c, now);
	while (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		rc = tcp_wait(l, &c->rq, deadline);
		if (rc == ATL_EAGAIN) {
			/* Non-blocking: the caller owns it and polls tcp_events. */
			*out = c;
			return ATL_EAGAIN;
		}
		if (rc != ATL_OK) {
			tcp_conn_release(c, loop_now(l));
			return rc;
		}
	}
	if (c->state == TCP_CLOSED) {
		rc = c->err ? c->err : ATL_ECONNREFUSED;
		tcp_conn_release(c, loop_now(l));
		return rc;
	}
	*out = c;
	return ATL_OK;
}

/* ---- Data ------------------------------------------------------------------- */

int net_tcp_read(struct tcp_conn *c, void *buf, size_t cap, size_t *len, uint64_t deadline)
{
	struct loop *l = c->n->loop;
	*len = 0;
	for (;;) {
		if (c->rcv.len > 0)
			break;
		if (c->fin_rcvd)
			return ATL_OK;
		if (c->state == TCP_CLOSED)
			return c->err ? c->err : ATL_ENOTCONN;
		int rc = tcp_wait(l, &c->rq, deadline);
		if (rc != ATL_OK)
			return rc;
	}
	uint32_t k = c->rcv.len < cap ? c->rcv.len : (uint32_t)cap;
	uint32_t first = c->rcv.cap - c->rcv.head;
	if (first > k)
		first = k;
	memcpy(buf, c->rcv.buf + c->rcv.head, first);
	if (k > first)
		memcpy((uint8_t *)buf + first, c->rcv.buf, k - first);
	c->rcv.head = (c->rcv.head + k) % c->rcv.cap;
	c->rcv.len -= k;
	*len = k;
	/* RFC 9293 3.8.6.2.2: tell the peer once the window has opened by
	 * enough to matter (tcp_output's window rules decide "enough").  An
	 * update of its own only while what the peer was last offered is
	 * under half the buffer, and once it would at least double that
	 * offer (as Linux's tcp_cleanup_rbuf): otherwise the ACKs that data
	 * brings carry the window anyway, and each extra ACK is a frame (a
	 * system call on TAP) for little.  Reading 4 KB at a time from a
	 * fast sender, the first rule alone sent five ACKs per GRO'd frame.
	 * The update goes once this fiber has run: a reply it writes first
	 * carries it (a request read, then answered, is one segment). */
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT) {
		uint32_t adv = tcp_seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
		uint32_t space = c->rcv.cap - c->rcv.len;
		uint32_t step = c->rcv.cap / 2 < c->rcv_mss ? c->rcv.cap / 2 : c->rcv_mss;
		if ((space >= adv + 2u * step && adv < c->rcv.cap / 2 && space / 2 >= adv) ||
		    (adv < c->rcv_mss && space - adv >= step))
			tcp_conn_ack_soon(c, loop_now(l));
	}
	return ATL_OK;
}

static bool tcp_sending_open(const struct tcp_conn *c)
{
	return !c->fin_queued && (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT);
}

int net_tcp_write(struct tcp_conn *c, const void *data, size_t len, size_t *done, uint64_t deadline)
{
	struct loop *l = c->n->loop;
	size_t put = 0;
	int rc = ATL_OK;
	while (put < len) {
		if (c->state == TCP_CLOSED) {
			rc = c->err ? c->err : ATL_ENOTCONN;
			break;
		}
		if (!tcp_sending_open(c)) {
			rc = ATL_ENOTCONN;
			break;
		}
		uint32_t room = c->snd.cap - c->snd.len;
		if (room == 0) {
			rc = tcp_wait(l, &c->wq, deadline);
			if (rc != ATL_OK)
				break;
			continue;
		}
		uint32_t k = len - put < room ? (uint32_t)(len - put) : room;
		uint32_t idx = (c->snd.head + c->snd.len) % c->snd.cap;
		uint32_t first = c->snd.cap - idx < k ? c->snd.cap - idx : k;
		memcpy(c->snd.buf + idx, (const uint8_t *)data + put, first);
		if (k > first)
			memcpy(c->snd.buf, (const uint8_t *)data + put + first, k - first);
		c->snd.len += k;
		put += k;
		tcp_conn_kick(c, loop_now(l));
	}
	if (done)
		*done = put;
	if (rc == ATL_EAGAIN && put > 0)
		rc = ATL_EAGAIN;
	return rc;
}

int net_tcp_shutdown(struct tcp_conn *c)
{
	if (c->fin_queued)
		return ATL_OK;
	switch (c->state) {
	case TCP_ESTABLISHED:
		c->state = TCP_FIN_WAIT_1;
		break;
	case TCP_CLOSE_WAIT:
		c->state = TCP_LAST_ACK;
		break;
	case TCP_SYN_RCVD:
		/* RFC 9293 3.10.4: the FIN goes after the handshake. */
		break;
	case TCP_CLOSED:
		return c->err ? c->err : ATL_ENOTCONN;
	default:
		return ATL_ENOTCONN;
	}
	c->fin_queued = true;
	tcp_conn_kick(c, loop_now(c->n->loop));
	return ATL_OK;
}

void net_tcp_close(struct tcp_conn *c)
{
	ASSERT(waitq_empty(&c->rq) && waitq_empty(&c->wq));
	if (c->state != TCP_CLOSED && c->rcv.len == 0)
		net_tcp_shutdown(c);
	tcp_conn_release(c, loop_now(c->n->loop));
}

int net_tcp_setopt(struct tcp_conn *c, enum tcp_opt opt, int value)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		c->nodelay = value != 0;
		if (c->nodelay)
			tcp_conn_kick(c, loop_now(c->n->loop));
		return ATL_OK;
	case TCP_OPT_KEEPALIVE:
		c->keepalive = value != 0;
		c->t_keep = c->keepalive && c->state == TCP_ESTABLISHED
				? loop_now(c->n->loop) + TCP_KEEPIDLE_NS
				: DEADLINE_NEVER;
		c->keep_probes = 0;
		tcp_conn_kick(c, loop_now(c->n->loop));
		return ATL_OK;
	}
	return ATL_EINVAL;
}

unsigned net_tcp_events(struct tcp_conn *c)
{
	unsigned ev = 0;
	if (c->rcv.len > 0 || c->fin_rcvd || c->state == TCP_CLOSED)
		ev |= TCP_EV_READABLE;
	if (tcp_sending_open(c) && c->snd.len < c->snd.cap)
		ev |= TCP_EV_WRITABLE;
	if (c->state == TCP_CLOSED)
		ev |= TCP_EV_CLOSED;
	return ev;
}
