/*
 * udp.c - UDP (RFC 768, RFC 1122 4.1) sockets of atoll's own stack: the
 * stack_ops that stack.h's wrappers call.
 *
 * A socket's receive queue holds whole datagrams as buffer chains (a
 * reassembled datagram stays in its fragments' buffers, no copy), bounded
 * in datagrams and in buffers; beyond either bound new datagrams are
 * dropped and counted.  udp_recvfrom copies one out in the calling fiber.
 */
#include "net/net.h"

#include <string.h>

#include "core/err.h"
#include "net/cksum.h"

#define UDP_HDR		  8
#define IP4_HDR		  20
#define UDP_MAX_PAYLOAD	  (65535 - 20 - UDP_HDR)
#define IP_PROTO_UDP	  17
#define ICMP_UNREACH	  3
#define ICMP_UNREACH_PORT 3

int udp_init(struct net *n)
{
	uint16_t r;
	plat_entropy(&r, sizeof r);
	/* RFC 6056 3.3.1-like: a random start in the range, then sequential. */
	n->udp_next_port =
	    (uint16_t)(UDP_EPHEMERAL_LO + r % (UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1));
	return pool_init(&n->socks, n->loop->heap, "udp", sizeof(struct udp_sock), UDP_SOCKS);
}

static struct udp_sock *udp_lookup(struct net *n, uint16_t port, uint32_t dst)
{
	for (struct udp_sock *s = n->udp; s; s = s->next)
		if (s->port == port && (s->addr == 0 || s->addr == dst))
			return s;
	return NULL;
}

static bool udp_port_used(struct net *n, uint16_t port)
{
	for (struct udp_sock *s = n->udp; s; s = s->next)
		if (s->port == port)
			return true;
	return false;
}

void udp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now)
{
	NET_COUNT(n, udp, rx);
	size_t iplen = p->more ? pkt_chain_len(p) : p->len;
	uint8_t h[UDP_HDR];
	struct rd r = pkt_rd(p);
	if (r.len < sizeof h) {
		/* (A header split over buffers: only in a reassembled one.) */
		if (pkt_chain_copy(p, 0, h, sizeof h) < sizeof h) {
			NET_COUNT(n, udp, truncated);
			goto drop;
		}
		r = rd_make(h, sizeof h);
	}
	uint16_t sport = rd_be16(&r);
	uint16_t dport = rd_be16(&r);
	uint16_t ulen = rd_be16(&r);
	uint16_t cks = rd_be16(&r);
	/* RFC 768: the length counts header and data; IP may carry more
	 * (ignored), never less. */
	if (ulen < UDP_HDR || ulen > iplen) {
		NET_COUNT(n, udp, bad_len);
		goto drop;
	}
	if (ulen < iplen)
		pkt_chain_trim(&n->pkts, p, ulen);
	/* RFC 768: a zero checksum field means the sender computed none;
	 * RFC 1122 4.1.3.4: otherwise a bad one is silently discarded. */
	/* (PKT_F_CSUM_OK: the device's host made or checked it.) */
	if (cks != 0 && !(p->flags & PKT_F_CSUM_OK)) {
		struct csum c = csum_start();
		csum_add_pseudo(&c, rx->src, rx->dst, IP_PROTO_UDP, ulen);
		if (p->more) {
			csum_add_chain(&c, p, 0, ulen);
		} else {
			struct rd whole = pkt_rd(p); /* (trimmed to ulen) */
			csum_add(&c, rd_take(&whole, ulen), ulen);
		}
		if (csum_fold(&c) != 0) {
			NET_COUNT(n, udp, bad_cksum);
			goto drop;
		}
	} else if (cks == 0) {
		NET_COUNT(n, udp, no_cksum);
	}
	struct udp_sock *s = udp_lookup(n, dport, rx->dst);
	if (!s) {
		/* RFC 1122 4.1.3.1: port unreachable (icmp_error applies the
		 * broadcast and rate rules). */
		NET_COUNT(n, udp, no_port);
		icmp_error(n, rx, ICMP_UNREACH, ICMP_UNREACH_PORT, now);
		goto drop;
	}
	if (s->q_dgrams >= UDP_RXQ_DGRAMS || s->q_bufs + pkt_chain_count(p) > UDP_RXQ_BUFS) {
		NET_COUNT(n, udp, queue_full_drop);
		goto drop;
	}
	p = pkt_chain_pull(&n->pkts, p, UDP_HDR);
	p->next = NULL;
	p->addr = rx->src;
	p->port = sport;
	p->dlen = (uint32_t)(ulen - UDP_HDR);
	if (s->q_tail)
		s->q_tail->next = p;
	else
		s->q_head = p;
	s->q_tail = p;
	s->q_dgrams++;
	s->q_bufs += pkt_chain_count(p);
	NET_COUNT(n, udp, delivered);
	waitq_wake_one(n->loop, &s->wq);
	return;
drop:
	pkt_free(&n->pkts, p);
}

/* ---- stack_ops ------------------------------------------------------------ */

static int net_udp_open(struct stack *st, const struct ip4_ep *local, struct udp_sock **out)
{
	struct net *n = net_of(st);
	uint32_t addr = local ? local->addr : 0;
	uint16_t port = local ? local->port : 0;
	if (addr != 0 && addr != n->addr)
		return ATL_EINVAL;
	if (port == 0) {
		unsigned range = UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1;
		for (unsigned i = 0; i < range && port == 0; i++) {
			uint16_t cand = n->udp_next_port;
			n->udp_next_port =
			    cand == UDP_EPHEMERAL_HI ? UDP_EPHEMERAL_LO : (uint16_t)(cand + 1);
			if (!udp_port_used(n, cand))
				port = cand;
		}
		if (port == 0)
			return ATL_EADDRINUSE;
	} else if (udp_port_used(n, port)) {
		return ATL_EADDRINUSE;
	}
	struct udp_sock *s = pool_get(&n->socks);
	if (!s)
		return ATL_ENOMEM;
	memset(s, 0, sizeof *s);
	s->st = st;
	s->n = n;
	s->addr = addr;
	s->port = port;
	s->next = n->udp;
	n->udp = s;
	*out = s;
	return ATL_OK;
}

static int net_udp_sendto(struct udp_sock *s, const struct ip4_ep *to, const void *data, size_t len)
{
	struct net *n = s->n;
	if (!to || to->addr == 0 || to->port == 0 || (len && !data)) {
		NET_COUNT(n, udp, tx_errors);
		return ATL_EINVAL;
	}
	if (len > UDP_MAX_PAYLOAD) {
		NET_COUNT(n, udp, tx_errors);
		return ATL_EMSGSIZE;
	}
	uint16_t ulen = (uint16_t)(UDP_HDR + len);
	uint8_t h[UDP_HDR];
	struct wr w = wr_make(h, sizeof h);
	wr_be16(&w, s->port);
	wr_be16(&w, to->port);
	wr_be16(&w, ulen);
	wr_be16(&w, 0);
	struct ip4_src src = {.hdr = h, .hdr_len = sizeof h, .data = data, .data_len = len};
	struct csum c = csum_start();
	csum_add_pseudo(&c, n->addr, to->addr, IP_PROTO_UDP, ulen);
	if (n->vnet_len && ulen <= (size_t)n->mtu - IP4_HDR) {
		/* The device's host finishes the checksum from the pseudo-
		 * header sum in the field (as Linux does for its own sockets);
		 * only a datagram in one frame, fragments need it whole. */
		wr_be16_at(&w, 6, (uint16_t)~csum_fold(&c));
		src.csum_offset = 6;
	} else {
		csum_add(&c, h, sizeof h);
		csum_add(&c, data, len);
		uint16_t sum = csum_fold(&c);
		/* RFC 768: a computed zero goes out as all ones (zero: none). */
		wr_be16_at(&w, 6, sum ? sum : 0xffff);
	}
	int rc = ip4_output(n, to->addr, IP_PROTO_UDP, &src, n->loop->now);
	if (rc == ATL_OK)
		NET_COUNT(n, udp, tx);
	else
		NET_COUNT(n, udp, tx_errors);
	return rc;
}

static int net_udp_recvfrom(struct udp_sock *s, struct ip4_ep *from, void *buf, size_t cap,
			    size_t *len, uint64_t deadline)
{
	struct net *n = s->n;
	while (!s->q_head) {
		int rc = fiber_wait(n->loop, &s->wq, deadline);
		if (rc != ATL_OK)
			return rc;
	}
	struct pkt *p = s->q_head;
	s->q_head = p->next;
	if (!s->q_head)
		s->q_tail = NULL;
	s->q_dgrams--;
	s->q_bufs -= p->more ? pkt_chain_count(p) : 1;
	size_t dlen = p->dlen;
	size_t k = dlen < cap ? dlen : cap;
	if (p->more) {
		pkt_chain_copy(p, 0, buf, k);
	} else if (k) {
		struct rd r = pkt_rd(p); /* (holds dlen bytes) */
		rd_copy(&r, buf, k);
	}
	if (from) {
		from->addr = p->addr;
		from->port = p->port;
	}
	if (len)
		*len = dlen;
	pkt_free(&n->pkts, p);
	return dlen > cap ? ATL_EMSGSIZE : ATL_OK;
}

static void net_udp_close(struct udp_sock *s)
{
	struct net *n = s->n;
	/* The socket's memory goes back to the pool: a fiber still waiting
	 * in udp_recvfrom would wake on freed memory. */
	ASSERT(waitq_empty(&s->wq));
	for (struct udp_sock **link = &n->udp; *link; link = &(*link)->next) {
		if (*link == s) {
			*link = s->next;
			break;
		}
	}
	pkt_free_list(&n->pkts, s->q_head);
	pool_put(&n->socks, s);
}

const struct stack_ops net_stack_ops = {
    .name = "atoll",
    .udp_open = net_udp_open,
    .udp_sendto = net_udp_sendto,
    .udp_recvfrom = net_udp_recvfrom,
    .udp_close = net_udp_close,
    .tcp_listen = net_tcp_listen,
    .tcp_accept = net_tcp_accept,
    .tcp_unlisten = net_tcp_unlisten,
    .tcp_connect = net_tcp_connect,
    .tcp_read = net_tcp_read,
    .tcp_write = net_tcp_write,
    .tcp_shutdown = net_tcp_shutdown,
    .tcp_close = net_tcp_close,
    .tcp_setopt = net_tcp_setopt,
    .tcp_events = net_tcp_events,
};
