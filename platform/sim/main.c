/*
 * main.c - the program every scenario becomes: build/sim/<scenario>.
 *
 *   build/sim/<scenario> [--seed=N] [options] [key=value ...]
 *   build/sim/<scenario> --seeds=A..B [options] [key=value ...]
 *
 * One seed: the nodes' consoles are printed as they run, then one result
 * line with the frame digest.  A range of seeds: every seed runs in this
 * one process (no exec per seed) and only failures are printed, each with
 * the command that replays it.  Exit status 0 when every run passed, 1
 * when one failed, 2 for a bad command line or scenario.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "simint.h"

/* For the crash handler: a signal cannot be handed a context. */
static char replay_cmd[2048];
static uint64_t crash_seed;

static void usage(const char *prog, FILE *out)
{
	const struct sim_scenario *sc = &sim_scenario;
	fprintf(out, "%s - %s\n\n", sc->name, sc->summary ? sc->summary : "");
	fprintf(out,
		"usage: %s [--seed=N | --seeds=A..B] [options] [key=value ...]\n\n"
		"  --seed=N              run once with seed N (default: a random one, printed)\n"
		"  --seeds=A..B          run every seed from A to B in this process; print the\n"
		"                        failures, each with the command that replays it\n"
		"  --pcap:<link>=<file>  record a link's frames (tcpdump -r, Wireshark)\n"
		"  --pcap-dir=<dir>      record every link, to <dir>/<link>.pcap\n"
		"  --trace               log every frame's fate on every link\n"
		"  --stats               print every link's counters after the run\n"
		"  --quiet, -q           do not print the nodes' consoles\n"
		"  --verbose, -v         with --seeds: a result line for every seed\n"
		"  --time-limit=<sec>    fail a run still going at this virtual time\n"
		"  --help                this text\n",
		prog);
	if (sc->args_help && sc->args_help[0]) {
		fprintf(out, "\nscenario arguments:\n");
		for (const char *const *a = sc->args_help; *a; a++)
			fprintf(out, "  %s\n", *a);
	}
}

static _Noreturn void usage_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* True if the scenario's --help text names key as "key=" (at the start
 * of a line or after a space): a mistyped argument must not be ignored,
 * or a sweep would quietly test something else. */
static bool scenario_knows(const char *arg)
{
	size_t klen = strcspn(arg, "=");
	if (!sim_scenario.args_help)
		return false;
	for (const char *const *h = sim_scenario.args_help; *h; h++)
		for (const char *p = *h; (p = strstr(p, "=")) != NULL; p++) {
			const char *k = p;
			while (k > *h && k[-1] != ' ')
				k--;
			if ((size_t)(p - k) == klen && strncmp(k, arg, klen) == 0)
				return true;
		}
	return false;
}

/* ---- Crashes: name the seed and the node even when a node faults -------- */

static void write_str(const char *str)
{
	(void)!write(2, str, strlen(str));
}

static void on_crash(int sig)
{
	/* Only write(2) and plain memory reads here: the heap may be broken. */
	char num[32];
	int i = (int)sizeof num - 1;
	num[i] = '\0';
	uint64_t v = crash_seed;
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	write_str("\nsim: crashed (");
	write_str(strsignal(sig));
	write_str(")");
	if (sim_active && sim_active->current) {
		write_str(" in node ");
		write_str(sim_active->current->name);
	}
	write_str(" with seed ");
	write_str(num + i);
	write_str("\nreplay: ");
	write_str(replay_cmd);
	write_str(" --seed=");
	write_str(num + i);
	write_str("\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_handlers(void)
{
	/* Its own stack, for the overflow of a node's stack into its guard. */
	static char alt[64 * 1024];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK;
	int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- Runs ------------------------------------------------------------------ */

struct result {
	bool ok;
	uint64_t digest;
};

static void print_time(FILE *out, uint64_t t)
{
	fprintf(out, "%llu.%09llu", (unsigned long long)(t / SIM_SEC),
		(unsigned long long)(t % SIM_SEC));
}

static void print_stats(const struct sim *s)
{
	static const char *const dirs[] = {"A->B", "B->A"};
	for (unsigned i = 0; i < s->nlinks; i++) {
		for (unsigned d = 0; d < 2; d++) {
			struct sim_link_stats st =
			    sim_link_stats(s->links[i], d ? SIM_B_TO_A : SIM_A_TO_B);
			printf("link %s %s: sent %llu delivered %llu lost %llu duplicated %llu "
			       "reordered %llu corrupted %llu mtu_drops %llu queue_drops %llu "
			       "down_drops %llu in_flight %llu\n",
			       s->links[i]->name, dirs[d], (unsigned long long)st.sent,
			       (unsigned long long)st.delivered, (unsigned long long)st.lost,
			       (unsigned long long)st.duplicated, (unsigned long long)st.reordered,
			       (unsigned long long)st.corrupted, (unsigned long long)st.mtu_drops,
			       (unsigned long long)st.queue_drops,
			       (unsigned long long)st.down_drops, (unsigned long long)st.in_flight);
		}
	}
}

static struct result run_one(uint64_t seed, const struct sim_options *opt, bool sweep, bool verbose)
{
	crash_seed = seed;
	struct sim *s = sim_create(seed, &sim_scenario, opt);
	sim_log(s, "%s seed=%llu", sim_scenario.name, (unsigned long long)seed);
	sim_scenario.setup(s);
	sim_run(s);
	struct result r = {!s->failed, s->digest};
	if (opt->stats)
		print_stats(s);
	fflush(stdout);
	if (r.ok && (!sweep || verbose)) {
		printf("%s seed=%llu: ok, ", sim_scenario.name, (unsigned long long)seed);
		print_time(stdout, s->now);
		printf(" s virtual, %u nodes, %llu frames, %llu events, digest %016llx\n",
		       s->nnodes, (unsigned long long)s->frames, (unsigned long long)s->events,
		       (unsigned long long)s->digest);
	} else if (!r.ok) {
		if (sweep && s->log.console) {
			/* The run's own log is short and says what happened
			 * when; the consoles come with the replay. */
			const char *log = s->log.console;
			size_t pos = strlen(log);
			unsigned lines = 0;
			for (; pos > 0; pos--)
				if (log[pos - 1] == '\n' && ++lines > 25)
					break;
			printf("%s", log + pos);
		}
		printf("%s seed=%llu: FAILED at ", sim_scenario.name, (unsigned long long)seed);
		print_time(stdout, s->fail_time);
		printf(" s virtual: %s\nreplay: %s --seed=%llu\n", s->fail_msg, replay_cmd,
		       (unsigned long long)seed);
	}
	fflush(stdout);
	sim_destroy(s);
	return r;
}

static double host_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *prog = argc > 0 ? argv[0] : sim_scenario.name;
	struct sim_options opt = {.live = true};
	opt.args = calloc((size_t)argc + 1, sizeof *opt.args);
	opt.pcaps = calloc((size_t)argc + 1, sizeof *opt.pcaps);
	if (!opt.args || !opt.pcaps)
		return 2;
	uint64_t seed = 0, first = 0, last = 0;
	bool have_seed = false, sweep = false, verbose = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(prog, stdout);
			return 0;
		} else if (strncmp(a, "--seed=", 7) == 0) {
			if (!parse_u64(a + 7, &seed))
				usage_error(prog, "%s: expected a number", a);
			have_seed = true;
		} else if (strncmp(a, "--seeds=", 8) == 0) {
			const char *dots = strstr(a + 8, "..");
			char lo[32];
			if (!dots || (size_t)(dots - (a + 8)) >= sizeof lo)
				usage_error(prog, "%s: expected --seeds=A..B", a);
			snprintf(lo, sizeof lo, "%.*s", (int)(dots - (a + 8)), a + 8);
			if (!parse_u64(lo, &first) || !parse_u64(dots + 2, &last) || last < first)
				usage_error(prog, "%s: expected --seeds=A..B with A <= B", a);
			sweep = true;
		} else if (strncmp(a, "--pcap:", 7) == 0) {
			const char *eq = strchr(a + 7, '=');
			if (!eq || eq == a + 7 || eq[1] == '\0')
				usage_error(prog, "%s: expected --pcap:<link>=<file>", a);
			opt.pcaps[opt.npcaps++] = argv[i] + 7;
		} else if (strncmp(a, "--pcap-dir=", 11) == 0) {
			opt.pcap_dir = a + 11;
		} else if (strcmp(a, "--stats") == 0) {
			opt.stats = true;
		} else if (strcmp(a, "--trace") == 0) {
			opt.trace = true;
		} else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			verbose = true;
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			opt.live = false;
		} else if (strncmp(a, "--time-limit=", 13) == 0) {
			uint64_t sec;
			if (!parse_u64(a + 13, &sec) || sec == 0 || sec > UINT64_MAX / SIM_SEC)
				usage_error(prog, "%s: expected a number of seconds", a);
			opt.time_limit = sec * SIM_SEC;
		} else if (a[0] != '-' && strchr(a, '=')) {
			if (!scenario_knows(a))
				usage_error(prog, "%s: the scenario takes no such argument", a);
			opt.args[opt.nargs++] = argv[i];
		} else {
			usage_error(prog, "unknown argument %s", a);
		}
	}

	/* The replay command: this program, the scenario's words, and
	 * options that change what a run does (not how it is watched). */
	size_t len = (size_t)snprintf(replay_cmd, sizeof replay_cmd, "%s", prog);
	for (int i = 0; i < opt.nargs && len < sizeof replay_cmd; i++)
		len +=
		    (size_t)snprintf(replay_cmd + len, sizeof replay_cmd - len, " %s", opt.args[i]);
	if (opt.time_limit && len < sizeof replay_cmd)
		snprintf(replay_cmd + len, sizeof replay_cmd - len, " --time-limit=%llu",
			 (unsigned long long)(opt.time_limit / SIM_SEC));
	crash_handlers();

	if (!sweep) {
		if (!have_seed && getrandom(&seed, sizeof seed, 0) != sizeof seed)
			seed = (uint64_t)time(NULL);
		if (!have_seed)
			seed %= 1000000000; /* short enough to type back */
		return run_one(seed, &opt, false, false).ok ? 0 : 1;
	}

	if (have_seed)
		usage_error(prog, "%s", "--seed and --seeds together");
	opt.live = false;
	double t0 = host_seconds();
	uint64_t passed = 0, failed = 0, combined = 0;
	for (uint64_t sd = first;; sd++) {
		struct result r = run_one(sd, &opt, true, verbose);
		if (r.ok)
			passed++;
		else
			failed++;
		/* One digest for the whole sweep, so that two sweeps can be
		 * compared as cheaply as two runs. */
		combined = sim_mix64(combined ^ r.digest) + sd;
		if (sd == last)
			break;
	}
	double dt = host_seconds() - t0;
	printf("%s seeds=%llu..%llu: %llu passed, %llu failed in %.2f s (%.0f seeds/s), "
	       "sweep digest %016llx\n",
	       sim_scenario.name, (unsigned long long)first, (unsigned long long)last,
	       (unsigned long long)passed, (unsigned long long)failed, dt,
	       dt > 0 ? (double)(passed + failed) / dt : 0.0, (unsigned long long)combined);
	return failed ? 1 : 0;
}
