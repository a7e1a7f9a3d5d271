/*
 * ip4.c - IPv4 (RFC 791) as a host (RFC 1122 3): header checks, delivery
 * to ICMP and UDP, fragment reassembly with bounded memory, routing over
 * one interface and fragmentation on output.
 *
 * Reassembly keeps each datagram's fragments as a list sorted by offset.
 * Overlaps are refused rather than resolved: any fragment that overlaps
 * another without being an exact duplicate drops the whole datagram, and
 * the fragments that follow it until its timeout (RFC 5722 does this for
 * IPv6; for IPv4 it is what RFC 791 allows and what keeps a hostile peer
 * from choosing which copy of the bytes survives).  With no overlaps the
 * held byte count equals the coverage, so the datagram is complete when
 * the count reaches the length that the last fragment gives.
 *
 * Memory: at most REASM_SLOTS datagrams and reasm_max_bufs buffers in
 * total; a new datagram beyond the slots evicts the oldest, a fragment
 * beyond the buffer budget evicts the oldest other datagrams (or drops its
 * own), so endless fragments recycle a bounded set of buffers.
 */
#include "net/net.h"

#include <string.h>

#include "core/err.h"
#include "net/cksum.h"

#define IP4_HDR		20
#define IP4_MAX		65535
#define IP4_FLAG_MF	0x2000
#define IP4_FLAG_DF	0x4000
#define IP4_OFFSET_MASK 0x1fff
#define IP_PROTO_ICMP	1
#define IP_PROTO_UDP	17
#define IP_PROTO_TCP	6
#define ETHERTYPE_IPV4	0x0800
#define ETH_HDR_LEN	14

static const uint8_t zero_mac[6];

bool ip4_is_bcast(const struct net *n, uint32_t a)
{
	/* RFC 1122 3.2.1.3: the limited broadcast and our subnet's directed
	 * broadcast (/31 and /32 subnets have none, RFC 3021). */
	return a == 0xffffffffu || (n->prefix <= 30 && a == (n->addr | ~n->mask));
}

/* Not a single host's address: RFC 1122 3.2.1.3 says such a source must
 * be discarded (0.0.0.0 is allowed: a host learning its address uses it). */
static bool ip4_bad_src(const struct net *n, uint32_t a)
{
	return a >> 28 >= 0xe || a >> 24 == 127 || ip4_is_bcast(n, a) || a == n->addr;
}

static void ip4_deliver(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now)
{
	NET_COUNT(n, ipv4, delivered);
	switch (rx->proto) {
	case IP_PROTO_ICMP:
		icmp_input(n, rx, p, now);
		return;
	case IP_PROTO_UDP:
		udp_input(n, rx, p, now);
		return;
	case IP_PROTO_TCP:
		tcp_input(n, rx, p, now);
		return;
	default:
		/* RFC 1122 3.2.2.1: SHOULD send protocol unreachable. */
		NET_COUNT(n, ipv4, unknown_proto);
		icmp_error(n, rx, 3, 2, now);
		pkt_free(&n->pkts, p);
		return;
	}
}

/* ---- Reassembly ---------------------------------------------------------- */

void ip4_reasm_init(struct net *n)
{
	memset(n->reasm, 0, sizeof n->reasm);
}

static void reasm_arm(struct net *n)
{
	uint64_t next = DEADLINE_NEVER;
	for (unsigned i = 0; i < REASM_SLOTS; i++)
		if (n->reasm[i].used && n->reasm[i].deadline < next)
			next = n->reasm[i].deadline;
	if (next == DEADLINE_NEVER)
		timer_cancel(n->loop, &n->reasm_timer);
	else if (!n->reasm_timer.armed || n->reasm_timer.deadline != next)
		timer_arm(n->loop, &n->reasm_timer, next);
}

/* Give back ra's buffers; it stays as a dead slot so the rest of the
 * datagram is dropped too, until its timeout. */
static void reasm_kill(struct net *n, struct reasm *ra)
{
	pkt_free(&n->pkts, ra->frags);
	n->reasm_bufs -= ra->nbufs;
	ra->frags = NULL;
	ra->nbufs = 0;
	ra->have = 0;
	ra->dead = true;
}

static void reasm_release(struct net *n, struct reasm *ra)
{
	reasm_kill(n, ra);
	memset(ra, 0, sizeof *ra);
}

/* The slot of the oldest datagram other than keep that holds buffers. */
static struct reasm *reasm_oldest_live(struct net *n, const struct reasm *keep)
{
	struct reasm *old = NULL;
	for (unsigned i = 0; i < REASM_SLOTS; i++) {
		struct reasm *ra = &n->reasm[i];
		if (ra->used && !ra->dead && ra != keep && (!old || ra->deadline < old->deadline))
			old = ra;
	}
	return old;
}

static struct reasm *reasm_find(struct net *n, const struct ip4_rx *rx, uint16_t id)
{
	for (unsigned i = 0; i < REASM_SLOTS; i++) {
		struct reasm *ra = &n->reasm[i];
		/* RFC 791 3.2: a datagram is identified by source, destination,
		 * protocol and identification. */
		if (ra->used && ra->src == rx->src && ra->dst == rx->dst &&
		    ra->proto == rx->proto && ra->id == id)
			return ra;
	}
	return NULL;
}

/* A slot for a new datagram: a free one, else the dead one closest to
 * its end, else the oldest live one (its datagram is lost: counted). */
static struct reasm *reasm_new(struct net *n, const struct ip4_rx *rx, uint16_t id, uint64_t now)
{
	struct reasm *ra = NULL;
	for (unsigned i = 0; i < REASM_SLOTS && !(ra && !ra->used); i++) {
		struct reasm *c = &n->reasm[i];
		if (!c->used || (c->dead && (!ra || c->deadline < ra->deadline)))
			ra = c;
	}
	if (!ra) {
		ra = reasm_oldest_live(n, NULL);
		NET_COUNT(n, ipv4, reasm_limit);
	}
	reasm_release(n, ra);
	ra->used = true;
	ra->src = rx->src;
	ra->dst = rx->dst;
	ra->proto = rx->proto;
	ra->id = id;
	ra->deadline = now + REASM_TIMEOUT_NS;
	reasm_arm(n);
	return ra;
}

static bool frag_same_bytes(const struct pkt *a, const struct pkt *b)
{
	struct rd ra = pkt_rd(a), rb = pkt_rd(b);
	return ra.len == rb.len && memcmp(rd_take(&ra, ra.len), rd_take(&rb, rb.len), ra.len) == 0;
}

static void reasm_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint16_t id,
			uint32_t off, bool mf, uint64_t now)
{
	NET_COUNT(n, ipv4, frag_rx);
	uint32_t len = p->len;
	uint32_t end = off + len;
	/* RFC 791 3.2: every fragment but the last carries a multiple of 8
	 * bytes; an empty fragment carries nothing worth a buffer. */
	if (len == 0 || (mf && len % 8)) {
		NET_COUNT(n, ipv4, frag_bad);
		goto drop;
	}
	struct reasm *ra = reasm_find(n, rx, id);
	if (ra && ra->dead) {
		NET_COUNT(n, ipv4, frag_dead_drop);
		goto drop;
	}
	/* RFC 791 3.1: a datagram is at most 65535 bytes, header included.
	 * Checked before taking a slot, so such fragments evict nothing. */
	if (end > IP4_MAX - IP4_HDR) {
		NET_COUNT(n, ipv4, frag_toobig);
		if (ra)
			goto kill;
		goto drop;
	}
	if (!ra)
		ra = reasm_new(n, rx, id, now);
	/* The last fragment fixes the length: nothing may end past it, and
	 * a second "last" must agree. */
	uint32_t held_end = 0;
	for (const struct pkt *f = ra->frags; f; f = f->more)
		held_end = f->frag_off + f->len;
	if ((!mf && ((ra->have_last && end != ra->total) || end < held_end)) ||
	    (mf && ra->have_last && end >= ra->total)) {
		NET_COUNT(n, ipv4, frag_overlap);
		goto kill;
	}

	struct pkt **link = &ra->frags;
	while (*link && (*link)->frag_off + (*link)->len <= off)
		link = &(*link)->more;
	struct pkt *next = *link;
	if (next && next->frag_off < end) {
		if (next->frag_off == off && next->len == len && frag_same_bytes(next, p)) {
			NET_COUNT(n, ipv4, frag_dup);
			pkt_free(&n->pkts, p);
			p = NULL;
			goto check;
		}
		NET_COUNT(n, ipv4, frag_overlap);
		goto kill;
	}

	/* The buffer budget: make room by dropping the oldest other
	 * datagrams; if this one alone fills it, it cannot complete. */
	while (n->reasm_bufs >= n->reasm_max_bufs) {
		struct reasm *old = reasm_oldest_live(n, ra);
		if (!old) {
			NET_COUNT(n, ipv4, reasm_limit);
			goto kill;
		}
		NET_COUNT(n, ipv4, reasm_limit);
		reasm_kill(n, old);
	}
	p->frag_off = off;
	p->next = NULL;
	p->more = next;
	*link = p;
	ra->have += len;
	ra->nbufs++;
	n->reasm_bufs++;
	if (rx->bcast)
		ra->bcast = true;
	if (off == 0) {
		ra->have_first = true;
		memcpy(ra->quote, rx->quote, rx->quote_len);
		ra->quote_len = (uint8_t)rx->quote_len;
	}
check:
	if (!mf) {
		ra->have_last = true;
		ra->total = end;
	}
	if (!ra->have_last || ra->have != ra->total)
		return;

	NET_COUNT(n, ipv4, reasm_ok);
	struct ip4_rx whole = *rx;
	memcpy(whole.quote, ra->quote, ra->quote_len);
	whole.quote_len = ra->quote_len;
	whole.bcast = ra->bcast;
	struct pkt *chain = ra->frags;
	n->reasm_bufs -= ra->nbufs;
	memset(ra, 0, sizeof *ra);
	reasm_arm(n);
	chain->dlen = (uint32_t)pkt_chain_len(chain);
	ip4_deliver(n, &whole, chain, now);
	return;
kill:
	reasm_kill(n, ra);
drop:
	pkt_free(&n->pkts, p);
}

void ip4_reasm_tick(struct net *n, uint64_t now)
{
	for (unsigned i = 0; i < REASM_SLOTS; i++) {
		struct reasm *ra = &n->reasm[i];
		if (!ra->used || ra->deadline > now)
			continue;
		if (!ra->dead) {
			NET_COUNT(n, ipv4, reasm_timeout);
			/* RFC 1122 3.3.2: time exceeded (code 1) to the source,
			 * if fragment zero came (it is what the error quotes). */
			if (ra->have_first) {
				struct ip4_rx rx = {.src = ra->src,
						    .dst = ra->dst,
						    .proto = ra->proto,
						    .bcast = ra->bcast,
						    .quote_len = ra->quote_len};
				memcpy(rx.quote, ra->quote, ra->quote_len);
				icmp_error(n, &rx, 11, 1, now);
			}
		}
		reasm_release(n, ra);
	}
	reasm_arm(n);
}

/* ---- Input ------------------------------------------------------------------- */

void ip4_input(struct net *n, struct pkt *p, bool link_bcast, uint64_t now)
{
	NET_COUNT(n, ipv4, rx);
	struct rd r = pkt_rd(p);
	const uint8_t *h = rd_take(&r, IP4_HDR);
	if (!h) {
		NET_COUNT(n, ipv4, truncated);
		goto drop;
	}
	if (h[0] >> 4 != 4) {
		NET_COUNT(n, ipv4, bad_version);
		goto drop;
	}
	size_t ihl = (size_t)(h[0] & 15) * 4;
	if (ihl < IP4_HDR) {
		NET_COUNT(n, ipv4, bad_ihl);
		goto drop;
	}
	if (ihl > p->len) {
		NET_COUNT(n, ipv4, truncated);
		goto drop;
	}
	size_t total = load_be16(h + 2);
	/* A frame over several buffers (a GRO'd TCP segment from a device
	 * with offloads) is a chain. */
	if (total < ihl || total > (p->more ? pkt_chain_len(p) : p->len)) {
		NET_COUNT(n, ipv4, bad_len);
		goto drop;
	}
	/* (ihl <= p->len: the whole header is in this buffer.) */
	if ((ihl == IP4_HDR ? csum_ip4_hdr(h) : csum_bytes(h, ihl)) != 0) {
		NET_COUNT(n, ipv4, bad_cksum);
		goto drop;
	}
	/* RFC 1122 3.2.1.8: options we do not know are ignored; none that a
	 * host must act on are implemented (see docs/net.md). */
	if (ihl > IP4_HDR)
		NET_COUNT(n, ipv4, options);

	struct ip4_rx rx;
	rx.src = load_be32(h + 12);
	rx.dst = load_be32(h + 16);
	rx.proto = h[9];
	uint16_t id = load_be16(h + 4);
	uint16_t frag = load_be16(h + 6);
	if (ip4_bad_src(n, rx.src)) {
		NET_COUNT(n, ipv4, bad_src);
		goto drop;
	}
	rx.bcast = rx.dst != n->addr;
	/* RFC 1122 3.3.6: a datagram that came as a link-layer broadcast
	 * must be addressed to an IP broadcast (we join no multicast group). */
	if ((rx.bcast && !ip4_is_bcast(n, rx.dst)) || (link_bcast && !rx.bcast)) {
		NET_COUNT(n, ipv4, not_for_us);
		goto drop;
	}
	rx.bcast = rx.bcast || link_bcast;
	/* The Ethernet minimum pads short datagrams: the total length rules. */
	pkt_chain_trim(&n->pkts, p, total);
	rx.quote_len = ihl + 8 < total ? ihl + 8 : total;
	if (!p->more && rx.quote_len <= p->len)
		memcpy(rx.quote, h, rx.quote_len); /* (a chain of one: the usual) */
	else
		rx.quote_len = pkt_chain_copy(p, 0, rx.quote, rx.quote_len);
	pkt_pull(p, ihl);
	uint32_t off = (uint32_t)(frag & IP4_OFFSET_MASK) * 8;
	bool mf = (frag & IP4_FLAG_MF) != 0;
	if (mf || off) {
		/* Fragments are plain frames: never chains, never partial
		 * checksums (those the host only makes whole). */
		p->flags &= (uint8_t)~PKT_F_CSUM_OK;
		if (p->more) {
			NET_COUNT(n, ipv4, frag_bad);
			goto drop;
		}
		reasm_input(n, &rx, p, id, off, mf, now);
		return;
	}
	p->dlen = (uint32_t)(total - ihl);
	ip4_deliver(n, &rx, p, now);
	return;
drop:
	pkt_free(&n->pkts, p);
}

/* ---- Output ------------------------------------------------------------------ */

/* Bytes [off, off+k) of the payload described by s to w. */
static void ip4_src_write(const struct ip4_src *s, size_t off, struct wr *w, size_t k)
{
	if (off == 0 && k == s->hdr_len + s->data_len && !s->data2_len && !s->chain_len) {
		/* The usual datagram: a header and a payload, whole. */
		wr_bytes(w, s->hdr, s->hdr_len);
		wr_bytes(w, s->data, s->data_len);
		return;
	}
	struct rd parts[3] = {rd_make(s->hdr, s->hdr_len), rd_make(s->data, s->data_len),
			      rd_make(s->data2, s->data2_len)};
	for (unsigned i = 0; i < 3 && k; i++) {
		if (off >= parts[i].len) {
			off -= parts[i].len;
			continue;
		}
		rd_skip(&parts[i], off);
		size_t c = rd_left(&parts[i]) < k ? rd_left(&parts[i]) : k;
		wr_bytes(w, rd_take(&parts[i], c), c);
		k -= c;
		off = 0;
	}
	if (k) {
		if (off + k > s->chain_len)
			w->err = true;
		else
			pkt_chain_write(s->chain, s->chain_off + off, w, k);
	}
}

/* The payload bytes [off, off+len) of src after the first buffer's part:
 * buffers of data from their start, more-linked behind p.  They were
 * counted free before. */
static void ip4_chain_rest(struct net *n, struct pkt *p, const struct ip4_src *src, size_t off,
			   size_t len)
{
	while (off < len) {
		struct pkt *q = pkt_alloc(&n->pkts);
		ASSERT(q);
		q->off = 0; /* no headers go in front of these */
		struct wr w = pkt_wr(q);
		size_t k = len - off < wr_room(&w) ? len - off : wr_room(&w);
		ip4_src_write(src, off, &w, k);
		ASSERT(wr_ok(&w));
		q->len = (uint16_t)w.pos;
		p->more = q;
		p = q;
		off += k;
	}
}

/* The virtio-net header of a frame whose checksum (and, for a payload
 * beyond one segment, segmentation) is left to the device, put in the
 * headroom for net_xmit: the checksum from the payload on, the TCP
 * header copied in front of each gso_size bytes (virtio 1.x 5.1.6.2). */
static void ip4_vnet_mark(struct net *n, struct pkt *p, const struct ip4_src *src, size_t len)
{
	struct vnet_hdr vh = {
	    .flags = VNET_F_NEEDS_CSUM,
	    .csum_start = ETH_HDR_LEN + IP4_HDR,
	    .csum_offset = src->csum_offset,
	};
	if (src->gso_size && len > src->hdr_len + src->gso_size) {
		vh.gso_type = VNET_GSO_TCPV4;
		vh.gso_size = src->gso_size;
		vh.hdr_len = (uint16_t)(ETH_HDR_LEN + IP4_HDR + src->hdr_len);
		NET_COUNT(n, eth, tx_gso);
	}
	uint8_t *b = pkt_push(p, n->vnet_len);
	ASSERT(b); /* a fresh buffer has PKT_HEADROOM */
	vnet_hdr_put(b, n->vnet_len, &vh);
	pkt_pull(p, n->vnet_len);
	p->flags |= PKT_F_VNET;
}

int ip4_output(struct net *n, uint32_t dst, uint8_t proto, const struct ip4_src *src, uint64_t now)
{
	size_t len = src->hdr_len + src->data_len + src->data2_len + src->chain_len;
	/* Offloads apply only where the device has them. */
	bool partial = src->csum_offset && n->vnet_len;
	bool super = partial && src->gso_size && n->tso_max && len > (size_t)n->mtu - IP4_HDR;
	ASSERT(!(src->csum_offset || src->gso_size) || partial); /* callers ask n */
	if (len > IP4_MAX - IP4_HDR) {
		NET_COUNT(n, ipv4, tx_toobig);
		return ATL_EMSGSIZE;
	}
	if (dst == 0)
		return ATL_EINVAL;
	uint8_t mac[6];
	uint32_t hop = dst;
	bool bcast = ip4_is_bcast(n, dst);
	if (bcast) {
		memcpy(mac, net_bcast_mac, 6);
	} else if (dst >> 28 >= 0xe || dst >> 24 == 127 || dst == n->addr) {
		/* No multicast, no loopback: see docs/net.md. */
		NET_COUNT(n, ipv4, tx_no_route);
		return ATL_EHOSTUNREACH;
	} else if ((dst & n->mask) != (n->addr & n->mask)) {
		if (!n->gw) {
			NET_COUNT(n, ipv4, tx_no_route);
			return ATL_EHOSTUNREACH;
		}
		hop = n->gw;
	}

	/* RFC 791 2.3: fragments carry multiples of 8 bytes but the last. */
	size_t room = (size_t)n->mtu - IP4_HDR;
	size_t step = room & ~(size_t)7;
	unsigned nfrags = len <= room ? 1 : (unsigned)((len + step - 1) / step);
	if (len <= room || super)
		step = len;
	if (super)
		nfrags = 1;
	if (src->df && nfrags > 1) {
		NET_COUNT(n, ipv4, tx_df_toobig);
		return ATL_EMSGSIZE;
	}
	/* A super-frame: its first buffer after the headers, then whole ones. */
	size_t first = PKT_CAP - PKT_HEADROOM - ETH_HDR_LEN - IP4_HDR;
	unsigned nbufs =
	    !super || len <= first ? nfrags : 1 + (unsigned)((len - first + PKT_CAP - 1) / PKT_CAP);
	if (partial && !super && len > room)
		return ATL_EMSGSIZE; /* a partial checksum cannot be fragmented */

	struct arp_entry *wait = NULL;
	if (!bcast) {
		int rc = arp_resolve(n, hop, now, mac, nfrags, &wait);
		if (rc == ATL_EHOSTUNREACH)
			NET_COUNT(n, ipv4, tx_no_route);
		if (rc != ATL_OK && rc != ATL_EAGAIN)
			return rc;
		if (rc == ATL_OK)
			wait = NULL;
	}
	/* All fragments or none: a partial datagram is of no use to anyone.
	 * Buffers waiting in the receive ring are free ones. */
	if (pkt_pool_free(&n->pkts) < nbufs)
		net_rx_release(n);
	if (pkt_pool_free(&n->pkts) < nbufs) {
		NET_COUNT(n, pkt, tx_nobuf_drop);
		return ATL_ENOMEM;
	}

	/* RFC 791 3.2 / RFC 6864: a fresh identification per datagram. */
	uint16_t id = n->ip_id++;
	struct pkt *head = NULL, *tail = NULL;
	size_t off = 0;
	for (unsigned i = 0; i < nfrags; i++) {
		size_t k = len - off < step ? len - off : step;
		bool more = i + 1 < nfrags;
		struct pkt *p = pkt_alloc(&n->pkts);
		ASSERT(p); /* counted above */
		struct wr w;
		net_eth_begin(n, p, &w, wait ? zero_mac : mac, ETHERTYPE_IPV4);
		uint8_t *h = wr_take(&w, IP4_HDR);
		ASSERT(h);
		h[0] = 0x45;
		h[1] = 0;
		store_be16(h + 2, (uint16_t)(IP4_HDR + k));
		store_be16(h + 4, id);
		store_be16(h + 6, (uint16_t)((more ? IP4_FLAG_MF : 0) |
					     (src->df ? IP4_FLAG_DF : 0) | off / 8));
		h[8] = IP4_TTL;
		h[9] = proto;
		store_be16(h + 10, 0);
		store_be32(h + 12, n->addr);
		store_be32(h + 16, dst);
		store_be16(h + 10, csum_ip4_hdr(h));
		size_t here = wr_room(&w) < k ? wr_room(&w) : k;
		ip4_src_write(src, off, &w, here);
		net_eth_end(p, &w);
		if (here < k)
			ip4_chain_rest(n, p, src, off + here, off + k);
		if (partial)
			ip4_vnet_mark(n, p, src, len);
		if (tail)
			tail->next = p;
		else
			head = p;
		tail = p;
		off += k;
	}
	NET_COUNT(n, ipv4, tx);
	if (nfrags > 1)
		NET_COUNT_N(n, ipv4, tx_frags, nfrags);
	if (wait) {
		arp_enqueue(n, wait, head, nfrags);
	} else {
		net_xmit(n, head);
	}
	return ATL_OK;
}
