/*
 * echo - the RFC 862 echo service on UDP and TCP port 7.
 *
 * Each datagram received is sent back to where it came from, unchanged;
 * each TCP connection gets back every byte it sends, in a fiber of its
 * own, until it closes its side.  The one network device is "service".
 * Counters are printed when the unikernel stops (SIGTERM on hosted).
 */
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"

#define ECHO_PORT	 7
#define ECHO_MAX	 65535 /* the largest UDP payload an IPv4 datagram can carry */
#define ECHO_TCP_BACKLOG 16
#define ECHO_TCP_CHUNK	 4096 /* bytes per read, on the connection fiber's stack */

struct echo {
	struct loop *loop;
	struct udp_sock *sock;
	uint8_t *buf;
	struct tcp_listener *ls;
	uint64_t stat[5]; /* echoed, truncated, send_failed, tcp_conns, tcp_bytes */
	struct counter_group group;
};

static const char *const echo_stat_names[] = {"echoed", "truncated", "send_failed", "tcp_conns",
					      "tcp_bytes"};

struct echo_conn {
	struct echo *e;
	struct tcp_conn *c;
};

/* One TCP connection: echo until the peer's FIN, then close (RFC 862). */
static void echo_tcp_conn(void *arg)
{
	struct echo_conn *ec = arg;
	struct echo *e = ec->e;
	struct tcp_conn *c = ec->c;
	uint8_t buf[ECHO_TCP_CHUNK];
	for (;;) {
		size_t len;
		if (tcp_read(c, buf, sizeof buf, &len, DEADLINE_NEVER) != ATL_OK || len == 0)
			break;
		if (tcp_write(c, buf, len, NULL, DEADLINE_NEVER) != ATL_OK)
			break;
		e->stat[4] += len;
	}
	tcp_close(c);
	ec->c = NULL; /* the slot is free again */
}

static void echo_tcp(void *arg)
{
	struct echo *e = arg;
	/* One slot per connection the stack can hold; a fiber stack each,
	 * reused from finished fibers. */
	static const unsigned nslots = 64;
	struct echo_conn *slots = heap_alloc(e->loop->heap, nslots * sizeof *slots, 16);
	if (!slots)
		return;
	for (;;) {
		struct tcp_conn *c;
		int rc = tcp_accept(e->ls, &c, NULL, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		struct echo_conn *ec = NULL;
		for (unsigned i = 0; i < nslots && !ec; i++)
			if (!slots[i].c)
				ec = &slots[i];
		if (!ec || !fiber_spawn(e->loop, "echo-tcp", echo_tcp_conn, ec, 0)) {
			tcp_close(c);
			continue;
		}
		ec->e = e;
		ec->c = c;
		e->stat[3]++;
	}
}

static void echo_udp(void *arg)
{
	struct echo *e = arg;
	for (;;) {
		struct ip4_ep from;
		size_t len;
		int rc = udp_recvfrom(e->sock, &from, e->buf, ECHO_MAX, &len, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc == ATL_EMSGSIZE) {
			e->stat[1]++;
			continue;
		}
		if (rc != ATL_OK)
			continue;
		if (udp_sendto(e->sock, &from, e->buf, len) == ATL_OK)
			e->stat[0]++;
		else
			e->stat[2]++;
	}
}

static int echo_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct stack *st;
	int rc = stack_open(&l, "service", &st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	struct echo *e = heap_alloc(&heap, sizeof *e, 16);
	if (e)
		e->buf = heap_alloc(&heap, ECHO_MAX, 16);
	if (!e || !e->buf) {
		LOG_ERROR(&l, "heap too small for the echo buffer");
		return 1;
	}
	e->loop = &l;
	struct ip4_ep local = {0, ECHO_PORT};
	rc = udp_open(st, &local, &e->sock);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot bind UDP port %d: %s", ECHO_PORT, atl_strerror(rc));
		return 1;
	}
	rc = tcp_listen(st, &local, ECHO_TCP_BACKLOG, &e->ls);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot listen on TCP port %d: %s", ECHO_PORT, atl_strerror(rc));
		return 1;
	}
	e->group = (struct counter_group){
	    .name = "echo", .names = echo_stat_names, .values = e->stat, .n = 5};
	counters_register(&l, &e->group);
	if (!fiber_spawn(&l, "echo-udp", echo_udp, e, 0) ||
	    !fiber_spawn(&l, "echo-tcp", echo_tcp, e, 0)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	LOG_INFO(&l, "echo service on UDP port %d (%s stack)", ECHO_PORT, st->ops->name);
	LOG_INFO(&l, "echo service on TCP port %d", ECHO_PORT);
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	return 0;
}

static const struct plat_device_decl echo_devices[] = {
    {"service", PLAT_DEV_NET, "the network the echo service answers on"},
};

static const struct plat_arg_decl echo_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    TCP_ARG_DECLS,
};

const struct plat_app echo_app = {
    .name = "echo",
    .summary = "RFC 862 echo service on UDP and TCP port 7",
    .devices = echo_devices,
    .ndevices = ARRAY_SIZE(echo_devices),
    .args = echo_args,
    .nargs = ARRAY_SIZE(echo_args),
    .main = echo_main,
};
