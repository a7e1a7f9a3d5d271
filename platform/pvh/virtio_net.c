/*
 * virtio_net.c - network devices: plat_net_* over virtio-net.
 *
 * Each device has a receive and a transmit queue of VNET_QUEUE entries,
 * one descriptor and one fixed buffer per entry (header and frame
 * together), allocated at boot.  Received frames are copied out to the
 * caller's buffers and the descriptor goes straight back to the device;
 * frames to send are copied in.  The copies keep the contract's rule that
 * the platform never holds a caller's buffer, and cost little next to
 * everything else at these rates.
 */
#include <string.h>

#include "core/fmt.h"
#include "pvh.h"
#include "virtio.h"

#define VNET_MAX	 8
#define VNET_QUEUE	 32
#define VNET_BUF	 1536 /* header + the largest frame with a VLAN tag, rounded up */
#define VIRTIO_NET_F_MAC (1ull << 5)
#define VNET_MTU	 1500

struct vnet {
	struct virtio_dev *vd;
	struct virtq rx, tx;
	uint8_t *rxbuf, *txbuf;
	uint16_t tx_free[VNET_QUEUE];
	unsigned ntx_free;
	size_t hdr_len;
	uint8_t mac[6];
};

static struct vnet nets[VNET_MAX];
static unsigned nnets;

void vnet_attach(struct virtio_dev *vd)
{
	if (nnets >= pvh_want_net || nnets == VNET_MAX) {
		kprintf("atoll: virtio-net %s: the app wants no more network devices\n", vd->where);
		return;
	}
	struct vnet *n = &nets[nnets];
	n->vd = vd;
	if (!virtio_negotiate(vd, VIRTIO_NET_F_MAC | VIRTIO_F_ANY_LAYOUT))
		return;
	/* virtio 1.2 5.1.6: the header has num_buffers with VERSION_1. */
	n->hdr_len = vd->features & VIRTIO_F_VERSION_1 ? 12 : 10;
	virtio_irq_init(vd);
	if (!virtio_queue_init(vd, &n->rx, 0, VNET_QUEUE) ||
	    !virtio_queue_init(vd, &n->tx, 1, VNET_QUEUE)) {
		kprintf("atoll: virtio-net %s: no queues\n", vd->where);
		return;
	}
	n->rxbuf = mm_alloc((size_t)n->rx.size * VNET_BUF, 64);
	n->txbuf = mm_alloc((size_t)n->tx.size * VNET_BUF, 64);
	for (uint16_t i = 0; i < n->rx.size; i++) {
		n->rx.desc[i] = (struct vring_desc){(uintptr_t)(n->rxbuf + (size_t)i * VNET_BUF),
						    VNET_BUF, VRING_DESC_F_WRITE, 0};
		virtq_push(&n->rx, i);
	}
	for (uint16_t i = 0; i < n->tx.size; i++)
		n->tx_free[n->ntx_free++] = i;
	/* Sent frames are reclaimed at the next send: no interrupts for them. */
	n->tx.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	if (vd->features & VIRTIO_NET_F_MAC) {
		for (unsigned i = 0; i < 6; i++)
			n->mac[i] = virtio_cfg8(vd, i);
	} else {
		/* A locally administered address of our own. */
		uint64_t r = (uint64_t)(uintptr_t)vd ^ pvh_boot_tsc;
		n->mac[0] = 0x02;
		for (unsigned i = 1; i < 6; i++)
			n->mac[i] = (uint8_t)(r >> (8 * i));
	}
	virtio_driver_ok(vd);
	virtq_kick(vd, &n->rx);
	kprintf("atoll: net%u: virtio-net %s mac %02x:%02x:%02x:%02x:%02x:%02x queues %u/%u\n",
		nnets, vd->where, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
		n->rx.size, n->tx.size);
	nnets++;
}

/* The k-th network device the app declares is the k-th one found. */
int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info)
{
	const struct plat_app *app = plat_app_linked;
	unsigned k = 0;
	for (unsigned i = 0; i < app->ndevices; i++) {
		if (app->devices[i].kind != PLAT_DEV_NET)
			continue;
		if (strcmp(app->devices[i].name, name) == 0) {
			if (k >= nnets)
				return PLAT_ENOENT;
			*h = k;
			/* No offloads: frames travel whole, one per slot. */
			memset(info, 0, sizeof *info);
			memcpy(info->mac, nets[k].mac, 6);
			info->mtu = VNET_MTU;
			return PLAT_OK;
		}
		k++;
	}
	return PLAT_ENOENT;
}

uint64_t vnet_ready(uint64_t interest)
{
	uint64_t ready = 0;
	for (unsigned k = 0; k < nnets; k++)
		if ((interest >> k & 1) && virtq_has_used(&nets[k].rx))
			ready |= 1ull << k;
	return ready;
}

int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned n)
{
	if (h >= nnets)
		return PLAT_EINVAL;
	struct vnet *v = &nets[h];
	unsigned got = 0;
	while (got < n && virtq_has_used(&v->rx)) {
		struct vring_used_elem e = virtq_pop(&v->rx);
		uint16_t id = (uint16_t)e.id;
		if (id >= v->rx.size)
			return PLAT_EIO;
		size_t len = e.len > v->hdr_len ? e.len - v->hdr_len : 0;
		if (len > VNET_BUF - v->hdr_len)
			len = VNET_BUF - v->hdr_len;
		struct plat_frame *f = &frames[got];
		size_t copy = len < f->cap ? len : f->cap;
		memcpy(f->data, v->rxbuf + (size_t)id * VNET_BUF + v->hdr_len, copy);
		f->len = copy;
		f->more = false;
		virtq_push(&v->rx, id);
		if (len)
			got++;
	}
	if (got == 0 && v->rx.avail_idx == v->rx.avail->idx)
		return PLAT_EAGAIN;
	virtq_kick(v->vd, &v->rx);
	return got ? (int)got : PLAT_EAGAIN;
}

int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned n)
{
	if (h >= nnets)
		return PLAT_EINVAL;
	struct vnet *v = &nets[h];
	while (virtq_has_used(&v->tx)) {
		uint16_t id = (uint16_t)virtq_pop(&v->tx).id;
		if (id < v->tx.size && v->ntx_free < VNET_QUEUE)
			v->tx_free[v->ntx_free++] = id;
	}
	unsigned sent = 0;
	for (; sent < n && v->ntx_free; sent++) {
		const struct plat_frame *f = &frames[sent];
		if (f->len > VNET_BUF - v->hdr_len || f->len < 14 || f->more) {
			if (sent == 0)
				return PLAT_EINVAL;
			break;
		}
		uint16_t id = v->tx_free[--v->ntx_free];
		uint8_t *b = v->txbuf + (size_t)id * VNET_BUF;
		memset(b, 0, v->hdr_len); /* no checksum offload, no GSO */
		memcpy(b + v->hdr_len, f->data, f->len);
		v->tx.desc[id] =
		    (struct vring_desc){(uintptr_t)b, (uint32_t)(v->hdr_len + f->len), 0, 0};
		virtq_push(&v->tx, id);
	}
	if (sent)
		virtq_kick(v->vd, &v->tx);
	return (int)sent;
}
