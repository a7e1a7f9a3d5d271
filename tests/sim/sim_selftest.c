/*
 * sim_selftest - the simulator's own promises, checked one by one.
 *
 * Pairs of probe nodes, each pair on a link of its own with one fault,
 * run side by side; the check reads what each receiver saw and the link's
 * counters.  Also: an hour of virtual quiet, restarts with a clean heap,
 * per-node entropy, and block devices across a power cut.
 *
 *   make TARGET=sim && build/sim/sim_selftest --seed=1
 *
 * The probe apps are test instruments written against platform.h alone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "platform.h"
#include "sim/sim.h"

#define PROBE_TYPE 0x88b6
#define PROBE_HDR  18 /* Ethernet 14, sequence number 4 */

static uint64_t probe_arg(const struct plat_start *s, const char *key, uint64_t def)
{
	size_t klen = strlen(key);
	for (int i = 0; i < s->argc; i++)
		if (strncmp(s->argv[i], key, klen) == 0 && s->argv[i][klen] == '=')
			return strtoull(s->argv[i] + klen + 1, NULL, 10);
	return def;
}

/* Every byte but the sequence number is known to the receiver, so it can
 * count flipped bits without trusting a number that may be flipped too. */
static uint8_t probe_byte(size_t i)
{
	static const uint8_t hdr[14] = {0xff,
					0xff,
					0xff,
					0xff,
					0xff,
					0xff,
					2,
					2,
					2,
					2,
					2,
					2,
					PROBE_TYPE >> 8,
					PROBE_TYPE & 0xff};
	return i < 14 ? hdr[i] : (uint8_t)(i * 7u + 3u);
}

/* ---- probe: role=tx sends numbered frames, role=rx reports what came ---- */

static int probe_tx(const struct plat_start *s, plat_handle_t h)
{
	uint32_t count = (uint32_t)probe_arg(s, "count", 100);
	size_t size = probe_arg(s, "size", 100);
	uint64_t gap = probe_arg(s, "gap-us", 0) * 1000;
	uint8_t buf[1514]; /* on the node's stack: apps keep no globals */
	if (size < PROBE_HDR || size > sizeof buf)
		return 2;
	for (uint32_t seq = 0; seq < count; seq++) {
		for (size_t i = 0; i < size; i++)
			buf[i] = probe_byte(i);
		buf[14] = (uint8_t)(seq >> 24);
		buf[15] = (uint8_t)(seq >> 16);
		buf[16] = (uint8_t)(seq >> 8);
		buf[17] = (uint8_t)seq;
		struct plat_frame f = {buf, sizeof buf, size, false};
		if (plat_net_send(h, &f, 1) != 1)
			return 1;
		if (gap) {
			uint64_t until = plat_clock_monotonic() + gap, none = 0;
			while (plat_clock_monotonic() < until)
				plat_wait(until, &none);
		}
	}
	con_printf("tx: sent=%u\n", count);
	return 0;
}

static int probe_rx(const struct plat_start *s, plat_handle_t h)
{
	uint64_t quiet = probe_arg(s, "quiet-ms", 2000) * 1000000;
	uint32_t got = 0, inversions = 0, corrupt = 0, bitflips = 0, max_seq = 0;
	uint64_t first = 0, last = 0;
	uint8_t buf[1514];
	uint64_t deadline = plat_clock_monotonic() + quiet;
	for (;;) {
		uint64_t interest = 1ull << h;
		plat_wait(deadline, &interest);
		struct plat_frame f = {buf, sizeof buf, 0, false};
		int n = 0;
		while ((n = plat_net_recv(h, &f, 1)) == 1) {
			uint64_t now = plat_clock_monotonic();
			if (!got)
				first = now;
			last = now;
			deadline = now + quiet;
			uint32_t seq = (uint32_t)buf[14] << 24 | (uint32_t)buf[15] << 16 |
				       (uint32_t)buf[16] << 8 | buf[17];
			unsigned flips = 0;
			for (size_t i = 0; i < f.len; i++)
				if (i < 14 || i >= PROBE_HDR)
					flips +=
					    (unsigned)__builtin_popcount(buf[i] ^ probe_byte(i));
			corrupt += flips > 0;
			bitflips += flips;
			if (got && seq < max_seq)
				inversions++;
			if (seq > max_seq)
				max_seq = seq;
			got++;
			f.cap = sizeof buf;
		}
		if (plat_clock_monotonic() >= deadline || plat_stop_requested())
			break;
	}
	con_printf("rx: got=%u inversions=%u corrupt=%u bitflips=%u first=%llu last=%llu\n", got,
		   inversions, corrupt, bitflips, (unsigned long long)first,
		   (unsigned long long)last);
	return 0;
}

static int probe_main(const struct plat_start *s)
{
	plat_handle_t h;
	struct plat_net_info info;
	if (plat_net_acquire("net", &h, &info) != PLAT_OK)
		return 1;
	return probe_arg(s, "tx", 0) ? probe_tx(s, h) : probe_rx(s, h);
}

const struct plat_app probe_app = {.name = "probe", .main = probe_main};

/* ---- sleeper: an hour of nothing ------------------------------------------- */

static int sleeper_main(const struct plat_start *s)
{
	uint64_t until = plat_clock_monotonic() + 3600ull * 1000000000ull, none = 0;
	unsigned waits = 0;
	while (plat_clock_monotonic() < until) {
		plat_wait(until, &none);
		waits++;
	}
	con_printf("sleeper: woke after %u wait(s) at %llu s\n", waits,
		   (unsigned long long)(plat_clock_monotonic() / 1000000000ull));
	(void)s;
	return 0;
}

const struct plat_app sleeper_app = {.name = "sleeper", .main = sleeper_main};

/* ---- booter: what a (re)boot finds: heap, entropy, disk ---------------------- */

static int booter_main(const struct plat_start *s)
{
	const uint8_t *heap = s->heap;
	size_t dirty = 0;
	for (size_t i = 0; i < s->heap_size; i++)
		dirty += heap[i] != 0;
	memset(s->heap, 0xa5, s->heap_size); /* the next boot must not see this */
	uint64_t e;
	plat_entropy(&e, sizeof e);

	plat_handle_t h;
	struct plat_block_info bi;
	if (plat_block_acquire("disk", &h, &bi) != PLAT_OK || bi.block_size != 512)
		return 1;
	uint8_t blk[512];
	if (plat_block_read(h, 0, blk, 512) != PLAT_OK)
		return 1;
	unsigned boot = blk[0]; /* block 0: boots so far, always flushed */
	if (plat_block_read(h, 512, blk, 512) != PLAT_OK)
		return 1;
	unsigned unflushed = blk[0]; /* block 1: written last boot, never flushed */
	con_printf("booter: boot=%u heap_dirty=%zu entropy=%016llx unflushed=%u\n", boot, dirty,
		   (unsigned long long)e, unflushed);
	memset(blk, 0, sizeof blk);
	blk[0] = (uint8_t)(boot + 1);
	plat_block_write(h, 0, blk, 512);
	plat_block_flush(h);
	blk[0] = (uint8_t)(boot + 100);
	plat_block_write(h, 512, blk, 512);
	if (plat_block_write(h, 1, blk, 512) != PLAT_EINVAL ||
	    plat_block_read(h, bi.capacity, blk, 512) != PLAT_EINVAL)
		con_printf("booter: a misaligned or out-of-range access was allowed\n");
	while (!plat_stop_requested()) {
		uint64_t none = 0;
		plat_wait(UINT64_MAX, &none);
	}
	return 0;
}

const struct plat_app booter_app = {.name = "booter", .main = booter_main};

/* ---- The scenario -------------------------------------------------------------- */

enum { T_LOSS, T_FIFO, T_REORDER, T_DUP, T_CORRUPT, T_BANDWIDTH, T_MTU, T_PARTITION, T_PAUSE, NT };
static const char *const tnames[NT] = {"loss",	    "fifo", "reorder",	 "dup",	 "corrupt",
				       "bandwidth", "mtu",  "partition", "pause"};

struct world {
	struct sim_node *tx[NT], *rx[NT];
	struct sim_link *link[NT];
	struct sim_node *sleeper, *booter[2];
};

static void link_down(struct sim *s, void *arg)
{
	sim_link_set_up(arg, false);
}

static void link_up(struct sim *s, void *arg)
{
	sim_link_set_up(arg, true);
}

static void node_pause(struct sim *s, void *arg)
{
	sim_node_pause(arg);
}

static void node_resume(struct sim *s, void *arg)
{
	sim_node_resume(arg);
}

static void node_restart(struct sim *s, void *arg)
{
	sim_node_restart(arg);
}

static void setup(struct sim *s)
{
	struct world *w = sim_world(s);
	for (unsigned t = 0; t < NT; t++) {
		char name[32], args[96];
		struct sim_faults f = {.delay = 1 * SIM_MS};
		unsigned count = 1000, size = 100, gap = 100;
		switch (t) {
		case T_LOSS:
			f.loss = SIM_PERCENT(30);
			break;
		case T_FIFO:
			f.jitter = 5 * SIM_MS; /* 50 frames' worth: FIFO must still hold */
			break;
		case T_REORDER:
			f.reorder = SIM_PERCENT(10);
			f.reorder_delay = 2 * SIM_MS;
			break;
		case T_DUP:
			f.duplicate = SIM_PROB_ONE;
			break;
		case T_CORRUPT:
			f.corrupt = SIM_PERCENT(50);
			f.corrupt_bits = 3;
			break;
		case T_BANDWIDTH:
			/* 100 frames of 1250 bytes at 1 Mbit/s: 10 ms each. */
			f.bandwidth = 1000000;
			f.queue_limit = 1 << 20;
			count = 100;
			size = 1250;
			gap = 0;
			break;
		case T_MTU:
			f.mtu = 500;
			count = 10;
			size = 600;
			break;
		case T_PARTITION:
			f.delay = 10 * SIM_MS;
			break;
		}
		snprintf(name, sizeof name, "%s-tx", tnames[t]);
		snprintf(args, sizeof args, "tx=1 count=%u size=%u gap-us=%u", count, size, gap);
		w->tx[t] = sim_node_new(s, name, &probe_app, args, 64 << 10);
		snprintf(name, sizeof name, "%s-rx", tnames[t]);
		w->rx[t] = sim_node_new(s, name, &probe_app, "quiet-ms=2000", 64 << 10);
		w->link[t] = sim_link_new(s, tnames[t], sim_node_net(w->tx[t], "net", 0),
					  sim_node_net(w->rx[t], "net", 0));
		sim_link_faults(w->link[t], SIM_BOTH, &f);
	}
	/* 1000 frames 100 us apart: 100 ms of traffic.  Cut the link with
	 * frames on the wire, for 20 ms; freeze a receiver for 20 ms. */
	sim_at(s, 45 * SIM_MS, link_down, w->link[T_PARTITION]);
	sim_at(s, 65 * SIM_MS, link_up, w->link[T_PARTITION]);
	sim_at(s, 45 * SIM_MS, node_pause, w->rx[T_PAUSE]);
	sim_at(s, 65 * SIM_MS, node_resume, w->rx[T_PAUSE]);

	w->sleeper = sim_node_new(s, "sleeper", &sleeper_app, "", 64 << 10);
	for (unsigned i = 0; i < 2; i++) {
		w->booter[i] =
		    sim_node_new(s, i ? "booter2" : "booter1", &booter_app, "", 256 << 10);
		sim_node_block(w->booter[i], "disk", 64 << 10, 512);
		sim_node_daemon(w->booter[i]);
		sim_at(s, (1 + i) * SIM_SEC, node_restart, w->booter[i]);
		sim_at(s, 10 * SIM_SEC, node_restart, w->booter[i]);
	}
}

static bool rx_report(struct sim *s, unsigned t, unsigned v[4], uint64_t times[2])
{
	struct world *w = sim_world(s);
	const char *line = strstr(sim_node_console(w->rx[t]), "rx: ");
	if (!line || sscanf(line,
			    "rx: got=%u inversions=%u corrupt=%u bitflips=%u first=%" SCNu64
			    " last=%" SCNu64,
			    &v[0], &v[1], &v[2], &v[3], &times[0], &times[1]) != 6) {
		sim_fail(s, "%s: no report from the receiver", tnames[t]);
		return false;
	}
	return true;
}

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			sim_fail(s, __VA_ARGS__);                                                  \
	} while (0)

static void check(struct sim *s)
{
	struct world *w = sim_world(s);
	unsigned v[NT][4];
	uint64_t tm[NT][2];
	struct sim_link_stats st[NT];
	for (unsigned t = 0; t < NT; t++) {
		if (!rx_report(s, t, v[t], tm[t]))
			return;
		st[t] = sim_link_stats(w->link[t], SIM_A_TO_B);
		EXPECT(st[t].sent + st[t].duplicated == st[t].delivered + st[t].lost +
							    st[t].mtu_drops + st[t].queue_drops +
							    st[t].down_drops + st[t].in_flight,
		       "%s: the link's counters do not add up", tnames[t]);
	}
	/* 30% of 1000: four standard deviations (about 14.5 each) either way. */
	EXPECT(st[T_LOSS].lost >= 242 && st[T_LOSS].lost <= 358 &&
		   v[T_LOSS][0] == 1000 - st[T_LOSS].lost,
	       "loss: %" PRIu64 " lost, %u received", st[T_LOSS].lost, v[T_LOSS][0]);
	EXPECT(v[T_FIFO][0] == 1000 && v[T_FIFO][1] == 0, "fifo: %u received, %u out of order",
	       v[T_FIFO][0], v[T_FIFO][1]);
	EXPECT(v[T_REORDER][0] == 1000 && v[T_REORDER][1] > 0 && st[T_REORDER].reordered > 0,
	       "reorder: %u received, %u out of order", v[T_REORDER][0], v[T_REORDER][1]);
	EXPECT(v[T_DUP][0] == 2000 && st[T_DUP].duplicated == 1000, "dup: %u received",
	       v[T_DUP][0]);
	/* Flips in the 4 bytes of sequence number go unseen: allow a tenth. */
	EXPECT(v[T_CORRUPT][2] <= st[T_CORRUPT].corrupted && v[T_CORRUPT][2] > 0 &&
		   v[T_CORRUPT][2] >= st[T_CORRUPT].corrupted * 9 / 10 &&
		   v[T_CORRUPT][3] <= 3 * v[T_CORRUPT][2],
	       "corrupt: %u frames with %u bits flipped, the link corrupted %" PRIu64,
	       v[T_CORRUPT][2], v[T_CORRUPT][3], st[T_CORRUPT].corrupted);
	/* Frame 100 leaves after 100 x 10 ms of serialisation, then 1 ms of delay. */
	EXPECT(v[T_BANDWIDTH][0] == 100 && tm[T_BANDWIDTH][1] - tm[T_BANDWIDTH][0] == 990 * SIM_MS,
	       "bandwidth: %u received, %" PRIu64 " ns from first to last", v[T_BANDWIDTH][0],
	       tm[T_BANDWIDTH][1] - tm[T_BANDWIDTH][0]);
	EXPECT(v[T_MTU][0] == 0 && st[T_MTU].mtu_drops == 10, "mtu: %u received", v[T_MTU][0]);
	/* Down for 20 ms with 10 ms on the wire: about 300 frames lost. */
	EXPECT(st[T_PARTITION].down_drops >= 290 && st[T_PARTITION].down_drops <= 310 &&
		   v[T_PARTITION][0] == 1000 - st[T_PARTITION].down_drops,
	       "partition: %" PRIu64 " dropped, %u received", st[T_PARTITION].down_drops,
	       v[T_PARTITION][0]);
	EXPECT(v[T_PAUSE][0] >= 790 && v[T_PAUSE][0] <= 810, "pause: %u received", v[T_PAUSE][0]);

	EXPECT(strstr(sim_node_console(w->sleeper), "sleeper: woke after 1 wait(s) at 3600 s"),
	       "sleeper: %s", sim_node_console(w->sleeper));
	uint64_t ent[2][3];
	for (unsigned i = 0; i < 2; i++) {
		const char *con = sim_node_console(w->booter[i]);
		EXPECT(sim_node_boots(w->booter[i]) == 3, "%s booted %u times",
		       sim_node_name(w->booter[i]), sim_node_boots(w->booter[i]));
		for (unsigned b = 0; b < 3; b++) {
			unsigned boot, unflushed;
			size_t dirty;
			con = strstr(con, "booter: ");
			if (!con || sscanf(con,
					   "booter: boot=%u heap_dirty=%zu entropy=%" SCNx64
					   " unflushed=%u",
					   &boot, &dirty, &ent[i][b], &unflushed) != 4) {
				sim_fail(s, "%s: no report for boot %u",
					 sim_node_name(w->booter[i]), b + 1);
				return;
			}
			con++;
			EXPECT(boot == b && dirty == 0,
			       "%s boot %u: counted %u boots, %zu heap bytes not zero",
			       sim_node_name(w->booter[i]), b + 1, boot, dirty);
			/* A write never flushed is kept or lost at the power cut. */
			EXPECT(unflushed == 0 || (unflushed >= 100 && unflushed < 100 + b),
			       "%s boot %u: unflushed block holds %u", sim_node_name(w->booter[i]),
			       b + 1, unflushed);
		}
	}
	for (unsigned i = 0; i < 6; i++)
		for (unsigned j = i + 1; j < 6; j++)
			EXPECT(ent[i / 3][i % 3] != ent[j / 3][j % 3],
			       "two boots drew the same entropy");
}

const struct sim_scenario sim_scenario = {
    .name = "sim_selftest",
    .summary = "each fault, virtual time, restarts, entropy and block devices, checked",
    .time_limit = 2 * 3600 * SIM_SEC,
    .world_size = sizeof(struct world),
    .setup = setup,
    .check = check,
};
