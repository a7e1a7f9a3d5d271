/*
 * sockstack.c - the UDP and TCP interface of lib/net/stack.h over host
 * sockets.
 *
 * Chosen with --stack=socket: an app then runs as a plain process on the
 * host's own network stack, with no TAP and no root (and, as root, with
 * only CAP_NET_BIND_SERVICE left: see sandbox.c).  Each udp_sock is one
 * non-blocking AF_INET datagram socket registered as a platform handle, so
 * the loop can wait for it like for any device; each tcp_conn and
 * tcp_listener one non-blocking stream socket.  The platform waits for
 * input only, so a writer whose socket buffer is full polls it every
 * millisecond (SOCK_WRITE_POLL_NS) rather than waiting for POLLOUT.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

struct tcp_conn {
	struct stack *st; /* first, as stack.h requires */
	int fd;
	plat_handle_t h;
	struct waitq waiters;
	bool eof, wr_shut, connecting;
	int err;
	struct tcp_conn *next; /* the free list */
};

struct tcp_listener {
	struct stack *st;
	int fd;
	plat_handle_t h;
	struct waitq waiters;
	struct tcp_listener *next;
};

#define SOCK_WRITE_POLL_NS (1 * NS_PER_MS)

struct sock_stack {
	struct stack st;
	bool listen_applied;	 /* listen= has moved a port already */
	uint16_t listen_from;	 /* the port it moved ... */
	struct ip4_ep listen_to; /* ... and where to */
	struct udp_sock *free;	 /* closed sockets: the heap never frees */
	struct tcp_conn *free_conns;
	struct tcp_listener *free_listeners;
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
	if (ss->listen_applied && ep->port != 0 && ep->port == ss->listen_from) {
		/* the same service port again (echo: UDP then TCP 7) */
		*ep = ss->listen_to;
		return ATL_OK;
	}
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
	ss->listen_from = ep->port;
	ss->listen_to = to;
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

/* ---- TCP ---------------------------------------------------------------- */

static int errno_to_atl(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return ATL_ECONNREFUSED;
	case ECONNRESET:
	case EPIPE:
		return ATL_ECONNRESET;
	case ETIMEDOUT:
		return ATL_ETIMEDOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return ATL_EHOSTUNREACH;
	case EADDRINUSE:
		return ATL_EADDRINUSE;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return ATL_ENOMEM;
	case ENOTCONN:
		return ATL_ENOTCONN;
	default:
		return ATL_EUNSPEC;
	}
}

static void sock_wake(struct loop *l, void *arg)
{
	waitq_wake_all(l, (struct waitq *)arg);
}

/* Wait until fd's handle h is readable (or, for a writer, a short poll
 * interval passes) or the deadline; ATL_EAGAIN for a past deadline. */
static int sock_wait(struct loop *l, plat_handle_t h, struct waitq *q, uint64_t deadline,
		     bool writer)
{
	if (deadline != DEADLINE_NEVER && deadline <= loop_now(l))
		return deadline == TCP_NOWAIT ? ATL_EAGAIN : ATL_ETIMEDOUT;
	if (writer) {
		uint64_t t = loop_now(l) + SOCK_WRITE_POLL_NS;
		int rc = fiber_sleep(l, t < deadline ? t : deadline);
		if (rc != ATL_OK)
			return rc;
		return deadline != DEADLINE_NEVER && loop_now(l) >= deadline ? ATL_ETIMEDOUT
									     : ATL_OK;
	}
	loop_watch(l, h, sock_wake, q);
	int rc = fiber_wait(l, q, deadline);
	if (waitq_empty(q))
		loop_watch(l, h, NULL, NULL);
	return rc;
}

static int sock_stream(struct sock_stack *ss, int *fd, plat_handle_t *h)
{
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno_to_atl(errno);
	if (hosted_handle_add_fd(*fd, h) != PLAT_OK) {
		close(*fd);
		return ATL_ENOMEM;
	}
	(void)ss;
	return ATL_OK;
}

static struct tcp_conn *sock_conn_new(struct sock_stack *ss)
{
	struct tcp_conn *c = ss->free_conns;
	if (c)
		ss->free_conns = c->next;
	else if (!(c = heap_alloc(ss->st.loop->heap, sizeof *c, _Alignof(struct tcp_conn))))
		return NULL;
	memset(c, 0, sizeof *c);
	c->st = &ss->st;
	c->fd = -1;
	return c;
}

static int sock_tcp_listen(struct stack *st, const struct ip4_ep *local, unsigned backlog,
			   struct tcp_listener **out)
{
	struct sock_stack *ss = CONTAINER_OF(st, struct sock_stack, st);
	struct loop *l = st->loop;
	if (!local || local->port == 0 || backlog == 0)
		return ATL_EINVAL;
	struct ip4_ep ep = *local;
	int rc = apply_listen(ss, &ep);
	if (rc != ATL_OK)
		return rc;
	struct tcp_listener *ls = ss->free_listeners;
	if (ls)
		ss->free_listeners = ls->next;
	else if (!(ls = heap_alloc(l->heap, sizeof *ls, _Alignof(struct tcp_listener))))
		return ATL_ENOMEM;
	memset(ls, 0, sizeof *ls);
	ls->st = st;
	rc = sock_stream(ss, &ls->fd, &ls->h);
	if (rc != ATL_OK)
		goto fail;
	int one = 1;
	setsockopt(ls->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sin = sin_from(&ep);
	if (bind(ls->fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(ls->fd, (int)backlog) != 0) {
		char a[16];
		LOG_ERROR(l, "tcp listen %s:%u: %s", ip4_fmt(ep.addr, a), ep.port,
			  strerrorname_np(errno) ? strerrorname_np(errno) : "error");
		rc = errno == EADDRINUSE ? ATL_EADDRINUSE : ATL_EUNSPEC;
		hosted_handle_close(ls->h);
		goto fail;
	}
	*out = ls;
	return ATL_OK;
fail:
	ls->next = ss->free_listeners;
	ss->free_listeners = ls;
	return rc;
}

static int sock_tcp_accept(struct tcp_listener *ls, struct tcp_conn **out, struct ip4_ep *peer,
			   uint64_t deadline)
{
	struct sock_stack *ss = CONTAINER_OF(ls->st, struct sock_stack, st);
	struct loop *l = ls->st->loop;
	for (;;) {
		struct sockaddr_in sin;
		socklen_t slen = sizeof sin;
		int fd =
		    accept4(ls->fd, (struct sockaddr *)&sin, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			struct tcp_conn *c = sock_conn_new(ss);
			if (!c || hosted_handle_add_fd(fd, &c->h) != PLAT_OK) {
				close(fd);
				if (c) {
					c->next = ss->free_conns;
					ss->free_conns = c;
				}
				return ATL_ENOMEM;
			}
			c->fd = fd;
			if (peer) {
				peer->addr = ntohl(sin.sin_addr.s_addr);
				peer->port = ntohs(sin.sin_port);
			}
			*out = c;
			return ATL_OK;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno_to_atl(errno);
		int rc = sock_wait(l, ls->h, &ls->waiters, deadline, false);
		if (rc != ATL_OK)
			return rc;
	}
}

static void sock_tcp_unlisten(struct tcp_listener *ls)
{
	struct sock_stack *ss = CONTAINER_OF(ls->st, struct sock_stack, st);
	ASSERT(waitq_empty(&ls->waiters));
	loop_watch(ls->st->loop, ls->h, NULL, NULL);
	hosted_handle_close(ls->h);
	ls->next = ss->free_listeners;
	ss->free_listeners = ls;
}

static void sock_tcp_close(struct tcp_conn *c)
{
	struct sock_stack *ss = CONTAINER_OF(c->st, struct sock_stack, st);
	ASSERT(waitq_empty(&c->waiters));
	loop_watch(c->st->loop, c->h, NULL, NULL);
	hosted_handle_close(c->h);
	c->fd = -1;
	c->next = ss->free_conns;
	ss->free_conns = c;
}

static int sock_tcp_connect(struct stack *st, const struct ip4_ep *remote, struct tcp_conn **out,
			    uint64_t deadline)
{
	struct sock_stack *ss = CONTAINER_OF(st, struct sock_stack, st);
	struct loop *l = st->loop;
	if (!remote || remote->addr == 0 || remote->port == 0)
		return ATL_EINVAL;
	struct tcp_conn *c = sock_conn_new(ss);
	if (!c)
		return ATL_ENOMEM;
	int rc = sock_stream(ss, &c->fd, &c->h);
	if (rc != ATL_OK) {
		c->next = ss->free_conns;
		ss->free_conns = c;
		return rc;
	}
	struct sockaddr_in sin = sin_from(remote);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0 && errno != EINPROGRESS) {
		rc = errno_to_atl(errno);
		sock_tcp_close(c);
		return rc;
	}
	/* Completion shows as writability, which the platform does not
	 * report: poll SO_ERROR and a zero-length send. */
	for (;;) {
		int e = 0;
		socklen_t el = sizeof e;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			sock_tcp_close(c);
			return errno_to_atl(e);
		}
		struct sockaddr_in peer;
		socklen_t pl = sizeof peer;
		if (getpeername(c->fd, (struct sockaddr *)&peer, &pl) == 0)
			break;
		rc = sock_wait(l, c->h, &c->waiters, deadline, true);
		if (rc == ATL_EAGAIN) {
			c->connecting = true;
			*out = c;
			return ATL_EAGAIN;
		}
		if (rc != ATL_OK) {
			sock_tcp_close(c);
			return rc;
		}
	}
	*out = c;
	return ATL_OK;
}

static int sock_tcp_read(struct tcp_conn *c, void *buf, size_t cap, size_t *len, uint64_t deadline)
{
	struct loop *l = c->st->loop;
	*len = 0;
	if (c->eof)
		return ATL_OK;
	for (;;) {
		ssize_t r = recvfrom(c->fd, buf, cap, MSG_DONTWAIT, NULL, NULL);
		if (r >= 0) {
			*len = (size_t)r;
			c->eof = r == 0;
			return ATL_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return c->err = errno_to_atl(errno);
		int rc = sock_wait(l, c->h, &c->waiters, deadline, false);
		if (rc != ATL_OK)
			return rc;
	}
}

static int sock_tcp_write(struct tcp_conn *c, const void *data, size_t len, size_t *done,
			  uint64_t deadline)
{
	struct loop *l = c->st->loop;
	size_t put = 0;
	int rc = ATL_OK;
	while (put < len) {
		if (c->wr_shut) {
			rc = ATL_ENOTCONN;
			break;
		}
		ssize_t r = sendto(c->fd, (const uint8_t *)data + put, len - put,
				   MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
		if (r >= 0) {
			put += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			rc = c->err = errno_to_atl(errno);
			break;
		}
		rc = sock_wait(l, c->h, &c->waiters, deadline, true);
		if (rc != ATL_OK)
			break;
	}
	if (done)
		*done = put;
	return rc;
}

static int sock_tcp_shutdown(struct tcp_conn *c)
{
	c->wr_shut = true;
	return shutdown(c->fd, SHUT_WR) == 0 ? ATL_OK : errno_to_atl(errno);
}

static int sock_tcp_setopt(struct tcp_conn *c, enum tcp_opt opt, int value)
{
	int v = value != 0;
	int rc;
	switch (opt) {
	case TCP_OPT_NODELAY:
		rc = setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
		break;
	case TCP_OPT_KEEPALIVE:
		rc = setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
		break;
	default:
		return ATL_EINVAL;
	}
	return rc == 0 ? ATL_OK : errno_to_atl(errno);
}

static unsigned sock_tcp_events(struct tcp_conn *c)
{
	/* Without poll(2) on this path (the filter allows none beyond
	 * ppoll in the loop), peek: a byte or EOF is readable. */
	unsigned ev = 0;
	uint8_t b;
	ssize_t r = recvfrom(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK, NULL, NULL);
	if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		ev |= TCP_EV_READABLE;
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		ev |= TCP_EV_CLOSED;
	if (!c->wr_shut && !(ev & TCP_EV_CLOSED))
		ev |= TCP_EV_WRITABLE;
	return ev;
}

const struct stack_ops hosted_socket_stack_ops = {
    .name = "socket",
    .udp_open = sock_udp_open,
    .udp_sendto = sock_udp_sendto,
    .udp_recvfrom = sock_udp_recvfrom,
    .udp_close = sock_udp_close,
    .tcp_listen = sock_tcp_listen,
    .tcp_accept = sock_tcp_accept,
    .tcp_unlisten = sock_tcp_unlisten,
    .tcp_connect = sock_tcp_connect,
    .tcp_read = sock_tcp_read,
    .tcp_write = sock_tcp_write,
    .tcp_shutdown = sock_tcp_shutdown,
    .tcp_close = sock_tcp_close,
    .tcp_setopt = sock_tcp_setopt,
    .tcp_events = sock_tcp_events,
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
