/*
 * tcp.c - the TCP protocol core (RFC 9293): segment arrival, output,
 * timers.  See tcp.h for the shape and the memory bounds; tcp_api.c holds
 * the stack_ops applications call.
 *
 * Implemented here: the RFC 9293 state machine with simultaneous open and
 * close and half-close; MSS (RFC 9293 3.7.1, RFC 6691), window scaling and
 * timestamps with PAWS (RFC 7323); RFC 5961 checks of RST, SYN and ACK;
 * RFC 6528 initial sequence numbers; the RFC 6298 retransmission timer
 * with Karn's rule; slow start, congestion avoidance, fast retransmit and
 * NewReno recovery (RFC 5681, RFC 6582) with Limited Transmit (RFC
 * 3042); with SACK, RFC 6675 recovery and loss probes (after RFC 8985);
 * delayed ACKs; Nagle (RFC 896, RFC 9293 3.7.4) with a switch; sender
 * and receiver silly window avoidance; zero-window probing; keep-alive; a
 * bounded TIME-WAIT; SYN cookies (RFC 4987 3.6) when a backlog or the
 * pool is full; path MTU discovery (RFC 1191, RFC 5927); CUBIC (RFC 9438)
 * with HyStart++ (RFC 9406).
 */
#include <string.h>

#include "bearssl/bearssl_hash.h"
#include "core/err.h"
#include "net/cksum.h"
#include "net/net.h"

#define TCP_HDR	     20
#define TCP_OPT_MAX  40
#define IP_PROTO_TCP 6

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define OPT_EOL	   0
#define OPT_NOP	   1
#define OPT_MSS	   2
#define OPT_WS	   3
#define OPT_SACKOK 4
#define OPT_SACK   5
#define OPT_TS	   8

#define TCP_WSCALE_MAX 14 /* RFC 7323 2.3 */

/* A parsed segment. */
struct seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t wnd; /* as received, unscaled */
	uint32_t len; /* payload bytes */
	size_t off;   /* payload offset in the chain */
	bool has_mss, has_ws, has_ts, has_sackok;
	unsigned nsack;
	uint32_t sack[4][2];
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
};

#define T(n)		      ((n)->tcp)
#define TCP_COUNT(n, name)    ((n)->tcp->cnt[C_tcp_##name]++)
#define TCP_COUNT_N(n, nm, k) ((n)->tcp->cnt[C_tcp_##nm] += (k))

static void tcp_arm(struct tcp_conn *c);
static void tcp_output(struct tcp_conn *c, uint64_t now);
static void tcp_input_conn(struct tcp_conn *c, const struct seg *s, struct pkt *p, uint64_t now);
static bool tcp_sack_recovery(const struct tcp_conn *c);
static void tcp_sack_rexmt_lost(struct tcp_conn *c, uint64_t now);
static void tcp_sack_rexmt_rest(struct tcp_conn *c, uint64_t now);

/* ---- Rings ------------------------------------------------------------------ */

static void ring_write_at(struct tcp_ring *r, uint32_t idx, const struct pkt *p, size_t off,
			  uint32_t n)
{
	idx %= r->cap;
	uint32_t first = r->cap - idx < n ? r->cap - idx : n;
	pkt_chain_copy(p, off, r->buf + idx, first);
	if (n > first)
		pkt_chain_copy(p, off + first, r->buf, n - first);
}

static void ring_read_at(const struct tcp_ring *r, uint32_t idx, uint8_t *dst, uint32_t n)
{
	idx %= r->cap;
	uint32_t first = r->cap - idx < n ? r->cap - idx : n;
	memcpy(dst, r->buf + idx, first);
	if (n > first)
		memcpy(dst + first, r->buf, n - first);
}

static void ring_drop(struct tcp_ring *r, uint32_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

/* ---- Sequence numbers ---------------------------------------------------------- */

uint32_t tcp_isn(const struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now)
{
	/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4 microsecond timer, F SHA-256 over the tuple and
	 * the key (the RFC suggests MD5; any PRF will do). */
	uint8_t in[12 + sizeof t->isn_key], out[32];
	struct wr w = wr_make(in, sizeof in);
	wr_be32(&w, laddr);
	wr_be16(&w, lport);
	wr_be32(&w, raddr);
	wr_be16(&w, rport);
	wr_bytes(&w, t->isn_key, sizeof t->isn_key);
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, in, w.pos);
	br_sha256_out(&h, out);
	struct rd r = rd_make(out, 4);
	return rd_be32(&r) + (uint32_t)(now / 4000);
}

/* ---- Output ---------------------------------------------------------------------- */

static uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now)
{
	/* RFC 7323 5.4: a 1 ms clock, offset per connection. */
	return (uint32_t)(now / NS_PER_MS) + c->ts_offset;
}

/* The window to advertise, in bytes, never moving the right edge back
 * (RFC 9293 3.8.6.2.2: no shrinking) and avoiding silly windows: the edge
 * only moves on by at least min(buffer/2, MSS). */
static uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t space = c->rcv.cap - c->rcv.len;
	uint32_t cur = tcp_seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = c->rcv.cap / 2 < c->rcv_mss ? c->rcv.cap / 2 : c->rcv_mss;
	if (space <= cur || space - cur < step)
		return cur;
	return space;
}

/* RFC 2018 4: SACK blocks for the out-of-order data we hold, the one
 * holding the most recently received segment first, as many as the
 * option space (3 beside timestamps, else 4) and the MTU leave room for.
 * A duplicate just received goes before them all, once (RFC 2883 4: a
 * D-SACK block); when it lies above RCV.NXT the block holding it is the
 * most recent one, so it comes second, as RFC 2883 asks. */
static void tcp_put_sack(struct tcp_conn *c, struct wr *w, uint32_t len)
{
	size_t used = w->pos + len + 20; /* + the IP header */
	size_t room = c->n->mtu > used ? c->n->mtu - used : 0;
	size_t opt_room = TCP_HDR + TCP_OPT_MAX - w->pos;
	if (opt_room < room)
		room = opt_room;
	unsigned max = room >= 4 ? (unsigned)((room - 4) / 8) : 0;
	unsigned nblocks = c->nooo + (c->dsack_due ? 1 : 0);
	if (max > nblocks)
		max = nblocks;
	if (max == 0)
		return;
	wr_u8(w, OPT_NOP);
	wr_u8(w, OPT_NOP);
	wr_u8(w, OPT_SACK);
	wr_u8(w, (uint8_t)(2 + 8 * max));
	unsigned k = 0;
	if (c->dsack_due) {
		wr_be32(w, c->dsack.start);
		wr_be32(w, c->dsack.end);
		c->dsack_due = false;
		TCP_COUNT(c->n, dsack_tx);
		k++;
	}
	if (k == max)
		return;
	unsigned first = 0;
	for (unsigned i = 0; i < c->nooo; i++)
		if (tcp_seq_le(c->ooo[i].start, c->ooo_recent) &&
		    tcp_seq_lt(c->ooo_recent, c->ooo[i].end))
			first = i;
	wr_be32(w, c->ooo[first].start);
	wr_be32(w, c->ooo[first].end);
	k++;
	for (unsigned i = 0; i < c->nooo && k < max; i++) {
		if (i == first)
			continue;
		wr_be32(w, c->ooo[i].start);
		wr_be32(w, c->ooo[i].end);
		k++;
	}
}

/* Merge range r into the sorted, disjoint list in[0..n) (touching ranges
 * join): the result in out, which has room for n + 1; its length. */
static unsigned tcp_range_merge(const struct tcp_range *in, unsigned n, struct tcp_range r,
				struct tcp_range *out)
{
	unsigned k = 0;
	bool placed = false;
	for (unsigned i = 0; i < n; i++) {
		struct tcp_range q = in[i];
		if (tcp_seq_lt(q.end, r.start)) {
			out[k++] = q;
		} else if (tcp_seq_lt(r.end, q.start)) {
			if (!placed) {
				out[k++] = r;
				placed = true;
			}
			out[k++] = q;
		} else {
			if (tcp_seq_lt(q.start, r.start))
				r.start = q.start;
			if (tcp_seq_lt(r.end, q.end))
				r.end = q.end;
		}
	}
	if (!placed)
		out[k++] = r;
	return k;
}

/* RFC 2883 4: remember data received twice, [start, end), for the next
 * ACK to report (the first such block since the last ACK: a later one
 * replaces it, as the latest tells the sender most). */
static void tcp_note_dup(struct tcp_conn *c, uint32_t start, uint32_t end)
{
	if (!c->sack_ok || !tcp_seq_lt(start, end))
		return;
	c->dsack = (struct tcp_range){start, end};
	c->dsack_due = true;
}

/* A device with offloads (net.h, docs/net.md) takes the segment's data
 * straight from the send ring, its checksum (the field holds the
 * pseudo-header sum, RFC 9293 3.1) and, with TSO, its cutting into
 * segments of at most one MSS each carrying the header hdr: a payload of
 * several MSS goes down as one super-segment. */
static void tcp_offload_src(const struct tcp_conn *c, struct ip4_src *src, uint8_t *hdr,
			    size_t hlen, uint32_t seq, uint32_t len)
{
	struct csum cs = csum_start();
	csum_add_pseudo(&cs, c->laddr, c->raddr, IP_PROTO_TCP, (uint16_t)(hlen + len));
	store_be16(hdr + 16, (uint16_t)~csum_fold(&cs));
	uint32_t idx = (c->snd.head + (seq - c->snd_buf_seq)) % (c->snd.cap ? c->snd.cap : 1);
	uint32_t first = len < c->snd.cap - idx ? len : c->snd.cap - idx;
	size_t seg_room = (size_t)c->n->mtu - 20 - hlen;
	*src = (struct ip4_src){.hdr = hdr,
				.hdr_len = hlen,
				.data = len ? c->snd.buf + idx : NULL,
				.data_len = len ? first : 0,
				.data2 = c->snd.buf,
				.data2_len = len - first,
				.csum_offset = 16,
				.gso_size = (uint16_t)(c->mss < seg_room ? c->mss : seg_room)};
}

/* The most payload one segment may carry: an MSS, or with TSO as many
 * whole MSS as fit a 64 KiB datagram. */
static uint32_t tcp_seg_max(const struct tcp_conn *c)
{
	uint32_t room = c->n->tso_max ? c->n->tso_max - 20 - TCP_HDR - TCP_OPT_MAX : 0;
	return room > c->mss ? room / c->mss * c->mss : c->mss;
}

/* Send one segment: flags, seq, and len bytes of the send ring starting at
 * sequence number seq (data only when len > 0).  Returns ip4_output's
 * result. */
static int tcp_send(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len, uint64_t now)
{
	struct net *n = c->n;
	uint8_t seg[TCP_HDR + TCP_OPT_MAX + NET_MTU_MAX];
	struct wr w = wr_make(seg, sizeof seg);
	uint32_t win = tcp_rcv_window(c);
	uint32_t wfield;
	if (flags & TH_SYN) {
		/* RFC 7323 2.2: the window in a SYN is never scaled. */
		wfield = win > 65535 ? 65535 : win;
		win = wfield;
	} else {
		/* Rounded down to the scale, even when that moves the edge
		 * back by less than a unit (RFC 7323 2.4 allows it; senders
		 * must take a shrunk window, RFC 1122 4.2.2.16).  Rounding up
		 * to keep the edge would offer bytes past the buffer, a few
		 * more with every ACK while the application does not read:
		 * the peer sends them, they are cut off, and it takes the
		 * hole for a loss. */
		wfield = win >> c->rcv_wscale;
		if (wfield > 65535)
			wfield = 65535;
		win = wfield << c->rcv_wscale;
	}
	uint32_t ack = (flags & TH_ACK) ? c->rcv_nxt : 0;
	wr_be16(&w, c->lport);
	wr_be16(&w, c->rport);
	wr_be32(&w, seq);
	wr_be32(&w, ack);
	size_t off_pos = w.pos;
	wr_be16(&w, 0); /* data offset and flags, below */
	wr_be16(&w, (uint16_t)wfield);
	wr_be16(&w, 0); /* checksum */
	wr_be16(&w, 0); /* urgent pointer */
	if (flags & TH_SYN) {
		/* RFC 9293 3.7.1: announce our MSS in the SYN. */
		wr_u8(&w, OPT_MSS);
		wr_u8(&w, 4);
		wr_be16(&w, c->rcv_mss);
		if (c->ws_ok || c->state == TCP_SYN_SENT) {
			wr_u8(&w, OPT_NOP);
			wr_u8(&w, OPT_WS);
			wr_u8(&w, 3);
			wr_u8(&w, c->rcv_wscale);
		}
	}
	if (c->ts_ok || ((flags & TH_SYN) && c->state == TCP_SYN_SENT)) {
		/* RFC 7323 Appendix A: NOP NOP TS keeps the layout aligned. */
		wr_u8(&w, OPT_NOP);
		wr_u8(&w, OPT_NOP);
		wr_u8(&w, OPT_TS);
		wr_u8(&w, 10);
		wr_be32(&w, tcp_ts_now(c, now));
		wr_be32(&w, c->ts_recent);
	}
	if ((flags & TH_SYN) && (c->sack_ok || c->state == TCP_SYN_SENT)) {
		/* RFC 2018 2: we can send SACK blocks (as a receiver). */
		wr_u8(&w, OPT_NOP);
		wr_u8(&w, OPT_NOP);
		wr_u8(&w, OPT_SACKOK);
		wr_u8(&w, 2);
	}
	if (c->sack_ok && (flags & TH_ACK) && !(flags & TH_SYN) && (c->nooo > 0 || c->dsack_due))
		tcp_put_sack(c, &w, len);
	size_t hlen = w.pos;
	if (len && !(flags & TH_FIN))
		flags |= TH_PSH;
	struct ip4_src src;
	if (n->vnet_len) {
		wr_be16_at(&w, off_pos, (uint16_t)((hlen / 4) << 12 | flags));
		tcp_offload_src(c, &src, seg, hlen, seq, len);
	} else {
		uint8_t *data = wr_take(&w, len);
		ASSERT(wr_ok(&w));
		if (len)
			ring_read_at(&c->snd, c->snd.head + (seq - c->snd_buf_seq), data, len);
		wr_be16_at(&w, off_pos, (uint16_t)((hlen / 4) << 12 | flags));
		struct csum cs = csum_start();
		csum_add_pseudo(&cs, c->laddr, c->raddr, IP_PROTO_TCP, (uint16_t)w.pos);
		csum_add(&cs, seg, w.pos);
		wr_be16_at(&w, 16, csum_fold(&cs));
		src = (struct ip4_src){.hdr = seg, .hdr_len = w.pos};
	}
	/* RFC 1191: DF on every segment, so the path tells us its MTU. */
	src.df = true;
	int rc = ip4_output(n, c->raddr, IP_PROTO_TCP, &src, now);
	if (rc != ATL_OK) {
		TCP_COUNT(n, tx_fail);
		return rc;
	}
	TCP_COUNT(n, tx);
	if (flags & TH_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->ack_now = false;
		c->segs_unacked = 0;
		c->t_delack = DEADLINE_NEVER;
		if (tcp_seq_lt(c->rcv_adv, c->rcv_nxt + win))
			c->rcv_adv = c->rcv_nxt + win;
	}
	return rc;
}

/* A RST or RST+ACK not tied to a connection (RFC 9293 3.10.7.1). */
static void tcp_send_rst(struct net *n, const struct seg *s, uint64_t now)
{
	uint8_t h[TCP_HDR];
	struct wr w = wr_make(h, sizeof h);
	uint32_t seq = 0, ack = 0;
	uint16_t flags = TH_RST;
	if (s->flags & TH_ACK) {
		seq = s->ack;
	} else {
		ack =
		    s->seq + s->len + ((s->flags & TH_SYN) ? 1 : 0) + ((s->flags & TH_FIN) ? 1 : 0);
		flags |= TH_ACK;
	}
	wr_be16(&w, s->dport);
	wr_be16(&w, s->sport);
	wr_be32(&w, seq);
	wr_be32(&w, ack);
	wr_be16(&w, (uint16_t)(5 << 12 | flags));
	wr_be16(&w, 0);
	wr_be16(&w, 0);
	wr_be16(&w, 0);
	struct csum cs = csum_start();
	csum_add_pseudo(&cs, s->dst, s->src, IP_PROTO_TCP, TCP_HDR);
	csum_add(&cs, h, sizeof h);
	wr_be16_at(&w, 16, csum_fold(&cs));
	struct ip4_src src = {.hdr = h, .hdr_len = sizeof h};
	if (ip4_output(n, s->src, IP_PROTO_TCP, &src, now) == ATL_OK)
		TCP_COUNT(n, rst_tx);
}

static void tcp_send_ack(struct tcp_conn *c, uint64_t now)
{
	tcp_send(c, c->snd_nxt, TH_ACK, 0, now);
}

static uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

static void tcp_rtt_start(struct tcp_conn *c, uint32_t seq, uint64_t now)
{
	if (!c->rtt_timing) {
		c->rtt_timing = true;
		c->rtt_seq = seq;
		c->rtt_start = now;
	}
}

/* Bytes of data in the ring not yet sent once, and whether a FIN is due. */
static uint32_t tcp_unsent(const struct tcp_conn *c)
{
	uint32_t sent = c->snd_nxt - c->snd_buf_seq;
	return sent >= c->snd.len ? 0 : c->snd.len - sent;
}

static bool tcp_can_send_data(const struct tcp_conn *c)
{
	return c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
	       c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING || c->state == TCP_LAST_ACK;
}

/* The loss probe timer (after RFC 8985 7.2, which has it outside
 * recovery, where RACK's timer covers the rest; atoll has no RACK, so
 * the probe also runs in recovery): with SACK and data in flight, more
 * than one segment of it, and no probe out since the last ACK of new
 * data, a probe is due max(2 SRTT, 10 ms) after the last segment
 * received.  It catches a lost tail, a lost retransmission, and a peer
 * that holds back its SACKs (Linux compresses them behind a timer), each
 * of which would otherwise cost a retransmission timeout (200 ms at
 * least) and cwnd down to one segment. */
static void tcp_probe_arm(struct tcp_conn *c)
{
	c->t_probe = DEADLINE_NEVER;
	if (!c->sack_ok || c->probed || c->srtt == 0 || !tcp_can_send_data(c) ||
	    c->t_rexmt == DEADLINE_NEVER || c->snd_max - c->snd_una <= c->mss || c->rto_recovery)
		return;
	uint64_t pto = 2 * c->srtt;
	if (pto < TCP_PTO_MIN_NS)
		pto = TCP_PTO_MIN_NS;
	uint64_t at = c->last_rx + pto;
	if (at < c->t_rexmt)
		c->t_probe = at;
}

/* Send what the windows allow (RFC 5681 and RFC 9293 3.8.6.2.1), then an
 * ACK if one is owed and none went with data. */
static void tcp_output(struct tcp_conn *c, uint64_t now)
{
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		if (tcp_seq_lt(c->snd_nxt, c->iss + 1)) {
			uint8_t fl = c->state == TCP_SYN_SENT ? TH_SYN : (TH_SYN | TH_ACK);
			/* A failed send is retried by the timer like a loss. */
			tcp_send(c, c->iss, fl, 0, now);
			c->snd_nxt = c->iss + 1;
			if (tcp_seq_lt(c->snd_max, c->snd_nxt))
				c->snd_max = c->snd_nxt;
			if (c->t_rexmt == DEADLINE_NEVER)
				c->t_rexmt = now + c->rto;
			tcp_rtt_start(c, c->iss, now);
		} else if (c->ack_now && c->state == TCP_SYN_RCVD) {
			tcp_send(c, c->snd_nxt, TH_ACK, 0, now);
		}
		tcp_arm(c);
		return;
	}
	bool sent_any = false;
	bool sack_rec = tcp_sack_recovery(c) && tcp_can_send_data(c);
	/* RFC 6675 5 (C), NextSeg rule 1: lost holes before new data. */
	if (sack_rec)
		tcp_sack_rexmt_lost(c, now);
	while (tcp_can_send_data(c)) {
		/* The peer's window is anchored where it was advertised
		 * (SND.WL2 + SND.WND, RFC 9293 3.8.6.2.1), not at SND.UNA:
		 * an ACK taken without its window must not stretch it. */
		uint32_t edge = c->snd_wl2 + c->snd_wnd;
		uint32_t flight = tcp_flight(c);
		uint32_t usable = tcp_seq_lt(c->snd_nxt, edge) ? edge - c->snd_nxt : 0;
		/* In SACK recovery the congestion window bounds the pipe.
		 * Before recovery, RFC 3042 (Limited Transmit): the first and
		 * second duplicate ACK each let one new segment go beyond
		 * cwnd, so that a small window still brings the three
		 * duplicates (or the SACKs) that start fast recovery instead of
		 * waiting out the retransmission timer. */
		uint32_t used = sack_rec ? tcp_pipe(c) : flight;
		uint32_t allowed = c->cwnd;
		if (!c->in_recovery && c->dupacks > 0)
			allowed += (c->dupacks < 2 ? c->dupacks : 2) * (uint32_t)c->mss;
		uint32_t cw = allowed > used ? allowed - used : 0;
		if (cw < usable)
			usable = cw;
		uint32_t unsent = tcp_unsent(c);
		uint32_t len = unsent < usable ? unsent : usable;
		/* With TSO, whole MSS only: the tail goes as it would alone. */
		if (len > tcp_seg_max(c))
			len = tcp_seg_max(c);
		if (len > c->mss)
			len -= len % c->mss;
		bool fin_due = c->fin_queued && len == unsent &&
			       tcp_seq_le(c->snd_nxt, c->snd_buf_seq + c->snd.len) &&
			       c->state != TCP_FIN_WAIT_2 && c->state != TCP_TIME_WAIT;
		if (fin_due && c->snd_nxt == c->snd_buf_seq + c->snd.len + 1)
			fin_due = false; /* FIN already sent */
		if (len == 0 && !fin_due)
			break;
		if (len > 0 && len < c->mss && !fin_due) {
			/* RFC 9293 3.7.4 (Nagle): a short segment waits while
			 * data is unacknowledged; 3.8.6.2.1 (SWS): it waits for
			 * a window of at least half the largest one seen. */
			if (!c->nodelay && flight > 0)
				break;
			if (len < unsent && len < c->max_snd_wnd / 2 && flight > 0)
				break; /* (with nothing in flight, no ACK would
					* come to end the wait: the override
					* timeout of 3.8.6.2.1 is zero) */
		}
		/* TSO (after Linux's tcp_tso_should_defer): with several
		 * times as much in flight, ACKs are coming; a short segment
		 * waits for them, so that data goes as a few large super-
		 * segments rather than one of two or three MSS per ACK (each
		 * a system call on TAP). */
		if (c->n->tso_max && len < tcp_seg_max(c) && flight >= 8u * c->mss &&
		    len < flight / 4 && !c->in_recovery && !fin_due)
			break;
		uint8_t fl = TH_ACK | (fin_due ? TH_FIN : 0);
		bool rexmt = tcp_seq_lt(c->snd_nxt, c->snd_max);
		/* A segment the layers below could not send (no buffer, ARP
		 * given up) counts as sent and lost: the retransmission timer
		 * tries again, so the connection never waits on nothing. */
		int rc = tcp_send(c, c->snd_nxt, fl, len, now);
		sent_any = rc == ATL_OK;
		if (!rexmt)
			tcp_rtt_start(c, c->snd_nxt, now);
		else
			TCP_COUNT(c->n, rexmt_segs);
		c->snd_nxt += len + (fin_due ? 1 : 0);
		if (tcp_seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		if (c->t_rexmt == DEADLINE_NEVER)
			c->t_rexmt = now + c->rto;
		if (fin_due || rc != ATL_OK)
			break;
	}
	/* NextSeg rules 3 and 4, when no new data could go. */
	if (sack_rec && c->in_recovery)
		tcp_sack_rexmt_rest(c, now);
	/* RFC 9293 3.8.6.1: data waits behind a closed window (zero, or
	 * used up) with nothing in flight to bring an update: probe it. */
	if (tcp_can_send_data(c) && tcp_unsent(c) > 0 && c->snd_una == c->snd_max &&
	    tcp_seq_le(c->snd_wl2 + c->snd_wnd, c->snd_nxt) && c->t_persist == DEADLINE_NEVER) {
		c->persist_ns = c->rto;
		c->t_persist = now + c->persist_ns;
	}
	/* Whatever is in flight is covered by a timer (RFC 6298 5.1). */
	if (c->snd_una != c->snd_max && c->t_rexmt == DEADLINE_NEVER &&
	    c->t_persist == DEADLINE_NEVER)
		c->t_rexmt = now + c->rto;
	if (!sent_any && c->ack_now)
		tcp_send_ack(c, now);
	tcp_probe_arm(c);
	tcp_arm(c);
}

/* ---- Connections ------------------------------------------------------------------ */

static void tcp_wake(struct tcp_conn *c)
{
	waitq_wake_all(c->n->loop, &c->rq);
	waitq_wake_all(c->n->loop, &c->wq);
}

static void tcp_free(struct tcp_conn *c)
{
	struct tcp *t = T(c->n);
	timer_cancel(c->n->loop, &c->timer);
	for (struct tcp_conn **link = &t->list; *link; link = &(*link)->next) {
		if (*link == c) {
			*link = c->next;
			break;
		}
	}
	pool_put(&t->conns, c);
}

static void tcp_unlink_listener(struct tcp_conn *c)
{
	struct tcp_listener *ls = c->parent;
	if (!ls)
		return;
	for (struct tcp_conn **link = &ls->aq_head; *link; link = &(*link)->aq_next) {
		if (*link == c) {
			*link = c->aq_next;
			if (ls->aq_tail == c) {
				ls->aq_tail = NULL;
				for (struct tcp_conn *q = ls->aq_head; q; q = q->aq_next)
					ls->aq_tail = q;
			}
			break;
		}
	}
	ls->pending--;
	c->parent = NULL;
}

/* The connection is over: CLOSED.  Freed now unless the application still
 * holds it (then tcp_close frees it). */
static void tcp_set_closed(struct tcp_conn *c, int err)
{
	if (err && !c->err)
		c->err = err;
	c->state = TCP_CLOSED;
	c->t_rexmt = c->t_delack = c->t_persist = c->t_keep = c->t_close = c->t_probe =
	    DEADLINE_NEVER;
	tcp_unlink_listener(c);
	tcp_wake(c);
	if (!c->app_owned)
		tcp_free(c);
	else
		timer_cancel(c->n->loop, &c->timer);
}

static void tcp_enter_time_wait(struct tcp_conn *c, uint64_t now)
{
	c->state = TCP_TIME_WAIT;
	c->t_rexmt = c->t_persist = c->t_keep = DEADLINE_NEVER;
	c->t_close = now + TCP_TIMEWAIT_NS;
	tcp_wake(c);
}

static void tcp_timer_fn(struct loop *l, struct timer *tm)
{
	tcp_tick(CONTAINER_OF(tm, struct tcp_conn, timer), l->now);
}

static void tcp_arm(struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return;
	uint64_t d = c->t_rexmt;
	if (c->t_delack < d)
		d = c->t_delack;
	if (c->t_persist < d)
		d = c->t_persist;
	if (c->t_probe < d)
		d = c->t_probe;
	if (c->t_keep < d)
		d = c->t_keep;
	if (c->t_close < d)
		d = c->t_close;
	if (d == DEADLINE_NEVER)
		timer_cancel(c->n->loop, &c->timer);
	else if (!c->timer.armed || c->timer.deadline != d)
		timer_arm(c->n->loop, &c->timer, d);
}

/* Our window scale: the smallest that lets the window cover the whole
 * buffer (RFC 7323 2.2). */
static uint8_t tcp_our_wscale(const struct tcp *t)
{
	uint8_t ws = 0;
	while (ws < TCP_WSCALE_MAX && (t->buf_size >> ws) > 65535)
		ws++;
	return ws;
}

/* A fresh control block, recycling the oldest TIME-WAIT one if the pool
 * is empty (the TIME-WAIT bound).  NULL (counted) when none. */
static struct tcp_conn *tcp_alloc(struct net *n)
{
	struct tcp *t = T(n);
	struct tcp_conn *c = pool_get(&t->conns);
	if (!c) {
		struct tcp_conn *oldest = NULL;
		for (struct tcp_conn *q = t->list; q; q = q->next)
			if (q->state == TCP_TIME_WAIT && !q->app_owned &&
			    (!oldest || q->t_close < oldest->t_close))
				oldest = q;
		if (!oldest)
			return NULL;
		TCP_COUNT(n, timewait_recycled);
		tcp_free(oldest);
		c = pool_get(&t->conns);
		if (!c)
			return NULL;
	}
	uint8_t *sbuf = c->snd.buf, *rbuf = c->rcv.buf;
	memset(c, 0, sizeof *c);
	c->snd.buf = sbuf;
	c->rcv.buf = rbuf;
	c->snd.cap = c->rcv.cap = t->buf_size;
	c->st = &n->st;
	c->n = n;
	c->rto = TCP_RTO_INIT_NS;
	c->t_rexmt = c->t_delack = c->t_persist = c->t_keep = c->t_close = c->t_probe =
	    DEADLINE_NEVER;
	c->rcv_mss = (uint16_t)(n->mtu - 40);
	c->mss = TCP_MSS_DEFAULT;
	c->rcv_wscale = tcp_our_wscale(t);
	c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
	c->cc = t->cc;
	plat_entropy(&c->ts_offset, sizeof c->ts_offset);
	timer_init(&c->timer, tcp_timer_fn);
	c->next = t->list;
	t->list = c;
	return c;
}

/* RFC 5681 3.1: IW = min(4 MSS, max(2 MSS, 4380 bytes)). */
static void tcp_init_cwnd(struct tcp_conn *c)
{
	uint32_t iw = 4380 > 2u * c->mss ? 4380 : 2u * c->mss;
	c->cwnd = iw < 4u * c->mss ? iw : 4u * c->mss;
}

static void tcp_apply_syn_options(struct tcp_conn *c, const struct seg *s)
{
	uint16_t peer_mss = s->has_mss ? s->mss : TCP_MSS_DEFAULT;
	/* RFC 9293 3.7.1 / RFC 6691: what we send is bounded by both the
	 * peer's MSS and our MTU, less the options we put in every segment. */
	uint16_t mss = peer_mss < c->rcv_mss ? peer_mss : c->rcv_mss;
	c->ws_ok = s->has_ws;
	if (c->ws_ok) {
		c->snd_wscale = s->ws > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : s->ws;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->ts_ok = s->has_ts;
	c->sack_ok = s->has_sackok;
	if (c->ts_ok) {
		c->ts_recent = s->tsval;
		mss = (uint16_t)(mss - 12);
	}
	if (mss < 64)
		mss = 64;
	c->mss = mss;
	tcp_init_cwnd(c);
}

/* ---- Input --------------------------------------------------------------------------- */

static bool tcp_parse(struct net *n, const struct ip4_rx *rx, struct pkt *p, struct seg *s)
{
	size_t total = pkt_chain_len(p);
	uint8_t h[TCP_HDR + TCP_OPT_MAX];
	size_t got = pkt_chain_copy(p, 0, h, total < sizeof h ? total : sizeof h);
	struct rd r = rd_make(h, got);
	s->src = rx->src;
	s->dst = rx->dst;
	s->sport = rd_be16(&r);
	s->dport = rd_be16(&r);
	s->seq = rd_be32(&r);
	s->ack = rd_be32(&r);
	uint16_t offfl = rd_be16(&r);
	s->wnd = rd_be16(&r);
	rd_skip(&r, 4); /* checksum, urgent pointer */
	if (!rd_ok(&r)) {
		TCP_COUNT(n, truncated);
		return false;
	}
	size_t hlen = (size_t)(offfl >> 12) * 4;
	if (hlen < TCP_HDR || hlen > total) {
		TCP_COUNT(n, bad_off);
		return false;
	}
	s->flags = (uint8_t)(offfl & 0x3f);
	s->off = hlen;
	s->len = (uint32_t)(total - hlen);
	/* RFC 9293 3.1: the checksum covers the pseudo-header. */
	/* (Unless the device's host made or checked it: PKT_F_CSUM_OK.) */
	struct csum cs = csum_start();
	csum_add_pseudo(&cs, rx->src, rx->dst, IP_PROTO_TCP, (uint16_t)total);
	if (!(p->flags & PKT_F_CSUM_OK))
		csum_add_chain(&cs, p, 0, total);
	if (!(p->flags & PKT_F_CSUM_OK) && csum_fold(&cs) != 0) {
		TCP_COUNT(n, bad_cksum);
		return false;
	}
	s->has_mss = s->has_ws = s->has_ts = s->has_sackok = false;
	s->nsack = 0;
	struct rd o = rd_sub(&r, hlen - TCP_HDR);
	while (rd_left(&o) > 0) {
		uint8_t kind = rd_u8(&o);
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP)
			continue;
		uint8_t olen = rd_u8(&o);
		if (!rd_ok(&o) || olen < 2)
			break; /* RFC 9293 3.1: a malformed option list ends here */
		struct rd v = rd_sub(&o, olen - 2u);
		if (!rd_ok(&v))
			break;
		if (kind == OPT_MSS && olen == 4) {
			s->has_mss = true;
			s->mss = rd_be16(&v);
		} else if (kind == OPT_WS && olen == 3) {
			s->has_ws = true;
			s->ws = rd_u8(&v);
		} else if (kind == OPT_SACKOK && olen == 2) {
			s->has_sackok = true;
		} else if (kind == OPT_SACK && olen >= 10 && (olen - 2) % 8 == 0) {
			for (unsigned b = 0; b < (olen - 2u) / 8 && b < 4; b++) {
				s->sack[b][0] = rd_be32(&v);
				s->sack[b][1] = rd_be32(&v);
				s->nsack = b + 1;
			}
		} else if (kind == OPT_TS && olen == 10) {
			s->has_ts = true;
			s->tsval = rd_be32(&v);
			s->tsecr = rd_be32(&v);
		}
	}
	if (s->has_mss && s->mss < 64)
		s->mss = 64;
	return true;
}

static struct tcp_conn *tcp_lookup(struct net *n, const struct seg *s)
{
	for (struct tcp_conn *c = T(n)->list; c; c = c->next)
		if (c->lport == s->dport && c->rport == s->sport && c->raddr == s->src &&
		    c->laddr == s->dst && c->state != TCP_CLOSED)
			return c;
	return NULL;
}

static struct tcp_listener *tcp_find_listener(struct net *n, uint32_t addr, uint16_t port)
{
	for (struct tcp_listener *ls = T(n)->listeners; ls; ls = ls->next)
		if (ls->port == port && (ls->addr == 0 || ls->addr == addr))
			return ls;
	return NULL;
}

/* A passive open just established: onto its listener's accept queue. */
static void tcp_queue_accept(struct tcp_conn *c)
{
	struct tcp_listener *ls = c->parent;
	if (!ls)
		return;
	c->aq_next = NULL;
	if (ls->aq_tail)
		ls->aq_tail->aq_next = c;
	else
		ls->aq_head = c;
	ls->aq_tail = c;
	waitq_wake_one(c->n->loop, &ls->wq);
}

/* The half-open passive connection (SYN-RCVD) that has waited longest,
 * of listener ls or of any listener (ls NULL).  The list has the newest
 * first, so among equals the last is the oldest. */
static struct tcp_conn *tcp_oldest_half_open(struct net *n, const struct tcp_listener *ls)
{
	struct tcp_conn *oldest = NULL;
	for (struct tcp_conn *q = T(n)->list; q; q = q->next)
		if (q->state == TCP_SYN_RCVD && q->parent && !q->app_owned &&
		    (!ls || q->parent == ls) && (!oldest || q->last_rx <= oldest->last_rx))
			oldest = q;
	return oldest;
}

/* ---- SYN cookies (RFC 4987 3.6) -------------------------------------------------- */

/* When a listener's backlog is full, or every control block is taken and
 * some by half-open connections, a SYN is answered statelessly: our
 * initial sequence number (the cookie) carries what the connection needs
 * and a MAC over the 4-tuple, the peer's ISN and a 64 s clock tick, keyed
 * with the stack's secret.  An ACK that returns a valid cookie creates the
 * connection, already ESTABLISHED.
 *
 * The cookie: bits 31..8 are a MAC over all that and the options, bits
 * 7..0 the options XORed with a mask derived from the rest:
 *   1..0  the peer's MSS, rounded down to one of tcp_cookie_mss
 *   5..2  the peer's window scale, 15 when it sent none
 *   6     SACK permitted
 *   7     timestamps
 * So window scaling, SACK and timestamps survive a cookie (unlike older
 * schemes, which drop them or need the timestamp to carry them); the
 * timestamp offset of the connection comes from the MAC too, so RTT
 * samples from the first ACK on are right.  The price: 24 bits of MAC (a
 * blind ACK is accepted with odds of 2 in 2^24, the cookie being checked
 * against two ticks), checked only for 128 s after a cookie was sent; and
 * a cookie is not the RFC 6528 clock-driven ISN. */
static const uint16_t tcp_cookie_mss[4] = {536, 1300, 1440, 1460};

struct tcp_cookie {
	uint32_t mac, ts_offset;
	uint8_t mask; /* XORed over the options byte */
};

/* SHA-256 over what a cookie stands for: the 4-tuple, the peer's ISN, the
 * tick and, for the MAC, the options byte (opts < 0: without). */
static void tcp_cookie_hash(const struct tcp *t, const struct seg *s, uint32_t irs, uint64_t tick,
			    int opts, uint8_t out[32])
{
	uint8_t in[2 + 12 + 4 + 8 + sizeof t->isn_key];
	struct wr w = wr_make(in, sizeof in);
	wr_u8(&w, opts < 0 ? 'C' : 'M'); /* apart from tcp_isn's inputs */
	wr_u8(&w, (uint8_t)(opts < 0 ? 0 : opts));
	wr_be32(&w, s->dst);
	wr_be16(&w, s->dport);
	wr_be32(&w, s->src);
	wr_be16(&w, s->sport);
	wr_be32(&w, irs);
	wr_be32(&w, (uint32_t)(tick >> 32));
	wr_be32(&w, (uint32_t)tick);
	wr_bytes(&w, t->isn_key, sizeof t->isn_key);
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, in, w.pos);
	br_sha256_out(&h, out);
}

/* The mask and timestamp offset of a cookie (not depending on the
 * options, so that the options can be recovered), then, unless opts < 0,
 * its MAC over them. */
static struct tcp_cookie tcp_cookie_make(const struct tcp *t, const struct seg *s, uint32_t irs,
					 uint64_t tick, int opts)
{
	uint8_t out[32];
	struct tcp_cookie k;
	tcp_cookie_hash(t, s, irs, tick, -1, out);
	struct rd r = rd_make(out, sizeof out);
	k.ts_offset = rd_be32(&r);
	k.mask = rd_u8(&r);
	k.mac = 0;
	if (opts < 0)
		return k; /* the mask only */
	tcp_cookie_hash(t, s, irs, tick, opts, out);
	r = rd_make(out, sizeof out);
	k.mac = rd_be32(&r) & 0xffffff00u;
	return k;
}

/* The options byte of a cookie for SYN s. */
static uint8_t tcp_cookie_opts(const struct seg *s)
{
	uint16_t mss = s->has_mss ? s->mss : TCP_MSS_DEFAULT;
	uint8_t idx = 0;
	for (uint8_t i = 0; i < 4; i++)
		if (tcp_cookie_mss[i] <= mss)
			idx = i;
	uint8_t ws = s->has_ws ? (s->ws > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : s->ws) : 15;
	return (uint8_t)(idx | ws << 2 | (s->has_sackok ? 0x40 : 0) | (s->has_ts ? 0x80 : 0));
}

/* Answer SYN s with a cookie SYN-ACK, keeping nothing.  The segment is
 * built by tcp_send from a control block on the stack, never linked. */
static void tcp_send_cookie(struct net *n, struct tcp_listener *ls, const struct seg *s,
			    uint64_t now)
{
	struct tcp *t = T(n);
	uint8_t opts = tcp_cookie_opts(s);
	struct tcp_cookie k = tcp_cookie_make(t, s, s->seq, now / TCP_COOKIE_TICK_NS, opts);
	struct tcp_conn c;
	memset(&c, 0, sizeof c);
	c.n = n;
	c.laddr = s->dst;
	c.lport = s->dport;
	c.raddr = s->src;
	c.rport = s->sport;
	c.state = TCP_SYN_RCVD;
	c.rcv_nxt = c.rcv_adv = s->seq + 1;
	c.rcv.cap = t->buf_size;
	c.rcv_mss = (uint16_t)(n->mtu - 40);
	c.ws_ok = s->has_ws;
	c.rcv_wscale = c.ws_ok ? tcp_our_wscale(t) : 0;
	c.sack_ok = s->has_sackok;
	c.ts_ok = s->has_ts;
	c.ts_recent = s->tsval;
	c.ts_offset = k.ts_offset;
	if (tcp_send(&c, k.mac | (uint8_t)(opts ^ k.mask), TH_SYN | TH_ACK, 0, now) == ATL_OK)
		TCP_COUNT(n, syncookie_sent);
	ls->cookie_until = now + 2 * TCP_COOKIE_TICK_NS;
}

/* The options of ACK s if it returns a cookie we made in this tick or the
 * one before; false otherwise. */
static bool tcp_cookie_check(const struct tcp *t, const struct seg *s, uint64_t now, uint8_t *opts,
			     uint32_t *ts_offset)
{
	uint32_t cookie = s->ack - 1, irs = s->seq - 1;
	uint64_t tick = now / TCP_COOKIE_TICK_NS;
	for (uint64_t back = 0; back < 2 && back <= tick; back++) {
		struct tcp_cookie k = tcp_cookie_make(t, s, irs, tick - back, -1);
		uint8_t o = (uint8_t)(cookie ^ k.mask);
		k = tcp_cookie_make(t, s, irs, tick - back, o);
		if ((cookie & 0xffffff00u) != k.mac)
			continue;
		*opts = o;
		*ts_offset = k.ts_offset;
		return true;
	}
	return false;
}

/* An ACK to a listening port, with no connection: a returning cookie
 * makes one (RFC 4987 3.6); anything else is answered with RST (RFC 9293
 * 3.10.7.2). */
static void tcp_input_cookie(struct net *n, struct tcp_listener *ls, const struct seg *s,
			     struct pkt *p, uint64_t now)
{
	uint8_t opts;
	uint32_t ts_offset;
	if (now >= ls->cookie_until || (s->flags & (TH_SYN | TH_RST)) ||
	    !tcp_cookie_check(T(n), s, now, &opts, &ts_offset)) {
		if (now < ls->cookie_until)
			TCP_COUNT(n, syncookie_bad);
		tcp_send_rst(n, s, now);
		return;
	}
	/* The backlog still bounds what waits for tcp_accept: a peer that has
	 * proved its address is worth more than a half-open one. */
	if (ls->pending >= ls->backlog) {
		struct tcp_conn *old = tcp_oldest_half_open(n, ls);
		if (!old) {
			TCP_COUNT(n, backlog_drop); /* the peer will retransmit */
			return;
		}
		TCP_COUNT(n, synrcvd_dropped);
		tcp_set_closed(old, 0);
	}
	struct tcp_conn *c = tcp_alloc(n);
	if (!c) {
		struct tcp_conn *old = tcp_oldest_half_open(n, NULL);
		if (old) {
			TCP_COUNT(n, synrcvd_dropped);
			tcp_set_closed(old, 0);
			c = tcp_alloc(n);
		}
	}
	if (!c) {
		TCP_COUNT(n, conn_refused_nomem);
		tcp_send_rst(n, s, now);
		return;
	}
	TCP_COUNT(n, syncookie_ok);
	TCP_COUNT(n, passive_open);
	TCP_COUNT(n, established);
	c->laddr = s->dst;
	c->lport = s->dport;
	c->raddr = s->src;
	c->rport = s->sport;
	c->parent = ls;
	ls->pending++;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = s->ack;
	c->snd_buf_seq = s->ack;
	c->recover = c->iss;
	struct seg syn = {0};
	syn.has_mss = true;
	syn.mss = tcp_cookie_mss[opts & 3];
	syn.has_ws = (opts >> 2 & 15) != 15;
	syn.ws = (uint8_t)(opts >> 2 & 15);
	syn.has_sackok = (opts & 0x40) != 0;
	/* Timestamps only if the peer keeps sending them. */
	syn.has_ts = (opts & 0x80) && s->has_ts;
	syn.tsval = s->tsval;
	tcp_apply_syn_options(c, &syn);
	if (syn.has_ts)
		c->ts_offset = ts_offset;
	/* What the SYN-ACK offered: its window, never scaled (RFC 7323 2.2). */
	uint32_t offered = c->rcv.cap < 65535 ? c->rcv.cap : 65535;
	c->rcv_adv = c->rcv_nxt + offered;
	c->snd_wnd = s->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->state = TCP_ESTABLISHED;
	c->last_rx = now;
	tcp_queue_accept(c);
	/* The ACK may carry data or a FIN: the connection takes it now. */
	tcp_input_conn(c, s, p, now);
}

/* RFC 9293 3.10.7.2: a segment to a listening port. */
static void tcp_input_listen(struct net *n, struct tcp_listener *ls, const struct seg *s,
			     struct pkt *p, uint64_t now)
{
	if (s->flags & TH_RST)
		return;
	if (s->flags & TH_ACK) {
		tcp_input_cookie(n, ls, s, p, now);
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	bool full = ls->pending >= ls->backlog;
	struct tcp_conn *c = full ? NULL : tcp_alloc(n);
	if (!c) {
		/* A full backlog, or a pool held in part by half-open
		 * connections (a flood, likely): a cookie, state kept by the
		 * peer.  A pool full of live connections: refused cleanly,
		 * existing connections keep their memory. */
		if (full || tcp_oldest_half_open(n, NULL)) {
			tcp_send_cookie(n, ls, s, now);
			return;
		}
		TCP_COUNT(n, conn_refused_nomem);
		tcp_send_rst(n, s, now);
		return;
	}
	TCP_COUNT(n, passive_open);
	c->laddr = s->dst;
	c->lport = s->dport;
	c->raddr = s->src;
	c->rport = s->sport;
	c->parent = ls;
	ls->pending++;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_isn(T(n), c->laddr, c->lport, c->raddr, c->rport, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	c->recover = c->iss;
	c->snd_wnd = s->wnd; /* RFC 7323 2.2: unscaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	tcp_apply_syn_options(c, s);
	c->state = TCP_SYN_RCVD;
	c->last_rx = now;
	tcp_output(c, now);
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
static void tcp_input_syn_sent(struct tcp_conn *c, const struct seg *s, uint64_t now)
{
	struct net *n = c->n;
	bool ack_ok = false;
	if (s->flags & TH_ACK) {
		if (tcp_seq_le(s->ack, c->iss) || tcp_seq_lt(c->snd_max, s->ack)) {
			if (!(s->flags & TH_RST))
				tcp_send_rst(n, s, now);
			return;
		}
		ack_ok = true;
	}
	if (s->flags & TH_RST) {
		/* RFC 5961 3.2 applies the exact-match rule here too; RFC
		 * 9293: acceptable only with an acceptable ACK. */
		if (ack_ok) {
			TCP_COUNT(n, rst_rx);
			tcp_set_closed(c, ATL_ECONNREFUSED);
		}
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	tcp_apply_syn_options(c, s);
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (ack_ok) {
		c->snd_una = s->ack;
		c->state = TCP_ESTABLISHED;
		TCP_COUNT(n, established);
		c->t_rexmt = DEADLINE_NEVER;
		if (c->rtt_timing && c->retries == 0) {
			/* the SYN's RTT is a first sample (RFC 6298 2.2) */
			uint64_t r = now - c->rtt_start;
			c->srtt = r;
			c->rttvar = r / 2;
			c->rto = c->srtt + 4 * c->rttvar;
			if (c->rto < TCP_RTO_MIN_NS)
				c->rto = TCP_RTO_MIN_NS;
		} else {
			/* RFC 6298 5.7: a retransmitted SYN leaves RTO at 3 s */
			c->rto = 3 * NS_PER_SEC;
		}
		c->rtt_timing = false;
		c->retries = 0;
		if (c->keepalive)
			c->t_keep = now + TCP_KEEPIDLE_NS;
		c->ack_now = true;
		tcp_wake(c);
		tcp_output(c, now);
	} else {
		/* Simultaneous open (RFC 9293 3.5, figure 8). */
		c->state = TCP_SYN_RCVD;
		c->snd_nxt = c->iss; /* send SYN-ACK */
		tcp_output(c, now);
	}
}

/* RFC 9293 3.10.7.4 first check: is the segment acceptable? */
static bool tcp_acceptable(const struct tcp_conn *c, const struct seg *s, uint32_t seglen)
{
	uint32_t wnd = c->rcv_adv - c->rcv_nxt;
	if (tcp_seq_lt(c->rcv_adv, c->rcv_nxt))
		wnd = 0;
	if (seglen == 0) {
		if (wnd == 0)
			return s->seq == c->rcv_nxt;
		return tcp_seq_le(c->rcv_nxt, s->seq) && tcp_seq_lt(s->seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	uint32_t last = s->seq + seglen - 1;
	return (tcp_seq_le(c->rcv_nxt, s->seq) && tcp_seq_lt(s->seq, c->rcv_nxt + wnd)) ||
	       (tcp_seq_le(c->rcv_nxt, last) && tcp_seq_lt(last, c->rcv_nxt + wnd));
}

/* Whether an answer to an unacceptable segment may go now (one per
 * TCP_OOW_ACK_INTERVAL_NS per connection, the first at once); if so,
 * the interval starts again. */
static bool tcp_oow_ack_due(struct tcp_conn *c, uint64_t now)
{
	if (c->oow_acked && now - c->last_oow_ack < TCP_OOW_ACK_INTERVAL_NS)
		return false;
	c->oow_acked = true;
	c->last_oow_ack = now;
	return true;
}

static void tcp_challenge_ack(struct tcp_conn *c, uint64_t now)
{
	/* RFC 5961 3.2, 4.2, 5.2, throttled as section 7 asks: at most one
	 * per connection per TCP_OOW_ACK_INTERVAL_NS, shared with the other
	 * unacceptable-segment answers (as Linux's per-socket limit).  No
	 * stack-wide count: a global budget is the side channel of
	 * CVE-2016-5696, letting an off-path host probe for connections. */
	if (!tcp_oow_ack_due(c, now)) {
		TCP_COUNT(c->n, challenge_ack_skipped);
		return;
	}
	TCP_COUNT(c->n, challenge_ack);
	tcp_send_ack(c, now);
}

/* RFC 6298 2.2-2.3 */
static void tcp_rtt_sample(struct tcp_conn *c, uint64_t r)
{
	c->rtt_last = r; /* for HyStart++ */
	if (c->srtt == 0) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		uint64_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	uint64_t var = 4 * c->rttvar;
	if (var < NS_PER_MS)
		var = NS_PER_MS; /* G, the clock granularity */
	c->rto = c->srtt + var;
	if (c->rto < TCP_RTO_MIN_NS)
		c->rto = TCP_RTO_MIN_NS;
	if (c->rto > TCP_RTO_MAX_NS)
		c->rto = TCP_RTO_MAX_NS;
}

/* ---- CUBIC (RFC 9438) -------------------------------------------------------- */

/* The integer cube root of x (the largest r with r^3 <= x). */
static uint64_t cbrt_u64(uint64_t x)
{
	uint64_t lo = 0, hi = 2642245; /* 2642245^3 < 2^64 */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint32_t tcp_cubic_window(const struct tcp_conn *c, uint64_t t)
{
	/* RFC 9438 4.2: W_cubic(t) = C (t - K)^3 + W_max, in segments and
	 * seconds; here t and K in ms, so (t - K)^3 / 10^9 s^3. */
	int64_t d = (int64_t)(t / NS_PER_MS) - (int64_t)c->k_ms;
	if (d > 100000)
		d = 100000;
	if (d < -100000)
		d = -100000;
	int64_t delta = d * d * d / 1000 * TCP_CUBIC_C10 / 10 * c->mss / 1000000;
	int64_t w = (int64_t)c->w_max + delta;
	if (w < c->mss)
		w = c->mss;
	if (w > (int64_t)UINT32_MAX / 2)
		w = UINT32_MAX / 2;
	return (uint32_t)w;
}

/* A congestion event: RFC 9438 4.6 (multiplicative decrease) and 4.7
 * (fast convergence); NewReno's RFC 5681 3.1 halving otherwise. */
static void tcp_cc_loss(struct tcp_conn *c)
{
	uint32_t fl = tcp_flight(c);
	if (c->cc != TCP_CC_CUBIC) {
		c->ssthresh = fl / 2 > 2u * c->mss ? fl / 2 : 2u * c->mss;
		return;
	}
	uint32_t w = c->cwnd;
	if (w < c->w_max)
		c->w_max = (uint32_t)((uint64_t)w * (10 + TCP_CUBIC_BETA10) / 20);
	else
		c->w_max = w;
	uint32_t th = (uint32_t)((uint64_t)w * TCP_CUBIC_BETA10 / 10);
	c->ssthresh = th > 2u * c->mss ? th : 2u * c->mss;
	c->epoch_start = 0;
}

/* RFC 9438 4.2-4.5: congestion avoidance on an ACK of acked bytes. */
static void tcp_cubic_ack(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
	if (c->epoch_start == 0) {
		c->epoch_start = now;
		if (c->cwnd < c->w_max) {
			/* K = cbrt(W_max (1 - beta) / C), in ms. */
			uint64_t seg = (c->w_max - c->cwnd) / c->mss;
			c->k_ms = cbrt_u64(seg * 1000000000ull * 10 / TCP_CUBIC_C10);
		} else {
			c->k_ms = 0;
			c->w_max = c->cwnd;
		}
		c->w_est = c->cwnd;
	}
	/* 4.3: the Reno-friendly estimate grows by alpha per window,
	 * alpha = 3 (1 - beta) / (1 + beta) = 0.9 / 1.7. */
	c->w_est += (uint32_t)((uint64_t)acked * c->mss * 9 / 17 / c->cwnd);
	uint64_t rtt = c->srtt ? c->srtt : 100 * NS_PER_MS;
	uint32_t target = tcp_cubic_window(c, now - c->epoch_start + rtt);
	/* 4.4: the target stays within [cwnd, 1.5 cwnd]. */
	if (target < c->cwnd)
		target = c->cwnd;
	if (target > c->cwnd + c->cwnd / 2)
		target = c->cwnd + c->cwnd / 2;
	if (tcp_cubic_window(c, now - c->epoch_start) < c->w_est) {
		c->cwnd = c->w_est; /* the Reno-friendly region */
		return;
	}
	/* 4.5: cwnd += (target - cwnd) / cwnd per segment acked. */
	c->bytes_acked += (uint32_t)((uint64_t)(target - c->cwnd) * acked / c->cwnd);
	if (c->bytes_acked >= c->mss) {
		c->cwnd += c->bytes_acked;
		c->bytes_acked = 0;
	}
}

/* ---- The SACK scoreboard (RFC 2018 as a sender) ------------------------------ */

/* Forget what ack covers; take the peer's blocks that lie within
 * (SND.UNA, SND.MAX] (RFC 2018 4; D-SACKs and nonsense are ignored). */
static void tcp_sack_update(struct tcp_conn *c, const struct seg *s)
{
	uint32_t una = tcp_seq_lt(c->snd_una, s->ack) ? s->ack : c->snd_una;
	unsigned k = 0;
	for (unsigned i = 0; i < c->nsacked; i++) {
		struct tcp_range r = c->sacked[i];
		if (tcp_seq_le(r.end, una))
			continue;
		if (tcp_seq_lt(r.start, una))
			r.start = una;
		c->sacked[k++] = r;
	}
	c->nsacked = k;
	if (!c->sack_ok)
		return;
	for (unsigned b = 0; b < s->nsack; b++) {
		struct tcp_range r = {s->sack[b][0], s->sack[b][1]};
		if (!tcp_seq_lt(una, r.start) || !tcp_seq_lt(r.start, r.end) ||
		    tcp_seq_lt(c->snd_max, r.end))
			continue;
		/* Merge into the sorted list; beyond TCP_SACKED_MAX ranges the
		 * highest goes (the lowest holes are the ones to repair). */
		struct tcp_range out[TCP_SACKED_MAX + 1];
		unsigned n = tcp_range_merge(c->sacked, c->nsacked, r, out);
		if (n > TCP_SACKED_MAX)
			n = TCP_SACKED_MAX;
		memcpy(c->sacked, out, n * sizeof out[0]);
		c->nsacked = n;
	}
}

/* ---- SACK-based loss recovery (RFC 6675) ------------------------------------ */

/* The scoreboard's holes: hole i lies below SACKed range i, from the end
 * of range i - 1 (or SND.UNA); hole nsacked is the tail above the highest
 * SACKed byte, up to SND.MAX.  Sequence numbers [*lo, *hi). */
static void tcp_hole(const struct tcp_conn *c, unsigned i, uint32_t *lo, uint32_t *hi)
{
	*lo = i == 0 ? c->snd_una : c->sacked[i - 1].end;
	*hi = i < c->nsacked ? c->sacked[i].start : c->snd_max;
	if (tcp_seq_lt(*lo, c->snd_una))
		*lo = c->snd_una;
	if (tcp_seq_lt(*hi, *lo))
		*hi = *lo;
}

/* RFC 6675 4, IsLost() for the bytes of hole i: DupThresh (3)
 * discontiguous SACKed ranges above it, or more than (DupThresh - 1) *
 * SMSS bytes SACKed above it.  The same for every byte of the hole. */
static bool tcp_hole_lost(const struct tcp_conn *c, unsigned i)
{
	uint32_t bytes = 0;
	for (unsigned j = i; j < c->nsacked; j++)
		bytes += c->sacked[j].end - c->sacked[j].start;
	return c->nsacked - i >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1u) * c->mss;
}

/* HighRxt: the end of the highest retransmission of this recovery. */
static uint32_t tcp_high_rxt(const struct tcp_conn *c)
{
	return tcp_seq_lt(c->snd_una, c->rexmt_hint) ? c->rexmt_hint : c->snd_una;
}

/* RFC 6675 4, SetPipe(): the bytes presumed in the network.  Per byte not
 * SACKed: one unless presumed lost, one more if retransmitted (at or below
 * HighRxt). */
uint32_t tcp_pipe(const struct tcp_conn *c)
{
	uint32_t pipe = 0, rxt = tcp_high_rxt(c);
	for (unsigned i = 0; i <= c->nsacked; i++) {
		uint32_t lo, hi;
		tcp_hole(c, i, &lo, &hi);
		if (lo == hi)
			continue;
		if (!tcp_hole_lost(c, i))
			pipe += hi - lo;
		if (tcp_seq_lt(lo, rxt))
			pipe += (tcp_seq_lt(rxt, hi) ? rxt : hi) - lo;
	}
	return pipe;
}

/* In SACK-based recovery the window in use is the pipe, not the flight. */
static bool tcp_sack_recovery(const struct tcp_conn *c)
{
	return c->in_recovery && c->sack_ok;
}

/* Retransmit up to one segment from seq (at most len bytes); HighRxt
 * moves up unless this is the rescue (RFC 6675 4, NextSeg rule 4). */
static uint32_t tcp_rexmt_at(struct tcp_conn *c, uint32_t seq, uint32_t len, bool rescue,
			     uint64_t now)
{
	uint32_t data = c->snd_buf_seq + c->snd.len - seq;
	if (tcp_seq_lt(c->snd_buf_seq + c->snd.len, seq))
		data = 0;
	if (len > data)
		len = data;
	if (len > c->mss)
		len = c->mss;
	if (len) {
		tcp_send(c, seq, TH_ACK, len, now);
		TCP_COUNT(c->n, rexmt_segs);
		if (!rescue && tcp_seq_lt(c->rexmt_hint, seq + len))
			c->rexmt_hint = seq + len;
		if (seq == c->snd_una) {
			c->una_rxt = true;
			c->una_rxt_high = c->snd_max;
		}
	}
	return len;
}

/* RFC 6675 4, NextSeg() rule 1 (lost = true) or rule 3 (lost = false):
 * the first byte above HighRxt and below the highest SACKed byte that is
 * not SACKed and, for rule 1, presumed lost.  Up to one segment from it,
 * within its hole. */
static bool tcp_next_hole(const struct tcp_conn *c, bool lost, uint32_t *seq, uint32_t *len)
{
	uint32_t rxt = tcp_high_rxt(c);
	for (unsigned i = 0; i < c->nsacked; i++) {
		uint32_t lo, hi;
		tcp_hole(c, i, &lo, &hi);
		if (tcp_seq_lt(lo, rxt))
			lo = rxt;
		if (!tcp_seq_lt(lo, hi) || (lost && !tcp_hole_lost(c, i)))
			continue;
		*seq = lo;
		*len = hi - lo < c->mss ? hi - lo : c->mss;
		return true;
	}
	return false;
}

/* RFC 6675 5 (C): in recovery, while cwnd - pipe >= SMSS, send what
 * NextSeg() names.  tcp_output takes the rules in order: rule 1 here (the
 * lost holes), rule 2 itself (new data, with the pipe as the flight), then
 * tcp_sack_rexmt_rest. */
static void tcp_sack_rexmt_lost(struct tcp_conn *c, uint64_t now)
{
	uint32_t seq, len;
	while (tcp_pipe(c) + c->mss <= c->cwnd && tcp_next_hole(c, true, &seq, &len))
		if (tcp_rexmt_at(c, seq, len, false, now) == 0)
			break;
}

/* NextSeg rules 3 and 4, once no new data can go: holes below the
 * highest SACKed byte not yet presumed lost, then one rescue
 * retransmission per recovery of the highest unSACKed data. */
static void tcp_sack_rexmt_rest(struct tcp_conn *c, uint64_t now)
{
	uint32_t seq, len;
	while (tcp_pipe(c) + c->mss <= c->cwnd && tcp_next_hole(c, false, &seq, &len))
		if (tcp_rexmt_at(c, seq, len, false, now) == 0)
			break;
	if (c->rescued || tcp_pipe(c) + c->mss > c->cwnd)
		return;
	/* Rule 4: the highest unSACKed data, one segment ending there. */
	for (unsigned i = c->nsacked + 1; i-- > 0;) {
		uint32_t lo, hi;
		tcp_hole(c, i, &lo, &hi);
		uint32_t data_end = c->snd_buf_seq + c->snd.len;
		if (tcp_seq_lt(data_end, hi))
			hi = data_end; /* a FIN takes no data */
		if (!tcp_seq_lt(lo, hi))
			continue;
		uint32_t n = hi - lo < c->mss ? hi - lo : c->mss;
		c->rescued = true;
		TCP_COUNT(c->n, rescue_rexmt);
		tcp_rexmt_at(c, hi - n, n, true, now);
		return;
	}
}

/* A retransmission of the first unacknowledged segment that was itself
 * lost: RFC 6675 cannot see it and would wait for the retransmission
 * timer, with cwnd back to one segment.  But once more than (DupThresh -
 * 1) segments' worth of data sent after that retransmission has been
 * SACKed while the segment is still missing, it is lost as surely as a
 * first transmission would be by IsLost (Linux's "lost retransmit"
 * detection, the idea RACK, RFC 8985, generalizes by time): send it
 * again.  Only the first hole is watched: it is the one that holds the
 * window back; a later hole becomes the first in turn. */
static void tcp_sack_lost_rexmt(struct tcp_conn *c, uint64_t now)
{
	if (!c->una_rxt || c->nsacked == 0 || !tcp_seq_lt(c->snd_una, c->sacked[0].start))
		return;
	uint32_t above = 0;
	for (unsigned i = 0; i < c->nsacked; i++) {
		uint32_t lo = c->sacked[i].start, hi = c->sacked[i].end;
		if (tcp_seq_lt(lo, c->una_rxt_high))
			lo = c->una_rxt_high;
		if (tcp_seq_lt(lo, hi))
			above += hi - lo;
	}
	if (above <= (TCP_DUPTHRESH - 1u) * c->mss)
		return;
	TCP_COUNT(c->n, lost_rexmt);
	tcp_rexmt_at(c, c->snd_una, c->sacked[0].start - c->snd_una, false, now);
}

/* RFC 9406 (HyStart++) for CUBIC's first slow start (ssthresh still
 * unset; after a loss or timeout slow start is the usual one): each
 * round (a window of data, ended when SND.NXT at its start is
 * acknowledged) keeps its lowest RTT sample.  After 8 samples, a round
 * whose minimum exceeds the last round's by clamp(last / 8, 4 ms, 16 ms)
 * means queues are building: Conservative Slow Start, growing by a
 * quarter as fast; back to slow start if the RTT falls below the
 * baseline again, or on to congestion avoidance (ssthresh = cwnd) after
 * 5 rounds of it.  Called after the ACK's RTT sample, if any. */
static void tcp_hystart_ack(struct tcp_conn *c, uint32_t acked)
{
	uint64_t inf = UINT64_MAX;
	if (!c->hs_round || tcp_seq_le(c->hs_window_end, c->snd_una)) {
		/* A new round. */
		if (c->hs_round && c->hs_css && ++c->hs_css_rounds >= TCP_HS_CSS_ROUNDS) {
			c->ssthresh = c->cwnd; /* 4.3: on to congestion avoidance */
			c->hs_css = false;
			return;
		}
		c->hs_last_min = c->hs_round ? c->hs_cur_min : inf;
		c->hs_round = true;
		c->hs_cur_min = inf;
		c->hs_samples = 0;
		c->hs_window_end = c->snd_nxt == c->snd_una ? c->snd_una + 1 : c->snd_nxt;
	}
	uint32_t inc = acked < 2u * c->mss ? acked : 2u * c->mss; /* L = 2 (RFC 3465) */
	c->cwnd += c->hs_css ? inc / TCP_HS_CSS_GROWTH_DIVISOR : inc;
	if (c->rtt_last == 0)
		return;
	if (c->rtt_last < c->hs_cur_min)
		c->hs_cur_min = c->rtt_last;
	c->rtt_last = 0;
	if (++c->hs_samples < TCP_HS_N_RTT_SAMPLE)
		return;
	if (!c->hs_css) {
		if (c->hs_last_min == inf || c->hs_cur_min == inf)
			return;
		uint64_t thresh = c->hs_last_min / 8;
		if (thresh < TCP_HS_MIN_RTT_THRESH_NS)
			thresh = TCP_HS_MIN_RTT_THRESH_NS;
		if (thresh > TCP_HS_MAX_RTT_THRESH_NS)
			thresh = TCP_HS_MAX_RTT_THRESH_NS;
		if (c->hs_cur_min >= c->hs_last_min + thresh) {
			TCP_COUNT(c->n, hystart_css);
			c->hs_css = true;
			c->hs_css_rounds = 0;
			c->hs_css_base = c->hs_cur_min;
		}
	} else if (c->hs_cur_min < c->hs_css_base) {
		c->hs_css = false; /* 4.2: a spurious exit: slow start again */
	}
}

/* Congestion control on an ACK of new data (RFC 5681 3.1, RFC 6582 3.2,
 * RFC 6675 5). */
static void tcp_cc_ack(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
	if (c->in_recovery) {
		if (tcp_seq_lt(c->snd_una, c->recover)) {
			c->t_rexmt = now + c->rto;
			if (c->sack_ok)
				return; /* RFC 6675: cwnd stays; tcp_output goes on */
			/* RFC 6582 3.2 step 3, partial ACK: retransmit the first
			 * unacknowledged segment, deflate by the amount acked,
			 * add back one MSS. */
			tcp_rexmt_at(c, c->snd_una, c->snd_max - c->snd_una, false, now);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->mss)
				c->cwnd += c->mss;
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
			return;
		}
		/* Full ACK: RFC 6582 3.2 step 3 (1), cwnd = min(ssthresh,
		 * flight + MSS).  RFC 6675 leaves cwnd at ssthresh (as RFC
		 * 6937 ends its recovery): the NewReno rule would leave one
		 * segment after a recovery that sent little new data, and a
		 * window of one segment cannot bring duplicate ACKs when that
		 * segment is lost: every loss there costs a timeout. */
		uint32_t fl = tcp_flight(c);
		if (c->sack_ok)
			c->cwnd = c->ssthresh;
		else
			c->cwnd = c->ssthresh < fl + c->mss ? c->ssthresh : fl + c->mss;
		c->in_recovery = false;
		c->dupacks = 0;
		return;
	}
	c->dupacks = 0;
	if (c->cwnd < c->ssthresh && c->cc == TCP_CC_CUBIC && c->ssthresh == UINT32_MAX) {
		tcp_hystart_ack(c, acked);
	} else if (c->cwnd < c->ssthresh) {
		/* RFC 5681 3.1 slow start; RFC 3465 L = 2 MSS. */
		c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
	} else if (c->cc == TCP_CC_CUBIC) {
		tcp_cubic_ack(c, acked, now);
	} else {
		/* Congestion avoidance: one MSS per cwnd of data acked. */
		c->bytes_acked += acked;
		if (c->bytes_acked >= c->cwnd) {
			c->bytes_acked -= c->cwnd;
			c->cwnd += c->mss;
		}
	}
	uint32_t cap = c->snd.cap * 2 + 4u * c->mss;
	if (c->cwnd > cap)
		c->cwnd = cap; /* beyond what the buffer can use: no point */
}

/* Fast retransmit: loss recovery begins (RFC 5681 3.2, RFC 6582 3.2 step
 * 2, RFC 6675 5 steps 1-4). */
static void tcp_enter_recovery(struct tcp_conn *c, uint64_t now)
{
	TCP_COUNT(c->n, fast_rexmt);
	tcp_cc_loss(c);
	c->recover = c->snd_max; /* RecoveryPoint */
	c->in_recovery = true;
	c->rescued = false;
	c->rtt_timing = false; /* Karn */
	c->rexmt_hint = c->snd_una;
	/* The first segment not acknowledged is retransmitted in any case. */
	tcp_rexmt_at(c, c->snd_una, c->snd_max - c->snd_una, false, now);
	if (c->sack_ok)
		c->cwnd = c->ssthresh; /* then sending follows the pipe */
	else
		c->cwnd = c->ssthresh + 3u * c->mss;
	c->t_rexmt = now + c->rto;
}

/* Whether a new loss may start a recovery: RFC 6582 3.2 step 2, not
 * while the cumulative ACK does not cover more than the last recovery's
 * point (its retransmissions can bring duplicates).  With SACK the
 * scoreboard tells losses apart, so a loss at the recovery point itself
 * (data first sent during that recovery) starts a new one; RFC 6675 5's
 * "beyond RecoveryPoint" would leave it to the retransmission timer.
 * After a timeout, recover is SND.MAX (RFC 6675 5.1): no recovery until
 * the data sent before it is acknowledged. */
static bool tcp_may_recover(const struct tcp_conn *c)
{
	if (c->recover == c->iss)
		return true;
	if (c->sack_ok && !c->rto_recovery)
		return tcp_seq_le(c->recover, c->snd_una);
	return !tcp_seq_le(c->snd_una - 1, c->recover);
}

/* RFC 5681 3.2 / RFC 6582 3.2 / RFC 6675 5: a duplicate ACK. */
static void tcp_dupack(struct tcp_conn *c, uint64_t now)
{
	c->dupacks++;
	if (c->in_recovery) {
		/* NewReno inflates the window by one segment (RFC 6582 step
		 * 4); with SACK the pipe already went down by what the ACK
		 * reported, and tcp_output sends by it. */
		if (!c->sack_ok)
			c->cwnd += c->mss;
		return;
	}
	if (c->dupacks == TCP_DUPTHRESH && tcp_may_recover(c))
		tcp_enter_recovery(c, now);
}

/* The ACK field of a segment in a synchronized state (RFC 9293
 * 3.10.7.4, fifth check).  Returns false if the segment is to be dropped. */
static bool tcp_process_ack(struct tcp_conn *c, const struct seg *s, uint64_t now)
{
	struct net *n = c->n;
	/* RFC 5961 5.2: an ACK older than the window the peer could have
	 * seen, or for data never sent, is answered and dropped. */
	if (tcp_seq_lt(c->snd_max, s->ack)) {
		TCP_COUNT(n, ack_too_new);
		tcp_send_ack(c, now);
		return false;
	}
	if (tcp_seq_lt(s->ack, c->snd_una - c->max_snd_wnd)) {
		tcp_challenge_ack(c, now);
		return false;
	}
	tcp_sack_update(c, s);
	if (c->t_persist != DEADLINE_NEVER)
		c->retries = 0; /* the peer answers our window probes */
	uint32_t wnd = s->wnd << c->snd_wscale;
	if (tcp_seq_lt(c->snd_una, s->ack)) {
		uint32_t acked = s->ack - c->snd_una;
		/* Bytes of the ring acknowledged (the SYN and FIN take none). */
		uint32_t ring_acked = 0;
		if (tcp_seq_lt(c->snd_buf_seq, s->ack)) {
			ring_acked = s->ack - c->snd_buf_seq;
			if (ring_acked > c->snd.len)
				ring_acked = c->snd.len;
		}
		ring_drop(&c->snd, ring_acked);
		c->snd_buf_seq += ring_acked;
		/* RTT: from the timestamp echo (RFC 7323 4.1) or the timed
		 * segment, never from a retransmission (Karn). */
		if (c->ts_ok && s->tsecr) {
			uint32_t d = tcp_ts_now(c, now) - s->tsecr;
			if (d < 60000)
				tcp_rtt_sample(c, (uint64_t)d * NS_PER_MS + NS_PER_MS / 2);
			c->rtt_timing = false;
		} else if (c->rtt_timing && tcp_seq_lt(c->rtt_seq, s->ack)) {
			tcp_rtt_sample(c, now - c->rtt_start);
			c->rtt_timing = false;
		}
		c->snd_una = s->ack;
		c->una_rxt = false; /* a new first segment, not retransmitted */
		c->probed = false;
		if (c->rto_recovery && tcp_seq_lt(c->recover, c->snd_una))
			c->rto_recovery = false;
		if (tcp_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->retries = 0;
		tcp_cc_ack(c, acked, now);
		/* RFC 6298 5.2-5.3 */
		if (c->snd_una == c->snd_max)
			c->t_rexmt = DEADLINE_NEVER;
		else if (!c->in_recovery)
			c->t_rexmt = now + c->rto;
		waitq_wake_all(n->loop, &c->wq);
	} else if (s->ack == c->snd_una && s->len == 0 && !(s->flags & (TH_SYN | TH_FIN)) &&
		   wnd == c->snd_wnd && wnd != 0 && c->snd_max != c->snd_una) {
		tcp_dupack(c, now);
	}
	if (tcp_sack_recovery(c))
		tcp_sack_lost_rexmt(c, now);
	/* RFC 6675 5: recovery also begins when the SACKed data shows the
	 * first unacknowledged segment lost, before three duplicate ACKs
	 * (ACKs that also moved the window, say, are not duplicates). */
	if (c->sack_ok && !c->in_recovery && c->nsacked > 0 &&
	    tcp_seq_lt(c->snd_una, c->sacked[0].start) && tcp_hole_lost(c, 0) && tcp_may_recover(c))
		tcp_enter_recovery(c, now);
	/* RFC 9293 3.10.7.4: window update from newer segments only. */
	if (tcp_seq_lt(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && tcp_seq_le(c->snd_wl2, s->ack))) {
		bool opened = c->snd_wnd == 0 && wnd > 0;
		c->snd_wnd = wnd;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (opened || wnd > 0)
			c->t_persist = DEADLINE_NEVER;
		if (opened)
			c->persist_ns = 0;
	}
	/* Our FIN acknowledged? */
	bool fin_acked =
	    c->fin_queued && c->snd_una == c->snd_buf_seq + c->snd.len + 1 && c->snd.len == 0;
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked) {
			c->state = TCP_FIN_WAIT_2;
			if (!c->app_owned)
				c->t_close = now + TCP_FINWAIT2_NS;
		}
		break;
	case TCP_CLOSING:
		if (fin_acked)
			tcp_enter_time_wait(c, now);
		break;
	case TCP_LAST_ACK:
		if (fin_acked) {
			tcp_set_closed(c, 0);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* Put the payload into the receive ring at its place (RFC 9293 3.10.7.4,
 * seventh check), in order or not; advance rcv_nxt over what is now
 * contiguous. */
static void tcp_take_data(struct tcp_conn *c, const struct seg *s, struct pkt *p, uint64_t now)
{
	struct net *n = c->n;
	uint32_t seq = s->seq, len = s->len;
	size_t off = s->off;
	if (tcp_seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;
		if (skip >= len) {
			TCP_COUNT(n, dup_rx);
			tcp_note_dup(c, seq, seq + len);
			c->ack_now = true;
			return;
		}
		tcp_note_dup(c, seq, c->rcv_nxt);
		seq += skip;
		off += skip;
		len -= skip;
	}
	uint32_t space = c->rcv.cap - c->rcv.len;
	uint32_t rel = seq - c->rcv_nxt;
	if (rel >= space) {
		TCP_COUNT(n, rcv_trim);
		c->ack_now = true;
		return;
	}
	if (len > space - rel) {
		TCP_COUNT(n, rcv_trim); /* beyond the window: trimmed */
		len = space - rel;
	}
	uint32_t base = c->rcv.head + c->rcv.len - c->rcv_nxt; /* ring index of seq 0 */
	if (rel > 0) {
		/* Out of order: merge [seq, seq+len) into the range list;
		 * data overlapping what it holds is a duplicate (RFC 2883). */
		struct tcp_range r = {seq, seq + len}, out[TCP_OOO_MAX + 1];
		for (unsigned i = 0; i < c->nooo; i++) {
			struct tcp_range q = c->ooo[i];
			if (tcp_seq_lt(q.start, r.end) && tcp_seq_lt(r.start, q.end)) {
				tcp_note_dup(c, tcp_seq_lt(q.start, r.start) ? r.start : q.start,
					     tcp_seq_lt(q.end, r.end) ? q.end : r.end);
				break;
			}
		}
		unsigned k = tcp_range_merge(c->ooo, c->nooo, r, out);
		if (k > TCP_OOO_MAX) {
			TCP_COUNT(n, ooo_drop);
			c->ack_now = true;
			return;
		}
		ring_write_at(&c->rcv, base + seq, p, off, len);
		memcpy(c->ooo, out, k * sizeof out[0]);
		c->ooo_recent = seq;
		c->nooo = k;
		TCP_COUNT(n, ooo_rx);
		/* RFC 5681 4.2: an out-of-order segment is ACKed at once. */
		c->ack_now = true;
		return;
	}
	ring_write_at(&c->rcv, base + seq, p, off, len);
	uint32_t end = seq + len;
	bool filled = false;
	/* The held ranges that now join the in-order data. */
	while (c->nooo > 0 && tcp_seq_le(c->ooo[0].start, end)) {
		if (tcp_seq_lt(end, c->ooo[0].end))
			end = c->ooo[0].end;
		memmove(c->ooo, c->ooo + 1, (c->nooo - 1) * sizeof c->ooo[0]);
		c->nooo--;
		filled = true;
	}
	c->rcv.len += end - c->rcv_nxt;
	c->rcv_nxt = end;
	waitq_wake_all(n->loop, &c->rq);
	/* RFC 5681 4.2: an ACK for at least every second full segment, and
	 * at once when a gap is filled; otherwise delayed. */
	/* Counted in full-sized segments: a GRO'd one holds many. */
	c->segs_unacked += len > c->rcv_mss ? len / c->rcv_mss : 1;
	if (filled || c->segs_unacked >= 2 || c->nooo > 0)
		c->ack_now = true;
	else if (c->t_delack == DEADLINE_NEVER)
		c->t_delack = now + TCP_DELACK_NS;
}

/* The peer's FIN, once everything before it has arrived (eighth check). */
static void tcp_take_fin(struct tcp_conn *c, uint64_t now)
{
	if (!c->have_rfin || c->fin_rcvd || c->rcv_nxt != c->rfin_seq)
		return;
	c->fin_rcvd = true;
	c->rcv_nxt++;
	switch (c->state) {
	case TCP_SYN_RCVD:
	case TCP_ESTABLISHED:
		/* The ACK waits as for data (as Linux's, in its "pingpong"
		 * mode): an application that closes on end of file sends its
		 * FIN with it, one segment instead of two. */
		c->state = TCP_CLOSE_WAIT;
		if (c->t_delack == DEADLINE_NEVER)
			c->t_delack = now + TCP_DELACK_NS;
		break;
	case TCP_FIN_WAIT_1:
		/* Our FIN not yet acknowledged: simultaneous close. */
		c->state = TCP_CLOSING;
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_time_wait(c, now);
		break;
	default:
		break;
	}
	if (c->state != TCP_CLOSE_WAIT)
		c->ack_now = true;
	waitq_wake_all(c->n->loop, &c->rq);
}

static void tcp_input_conn(struct tcp_conn *c, const struct seg *s, struct pkt *p, uint64_t now)
{
	struct net *n = c->n;
	uint32_t seglen = s->len + ((s->flags & TH_SYN) ? 1 : 0) + ((s->flags & TH_FIN) ? 1 : 0);
	c->last_rx = now;
	if (c->keepalive && c->t_keep != DEADLINE_NEVER) {
		c->t_keep = now + TCP_KEEPIDLE_NS;
		c->keep_probes = 0;
	}

	/* RFC 7323 5.3 PAWS: a segment with an older timestamp is a stale
	 * duplicate (a RST is exempt, R1), answered with an ACK.  Most are
	 * pure ACKs overtaken in the network by later ones: for those the
	 * answer is rate limited as for other unacceptable ACKs (Linux does
	 * the same), or a reordering path doubles the ACK traffic. */
	if (c->ts_ok && s->has_ts && !(s->flags & TH_RST) &&
	    (int32_t)(s->tsval - c->ts_recent) < 0) {
		TCP_COUNT(n, paws_drop);
		if (s->len > 0 && tcp_seq_lt(s->seq, c->rcv_nxt))
			tcp_note_dup(c, s->seq,
				     tcp_seq_lt(s->seq + s->len, c->rcv_nxt) ? s->seq + s->len
									     : c->rcv_nxt);
		if (seglen > 0 || tcp_oow_ack_due(c, now))
			tcp_send_ack(c, now);
		return;
	}
	/* First check: sequence number. */
	if (!tcp_acceptable(c, s, seglen)) {
		if (s->len > 0 && tcp_seq_le(s->seq + s->len, c->rcv_nxt))
			tcp_note_dup(c, s->seq, s->seq + s->len); /* RFC 2883 4 */
		if (c->state == TCP_TIME_WAIT && (s->flags & TH_FIN)) {
			/* A retransmitted FIN: ACK it, restart 2 MSL. */
			c->t_close = now + TCP_TIMEWAIT_NS;
		}
		/* An old duplicate (wholly below RCV.NXT) still carries a
		 * valid ACK field: when both sides have lost each other's
		 * ACKs and gone back to retransmitting old data, dropping it
		 * (RFC 9293's letter) would leave both stuck, each refusing
		 * the other's segments.  Take the ACK, as BSD and Linux do,
		 * subject to RFC 5961 5.2's bounds (tcp_process_ack). */
		/* So does a segment at RCV.NXT when our window is zero: RFC
		 * 9293 3.10.7.4 makes "special allowance ... to accept valid
		 * ACKs" then. */
		if ((s->flags & (TH_ACK | TH_RST | TH_SYN)) == TH_ACK &&
		    tcp_seq_le(s->seq, c->rcv_nxt) && c->state != TCP_SYN_RCVD &&
		    c->state != TCP_TIME_WAIT) {
			if (!tcp_process_ack(c, s, now))
				return;
		}
		/* RFC 9293 asks for an ACK; for a pure ACK it is rate limited
		 * (as Linux does), or two peers can keep answering each other's
		 * unacceptable ACKs for ever. */
		if (!(s->flags & TH_RST) && (seglen > 0 || tcp_oow_ack_due(c, now))) {
			TCP_COUNT(n, out_of_window);
			tcp_send_ack(c, now);
		}
		tcp_output(c, now);
		return;
	}
	/* RFC 7323 4.3: remember the timestamp of the segment that covers
	 * our last ACK. */
	if (c->ts_ok && s->has_ts && tcp_seq_le(s->seq, c->last_ack_sent) &&
	    tcp_seq_le(c->last_ack_sent, s->seq + seglen))
		c->ts_recent = s->tsval;

	/* Second check: RST (RFC 5961 3.2). */
	if (s->flags & TH_RST) {
		if (s->seq != c->rcv_nxt) {
			tcp_challenge_ack(c, now);
			return;
		}
		TCP_COUNT(n, rst_rx);
		if (c->state == TCP_SYN_RCVD && c->parent) {
			/* Passive open: back to LISTEN, i.e. forget it. */
			tcp_set_closed(c, 0);
			return;
		}
		if (c->state != TCP_TIME_WAIT)
			TCP_COUNT(n, reset_by_peer);
		tcp_set_closed(c, c->state == TCP_SYN_RCVD ? ATL_ECONNREFUSED : ATL_ECONNRESET);
		return;
	}
	/* Fourth check: SYN in a synchronized state (RFC 5961 4.2). */
	if (s->flags & TH_SYN) {
		if (c->state == TCP_SYN_RCVD && s->seq == c->irs) {
			/* Our SYN-ACK was lost: the peer's SYN again. */
			c->snd_nxt = c->iss;
			tcp_output(c, now);
			return;
		}
		tcp_challenge_ack(c, now);
		return;
	}
	/* Fifth check: ACK. */
	if (!(s->flags & TH_ACK))
		return;
	if (c->state == TCP_SYN_RCVD) {
		if (tcp_seq_le(s->ack, c->snd_una) || tcp_seq_lt(c->snd_max, s->ack)) {
			tcp_send_rst(n, s, now);
			return;
		}
		c->state = TCP_ESTABLISHED;
		TCP_COUNT(n, established);
		c->snd_una = c->iss + 1;
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->t_rexmt = DEADLINE_NEVER;
		if (c->rtt_timing && c->retries == 0)
			tcp_rtt_sample(c, now - c->rtt_start);
		c->rtt_timing = false;
		c->retries = 0;
		if (c->keepalive)
			c->t_keep = now + TCP_KEEPIDLE_NS;
		tcp_queue_accept(c);
		tcp_wake(c);
		if (c->fin_queued)
			c->state = TCP_FIN_WAIT_1;
	}
	if (!tcp_process_ack(c, s, now))
		return;
	if (c->state == TCP_TIME_WAIT) {
		if (s->flags & TH_FIN) {
			c->ack_now = true;
			c->t_close = now + TCP_TIMEWAIT_NS;
		}
		if (c->ack_now)
			tcp_send_ack(c, now);
		tcp_arm(c);
		return;
	}
	/* Seventh check: text, in the states that still receive. */
	bool receiving =
	    c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2;
	if (s->len > 0) {
		if (receiving && !c->app_owned && c->fin_queued) {
			/* RFC 9293 3.10.4 / RFC 2525 2.17: data after the
			 * application closed cannot be delivered: reset. */
			tcp_send(c, c->snd_nxt, TH_RST | TH_ACK, 0, now);
			TCP_COUNT(n, rst_tx);
			tcp_set_closed(c, ATL_ECONNRESET);
			return;
		}
		if (receiving)
			tcp_take_data(c, s, p, now);
		else if (tcp_seq_lt(s->seq, c->rcv_nxt))
			c->ack_now = true;
	}
	/* Eighth check: FIN. */
	if ((s->flags & TH_FIN) && !c->fin_rcvd) {
		uint32_t fseq = s->seq + s->len;
		if (receiving || c->state == TCP_SYN_RCVD) {
			if (!c->have_rfin) {
				c->have_rfin = true;
				c->rfin_seq = fseq;
			}
		}
		if (!tcp_seq_le(fseq, c->rcv_adv))
			c->have_rfin = false;
		/* Taken in order, tcp_take_fin says when to ACK it;
		 * otherwise at once, as for data out of order. */
		tcp_take_fin(c, now);
		if (!c->fin_rcvd)
			c->ack_now = true;
	}
	tcp_take_fin(c, now);
	tcp_output(c, now);
}

void tcp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now)
{
	if (!n->tcp) {
		/* No TCP in use: every segment is for a closed port. */
		pkt_free(&n->pkts, p);
		return;
	}
	TCP_COUNT(n, rx);
	struct seg s;
	if (!tcp_parse(n, rx, p, &s))
		goto out;
	if (rx->bcast) {
		/* RFC 1122 4.2.3.10: no connection to a broadcast address. */
		TCP_COUNT(n, bad_addr);
		goto out;
	}
	struct tcp_conn *c = tcp_lookup(n, &s);
	if (c && c->state == TCP_TIME_WAIT && (s.flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN &&
	    tcp_seq_lt(c->rcv_nxt, s.seq)) {
		/* RFC 9293 3.10.7.4 (note on TIME-WAIT) / RFC 6191: a new SYN
		 * above the old connection's sequence space may reopen it. */
		tcp_set_closed(c, 0);
		c = NULL;
	}
	if (c) {
		if (c->state == TCP_SYN_SENT)
			tcp_input_syn_sent(c, &s, now);
		else
			tcp_input_conn(c, &s, p, now);
		goto out;
	}
	struct tcp_listener *ls = tcp_find_listener(n, rx->dst, s.dport);
	if (ls) {
		tcp_input_listen(n, ls, &s, p, now);
		goto out;
	}
	/* RFC 9293 3.10.7.1: CLOSED.  A RST gets nothing back. */
	if (!(s.flags & TH_RST)) {
		TCP_COUNT(n, no_port);
		tcp_send_rst(n, &s, now);
	}
out:
	pkt_free(&n->pkts, p);
}

/* RFC 1191 7: without a next-hop MTU in the message (old routers), the
 * next plateau below the datagram's length. */
static uint32_t tcp_pmtu_plateau(uint32_t tot)
{
	static const uint16_t plateau[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508};
	for (unsigned i = 0; i < sizeof plateau / sizeof plateau[0]; i++)
		if (plateau[i] < tot)
			return plateau[i];
	return TCP_PMTU_MIN;
}

void tcp_icmp_error(struct net *n, uint8_t type, uint8_t code, uint32_t info, const uint8_t *quote,
		    size_t len, uint64_t now)
{
	if (!n->tcp)
		return;
	struct rd r = rd_make(quote, len);
	uint8_t vihl = rd_u8(&r);
	rd_skip(&r, 1);
	uint16_t tot = rd_be16(&r);
	rd_skip(&r, 8);
	uint32_t src = rd_be32(&r), dst = rd_be32(&r);
	size_t ihl = (size_t)(vihl & 15) * 4;
	if (ihl < 20 || !rd_ok(&r))
		return;
	struct rd t = rd_make(quote + ihl, len > ihl ? len - ihl : 0);
	uint16_t sport = rd_be16(&t), dport = rd_be16(&t);
	uint32_t seq = rd_be32(&t);
	if (!rd_ok(&t))
		return;
	TCP_COUNT(n, icmp_rx);
	/* The segment was ours: from us, to the peer. */
	struct tcp_conn *c = NULL;
	for (struct tcp_conn *q = T(n)->list; q; q = q->next)
		if (q->laddr == src && q->raddr == dst && q->lport == sport && q->rport == dport &&
		    q->state != TCP_CLOSED && q->state != TCP_TIME_WAIT)
			c = q;
	/* RFC 5927 4.1: only about data in flight, SND.UNA <= seq < SND.NXT
	 * (SND.MAX here: retransmissions go back below SND.NXT); anything
	 * else is forged or stale. */
	if (!c || tcp_seq_lt(seq, c->snd_una) || !tcp_seq_lt(seq, c->snd_max)) {
		TCP_COUNT(n, icmp_ignored);
		return;
	}
	if (type == 3 && code == 4) {
		/* RFC 1191 6.3: fragmentation needed and DF set: the path is
		 * narrower.  Never below TCP_PMTU_MIN, never a larger MSS. */
		uint32_t mtu = info & 0xffff;
		if (mtu == 0)
			mtu = tcp_pmtu_plateau(tot);
		if (mtu < TCP_PMTU_MIN)
			mtu = TCP_PMTU_MIN;
		if (mtu > n->mtu)
			return;
		uint32_t mss = mtu - 40 - (c->ts_ok ? 12 : 0);
		if (mss >= c->mss)
			return;
		TCP_COUNT(n, pmtu_lowered);
		c->mss = (uint16_t)mss;
		/* The segments sent were dropped, not lost to congestion (RFC
		 * 1191 6.4 keeps cwnd): go back and send them again at the new
		 * size.  Karn: no RTT from them. */
		c->rtt_timing = false;
		if (c->state != TCP_SYN_SENT && c->state != TCP_SYN_RCVD) {
			c->snd_nxt = c->snd_una;
			c->nsacked = 0;
			c->rexmt_hint = c->snd_una;
			tcp_output(c, now);
		}
		return;
	}
	/* RFC 5461 / RFC 1122 4.2.3.9: other errors are soft, except that a
	 * connection still in SYN-SENT whose SYN was answered with host,
	 * protocol or port unreachable gives up (as Linux does) rather than
	 * retrying for a minute.  Codes 2 and 3 say the host refused. */
	if (type == 3 && c->state == TCP_SYN_SENT && code <= 3) {
		TCP_COUNT(n, icmp_abort);
		tcp_set_closed(c, code >= 2 ? ATL_ECONNREFUSED : ATL_EHOSTUNREACH);
	}
}

/* ---- Timers ------------------------------------------------------------------------- */

static void tcp_rexmt_timeout(struct tcp_conn *c, uint64_t now)
{
	struct net *n = c->n;
	TCP_COUNT(n, rexmt_timeout);
	c->retries++;
	unsigned limit =
	    (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) ? TCP_SYN_RETRIES : TCP_RETRIES;
	if (c->retries > limit) {
		TCP_COUNT(n, aborted_timeout);
		if (c->state != TCP_SYN_SENT)
			tcp_send(c, c->snd_nxt, TH_RST | TH_ACK, 0, now);
		tcp_set_closed(c, ATL_ETIMEDOUT);
		return;
	}
	/* RFC 6298 5.5: back off; 5.6-5.7 */
	c->rto *= 2;
	if (c->rto > TCP_RTO_MAX_NS)
		c->rto = TCP_RTO_MAX_NS;
	c->rtt_timing = false; /* Karn */
	if (c->state != TCP_SYN_SENT && c->state != TCP_SYN_RCVD) {
		/* RFC 5681 3.1 (4): after a timeout, ssthresh = max(flight/2,
		 * 2 MSS) and cwnd = one segment (the loss window). */
		if (c->retries == 1)
			tcp_cc_loss(c);
		c->cwnd = c->mss;
		c->in_recovery = false;
		c->dupacks = 0;
		c->recover = c->snd_max; /* RFC 6582 4: no fast retransmit below */
		c->rto_recovery = true;
		c->bytes_acked = 0;
	}
	/* RFC 2018 8 / RFC 6675 5.1: after a timeout, SACK information is
	 * not trusted. */
	c->nsacked = 0;
	c->rexmt_hint = c->snd_una;
	c->snd_nxt = c->snd_una; /* go back and resend from the first hole */
	c->t_rexmt = now + c->rto;
	tcp_output(c, now);
}

static void tcp_probe_timeout(struct tcp_conn *c, uint64_t now)
{
	/* In recovery, the first hole again (its retransmission may be the
	 * loss); otherwise the last segment sent (RFC 8985 7.3), whose ACK
	 * SACKs whatever arrived and so starts recovery if anything was
	 * lost.  One probe until an ACK of new data; cwnd is not touched. */
	if (c->snd_una == c->snd_max)
		return;
	TCP_COUNT(c->n, loss_probe);
	c->probed = true;
	uint32_t data_end = c->snd_buf_seq + c->snd.len;
	uint32_t end = tcp_seq_lt(data_end, c->snd_max) ? data_end : c->snd_max;
	if (c->in_recovery || !tcp_seq_lt(c->snd_una, end)) {
		tcp_rexmt_at(c, c->snd_una, c->snd_max - c->snd_una, true, now);
	} else {
		uint32_t n = end - c->snd_una < c->mss ? end - c->snd_una : c->mss;
		tcp_rexmt_at(c, end - n, n, true, now);
	}
}

static void tcp_persist_timeout(struct tcp_conn *c, uint64_t now)
{
	/* RFC 9293 3.8.6.1: one byte beyond the zero window; RFC 1122
	 * 4.2.2.17: exponential backoff, and no abort while the peer answers. */
	TCP_COUNT(c->n, persist_probe);
	if (++c->retries > TCP_RETRIES) {
		/* No answer to any probe (an answer resets the count, in
		 * tcp_process_ack): the peer is gone. */
		TCP_COUNT(c->n, aborted_timeout);
		tcp_send(c, c->snd_nxt, TH_RST | TH_ACK, 0, now);
		tcp_set_closed(c, ATL_ETIMEDOUT);
		return;
	}
	if (tcp_unsent(c) > 0 && tcp_seq_le(c->snd_wl2 + c->snd_wnd, c->snd_nxt)) {
		tcp_send(c, c->snd_nxt, TH_ACK, 1, now);
		if (tcp_seq_lt(c->snd_max, c->snd_nxt + 1))
			c->snd_max = c->snd_nxt + 1;
	}
	c->persist_ns *= 2;
	if (c->persist_ns > TCP_PERSIST_MAX_NS)
		c->persist_ns = TCP_PERSIST_MAX_NS;
	if (c->persist_ns < TCP_RTO_MIN_NS)
		c->persist_ns = TCP_RTO_MIN_NS;
	c->t_persist = now + c->persist_ns;
}

static void tcp_keep_timeout(struct tcp_conn *c, uint64_t now)
{
	if (c->keep_probes >= TCP_KEEPCNT) {
		TCP_COUNT(c->n, aborted_timeout);
		tcp_send(c, c->snd_nxt, TH_RST | TH_ACK, 0, now);
		tcp_set_closed(c, ATL_ETIMEDOUT);
		return;
	}
	/* RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 makes the
	 * peer answer with an ACK. */
	TCP_COUNT(c->n, keepalive_probe);
	c->keep_probes++;
	tcp_send(c, c->snd_una - 1, TH_ACK, 0, now);
	c->t_keep = now + TCP_KEEPINTVL_NS;
}

void tcp_tick(struct tcp_conn *c, uint64_t now)
{
	if (c->state == TCP_CLOSED)
		return;
	if (c->t_close <= now) {
		c->t_close = DEADLINE_NEVER;
		/* TIME-WAIT over (RFC 9293 3.10.8), or FIN-WAIT-2 given up. */
		tcp_set_closed(c, 0);
		return;
	}
	if (c->t_rexmt <= now) {
		c->t_rexmt = DEADLINE_NEVER;
		tcp_rexmt_timeout(c, now);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (c->t_probe <= now) {
		c->t_probe = DEADLINE_NEVER;
		tcp_probe_timeout(c, now);
	}
	if (c->t_persist <= now) {
		c->t_persist = DEADLINE_NEVER;
		tcp_persist_timeout(c, now);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (c->t_keep <= now) {
		c->t_keep = DEADLINE_NEVER;
		tcp_keep_timeout(c, now);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (c->t_delack <= now) {
		c->t_delack = DEADLINE_NEVER;
		TCP_COUNT(c->n, delack);
		c->ack_now = true;
	}
	tcp_output(c, now);
}

/* ---- For tcp_api.c ---------------------------------------------------------------- */

struct tcp_conn *tcp_conn_new(struct net *n)
{
	return tcp_alloc(n);
}

void tcp_conn_kick(struct tcp_conn *c, uint64_t now)
{
	tcp_output(c, now);
}

/* An ACK due now, but sent only once the fibers running now have run
 * (the loop fires timers before it waits): what they write meanwhile
 * carries it instead. */
void tcp_conn_ack_soon(struct tcp_conn *c, uint64_t now)
{
	if (c->t_delack > now) {
		c->t_delack = now;
		tcp_arm(c);
	}
}

/* The application closed c: finish in the background or free it now. */
void tcp_conn_release(struct tcp_conn *c, uint64_t now)
{
	c->app_owned = false;
	if (c->state == TCP_CLOSED) {
		tcp_free(c);
		return;
	}
	if (c->rcv.len > 0 || c->state == TCP_SYN_SENT) {
		/* RFC 9293 3.10.4 / RFC 1122 4.2.2.13: unread data is lost:
		 * tell the peer with a RST rather than a FIN. */
		if (c->state != TCP_SYN_SENT) {
			tcp_send(c, c->snd_nxt, TH_RST | TH_ACK, 0, now);
			TCP_COUNT(c->n, rst_tx);
		}
		tcp_set_closed(c, 0);
		return;
	}
	if (c->state == TCP_FIN_WAIT_2)
		c->t_close = now + TCP_FINWAIT2_NS;
	tcp_arm(c);
}
