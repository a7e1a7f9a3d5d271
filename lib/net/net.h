/*
 * net.h - atoll's own network stack, inside view: one network interface
 * (a platform device) with Ethernet II, ARP, IPv4, ICMPv4 and UDP.
 *
 * Applications use stack.h only.  This header is for the stack's own
 * files, for unit tests and for fuzz targets, which drive the protocol
 * cores directly:
 *
 *   net_input(n, pkt, now)   one received frame; never does I/O except
 *                            through net_xmit (replies, flushed ARP queues)
 *   net_poll(l, n)           the device watch handler: drains the device
 *                            in batches and calls net_input
 *   arp_tick / ip4_reasm_tick   what the stack's two timers do at `now`
 *
 * Every frame the stack sends goes through net_xmit, the one call of
 * plat_net_send.  All state lives in struct net (allocated from the heap
 * in stack_open); there are no globals.
 *
 * Static configuration, IPv4 only.  See docs/net.md for what is and is
 * not implemented.
 */
#ifndef ATOLL_NET_NET_H
#define ATOLL_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/mem.h"
#include "net/pkt.h"
#include "net/stack.h"
#include "net/tcp.h"

/* ---- Tunables: every default and its meaning, in one place ----------- */

/* Packet buffers (PKT_SIZE = 2 KiB each) in the pool; boot argument
 * net-buffers= (optionally "<dev>."-prefixed).  128 buffers = 256 KiB:
 * enough for a 64 KiB datagram being reassembled, another queued on a
 * socket and the fragments of a reply, all at once. */
#define NET_BUFFERS_DEFAULT 128
#define NET_BUFFERS_MIN	    16
#define NET_BUFFERS_MAX	    16384
/* The stack's MTU is the device's, capped to what a buffer holds. */
#define NET_MTU_MAX 1500
#define NET_MTU_MIN 68 /* RFC 791: every module must forward 68 bytes */
/* Frames per plat_net_recv / plat_net_send call; without offloads the
 * receive ring holds NET_RX_BATCH buffers (with them NET_RX_SLOTS). */
#define NET_RX_BATCH 16
#define NET_TX_BATCH 16
/* With device offloads (virtio-net header, TSO/GRO; docs/net.md): slots
 * per call, enough for one 64 KiB frame scattered over 2 KiB buffers and
 * more, and the default pool: 512 buffers = 1 MiB, room for several such
 * frames in flight plus the reserve. */
#define NET_RX_SLOTS		    64
#define NET_TX_SLOTS		    64
#define NET_BUFFERS_OFFLOAD_DEFAULT 512
#define NET_TSO_MAX		    65535 /* IPv4 datagram bytes per super-segment */

/* ARP (RFC 826, RFC 1122 2.3.2). */
#ifdef ATOLL_FUZZ
#define ARP_CACHE_SIZE 8 /* the fuzzer reaches eviction sooner */
#else
#define ARP_CACHE_SIZE 64 /* entries; the one nearest its end is evicted */
#endif
#define ARP_REACHABLE_NS   (60 * NS_PER_SEC) /* a learned entry lives this long */
#define ARP_REFRESH_NS	   (5 * NS_PER_SEC)  /* used this close to expiry: unicast re-request */
#define ARP_RETRY_NS	   (1 * NS_PER_SEC)  /* RFC 1122 2.3.2.1: at most 1 request/s/address */
#define ARP_TRIES	   3		     /* requests before giving up */
#define ARP_FAILED_HOLD_NS (3 * NS_PER_SEC)  /* after giving up: EHOSTUNREACH this long */
#define ARP_QUEUE_MAX	   48		     /* frames waiting per address (a 64 KiB datagram) */
#define ARP_QUEUE_TOTAL	   64		     /* frames waiting over all addresses */

/* IPv4 (RFC 791, RFC 1122 3.3.2). */
#define IP4_TTL		 64
#define REASM_SLOTS	 8		   /* datagrams reassembled at once */
#define REASM_TIMEOUT_NS (30 * NS_PER_SEC) /* from the first fragment */
/* Buffers held by all reassemblies together: net-buffers / 2. */

/* ICMP errors (RFC 1122 3.2.2): a token bucket over all destinations. */
#define ICMP_ERR_BURST	     10
#define ICMP_ERR_INTERVAL_NS (100 * NS_PER_MS) /* one token per interval */

/* UDP. */
#define UDP_SOCKS	 32    /* open sockets per stack */
#define UDP_RXQ_DGRAMS	 32    /* datagrams waiting per socket */
#define UDP_RXQ_BUFS	 64    /* buffers waiting per socket */
#define UDP_EPHEMERAL_LO 49152 /* RFC 6335 6: the dynamic port range */
#define UDP_EPHEMERAL_HI 65535

/* The boot arguments the stack reads; an app may list them among its
 * declared arguments (struct plat_arg_decl) so they are not reported as
 * unknown. */
/* clang-format off */
#define NET_ARG_DECLS                                                            \
	{"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24"},                   \
	{"ipv4-gateway", "default gateway address"},                             \
	{"mac", "MAC address (default: from the platform)"},                     \
	{"net-buffers", "packet buffers of 2 KiB (default 128, 512 with TSO/GRO)"}, \
	TCP_ARG_DECLS
/* clang-format on */

/* ---- Counters: one group per protocol, one counter per event ----------- */

#define ETH_COUNTERS(X)                                                                            \
	X(eth, rx)                                                                                 \
	X(eth, tx)                                                                                 \
	X(eth, truncated)    /* shorter than an Ethernet header */                                 \
	X(eth, not_for_us)   /* another unicast or a multicast destination */                      \
	X(eth, bad_src)	     /* multicast source address */                                        \
	X(eth, vlan)	     /* 802.1Q tagged: not supported */                                    \
	X(eth, unknown_type) /* neither IPv4 nor ARP */                                            \
	X(eth, rx_errors)    /* plat_net_recv failed */                                            \
	X(eth, tx_errors)    /* plat_net_send failed or sent short: frames lost */                 \
	X(eth, rx_gso)	     /* offloads: super-frames received (GRO or unsegmented) */            \
	X(eth, rx_csum_host) /* offloads: L4 checksum vouched for by the host */                   \
	X(eth, tx_gso)	     /* offloads: super-frames sent, cut by the host (TSO) */              \
	X(eth, bad_vnet)     /* offloads: a frame without a sound virtio-net header */

#define PKT_COUNTERS(X)                                                                            \
	X(pkt, total)                                                                              \
	X(pkt, in_use)	      /* buffers that hold data (the receive ring's not counted) */        \
	X(pkt, hwm)	      /* most buffers taken from the pool at once, the ring's too */       \
	X(pkt, rx_posted)     /* buffers in the receive ring, waiting for frames */                \
	X(pkt, rx_nobuf_drop) /* frames drained unread: too few free buffers */                    \
	X(pkt, tx_nobuf_drop) /* datagrams not sent: no buffer */

#define ARP_COUNTERS(X)                                                                            \
	X(arp, rx)                                                                                 \
	X(arp, truncated)                                                                          \
	X(arp, bad_format) /* not Ethernet/IPv4 or bad lengths */                                  \
	X(arp, bad_sender) /* broadcast/multicast sender MAC, or an off-link sender */             \
	X(arp, conflict)   /* someone else claims our address */                                   \
	X(arp, requests_rx)                                                                        \
	X(arp, replies_rx)                                                                         \
	X(arp, ignored) /* not about us and nothing to merge */                                    \
	X(arp, requests_tx)                                                                        \
	X(arp, replies_tx)                                                                         \
	X(arp, learned)                                                                            \
	X(arp, updated)                                                                            \
	X(arp, resolved)    /* an incomplete entry got its address */                              \
	X(arp, queued)	    /* frames queued while resolving */                                    \
	X(arp, queue_drop)  /* frames dropped: pending queue full */                               \
	X(arp, giveup)	    /* resolutions abandoned after ARP_TRIES requests */                   \
	X(arp, giveup_drop) /* frames dropped with them */                                         \
	X(arp, expired)                                                                            \
	X(arp, evicted)                                                                            \
	X(arp, evict_drop) /* frames dropped with evicted entries */

#define IP4_COUNTERS(X)                                                                            \
	X(ipv4, rx)                                                                                \
	X(ipv4, delivered)                                                                         \
	X(ipv4, truncated) /* shorter than the header or its IHL */                                \
	X(ipv4, bad_version)                                                                       \
	X(ipv4, bad_ihl) /* IHL < 5 */                                                             \
	X(ipv4, bad_len) /* total length below the header or beyond the frame */                   \
	X(ipv4, bad_cksum)                                                                         \
	X(ipv4, bad_src) /* broadcast, multicast, loopback or class E source */                    \
	X(ipv4, not_for_us)                                                                        \
	X(ipv4, options)       /* datagrams with options (skipped, not dropped) */                 \
	X(ipv4, unknown_proto) /* answered with protocol unreachable */                            \
	X(ipv4, frag_rx)                                                                           \
	X(ipv4, frag_bad)	/* non-last fragment not a multiple of 8, or empty */              \
	X(ipv4, frag_dup)	/* exact duplicate: ignored */                                     \
	X(ipv4, frag_overlap)	/* overlap: the whole datagram dropped */                          \
	X(ipv4, frag_dead_drop) /* fragments of a datagram already dropped */                      \
	X(ipv4, frag_toobig)	/* would reassemble past 65535 bytes: datagram dropped */          \
	X(ipv4, reasm_ok)                                                                          \
	X(ipv4, reasm_timeout)                                                                     \
	X(ipv4, reasm_limit) /* dropped to stay within REASM_SLOTS or the buffer budget */         \
	X(ipv4, tx)                                                                                \
	X(ipv4, tx_frags)                                                                          \
	X(ipv4, tx_no_route)                                                                       \
	X(ipv4, tx_toobig)                                                                         \
	X(ipv4, tx_df_toobig) /* DF set and beyond the MTU: refused, not fragmented */

#define ICMP_COUNTERS(X)                                                                           \
	X(icmp, rx)                                                                                \
	X(icmp, truncated)                                                                         \
	X(icmp, bad_cksum)                                                                         \
	X(icmp, echo_rx)                                                                           \
	X(icmp, echo_tx)                                                                           \
	X(icmp, echo_bcast_drop) /* RFC 1122 3.2.2.6: broadcast echo ignored */                    \
	X(icmp, echo_tx_fail)                                                                      \
	X(icmp, echo_reply_rx)                                                                     \
	X(icmp, errors_rx)                                                                         \
	X(icmp, errors_to_tcp) /* errors quoting a TCP segment, passed to TCP */                   \
	X(icmp, unknown_type)                                                                      \
	X(icmp, unreach_tx)                                                                        \
	X(icmp, timex_tx)                                                                          \
	X(icmp, err_ratelimit_drop)                                                                \
	X(icmp, err_suppressed) /* RFC 1122 3.2.2: no error about that datagram */

#define UDP_COUNTERS(X)                                                                            \
	X(udp, rx)                                                                                 \
	X(udp, delivered)                                                                          \
	X(udp, truncated)                                                                          \
	X(udp, bad_len)                                                                            \
	X(udp, bad_cksum)                                                                          \
	X(udp, no_cksum) /* checksum field 0: accepted (RFC 768) */                                \
	X(udp, no_port)                                                                            \
	X(udp, queue_full_drop)                                                                    \
	X(udp, tx)                                                                                 \
	X(udp, tx_errors)

#define NET_COUNTER_ENUM(g, name) C_##g##_##name,
enum eth_counter { ETH_COUNTERS(NET_COUNTER_ENUM) C_eth_N };
enum pkt_counter { PKT_COUNTERS(NET_COUNTER_ENUM) C_pkt_N };
enum arp_counter { ARP_COUNTERS(NET_COUNTER_ENUM) C_arp_N };
enum ipv4_counter { IP4_COUNTERS(NET_COUNTER_ENUM) C_ipv4_N };
enum icmp_counter { ICMP_COUNTERS(NET_COUNTER_ENUM) C_icmp_N };
enum udp_counter { UDP_COUNTERS(NET_COUNTER_ENUM) C_udp_N };

/* NET_COUNT(n, ipv4, bad_cksum): one more event. */
#define NET_COUNT(n, g, name)	   ((n)->cnt_##g[C_##g##_##name]++)
#define NET_COUNT_N(n, g, name, k) ((n)->cnt_##g[C_##g##_##name] += (k))

/* ---- State ------------------------------------------------------------------ */

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ARP_FAILED };

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;		     /* enum arp_state */
	uint8_t tries;		     /* requests sent while incomplete */
	uint64_t deadline;	     /* expiry, next retry or end of the failed hold */
	uint64_t next_req;	     /* no refresh request before this */
	struct pkt *q_head, *q_tail; /* frames waiting, next-linked */
	unsigned q_len;
};

struct reasm {
	bool used;
	bool dead; /* dropped (overlap, limits): later fragments are too */
	bool have_last;
	bool have_first;
	bool bcast; /* some fragment came to a broadcast address */
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	uint32_t total; /* payload length, once the last fragment came */
	uint32_t have;	/* payload bytes held (no overlaps, so coverage) */
	unsigned nbufs;
	uint64_t deadline;
	struct pkt *frags; /* sorted by frag_off, more-linked: the chain to deliver */
	uint8_t quote[68]; /* fragment zero's header + 8 bytes, for ICMP errors */
	uint8_t quote_len;
};

/* The virtio-net header (virtio 1.x 5.1.6, struct virtio_net_hdr; the
 * fields little-endian): the metadata a device with offloads keeps in
 * front of each frame.  flags VNET_F_NEEDS_CSUM: the L4 checksum is
 * partial, to be completed from csum_start on and stored at csum_start +
 * csum_offset (received: the host made it and vouches for the data);
 * VNET_F_DATA_VALID: the host verified it.  gso_type other than NONE: a
 * super-frame of hdr_len header bytes and gso_size-byte segments. */
#define VNET_F_NEEDS_CSUM 0x01
#define VNET_F_DATA_VALID 0x02
#define VNET_GSO_NONE	  0
#define VNET_GSO_TCPV4	  1
#define VNET_GSO_UDP	  3
#define VNET_GSO_TCPV6	  4
#define VNET_GSO_ECN	  0x80
#define VNET_HDR_MIN	  10
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};
/* Write h into b[0..len) (len 10 or 12; the rest zero). */
void vnet_hdr_put(uint8_t *b, size_t len, const struct vnet_hdr *h);
/* Read h from b[0..len); ATL_EINVAL when len < 10. */
int vnet_hdr_get(const uint8_t *b, size_t len, struct vnet_hdr *h);

/* What IPv4 input tells the layer above about a datagram. */
struct ip4_rx {
	uint32_t src, dst;
	uint8_t proto;
	bool bcast;	   /* to a broadcast address, IP or link level */
	uint8_t quote[68]; /* IP header + first 8 payload bytes (RFC 792) */
	size_t quote_len;
};

/* The bytes of an outgoing IPv4 payload, gathered from up to three
 * places in this order: a header the caller built, a contiguous payload,
 * a received chain from byte chain_off on. */
struct ip4_src {
	bool df; /* Don't Fragment (RFC 1191): too big for the MTU is ATL_EMSGSIZE */
	const uint8_t *hdr;
	size_t hdr_len;
	const uint8_t *data;
	size_t data_len;
	const uint8_t *data2; /* after data: the rest of a ring that wraps */
	size_t data2_len;
	const struct pkt *chain;
	size_t chain_off;
	size_t chain_len;
	/* With a device that has the offloads (struct net's offloads):
	 * csum_offset nonzero leaves the checksum at that payload offset to
	 * the device (the field holds the pseudo-header sum); gso_size
	 * nonzero lets the payload exceed the MTU, hdr being the transport
	 * header that the device copies in front of each gso_size bytes. */
	uint16_t csum_offset;
	uint16_t gso_size;
};

struct udp_sock {
	struct stack *st; /* first: stack.h's wrappers find the ops through it */
	struct net *n;
	struct udp_sock *next; /* the stack's open sockets */
	uint32_t addr;	       /* 0: any of ours */
	uint16_t port;
	struct pkt *q_head, *q_tail; /* datagrams, next-linked */
	unsigned q_dgrams, q_bufs;
	struct waitq wq;
};

struct net {
	struct stack st; /* first: the stack_ops find the net through it */
	struct loop *loop;
	const char *dev;
	plat_handle_t h;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t offloads;	 /* PLAT_NET_OFF_* the device offers */
	uint16_t vnet_len;	 /* virtio-net header bytes before each frame, or 0 */
	uint32_t tso_max;	 /* IPv4 bytes per TCP super-segment, or 0: no TSO */
	uint32_t addr, mask, gw; /* gw 0: none */
	unsigned prefix;

	struct pool pkts;
	unsigned rx_reserve; /* receive never takes the last rx_reserve buffers */
	struct pkt *scratch; /* drains the device when buffers are short */
	/* The receive ring: rxp[0 .. rx_posted) are buffers taken from the
	 * pool and offered to every receive (rxf, the same slots), kept
	 * between wakeups; up to rx_ring of them while the pool has more than
	 * rx_reserve free.  Transmit takes them back when short. */
	struct plat_frame rxf[NET_RX_SLOTS];
	struct pkt *rxp[NET_RX_SLOTS];
	unsigned rx_posted, rx_ring;
	uint32_t rx_need; /* bytes of slots the largest frame may need */

	struct arp_entry *arp; /* ARP_CACHE_SIZE entries */
	unsigned arp_queued;   /* frames waiting in all entries */
	struct timer arp_timer;

	uint16_t ip_id;
	struct reasm reasm[REASM_SLOTS];
	unsigned reasm_bufs, reasm_max_bufs;
	struct timer reasm_timer;

	unsigned icmp_tokens;
	uint64_t icmp_refill; /* time of the last token added */

	struct pool socks;
	struct udp_sock *udp;
	struct tcp *tcp; /* NULL until the first TCP call (tcp.h) */
	uint16_t udp_next_port;

	uint64_t cnt_eth[C_eth_N], cnt_pkt[C_pkt_N], cnt_arp[C_arp_N];
	uint64_t cnt_ipv4[C_ipv4_N], cnt_icmp[C_icmp_N], cnt_udp[C_udp_N];
	struct counter_group groups[6];
	char group_names[6][40];
};

static inline struct net *net_of(struct stack *st)
{
	return (struct net *)st;
}

/* ---- The interface between the stack's files -------------------------------- */

/* net.c: Ethernet and the device. */
void net_poll(struct loop *l, void *arg);
void net_input(struct net *n, struct pkt *p, uint64_t now);
/* Give the receive ring's posted buffers back to the pool (a sender
 * short of buffers; the next receive posts them again). */
void net_rx_release(struct net *n);
/* Send a next-linked list of complete frames and free them. */
void net_xmit(struct net *n, struct pkt *frames);
/* Start a frame in a fresh pkt: write the Ethernet header and return a
 * writer positioned after it.  The caller sets p->len = w->pos. */
void net_eth_begin(struct net *n, struct pkt *p, struct wr *w, const uint8_t dst[6], uint16_t type);
/* Finish a frame: pad it to the Ethernet minimum and set its length. */
void net_eth_end(struct pkt *p, struct wr *w);
void net_stats_sync(struct net *n);
extern const uint8_t net_bcast_mac[6];

/* arp.c */
int arp_init(struct net *n);
void arp_input(struct net *n, struct pkt *p, uint64_t now);
void arp_announce(struct net *n);
/* Resolve next hop ip: ATL_OK with mac filled; ATL_EAGAIN when the frames
 * must wait (*e is the entry to queue them on with arp_enqueue);
 * ATL_EHOSTUNREACH when resolution recently failed; ATL_ENOMEM when the
 * queue cannot take nframes more frames. */
int arp_resolve(struct net *n, uint32_t ip, uint64_t now, uint8_t mac[6], unsigned nframes,
		struct arp_entry **e);
void arp_enqueue(struct net *n, struct arp_entry *e, struct pkt *frames, unsigned nframes);
void arp_tick(struct net *n, uint64_t now);

/* ip4.c */
void ip4_input(struct net *n, struct pkt *p, bool link_bcast, uint64_t now);
/* Send a datagram of len payload bytes from src to dst.  ATL_OK when
 * sent or queued for ARP; ATL_EMSGSIZE, ATL_ENOMEM, ATL_EHOSTUNREACH,
 * ATL_EINVAL (dst 0). */
int ip4_output(struct net *n, uint32_t dst, uint8_t proto, const struct ip4_src *src, uint64_t now);
bool ip4_is_bcast(const struct net *n, uint32_t a);
void ip4_reasm_tick(struct net *n, uint64_t now);
void ip4_reasm_init(struct net *n);

/* icmp.c */
void icmp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now);
/* Send an ICMP error about the datagram described by rx, subject to the
 * RFC 1122 3.2.2 rules and the rate limit. */
void icmp_error(struct net *n, const struct ip4_rx *rx, uint8_t type, uint8_t code, uint64_t now);

/* udp.c */
int udp_init(struct net *n);
void udp_input(struct net *n, const struct ip4_rx *rx, struct pkt *p, uint64_t now);
extern const struct stack_ops net_stack_ops;

#endif
