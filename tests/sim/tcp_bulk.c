/*
 * tcp_bulk - TCP transfers through a switch over links that lose,
 * duplicate, reorder and corrupt frames: every byte must arrive exactly
 * once, in order, intact, and no connection may get stuck.
 *
 * The server is the echo unikernel (RFC 862 on TCP port 7).  Each client
 * (a small app defined here) connects, sends size= bytes of a pattern
 * drawn from its seed while a second fiber reads the echo back and checks
 * every byte, then shuts down its side and waits for the server's FIN.
 * Both directions carry the whole transfer, so data, ACKs, FINs and
 * retransmissions all cross the faulty links.
 *
 *   make TARGET=sim && build/sim/tcp_bulk --seed=1
 *   build/sim/tcp_bulk --seeds=1..1000           (the CI sweep)
 *   build/sim/tcp_bulk --seed=7 --pcap:c1=c1.pcap && tshark -r c1.pcap
 */
#include <stdio.h>
#include <string.h>

#include "core/args.h"
#include "core/fmt.h"
#include "core/err.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "sim/sim.h"

extern const struct plat_app echo_app;

#define MAX_CLIENTS 8

/* ---- The client app ---------------------------------------------------------- */

struct tclient {
	struct loop *loop;
	struct tcp_conn *c;
	uint64_t size, sent, got, seed;
	bool bad, reader_done;
	int wrc, rrc;
};

static uint8_t tclient_byte(uint64_t seed, uint64_t i)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> (8 * (i % 8)));
}

struct sender {
	struct tclient *t;
	struct stack *st;
	struct ip4_ep server;
};

static void tclient_reader(void *arg)
{
	struct tclient *t = arg;
	for (;;) {
		uint8_t buf[2048];
		size_t len;
		t->rrc = tcp_read(t->c, buf, sizeof buf, &len, DEADLINE_NEVER);
		if (t->rrc != ATL_OK || len == 0)
			break;
		for (size_t i = 0; i < len; i++)
			if (buf[i] != tclient_byte(t->seed, t->got + i))
				t->bad = true;
		t->got += len;
	}
	t->reader_done = true;
	loop_stop(t->loop);
}

/* Connect, start the reader, send everything, shut down our side. */
static void tclient_sender(void *arg)
{
	struct sender *sd = arg;
	struct tclient *t = sd->t;
	for (int attempt = 0;; attempt++) {
		t->wrc =
		    tcp_connect(sd->st, &sd->server, &t->c, loop_now(t->loop) + 600 * NS_PER_SEC);
		if (t->wrc == ATL_OK)
			break;
		/* Every SYN lost (or ARP given up): try again, a few times. */
		if (t->wrc == ATL_ESTOPPED || attempt > 20) {
			loop_stop(t->loop);
			return;
		}
	}
	tcp_setopt(t->c, TCP_OPT_NODELAY, 1);
	if (!fiber_spawn(t->loop, "reader", tclient_reader, t, 32 * 1024)) {
		t->wrc = ATL_ENOMEM;
		loop_stop(t->loop);
		return;
	}
	while (t->sent < t->size) {
		uint8_t buf[4096];
		size_t k =
		    t->size - t->sent < sizeof buf ? (size_t)(t->size - t->sent) : sizeof buf;
		for (size_t i = 0; i < k; i++)
			buf[i] = tclient_byte(t->seed, t->sent + i);
		size_t done;
		t->wrc = tcp_write(t->c, buf, k, &done, DEADLINE_NEVER);
		t->sent += done;
		if (t->wrc != ATL_OK)
			break;
	}
	if (t->wrc == ATL_OK)
		t->wrc = tcp_shutdown(t->c);
}

static int tclient_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	struct stack *st;
	if (stack_open(&l, "service", &st) != ATL_OK)
		return 1;
	struct tclient *t = heap_alloc(&heap, sizeof *t, 16);
	struct sender *sd = heap_alloc(&heap, sizeof *sd, 16);
	const char *sv = args_get(s, "server");
	if (!t || !sd || !sv || ip4_parse_ep(sv, &sd->server) != ATL_OK)
		return 2;
	t->loop = &l;
	sd->t = t;
	sd->st = st;
	if (args_get_u64(&l, "size", 1 << 20, 1ull << 32, &t->size) != ATL_OK ||
	    args_get_u64(&l, "seed", 1, UINT64_MAX, &t->seed) != ATL_OK)
		return 2;
	if (!fiber_spawn(&l, "sender", tclient_sender, sd, 32 * 1024))
		return 3;
	loop_run(&l);
	con_printf("tcpclient: sent %llu got %llu of %llu%s (%s / %s)\n",
		   (unsigned long long)t->sent, (unsigned long long)t->got,
		   (unsigned long long)t->size, t->bad ? " CORRUPT" : "", atl_strerror(t->wrc),
		   atl_strerror(t->rrc));
	if (t->wrc != ATL_OK || t->rrc != ATL_OK || t->got != t->size || t->bad)
		return 4;
	con_printf("tcpclient: ok\n");
	return 0;
}

static const struct plat_device_decl tclient_devices[] = {
    {"service", PLAT_DEV_NET, "the network"},
};
static const struct plat_arg_decl tclient_args[] = {
    {"ipv4", "address"},
    {"server", "echo server address:port"},
    {"size", "bytes to send and have echoed"},
    {"seed", "pattern seed"},
    {"tcp-cc", "congestion control"},
};
static const struct plat_app tcpclient_app = {
    .name = "tcpclient",
    .summary = "sends a pattern to a TCP echo server and checks it comes back",
    .devices = tclient_devices,
    .ndevices = 1,
    .args = tclient_args,
    .nargs = 5,
    .main = tclient_main,
};

/* ---- The scenario ---------------------------------------------------------- */

struct world {
	struct sim_node *server;
	struct sim_node *client[MAX_CLIENTS];
	struct sim_link *link[MAX_CLIENTS];
	unsigned nclients;
};

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	w->nclients = (unsigned)sim_arg_u64(s, "clients", 1);
	if (w->nclients == 0 || w->nclients > MAX_CLIENTS) {
		sim_fail(s, "clients=%u: give 1 to %d", w->nclients, MAX_CLIENTS);
		w->nclients = 1;
	}
	struct sim_switch *sw = sim_switch_new(s, "sw");
	char sargs[96];
	const char *cc = sim_arg(s, "cc", "newreno");
	snprintf(sargs, sizeof sargs, "ipv4=10.0.0.1/24 tcp-conns=16 tcp-cc=%s", cc);
	w->server = sim_node_new(s, "echo", &echo_app, sargs, 8u << 20);
	sim_node_daemon(w->server);
	sim_link_new(s, "echo", sim_node_net(w->server, "service", 0), sim_switch_port(sw));
	struct sim_faults rough = {
	    .delay = 500 * SIM_US,
	    .jitter = 200 * SIM_US,
	    .loss = SIM_PERCENT(sim_arg_u64(s, "loss", 10)),
	    .duplicate = SIM_PERCENT(sim_arg_u64(s, "dup", 5)),
	    .reorder = SIM_PERCENT(sim_arg_u64(s, "reorder", 5)),
	    .reorder_delay = 2 * SIM_MS,
	    .corrupt = SIM_PERCENT(sim_arg_u64(s, "corrupt", 1)),
	    .corrupt_bits = 1,
	};
	for (unsigned i = 0; i < w->nclients; i++) {
		char name[16], args[160];
		snprintf(name, sizeof name, "c%u", i + 1);
		snprintf(args, sizeof args,
			 "ipv4=10.0.0.%u/24 server=10.0.0.1:7 size=%llu seed=%llu", 10 + i,
			 (unsigned long long)sim_arg_u64(s, "size", 1 << 20),
			 (unsigned long long)(sim_seed(s) * 16 + i));
		w->client[i] = sim_node_new(s, name, &tcpclient_app, args, 4u << 20);
		sim_node_boot_at(w->client[i], sim_rand_range(s, 0, 100) * SIM_MS);
		w->link[i] = sim_link_new(s, name, sim_node_net(w->client[i], "service", 0),
					  sim_switch_port(sw));
		sim_link_faults(w->link[i], SIM_BOTH, &rough);
	}
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	for (unsigned i = 0; i < w->nclients; i++)
		if (!strstr(sim_node_console(w->client[i]), "tcpclient: ok"))
			sim_fail(s, "%s: transfer incomplete", sim_node_name(w->client[i]));
}

static const char *const args_help[] = {
    "clients=N    tcpclient nodes (1)",
    "cc=NAME      congestion control of every node: newreno or cubic (newreno)",
    "size=N       bytes each client sends and has echoed (1048576)",
    "loss=P dup=P reorder=P corrupt=P",
    "             percent of frames each client link loses, duplicates,",
    "             holds back, corrupts with one bit flip (10 5 5 1)",
    NULL,
};

const struct sim_scenario sim_scenario = {
    .name = "tcp_bulk",
    .summary = "TCP echo of 1 MiB through lossy, duplicating, reordering, corrupting links",
    .args_help = args_help,
    .time_limit = 900 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
