/*
 * simint.h - the inside of the simulation target, shared by its files:
 * sched.c (the virtual clock, the event queue, node contexts and the
 * per-node plat_* calls), net.c (links, switches, faults, pcap and the
 * plat_net_* calls), block.c (plat_block_*) and main.c (the command line
 * and the seed loop).  Scenarios see sim.h only.
 *
 * Platform calls carry no context, so the simulator keeps one pointer to
 * the run in progress and the node it is running (sim_current); that is
 * the only file-level state, and it lives below platform.h, where the
 * rule against mutable globals does not reach.
 */
#ifndef ATOLL_PLATFORM_SIMINT_H
#define ATOLL_PLATFORM_SIMINT_H

#include <stdio.h>

#include "sim.h"

#define SIM_DEVS_MAX		  16	       /* devices per node (handles 0..15) */
#define SIM_FRAME_MAX		  65535	       /* the largest frame a device accepts */
#define SIM_RXQ_MAX		  512	       /* frames waiting in a device before tail drop */
#define SIM_NODE_STACK		  (512u << 10) /* main's stack; lib fibers use the heap */
#define SIM_HEAP_DEFAULT	  (4u << 20)
#define SIM_LINK_DELAY_DEFAULT	  (100 * SIM_US)
#define SIM_REORDER_DELAY_DEFAULT SIM_MS
#define SIM_QUEUE_LIMIT_DEFAULT	  (64u << 10)
#define SIM_STOP_GRACE		  SIM_SEC /* daemons get this long to stop at the end */
#define SIM_TIME_LIMIT_DEFAULT	  (3600 * SIM_SEC)
#define SIM_CONSOLE_MAX		  (256u << 10)
#define SIM_SWITCH_MACS		  256
/* Events at one instant before the run is declared stuck: a node that
 * polls (plat_wait with a past deadline, forever) stops the clock. */
#define SIM_LIVELOCK_EVENTS 1000000
#define SIM_ABORT_STATUS    70 /* as hosted: EX_SOFTWARE */
/* Wall clock at virtual time 0: 2026-01-01T00:00:00Z.  Fixed, so that
 * nothing a node sees depends on when the simulation ran. */
#define SIM_WALL_EPOCH (1767225600ull * SIM_SEC)

/* ---- Randomness: splitmix64, small, fast and good enough to drive
 * faults; each stream is one 64-bit state derived from the seed. ---- */
static inline uint64_t sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t sim_rng_next(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ull;
	return sim_mix64(*state);
}

/* The streams (sim_rng_derive's `what`). */
enum { SIM_RNG_SCHED = 1, SIM_RNG_SCENARIO, SIM_RNG_ENTROPY, SIM_RNG_LINK, SIM_RNG_BLOCK };

/* The state of stream `what` (a small constant per use) of object id. */
static inline uint64_t sim_rng_derive(uint64_t seed, uint64_t what, uint64_t id)
{
	return sim_mix64(sim_mix64(seed ^ sim_mix64(what)) + id);
}

/* True with probability p millionths. */
static inline bool sim_rng_chance(uint64_t *state, uint32_t p)
{
	if (p == 0)
		return false;
	return sim_rng_next(state) % SIM_PROB_ONE < p;
}

/* ---- Frames, events ------------------------------------------------------- */

struct sim_frame {
	struct sim_frame *next; /* in a device's receive queue */
	size_t len;
	uint8_t data[];
};

enum sim_event_kind { SIM_EV_WAKE, SIM_EV_ARRIVE, SIM_EV_CALL };

struct sim_event {
	uint64_t time;
	uint64_t key; /* random: orders events due at the same instant */
	uint64_t seq; /* insertion order: makes the order total */
	enum sim_event_kind kind;
	union {
		struct {
			struct sim_node *node;
			uint64_t gen;
		} wake;
		struct {
			struct sim_frame *frame;
			struct sim_link *link;
			unsigned dir;	/* 0: A->B, 1: B->A */
			uint64_t epoch; /* the link's, when sent */
		} arrive;
		struct {
			void (*fn)(struct sim *s, void *arg);
			void *arg;
		} call;
	} u;
};

/* ---- Devices ------------------------------------------------------------------ */

struct sim_nic {
	struct plat_net_info info;
	struct sim_port *port;
	struct sim_frame *rx_head, *rx_tail;
	unsigned rx_count;
	uint64_t rx_drops; /* queue full, or the node down or paused */
};

struct sim_blk {
	uint64_t capacity;
	uint32_t block_size;
	uint8_t *data;	  /* what reads see */
	uint8_t *durable; /* what survives a restart */
	uint8_t *dirty;	  /* one byte per block: written since the last flush */
};

struct sim_dev {
	char *name;
	enum plat_device_kind kind;
	union {
		struct sim_nic net;
		struct sim_blk blk;
	} u;
};

/* ---- Nodes ---------------------------------------------------------------------- */

enum sim_node_state {
	SIM_NODE_NEW,	  /* main has not started (boot or restart pending) */
	SIM_NODE_WAITING, /* inside plat_wait */
	SIM_NODE_RUNNING,
	SIM_NODE_EXITED,
};

struct sim_node {
	struct sim *sim;
	unsigned id;
	char *name;
	const struct plat_app *app;
	char *argbuf;
	char **argv;
	int argc;
	struct plat_start start;
	size_t heap_size;
	void *heap;

	struct sim_dev devs[SIM_DEVS_MAX];
	unsigned ndevs;

	uint8_t *stack; /* mapping: a guard page, then SIM_NODE_STACK bytes */
	void *sp;	/* saved stack pointer while not running */
	enum sim_node_state state;
	bool paused, stop, daemon, aborted, cancelled;
	uint64_t boot_at;   /* first boot, virtual ns */
	uint64_t boot_time; /* the current boot's; the node's clock counts from it */
	unsigned boots;
	uint64_t entropy; /* rng state */

	/* The one pending wake-up: events carrying an older gen are stale. */
	uint64_t gen;
	bool wake_pending;
	uint64_t wake_time;
	uint64_t wait_deadline; /* absolute virtual ns */
	uint64_t wait_interest;

	int status;
	int expect_status;

	char *console; /* NUL-terminated */
	size_t con_len, con_cap;
	bool con_midline;
};

/* ---- The network ----------------------------------------------------------------- */

struct sim_port {
	unsigned id;
	struct sim_link *link; /* NULL until joined */
	unsigned side;	       /* 0: the link's A end, 1: B */
	struct sim_node *node; /* a node's device ... */
	unsigned dev;
	struct sim_switch *sw; /* ... or a switch port */
	unsigned sw_port;
};

struct sim_switch {
	struct sim *sim;
	char *name;
	struct sim_port **ports;
	unsigned nports;
	struct {
		uint8_t mac[6];
		unsigned port;
	} macs[SIM_SWITCH_MACS];
	unsigned nmacs;
};

struct sim_link_dir {
	struct sim_faults f;
	uint64_t busy_until;   /* the wire is sending until then (bandwidth) */
	uint64_t last_arrival; /* FIFO: the next in-order frame lands after it */
	struct sim_link_stats st;
};

struct sim_link {
	struct sim *sim;
	unsigned id;
	char *name;
	struct sim_port *end[2];
	struct sim_link_dir dir[2];
	bool up;
	uint64_t epoch; /* bumped when it goes down: frames on the wire are lost */
	uint64_t rng;
	FILE *pcap;
};

/* ---- The run ----------------------------------------------------------------------- */

struct sim_options {
	int nargs; /* the key=value words */
	char **args;
	bool live;  /* print consoles as they are written */
	bool trace; /* print every frame event */
	bool stats; /* print every link's counters after a run */
	const char *pcap_dir;
	int npcaps; /* --pcap:<link>=<file> */
	char **pcaps;
	uint64_t time_limit; /* 0: the scenario's */
};

struct sim {
	uint64_t seed;
	uint64_t now;
	uint64_t rng_sched, rng_scen;
	const struct sim_options *opt;
	const struct sim_scenario *scen;
	void *world;

	struct sim_event *ev; /* a binary min-heap */
	size_t nev, evcap;
	uint64_t seq;

	struct sim_node **nodes;
	unsigned nnodes;
	struct sim_switch **switches;
	unsigned nswitches;
	struct sim_link **links;
	unsigned nlinks;
	struct sim_port **ports;
	unsigned nports;

	struct sim_node *current; /* the node running, NULL in the scheduler */
	void *sched_sp;
	bool started, ending;
	uint64_t end_deadline;

	bool failed;
	char fail_msg[512];
	uint64_t fail_time;

	uint64_t digest; /* every frame delivered, in order */
	uint64_t frames;
	uint64_t events;

	struct sim_node log; /* a pseudo-node whose console is the run's log */
};

/* The run in progress (sched.c). */
extern struct sim *sim_active;

/* sched.c */
struct sim *sim_create(uint64_t seed, const struct sim_scenario *scen,
		       const struct sim_options *opt);
void sim_run(struct sim *s);
void sim_destroy(struct sim *s);
void sim_event_push(struct sim *s, struct sim_event *ev);
void sim_node_wake_now(struct sim_node *n); /* after a frame arrived for it */
void sim_console_append(struct sim *s, struct sim_node *n, const char *buf, size_t len);
void *sim_xmalloc(size_t size);
char *sim_xstrdup(const char *str);
_Noreturn void sim_usage_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* net.c */
void sim_net_arrive(struct sim *s, struct sim_event *ev);
void sim_net_node_down(struct sim_node *n); /* drop queued frames (restart) */
void sim_net_destroy(struct sim *s);
void sim_net_free_frame(struct sim_frame *f);
bool sim_net_open_pcaps(struct sim *s);
void sim_port_transmit(struct sim *s, struct sim_port *from, const uint8_t *data, size_t len);

/* block.c */
void sim_blk_power_cut(struct sim_node *n, struct sim_blk *b);

/* ctx_x86_64.S */
void sim_ctx_switch(void **save_sp, void *new_sp);
void sim_ctx_start(void);
_Noreturn void sim_node_entry(struct sim_node *n);

#endif
