/*
 * test_sandbox_probe.c - an app that drives each hosted platform call from
 * inside the sandbox, for tests/e2e/test_sandbox.sh (which builds it: it
 * is not one of the Makefile's apps).  mode= picks what it does:
 *
 *   basic   time, entropy and console; prints "basic ok"
 *   block   writes, reads back and flushes device "disk", checks that bad
 *           offsets and lengths are refused; prints "block ok"
 *   net     answers every ARP request on device "service" for any address
 *           with its own MAC, until SIGTERM
 *   wait    sleeps in the loop until SIGTERM, then exits 0
 *   abort   plat_abort from inside a fiber
 *   call    makes one system call named by call=, which the filter must
 *           refuse (SIGSYS) unless noted: stderr (write to fd 2), stdin
 *           (readv of fd 0), udp (an AF_INET datagram socket: allowed with
 *           --stack=socket), tcp (a stream socket: allowed with --stack=socket),
 *           raw (an AF_INET raw socket), inet6 (an AF_INET6
 *           datagram socket); prints "survived" if it returns
 *
 * "probe ready" is printed once the mode is running.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/args.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"

static int fails;

#define PROBE_CHECK(e)                                                                             \
	do {                                                                                       \
		if (!(e)) {                                                                        \
			con_printf("probe check failed at line %d: %s\n", __LINE__, #e);           \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static int probe_basic(void)
{
	uint64_t t0 = plat_clock_monotonic();
	PROBE_CHECK(t0 < 5 * NS_PER_SEC); /* starts near 0 at boot */
	PROBE_CHECK(plat_clock_wall() > 1600000000ull * NS_PER_SEC);
	/* More than getrandom's 256-byte single-call guarantee. */
	static uint8_t a[1000], b[1000];
	plat_entropy(a, sizeof a);
	plat_entropy(b, sizeof b);
	PROBE_CHECK(memcmp(a, b, sizeof a) != 0);
	uint64_t deadline = plat_clock_monotonic() + 20 * NS_PER_MS;
	uint64_t none = 0;
	plat_wait(deadline, &none);
	PROBE_CHECK(plat_clock_monotonic() >= deadline);
	PROBE_CHECK(none == 0);
	if (!fails)
		con_printf("basic ok\n");
	return fails ? 1 : 0;
}

static int probe_block(void)
{
	plat_handle_t h;
	struct plat_block_info bi;
	PROBE_CHECK(plat_block_acquire("nosuch", &h, &bi) == PLAT_ENOENT);
	PROBE_CHECK(plat_net_acquire("disk", &h, &(struct plat_net_info){{0}, 0, 0, 0, 0}) ==
		    PLAT_ENOENT);
	if (plat_block_acquire("disk", &h, &bi) != PLAT_OK) {
		con_printf("no block device disk\n");
		return 1;
	}
	con_printf("block capacity %llu block_size %u\n", (unsigned long long)bi.capacity,
		   bi.block_size);
	static uint8_t buf[4096], back[4096];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	uint64_t last = bi.capacity - sizeof buf;
	PROBE_CHECK(plat_block_write(h, 0, buf, sizeof buf) == PLAT_OK);
	PROBE_CHECK(plat_block_write(h, last, buf, sizeof buf) == PLAT_OK);
	PROBE_CHECK(plat_block_flush(h) == PLAT_OK);
	PROBE_CHECK(plat_block_read(h, last, back, sizeof back) == PLAT_OK);
	PROBE_CHECK(memcmp(buf, back, sizeof buf) == 0);
	PROBE_CHECK(plat_block_read(h, 1, back, 512) == PLAT_EINVAL);
	PROBE_CHECK(plat_block_read(h, 0, back, 100) == PLAT_EINVAL);
	PROBE_CHECK(plat_block_read(h, bi.capacity, back, 512) == PLAT_EINVAL);
	PROBE_CHECK(plat_block_write(h, bi.capacity - 512, buf, 1024) == PLAT_EINVAL);
	PROBE_CHECK(plat_block_read(h, UINT64_MAX - 511, back, 512) == PLAT_EINVAL);
	PROBE_CHECK(plat_block_read(h, bi.capacity, back, 0) == PLAT_OK);
	if (!fails)
		con_printf("block ok\n");
	return fails ? 1 : 0;
}

struct arp_responder {
	plat_handle_t h;
	struct plat_net_info info;
	unsigned answered;
};

/* RFC 826: answer "who has X" with our MAC, whatever X is. */
static void arp_answer(struct arp_responder *ar, const uint8_t *frame, size_t len)
{
	struct rd r = rd_make(frame, len);
	rd_skip(&r, 12);
	uint16_t type = rd_be16(&r);
	uint16_t htype = rd_be16(&r), ptype = rd_be16(&r);
	uint8_t hlen = rd_u8(&r), plen = rd_u8(&r);
	uint16_t op = rd_be16(&r);
	uint8_t sha[6], spa[4], tpa[4];
	rd_copy(&r, sha, 6);
	rd_copy(&r, spa, 4);
	rd_skip(&r, 6);
	rd_copy(&r, tpa, 4);
	if (!rd_ok(&r) || type != 0x0806 || htype != 1 || ptype != 0x0800 || hlen != 6 ||
	    plen != 4 || op != 1)
		return;
	uint8_t out[42];
	struct wr w = wr_make(out, sizeof out);
	wr_bytes(&w, sha, 6);
	wr_bytes(&w, ar->info.mac, 6);
	wr_be16(&w, 0x0806);
	wr_be16(&w, 1);
	wr_be16(&w, 0x0800);
	wr_u8(&w, 6);
	wr_u8(&w, 4);
	wr_be16(&w, 2);
	wr_bytes(&w, ar->info.mac, 6);
	wr_bytes(&w, tpa, 4);
	wr_bytes(&w, sha, 6);
	wr_bytes(&w, spa, 4);
	struct plat_frame f = {out, sizeof out, w.pos, false};
	if (wr_ok(&w) && plat_net_send(ar->h, &f, 1) == 1)
		ar->answered++;
}

static void net_ready(struct loop *l, void *arg)
{
	struct arp_responder *ar = arg;
	static uint8_t bufs[4][2048];
	struct plat_frame frames[4];
	for (unsigned i = 0; i < 4; i++)
		frames[i] = (struct plat_frame){bufs[i], sizeof bufs[i], 0, false};
	int n;
	while ((n = plat_net_recv(ar->h, frames, 4)) > 0)
		for (int i = 0; i < n; i++)
			arp_answer(ar, frames[i].data, frames[i].len);
}

static int probe_net(struct loop *l)
{
	static struct arp_responder ar;
	if (plat_net_acquire("service", &ar.h, &ar.info) != PLAT_OK) {
		con_printf("no network device service\n");
		return 1;
	}
	const uint8_t *m = ar.info.mac;
	con_printf("net mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", m[0], m[1], m[2], m[3], m[4],
		   m[5], ar.info.mtu);
	/* A frame shorter than an Ethernet header is refused, batch and all. */
	uint8_t runt[10] = {0};
	struct plat_frame bad[1] = {{runt, sizeof runt, sizeof runt, false}};
	PROBE_CHECK(plat_net_send(ar.h, bad, 1) == PLAT_EINVAL);
	PROBE_CHECK(plat_net_send(PLAT_HANDLE_MAX, bad, 1) == PLAT_EINVAL);
	loop_watch(l, ar.h, net_ready, &ar);
	con_printf("probe ready\n");
	int rc = loop_run(l);
	con_printf("net answered %u\n", ar.answered);
	return rc == ATL_ESTOPPED && !fails ? 0 : 1;
}

static void sleeper(void *arg)
{
	struct loop *l = arg;
	struct waitq never = {NULL, NULL};
	int rc = fiber_wait(l, &never, DEADLINE_NEVER);
	con_printf("sleeper woke: %s\n", atl_strerror(rc));
}

static int probe_wait(struct loop *l)
{
	fiber_spawn(l, "sleeper", sleeper, l, 0);
	con_printf("probe ready\n");
	int rc = loop_run(l);
	con_printf("loop ended: %s\n", atl_strerror(rc));
	return rc == ATL_ESTOPPED ? 0 : 1;
}

static void aborter(void *arg)
{
	(void)arg;
	plat_abort("probe abort from a fiber");
}

static int probe_abort(struct loop *l)
{
	fiber_spawn(l, "aborter", aborter, NULL, 0);
	loop_run(l);
	return 1; /* not reached */
}

/* Each of these is plain Linux, made behind the platform's back on
 * purpose: the filter pins arguments, not only call numbers. */
static int probe_call(const char *call)
{
	long r = -1;
	char c;
	struct iovec iov = {&c, 1};
	con_printf("probe calling %s\n", call);
	if (strcmp(call, "stderr") == 0)
		r = write(2, "x\n", 2);
	else if (strcmp(call, "stdin") == 0)
		r = readv(0, &iov, 1);
	else if (strcmp(call, "udp") == 0)
		r = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	else if (strcmp(call, "tcp") == 0)
		r = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(call, "inet6") == 0)
		r = socket(AF_INET6, SOCK_DGRAM, 0);
	else if (strcmp(call, "raw") == 0)
		r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	else
		return 2;
	con_printf("probe survived %s: %ld\n", call, r);
	return 0;
}

static int probe_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	const char *mode = args_get(s, "mode");
	if (!mode)
		mode = "basic";
	if (strcmp(mode, "basic") == 0)
		return probe_basic();
	if (strcmp(mode, "block") == 0)
		return probe_block();
	if (strcmp(mode, "net") == 0)
		return probe_net(&l);
	if (strcmp(mode, "wait") == 0)
		return probe_wait(&l);
	if (strcmp(mode, "abort") == 0)
		return probe_abort(&l);
	if (strcmp(mode, "call") == 0)
		return probe_call(args_get(s, "call") ? args_get(s, "call") : "");
	con_printf("unknown mode=%s\n", mode);
	return 2;
}

static const struct plat_device_decl probe_devices[] = {
    {"service", PLAT_DEV_NET, "answers ARP requests (mode=net)"},
    {"disk", PLAT_DEV_BLOCK, "written and read back (mode=block)"},
};

static const struct plat_arg_decl probe_args[] = {
    {"mode", "basic, block, net, wait or abort"},
};

static const struct plat_app probe_app = {
    .name = "sandbox-probe",
    .summary = "exercises the hosted platform inside its sandbox",
    .devices = probe_devices,
    .ndevices = 2,
    .args = probe_args,
    .nargs = 1,
    .main = probe_main,
};

const struct plat_app *const plat_app_linked = &probe_app;
