/*
 * main.c - start a unikernel as a Linux process.
 *
 *   build/hosted/<app> [--mem=8M] [--net:<name>=<tap>[,offload|,csum]] [--block:<name>=<file>]
 *                      [--pcap:<name>=<file>] [--stack=socket] [--no-sandbox]
 *                      [key=value ...]
 *
 * Order matters: check the whole command line, open every device and pcap
 * file, map the heap, enter the sandbox, and only then run the app, which
 * can no longer open anything.  Exit status 2 means a bad command line, 1
 * a start-up failure; after that the status is the app's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hosted.h"

#define MEM_DEFAULT (8u << 20)
#define MEM_MIN	    4096u

struct options {
	size_t mem;
	bool sandbox;
	bool socket_stack;
	bool selftest; /* hidden: --sandbox-selftest, for tests/e2e/test_sandbox.sh */
};

static const char *prog_name = "atoll";

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see --help)\n");
	va_end(ap);
	exit(HOSTED_EXIT_USAGE);
}

static void print_help(const struct plat_app *app)
{
	printf("%s - %s\n\n", app->name, app->summary ? app->summary : "");
	printf("usage: %s [options] [key=value ...]\n", prog_name);
	if (app->ndevices) {
		printf("\ndevices:\n");
		for (unsigned i = 0; i < app->ndevices; i++) {
			const struct plat_device_decl *d = &app->devices[i];
			int net = d->kind == PLAT_DEV_NET;
			char opt[64];
			snprintf(opt, sizeof opt, "--%s:%s=<%s>", net ? "net" : "block", d->name,
				 net ? "tap" : "file");
			printf("  %-28s %s (%s)\n", opt, d->help ? d->help : "",
			       net ? "network" : "block");
		}
	}
	if (app->nargs) {
		printf("\nboot arguments:\n");
		for (unsigned i = 0; i < app->nargs; i++) {
			char key[64];
			snprintf(key, sizeof key, "%s=", app->args[i].key);
			printf("  %-28s %s\n", key, app->args[i].help ? app->args[i].help : "");
		}
	}
	printf("\nhosted options:\n"
	       "  --mem=<size>                 heap size, with a K, M or G suffix (default 8M)\n"
	       "  --net:<name>=<tap>           network device <name> is TAP interface <tap>\n"
	       "                               (an existing one, or a new one)\n"
	       "  --net:<name>=<tap>,offload   the same with TAP offloads: checksums and\n"
	       "                               TCP segmentation (TSO/GRO) left to the host\n"
	       "  --net:<name>=<tap>,csum      the same with checksums only left to the host\n"
	       "  --block:<name>=<file>        block device <name> is <file> (512-byte blocks)\n"
	       "  --pcap:<name>=<file>         record the frames of network device <name>\n"
	       "  --stack=socket               use the host's UDP sockets, not atoll's stack;\n"
	       "                               listen=<addr>:<port> then moves the bound port\n"
	       "  --no-sandbox                 keep root and skip the seccomp filter\n"
	       "                               (for gdb, valgrind, sanitizers)\n"
	       "  --help                       this text\n");
}

/* "<digits>[K|M|G]" in binary multiples; false on anything else. */
static bool parse_size(const char *s, size_t *out)
{
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	unsigned shift = 0;
	switch (*s) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return false;
	}
	if (shift && *++s != '\0')
		return false;
	if (v > (SIZE_MAX >> shift))
		return false;
	*out = (size_t)(v << shift);
	return true;
}

/* The device options, in the order their devices are opened: a pcap file
 * records a network device that must exist first. */
struct dev_opt {
	const char *prefix;
	enum plat_device_kind kind;
	bool (*open)(const char *name, const char *arg);
};

static const struct dev_opt dev_opts[] = {
    {"--net:", PLAT_DEV_NET, hosted_net_open},
    {"--block:", PLAT_DEV_BLOCK, hosted_block_open},
    {"--pcap:", PLAT_DEV_NET, hosted_pcap_open},
};

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const struct dev_opt *dev_opt_of(const char *arg)
{
	for (size_t k = 0; k < sizeof dev_opts / sizeof dev_opts[0]; k++)
		if (starts(arg, dev_opts[k].prefix))
			return &dev_opts[k];
	return NULL;
}

/* arg is "<prefix><name>=<value>": the app's declaration of name, which
 * must be of the option's kind; *value points into arg. */
static const struct plat_device_decl *device_spec(const struct plat_app *app,
						  const struct dev_opt *o, const char *arg,
						  const char **value)
{
	const char *spec = arg + strlen(o->prefix);
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || eq[1] == '\0')
		usage_error("%s: expected %s<name>=<value>", arg, o->prefix);
	size_t len = (size_t)(eq - spec);
	*value = eq + 1;
	for (unsigned i = 0; i < app->ndevices; i++) {
		const struct plat_device_decl *d = &app->devices[i];
		if (strncmp(d->name, spec, len) != 0 || d->name[len] != '\0')
			continue;
		if (d->kind != o->kind)
			usage_error("%s: that device is not a %s device", arg,
				    o->kind == PLAT_DEV_NET ? "network" : "block");
		return d;
	}
	usage_error("%s: %s has no device called %.*s", arg, app->name, (int)len, spec);
}

/* True when argv also attaches network device d. */
static bool net_given(const struct plat_app *app, int argc, char **argv,
		      const struct plat_device_decl *d)
{
	const char *value;
	for (int i = 1; i < argc; i++)
		if (dev_opt_of(argv[i]) == &dev_opts[0] &&
		    device_spec(app, &dev_opts[0], argv[i], &value) == d)
			return true;
	return false;
}

/* Check every option; words not starting with "--" are left for later. */
static void parse_options(const struct plat_app *app, int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct dev_opt *dopt = dev_opt_of(a);
		const char *value;
		if (!starts(a, "--"))
			continue;
		if (dopt) {
			const struct plat_device_decl *d = device_spec(app, dopt, a, &value);
			for (int j = 1; j < i; j++)
				if (dev_opt_of(argv[j]) == dopt &&
				    device_spec(app, dopt, argv[j], &value) == d)
					usage_error("%s%s given twice", dopt->prefix, d->name);
			if (dopt->open == hosted_pcap_open && !net_given(app, argc, argv, d))
				usage_error("%s: no --net:%s=<tap> to record", a, d->name);
		} else if (strcmp(a, "--help") == 0) {
			print_help(app);
			exit(0);
		} else if (starts(a, "--mem=")) {
			if (!parse_size(a + 6, &o->mem) || o->mem < MEM_MIN)
				usage_error("%s: expected a size of at least 4K, like 8M", a);
		} else if (strcmp(a, "--stack=socket") == 0) {
			o->socket_stack = true;
		} else if (strcmp(a, "--no-sandbox") == 0) {
			o->sandbox = false;
		} else if (strcmp(a, "--sandbox-selftest") == 0) {
			o->selftest = true;
		} else {
			usage_error("unknown option %s", a);
		}
	}
}

/* Open every device (the command line is known to be sound by now). */
static void open_devices(const struct plat_app *app, int argc, char **argv)
{
	for (size_t k = 0; k < sizeof dev_opts / sizeof dev_opts[0]; k++) {
		for (int i = 1; i < argc; i++) {
			if (dev_opt_of(argv[i]) != &dev_opts[k])
				continue;
			const char *value;
			const struct plat_device_decl *d =
			    device_spec(app, &dev_opts[k], argv[i], &value);
			/* The manifest's name outlives the command line's copy. */
			if (!dev_opts[k].open(d->name, value))
				exit(HOSTED_EXIT_SETUP);
		}
	}
}

/* Descriptors 0-2 must exist before we open anything: otherwise a TAP
 * could become fd 1 and receive the console's output as frames. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			exit(HOSTED_EXIT_SETUP);
}

/* Hidden --sandbox-selftest: a call the filter forbids, which must kill
 * the process with SIGSYS (bash reports status 159).  Without the sandbox
 * it succeeds and the app runs as usual. */
static void sandbox_selftest(void)
{
	static const char before[] = "sandbox selftest: calling openat\n";
	static const char after[] = "sandbox selftest: openat was allowed\n";
	plat_console_write(before, sizeof before - 1);
	long fd = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close((int)fd);
		plat_console_write(after, sizeof after - 1);
	}
}

int main(int argc, char **argv)
{
	const struct plat_app *app = plat_app_linked;
	struct options o = {MEM_DEFAULT, true, false, false};
	if (argc < 1)
		return HOSTED_EXIT_USAGE; /* execve with no argv[0]: nothing to go by */
	prog_name = argv[0];

	ensure_stdio();
	parse_options(app, argc, argv, &o);

	/* Under the sandbox, every descriptor besides stdio is one we open
	 * below: inherited ones (a leaked socket, say) would escape the fd
	 * pinning of the filter.  gdb and valgrind keep theirs. */
	if (o.sandbox)
		close_range(3, ~0u, 0);

	hosted_runtime_init();
	open_devices(app, argc, argv);

	void *heap = mmap(NULL, o.mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED) {
		fprintf(stderr, "%s: cannot map a heap of %zu bytes: %s\n", prog_name, o.mem,
			strerror(errno));
		return HOSTED_EXIT_SETUP;
	}

	/* Boot arguments: the words that are not options, in order, moved up
	 * to argv[1] (C lets us modify argv; argv[0] stays, as the backtrace
	 * in plat_abort names the binary by it).  --stack=socket itself freed
	 * the slot its boot word takes. */
	char **boot = argv + 1;
	int nboot = 0;
	for (int i = 1; i < argc; i++)
		if (!starts(argv[i], "--"))
			boot[nboot++] = argv[i];
	static char stack_socket_word[] = "stack=socket";
	if (o.socket_stack)
		boot[nboot++] = stack_socket_word;
	boot[nboot] = NULL;

	/* backtrace(3) loads libgcc_s on its first call, which the sandbox
	 * would forbid: make that first call now, for plat_abort. */
	void *frame;
	backtrace(&frame, 1);
	fflush(stdout);
	fflush(stderr);

	if (o.sandbox) {
		struct hosted_sandbox_policy pol = {.sockets = o.socket_stack};
		if (!hosted_sandbox_enter(&pol))
			return HOSTED_EXIT_SETUP;
	}
	if (o.selftest)
		sandbox_selftest();

	struct plat_start start = {app, nboot, boot, heap, o.mem};
	plat_exit(app->main(&start));
}
