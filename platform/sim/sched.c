/*
 * sched.c - virtual time, the event queue, node contexts, and the plat_*
 * calls that act on the node being run (clock, wait, console, entropy,
 * exit).  See sim.h for the model and simint.h for the structures.
 *
 * The scheduler is a loop over one priority queue of events ordered by
 * (time, random key, insertion order).  The random key, drawn from the
 * seed, is what shuffles nodes that are ready at the same instant; the
 * insertion order only makes the order total.  A node runs on its own
 * stack until it calls plat_wait (or exits), which switches back here; the
 * clock then jumps to the next event.  Nothing reads the host's clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "simint.h"

struct sim *sim_active;

#define PAGE 4096u

/* ---- Small helpers ------------------------------------------------------- */

void *sim_xmalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p) {
		fprintf(stderr, "sim: out of host memory (%zu bytes)\n", size);
		abort();
	}
	return p;
}

char *sim_xstrdup(const char *str)
{
	size_t len = strlen(str) + 1;
	char *p = sim_xmalloc(len);
	memcpy(p, str, len);
	return p;
}

void sim_usage_fatal(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "sim: scenario error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

/* ---- Memory for heaps and stacks, kept from run to run -------------------
 *
 * A sweep runs thousands of seeds; mapping fresh memory for every node of
 * every seed spends most of the time in page faults.  Regions go back to a
 * cache instead, cleared for the next user: each node must start from the
 * same bytes whatever ran before it, or a seed would not replay alone as
 * it ran in a sweep (think of a read of an uninitialised variable). */

#define REGION_CACHE 64

static struct {
	uint8_t *base;
	size_t size;
} region_cache[REGION_CACHE];
static unsigned region_cached;

/* Zero a region: pages present are cleared; absent ones are dropped,
 * which for private anonymous memory means zero-filled on next touch. */
static void region_clear(uint8_t *base, size_t size)
{
	size_t pages = size / PAGE;
	unsigned char vec[4096];
	for (size_t first = 0; first < pages; first += sizeof vec) {
		size_t n = pages - first < sizeof vec ? pages - first : sizeof vec;
		uint8_t *p = base + first * PAGE;
		if (mincore(p, n * PAGE, vec) != 0) {
			memset(p, 0, n * PAGE);
			continue;
		}
		for (size_t i = 0; i < n;) {
			size_t j = i;
			bool present = vec[i] & 1;
			while (j < n && (bool)(vec[j] & 1) == present)
				j++;
			if (present)
				memset(p + i * PAGE, 0, (j - i) * PAGE);
			else
				madvise(p + i * PAGE, (j - i) * PAGE, MADV_DONTNEED);
			i = j;
		}
	}
}

/* size bytes (a multiple of PAGE), zeroed, page-aligned. */
static uint8_t *region_get(size_t size)
{
	for (unsigned i = 0; i < region_cached; i++) {
		if (region_cache[i].size == size) {
			uint8_t *base = region_cache[i].base;
			region_cache[i] = region_cache[--region_cached];
			return base;
		}
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void region_put(uint8_t *base, size_t size)
{
	if (!base)
		return;
	if (region_cached == REGION_CACHE) {
		munmap(base, size);
		return;
	}
	region_clear(base, size);
	region_cache[region_cached].base = base;
	region_cache[region_cached].size = size;
	region_cached++;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > SIM_NEVER - b ? SIM_NEVER : a + b;
}

/* ---- The event queue: a binary min-heap ---------------------------------------- */

static bool ev_before(const struct sim_event *a, const struct sim_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	if (a->key != b->key)
		return a->key < b->key;
	return a->seq < b->seq;
}

void sim_event_push(struct sim *s, struct sim_event *ev)
{
	if (s->nev == s->evcap) {
		s->evcap = s->evcap ? s->evcap * 2 : 256;
		s->ev = realloc(s->ev, s->evcap * sizeof *s->ev);
		if (!s->ev)
			sim_usage_fatal("out of host memory for events");
	}
	ev->key = sim_rng_next(&s->rng_sched);
	ev->seq = s->seq++;
	size_t i = s->nev++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!ev_before(ev, &s->ev[up]))
			break;
		s->ev[i] = s->ev[up];
		i = up;
	}
	s->ev[i] = *ev;
}

static void event_pop(struct sim *s, struct sim_event *out)
{
	*out = s->ev[0];
	struct sim_event last = s->ev[--s->nev];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nev)
			break;
		if (c + 1 < s->nev && ev_before(&s->ev[c + 1], &s->ev[c]))
			c++;
		if (!ev_before(&s->ev[c], &last))
			break;
		s->ev[i] = s->ev[c];
		i = c;
	}
	if (s->nev > 0)
		s->ev[i] = last;
}

/* ---- Consoles --------------------------------------------------------------------- */

static void live_write(struct sim_node *n, const char *buf, size_t len)
{
	/* Each line is prefixed with the node's name, so interleaved output
	 * of several nodes stays readable. */
	while (len > 0) {
		if (!n->con_midline)
			printf("%-8s| ", n->name);
		const char *nl = memchr(buf, '\n', len);
		size_t part = nl ? (size_t)(nl - buf) + 1 : len;
		fwrite(buf, 1, part, stdout);
		n->con_midline = !nl;
		buf += part;
		len -= part;
	}
}

void sim_console_append(struct sim *s, struct sim_node *n, const char *buf, size_t len)
{
	if (s->opt->live)
		live_write(n, buf, len);
	if (len > SIM_CONSOLE_MAX / 2) {
		buf += len - SIM_CONSOLE_MAX / 2;
		len = SIM_CONSOLE_MAX / 2;
	}
	if (n->con_len + len + 1 > SIM_CONSOLE_MAX) {
		/* Keep the newest quarter: the end of a run says most. */
		size_t drop = n->con_len - SIM_CONSOLE_MAX / 4;
		memmove(n->console, n->console + drop, n->con_len - drop);
		n->con_len -= drop;
	}
	if (n->con_len + len + 1 > n->con_cap) {
		size_t cap = n->con_cap ? n->con_cap : 4096;
		while (cap < n->con_len + len + 1)
			cap *= 2;
		n->console = realloc(n->console, cap);
		if (!n->console)
			sim_usage_fatal("out of host memory for a console");
		n->con_cap = cap;
	}
	memcpy(n->console + n->con_len, buf, len);
	n->con_len += len;
	n->console[n->con_len] = '\0';
}

static void log_vprintf(struct sim *s, const char *fmt, va_list ap)
{
	char line[768];
	int n =
	    snprintf(line, sizeof line, "[%5llu.%09llu] ", (unsigned long long)(s->now / SIM_SEC),
		     (unsigned long long)(s->now % SIM_SEC));
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	sim_console_append(s, &s->log, line, len);
}

void sim_log(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(s, fmt, ap);
	va_end(ap);
}

/* ---- The run's public state ------------------------------------------------------- */

void *sim_world(const struct sim *s)
{
	return s->world;
}

uint64_t sim_seed(const struct sim *s)
{
	return s->seed;
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

uint64_t sim_rand(struct sim *s)
{
	return sim_rng_next(&s->rng_scen);
}

uint64_t sim_rand_range(struct sim *s, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	uint64_t span = hi - lo + 1;
	return span == 0 ? sim_rand(s) : lo + sim_rand(s) % span;
}

const char *sim_arg(const struct sim *s, const char *key, const char *def)
{
	size_t klen = strlen(key);
	const char *found = def;
	for (int i = 0; i < s->opt->nargs; i++)
		if (strncmp(s->opt->args[i], key, klen) == 0 && s->opt->args[i][klen] == '=')
			found = s->opt->args[i] + klen + 1;
	return found;
}

uint64_t sim_arg_u64(const struct sim *s, const char *key, uint64_t def)
{
	const char *v = sim_arg(s, key, NULL);
	if (!v)
		return def;
	char *end;
	unsigned long long n = strtoull(v, &end, 0);
	if (*v == '\0' || *end != '\0' || *v == '-')
		sim_usage_fatal("%s=%s: expected a number", key, v);
	return n;
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (!s->failed) {
		va_start(ap, fmt);
		vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
		va_end(ap);
		s->failed = true;
		s->fail_time = s->now;
	}
	va_start(ap, fmt);
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sim_log(s, "FAIL: %s", msg);
}

bool sim_failed(const struct sim *s)
{
	return s->failed;
}

void sim_at(struct sim *s, uint64_t t, void (*fn)(struct sim *s, void *arg), void *arg)
{
	struct sim_event ev = {.time = t < s->now ? s->now : t, .kind = SIM_EV_CALL};
	ev.u.call.fn = fn;
	ev.u.call.arg = arg;
	sim_event_push(s, &ev);
}

/* ---- Nodes: creation and control ------------------------------------------------------ */

static void setup_only(const struct sim *s, const char *what)
{
	if (s->started)
		sim_usage_fatal("%s: only during setup", what);
}

struct sim_node *sim_node_new(struct sim *s, const char *name, const struct plat_app *app,
			      const char *args, size_t heap_size)
{
	setup_only(s, "sim_node_new");
	if (!app || !app->main)
		sim_usage_fatal("sim_node_new(%s): no application", name);
	for (unsigned i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i]->name, name) == 0)
			sim_usage_fatal("sim_node_new: two nodes called %s", name);
	struct sim_node *n = sim_xmalloc(sizeof *n);
	n->sim = s;
	n->id = s->nnodes;
	n->name = sim_xstrdup(name);
	n->app = app;
	n->heap_size = heap_size ? heap_size : SIM_HEAP_DEFAULT;
	n->heap_size = (n->heap_size + PAGE - 1) / PAGE * PAGE;

	/* Boot arguments: the words of args, split at spaces, in one buffer. */
	n->argbuf = sim_xstrdup(args ? args : "");
	size_t words = 0;
	for (char *p = n->argbuf; *p; p++)
		words += *p != ' ' && (p == n->argbuf || p[-1] == ' ');
	n->argv = sim_xmalloc((words + 1) * sizeof *n->argv);
	for (char *p = strtok(n->argbuf, " "); p; p = strtok(NULL, " "))
		n->argv[n->argc++] = p;

	/* The stack, with an inaccessible page below it: an overflow faults
	 * at once (and main.c names the node) instead of corrupting memory. */
	n->stack = region_get(PAGE + SIM_NODE_STACK);
	if (!n->stack || mprotect(n->stack, PAGE, PROT_NONE) != 0)
		sim_usage_fatal("sim_node_new(%s): cannot map a stack", name);

	struct sim_node **nodes = realloc(s->nodes, (s->nnodes + 1) * sizeof *nodes);
	if (!nodes)
		sim_usage_fatal("out of host memory");
	s->nodes = nodes;
	s->nodes[s->nnodes++] = n;
	return n;
}

void sim_node_daemon(struct sim_node *n)
{
	n->daemon = true;
}

void sim_node_boot_at(struct sim_node *n, uint64_t t)
{
	setup_only(n->sim, "sim_node_boot_at");
	n->boot_at = t;
}

void sim_node_expect_status(struct sim_node *n, int status)
{
	n->expect_status = status;
}

const char *sim_node_name(const struct sim_node *n)
{
	return n->name;
}

unsigned sim_node_boots(const struct sim_node *n)
{
	return n->boots;
}

const char *sim_node_console(const struct sim_node *n)
{
	return n->console ? n->console : "";
}

bool sim_node_exited(const struct sim_node *n, int *status)
{
	if (n->state != SIM_NODE_EXITED)
		return false;
	if (status)
		*status = n->status;
	return true;
}

/* The node's one pending wake-up becomes time t; older ones go stale. */
static void node_wake_at(struct sim_node *n, uint64_t t)
{
	struct sim *s = n->sim;
	if (t < s->now)
		t = s->now;
	n->gen++;
	n->wake_pending = true;
	n->wake_time = t;
	struct sim_event ev = {.time = t, .kind = SIM_EV_WAKE};
	ev.u.wake.node = n;
	ev.u.wake.gen = n->gen;
	sim_event_push(s, &ev);
}

/* The handles in mask with a frame waiting.  Block devices never count:
 * their calls complete at once, so there is nothing to wait for. */
static uint64_t node_ready(const struct sim_node *n, uint64_t mask)
{
	uint64_t ready = 0;
	for (; mask; mask &= mask - 1) {
		unsigned h = (unsigned)__builtin_ctzll(mask);
		if (h < n->ndevs && n->devs[h].kind == PLAT_DEV_NET && n->devs[h].u.net.rx_count)
			ready |= 1ull << h;
	}
	return ready;
}

/* Decide when a node inside plat_wait runs again. */
static void node_schedule_wait(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (n->stop || node_ready(n, n->wait_interest) || n->wait_deadline <= s->now)
		node_wake_at(n, s->now);
	else if (n->wait_deadline != SIM_NEVER)
		node_wake_at(n, n->wait_deadline);
	else {
		n->gen++; /* only a frame, a stop or a resume will wake it */
		n->wake_pending = false;
	}
}

void sim_node_wake_now(struct sim_node *n)
{
	if (n->state != SIM_NODE_WAITING || n->paused)
		return;
	if (n->wake_pending && n->wake_time <= n->sim->now)
		return;
	if (node_ready(n, n->wait_interest))
		node_wake_at(n, n->sim->now);
}

void sim_node_pause(struct sim_node *n)
{
	if (n->state == SIM_NODE_EXITED || n->paused)
		return;
	sim_log(n->sim, "%s paused", n->name);
	n->paused = true;
}

void sim_node_resume(struct sim_node *n)
{
	if (!n->paused)
		return;
	sim_log(n->sim, "%s resumed", n->name);
	n->paused = false;
	if (n->state == SIM_NODE_WAITING)
		node_schedule_wait(n);
	else if (n->state == SIM_NODE_NEW)
		node_wake_at(n, n->boot_time);
}

void sim_node_restart(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (!s->started)
		sim_usage_fatal("sim_node_restart: not during setup");
	sim_log(s, "%s restarts (boot %u)", n->name, n->boots + 1);
	sim_net_node_down(n);
	for (unsigned i = 0; i < n->ndevs; i++)
		if (n->devs[i].kind == PLAT_DEV_BLOCK)
			sim_blk_power_cut(n, &n->devs[i].u.blk);
	n->state = SIM_NODE_NEW;
	n->paused = n->stop = n->aborted = n->cancelled = false;
	n->boot_time = s->now;
	node_wake_at(n, s->now);
}

void sim_node_stop(struct sim_node *n)
{
	if (n->state == SIM_NODE_EXITED || n->stop)
		return;
	sim_log(n->sim, "%s asked to stop", n->name);
	n->stop = true;
	if (n->state == SIM_NODE_WAITING && !n->paused &&
	    !(n->wake_pending && n->wake_time <= n->sim->now))
		node_wake_at(n, n->sim->now);
}

/* ---- Running a node ----------------------------------------------------------------- */

static struct sim_node *node_current(const char *call)
{
	struct sim *s = sim_active;
	if (!s || !s->current) {
		fprintf(stderr, "sim: %s called outside a node (from scenario code?)\n", call);
		abort();
	}
	return s->current;
}

static _Noreturn void node_exit(struct sim_node *n, int status)
{
	n->status = status;
	n->state = SIM_NODE_EXITED;
	n->gen++;
	n->wake_pending = false;
	sim_ctx_switch(&n->sp, n->sim->sched_sp);
	abort(); /* an exited node is never switched to */
}

void sim_node_entry(struct sim_node *n)
{
	node_exit(n, n->app->main(&n->start));
}

/* A fresh boot: a zeroed heap, new entropy, main from the top of the stack. */
static void node_boot(struct sim_node *n)
{
	struct sim *s = n->sim;
	/* The heap starts zeroed on every boot, so that nothing a previous
	 * boot (or a previous run) left can leak into this one. */
	region_put(n->heap, n->heap_size);
	n->heap = region_get(n->heap_size);
	if (!n->heap)
		sim_usage_fatal("%s: cannot allocate a heap of %zu bytes", n->name, n->heap_size);
	n->start = (struct plat_start){n->app, n->argc, n->argv, n->heap, n->heap_size};
	n->entropy = sim_rng_derive(s->seed, SIM_RNG_ENTROPY, (uint64_t)n->id << 32 | n->boots);
	n->boots++;

	/* As the first switch will find it, top down: the return address
	 * (sim_ctx_start), the six callee-saved registers with r12 = the
	 * node, then MXCSR and the x87 control word at their defaults. */
	uint64_t *sp = (uint64_t *)(n->stack + PAGE + SIM_NODE_STACK);
	*--sp = (uint64_t)(uintptr_t)sim_ctx_start;
	*--sp = 0;			  /* rbp */
	*--sp = 0;			  /* rbx */
	*--sp = (uint64_t)(uintptr_t)n;	  /* r12 */
	*--sp = 0;			  /* r13 */
	*--sp = 0;			  /* r14 */
	*--sp = 0;			  /* r15 */
	*--sp = 0x037full << 32 | 0x1f80; /* x87 control word, MXCSR */
	n->sp = sp;
}

static void node_run(struct sim *s, struct sim_node *n)
{
	if (n->state == SIM_NODE_NEW) {
		node_boot(n);
		sim_log(s, "%s boots%s", n->name, n->boots > 1 ? " again" : "");
	}
	n->state = SIM_NODE_RUNNING;
	n->wake_pending = false;
	s->current = n;
	sim_ctx_switch(&s->sched_sp, n->sp);
	s->current = NULL;
	if (n->state != SIM_NODE_EXITED)
		return;
	sim_log(s, "%s exited with status %d%s", n->name, n->status,
		n->aborted ? " (aborted)" : "");
	if (n->aborted)
		sim_fail(s, "%s aborted (see its console)", n->name);
	else if (n->status != n->expect_status)
		sim_fail(s, "%s exited with status %d, expected %d", n->name, n->status,
			 n->expect_status);
}

/* ---- The run ---------------------------------------------------------------------------- */

struct sim *sim_create(uint64_t seed, const struct sim_scenario *scen,
		       const struct sim_options *opt)
{
	struct sim *s = sim_xmalloc(sizeof *s);
	s->seed = seed;
	s->scen = scen;
	s->opt = opt;
	s->world = sim_xmalloc(scen->world_size);
	s->rng_sched = sim_rng_derive(seed, SIM_RNG_SCHED, 0);
	s->rng_scen = sim_rng_derive(seed, SIM_RNG_SCENARIO, 0);
	s->log.sim = s;
	s->log.name = "sim";
	sim_active = s;
	return s;
}

static bool primaries_done(const struct sim *s, bool *any)
{
	*any = false;
	for (unsigned i = 0; i < s->nnodes; i++) {
		if (s->nodes[i]->daemon)
			continue;
		*any = true;
		if (s->nodes[i]->state != SIM_NODE_EXITED)
			return false;
	}
	return *any;
}

static bool all_exited(const struct sim *s)
{
	for (unsigned i = 0; i < s->nnodes; i++)
		if (s->nodes[i]->state != SIM_NODE_EXITED)
			return false;
	return true;
}

/* "a, b, c": the nodes still running, for a failure message. */
static const char *running_names(const struct sim *s, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < s->nnodes && len < cap; i++) {
		const struct sim_node *n = s->nodes[i];
		if (n->state == SIM_NODE_EXITED)
			continue;
		int w = snprintf(buf + len, cap - len, "%s%s%s", len ? ", " : "", n->name,
				 n->paused ? " (paused)" : "");
		if (w > 0)
			len += (size_t)w;
	}
	return buf;
}

static void begin_end(struct sim *s)
{
	s->ending = true;
	s->end_deadline = s->now + SIM_STOP_GRACE;
	sim_log(s, "stopping the daemons");
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct sim_node *n = s->nodes[i];
		if (n->state == SIM_NODE_NEW && n->boots == 0) {
			/* Never booted: there is nothing to stop. */
			n->state = SIM_NODE_EXITED;
			n->cancelled = true;
			continue;
		}
		if (n->paused)
			sim_node_resume(n);
		sim_node_stop(n);
	}
}

void sim_run(struct sim *s)
{
	const struct sim_scenario *scen = s->scen;
	uint64_t limit = s->opt->time_limit ? s->opt->time_limit
			 : scen->time_limit ? scen->time_limit
					    : SIM_TIME_LIMIT_DEFAULT;
	s->started = true;
	if (!sim_net_open_pcaps(s))
		sim_fail(s, "cannot open a pcap file");
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct sim_node *n = s->nodes[i];
		n->boot_time = n->boot_at;
		node_wake_at(n, n->boot_at);
	}
	char names[256];
	uint64_t still = 0; /* events in a row at this instant */
	while (!s->failed) {
		bool any;
		if (!s->ending && primaries_done(s, &any))
			begin_end(s);
		if (s->ending && all_exited(s))
			break;
		uint64_t next = s->nev ? s->ev[0].time : SIM_NEVER;
		if (s->ending && next > s->end_deadline) {
			s->now = s->end_deadline;
			sim_fail(s, "asked to stop, these did not exit within %llu ms: %s",
				 (unsigned long long)(SIM_STOP_GRACE / SIM_MS),
				 running_names(s, names, sizeof names));
			break;
		}
		if (!s->ending && next > limit) {
			primaries_done(s, &any);
			if (!any) {
				/* Only daemons: the time limit is the planned end. */
				s->now = limit;
				begin_end(s);
				continue;
			}
			if (next == SIM_NEVER)
				sim_fail(s,
					 "deadlock: nothing left to happen, yet still running: %s",
					 running_names(s, names, sizeof names));
			else {
				s->now = limit;
				sim_fail(s, "time limit of %llu s reached; still running: %s",
					 (unsigned long long)(limit / SIM_SEC),
					 running_names(s, names, sizeof names));
			}
			break;
		}
		struct sim_event ev;
		event_pop(s, &ev);
		still = ev.time == s->now ? still + 1 : 0;
		if (still == SIM_LIVELOCK_EVENTS) {
			sim_fail(s,
				 "livelock: %d events without the clock moving; still running: %s",
				 SIM_LIVELOCK_EVENTS, running_names(s, names, sizeof names));
			break;
		}
		s->now = ev.time;
		s->events++;
		switch (ev.kind) {
		case SIM_EV_WAKE: {
			struct sim_node *n = ev.u.wake.node;
			if (ev.u.wake.gen == n->gen && !n->paused && n->state != SIM_NODE_EXITED)
				node_run(s, n);
			break;
		}
		case SIM_EV_ARRIVE:
			sim_net_arrive(s, &ev);
			break;
		case SIM_EV_CALL:
			/* Once the run is winding down, planned faults no longer apply. */
			if (!s->ending)
				ev.u.call.fn(s, ev.u.call.arg);
			break;
		}
	}
	if (!s->failed && scen->check)
		scen->check(s);
}

void sim_destroy(struct sim *s)
{
	for (size_t i = 0; i < s->nev; i++)
		if (s->ev[i].kind == SIM_EV_ARRIVE)
			sim_net_free_frame(s->ev[i].u.arrive.frame);
	free(s->ev);
	sim_net_destroy(s);
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct sim_node *n = s->nodes[i];
		for (unsigned d = 0; d < n->ndevs; d++) {
			free(n->devs[d].name);
			if (n->devs[d].kind == PLAT_DEV_BLOCK) {
				free(n->devs[d].u.blk.data);
				free(n->devs[d].u.blk.durable);
				free(n->devs[d].u.blk.dirty);
			}
		}
		/* The guard page is not cleared: it was never writable. */
		mprotect(n->stack, PAGE, PROT_READ | PROT_WRITE);
		region_put(n->stack, PAGE + SIM_NODE_STACK);
		region_put(n->heap, n->heap_size);
		free(n->argv);
		free(n->argbuf);
		free(n->console);
		free(n->name);
		free(n);
	}
	free(s->nodes);
	free(s->log.console);
	free(s->world);
	if (sim_active == s)
		sim_active = NULL;
	free(s);
}

/* ---- The platform calls that act on the current node ------------------------------------ */

uint64_t plat_clock_monotonic(void)
{
	struct sim_node *n = node_current("plat_clock_monotonic");
	return n->sim->now - n->boot_time;
}

uint64_t plat_clock_wall(void)
{
	struct sim_node *n = node_current("plat_clock_wall");
	return SIM_WALL_EPOCH + n->sim->now;
}

void plat_wait(uint64_t deadline, uint64_t *interest)
{
	struct sim_node *n = node_current("plat_wait");
	struct sim *s = n->sim;
	n->wait_deadline = deadline == UINT64_MAX ? SIM_NEVER : sat_add(n->boot_time, deadline);
	n->wait_interest = *interest;
	n->state = SIM_NODE_WAITING;
	node_schedule_wait(n);
	sim_ctx_switch(&n->sp, s->sched_sp);
	*interest = node_ready(n, n->wait_interest);
}

bool plat_stop_requested(void)
{
	return node_current("plat_stop_requested")->stop;
}

void plat_console_write(const char *buf, size_t len)
{
	struct sim_node *n = node_current("plat_console_write");
	sim_console_append(n->sim, n, buf, len);
}

void plat_entropy(void *buf, size_t len)
{
	struct sim_node *n = node_current("plat_entropy");
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t r = sim_rng_next(&n->entropy);
		size_t k = len < 8 ? len : 8;
		memcpy(p, &r, k);
		p += k;
		len -= k;
	}
}

void plat_exit(int status)
{
	node_exit(node_current("plat_exit"), status);
}

void plat_abort(const char *msg)
{
	struct sim_node *n = node_current("plat_abort");
	static const char head[] = "plat_abort: ";
	sim_console_append(n->sim, n, head, sizeof head - 1);
	sim_console_append(n->sim, n, msg, strlen(msg));
	sim_console_append(n->sim, n, "\n", 1);
	n->aborted = true;
	node_exit(n, SIM_ABORT_STATUS);
}
