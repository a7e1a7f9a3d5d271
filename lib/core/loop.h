/*
 * loop.h - the event loop, timers and cooperative fibers of one node.
 *
 * struct loop is the root context of a unikernel: it owns the heap, the
 * log level, the counters, the timers and the fibers.  Everything mutable
 * hangs off it (there are no mutable globals), so several nodes can share
 * one process on the sim target.
 *
 * The loop's only blocking point is plat_wait().  Each turn it runs every
 * runnable fiber, fires due timers, waits until the next deadline or a
 * watched device becomes ready, and calls the device's handler.
 *
 * Fibers are cooperative: a fiber runs until it calls fiber_wait,
 * fiber_sleep or fiber_yield.  There is no preemption, so no locks.
 * Timer callbacks and device handlers run on the loop's own stack and must
 * not wait; they wake fibers instead.
 */
#ifndef ATOLL_CORE_LOOP_H
#define ATOLL_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/mem.h"
#include "platform.h"

#define NS_PER_MS      1000000ull
#define NS_PER_SEC     1000000000ull
#define DEADLINE_NEVER UINT64_MAX

struct loop;

/* A one-shot timer, embedded in its owner (use CONTAINER_OF in fn). */
struct timer {
	uint64_t deadline;
	void (*fn)(struct loop *l, struct timer *t);
	struct timer *prev, *next; /* the loop's list, sorted by deadline */
	bool armed;
};

struct fiber;

/* Fibers waiting for an event; embedded in whatever owns the event. */
struct waitq {
	struct fiber *head, *tail;
};

struct counter_group {
	const char *name;	  /* "udp", "ipv4" ... */
	const char *const *names; /* n counter names */
	const uint64_t *values;	  /* n values, owned by the module */
	unsigned n;
	struct counter_group *next;
	/* Optional: brings values up to date before they are read, for
	 * counters that mirror state (so hot paths need not copy it). */
	void (*sync)(void *arg);
	void *sync_arg;
};

struct loop {
	struct heap *heap;
	const struct plat_start *start;
	enum log_level log_level;
	uint64_t now; /* monotonic ns, refreshed by loop_now and each turn */

	struct timer *timers; /* sorted, earliest first */

	struct {
		void (*fn)(struct loop *l, void *arg);
		void *arg;
	} watch[PLAT_HANDLE_MAX];
	uint64_t interest;

	struct fiber *current; /* NULL while the loop itself runs */
	struct fiber *runq_head, *runq_tail;
	struct fiber *dead; /* finished fibers, stacks reusable */
	void *loop_sp;	    /* the loop's saved stack pointer */
	unsigned nfibers;

	bool stop;
	struct counter_group *counters;
	uint64_t stat[4]; /* turns, waits, timers fired, fiber switches */
	struct counter_group stat_group;
	/* The app's default for tcp-conns= (0: the stack's own), set before
	 * stack_open by an app that knows how many connections it takes. */
	unsigned tcp_conns_default;
};

/* Sets up a loop over heap; the boot argument log= sets its log level.
 * start may be NULL in unit tests. */
void loop_init(struct loop *l, struct heap *heap, const struct plat_start *start);

/* Current monotonic time (also cached in l->now). */
uint64_t loop_now(struct loop *l);

/* Call fn(l, arg) whenever device h may have input.  fn must drain it
 * (read until PLAT_EAGAIN), as readiness is level-triggered per wait. */
void loop_watch(struct loop *l, plat_handle_t h, void (*fn)(struct loop *, void *), void *arg);

/* Run until loop_stop() or a platform stop request, or until there are no
 * fibers, timers or watched devices left.  Returns ATL_OK, or ATL_ESTOPPED
 * when a stop request ended it. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

void timer_init(struct timer *t, void (*fn)(struct loop *, struct timer *));
void timer_arm(struct loop *l, struct timer *t, uint64_t deadline); /* re-arms if armed */
void timer_cancel(struct loop *l, struct timer *t);

/* Start fn(arg) in a new fiber with a stack of stack_size bytes (0 for
 * the default, 16 KiB).  It first runs at the next loop turn.  NULL when
 * the heap cannot hold its stack. */
struct fiber *fiber_spawn(struct loop *l, const char *name, void (*fn)(void *arg), void *arg,
			  size_t stack_size);

/* From a fiber only: */
void fiber_yield(struct loop *l);
/* ATL_OK at the deadline, or ATL_ESTOPPED if the loop is stopping. */
int fiber_sleep(struct loop *l, uint64_t deadline);
/* Wait on q until woken (ATL_OK), the deadline (ATL_ETIMEDOUT) or a stop
 * (ATL_ESTOPPED).  DEADLINE_NEVER waits without a timeout. */
int fiber_wait(struct loop *l, struct waitq *q, uint64_t deadline);

/* Make waiting fibers runnable; callable from anywhere. */
void waitq_wake_one(struct loop *l, struct waitq *q);
void waitq_wake_all(struct loop *l, struct waitq *q);
static inline bool waitq_empty(const struct waitq *q)
{
	return q->head == NULL;
}

/* Counters: modules register a group once; counters_print lists every
 * group with non-zero values, one "group.name value" per line. */
void counters_register(struct loop *l, struct counter_group *g);
void counters_print(const struct loop *l);
/* Value of "group.name", or 0 if unknown. */
uint64_t counters_get(const struct loop *l, const char *group, const char *name);

#endif
