/*
 * udp_echo - the echo unikernel and udpclient nodes, through a switch,
 * over links that lose, duplicate and reorder 20% of frames each (and
 * flip a bit in 1%), while the run partitions a client for a while,
 * pauses the server and restarts it.
 *
 * Every client must have every datagram echoed intact: a corrupted frame
 * must be caught by the IPv4 or UDP checksum, never reach the app.  Every
 * frame the links took must be accounted for (delivered, lost, dropped or
 * still in flight).
 *
 *   make TARGET=sim && build/sim/udp_echo --seed=1
 *   build/sim/udp_echo --seeds=1..1000            (the CI sweep)
 *   build/sim/udp_echo --seed=1 --pcap:c1=c1.pcap && tshark -r c1.pcap
 */
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

extern const struct plat_app echo_app;
extern const struct plat_app udpclient_app;

#define MAX_CLIENTS 32

struct world {
	struct sim_node *server;
	struct sim_node *client[MAX_CLIENTS];
	struct sim_link *link[MAX_CLIENTS];
	struct sim_link *server_link;
	unsigned nclients;
	unsigned count;
	struct sim_faults rough; /* the client links' faults outside a storm */
};

static void heal(struct sim *s, void *arg)
{
	(void)s;
	sim_link_set_up(arg, true);
}

static void partition(struct sim *s, void *arg)
{
	sim_link_set_up(arg, false);
	sim_at(s, sim_now(s) + sim_rand_range(s, 100, 2000) * SIM_MS, heal, arg);
}

static void resume(struct sim *s, void *arg)
{
	(void)s;
	sim_node_resume(arg);
}

static void pause_server(struct sim *s, void *arg)
{
	sim_node_pause(arg);
	sim_at(s, sim_now(s) + sim_rand_range(s, 10, 1000) * SIM_MS, resume, arg);
}

static void restart_server(struct sim *s, void *arg)
{
	(void)s;
	sim_node_restart(arg);
}

/* A fault storm, every 50 to 500 ms until storm= seconds have passed:
 * new faults on a link, a partition, a pause, or a reboot of the server
 * or of a client (which then starts its count again).  Then the weather
 * clears (links back to their usual faults, up, the server running) and
 * every client must still get to the end: a storm may slow the protocol
 * down, but must not leave it stuck. */
static void storm(struct sim *s, void *arg)
{
	struct world *w = sim_world(s);
	if (sim_now(s) >= sim_arg_u64(s, "storm", 0) * SIM_SEC) {
		sim_log(s, "the storm is over");
		for (unsigned i = 0; i < w->nclients; i++) {
			sim_link_faults(w->link[i], SIM_BOTH, &w->rough);
			sim_link_set_up(w->link[i], true);
		}
		sim_node_resume(w->server);
		return;
	}
	unsigned what = (unsigned)sim_rand_range(s, 0, 5);
	unsigned who = (unsigned)sim_rand_range(s, 0, w->nclients - 1);
	struct sim_faults f = {.delay = sim_rand_range(s, 100, 20000) * SIM_US};
	switch (what) {
	case 0:
		f.jitter = sim_rand_range(s, 0, 5000) * SIM_US;
		f.loss = SIM_PERCENT(sim_rand_range(s, 0, 40));
		f.duplicate = SIM_PERCENT(sim_rand_range(s, 0, 30));
		f.reorder = SIM_PERCENT(sim_rand_range(s, 0, 30));
		f.reorder_delay = sim_rand_range(s, 1, 10) * SIM_MS;
		f.corrupt = SIM_PERCENT(sim_rand_range(s, 0, 2));
		f.corrupt_bits = 1;
		sim_link_faults(w->link[who], (enum sim_dir)sim_rand_range(s, 1, 3), &f);
		break;
	case 1:
		f.bandwidth = sim_rand_range(s, 64, 10000) * 1000;
		/* At least a few datagrams' worth: a queue too short for the
		 * fragments of one datagram would lose one of them every time. */
		f.queue_limit = sim_rand_range(s, 16, 64) << 10;
		sim_link_faults(w->link[who], SIM_BOTH, &f);
		break;
	case 2:
		partition(s, w->link[who]);
		break;
	case 3:
		pause_server(s, w->server);
		break;
	case 4:
		restart_server(s, w->server);
		break;
	case 5:
		sim_node_restart(w->client[who]);
		break;
	}
	sim_at(s, sim_now(s) + sim_rand_range(s, 50, 500) * SIM_MS, storm, arg);
}

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	w->nclients = (unsigned)sim_arg_u64(s, "clients", 2);
	w->count = (unsigned)sim_arg_u64(s, "count", 10);
	if (w->nclients == 0 || w->nclients > MAX_CLIENTS)
		sim_fail(s, "clients=%u: give 1 to %d", w->nclients, MAX_CLIENTS);
	if (w->nclients == 0 || w->nclients > MAX_CLIENTS)
		w->nclients = 1;

	struct sim_switch *sw = sim_switch_new(s, "sw");
	w->server = sim_node_new(s, "echo", &echo_app, "ipv4=10.0.0.1/24", 0);
	sim_node_daemon(w->server);
	w->server_link =
	    sim_link_new(s, "echo", sim_node_net(w->server, "service", 0), sim_switch_port(sw));

	w->rough = (struct sim_faults){
	    .delay = 500 * SIM_US,
	    .jitter = 500 * SIM_US,
	    .loss = SIM_PERCENT(sim_arg_u64(s, "loss", 20)),
	    .duplicate = SIM_PERCENT(sim_arg_u64(s, "dup", 20)),
	    .reorder = SIM_PERCENT(sim_arg_u64(s, "reorder", 20)),
	    .reorder_delay = 3 * SIM_MS,
	    .corrupt = SIM_PERCENT(sim_arg_u64(s, "corrupt", 1)),
	    .corrupt_bits = 1,
	};
	for (unsigned i = 0; i < w->nclients; i++) {
		char name[16], args[160];
		snprintf(name, sizeof name, "c%u", i + 1);
		snprintf(args, sizeof args,
			 "ipv4=10.0.0.%u/24 server=10.0.0.1:7 count=%u size=%u window=%u "
			 "timeout-ms=100 tries=%u",
			 10 + i, w->count, (unsigned)sim_arg_u64(s, "size", 48), 1 + i % 4,
			 (unsigned)sim_arg_u64(s, "tries", 1000));
		w->client[i] = sim_node_new(s, name, &udpclient_app, args, 0);
		sim_node_boot_at(w->client[i], sim_rand_range(s, 0, 200) * SIM_MS);
		w->link[i] = sim_link_new(s, name, sim_node_net(w->client[i], "service", 0),
					  sim_switch_port(sw));
		sim_link_faults(w->link[i], SIM_BOTH, &w->rough);
	}

	if (sim_arg_u64(s, "chaos", 1)) {
		/* One draw per statement: C leaves the order in which a
		 * call's arguments are evaluated open, and gcc and clang differ. */
		struct sim_link *victim = w->link[sim_rand_range(s, 0, w->nclients - 1)];
		sim_at(s, sim_rand_range(s, 0, 1000) * SIM_MS, partition, victim);
		sim_at(s, sim_rand_range(s, 0, 1000) * SIM_MS, pause_server, w->server);
		sim_at(s, sim_rand_range(s, 0, 1500) * SIM_MS, restart_server, w->server);
	}
	if (sim_arg_u64(s, "storm", 0))
		sim_at(s, sim_rand_range(s, 0, 500) * SIM_MS, storm, NULL);
}

static void check_link(struct sim *s, struct sim_link *l)
{
	for (enum sim_dir d = SIM_A_TO_B; d <= SIM_B_TO_A; d++) {
		struct sim_link_stats st = sim_link_stats(l, d);
		uint64_t in = st.sent + st.duplicated;
		uint64_t out = st.delivered + st.lost + st.mtu_drops + st.queue_drops +
			       st.down_drops + st.in_flight;
		if (in != out)
			sim_fail(s, "link %s %s: %llu frames in, %llu accounted for",
				 sim_link_name(l), d == SIM_A_TO_B ? "A->B" : "B->A",
				 (unsigned long long)in, (unsigned long long)out);
	}
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	/* A single flipped bit in a frame is always caught by the IPv4 or UDP
	 * checksum.  Across fragments it is not: two flips in two fragments
	 * of one datagram can cancel in the 16-bit ones' complement sum (RFC
	 * 1071), so a corrupt datagram may then reach the client, which must
	 * catch it by its content and send it again. */
	bool fragments = sim_arg_u64(s, "size", 48) + 31 + 8 + 20 > 1500;
	char want[64];
	snprintf(want, sizeof want, "udpclient: %u/%u echoed,", w->count, w->count);
	for (unsigned i = 0; i < w->nclients; i++) {
		const char *con = sim_node_console(w->client[i]);
		const char *line = strstr(con, want);
		if (!line)
			sim_fail(s, "%s: no \"%s\" line", sim_node_name(w->client[i]), want);
		else if (!strstr(line,
				 fragments ? " corrupt, 0 strangers" : " 0 corrupt, 0 strangers"))
			sim_fail(s, "%s: a bad echo reached the app: %.*s",
				 sim_node_name(w->client[i]), (int)strcspn(line, "\n"), line);
		check_link(s, w->link[i]);
	}
	check_link(s, w->server_link);
}

static const char *const args_help[] = {
    "clients=N    udpclient nodes (2)",
    "count=N      datagrams each client has echoed (10)",
    "size=N       bytes in a client's datagram 0 (48; over 1472 fragments)",
    "loss=P dup=P reorder=P corrupt=P",
    "             percent of frames each client link loses, duplicates,",
    "             holds back, corrupts (20 20 20 1)",
    "tries=N      sends of a datagram before a client gives up, 100 ms apart (1000:",
    "             a corrupted ARP reply can misdirect a client for a minute)",
    "chaos=0|1    partition a client, pause and restart the server (1)",
    "storm=S      for S seconds, change faults, partition, pause or reboot",
    "             something every 50 to 500 ms (0)",
    NULL,
};

const struct sim_scenario sim_scenario = {
    .name = "udp_echo",
    .summary = "echo and udpclient nodes through a switch under loss, duplication, "
	       "reordering, corruption, a partition, a pause and a restart",
    .args_help = args_help,
    .time_limit = 300 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
