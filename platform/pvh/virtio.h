/*
 * virtio.h - the virtio core shared by the net, block and rng drivers:
 * split virtqueues over three transports (virtio-mmio version 1 "legacy"
 * and version 2, and modern virtio-pci), per the virtio 1.2 specification.
 */
#ifndef ATOLL_PVH_VIRTIO_H
#define ATOLL_PVH_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "pvh.h"

#define VIRTIO_ID_NET	1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG	4

#define VIRTIO_F_ANY_LAYOUT (1ull << 27)
#define VIRTIO_F_VERSION_1  (1ull << 32)

#define VRING_DESC_F_NEXT	   1
#define VRING_DESC_F_WRITE	   2
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};
struct vring_used_elem {
	uint32_t id, len;
};
struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[];
};

struct virtq {
	uint16_t size, index;
	struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t avail_idx; /* next free slot in avail->ring (free-running) */
	uint16_t last_used; /* next entry of used->ring to consume */
	uintptr_t notify;   /* register the queue index is written to */
};

enum virtio_transport { VIRTIO_MMIO_V1, VIRTIO_MMIO_V2, VIRTIO_PCI };

struct virtio_dev {
	enum virtio_transport transport;
	uint32_t id;				    /* VIRTIO_ID_* */
	uint64_t features;			    /* negotiated */
	uintptr_t base;				    /* mmio: the register window */
	unsigned gsi;				    /* mmio: its interrupt line */
	uintptr_t common, isr, devcfg, notify_base; /* pci */
	uint32_t notify_mul;
	struct pci_dev pci;
	unsigned msix_cap;
	char where[40]; /* for log lines: "mmio@0xfeb00e00", "pci 00:02.0" */
};

/* Reset, acknowledge and negotiate: accepts the device's features that are
 * in want (VERSION_1 is added for the modern transports).  false (and the
 * device marked failed) if the device refuses. */
bool virtio_negotiate(struct virtio_dev *d, uint64_t want);
/* Set up queue index with at most max entries (a power of two).  false if
 * the device has no such queue. */
bool virtio_queue_init(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t max);
/* Interrupts for the device's queues wake pvh_idle. */
void virtio_irq_init(struct virtio_dev *d);
void virtio_driver_ok(struct virtio_dev *d);

uint8_t virtio_cfg8(struct virtio_dev *d, unsigned off);
uint32_t virtio_cfg32(struct virtio_dev *d, unsigned off);
uint64_t virtio_cfg64(struct virtio_dev *d, unsigned off);

/* Make the entries added since the last call visible, then notify. */
void virtq_kick(struct virtio_dev *d, struct virtq *q);
static inline bool virtq_has_used(const struct virtq *q)
{
	return q->used->idx != q->last_used;
}
/* Offer descriptor chain head to the device (visible at the next kick). */
static inline void virtq_push(struct virtq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
}
/* The next used element; only after virtq_has_used. */
static inline struct vring_used_elem virtq_pop(struct virtq *q)
{
	__asm__ volatile("" ::: "memory"); /* read the entry after the index */
	struct vring_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
	q->last_used++;
	return e;
}

#endif
