/*
 * icmp.c - ICMP for IPv4 (RFC 792) as a host (RFC 1122 3.2.2): echo
 * replies, and the errors other layers ask for (port and protocol
 * unreachable, reassembly time exceeded), rate limited.
 */
#include "net/net.h"

#include <string.h>

#include "core/err.h"
#include "net/cksum.h"

#define ICMP_ECHO_REPLY	   0
#define ICMP_UNREACH	   3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT	   5
#define ICMP_ECHO	   8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define IP_PROTO_ICMP	   1
#define IP_PROTO_TCP	   6

void icmp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now)
{
	NET_COUNT(n, icmp, rx);
	size_t len = pkt_chain_len(p);
	uint8_t h[8];
	if (pkt_chain_copy(p, 0, h, sizeof h) < sizeof h) {
		NET_COUNT(n, icmp, truncated);
		goto done;
	}
	/* RFC 792: the checksum covers the whole ICMP message. */
	struct csum c = csum_start();
	csum_add_chain(&c, p, 0, len);
	if (csum_fold(&c) != 0) {
		NET_COUNT(n, icmp, bad_cksum);
		goto done;
	}
	struct rd r = rd_make(h, sizeof h);
	uint8_t type = rd_u8(&r);
	rd_skip(&r, 3); /* code, checksum */
	const uint8_t *id_seq = rd_take(&r, 4);
	switch (type) {
	case ICMP_ECHO: {
		NET_COUNT(n, icmp, echo_rx);
		/* RFC 1122 3.2.2.6: an echo to a broadcast address MAY be
		 * ignored; answering one is how smurf amplification works. */
		if (rx->bcast) {
			NET_COUNT(n, icmp, echo_bcast_drop);
			break;
		}
		/* RFC 792: the reply is the request with type 0, same
		 * identifier, sequence number and data (RFC 1122 3.2.2.6: all
		 * of it), from the address the request was sent to. */
		uint8_t reply[8];
		struct wr w = wr_make(reply, sizeof reply);
		wr_u8(&w, ICMP_ECHO_REPLY);
		wr_u8(&w, 0);
		wr_be16(&w, 0);
		wr_bytes(&w, id_seq, 4);
		struct csum rc = csum_start();
		csum_add(&rc, reply, sizeof reply);
		csum_add_chain(&rc, p, sizeof h, len - sizeof h);
		wr_be16_at(&w, 2, csum_fold(&rc));
		struct ip4_src src = {.hdr = reply,
				      .hdr_len = sizeof reply,
				      .chain = p,
				      .chain_off = sizeof h,
				      .chain_len = len - sizeof h};
		if (ip4_output(n, rx->src, IP_PROTO_ICMP, &src, now) == ATL_OK)
			NET_COUNT(n, icmp, echo_tx);
		else
			NET_COUNT(n, icmp, echo_tx_fail);
		break;
	}
	case ICMP_ECHO_REPLY:
		NET_COUNT(n, icmp, echo_reply_rx);
		break;
	case ICMP_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAM_PROBLEM: {
		NET_COUNT(n, icmp, errors_rx);
		/* RFC 1122 3.2.2 / 4.2.3.9: an error quotes the IP header and
		 * at least 8 bytes of the datagram; one about a TCP segment
		 * goes to TCP (which checks it is about a live connection,
		 * RFC 5927).  UDP does not listen for errors (docs/net.md). */
		uint8_t q[60 + 8];
		size_t qlen = pkt_chain_copy(p, sizeof h, q,
					     len - sizeof h < sizeof q ? len - sizeof h : sizeof q);
		if (qlen >= 20 + 8 && (q[0] >> 4) == 4 && q[9] == IP_PROTO_TCP &&
		    qlen >= (size_t)(q[0] & 15) * 4 + 8) {
			NET_COUNT(n, icmp, errors_to_tcp);
			struct rd ir = rd_make(h, sizeof h);
			rd_skip(&ir, 1);
			uint8_t code = rd_u8(&ir);
			rd_skip(&ir, 2);
			tcp_icmp_error(n, type, code, rd_be32(&ir), q, qlen, now);
		}
		break;
	}
	default:
		/* RFC 1122 3.2.2: unknown types are silently discarded. */
		NET_COUNT(n, icmp, unknown_type);
		break;
	}
done:
	pkt_free(&n->pkts, p);
}

/* RFC 1122 3.2.2: no error about an error, a broadcast or multicast, or a
 * datagram whose source is not one host (non-initial fragments never get
 * here: errors are only asked about whole datagrams or fragment zero). */
static bool icmp_error_allowed(const struct net *n, const struct ip4_rx *rx)
{
	if (rx->bcast || rx->src == 0 || rx->src >> 28 >= 0xe || rx->src >> 24 == 127 ||
	    ip4_is_bcast(n, rx->src))
		return false;
	if (rx->proto == IP_PROTO_ICMP) {
		struct rd r = rd_make(rx->quote, rx->quote_len);
		size_t ihl = (size_t)(rd_u8(&r) & 15) * 4;
		uint8_t type = rd_peek_at(&r, ihl);
		if (!rd_ok(&r))
			return false;
		/* Only the query messages may be complained about. */
		if (type != ICMP_ECHO && type != ICMP_ECHO_REPLY && !(type >= 13 && type <= 18))
			return false;
	}
	return true;
}

/* A token bucket shared by every destination (RFC 1122 3.2.2 / RFC 1812
 * 4.3.2.8 suggest limiting errors; one bucket is the simplest bound). */
static bool icmp_error_token(struct net *n, uint64_t now)
{
	if (now > n->icmp_refill) {
		uint64_t add = (now - n->icmp_refill) / ICMP_ERR_INTERVAL_NS;
		if (add >= ICMP_ERR_BURST - n->icmp_tokens) {
			n->icmp_tokens = ICMP_ERR_BURST;
			n->icmp_refill = now;
		} else if (add) {
			n->icmp_tokens += (unsigned)add;
			n->icmp_refill += add * ICMP_ERR_INTERVAL_NS;
		}
	}
	if (n->icmp_tokens == 0)
		return false;
	n->icmp_tokens--;
	return true;
}

void icmp_error(struct net *n, const struct ip4_rx *rx, uint8_t type, uint8_t code, uint64_t now)
{
	if (!icmp_error_allowed(n, rx)) {
		NET_COUNT(n, icmp, err_suppressed);
		return;
	}
	if (!icmp_error_token(n, now)) {
		NET_COUNT(n, icmp, err_ratelimit_drop);
		return;
	}
	/* RFC 792: type, code, checksum, 4 unused bytes, then the internet
	 * header and the first 64 bits of the datagram's data. */
	uint8_t h[8];
	struct wr w = wr_make(h, sizeof h);
	wr_u8(&w, type);
	wr_u8(&w, code);
	wr_be16(&w, 0);
	wr_be32(&w, 0);
	struct csum c = csum_start();
	csum_add(&c, h, sizeof h);
	csum_add(&c, rx->quote, rx->quote_len);
	wr_be16_at(&w, 2, csum_fold(&c));
	struct ip4_src src = {
	    .hdr = h, .hdr_len = sizeof h, .data = rx->quote, .data_len = rx->quote_len};
	if (ip4_output(n, rx->src, IP_PROTO_ICMP, &src, now) != ATL_OK)
		return;
	if (type == ICMP_UNREACH)
		NET_COUNT(n, icmp, unreach_tx);
	else
		NET_COUNT(n, icmp, timex_tx);
}
