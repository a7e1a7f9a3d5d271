/*
 * sim.h - the simulation target as a scenario sees it.
 *
 * A scenario is a C file (tests/sim/<name>.c) that builds a small world:
 * nodes, each one unikernel (a struct plat_app with its own boot arguments,
 * heap and network devices); learning switches; and links joining a node's
 * device or a switch port to another.  The simulator then runs every node in
 * one process, in virtual time, with one seed driving every choice.
 *
 *   - Virtual time.  A node runs until it calls plat_wait; the clock moves
 *     only when every node is waiting, straight to the next event (a
 *     deadline, a frame arriving, a scheduled call).  Running a node takes
 *     no virtual time at all.
 *   - One seed.  The order of events due at the same instant, each node's
 *     entropy, MAC addresses and every fault come from it, so a seed and a
 *     scenario give the same run, bit for bit (and the same frame digest).
 *   - Faults per link and direction (struct sim_faults), changeable at any
 *     time, plus link up/down (partition, heal) and node pause, resume,
 *     restart (a reboot: main again, fresh heap) and stop requests.
 *
 * Scenario code runs on the simulator's own stack, between events: in
 * setup, in calls scheduled with sim_at, and in check.  It may use libc
 * freely; it must not call plat_* (those act on the node being run).
 *
 * Ownership: the simulator owns every object it returns; all of them live
 * until the run's end.  Strings passed in are copied.  Errors in scenario
 * code (a bad argument, an impossible topology) are fatal and name the
 * call: they are bugs in the scenario, not outcomes of a run.
 */
#ifndef ATOLL_PLATFORM_SIM_H
#define ATOLL_PLATFORM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

struct sim;
struct sim_node;
struct sim_switch;
struct sim_link;
struct sim_port; /* one end of a link: a node's network device or a switch port */

#define SIM_US	  1000ull
#define SIM_MS	  1000000ull
#define SIM_SEC	  1000000000ull
#define SIM_NEVER UINT64_MAX

/* Probabilities are integers in millionths, so that no floating point
 * (and no compiler's idea of it) can make two runs of a seed differ. */
#define SIM_PROB_ONE   1000000u
#define SIM_PERCENT(p) ((uint32_t)((p)*10000u))

/* ---- The scenario ------------------------------------------------------ */

struct sim_scenario {
	const char *name;
	const char *summary;
	/* Key=value words the scenario reads with sim_arg, for --help. */
	const char *const *args_help; /* "count=N  datagrams per client (20)", NULL-ended */
	/* A run still going at this virtual time fails (0: one hour). */
	uint64_t time_limit;
	/* Bytes of zeroed memory each run gives the scenario for its own
	 * state (sim_world), so that nothing carries over between seeds. */
	size_t world_size;
	/* Build the world: nodes, switches, links, faults, scheduled calls. */
	void (*setup)(struct sim *s);
	/* After the run, if it has not failed yet: judge the outcome (node
	 * statuses, consoles, link counters) and sim_fail on anything wrong.
	 * May be NULL. */
	void (*check)(struct sim *s);
};

/* Every scenario file defines this object; platform/sim/main.c runs it. */
extern const struct sim_scenario sim_scenario;

/* ---- The run ------------------------------------------------------------- */

/* The scenario's own state for this run: world_size zeroed bytes. */
void *sim_world(const struct sim *s);
uint64_t sim_seed(const struct sim *s);
uint64_t sim_now(const struct sim *s); /* virtual ns since the run began */
/* Scenario randomness (a fault schedule, a random victim): from the seed,
 * in a stream of its own so that it does not shift the simulator's. */
uint64_t sim_rand(struct sim *s);
/* Uniform in [lo, hi]. */
uint64_t sim_rand_range(struct sim *s, uint64_t lo, uint64_t hi);

/* A key=value word from the command line ("count=50"), else def. */
const char *sim_arg(const struct sim *s, const char *key, const char *def);
uint64_t sim_arg_u64(const struct sim *s, const char *key, uint64_t def);

/* Mark the run failed (the first message is the one reported).  The run
 * stops at the end of the current event. */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sim_failed(const struct sim *s);

/* Call fn(s, arg) at virtual time t (absolute; now if t is in the past). */
void sim_at(struct sim *s, uint64_t t, void (*fn)(struct sim *s, void *arg), void *arg);

/* Say something in the run's log ("sim | ..." lines), which a failing
 * seed prints. */
void sim_log(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Nodes ---------------------------------------------------------------- */

/*
 * A node runs app with the boot arguments in args (space-separated
 * key=value words, as on a hosted command line) and a heap of heap_size
 * bytes (0: 4 MiB).  It boots at time 0 (see sim_node_boot_at).
 *
 * The run ends when every node not marked a daemon has exited; the
 * daemons are then asked to stop (plat_stop_requested) and given a second
 * of virtual time to exit.  A node whose status is not 0, or that aborts,
 * fails the run unless sim_node_expect_status said otherwise.
 */
struct sim_node *sim_node_new(struct sim *s, const char *name, const struct plat_app *app,
			      const char *args, size_t heap_size);
void sim_node_daemon(struct sim_node *n);
void sim_node_boot_at(struct sim_node *n, uint64_t t);
void sim_node_expect_status(struct sim_node *n, int status);

/* A network device for the app to acquire by name.  Its MAC is
 * 02:00:00:<node number, 2 bytes>:<device number>, easy to read in a
 * capture; mtu 0 means 1500. */
struct sim_port *sim_node_net(struct sim_node *n, const char *dev, uint16_t mtu);
/* A block device of capacity bytes in blocks of block_size, zeroed.  It
 * outlives restarts; writes not yet flushed when the node restarts are
 * each kept or lost at random (a power cut). */
void sim_node_block(struct sim_node *n, const char *dev, uint64_t capacity, uint32_t block_size);

/* Pause: the node is not run and frames arriving for it are dropped, as
 * for a frozen VM.  Resume: it carries on where it was, its clock having
 * jumped.  Restart: it boots again from main with a fresh heap and empty
 * device queues, now (a reboot).  Stop: plat_stop_requested becomes true
 * for it (a clean shutdown request). */
void sim_node_pause(struct sim_node *n);
void sim_node_resume(struct sim_node *n);
void sim_node_restart(struct sim_node *n);
void sim_node_stop(struct sim_node *n);

const char *sim_node_name(const struct sim_node *n);
/* True once main returned or the node called plat_exit or plat_abort;
 * *status then holds its exit status. */
bool sim_node_exited(const struct sim_node *n, int *status);
/* Everything the node wrote to its console, NUL-terminated (the oldest
 * part is dropped past a few hundred KiB).  Valid until the run ends. */
const char *sim_node_console(const struct sim_node *n);
unsigned sim_node_boots(const struct sim_node *n);

/* ---- Switches and links -------------------------------------------------- */

/* A learning Ethernet switch: it floods broadcast, multicast and unknown
 * destinations and forwards the rest to the port it last saw them on.
 * Forwarding takes no time; the links on either side carry the delays. */
struct sim_switch *sim_switch_new(struct sim *s, const char *name);
struct sim_port *sim_switch_port(struct sim_switch *sw);

/* A link joins two ports that have none yet.  Direction A->B is from a to
 * b.  It starts up, with a 100 us delay each way and no other fault. */
struct sim_link *sim_link_new(struct sim *s, const char *name, struct sim_port *a,
			      struct sim_port *b);

struct sim_faults {
	uint64_t delay;		/* one-way latency, ns */
	uint64_t jitter;	/* plus a uniform 0..jitter ns; FIFO order is kept */
	uint32_t loss;		/* millionths: the frame vanishes */
	uint32_t duplicate;	/* millionths: a copy follows with its own delay */
	uint32_t reorder;	/* millionths: held back reorder_delay, letting later ones pass */
	uint64_t reorder_delay; /* ns; 0 for 1 ms */
	uint32_t corrupt;	/* millionths: corrupt_bits random bits flipped (1 if 0) */
	unsigned corrupt_bits;
	uint64_t bandwidth; /* bits per second, 0 for no limit: frames queue behind each other */
	size_t queue_limit; /* bytes waiting for the wire before tail drop (0: 64 KiB) */
	unsigned mtu;	    /* frames over mtu + 14 bytes are dropped; 0 for no limit */
};

enum sim_dir { SIM_A_TO_B = 1, SIM_B_TO_A = 2, SIM_BOTH = 3 };

/* Replace the faults of one or both directions, from now on (frames
 * already on the wire keep their fate).  The whole set is replaced: a
 * field left 0 means none of that fault, and no delay. */
void sim_link_faults(struct sim_link *l, enum sim_dir dir, const struct sim_faults *f);
struct sim_faults sim_link_get_faults(const struct sim_link *l, enum sim_dir dir);
/* Down: a partition.  Frames sent are dropped, and so are frames on the
 * wire when it goes down.  Up again: a heal. */
void sim_link_set_up(struct sim_link *l, bool up);
/* Cut (or restore) every link of a node: partition it from the world. */
void sim_node_isolate(struct sim_node *n, bool isolated);

/* Record every frame the link delivers, both ways, with its virtual time
 * stamp, in a pcap file (nanosecond resolution) for tcpdump or Wireshark.
 * Returns false (and says why) if the file cannot be created. */
bool sim_link_pcap(struct sim_link *l, const char *path);

/* Per direction, these always add up: sent + duplicated = delivered +
 * lost + mtu_drops + queue_drops + down_drops + in_flight. */
struct sim_link_stats {
	uint64_t sent;	    /* frames offered to this direction */
	uint64_t delivered; /* frames that arrived (duplicates included) */
	uint64_t lost, duplicated, reordered, corrupted;
	uint64_t mtu_drops, queue_drops, down_drops;
	uint64_t in_flight; /* on the wire now */
};

struct sim_link_stats sim_link_stats(const struct sim_link *l, enum sim_dir dir);
struct sim_link *sim_link_find(const struct sim *s, const char *name);
const char *sim_link_name(const struct sim_link *l);

#endif
