/*
 * virtio_rng.c - entropy from virtio-rng, for CPUs without RDRAND (the
 * default emulated CPU has none).  Synchronous, like the block driver.
 */
#include <string.h>

#include "pvh.h"
#include "virtio.h"

#define VRNG_BUF 64

static struct virtio_dev *rng;
static struct virtq rq;
static uint8_t *rbuf;
static bool pending; /* a request is with the device */

static void request(void)
{
	rq.desc[0] = (struct vring_desc){(uintptr_t)rbuf, VRNG_BUF, VRING_DESC_F_WRITE, 0};
	virtq_push(&rq, 0);
	virtq_kick(rng, &rq);
	pending = true;
}

void vrng_attach(struct virtio_dev *vd)
{
	if (rng || cpu_has_rdrand())
		return; /* RDRAND is better: no device round trip */
	if (!virtio_negotiate(vd, 0))
		return;
	virtio_irq_init(vd);
	if (!virtio_queue_init(vd, &rq, 0, 4))
		return;
	rbuf = mm_alloc(VRNG_BUF, 64);
	virtio_driver_ok(vd);
	rng = vd;
	/* Boot reads entropy for the stack canary: ask now, so QEMU answers
	 * (sometimes after milliseconds) while the other devices start. */
	request();
}

bool vrng_present(void)
{
	return rng != NULL;
}

void vrng_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		if (!pending)
			request();
		uint64_t deadline = plat_clock_monotonic() + 5000000000ull;
		while (!virtq_has_used(&rq)) {
			if (plat_clock_monotonic() >= deadline)
				plat_abort("vrng_read: virtio-rng gave nothing for 5 s");
			pvh_idle(deadline);
		}
		uint32_t got = virtq_pop(&rq).len;
		pending = false;
		if (got > VRNG_BUF)
			got = VRNG_BUF;
		size_t n = got < len ? got : len;
		memcpy(p, rbuf, n);
		p += n;
		len -= n;
	}
}
