/*
 * fakeplat.c - the fake platform behind unit tests and fuzz targets.
 * Test-only code: its state is file-level because one test binary is one
 * node.  See fakeplat.h.
 */
#include "fakeplat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

struct fake_frame {
	size_t len;
	uint8_t *data; /* fsize bytes */
};

struct fake_queue {
	unsigned head, count;
	size_t fsize;	      /* bytes per frame slot */
	struct fake_frame *f; /* FAKE_QUEUE frames */
	uint8_t *bytes;	      /* FAKE_QUEUE * fsize */
};

static struct fake_net {
	const char *name;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t offloads; /* fake_net_add_offload: 10-byte virtio-net headers */
	struct fake_queue rx, tx;
	unsigned sent;
} nets[FAKE_NET_MAX];
static unsigned nnets;
int test_failed_checks;
static uint64_t now;
static int stop;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static char console[1 << 16];
static size_t console_len;

const struct plat_app *const plat_app_linked = NULL;

void fake_reset(void)
{
	for (unsigned i = 0; i < nnets; i++) {
		free(nets[i].rx.f);
		free(nets[i].tx.f);
		free(nets[i].rx.bytes);
		free(nets[i].tx.bytes);
	}
	memset(nets, 0, sizeof nets);
	nnets = 0;
	now = 0;
	stop = 0;
	rng = 0x9e3779b97f4a7c15ull;
	console_len = 0;
	console[0] = 0;
}

void fake_set_time(uint64_t ns)
{
	now = ns;
}
uint64_t fake_time(void)
{
	return now;
}
void fake_request_stop(void)
{
	stop = 1;
}
const char *fake_console(void)
{
	return console;
}

static struct fake_net *net_by_name(const char *name)
{
	for (unsigned i = 0; i < nnets; i++)
		if (strcmp(nets[i].name, name) == 0)
			return &nets[i];
	return NULL;
}

static void queue_init(struct fake_queue *q, size_t fsize)
{
	q->fsize = fsize;
	q->f = calloc(FAKE_QUEUE, sizeof(struct fake_frame));
	q->bytes = calloc(FAKE_QUEUE, fsize);
	if (!q->f || !q->bytes)
		abort();
	for (unsigned i = 0; i < FAKE_QUEUE; i++)
		q->f[i].data = q->bytes + i * fsize;
}

void fake_net_add(const char *name, const uint8_t mac[6], uint16_t mtu)
{
	fake_net_add_offload(name, mac, mtu, 0);
}

void fake_net_add_offload(const char *name, const uint8_t mac[6], uint16_t mtu, uint32_t offloads)
{
	if (nnets == FAKE_NET_MAX)
		abort();
	struct fake_net *n = &nets[nnets++];
	n->name = name;
	memcpy(n->mac, mac, 6);
	n->mtu = mtu;
	n->offloads = offloads;
	size_t fsize = offloads ? FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX : FAKE_FRAME_MAX;
	queue_init(&n->rx, fsize);
	queue_init(&n->tx, fsize);
}

static int queue_push(struct fake_queue *q, const void *data, size_t len)
{
	if (q->count == FAKE_QUEUE || len > q->fsize)
		return -1;
	struct fake_frame *f = &q->f[(q->head + q->count++) % FAKE_QUEUE];
	f->len = len;
	memcpy(f->data, data, len);
	return 0;
}

static struct fake_frame *queue_pop(struct fake_queue *q)
{
	if (q->count == 0)
		return NULL;
	struct fake_frame *f = &q->f[q->head];
	q->head = (q->head + 1) % FAKE_QUEUE;
	q->count--;
	return f;
}

void fake_net_inject(const char *name, const void *frame, size_t len)
{
	struct fake_net *n = net_by_name(name);
	if (!n || queue_push(&n->rx, frame, len) != 0)
		abort();
}

int fake_net_take(const char *name, void *buf, size_t cap)
{
	struct fake_net *n = net_by_name(name);
	struct fake_frame *f = n ? queue_pop(&n->tx) : NULL;
	if (!f)
		return -1;
	size_t len = f->len < cap ? f->len : cap;
	memcpy(buf, f->data, len);
	return (int)f->len;
}

unsigned fake_net_sent_count(const char *name)
{
	struct fake_net *n = net_by_name(name);
	return n ? n->sent : 0;
}

uint64_t plat_clock_monotonic(void)
{
	return now;
}
uint64_t plat_clock_wall(void)
{
	return 1700000000ull * 1000000000ull + now;
}

void plat_wait(uint64_t deadline, uint64_t *interest)
{
	uint64_t ready = 0;
	for (unsigned i = 0; i < nnets; i++)
		if (nets[i].rx.count)
			ready |= 1ull << i;
	ready &= *interest;
	if (!ready && !stop && deadline != UINT64_MAX && deadline > now)
		now = deadline;
	*interest = ready;
}

bool plat_stop_requested(void)
{
	return stop != 0;
}

void plat_console_write(const char *buf, size_t len)
{
	if (len > sizeof console - 1 - console_len)
		len = sizeof console - 1 - console_len;
	memcpy(console + console_len, buf, len);
	console_len += len;
	console[console_len] = 0;
}

int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info)
{
	struct fake_net *n = net_by_name(name);
	if (!n)
		return PLAT_ENOENT;
	*h = (plat_handle_t)(n - nets);
	memset(info, 0, sizeof *info);
	memcpy(info->mac, n->mac, 6);
	info->mtu = n->mtu;
	if (n->offloads) {
		info->offloads = n->offloads;
		info->vnet_hdr_len = FAKE_VNET_HDR;
		info->frame_max = FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX;
	}
	return PLAT_OK;
}

int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned count)
{
	if (h >= nnets)
		return PLAT_EINVAL;
	struct fake_net *n = &nets[h];
	unsigned i = 0;
	while (i < count) {
		/* platform.h: with offloads a frame may span the slots left,
		 * and one after the first starts only if the largest fits. */
		size_t room = 0;
		for (unsigned j = i; j < count && (j == i || n->offloads); j++)
			room += frames[j].cap;
		if (i > 0 && n->offloads && room < FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX)
			break;
		struct fake_frame *f = queue_pop(&n->rx);
		if (!f)
			break;
		if (f->len > room)
			continue; /* platform.h: an oversized frame is dropped */
		size_t off = 0;
		do {
			size_t k = f->len - off < frames[i].cap ? f->len - off : frames[i].cap;
			memcpy(frames[i].data, f->data + off, k);
			frames[i].len = k;
			off += k;
			frames[i++].more = off < f->len;
		} while (off < f->len);
	}
	return i ? (int)i : PLAT_EAGAIN;
}

int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned count)
{
	if (h >= nnets)
		return PLAT_EINVAL;
	struct fake_net *n = &nets[h];
	size_t max = n->offloads ? FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX : (size_t)n->mtu + 14;
	static uint8_t frame[FAKE_VNET_HDR + FAKE_BIG_FRAME_MAX];
	for (unsigned i = 0; i < count;) {
		size_t len = 0;
		unsigned j = i;
		do {
			if (len + frames[j].len > max || (frames[j].more && !n->offloads))
				return PLAT_EINVAL;
			memcpy(frame + len, frames[j].data, frames[j].len);
			len += frames[j].len;
		} while (frames[j++].more && j < count);
		if (frames[j - 1].more)
			return PLAT_EINVAL;
		/* A full capture queue drops the oldest: tests read what they need. */
		if (n->tx.count == FAKE_QUEUE)
			queue_pop(&n->tx);
		queue_push(&n->tx, frame, len);
		n->sent++;
		i = j;
	}
	return (int)count;
}

int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info)
{
	return PLAT_ENOENT;
}
int plat_block_read(plat_handle_t h, uint64_t off, void *buf, size_t len)
{
	return PLAT_EINVAL;
}
int plat_block_write(plat_handle_t h, uint64_t off, const void *buf, size_t len)
{
	return PLAT_EINVAL;
}
int plat_block_flush(plat_handle_t h)
{
	return PLAT_EINVAL;
}

void plat_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p[i] = (uint8_t)rng;
	}
}

void plat_exit(int status)
{
	exit(status);
}

void plat_abort(const char *msg)
{
	fprintf(stderr, "plat_abort: %s\n", msg);
	abort();
}

int test_main(const struct test_case *cases, unsigned n)
{
	unsigned passed = 0, failed = 0;
	setvbuf(stdout, NULL, _IONBF, 0); /* keep every line if a test crashes */
	for (unsigned i = 0; i < n; i++) {
		fake_reset();
		test_failed_checks = 0;
		cases[i].fn();
		if (test_failed_checks == 0) {
			printf("ok %u - %s\n", i + 1, cases[i].name);
			passed++;
		} else {
			printf("not ok %u - %s\n", i + 1, cases[i].name);
			failed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
