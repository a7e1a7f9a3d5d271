/*
 * bulk - TCP services to push and pull data through atoll: discard
 * (RFC 863, TCP port 9) reads and throws away everything it is sent;
 * chargen (RFC 864, TCP port 19) sends the RFC's rotating 72-character
 * lines until the client goes away.
 *
 * The one network device is "service".  Each connection runs in a fiber
 * of its own.  Counters (bulk.discard_bytes, bulk.chargen_bytes, ...) are
 * printed when the unikernel stops.
 */
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"

#define DISCARD_PORT 9
#define CHARGEN_PORT 19
#define BULK_BACKLOG 16
#define BULK_SLOTS   64
#define BULK_CHUNK   4096

/* RFC 864: 95 printable ASCII characters (32..126); line i is the 72
 * characters starting at character i mod 95, then CR LF. */
#define CHARGEN_LINE	74
#define CHARGEN_PERIOD	95
#define CHARGEN_PATTERN (CHARGEN_LINE * CHARGEN_PERIOD)

struct bulk {
	struct loop *loop;
	struct tcp_listener *discard, *chargen;
	uint8_t pattern[CHARGEN_PATTERN]; /* one full period of lines */
	struct bulk_conn *slots;
	uint64_t stat[4]; /* discard_conns, discard_bytes, chargen_conns, chargen_bytes */
	struct counter_group group;
};

struct bulk_conn {
	struct bulk *b;
	struct tcp_conn *c;
};

static const char *const bulk_stat_names[] = {"discard_conns", "discard_bytes", "chargen_conns",
					      "chargen_bytes"};

static void discard_conn(void *arg)
{
	struct bulk_conn *bc = arg;
	uint8_t buf[BULK_CHUNK];
	for (;;) {
		size_t len;
		if (tcp_read(bc->c, buf, sizeof buf, &len, DEADLINE_NEVER) != ATL_OK || len == 0)
			break;
		bc->b->stat[1] += len;
	}
	tcp_close(bc->c);
	bc->c = NULL;
}

static void chargen_conn(void *arg)
{
	struct bulk_conn *bc = arg;
	struct bulk *b = bc->b;
	size_t off = 0;
	for (;;) {
		size_t k = CHARGEN_PATTERN - off < BULK_CHUNK ? CHARGEN_PATTERN - off : BULK_CHUNK;
		size_t done = 0;
		int rc = tcp_write(bc->c, b->pattern + off, k, &done, DEADLINE_NEVER);
		b->stat[3] += done;
		off = (off + done) % CHARGEN_PATTERN;
		if (rc != ATL_OK)
			break;
		/* RFC 864: "the data may be thrown away": anything the client
		 * sends is read and ignored; its FIN ends the service. */
		if (tcp_events(bc->c) & TCP_EV_READABLE) {
			uint8_t junk[256];
			size_t len;
			if (tcp_read(bc->c, junk, sizeof junk, &len, TCP_NOWAIT) != ATL_OK ||
			    len == 0)
				break;
		}
	}
	tcp_close(bc->c);
	bc->c = NULL;
}

struct bulk_service {
	struct bulk *b;
	struct tcp_listener *ls;
	void (*fn)(void *arg);
	unsigned conn_stat;
	const char *name;
};

static void bulk_accept(void *arg)
{
	struct bulk_service *sv = arg;
	struct bulk *b = sv->b;
	for (;;) {
		struct tcp_conn *c;
		int rc = tcp_accept(sv->ls, &c, NULL, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		struct bulk_conn *bc = NULL;
		for (unsigned i = 0; i < BULK_SLOTS && !bc; i++)
			if (!b->slots[i].c)
				bc = &b->slots[i];
		if (!bc || !fiber_spawn(b->loop, sv->name, sv->fn, bc, 0)) {
			tcp_close(c);
			continue;
		}
		bc->b = b;
		bc->c = c;
		b->stat[sv->conn_stat]++;
	}
}

static int bulk_main(const struct plat_start *s)
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
	struct bulk *b = heap_alloc(&heap, sizeof *b, 16);
	static struct bulk_service sv[2];
	if (b)
		b->slots = heap_alloc(&heap, BULK_SLOTS * sizeof *b->slots, 16);
	if (!b || !b->slots) {
		LOG_ERROR(&l, "heap too small");
		return 1;
	}
	b->loop = &l;
	for (unsigned i = 0; i < CHARGEN_PERIOD; i++) {
		for (unsigned j = 0; j < 72; j++)
			b->pattern[i * CHARGEN_LINE + j] = (uint8_t)(32 + (i + j) % CHARGEN_PERIOD);
		b->pattern[i * CHARGEN_LINE + 72] = '\r';
		b->pattern[i * CHARGEN_LINE + 73] = '\n';
	}
	struct ip4_ep dl = {0, DISCARD_PORT}, cl = {0, CHARGEN_PORT};
	if ((rc = tcp_listen(st, &dl, BULK_BACKLOG, &b->discard)) != ATL_OK ||
	    (rc = tcp_listen(st, &cl, BULK_BACKLOG, &b->chargen)) != ATL_OK) {
		LOG_ERROR(&l, "cannot listen: %s", atl_strerror(rc));
		return 1;
	}
	b->group = (struct counter_group){
	    .name = "bulk", .names = bulk_stat_names, .values = b->stat, .n = 4};
	counters_register(&l, &b->group);
	sv[0] = (struct bulk_service){b, b->discard, discard_conn, 0, "discard"};
	sv[1] = (struct bulk_service){b, b->chargen, chargen_conn, 2, "chargen"};
	if (!fiber_spawn(&l, "discard-accept", bulk_accept, &sv[0], 0) ||
	    !fiber_spawn(&l, "chargen-accept", bulk_accept, &sv[1], 0)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	LOG_INFO(&l, "bulk: discard on TCP port %d, chargen on TCP port %d (%s stack)",
		 DISCARD_PORT, CHARGEN_PORT, st->ops->name);
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	return 0;
}

static const struct plat_device_decl bulk_devices[] = {
    {"service", PLAT_DEV_NET, "the network the services answer on"},
};

static const struct plat_arg_decl bulk_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"net-buffers", "packet buffers of 2 KiB (default 128)"},
    TCP_ARG_DECLS,
};

const struct plat_app bulk_app = {
    .name = "bulk",
    .summary = "RFC 863 discard (TCP 9) and RFC 864 chargen (TCP 19)",
    .devices = bulk_devices,
    .ndevices = ARRAY_SIZE(bulk_devices),
    .args = bulk_args,
    .nargs = ARRAY_SIZE(bulk_args),
    .main = bulk_main,
};
