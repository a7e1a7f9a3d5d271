/*
 * plat.c - the hosted handle table, clocks, the one blocking wait, the
 * console, entropy and exit.  See platform.h for the contract.
 */
#include <errno.h>
#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hosted.h"

static struct hosted_handle handles[PLAT_HANDLE_MAX];
static uint64_t boot_ns;   /* CLOCK_MONOTONIC at start */
static sigset_t wait_mask; /* the mask ppoll sleeps with */
static volatile sig_atomic_t stop_requested;

/* ---- Handles ------------------------------------------------------------- */

int hosted_handle_new(enum hosted_kind kind, int fd, const char *name, plat_handle_t *h)
{
	for (plat_handle_t i = 0; i < PLAT_HANDLE_MAX; i++) {
		if (handles[i].kind != HOSTED_FREE)
			continue;
		memset(&handles[i], 0, sizeof handles[i]);
		handles[i].kind = kind;
		handles[i].fd = fd;
		handles[i].name = name;
		if (kind == HOSTED_NET)
			handles[i].u.net.pcap_fd = -1;
		*h = i;
		return PLAT_OK;
	}
	return PLAT_EUNSPEC;
}

struct hosted_handle *hosted_handle_get(plat_handle_t h, enum hosted_kind kind)
{
	if (h >= PLAT_HANDLE_MAX || handles[h].kind != kind)
		return NULL;
	return &handles[h];
}

struct hosted_handle *hosted_handle_find(const char *name, enum hosted_kind kind, plat_handle_t *h)
{
	for (plat_handle_t i = 0; i < PLAT_HANDLE_MAX; i++) {
		if (handles[i].kind == kind && handles[i].name &&
		    strcmp(handles[i].name, name) == 0) {
			if (h)
				*h = i;
			return &handles[i];
		}
	}
	return NULL;
}

int hosted_handle_add_fd(int fd, plat_handle_t *h)
{
	return hosted_handle_new(HOSTED_SOCKET, fd, NULL, h);
}

void hosted_handle_close(plat_handle_t h)
{
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_SOCKET);
	if (!hh)
		return;
	/* close(2): even when it fails the fd is gone on Linux, so never retry. */
	close(hh->fd);
	memset(hh, 0, sizeof *hh);
	hh->kind = HOSTED_FREE;
}

/* ---- Start-up: clock origin and signals -------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		plat_abort("clock_gettime failed");
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void hosted_runtime_init(void)
{
	boot_ns = clock_ns(CLOCK_MONOTONIC);

	/* SIGTERM and SIGINT stay blocked except while ppoll sleeps, which
	 * installs wait_mask atomically for the sleep (ppoll(2)).  A stop
	 * request arriving while the app runs is therefore held pending and
	 * delivered at the next wait, never lost between a check of the flag
	 * and the sleep. */
	sigset_t stop_set, old;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_set, &old);
	wait_mask = old;
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigfillset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* A console piped into a reader that went away must not kill the
	 * unikernel: the write fails with EPIPE instead and is dropped. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- Time ------------------------------------------------------------------ */

uint64_t plat_clock_monotonic(void)
{
	return clock_ns(CLOCK_MONOTONIC) - boot_ns;
}

uint64_t plat_clock_wall(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* ---- The one blocking call ----------------------------------------------------- */

void plat_wait(uint64_t deadline, uint64_t *interest)
{
	struct pollfd pfd[PLAT_HANDLE_MAX];
	plat_handle_t which[PLAT_HANDLE_MAX];
	nfds_t n = 0;

	/* Block devices are never reported: their reads complete at once, so
	 * there is nothing to wait for (and a watcher on one would spin). */
	for (uint64_t bits = *interest; bits; bits &= bits - 1) {
		plat_handle_t h = (plat_handle_t)__builtin_ctzll(bits);
		if (handles[h].kind != HOSTED_NET && handles[h].kind != HOSTED_SOCKET)
			continue;
		pfd[n].fd = handles[h].fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		which[n++] = h;
	}
	*interest = 0;
	if (stop_requested)
		return;

	struct timespec ts, *timeout = NULL;
	if (deadline != UINT64_MAX) {
		uint64_t now = plat_clock_monotonic();
		uint64_t left = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
		timeout = &ts;
	}
	/* EINTR means a stop signal ran its handler: return with nothing ready. */
	if (ppoll(pfd, n, timeout, &wait_mask) <= 0)
		return;
	/* POLLERR/POLLHUP count as ready too, so the next read reports the error. */
	for (nfds_t i = 0; i < n; i++)
		if (pfd[i].revents)
			*interest |= 1ull << which[i];
}

bool plat_stop_requested(void)
{
	return stop_requested != 0;
}

/* ---- Console, entropy, exit ----------------------------------------------------- */

bool hosted_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

void plat_console_write(const char *buf, size_t len)
{
	(void)hosted_write_all(1, buf, len);
}

void plat_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		/* getrandom(2): blocks only until the pool is first initialised;
		 * requests above 256 bytes may come back short, hence the loop. */
		ssize_t r = getrandom(p, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			plat_abort("plat_entropy: getrandom failed");
		p += r;
		len -= (size_t)r;
	}
}

void plat_exit(int status)
{
	/* Every device and pcap write went straight to the kernel, so there is
	 * nothing to flush; _exit skips atexit handlers and stdio, which would
	 * make system calls the sandbox forbids. */
	_exit(status);
}

void plat_abort(const char *msg)
{
	static const char head[] = "plat_abort: ";
	hosted_write_all(1, head, sizeof head - 1);
	hosted_write_all(1, msg, strlen(msg));
	hosted_write_all(1, "\n", 1);
	/* backtrace(3) loaded libgcc_s before the sandbox (see main.c), and
	 * backtrace_symbols_fd writes with writev without allocating.  Static
	 * functions show as binary(+offset): addr2line -f -e binary offset. */
	void *frames[32];
	int n = backtrace(frames, (int)(sizeof frames / sizeof frames[0]));
	backtrace_symbols_fd(frames, n, 1);
	_exit(HOSTED_EXIT_ABORT);
}
