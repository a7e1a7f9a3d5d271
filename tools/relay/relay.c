/*
 * relay.c - a seeded fault relay between two TAP devices (a Linux program,
 * not a unikernel), for the end-to-end TCP tests: this kernel has no netem,
 * so delay, reordering, duplication and corruption are injected here.
 *
 *   relay [options] TAP_A TAP_B
 *
 * Every frame read from TAP_A is written to TAP_B (direction "ab") and the
 * other way round ("ba"), after these faults, each decided by a PRNG of its
 * own per direction, seeded from --seed:
 *
 *   --loss=P              drop P percent of the frames
 *   --dup=P               send P percent of the frames twice
 *   --corrupt=P           flip one random bit of P percent of the IPv4
 *                         frames, inside the IPv4 datagram (header or
 *                         payload), where a checksum must catch it
 *   --reorder=P           hold P percent of the frames back and send them
 *                         right after the next frame (or after --hold=MS,
 *                         default 100, if no frame follows)
 *   --delay=MS[:JITTER]   delay every frame by MS +- JITTER milliseconds
 *                         (uniform); frames leave in the order of their
 *                         due times, so jitter reorders them
 *   --queue=N             frames held per direction (default 2048); a
 *                         frame arriving at a full queue is dropped and
 *                         counted (queue_full)
 *   --seed=N              the PRNG seed (default 1)
 *   --hold=MS             how long a held frame waits for a next one
 *
 * A fault option applies to both directions; --loss:ab=P (or :ba) to one.
 * P is a decimal percentage (0.5, 2, 100).  Each frame draws the same
 * number of random values whatever is enabled, so which frames are lost,
 * copied, corrupted (and where), held back or delayed by how much is
 * reproducible from the seed and the order frames arrive in, and enabling
 * one fault does not change the decisions of another.  (With delay the
 * order frames leave in also depends on when they arrived; a held frame
 * released by --hold, on time.)  Corruption touches IPv4 only:
 * ARP has no checksum, and a flipped ARP bit would poison caches instead of
 * testing anyone's checksums.  Every other frame (ARP, IPv6, ...) passes
 * with the other faults applied, otherwise unchanged.
 *
 * All memory is allocated at start.  SIGINT and SIGTERM end the relay: it
 * prints its counters ("counter relay.ab.in 1234", ...) and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX     2048  /* a slot; TAP MTU 1500 gives at most 1514 */
#define QUEUE_DEFAULT 2048  /* frames per direction */
#define QUEUE_MAX     65536 /* 128 MiB per direction at most */
#define HOLD_DEFAULT  100   /* ms a held frame waits for one after it */
#define READ_BURST    64    /* frames read per descriptor per round */
#define PPM	      1000000u

/* The faults of one direction, probabilities in parts per million. */
struct faults {
	uint32_t loss, dup, corrupt, reorder;
	uint64_t delay_ns, jitter_ns;
};

#define RELAY_COUNTERS(X)                                                                          \
	X(in)	      /* frames read */                                                            \
	X(out)	      /* frames written */                                                         \
	X(lost)	      /* dropped by --loss */                                                      \
	X(duplicated) /* extra copies queued by --dup */                                           \
	X(corrupted)  /* one bit flipped by --corrupt */                                           \
	X(held)	      /* held back by --reorder */                                                 \
	X(reordered)  /* written after a frame that arrived later */                               \
	X(queue_full) /* dropped: no free slot */                                                  \
	X(oversize)   /* dropped: longer than FRAME_MAX */                                         \
	X(write_err)  /* the other TAP refused the frame */

#define COUNTER_ENUM(name) C_##name,
enum { RELAY_COUNTERS(COUNTER_ENUM) C_N };
#define COUNTER_NAME(name) #name,
static const char *const counter_names[C_N] = {RELAY_COUNTERS(COUNTER_NAME)};

struct slot {
	uint64_t due;	/* monotonic ns */
	uint64_t order; /* queue order: ties in due keep arrival order */
	uint64_t index; /* arrival index in the direction (copies share it) */
	uint16_t len;
	uint8_t data[FRAME_MAX];
};

struct direction {
	const char *name;
	int in_fd, out_fd;
	struct faults f;
	uint64_t rng;
	struct slot *slots;
	uint32_t *heap, nheap; /* slot numbers, a min-heap by (due, order) */
	uint32_t *free, nfree;
	int64_t held; /* slot number of the frame held back, or -1 */
	uint64_t held_until, held_delay, hold_ns;
	uint64_t next_order, next_index, sent_max; /* sent_max: highest index written + 1 */
	uint64_t c[C_N];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and good enough to
 * pick which frames to disturb; one state per direction. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- the queue: a binary min-heap of slot numbers by (due, order) ---- */

static bool slot_before(const struct direction *d, uint32_t a, uint32_t b)
{
	const struct slot *x = &d->slots[a], *y = &d->slots[b];
	return x->due < y->due || (x->due == y->due && x->order < y->order);
}

static void heap_push(struct direction *d, uint32_t s)
{
	uint32_t i = d->nheap++;
	d->heap[i] = s;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!slot_before(d, d->heap[i], d->heap[p]))
			break;
		uint32_t t = d->heap[p];
		d->heap[p] = d->heap[i];
		d->heap[i] = t;
		i = p;
	}
}

static uint32_t heap_pop(struct direction *d)
{
	uint32_t top = d->heap[0];
	d->heap[0] = d->heap[--d->nheap];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->nheap && slot_before(d, d->heap[l], d->heap[m]))
			m = l;
		if (r < d->nheap && slot_before(d, d->heap[r], d->heap[m]))
			m = r;
		if (m == i)
			break;
		uint32_t t = d->heap[m];
		d->heap[m] = d->heap[i];
		d->heap[i] = t;
		i = m;
	}
	return top;
}

static void enqueue(struct direction *d, uint32_t s, uint64_t due)
{
	d->slots[s].due = due;
	d->slots[s].order = d->next_order++;
	heap_push(d, s);
}

/* ---- faults ---- */

/* Flip one bit inside the IPv4 datagram of an Ethernet frame (not in the
 * Ethernet header, not in padding after the datagram's total length). */
static bool corrupt_ipv4(struct slot *s, uint64_t r)
{
	if (s->len < 14 + 20 || s->data[12] != 0x08 || s->data[13] != 0x00)
		return false;
	uint32_t total = (uint32_t)s->data[16] << 8 | s->data[17];
	uint32_t avail = s->len - 14u;
	if (total > avail)
		total = avail;
	if (total < 20)
		return false;
	uint64_t bit = r % ((uint64_t)total * 8);
	s->data[14 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	return true;
}

/* A delay of delay_ns +- jitter_ns, uniform, from one random value. */
static uint64_t frame_delay(const struct faults *f, uint64_t r)
{
	if (f->jitter_ns == 0)
		return f->delay_ns;
	uint64_t span = 2 * f->jitter_ns + 1;
	int64_t d = (int64_t)f->delay_ns - (int64_t)f->jitter_ns + (int64_t)(r % span);
	return d < 0 ? 0 : (uint64_t)d;
}

static bool chance(uint64_t r, uint32_t ppm)
{
	return r % PPM < ppm;
}

static void release_held(struct direction *d, uint64_t now)
{
	if (d->held < 0)
		return;
	enqueue(d, (uint32_t)d->held, now + d->held_delay);
	d->held = -1;
}

/* One frame of len bytes in buf has arrived at time now. */
static void frame_in(struct direction *d, const uint8_t *buf, size_t len, uint64_t now)
{
	d->c[C_in]++;
	uint64_t index = d->next_index++;
	/* Always the same draws, in the same order (see the top). */
	uint64_t r_loss = rng_next(&d->rng), r_dup = rng_next(&d->rng);
	uint64_t r_corrupt = rng_next(&d->rng), r_bit = rng_next(&d->rng);
	uint64_t r_reorder = rng_next(&d->rng);
	uint64_t r_delay = rng_next(&d->rng), r_dup_delay = rng_next(&d->rng);

	if (len > FRAME_MAX) {
		d->c[C_oversize]++;
		return;
	}
	if (chance(r_loss, d->f.loss)) {
		d->c[C_lost]++;
		return;
	}
	if (d->nfree == 0) {
		d->c[C_queue_full]++;
		return;
	}
	uint32_t s = d->free[--d->nfree];
	struct slot *sl = &d->slots[s];
	memcpy(sl->data, buf, len);
	sl->len = (uint16_t)len;
	sl->index = index;
	if (chance(r_corrupt, d->f.corrupt) && corrupt_ipv4(sl, r_bit))
		d->c[C_corrupted]++;

	if (chance(r_dup, d->f.dup)) {
		if (d->nfree == 0) {
			d->c[C_queue_full]++;
		} else {
			uint32_t c = d->free[--d->nfree];
			d->slots[c].len = sl->len;
			d->slots[c].index = index;
			memcpy(d->slots[c].data, sl->data, sl->len);
			enqueue(d, c, now + frame_delay(&d->f, r_dup_delay));
			d->c[C_duplicated]++;
		}
	}
	if (d->held < 0 && chance(r_reorder, d->f.reorder)) {
		d->held = s;
		d->held_until = now + d->hold_ns;
		d->held_delay = frame_delay(&d->f, r_delay);
		d->c[C_held]++;
		return;
	}
	enqueue(d, s, now + frame_delay(&d->f, r_delay));
	release_held(d, now);
}

/* Write every frame that is due; returns the next due time (or UINT64_MAX). */
static uint64_t send_due(struct direction *d, uint64_t now)
{
	if (d->held >= 0 && d->held_until <= now)
		release_held(d, now);
	while (d->nheap > 0 && d->slots[d->heap[0]].due <= now) {
		uint32_t s = heap_pop(d);
		struct slot *sl = &d->slots[s];
		ssize_t n = write(d->out_fd, sl->data, sl->len);
		if (n != (ssize_t)sl->len) {
			d->c[C_write_err]++;
		} else {
			d->c[C_out]++;
			if (sl->index + 1 < d->sent_max)
				d->c[C_reordered]++;
			else
				d->sent_max = sl->index + 1;
		}
		d->free[d->nfree++] = s;
	}
	uint64_t next = d->nheap > 0 ? d->slots[d->heap[0]].due : UINT64_MAX;
	if (d->held >= 0 && d->held_until < next)
		next = d->held_until;
	return next;
}

/* Read up to READ_BURST frames; false on a read error other than "no more". */
static bool read_frames(struct direction *d, uint8_t *buf)
{
	for (int i = 0; i < READ_BURST; i++) {
		ssize_t n = read(d->in_fd, buf, 65536);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			fprintf(stderr, "relay: read (%s): %s\n", d->name, strerror(errno));
			return false;
		}
		frame_in(d, buf, (size_t)n, now_ns());
	}
	return true;
}

/* ---- set-up ---- */

static int tap_open(const char *ifname)
{
	if (strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "relay: interface name too long: %s\n", ifname);
		return -1;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "relay: cannot open /dev/net/tun: %s\n", strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		fprintf(stderr, "relay: cannot attach to TAP interface %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool direction_init(struct direction *d, const char *name, uint32_t queue, uint64_t seed,
			   uint64_t salt)
{
	d->name = name;
	d->slots = calloc(queue, sizeof *d->slots);
	d->heap = calloc(queue, sizeof *d->heap);
	d->free = calloc(queue, sizeof *d->free);
	if (!d->slots || !d->heap || !d->free) {
		fprintf(stderr, "relay: out of memory for a queue of %u frames\n", queue);
		return false;
	}
	for (uint32_t i = 0; i < queue; i++)
		d->free[i] = queue - 1 - i;
	d->nfree = queue;
	d->held = -1;
	/* Two directions, two unrelated streams from one seed. */
	d->rng = seed ^ salt;
	rng_next(&d->rng);
	return true;
}

static bool parse_percent(const char *s, uint32_t *ppm)
{
	char *end;
	errno = 0;
	double p = strtod(s, &end);
	if (errno || end == s || *end || !(p >= 0 && p <= 100))
		return false;
	*ppm = (uint32_t)(p * (PPM / 100) + 0.5);
	return true;
}

static bool parse_ms(const char *s, char stop, const char **rest, uint64_t *ns)
{
	char *end;
	errno = 0;
	double ms = strtod(s, &end);
	if (errno || end == s || (*end && *end != stop) || !(ms >= 0 && ms <= 60000))
		return false;
	*ns = (uint64_t)(ms * 1e6 + 0.5);
	*rest = end;
	return true;
}

/* One fault option for the directions in mask (1: ab, 2: ba); NULL if
 * good, else what is wrong with it. */
static const char *parse_fault(struct direction *dirs, unsigned mask, const char *key,
			       const char *val)
{
	for (unsigned i = 0; i < 2; i++) {
		if (!(mask & (1u << i)))
			continue;
		struct faults *f = &dirs[i].f;
		uint32_t *ppm = !strcmp(key, "loss")	  ? &f->loss
				: !strcmp(key, "dup")	  ? &f->dup
				: !strcmp(key, "corrupt") ? &f->corrupt
				: !strcmp(key, "reorder") ? &f->reorder
							  : NULL;
		if (ppm) {
			if (!parse_percent(val, ppm))
				return "wants a percentage from 0 to 100";
		} else if (!strcmp(key, "delay")) {
			const char *rest;
			if (!parse_ms(val, ':', &rest, &f->delay_ns))
				return "wants MS or MS:JITTER_MS, milliseconds up to 60000";
			f->jitter_ns = 0;
			if (*rest && !parse_ms(rest + 1, 0, &rest, &f->jitter_ns))
				return "wants MS or MS:JITTER_MS, milliseconds up to 60000";
			if (f->jitter_ns > f->delay_ns)
				return "has a jitter above the delay";
		} else {
			return "is not an option";
		}
	}
	return NULL;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: relay [--seed=N] [--queue=N] [--hold=MS] [--loss=P] [--dup=P] [--corrupt=P]\n"
	    "             [--reorder=P] [--delay=MS[:JITTER_MS]] TAP_A TAP_B\n"
	    "  P is a percentage; --<fault>:ab=... or :ba=... for one direction only\n");
}

static void print_faults(const struct direction *d)
{
	const struct faults *f = &d->f;
	printf(
	    "relay: %s loss %.4g%% dup %.4g%% corrupt %.4g%% reorder %.4g%% delay %.4g+-%.4g ms\n",
	    d->name, f->loss / 1e4, f->dup / 1e4, f->corrupt / 1e4, f->reorder / 1e4,
	    (double)f->delay_ns / 1e6, (double)f->jitter_ns / 1e6);
}

int main(int argc, char **argv)
{
	static struct direction dirs[2];
	uint64_t seed = 1;
	uint32_t queue = QUEUE_DEFAULT, hold_ms = HOLD_DEFAULT;
	const char *taps[2];
	int ntaps = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help")) {
			usage();
			return 0;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (ntaps == 2) {
				fprintf(stderr, "relay: a third TAP device? %s\n", a);
				usage();
				return 2;
			}
			taps[ntaps++] = a;
			continue;
		}
		char key[32];
		const char *eq = strchr(a, '=');
		size_t klen = eq ? (size_t)(eq - a - 2) : 0;
		if (!eq || klen == 0 || klen >= sizeof key) {
			fprintf(stderr, "relay: %s is not an option (--name=value)\n", a);
			usage();
			return 2;
		}
		memcpy(key, a + 2, klen);
		key[klen] = 0;
		const char *val = eq + 1;
		char *end;
		if (!strcmp(key, "seed")) {
			errno = 0;
			seed = strtoull(val, &end, 0);
			if (errno || end == val || *end) {
				fprintf(stderr, "relay: bad seed %s\n", val);
				return 2;
			}
			continue;
		}
		if (!strcmp(key, "hold")) {
			errno = 0;
			unsigned long ms = strtoul(val, &end, 0);
			if (errno || end == val || *end || ms < 1 || ms > 60000) {
				fprintf(stderr, "relay: --hold must be 1..60000 ms\n");
				return 2;
			}
			hold_ms = (uint32_t)ms;
			continue;
		}
		if (!strcmp(key, "queue")) {
			errno = 0;
			unsigned long q = strtoul(val, &end, 0);
			if (errno || end == val || *end || q < 2 || q > QUEUE_MAX) {
				fprintf(stderr, "relay: --queue must be 2..%d\n", QUEUE_MAX);
				return 2;
			}
			queue = (uint32_t)q;
			continue;
		}
		unsigned mask = 3;
		char *colon = strchr(key, ':');
		if (colon) {
			mask = !strcmp(colon + 1, "ab") ? 1 : !strcmp(colon + 1, "ba") ? 2 : 0;
			*colon = 0;
		}
		const char *why = mask ? parse_fault(dirs, mask, key, val)
				       : "names no direction (ab: A to B, ba: B to A)";
		if (why) {
			fprintf(stderr, "relay: %s %s\n", a, why);
			usage();
			return 2;
		}
	}
	if (ntaps != 2) {
		fprintf(stderr, "relay: two TAP devices needed\n");
		usage();
		return 2;
	}

	int fds[2];
	for (int i = 0; i < 2; i++) {
		fds[i] = tap_open(taps[i]);
		if (fds[i] < 0)
			return 1;
	}
	if (!direction_init(&dirs[0], "ab", queue, seed, 0x61620000) ||
	    !direction_init(&dirs[1], "ba", queue, seed, 0x62610000))
		return 1;
	dirs[0].hold_ns = dirs[1].hold_ns = hold_ms * 1000000ull;
	dirs[0].in_fd = fds[0];
	dirs[0].out_fd = fds[1];
	dirs[1].in_fd = fds[1];
	dirs[1].out_fd = fds[0];
	static uint8_t buf[65536];

	/* SIGINT and SIGTERM are blocked except inside ppoll, so a stop
	 * request cannot slip in between checking the flag and sleeping. */
	sigset_t block, during;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &during);
	sigdelset(&during, SIGINT);
	sigdelset(&during, SIGTERM);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	printf("relay: %s (a) <-> %s (b), seed %llu, queue %u frames per direction\n", taps[0],
	       taps[1], (unsigned long long)seed, queue);
	print_faults(&dirs[0]);
	print_faults(&dirs[1]);
	printf("relay ready\n");
	fflush(stdout);

	int status = 0;
	while (!stop_requested) {
		uint64_t now = now_ns();
		uint64_t next = send_due(&dirs[0], now);
		uint64_t next_ba = send_due(&dirs[1], now);
		if (next_ba < next)
			next = next_ba;
		struct timespec ts, *tsp = NULL;
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &ts;
		}
		struct pollfd pfd[2] = {{.fd = fds[0], .events = POLLIN},
					{.fd = fds[1], .events = POLLIN}};
		int n = ppoll(pfd, 2, tsp, &during);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "relay: ppoll: %s\n", strerror(errno));
			status = 1;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL)) {
				fprintf(stderr, "relay: %s: device error\n", taps[i]);
				stop_requested = 1;
				status = 1;
			} else if ((pfd[i].revents & POLLIN) && !read_frames(&dirs[i], buf)) {
				stop_requested = 1;
				status = 1;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		for (int c = 0; c < C_N; c++)
			printf("counter relay.%s.%s %llu\n", dirs[i].name, counter_names[c],
			       (unsigned long long)dirs[i].c[c]);
	fflush(stdout);
	return status;
}
