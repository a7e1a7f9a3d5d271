/*
 * stack.h - what applications see of the network: the UDP interface.
 *
 * Two implementations stand behind it: atoll's own stack (lib/net, over a
 * platform network device) and the socket stack (platform/hosted/
 * sockstack.c, over the host kernel's sockets, chosen on hosted with
 * --stack=socket).  An application is written once against this header.
 *
 * Calls that wait (udp_recvfrom) must be made from a fiber; the rest never
 * wait.  Addresses and ports are in host byte order.
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

struct stack_ops {
	const char *name; /* "atoll" or "socket" */
	int (*udp_open)(struct stack *st, const struct ip4_ep *local, struct udp_sock **out);
	int (*udp_sendto)(struct udp_sock *s, const struct ip4_ep *to, const void *data,
			  size_t len);
	int (*udp_recvfrom)(struct udp_sock *s, struct ip4_ep *from, void *buf, size_t cap,
			    size_t *len, uint64_t deadline);
	void (*udp_close)(struct udp_sock *s);
};

struct stack {
	const struct stack_ops *ops;
	struct loop *loop;
};

/* Every implementation's struct udp_sock begins with its struct stack *,
 * which the inline wrappers below use to find the ops. */

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

/* "a.b.c.d" -> host order; ATL_EINVAL if malformed. */
int ip4_parse(const char *s, uint32_t *addr);
/* "a.b.c.d/len" */
int ip4_parse_prefix(const char *s, uint32_t *addr, unsigned *prefix);
/* "a.b.c.d:port" */
int ip4_parse_ep(const char *s, struct ip4_ep *ep);
/* Formats into buf (at least 16 bytes) and returns it. */
const char *ip4_fmt(uint32_t addr, char *buf);

#endif
