/*
 * tcp.h - TCP (RFC 9293) of atoll's own stack, inside view: the
 * connection control block, the tunables and the calls between tcp.c and
 * the rest of the stack.  Applications use stack.h.
 *
 * The protocol core does no I/O of its own: segments come in through
 * tcp_input with the time, timers go through tcp_tick with the time, and
 * every segment out goes through ip4_output (and so net_xmit, the one
 * call of plat_net_send).  Unit tests and the fuzz target drive it over
 * fakeplat with a clock they set.
 *
 * Memory: all of it is taken when the first TCP call is made, in one
 * block sized by the boot arguments tcp-conns= and tcp-buf=: a pool of
 * control blocks, each with a send and a receive ring of tcp-buf bytes.
 * A connection never grows beyond that.  Out-of-order data is kept in the
 * receive ring itself, at its place beyond the in-order bytes, so it is
 * bounded by the window we advertise.  When no control block is free a
 * control block in TIME-WAIT is recycled first; failing that, a SYN is
 * answered with a SYN cookie if half-open connections hold blocks (a
 * flood, likely), with RST (counted) if every block is a live connection,
 * and established connections carry on untouched.  A SYN beyond a
 * listener's backlog is answered with a cookie too (tcp.c, "SYN cookies").
 */
#ifndef ATOLL_NET_TCP_H
#define ATOLL_NET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

/* ---- Tunables ------------------------------------------------------------ */

#define TCP_CONNS_DEFAULT 16 /* tcp-conns=: control blocks (listeners apart) */
#define TCP_CONNS_MAX	  4096
#define TCP_BUF_DEFAULT	  (32 * 1024) /* tcp-buf=: bytes per direction per connection */
#define TCP_BUF_MIN	  4096
#define TCP_BUF_MAX	  (4u << 20)
#define TCP_LISTENERS	  8 /* listening ports per stack */
#define TCP_BACKLOG_MAX	  128

#define TCP_MSS_DEFAULT 536 /* RFC 9293 3.7.1: when the peer sends no MSS option */
#define TCP_OOO_MAX	8   /* out-of-order ranges held in the receive ring */
#define TCP_SACKED_MAX	16  /* SACKed ranges remembered as a sender (the lowest) */
#define TCP_DUPTHRESH	3   /* RFC 5681 3.2, RFC 6675 2: duplicate ACKs, SACKed ranges */

/* RFC 6298 2: the initial RTO is 1 s, never below 1 s (2.4: we take
 * 200 ms as Linux does; the RFC allows a lower bound "MAY"), 60 s at most. */
#define TCP_RTO_INIT_NS (1 * NS_PER_SEC)
#define TCP_RTO_MIN_NS	(200 * NS_PER_MS)
#define TCP_RTO_MAX_NS	(60 * NS_PER_SEC)
#define TCP_SYN_RETRIES 6  /* SYN or SYN-ACK transmissions before giving up */
#define TCP_RETRIES	15 /* RFC 1122 4.2.3.5 R2: data retransmissions before abort */
/* Loss probes (after RFC 8985 7): with data in flight and no ACK for
 * max(2 SRTT, this), one segment is resent to draw an ACK with SACKs. */
#define TCP_PTO_MIN_NS (10 * NS_PER_MS)
/* Path MTU discovery (RFC 1191): the lowest path MTU believed, 576 (the
 * datagram every IPv4 host must accept, RFC 791), so MSS 536 less
 * options; lower claims in ICMP are taken as 576. */
#define TCP_PMTU_MIN 576

/* RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: ACK delay below 0.5 s; every
 * second full-sized segment is acknowledged at once. */
#define TCP_DELACK_NS (40 * NS_PER_MS)
/* Zero-window probing (RFC 9293 3.8.6.1): first probe after one RTO,
 * backing off to this. */
#define TCP_PERSIST_MAX_NS (60 * NS_PER_SEC)
/* RFC 1122 4.2.3.6: keep-alive idle time >= 2 h by default; 75 s between
 * probes, 9 unanswered probes end the connection (as Linux). */
#define TCP_KEEPIDLE_NS	 (7200 * NS_PER_SEC)
#define TCP_KEEPINTVL_NS (75 * NS_PER_SEC)
#define TCP_KEEPCNT	 9
/* TIME-WAIT: 2 MSL with MSL = 30 s (RFC 9293 3.4.2 suggests 2 min; Linux
 * keeps TIME-WAIT 60 s).  Bounded: a TIME-WAIT block is reused when a new
 * connection needs one. */
#define TCP_TIMEWAIT_NS (60 * NS_PER_SEC)
/* FIN-WAIT-2 after the application closed: give up after this (RFC 9293
 * leaves it open; Linux's tcp_fin_timeout). */
#define TCP_FINWAIT2_NS (60 * NS_PER_SEC)
/* ACKs sent for unacceptable pure ACKs: at most one per this interval. */
#define TCP_OOW_ACK_INTERVAL_NS (500 * NS_PER_MS)
/* SYN cookies (RFC 4987 3.6): a cookie's clock ticks every 64 s and a
 * cookie is good for its tick and the next, so for 64 to 128 s. */
#define TCP_COOKIE_TICK_NS (64 * NS_PER_SEC)
#define TCP_EPHEMERAL_LO   49152
#define TCP_EPHEMERAL_HI   65535

/* Congestion control (tcp-cc=): NewReno (RFC 5681, RFC 6582), the
 * default, or CUBIC (RFC 9438) for congestion avoidance, with NewReno's
 * fast recovery around it in both cases. */
enum tcp_cc { TCP_CC_NEWRENO, TCP_CC_CUBIC };
/* RFC 9438 4.1 and 4.6: C = 0.4, beta_cubic = 0.7 (as tenths). */
#define TCP_CUBIC_C10	 4
#define TCP_CUBIC_BETA10 7
/* RFC 9406 4.3: HyStart++'s constants (for CUBIC's first slow start). */
#define TCP_HS_MIN_RTT_THRESH_NS  (4 * NS_PER_MS)
#define TCP_HS_MAX_RTT_THRESH_NS  (16 * NS_PER_MS)
#define TCP_HS_N_RTT_SAMPLE	  8
#define TCP_HS_CSS_GROWTH_DIVISOR 4
#define TCP_HS_CSS_ROUNDS	  5

/* clang-format off */
#define TCP_ARG_DECLS                                                                      \
	{"tcp-conns", "TCP connections (default 16)"},                                     \
	{"tcp-buf", "TCP send and receive buffer bytes per connection (default 32768)"},   \
	{"tcp-cc", "TCP congestion control: newreno (default) or cubic"}
/* clang-format on */

/* ---- Counters -------------------------------------------------------------- */

#define TCP_COUNTERS(X)                                                                            \
	X(tcp, rx)                                                                                 \
	X(tcp, tx)                                                                                 \
	X(tcp, truncated)                                                                          \
	X(tcp, bad_cksum)                                                                          \
	X(tcp, bad_off)	 /* data offset below 5 or beyond the segment */                           \
	X(tcp, bad_addr) /* broadcast destination or source */                                     \
	X(tcp, no_port)	 /* answered with RST */                                                   \
	X(tcp, rst_tx)                                                                             \
	X(tcp, rst_rx)                                                                             \
	X(tcp, challenge_ack)	      /* RFC 5961 */                                               \
	X(tcp, challenge_ack_skipped) /* RFC 5961 7: over the rate limit */                        \
	X(tcp, out_of_window)	      /* unacceptable segments, answered with ACK */               \
	X(tcp, paws_drop)	      /* RFC 7323 5: old timestamp */                              \
	X(tcp, ack_too_new)	      /* acknowledges data never sent */                           \
	X(tcp, ooo_rx)		      /* segments held out of order */                             \
	X(tcp, ooo_drop)	      /* out of order beyond TCP_OOO_MAX ranges */                 \
	X(tcp, dup_rx)		      /* data already received */                                  \
	X(tcp, rcv_trim)	      /* data beyond the receive buffer, cut off */                \
	X(tcp, dsack_tx)	      /* duplicates reported with a D-SACK block (RFC 2883) */     \
	X(tcp, active_open)                                                                        \
	X(tcp, passive_open)                                                                       \
	X(tcp, established)                                                                        \
	X(tcp, conn_refused_nomem) /* SYN refused: no control block */                             \
	X(tcp, backlog_drop)	   /* cookie ACK dropped: the accept queue is full */              \
	X(tcp, syncookie_sent)	   /* SYN-ACKs with a cookie (backlog or pool full) */             \
	X(tcp, syncookie_ok)	   /* connections made from a valid cookie */                      \
	X(tcp, syncookie_bad)	   /* ACKs to a listener with no valid cookie (RST) */             \
	X(tcp, synrcvd_dropped)	   /* half-open blocks given up for a cookie's connection */       \
	X(tcp, timewait_recycled)                                                                  \
	X(tcp, rexmt_timeout)                                                                      \
	X(tcp, fast_rexmt)   /* loss recoveries begun (3 duplicate ACKs or SACK) */                \
	X(tcp, hystart_css)  /* RFC 9406: slow start left for Conservative Slow Start */           \
	X(tcp, rescue_rexmt) /* RFC 6675 rescue retransmissions */                                 \
	X(tcp, lost_rexmt)   /* retransmissions seen lost by SACKs of later data */                \
	X(tcp, rexmt_segs)                                                                         \
	X(tcp, loss_probe) /* silence for 2 SRTT with data in flight: one probe */                 \
	X(tcp, persist_probe)                                                                      \
	X(tcp, keepalive_probe)                                                                    \
	X(tcp, aborted_timeout)                                                                    \
	X(tcp, reset_by_peer)                                                                      \
	X(tcp, delack)                                                                             \
	X(tcp, tx_fail)                                                                            \
	X(tcp, icmp_rx) /* ICMP errors about a TCP segment */                                      \
	X(tcp,                                                                                     \
	  icmp_ignored) /* about no connection, or a sequence number outside SND.UNA..SND.NXT */   \
	X(tcp, pmtu_lowered) /* "fragmentation needed": a smaller MSS */                           \
	X(tcp, icmp_abort)   /* unreachable during SYN-SENT: connect fails */

#define NET_COUNTER_ENUM_TCP(g, name) C_##g##_##name,
enum tcp_counter { TCP_COUNTERS(NET_COUNTER_ENUM_TCP) C_tcp_N };

/* ---- State ------------------------------------------------------------------ */

/* RFC 9293 3.3.2 */
enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

struct tcp_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head; /* index of the first byte */
	uint32_t len;  /* bytes held from head */
};

struct tcp_range {
	uint32_t start, end; /* sequence numbers, [start, end) */
};

struct tcp_listener;

struct tcp_conn {
	struct stack *st; /* first: stack.h's wrappers find the ops through it */
	struct net *n;
	struct tcp_conn *next;	     /* the stack's connections, or the free list */
	struct tcp_listener *parent; /* passive opens until accepted */
	struct tcp_conn *aq_next;    /* the listener's accept queue */
	uint8_t state;		     /* enum tcp_state */
	bool app_owned;		     /* the application holds it (not yet tcp_close) */
	bool nodelay;		     /* Nagle off */
	bool keepalive;
	bool ts_ok, ws_ok, sack_ok; /* options agreed in the handshake */
	bool fin_queued;	    /* the application shut the send side */
	bool fin_rcvd;		    /* the peer's FIN is in sequence */
	bool have_rfin;		    /* the peer's FIN seen, maybe out of order */
	bool ack_now, in_recovery, rtt_timing, rexmt_fin;
	int err; /* sticky: ATL_ECONNRESET, ATL_ECONNREFUSED, ATL_ETIMEDOUT */

	uint32_t laddr, raddr;
	uint16_t lport, rport;

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_snd_wnd;
	uint32_t snd_buf_seq; /* sequence number of snd.buf's first byte */
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss;	  /* payload bytes per segment we send */
	uint16_t rcv_mss; /* what we announced */
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint32_t rfin_seq;
	uint32_t ts_recent, ts_offset, last_ack_sent;
	unsigned segs_unacked; /* full segments received since our last ACK */

	/* RFC 6298 */
	uint64_t srtt, rttvar, rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	unsigned retries;
	/* RFC 5681, RFC 6582 */
	uint32_t cwnd, ssthresh, recover, bytes_acked;
	unsigned dupacks;
	uint8_t cc; /* enum tcp_cc */
	/* RFC 9438 state: the window before the last reduction, the epoch's
	 * start, K (ms), and the Reno-friendly estimate W_est (bytes). */
	uint32_t w_max, w_est;
	uint64_t epoch_start, k_ms;
	/* RFC 9406 state: the round's end, the lowest RTT of this round and
	 * the last, samples this round, Conservative Slow Start and its
	 * baseline and rounds; the latest RTT sample (0: none since). */
	uint32_t hs_window_end;
	uint64_t hs_cur_min, hs_last_min, hs_css_base, rtt_last;
	unsigned hs_samples, hs_css_rounds;
	bool hs_round, hs_css;

	/* Deadlines (DEADLINE_NEVER: off); one loop timer at the earliest. */
	uint64_t t_rexmt, t_delack, t_persist, t_keep, t_close, t_probe;
	uint64_t persist_ns;
	unsigned keep_probes;
	uint64_t last_rx, last_oow_ack;
	bool oow_acked; /* last_oow_ack is set */
	struct timer timer;

	struct tcp_ring snd, rcv;
	struct tcp_range ooo[TCP_OOO_MAX];
	unsigned nooo;
	uint32_t ooo_recent;	/* start of the latest out-of-order segment (SACK order) */
	struct tcp_range dsack; /* RFC 2883: a duplicate to report in the next ACK */
	bool dsack_due;
	/* RFC 2018 sender scoreboard: ranges above SND.UNA the peer holds,
	 * sorted; how far this recovery has retransmitted (RFC 6675's
	 * HighRxt); whether its rescue retransmission was sent. */
	struct tcp_range sacked[TCP_SACKED_MAX];
	unsigned nsacked;
	uint32_t rexmt_hint;
	bool rescued;
	/* The first unacknowledged segment was retransmitted when SND.MAX was
	 * una_rxt_high (to see that retransmission lost). */
	bool una_rxt;
	uint32_t una_rxt_high;
	bool rto_recovery;   /* a timeout's go-back-N below recover goes on */
	bool probed;	     /* a loss probe went out, no ACK of new data since */
	struct waitq rq, wq; /* fibers waiting to read (or connect), to write */
};

struct tcp_listener {
	struct stack *st; /* first, as for tcp_conn */
	struct net *n;
	struct tcp_listener *next;
	uint32_t addr;
	uint16_t port;
	unsigned backlog;
	unsigned pending;		    /* SYN-RCVD and accept queue together */
	uint64_t cookie_until;		    /* cookies sent lately: ACKs are checked until then */
	struct tcp_conn *aq_head, *aq_tail; /* established, not yet accepted */
	struct waitq wq;
};

struct tcp {
	struct net *n;
	struct pool conns;
	struct pool listeners_pool;
	struct tcp_conn *list; /* in use */
	struct tcp_listener *listeners;
	uint32_t buf_size;
	uint8_t cc; /* enum tcp_cc, for new connections */
	uint16_t next_port;
	uint8_t isn_key[32]; /* RFC 6528 secret */
	uint64_t cnt[C_tcp_N];
	struct counter_group group;
	char group_name[40];
};

struct net;
struct ip4_rx;
struct pkt;

/* Set up TCP for the stack n (the first TCP call does it).  ATL_ENOMEM if
 * the heap cannot hold tcp-conns control blocks and their buffers. */
int tcp_init(struct net *n);
/* One received segment (the IP payload in p, owned by the call). */
void tcp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now);
/* An ICMP error about a segment we sent: info is the ICMP header's second
 * word (the next-hop MTU in its low 16 bits for "fragmentation needed"),
 * quote the IP header plus at least 8 bytes of the segment. */
void tcp_icmp_error(struct net *n, uint8_t type, uint8_t code, uint32_t info, const uint8_t *quote,
		    size_t len, uint64_t now);
/* What a connection's timer does at now (tests call it through the loop). */
void tcp_tick(struct tcp_conn *c, uint64_t now);
/* CUBIC's W_cubic(t) in bytes, t ns after the epoch began (RFC 9438 4.2). */
uint32_t tcp_cubic_window(const struct tcp_conn *c, uint64_t t);
/* RFC 6675 4 SetPipe(): the bytes the sender presumes in the network. */
uint32_t tcp_pipe(const struct tcp_conn *c);
/* RFC 6528 initial sequence number for a 4-tuple at time now. */
uint32_t tcp_isn(const struct tcp *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now);

/* tcp_api.c: the stack_ops of stack.h (see there for the contracts). */
struct ip4_ep;
enum tcp_opt;
int net_tcp_listen(struct stack *st, const struct ip4_ep *local, unsigned backlog,
		   struct tcp_listener **out);
int net_tcp_accept(struct tcp_listener *ls, struct tcp_conn **out, struct ip4_ep *peer,
		   uint64_t deadline);
void net_tcp_unlisten(struct tcp_listener *ls);
int net_tcp_connect(struct stack *st, const struct ip4_ep *remote, struct tcp_conn **out,
		    uint64_t deadline);
int net_tcp_read(struct tcp_conn *c, void *buf, size_t cap, size_t *len, uint64_t deadline);
int net_tcp_write(struct tcp_conn *c, const void *data, size_t len, size_t *done,
		  uint64_t deadline);
int net_tcp_shutdown(struct tcp_conn *c);
void net_tcp_close(struct tcp_conn *c);
int net_tcp_setopt(struct tcp_conn *c, enum tcp_opt opt, int value);
unsigned net_tcp_events(struct tcp_conn *c);
/* tcp.c, for tcp_api.c */
struct tcp_conn *tcp_conn_new(struct net *n);
void tcp_conn_kick(struct tcp_conn *c, uint64_t now);
void tcp_conn_ack_soon(struct tcp_conn *c, uint64_t now);
void tcp_conn_release(struct tcp_conn *c, uint64_t now);

static inline bool tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool tcp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#endif
