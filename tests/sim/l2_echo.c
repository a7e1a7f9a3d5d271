/*
 * l2_echo - raw Ethernet frames through a learning switch, under faults.
 *
 * Needs nothing above the platform but lib/core's formatting, so it tests
 * the simulator itself: several clients send numbered frames through a
 * switch to one echo peer, over links that lose, duplicate, reorder,
 * delay and corrupt frames, while the scenario partitions a client, pauses
 * the peer and restarts it.  Each client retries every frame until its
 * echo comes back intact, and exits 0 once all are accounted for.
 *
 *   make TARGET=sim && build/sim/l2_echo --seed=1
 *   build/sim/l2_echo --seeds=1..1000
 *
 * The two apps are defined here: they are test instruments, written
 * against platform.h alone like any app.
 */
#include <stdio.h>
#include <string.h>

#include "core/fmt.h"
#include "platform.h"
#include "sim/sim.h"

#define L2_TYPE	     0x88b5 /* IEEE 802 "local experimental" EtherType */
#define L2_REQ	     1
#define L2_REP	     2
#define L2_HDR	     20 /* Ethernet 14, kind 1, pad 1, number 4 */
#define L2_MAX_COUNT 4096

/* ---- The frame format: a number, then bytes derived from it ------------- */

static size_t l2_payload_len(uint32_t num)
{
	return 16 + num % 48;
}

static uint8_t l2_payload_byte(uint32_t num, size_t i)
{
	uint32_t x = num * 2654435761u + (uint32_t)i * 40503u;
	return (uint8_t)(x >> 13);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t arg_num(const struct plat_start *s, const char *key, uint64_t def)
{
	size_t klen = strlen(key);
	for (int i = 0; i < s->argc; i++)
		if (strncmp(s->argv[i], key, klen) == 0 && s->argv[i][klen] == '=') {
			uint64_t v = 0;
			for (const char *p = s->argv[i] + klen + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (uint64_t)(*p - '0');
			return v;
		}
	return def;
}

/* ---- The echo peer: answers every request, from whoever sent it ------------ */

static int l2peer_main(const struct plat_start *s)
{
	plat_handle_t h;
	struct plat_net_info info;
	if (plat_net_acquire("service", &h, &info) != PLAT_OK) {
		con_printf("l2peer: no service device\n");
		return 1;
	}
	static const size_t cap = 1514;
	uint8_t buf[8][1514];
	struct plat_frame fr[8];
	uint64_t echoed = 0;
	while (!plat_stop_requested()) {
		uint64_t interest = 1ull << h;
		plat_wait(UINT64_MAX, &interest);
		for (;;) {
			for (unsigned i = 0; i < 8; i++)
				fr[i] = (struct plat_frame){buf[i], cap, 0, false};
			int n = plat_net_recv(h, fr, 8);
			if (n <= 0)
				break;
			unsigned out = 0;
			for (int i = 0; i < n; i++) {
				uint8_t *p = fr[i].data;
				if (fr[i].len < L2_HDR || p[12] != (L2_TYPE >> 8) ||
				    p[13] != (L2_TYPE & 0xff) || p[14] != L2_REQ)
					continue;
				memcpy(p, p + 6, 6);
				memcpy(p + 6, info.mac, 6);
				p[14] = L2_REP;
				fr[out++] = fr[i];
			}
			if (out)
				echoed += (unsigned)plat_net_send(h, fr, out);
		}
	}
	con_printf("l2peer: echoed %llu frames\n", (unsigned long long)echoed);
	(void)s;
	return 0;
}

const struct plat_app l2peer_app = {
    .name = "l2peer",
    .summary = "echoes raw frames of EtherType 0x88b5",
    .main = l2peer_main,
};

/* ---- The client: numbered requests, retried until echoed ------------------- */

struct l2_slot {
	uint64_t sent_at;
	unsigned tries;
	bool done;
};

static void l2_send(plat_handle_t h, const uint8_t mac[6], const uint8_t peer[6], uint32_t num)
{
	uint8_t p[L2_HDR + 64];
	memcpy(p, peer, 6);
	memcpy(p + 6, mac, 6);
	p[12] = L2_TYPE >> 8;
	p[13] = L2_TYPE & 0xff;
	p[14] = L2_REQ;
	p[15] = 0;
	p[16] = (uint8_t)(num >> 24);
	p[17] = (uint8_t)(num >> 16);
	p[18] = (uint8_t)(num >> 8);
	p[19] = (uint8_t)num;
	size_t len = l2_payload_len(num);
	for (size_t i = 0; i < len; i++)
		p[L2_HDR + i] = l2_payload_byte(num, i);
	struct plat_frame f = {p, sizeof p, L2_HDR + len, false};
	plat_net_send(h, &f, 1);
}

static int l2client_main(const struct plat_start *s)
{
	uint32_t count = (uint32_t)arg_num(s, "count", 20);
	unsigned window = (unsigned)arg_num(s, "window", 4);
	uint64_t timeout = arg_num(s, "timeout-ms", 50) * 1000000ull;
	unsigned max_tries = (unsigned)arg_num(s, "tries", 200);
	if (count == 0 || count > L2_MAX_COUNT || window == 0) {
		con_printf("l2client: count must be 1..%d and window at least 1\n", L2_MAX_COUNT);
		return 2;
	}
	plat_handle_t h;
	struct plat_net_info info;
	if (plat_net_acquire("service", &h, &info) != PLAT_OK) {
		con_printf("l2client: no service device\n");
		return 1;
	}
	/* The slots live in the one heap, as the platform contract wants. */
	struct l2_slot *slot = s->heap;
	if (s->heap_size < count * sizeof *slot)
		return 1;
	uint8_t peer[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* until the first echo */
	uint32_t base = 0, done = 0;
	uint64_t retries = 0, dups = 0, corrupt = 0;
	uint8_t buf[1514];
	while (done < count) {
		if (plat_stop_requested()) {
			con_printf("l2client: stopped with %u of %u echoed\n", done, count);
			return 1;
		}
		uint64_t now = plat_clock_monotonic(), deadline = UINT64_MAX;
		while (base < count && slot[base].done)
			base++;
		for (uint32_t i = base; i < count && i < base + window; i++) {
			struct l2_slot *sl = &slot[i];
			if (sl->done)
				continue;
			if (sl->tries == 0 || now - sl->sent_at >= timeout) {
				if (sl->tries == max_tries) {
					con_printf("l2client: frame %u not echoed after %u tries\n",
						   i, max_tries);
					return 1;
				}
				retries += sl->tries > 0;
				sl->tries++;
				sl->sent_at = now;
				l2_send(h, info.mac, peer, i);
			}
			if (sl->sent_at + timeout < deadline)
				deadline = sl->sent_at + timeout;
		}
		uint64_t interest = 1ull << h;
		plat_wait(deadline, &interest);
		struct plat_frame f = {buf, sizeof buf, 0, false};
		while (plat_net_recv(h, &f, 1) == 1) {
			const uint8_t *p = f.data;
			if (f.len < L2_HDR || memcmp(p, info.mac, 6) != 0 || p[14] != L2_REP ||
			    p[12] != (L2_TYPE >> 8) || p[13] != (L2_TYPE & 0xff)) {
				f.cap = sizeof buf;
				continue;
			}
			uint32_t num = get_be32(p + 16);
			bool intact = num < count && f.len == L2_HDR + l2_payload_len(num);
			for (size_t i = 0; intact && i < l2_payload_len(num); i++)
				intact = p[L2_HDR + i] == l2_payload_byte(num, i);
			if (!intact) {
				/* Ethernet has no checksum here: a corrupted echo is
				 * caught by its content and the frame sent again. */
				corrupt++;
			} else if (slot[num].done) {
				dups++;
			} else {
				slot[num].done = true;
				done++;
				memcpy(peer, p + 6, 6);
			}
			f.cap = sizeof buf;
		}
	}
	con_printf("l2client: %u/%u echoed, %llu retries, %llu duplicates, %llu corrupt\n", done,
		   count, (unsigned long long)retries, (unsigned long long)dups,
		   (unsigned long long)corrupt);
	return 0;
}

const struct plat_app l2client_app = {
    .name = "l2client",
    .summary = "sends numbered raw frames until each is echoed",
    .main = l2client_main,
};

/* ---- The scenario ------------------------------------------------------------ */

#define MAX_CLIENTS 16

struct world {
	struct sim_node *peer;
	struct sim_node *client[MAX_CLIENTS];
	struct sim_link *link[MAX_CLIENTS];
	unsigned nclients;
	uint32_t count;
};

static void heal(struct sim *s, void *arg)
{
	(void)s;
	sim_link_set_up(arg, true);
}

static void partition(struct sim *s, void *arg)
{
	sim_link_set_up(arg, false);
	sim_at(s, sim_now(s) + sim_rand_range(s, 50, 400) * SIM_MS, heal, arg);
}

static void resume(struct sim *s, void *arg)
{
	(void)s;
	sim_node_resume(arg);
}

static void pause_peer(struct sim *s, void *arg)
{
	sim_node_pause(arg);
	sim_at(s, sim_now(s) + sim_rand_range(s, 10, 300) * SIM_MS, resume, arg);
}

static void restart_peer(struct sim *s, void *arg)
{
	sim_node_restart(arg);
}

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	w->nclients = (unsigned)sim_arg_u64(s, "clients", 3);
	w->count = (uint32_t)sim_arg_u64(s, "count", 20);
	uint32_t loss = SIM_PERCENT(sim_arg_u64(s, "loss", 20));
	if (w->nclients == 0 || w->nclients > MAX_CLIENTS)
		sim_fail(s, "clients must be 1..%d", MAX_CLIENTS);
	w->nclients = w->nclients ? (w->nclients > MAX_CLIENTS ? MAX_CLIENTS : w->nclients) : 1;

	struct sim_switch *sw = sim_switch_new(s, "sw");
	w->peer = sim_node_new(s, "peer", &l2peer_app, "", 64 << 10);
	sim_node_daemon(w->peer);
	struct sim_link *pl =
	    sim_link_new(s, "peer", sim_node_net(w->peer, "service", 0), sim_switch_port(sw));
	struct sim_faults calm = {.delay = 50 * SIM_US, .jitter = 20 * SIM_US};
	sim_link_faults(pl, SIM_BOTH, &calm);

	struct sim_faults rough = {
	    .delay = 200 * SIM_US,
	    .jitter = 300 * SIM_US,
	    .loss = loss,
	    .duplicate = SIM_PERCENT(10),
	    .reorder = SIM_PERCENT(10),
	    .reorder_delay = 2 * SIM_MS,
	    .corrupt = SIM_PERCENT(2),
	    .corrupt_bits = 3,
	    .bandwidth = 10000000, /* 10 Mbit/s */
	};
	char name[32], args[96];
	for (unsigned i = 0; i < w->nclients; i++) {
		snprintf(name, sizeof name, "c%u", i + 1);
		snprintf(args, sizeof args, "count=%u window=%u", w->count, 1 + i % 4);
		w->client[i] = sim_node_new(s, name, &l2client_app, args, 256 << 10);
		sim_node_boot_at(w->client[i], sim_rand_range(s, 0, 100) * SIM_MS);
		w->link[i] = sim_link_new(s, name, sim_node_net(w->client[i], "service", 0),
					  sim_switch_port(sw));
		sim_link_faults(w->link[i], SIM_BOTH, &rough);
	}

	/* Chaos at seeded times, early enough to hit traffic. */
	/* One draw per statement: C leaves the order in which a call's
	 * arguments are evaluated open, and gcc and clang differ. */
	struct sim_link *victim = w->link[sim_rand_range(s, 0, w->nclients - 1)];
	sim_at(s, sim_rand_range(s, 0, 500) * SIM_MS, partition, victim);
	sim_at(s, sim_rand_range(s, 0, 500) * SIM_MS, pause_peer, w->peer);
	if (sim_arg_u64(s, "restart", 1))
		sim_at(s, sim_rand_range(s, 0, 800) * SIM_MS, restart_peer, w->peer);
}

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	char want[64];
	snprintf(want, sizeof want, "l2client: %u/%u echoed", w->count, w->count);
	for (unsigned i = 0; i < w->nclients; i++)
		if (!strstr(sim_node_console(w->client[i]), want))
			sim_fail(s, "%s did not report \"%s\"", sim_node_name(w->client[i]), want);
}

static const char *const args_help[] = {
    "clients=N     client nodes (3)",
    "count=N       frames each client has echoed (20)",
    "loss=P        percent lost on each client link, both ways (20)",
    "restart=0|1   restart the peer once, at a random time (1)",
    NULL,
};

const struct sim_scenario sim_scenario = {
    .name = "l2_echo",
    .summary = "raw frames through a switch under loss, duplication, reordering, "
	       "corruption, a partition, a pause and a restart",
    .args_help = args_help,
    .time_limit = 120 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
