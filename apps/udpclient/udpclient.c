/*
 * udpclient - a test instrument: sends count numbered datagrams to an
 * echo server and retries each until its echo comes back intact.
 *
 * Datagram n carries n, its own length, and bytes derived from n alone,
 * so an echo can be checked without keeping what was sent.  Up to window
 * datagrams are outstanding at once; one unanswered for timeout-ms is sent
 * again, up to tries times.  Echoes that are duplicates are counted and
 * ignored; echoes whose bytes are wrong are counted as corrupt and the
 * datagram is sent again.  Exit status 0 once every datagram has been
 * echoed intact; 1 (with a message) if one ran out of tries or the
 * unikernel was stopped first; 2 for bad boot arguments.
 *
 * It needs no particular target: on hosted it talks to any RFC 862 echo
 * service; in simulation it is the client half of tests/sim/udp_echo.c.
 */
#include "core/args.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"

#define UC_HDR	     8	      /* number, length: 32 bits each */
#define UC_MAX	     65507    /* the largest UDP payload over IPv4 */
#define UC_COUNT_MAX 1000000u /* slots come from the heap: 16 bytes each */

struct uc_slot {
	uint64_t sent_at; /* monotonic ns of the last send */
	uint32_t tries;
	bool done;
};

struct uc {
	struct loop *loop;
	struct udp_sock *sock;
	struct ip4_ep server;
	uint32_t count;
	uint32_t window;
	uint32_t max_tries;
	uint64_t timeout;
	uint32_t size;
	struct uc_slot *slot;
	uint8_t *tx, *rx;
	int status;
	uint64_t stat[7];
	struct counter_group group;
};

enum { UC_SENT, UC_RETRIES, UC_ECHOED, UC_DUPLICATES, UC_CORRUPT, UC_STRANGERS, UC_SEND_ERRORS };
static const char *const uc_stat_names[] = {"sent",    "retries",   "echoed",	  "duplicates",
					    "corrupt", "strangers", "send_errors"};

/* Datagram n is size + n % 32 bytes, capped to what UDP carries, so that
 * neighbours differ in length and a size near the MTU straddles it. */
static size_t uc_len(const struct uc *c, uint32_t n)
{
	size_t len = (size_t)c->size + n % 32;
	if (len < UC_HDR)
		len = UC_HDR;
	return len > UC_MAX ? UC_MAX : len;
}

static uint8_t uc_byte(uint32_t n, size_t i)
{
	uint32_t x = (n + 1) * 2654435761u ^ (uint32_t)i * 2246822519u;
	return (uint8_t)(x >> 11);
}

static size_t uc_build(const struct uc *c, uint32_t n)
{
	size_t len = uc_len(c, n);
	struct wr w = wr_make(c->tx, len);
	wr_be32(&w, n);
	wr_be32(&w, (uint32_t)len);
	for (size_t i = UC_HDR; i < len; i++)
		wr_u8(&w, uc_byte(n, i));
	return len;
}

/* The datagram's number if it is exactly what was sent as that number. */
static bool uc_check(const struct uc *c, const uint8_t *buf, size_t len, uint32_t *n)
{
	struct rd r = rd_make(buf, len);
	*n = rd_be32(&r);
	uint32_t claimed = rd_be32(&r);
	if (!rd_ok(&r) || *n >= c->count || claimed != len || len != uc_len(c, *n))
		return false;
	for (size_t i = UC_HDR; i < len; i++)
		if (rd_u8(&r) != uc_byte(*n, i))
			return false;
	return rd_ok(&r);
}

static void uc_send(struct uc *c, uint32_t n, uint64_t now)
{
	struct uc_slot *sl = &c->slot[n];
	if (sl->tries > 0)
		c->stat[UC_RETRIES]++;
	sl->tries++;
	sl->sent_at = now;
	size_t len = uc_build(c, n);
	int rc = udp_sendto(c->sock, &c->server, c->tx, len);
	/* No route yet, ARP given up, no buffer: the timeout sends it again. */
	if (rc == ATL_OK)
		c->stat[UC_SENT]++;
	else
		c->stat[UC_SEND_ERRORS]++;
}

static void uc_receive(struct uc *c, const struct ip4_ep *from, size_t len)
{
	uint32_t n;
	if (from->addr != c->server.addr || from->port != c->server.port) {
		c->stat[UC_STRANGERS]++;
	} else if (!uc_check(c, c->rx, len, &n)) {
		c->stat[UC_CORRUPT]++;
	} else if (c->slot[n].done) {
		c->stat[UC_DUPLICATES]++;
	} else {
		c->slot[n].done = true;
		c->stat[UC_ECHOED]++;
	}
}

static void uc_run(void *arg)
{
	struct uc *c = arg;
	struct loop *l = c->loop;
	uint32_t base = 0; /* every datagram below base is done */
	c->status = 1;
	while (base < c->count) {
		uint64_t now = loop_now(l), deadline = DEADLINE_NEVER;
		for (uint32_t n = base; n < c->count && n - base < c->window; n++) {
			struct uc_slot *sl = &c->slot[n];
			if (sl->done)
				continue;
			if (sl->tries == 0 || now - sl->sent_at >= c->timeout) {
				if (sl->tries == c->max_tries) {
					LOG_ERROR(l, "datagram %u not echoed after %u tries", n,
						  c->max_tries);
					goto out;
				}
				uc_send(c, n, now);
			}
			if (sl->sent_at + c->timeout < deadline)
				deadline = sl->sent_at + c->timeout;
		}
		struct ip4_ep from;
		size_t len;
		int rc = udp_recvfrom(c->sock, &from, c->rx, UC_MAX, &len, deadline);
		if (rc == ATL_ESTOPPED) {
			LOG_ERROR(l, "stopped with %llu of %u datagrams echoed",
				  (unsigned long long)c->stat[UC_ECHOED], c->count);
			goto out;
		}
		if (rc == ATL_OK)
			uc_receive(c, &from, len);
		else if (rc == ATL_EMSGSIZE)
			c->stat[UC_CORRUPT]++;
		while (base < c->count && c->slot[base].done)
			base++;
	}
	c->status = 0;
out:
	con_printf(
	    "udpclient: %llu/%u echoed, %llu retries, %llu duplicates, %llu corrupt, "
	    "%llu strangers\n",
	    (unsigned long long)c->stat[UC_ECHOED], c->count,
	    (unsigned long long)c->stat[UC_RETRIES], (unsigned long long)c->stat[UC_DUPLICATES],
	    (unsigned long long)c->stat[UC_CORRUPT], (unsigned long long)c->stat[UC_STRANGERS]);
	loop_stop(l);
}

/* Boot arguments into c; logs and returns false on a bad one. */
static bool uc_configure(struct uc *c, struct loop *l)
{
	const char *server = args_get(l->start, "server");
	if (!server || ip4_parse_ep(server, &c->server) != ATL_OK || c->server.addr == 0 ||
	    c->server.port == 0) {
		LOG_ERROR(l, "give the echo server as server=<addr>:<port>");
		return false;
	}
	uint64_t count, window, tries, timeout_ms, size;
	if (args_get_u64(l, "count", 10, UC_COUNT_MAX, &count) != ATL_OK ||
	    args_get_u64(l, "window", 4, 1024, &window) != ATL_OK ||
	    args_get_u64(l, "tries", 50, 1000000, &tries) != ATL_OK ||
	    args_get_u64(l, "timeout-ms", 200, 3600000, &timeout_ms) != ATL_OK ||
	    args_get_u64(l, "size", 64, UC_MAX, &size) != ATL_OK)
		return false;
	if (count == 0 || window == 0 || tries == 0 || timeout_ms == 0) {
		LOG_ERROR(l, "count, window, tries and timeout-ms must be at least 1");
		return false;
	}
	c->count = (uint32_t)count;
	c->window = (uint32_t)window;
	c->max_tries = (uint32_t)tries;
	c->timeout = timeout_ms * NS_PER_MS;
	c->size = (uint32_t)size;
	return true;
}

static int udpclient_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct uc *c = heap_alloc(&heap, sizeof *c, 16);
	if (!c)
		return 1;
	c->loop = &l;
	if (!uc_configure(c, &l))
		return 2;
	c->slot = heap_alloc(&heap, (size_t)c->count * sizeof *c->slot, 16);
	c->tx = heap_alloc(&heap, UC_MAX, 16);
	c->rx = heap_alloc(&heap, UC_MAX, 16);
	if (!c->slot || !c->tx || !c->rx) {
		LOG_ERROR(&l, "heap too small for %u datagrams", c->count);
		return 1;
	}

	struct stack *st;
	int rc = stack_open(&l, "service", &st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	struct ip4_ep local = {0, 0};
	rc = udp_open(st, &local, &c->sock);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open a UDP socket: %s", atl_strerror(rc));
		return 1;
	}
	c->group = (struct counter_group){.name = "udpclient",
					  .names = uc_stat_names,
					  .values = c->stat,
					  .n = ARRAY_SIZE(uc_stat_names)};
	counters_register(&l, &c->group);
	if (!fiber_spawn(&l, "udpclient", uc_run, c, 0)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	char a[16];
	LOG_INFO(&l, "%u datagrams to %s:%u, %u at a time", c->count, ip4_fmt(c->server.addr, a),
		 c->server.port, c->window);
	loop_run(&l);
	counters_print(&l);
	return c->status;
}

static const struct plat_device_decl udpclient_devices[] = {
    {"service", PLAT_DEV_NET, "the network the echo server is on"},
};

static const struct plat_arg_decl udpclient_args[] = {
    {"server", "the echo server, <addr>:<port> (required)"},
    {"count", "datagrams to have echoed (default 10)"},
    {"size", "bytes in datagram 0; datagram n has size + n % 32 (default 64)"},
    {"window", "datagrams outstanding at once (default 4)"},
    {"timeout-ms", "wait this long for an echo before sending again (default 200)"},
    {"tries", "sends of one datagram before giving up (default 50)"},
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.3/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"net-buffers", "packet buffers of 2 KiB (default 128)"},
};

const struct plat_app udpclient_app = {
    .name = "udpclient",
    .summary = "sends numbered UDP datagrams to an echo server until each is echoed intact",
    .devices = udpclient_devices,
    .ndevices = ARRAY_SIZE(udpclient_devices),
    .args = udpclient_args,
    .nargs = ARRAY_SIZE(udpclient_args),
    .main = udpclient_main,
};
