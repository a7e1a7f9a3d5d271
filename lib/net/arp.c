/*
 * arp.c - the Address Resolution Protocol (RFC 826) for IPv4 over
 * Ethernet, with the host requirements of RFC 1122 2.3.2.
 *
 * The cache is a small array scanned linearly (ARP_CACHE_SIZE entries):
 * lookups happen once per datagram sent, and a scan of 64 entries costs
 * less than the hashing would.  An entry is
 *   INCOMPLETE  a request is out; frames wait on it (bounded)
 *   REACHABLE   learned; expires ARP_REACHABLE_NS after it was learned
 *   FAILED      ARP_TRIES requests went unanswered; sends get
 *               ATL_EHOSTUNREACH until the hold ends, which keeps an app
 *               that insists from flooding the link with requests
 * One timer, armed at the earliest deadline of all entries, drives
 * expiry, retries and the end of holds.
 */
#include "net/net.h"

#include <string.h>

#include "core/err.h"
#include "core/log.h"

#define ARP_HTYPE_ETHERNET 1
#define ARP_PTYPE_IPV4	   0x0800
#define ARP_OP_REQUEST	   1
#define ARP_OP_REPLY	   2
#define ETHERTYPE_ARP	   0x0806

static const uint8_t zero_mac[6];

int arp_init(struct net *n)
{
	n->arp = heap_alloc(n->loop->heap, sizeof(struct arp_entry) * ARP_CACHE_SIZE, 16);
	return n->arp ? ATL_OK : ATL_ENOMEM;
}

static void arp_send(struct net *n, uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6],
		     uint32_t tpa)
{
	if (pkt_pool_free(&n->pkts) == 0)
		net_rx_release(n);
	struct pkt *p = pkt_alloc(&n->pkts);
	if (!p) {
		NET_COUNT(n, pkt, tx_nobuf_drop);
		return;
	}
	struct wr w;
	net_eth_begin(n, p, &w, eth_dst, ETHERTYPE_ARP);
	wr_be16(&w, ARP_HTYPE_ETHERNET);
	wr_be16(&w, ARP_PTYPE_IPV4);
	wr_u8(&w, 6);
	wr_u8(&w, 4);
	wr_be16(&w, op);
	wr_bytes(&w, n->mac, 6);
	wr_be32(&w, n->addr);
	wr_bytes(&w, tha, 6);
	wr_be32(&w, tpa);
	net_eth_end(p, &w);
	if (op == ARP_OP_REQUEST)
		NET_COUNT(n, arp, requests_tx);
	else
		NET_COUNT(n, arp, replies_tx);
	net_xmit(n, p);
}

/* RFC 826: the target hardware address of a request is what we ask for;
 * it goes out as zeros.  A refresh goes unicast to the known address
 * (RFC 1122 2.3.2.1, "unicast poll"). */
static void arp_request(struct net *n, uint32_t ip, const uint8_t *unicast)
{
	arp_send(n, ARP_OP_REQUEST, unicast ? unicast : net_bcast_mac, zero_mac, ip);
}

/* RFC 5227 2.3: an ARP Announcement is a request with our address as both
 * sender and target; it refreshes every neighbour's stale entry for us. */
void arp_announce(struct net *n)
{
	arp_request(n, n->addr, NULL);
}

static void arp_arm(struct net *n)
{
	uint64_t next = DEADLINE_NEVER;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (n->arp[i].state != ARP_FREE && n->arp[i].deadline < next)
			next = n->arp[i].deadline;
	if (next == DEADLINE_NEVER)
		timer_cancel(n->loop, &n->arp_timer);
	else if (!n->arp_timer.armed || n->arp_timer.deadline != next)
		timer_arm(n->loop, &n->arp_timer, next);
}

static struct arp_entry *arp_find(struct net *n, uint32_t ip)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (n->arp[i].state != ARP_FREE && n->arp[i].ip == ip)
			return &n->arp[i];
	return NULL;
}

/* Drop the frames waiting on e; returns how many there were. */
static unsigned arp_drop_queue(struct net *n, struct arp_entry *e)
{
	unsigned dropped = e->q_len;
	pkt_free_list(&n->pkts, e->q_head);
	n->arp_queued -= e->q_len;
	e->q_head = e->q_tail = NULL;
	e->q_len = 0;
	return dropped;
}

static void arp_entry_free(struct net *n, struct arp_entry *e)
{
	arp_drop_queue(n, e);
	memset(e, 0, sizeof *e);
}

/* A free entry for ip, evicting one if the cache is full: first the
 * learned or failed entry closest to its end, else the incomplete one
 * asked about longest ago (its queued frames are dropped and counted). */
static struct arp_entry *arp_new(struct net *n, uint32_t ip)
{
	struct arp_entry *victim = NULL;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &n->arp[i];
		if (e->state == ARP_FREE) {
			victim = e;
			break;
		}
		if (!victim || (victim->state == ARP_INCOMPLETE && e->state != ARP_INCOMPLETE) ||
		    ((victim->state == ARP_INCOMPLETE) == (e->state == ARP_INCOMPLETE) &&
		     e->deadline < victim->deadline))
			victim = e;
	}
	if (victim->state != ARP_FREE) {
		NET_COUNT(n, arp, evicted);
		NET_COUNT_N(n, arp, evict_drop, arp_drop_queue(n, victim));
	}
	arp_entry_free(n, victim);
	victim->ip = ip;
	return victim;
}

/* e now maps to mac: send whatever waited for it. */
static void arp_set_reachable(struct net *n, struct arp_entry *e, const uint8_t mac[6],
			      uint64_t now)
{
	memcpy(e->mac, mac, 6);
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->deadline = now + ARP_REACHABLE_NS;
	e->next_req = now;
	struct pkt *frames = e->q_head;
	n->arp_queued -= e->q_len;
	e->q_head = e->q_tail = NULL;
	e->q_len = 0;
	for (struct pkt *p = frames; p; p = p->next) {
		/* The destination MAC is the frame's first field. */
		struct wr w = pkt_wr(p);
		wr_bytes(&w, mac, 6);
	}
	if (frames)
		net_xmit(n, frames);
}

int arp_resolve(struct net *n, uint32_t ip, uint64_t now, uint8_t mac[6], unsigned nframes,
		struct arp_entry **ep)
{
	struct arp_entry *e = arp_find(n, ip);
	if (e && e->state == ARP_REACHABLE) {
		memcpy(mac, e->mac, 6);
		/* RFC 1122 2.3.2.1: revalidate an entry in use before it goes
		 * stale, so traffic never stalls on a fresh resolution. */
		if (e->deadline <= now + ARP_REFRESH_NS && now >= e->next_req) {
			e->next_req = now + ARP_RETRY_NS;
			arp_request(n, ip, e->mac);
		}
		return ATL_OK;
	}
	if (e && e->state == ARP_FAILED)
		return ATL_EHOSTUNREACH;
	if (!e) {
		e = arp_new(n, ip);
		e->state = ARP_INCOMPLETE;
		e->tries = 1;
		e->deadline = now + ARP_RETRY_NS;
		arp_request(n, ip, NULL);
		arp_arm(n);
	}
	/* RFC 1122 2.3.2.2: queue at least one packet while resolving; we
	 * queue up to a bound and refuse whole datagrams beyond it. */
	if (e->q_len + nframes > ARP_QUEUE_MAX || n->arp_queued + nframes > ARP_QUEUE_TOTAL) {
		NET_COUNT_N(n, arp, queue_drop, nframes);
		return ATL_ENOMEM;
	}
	*ep = e;
	return ATL_EAGAIN;
}

void arp_enqueue(struct net *n, struct arp_entry *e, struct pkt *frames, unsigned nframes)
{
	if (e->q_tail)
		e->q_tail->next = frames;
	else
		e->q_head = frames;
	while (frames->next)
		frames = frames->next;
	e->q_tail = frames;
	e->q_len += nframes;
	n->arp_queued += nframes;
	NET_COUNT_N(n, arp, queued, nframes);
}

void arp_input(struct net *n, struct pkt *p, uint64_t now)
{
	struct rd r = pkt_rd(p);
	uint16_t htype = rd_be16(&r);
	uint16_t ptype = rd_be16(&r);
	uint8_t hlen = rd_u8(&r);
	uint8_t plen = rd_u8(&r);
	uint16_t op = rd_be16(&r);
	uint8_t sha[6], tha[6];
	rd_copy(&r, sha, 6);
	uint32_t spa = rd_be32(&r);
	rd_copy(&r, tha, 6);
	uint32_t tpa = rd_be32(&r);
	pkt_free(&n->pkts, p);

	NET_COUNT(n, arp, rx);
	if (!rd_ok(&r)) {
		NET_COUNT(n, arp, truncated);
		return;
	}
	if (htype != ARP_HTYPE_ETHERNET || ptype != ARP_PTYPE_IPV4 || hlen != 6 || plen != 4 ||
	    (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
		NET_COUNT(n, arp, bad_format);
		return;
	}
	/* A group address cannot own an IP address; our own MAC from
	 * elsewhere is a loop or a spoof, and learning it would send our
	 * frames to ourselves. */
	if ((sha[0] & 1) || (memcmp(sha, n->mac, 6) == 0 && spa != n->addr)) {
		NET_COUNT(n, arp, bad_sender);
		return;
	}
	if (spa == n->addr) {
		if (memcmp(sha, n->mac, 6) != 0) {
			/* RFC 5227 2.4: someone else uses our address.  We keep
			 * it (static configuration) and say so once. */
			if (n->cnt_arp[C_arp_conflict]++ == 0) {
				char a[16];
				LOG_WARN(n->loop,
					 "%s: %s is also claimed by %02x:%02x:%02x:%02x:%02x:%02x",
					 n->dev, ip4_fmt(spa, a), sha[0], sha[1], sha[2], sha[3],
					 sha[4], sha[5]);
			}
		}
		return;
	}
	if (op == ARP_OP_REQUEST)
		NET_COUNT(n, arp, requests_rx);
	else
		NET_COUNT(n, arp, replies_rx);

	/* Only on-link unicast senders are worth a cache entry; a sender of
	 * 0.0.0.0 is an RFC 5227 probe and teaches nothing. */
	bool sender_ok = spa != 0 && (spa & n->mask) == (n->addr & n->mask) &&
			 !ip4_is_bcast(n, spa) && spa >> 28 != 0xe;
	if (!sender_ok && spa != 0)
		NET_COUNT(n, arp, bad_sender);

	/* RFC 826 "Packet Reception": update the sender if known (merge),
	 * then, if we are the target, add it if it was not, and answer. */
	bool merge = false;
	struct arp_entry *e = sender_ok ? arp_find(n, spa) : NULL;
	if (e) {
		merge = true;
		if (e->state == ARP_INCOMPLETE)
			NET_COUNT(n, arp, resolved);
		else
			NET_COUNT(n, arp, updated);
		arp_set_reachable(n, e, sha, now);
	}
	if (tpa == n->addr) {
		if (!merge && sender_ok) {
			e = arp_new(n, spa);
			NET_COUNT(n, arp, learned);
			arp_set_reachable(n, e, sha, now);
		}
		if (op == ARP_OP_REQUEST)
			arp_send(n, ARP_OP_REPLY, sha, sha, spa);
	} else if (!merge) {
		NET_COUNT(n, arp, ignored);
	}
	arp_arm(n);
}

void arp_tick(struct net *n, uint64_t now)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &n->arp[i];
		if (e->state == ARP_FREE || e->deadline > now)
			continue;
		switch (e->state) {
		case ARP_REACHABLE:
			NET_COUNT(n, arp, expired);
			arp_entry_free(n, e);
			break;
		case ARP_INCOMPLETE:
			if (e->tries < ARP_TRIES) {
				e->tries++;
				e->deadline = now + ARP_RETRY_NS;
				arp_request(n, e->ip, NULL);
				break;
			}
			NET_COUNT(n, arp, giveup);
			NET_COUNT_N(n, arp, giveup_drop, arp_drop_queue(n, e));
			e->state = ARP_FAILED;
			e->deadline = now + ARP_FAILED_HOLD_NS;
			break;
		default:
			arp_entry_free(n, e);
			break;
		}
	}
	arp_arm(n);
}
