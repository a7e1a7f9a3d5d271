/*
 * sockstack.c - the UDP interface of lib/net/stack.h over host sockets.
 *
 * Chosen with --stack=socket: an app then runs as a plain process on the
 * host's own network stack, with no TAP and no root (and, as root, with
 * only CAP_NET_BIND_SERVICE left: see sandbox.c).  Each udp_sock is one
 * non-blocking AF_INET datagram socket registered as a platform handle, so
 * the loop can wait for it like for any device.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/args.h"
#include "core/err.h"
#include "hosted.h"
#include "net/stack.h"

#define UDP_PAYLOAD_MAX 65507 /* 65535 - 20 (IPv4 header) - 8 (UDP header) */

struct udp_sock {
	struct stack *st; /* first, as stack.h requires */
	int fd;
	plat_handle_t h;
	struct waitq readers;  /* fibers in udp_recvfrom */
	struct udp_sock *next; /* the free list, once closed */
};

struct sock_stack {
	struct stack st;
	bool listen_applied;   /* listen= has moved a port already */
	struct udp_sock *free; /* closed sockets: the heap never frees */
};

static struct sockaddr_in sin_from(const struct ip4_ep *ep)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(ep->addr);
	sin.sin_port = htons(ep->port);
	return sin;
}

/* listen=<addr>:<port> moves the first port the app binds explicitly (its
 * service port: 7 for echo, 53 for DNS) to where the host wants it, e.g.
 * off a privileged port.  Ephemeral (port 0) sockets are left alone. */
static int apply_listen(struct sock_stack *ss, struct ip4_ep *ep)
{
	struct loop *l = ss->st.loop;
	if (ss->listen_applied || ep->port == 0)
		return ATL_OK;
	ss->listen_applied = true;
	const char *v = l->start ? args_get(l->start, "listen") : NULL;
	if (!v)
		return ATL_OK;
	struct ip4_ep to;
	if (ip4_parse_ep(v, &to) != ATL_OK) {
		LOG_ERROR(l, "listen=%s: expected <addr>:<port>", v);
		return ATL_EINVAL;
	}
	char a[16], b[16];
	LOG_INFO(l, "listen=%s moves %s:%u to %s:%u", v, ip4_fmt(ep->addr, a), ep->port,
		 ip4_fmt(to.addr, b), to.port);
	*ep = to;
	return ATL_OK;
}

static int sock_udp_open(struct stack *st, const struct ip4_ep *local, struct udp_sock **out)
{
	struct sock_stack *ss = CONTAINER_OF(st, struct sock_stack, st);
	struct loop *l = st->loop;
	struct ip4_ep ep = *local;
	int rc = apply_listen(ss, &ep);
	if (rc != ATL_OK)
		return rc;

	struct udp_sock *s = ss->free;
	if (s)
		ss->free = s->next;
	else if (!(s = heap_alloc(l->heap, sizeof *s, _Alignof(struct udp_sock))))
		return ATL_ENOMEM;
	memset(s, 0, sizeof *s);
	s->st = st;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM
			 ? ATL_ENOMEM
			 : ATL_EUNSPEC;
		goto fail;
	}
	struct sockaddr_in sin = sin_from(&ep);
	if (bind(s->fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		char a[16];
		int e = errno;
		/* strerrorname_np: a fixed table, no locale files to open. */
		const char *name = strerrorname_np(e);
		LOG_ERROR(l, "bind %s:%u: %s%s", ip4_fmt(ep.addr, a), ep.port,
			  name ? name : "error",
			  e == EACCES ? " (a port below 1024 needs root; or use listen=)" : "");
		rc = e == EADDRINUSE ? ATL_EADDRINUSE : e == EACCES ? ATL_EUNSPEC : ATL_EINVAL;
		goto fail_close;
	}
	if (hosted_handle_add_fd(s->fd, &s->h) != PLAT_OK) {
		rc = ATL_ENOMEM;
		goto fail_close;
	}
	*out = s;
	return ATL_OK;
fail_close:
	close(s->fd);
fail:
	s->next = ss->free;
	ss->free = s;
	return rc;
}

static int sock_udp_sendto(struct udp_sock *s, const struct ip4_ep *to, const void *data,
			   size_t len)
{
	if (len > UDP_PAYLOAD_MAX)
		return ATL_EMSGSIZE;
	struct sockaddr_in sin = sin_from(to);
	for (;;) {
		ssize_t r =
		    sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof sin);
		if (r >= 0)
			return ATL_OK;
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
		case ENOBUFS:
		case ENOMEM:
			return ATL_ENOMEM; /* the socket's send buffer is full */
		case EMSGSIZE:
			return ATL_EMSGSIZE;
		case ENETUNREACH:
		case EHOSTUNREACH:
			return ATL_EHOSTUNREACH;
		default:
			return ATL_EUNSPEC;
		}
	}
}

/* Runs in the loop when the socket is readable: the waiting fibers do the
 * reading themselves. */
static void sock_readable(struct loop *l, void *arg)
{
	struct udp_sock *s = arg;
	waitq_wake_all(l, &s->readers);
}

static int sock_udp_recvfrom(struct udp_sock *s, struct ip4_ep *from, void *buf, size_t cap,
			     size_t *len, uint64_t deadline)
{
	struct loop *l = s->st->loop;
	for (;;) {
		struct sockaddr_in sin;
		socklen_t slen = sizeof sin;
		/* MSG_TRUNC: the datagram's real length even when it is cut
		 * (udp(7)). */
		ssize_t r = recvfrom(s->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&sin, &slen);
		if (r >= 0) {
			if (from) {
				from->addr = ntohl(sin.sin_addr.s_addr);
				from->port = ntohs(sin.sin_port);
			}
			*len = (size_t)r;
			return (size_t)r > cap ? ATL_EMSGSIZE : ATL_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return ATL_EUNSPEC;
		/* Watch the socket only while someone waits for it: readiness
		 * is level-triggered, and a watched socket nobody reads would
		 * end every plat_wait at once. */
		loop_watch(l, s->h, sock_readable, s);
		int rc = fiber_wait(l, &s->readers, deadline);
		if (waitq_empty(&s->readers))
			loop_watch(l, s->h, NULL, NULL);
		if (rc != ATL_OK)
			return rc;
	}
}

static void sock_udp_close(struct udp_sock *s)
{
	struct sock_stack *ss = CONTAINER_OF(s->st, struct sock_stack, st);
	/* Closing under a waiting fiber is the caller's bug; ASSERT says so. */
	ASSERT(waitq_empty(&s->readers));
	loop_watch(s->st->loop, s->h, NULL, NULL);
	hosted_handle_close(s->h);
	s->fd = -1;
	s->next = ss->free;
	ss->free = s;
}

const struct stack_ops hosted_socket_stack_ops = {
    .name = "socket",
    .udp_open = sock_udp_open,
    .udp_sendto = sock_udp_sendto,
    .udp_recvfrom = sock_udp_recvfrom,
    .udp_close = sock_udp_close,
};

int hosted_socket_stack_open(struct loop *l, struct stack **out)
{
	struct sock_stack *ss = heap_alloc(l->heap, sizeof *ss, _Alignof(struct sock_stack));
	if (!ss)
		return ATL_ENOMEM;
	ss->st.ops = &hosted_socket_stack_ops;
	ss->st.loop = l;
	*out = &ss->st;
	return ATL_OK;
}
