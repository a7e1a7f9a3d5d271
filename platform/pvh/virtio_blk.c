/*
 * virtio_blk.c - block devices: plat_block_* over virtio-blk.
 *
 * One request at a time, synchronously: the caller's buffer is the DMA
 * buffer (memory is identity-mapped), split into requests of at most
 * VBLK_CHUNK bytes, and the CPU sleeps in hlt until the device's interrupt
 * says the request is done.
 */
#include <string.h>

#include "pvh.h"
#include "virtio.h"

#define VBLK_MAX	      8
#define VBLK_CHUNK	      (64u * 1024)
#define VBLK_TIMEOUT_NS	      (30ull * 1000000000u)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH    (1ull << 9)
#define VIRTIO_BLK_T_IN	      0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_FLUSH    4
#define VIRTIO_BLK_S_OK	      0

struct vblk_req {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
};

struct vblk {
	struct virtio_dev *vd;
	struct virtq q;
	struct vblk_req *req;
	uint64_t capacity; /* bytes */
	uint32_t block_size;
};

static struct vblk blks[VBLK_MAX];
static unsigned nblks;

void vblk_attach(struct virtio_dev *vd)
{
	if (nblks >= pvh_want_blk || nblks == VBLK_MAX) {
		kprintf("atoll: virtio-blk %s: the app wants no more block devices\n", vd->where);
		return;
	}
	struct vblk *b = &blks[nblks];
	b->vd = vd;
	if (!virtio_negotiate(vd, VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH))
		return;
	virtio_irq_init(vd);
	if (!virtio_queue_init(vd, &b->q, 0, 4) || b->q.size < 4) {
		kprintf("atoll: virtio-blk %s: no usable queue\n", vd->where);
		return;
	}
	b->req = mm_alloc(sizeof *b->req, 16);
	b->capacity = virtio_cfg64(vd, 0) * 512;
	b->block_size = 512;
	if (vd->features & VIRTIO_BLK_F_BLK_SIZE) {
		uint32_t bs = virtio_cfg32(vd, 20);
		if (bs >= 512 && bs <= 65536 && (bs & (bs - 1)) == 0)
			b->block_size = bs;
	}
	virtio_driver_ok(vd);
	kprintf("atoll: blk%u: virtio-blk %s %llu bytes, %u-byte blocks%s\n", nblks, vd->where,
		(unsigned long long)b->capacity, b->block_size,
		vd->features & VIRTIO_BLK_F_FLUSH ? ", flush" : "");
	nblks++;
}

int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info)
{
	const struct plat_app *app = plat_app_linked;
	unsigned k = 0;
	for (unsigned i = 0; i < app->ndevices; i++) {
		if (app->devices[i].kind != PLAT_DEV_BLOCK)
			continue;
		if (strcmp(app->devices[i].name, name) == 0) {
			if (k >= nblks)
				return PLAT_ENOENT;
			/* Block handles follow the network ones in the ready set. */
			*h = VNET_HANDLES + k;
			info->capacity = blks[k].capacity;
			info->block_size = blks[k].block_size;
			return PLAT_OK;
		}
		k++;
	}
	return PLAT_ENOENT;
}

/* Run one request: header, optional data, status. */
static int vblk_do(struct vblk *b, uint32_t type, uint64_t sector, void *data, uint32_t len)
{
	struct virtq *q = &b->q;
	b->req->type = type;
	b->req->reserved = 0;
	b->req->sector = sector;
	b->req->status = 0xff;
	q->desc[0] = (struct vring_desc){(uintptr_t)b->req, 16, VRING_DESC_F_NEXT, 1};
	uint16_t last = 1;
	if (len) {
		uint16_t fl =
		    VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0);
		q->desc[1] = (struct vring_desc){(uintptr_t)data, len, fl, 2};
		last = 2;
	}
	q->desc[last] = (struct vring_desc){(uintptr_t)&b->req->status, 1, VRING_DESC_F_WRITE, 0};
	virtq_push(q, 0);
	virtq_kick(b->vd, q);
	uint64_t deadline = plat_clock_monotonic() + VBLK_TIMEOUT_NS;
	while (!virtq_has_used(q)) {
		if (plat_clock_monotonic() >= deadline)
			return PLAT_EIO; /* the queue is now unusable: so is the device */
		pvh_idle(deadline);
	}
	virtq_pop(q);
	return b->req->status == VIRTIO_BLK_S_OK ? PLAT_OK : PLAT_EIO;
}

static int vblk_rw(plat_handle_t h, uint64_t off, void *buf, size_t len, uint32_t type)
{
	if (h < VNET_HANDLES || h - VNET_HANDLES >= nblks)
		return PLAT_EINVAL;
	struct vblk *b = &blks[h - VNET_HANDLES];
	if (off % b->block_size || len % b->block_size || off > b->capacity ||
	    len > b->capacity - off)
		return PLAT_EINVAL;
	uint8_t *p = buf;
	while (len) {
		uint32_t n = len < VBLK_CHUNK ? (uint32_t)len : VBLK_CHUNK;
		int rc = vblk_do(b, type, off / 512, p, n);
		if (rc != PLAT_OK)
			return rc;
		p += n;
		off += n;
		len -= n;
	}
	return PLAT_OK;
}

int plat_block_read(plat_handle_t h, uint64_t offset, void *buf, size_t len)
{
	return vblk_rw(h, offset, buf, len, VIRTIO_BLK_T_IN);
}

int plat_block_write(plat_handle_t h, uint64_t offset, const void *buf, size_t len)
{
	return vblk_rw(h, offset, (void *)(uintptr_t)buf, len, VIRTIO_BLK_T_OUT);
}

int plat_block_flush(plat_handle_t h)
{
	if (h < VNET_HANDLES || h - VNET_HANDLES >= nblks)
		return PLAT_EINVAL;
	struct vblk *b = &blks[h - VNET_HANDLES];
	if (!(b->vd->features & VIRTIO_BLK_F_FLUSH))
		return PLAT_OK; /* no flush feature: the device writes through */
	return vblk_do(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
}
