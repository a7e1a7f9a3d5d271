/*
 * loop.c - event loop, timers, fibers and counters of one node: see loop.h.
 */
#include "core/loop.h"

#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"

#define FIBER_STACK_DEFAULT (16 * 1024)
#define STACK_CANARY	    0x57ac4ca9a11ea7e5ull

struct fiber {
	void *sp;
	struct loop *loop;
	const char *name;
	void (*fn)(void *arg);
	void *arg;
	uint8_t *stack; /* lowest address; holds the canary */
	size_t stack_size;
	struct fiber *next; /* run queue, wait queue or dead list */
	struct waitq *waiting_on;
	struct timer timeout;
	int wake_result;
	bool done;
};

void fiber_switch(void **save_sp, void *new_sp);
void fiber_start(void);
_Noreturn void fiber_main(struct fiber *f);

static const char *const stat_names[] = {"turns", "waits", "timers_fired", "switches"};

void loop_init(struct loop *l, struct heap *heap, const struct plat_start *start)
{
	memset(l, 0, sizeof *l);
	l->heap = heap;
	l->start = start;
	l->log_level = LOG_INFO;
	const char *lvl = args_get(start, "log");
	if (lvl && log_level_parse(lvl) >= 0)
		l->log_level = (enum log_level)log_level_parse(lvl);
	l->now = plat_clock_monotonic();
	l->stat_group.name = "loop";
	l->stat_group.names = stat_names;
	l->stat_group.values = l->stat;
	l->stat_group.n = ARRAY_SIZE(stat_names);
	counters_register(l, &l->stat_group);
}

uint64_t loop_now(struct loop *l)
{
	l->now = plat_clock_monotonic();
	return l->now;
}

void loop_watch(struct loop *l, plat_handle_t h, void (*fn)(struct loop *, void *), void *arg)
{
	ASSERT(h < PLAT_HANDLE_MAX);
	l->watch[h].fn = fn;
	l->watch[h].arg = arg;
	if (fn)
		l->interest |= 1ull << h;
	else
		l->interest &= ~(1ull << h);
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* ---- Timers: a list sorted by deadline; short in every app so far. ---- */

void timer_init(struct timer *t, void (*fn)(struct loop *, struct timer *))
{
	memset(t, 0, sizeof *t);
	t->fn = fn;
}

void timer_cancel(struct loop *l, struct timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

void timer_arm(struct loop *l, struct timer *t, uint64_t deadline)
{
	timer_cancel(l, t);
	t->deadline = deadline;
	struct timer *prev = NULL, *cur = l->timers;
	/* Equal deadlines fire in the order they were armed. */
	while (cur && cur->deadline <= deadline) {
		prev = cur;
		cur = cur->next;
	}
	t->prev = prev;
	t->next = cur;
	if (prev)
		prev->next = t;
	else
		l->timers = t;
	if (cur)
		cur->prev = t;
	t->armed = true;
}

static void timers_fire(struct loop *l)
{
	while (l->timers && l->timers->deadline <= l->now) {
		struct timer *t = l->timers;
		timer_cancel(l, t);
		l->stat[2]++;
		t->fn(l, t);
	}
}

/* ---- Fibers ---------------------------------------------------------------- */

static void runq_push(struct loop *l, struct fiber *f)
{
	f->next = NULL;
	if (l->runq_tail)
		l->runq_tail->next = f;
	else
		l->runq_head = f;
	l->runq_tail = f;
}

static struct fiber *runq_pop(struct loop *l)
{
	struct fiber *f = l->runq_head;
	if (f) {
		l->runq_head = f->next;
		if (!l->runq_head)
			l->runq_tail = NULL;
		f->next = NULL;
	}
	return f;
}

static void fiber_prepare(struct fiber *f)
{
	/* Stack top, from high to low: the return address fiber_switch pops
	 * (fiber_start, which then runs with the 16-byte aligned top as its
	 * stack pointer, as the ABI wants before a call), six callee-saved
	 * registers (r12 = the fiber), then MXCSR and the x87 control word. */
	uint64_t *top = (uint64_t *)(((uintptr_t)f->stack + f->stack_size) & ~(uintptr_t)15);
	uint64_t *sp = top;
	*--sp = (uint64_t)(uintptr_t)fiber_start;
	*--sp = 0;			  /* rbp */
	*--sp = 0;			  /* rbx */
	*--sp = (uint64_t)(uintptr_t)f;	  /* r12 */
	*--sp = 0;			  /* r13 */
	*--sp = 0;			  /* r14 */
	*--sp = 0;			  /* r15 */
	*--sp = 0x037full << 32 | 0x1f80; /* x87 control word, MXCSR defaults */
	f->sp = sp;
	*(uint64_t *)f->stack = STACK_CANARY;
}

struct fiber *fiber_spawn(struct loop *l, const char *name, void (*fn)(void *arg), void *arg,
			  size_t stack_size)
{
	if (stack_size == 0)
		stack_size = FIBER_STACK_DEFAULT;
	stack_size = (stack_size + 15) & ~(size_t)15;
	struct fiber *f = NULL, **link = &l->dead;
	for (; *link; link = &(*link)->next) {
		if ((*link)->stack_size == stack_size) {
			f = *link;
			*link = f->next;
			break;
		}
	}
	if (!f) {
		f = heap_alloc(l->heap, sizeof *f, 16);
		uint8_t *stack = f ? heap_alloc(l->heap, stack_size, 16) : NULL;
		if (!stack)
			return NULL;
		f->stack = stack;
		f->stack_size = stack_size;
	}
	f->loop = l;
	f->name = name;
	f->fn = fn;
	f->arg = arg;
	f->done = false;
	f->waiting_on = NULL;
	timer_init(&f->timeout, NULL);
	fiber_prepare(f);
	l->nfibers++;
	runq_push(l, f);
	return f;
}

/* Back to the loop; returns when this fiber is scheduled again. */
static void fiber_suspend(struct loop *l, struct fiber *f)
{
	l->stat[3]++;
	fiber_switch(&f->sp, l->loop_sp);
}

void fiber_main(struct fiber *f)
{
	f->fn(f->arg);
	f->done = true;
	fiber_suspend(f->loop, f);
	plat_abort("fiber_main: a finished fiber was resumed");
}

static void fiber_resume(struct loop *l, struct fiber *f)
{
	l->current = f;
	fiber_switch(&l->loop_sp, f->sp);
	l->current = NULL;
	if (*(uint64_t *)f->stack != STACK_CANARY) {
		char msg[128];
		fmt_snprintf(msg, sizeof msg,
			     "fiber_resume: fiber '%s' overflowed its %zu-byte stack", f->name,
			     f->stack_size);
		plat_abort(msg);
	}
	if (f->done) {
		l->nfibers--;
		f->next = l->dead;
		l->dead = f;
	}
}

void fiber_yield(struct loop *l)
{
	struct fiber *f = l->current;
	ASSERT(f);
	runq_push(l, f);
	fiber_suspend(l, f);
}

static void waitq_remove(struct waitq *q, struct fiber *f)
{
	struct fiber *prev = NULL;
	for (struct fiber *cur = q->head; cur; prev = cur, cur = cur->next) {
		if (cur != f)
			continue;
		if (prev)
			prev->next = f->next;
		else
			q->head = f->next;
		if (q->tail == f)
			q->tail = prev;
		f->next = NULL;
		return;
	}
}

static void fiber_wake(struct loop *l, struct fiber *f, int result)
{
	f->waiting_on = NULL;
	f->wake_result = result;
	timer_cancel(l, &f->timeout);
	runq_push(l, f);
}

static void fiber_timeout(struct loop *l, struct timer *t)
{
	struct fiber *f = CONTAINER_OF(t, struct fiber, timeout);
	if (f->waiting_on)
		waitq_remove(f->waiting_on, f);
	fiber_wake(l, f, ATL_ETIMEDOUT);
}

int fiber_wait(struct loop *l, struct waitq *q, uint64_t deadline)
{
	struct fiber *f = l->current;
	ASSERT(f);
	if (l->stop || plat_stop_requested())
		return ATL_ESTOPPED;
	f->next = NULL;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	f->waiting_on = q;
	if (deadline != DEADLINE_NEVER) {
		f->timeout.fn = fiber_timeout;
		timer_arm(l, &f->timeout, deadline);
	}
	fiber_suspend(l, f);
	return f->wake_result;
}

int fiber_sleep(struct loop *l, uint64_t deadline)
{
	struct waitq never = {NULL, NULL};
	int rc = fiber_wait(l, &never, deadline);
	return rc == ATL_ETIMEDOUT ? ATL_OK : rc;
}

void waitq_wake_one(struct loop *l, struct waitq *q)
{
	struct fiber *f = q->head;
	if (!f)
		return;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	fiber_wake(l, f, ATL_OK);
}

void waitq_wake_all(struct loop *l, struct waitq *q)
{
	while (q->head)
		waitq_wake_one(l, q);
}

/* ---- The loop ------------------------------------------------------------- */

int loop_run(struct loop *l)
{
	ASSERT(l->current == NULL);
	l->stop = false;
	for (;;) {
		l->stat[0]++;
		/* Run the fibers runnable now; those they wake run next turn, so
		 * a fiber that keeps yielding cannot starve devices and timers. */
		struct fiber *last = l->runq_tail;
		for (struct fiber *f; (f = runq_pop(l)) != NULL;) {
			fiber_resume(l, f);
			if (f == last)
				break;
		}
		if (plat_stop_requested())
			return ATL_ESTOPPED;
		if (l->stop)
			return ATL_OK;
		loop_now(l);
		timers_fire(l);
		if (!l->runq_head && l->nfibers == 0 && !l->timers && !l->interest)
			return ATL_OK;
		uint64_t deadline = l->runq_head ? 0
				    : l->timers	 ? l->timers->deadline
						 : DEADLINE_NEVER;
		uint64_t ready = l->interest;
		l->stat[1]++;
		plat_wait(deadline, &ready);
		loop_now(l);
		while (ready) {
			unsigned h = (unsigned)__builtin_ctzll(ready);
			ready &= ready - 1;
			if (l->watch[h].fn)
				l->watch[h].fn(l, l->watch[h].arg);
		}
	}
}

/* ---- Counters --------------------------------------------------------------- */

void counters_register(struct loop *l, struct counter_group *g)
{
	struct counter_group **link = &l->counters;
	while (*link)
		link = &(*link)->next;
	g->next = NULL;
	*link = g;
}

static void counters_sync(const struct loop *l)
{
	for (const struct counter_group *g = l->counters; g; g = g->next)
		if (g->sync)
			g->sync(g->sync_arg);
}

void counters_print(const struct loop *l)
{
	counters_sync(l);
	for (const struct counter_group *g = l->counters; g; g = g->next)
		for (unsigned i = 0; i < g->n; i++)
			if (g->values[i])
				con_printf("counter %s.%s %llu\n", g->name, g->names[i],
					   (unsigned long long)g->values[i]);
	con_printf("counter heap.used %zu\n", l->heap ? l->heap->used : (size_t)0);
}

uint64_t counters_get(const struct loop *l, const char *group, const char *name)
{
	counters_sync(l);
	for (const struct counter_group *g = l->counters; g; g = g->next)
		if (strcmp(g->name, group) == 0)
			for (unsigned i = 0; i < g->n; i++)
				if (strcmp(g->names[i], name) == 0)
					return g->values[i];
	return 0;
}
