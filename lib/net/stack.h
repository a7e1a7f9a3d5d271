/*
 * stack.h - what applications see of the network: UDP and TCP.
 *
 * Two implementations stand behind it: atoll's own stack (lib/net, over a
 * platform network device) and the socket stack (platform/hosted/
 * sockstack.c, over the host kernel's sockets, chosen on hosted with
 * --stack=socket).  An application is written once against this header.
 *
 * Calls that take a deadline wait in the calling fiber until then (an
 * absolute time of loop_now; DEADLINE_NEVER waits for ever).  A deadline
 * already past (TCP_NOWAIT) never waits: the call does what it can at once
 * and returns ATL_EAGAIN if that is nothing, which is the non-blocking
 * form for event-driven code (tcp_events says what is ready).  Calls
 * without a deadline never wait.  Addresses and ports are in host byte
 * order.
 */
#ifndef ATOLL_NET_STACK_H
#define ATOLL_NET_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

struct ip4_ep {
	uint32_t addr; /* 0 = any */
	uint16_t port; /* 0 = any (on open: pick an ephemeral port) */
};

struct stack;
struct udp_sock;
struct tcp_conn;
struct tcp_listener;

/* A deadline that never waits. */
#define TCP_NOWAIT 0

/* tcp_events bits */
#define TCP_EV_READABLE 1u /* tcp_read returns data, the end of the stream or an error */
#define TCP_EV_WRITABLE 2u /* tcp_write can queue at least one byte */
#define TCP_EV_CLOSED	4u /* the connection is over (error or both sides closed) */

enum tcp_opt {
	TCP_OPT_NODELAY,   /* 1: Nagle off (send short segments at once) */
	TCP_OPT_KEEPALIVE, /* 1: keep-alive probes after 2 h idle (RFC 1122 4.2.3.6) */
};

struct stack_ops {
	const char *name; /* "atoll" or "socket" */
	int (*udp_open)(struct stack *st, const struct ip4_ep *local, struct udp_sock **out);
	int (*udp_sendto)(struct udp_sock *s, const struct ip4_ep *to, const void *data,
			  size_t len);
	int (*udp_recvfrom)(struct udp_sock *s, struct ip4_ep *from, void *buf, size_t cap,
			    size_t *len, uint64_t deadline);
	void (*udp_close)(struct udp_sock *s);

	int (*tcp_listen)(struct stack *st, const struct ip4_ep *local, unsigned backlog,
			  struct tcp_listener **out);
	int (*tcp_accept)(struct tcp_listener *ls, struct tcp_conn **out, struct ip4_ep *peer,
			  uint64_t deadline);
	void (*tcp_unlisten)(struct tcp_listener *ls);
	int (*tcp_connect)(struct stack *st, const struct ip4_ep *remote, struct tcp_conn **out,
			   uint64_t deadline);
	int (*tcp_read)(struct tcp_conn *c, void *buf, size_t cap, size_t *len, uint64_t deadline);
	int (*tcp_write)(struct tcp_conn *c, const void *data, size_t len, size_t *done,
			 uint64_t deadline);
	int (*tcp_shutdown)(struct tcp_conn *c);
	void (*tcp_close)(struct tcp_conn *c);
	int (*tcp_setopt)(struct tcp_conn *c, enum tcp_opt opt, int value);
	unsigned (*tcp_events)(struct tcp_conn *c);
};

struct stack {
	const struct stack_ops *ops;
	struct loop *loop;
};

/* Every implementation's struct udp_sock, tcp_listener and tcp_conn begins
 * with its struct stack *, which the inline wrappers below use to find the
 * ops. */
#define STACK_OPS_OF(obj) (((struct stack *const *)(obj))[0]->ops)

/*
 * Open the network stack for the app's device dev.  The boot arguments
 * choose and configure it: stack=socket (set by hosted --stack=socket)
 * selects host sockets, and listen=<addr>:<port> moves a bound port there;
 * otherwise the device is acquired and configured from ipv4=, ipv4-gateway=
 * and mac= (each optionally "<dev>."-prefixed).  Errors are logged:
 * ATL_EINVAL for a missing or malformed address, ATL_ENOENT for no such
 * device, ATL_ENOTSUP for the socket stack off the hosted target.
 */
int stack_open(struct loop *l, const char *dev, struct stack **out);

/* Bind a UDP socket.  ATL_EADDRINUSE if taken, ATL_ENOMEM if none left. */
static inline int udp_open(struct stack *st, const struct ip4_ep *local, struct udp_sock **out)
{
	return st->ops->udp_open(st, local, out);
}

/* Send one datagram of up to 65507 bytes (fragmented as needed).  ATL_OK
 * once queued; ATL_EMSGSIZE if too large; ATL_ENOMEM if no buffer;
 * ATL_EHOSTUNREACH if there is no route.  A datagram waiting for ARP is
 * queued and sent once the address resolves (or dropped and counted). */
static inline int udp_sendto(struct udp_sock *s, const struct ip4_ep *to, const void *data,
			     size_t len)
{
	return ((struct stack *const *)s)[0]->ops->udp_sendto(s, to, data, len);
}

/* Wait for one datagram until deadline.  It is copied to buf; *len is its
 * full length (ATL_EMSGSIZE, with cap bytes copied, if it was longer than
 * cap).  ATL_ETIMEDOUT, ATL_ESTOPPED as for fiber_wait. */
static inline int udp_recvfrom(struct udp_sock *s, struct ip4_ep *from, void *buf, size_t cap,
			       size_t *len, uint64_t deadline)
{
	return ((struct stack *const *)s)[0]->ops->udp_recvfrom(s, from, buf, cap, len, deadline);
}

static inline void udp_close(struct udp_sock *s)
{
	((struct stack *const *)s)[0]->ops->udp_close(s);
}

/* ---- TCP ---------------------------------------------------------------------
 *
 * Ownership: a struct tcp_conn or tcp_listener belongs to the application
 * from the call that returns it until tcp_close / tcp_unlisten, after which
 * it must not be touched (the stack may keep the memory for the rest of the
 * connection's life, e.g. while its FIN is acknowledged and in TIME-WAIT).
 * No fiber may be waiting in a call on it when it is closed.  Data passed to
 * tcp_write is copied; tcp_read copies out.  At most one fiber should read
 * and one write a connection at a time.
 *
 * Errors common to every call on a connection: ATL_ECONNRESET (the peer
 * sent RST), ATL_ETIMEDOUT as a sticky connection error (retransmissions or
 * keep-alive gave up: distinguishable from a deadline only by tcp_events
 * having TCP_EV_CLOSED), ATL_ESTOPPED (the loop is stopping), ATL_EAGAIN
 * (a TCP_NOWAIT call could do nothing).
 */

/* Listen on local (addr 0: any of ours; port required) with a queue of at
 * most backlog connections being set up or not yet accepted (1..128).
 * ATL_EADDRINUSE, ATL_ENOMEM (no listener or no memory for TCP). */
static inline int tcp_listen(struct stack *st, const struct ip4_ep *local, unsigned backlog,
			     struct tcp_listener **out)
{
	return st->ops->tcp_listen(st, local, backlog, out);
}

/* Wait for an established connection; *peer (may be NULL) gets its
 * address.  ATL_ETIMEDOUT at the deadline. */
static inline int tcp_accept(struct tcp_listener *ls, struct tcp_conn **out, struct ip4_ep *peer,
			     uint64_t deadline)
{
	return STACK_OPS_OF(ls)->tcp_accept(ls, out, peer, deadline);
}

/* Stop listening; connections not yet accepted are reset. */
static inline void tcp_unlisten(struct tcp_listener *ls)
{
	STACK_OPS_OF(ls)->tcp_unlisten(ls);
}

/* Open a connection to remote from an ephemeral port and wait until it is
 * established.  ATL_ECONNREFUSED, ATL_ETIMEDOUT (the deadline, or SYN
 * retries exhausted), ATL_EHOSTUNREACH, ATL_ENOMEM (no connection free).
 * On failure nothing is left to close. */
static inline int tcp_connect(struct stack *st, const struct ip4_ep *remote, struct tcp_conn **out,
			      uint64_t deadline)
{
	return st->ops->tcp_connect(st, remote, out, deadline);
}

/* Wait until data, the end of the stream or an error; copy up to cap
 * bytes to buf.  ATL_OK with *len > 0: data; ATL_OK with *len == 0: the
 * peer has closed its side (end of stream, and every later call too). */
static inline int tcp_read(struct tcp_conn *c, void *buf, size_t cap, size_t *len,
			   uint64_t deadline)
{
	return STACK_OPS_OF(c)->tcp_read(c, buf, cap, len, deadline);
}

/* Queue len bytes for sending, waiting for buffer room as needed until the
 * deadline.  *done (may be NULL) is how many were queued: all of them on
 * ATL_OK, fewer with ATL_ETIMEDOUT / ATL_EAGAIN or an error.  ATL_ENOTCONN
 * after tcp_shutdown or before the connection is established. */
static inline int tcp_write(struct tcp_conn *c, const void *data, size_t len, size_t *done,
			    uint64_t deadline)
{
	return STACK_OPS_OF(c)->tcp_write(c, data, len, done, deadline);
}

/* Close the sending side (a FIN follows the queued data); reading goes on
 * until the peer closes its side.  Never waits. */
static inline int tcp_shutdown(struct tcp_conn *c)
{
	return STACK_OPS_OF(c)->tcp_shutdown(c);
}

/* Give the connection back.  Queued data is still delivered and the FIN
 * sent in the background; if received data was left unread the peer gets a
 * RST instead (RFC 1122 4.2.2.13).  Never waits. */
static inline void tcp_close(struct tcp_conn *c)
{
	STACK_OPS_OF(c)->tcp_close(c);
}

static inline int tcp_setopt(struct tcp_conn *c, enum tcp_opt opt, int value)
{
	return STACK_OPS_OF(c)->tcp_setopt(c, opt, value);
}

/* TCP_EV_* bits: what a call could do now without waiting. */
static inline unsigned tcp_events(struct tcp_conn *c)
{
	return STACK_OPS_OF(c)->tcp_events(c);
}

/* "a.b.c.d" -> host order; ATL_EINVAL if malformed. */
int ip4_parse(const char *s, uint32_t *addr);
/* "a.b.c.d/len" */
int ip4_parse_prefix(const char *s, uint32_t *addr, unsigned *prefix);
/* "a.b.c.d:port" */
int ip4_parse_ep(const char *s, struct ip4_ep *ep);
/* Formats into buf (at least 16 bytes) and returns it. */
const char *ip4_fmt(uint32_t addr, char *buf);

#endif
