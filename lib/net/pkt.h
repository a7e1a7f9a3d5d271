/*
 * pkt.h - packet buffers of the atoll network stack.
 *
 * A struct pkt is one fixed-size object (PKT_SIZE bytes, header included)
 * from a struct pool sized at start-up (boot argument net-buffers=, see
 * net.h).  Its bytes of interest are data[off .. off+len); received
 * frames land PKT_HEADROOM bytes in, so a layer may prepend a header
 * (a VLAN tag, a tunnel) without a copy.
 *
 * Two links:
 *  - more: the next buffer of the same datagram.  A reassembled IPv4
 *    datagram is a chain of its fragments' payloads; everything else is a
 *    chain of one.  Freeing a pkt frees its whole chain.
 *  - next: the next datagram (or frame) in whatever queue holds this one:
 *    a socket's receive queue, an ARP entry's pending frames, a
 *    reassembly's fragment list, a transmit batch.
 *
 * Ownership: whoever holds the pointer owns the chain and must free or
 * hand it on exactly once.  Input functions take ownership of the pkt
 * they are given.  A queued pkt belongs to its queue.
 *
 * This module is the one place that does pointer arithmetic on packet
 * bytes: everyone else reads and writes them through pkt_rd / pkt_wr.
 */
#ifndef ATOLL_NET_PKT_H
#define ATOLL_NET_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

#define PKT_SIZE     2048 /* bytes per pool object, header included */
#define PKT_HEADROOM 64	  /* free bytes before a received frame */

struct pkt {
	struct pkt *next; /* queue link (first word: the pool's free link too) */
	struct pkt *more; /* next buffer of the same datagram */
	uint16_t off;	  /* first byte of interest in data[] */
	uint16_t len;	  /* bytes of interest from off */
	/* Metadata, set by the layer that queues the pkt: */
	uint16_t port;	   /* UDP source port (socket queue) */
	uint32_t addr;	   /* IPv4 source address (socket queue) */
	uint32_t frag_off; /* byte offset in the datagram (reassembly) */
	uint32_t dlen;	   /* whole datagram length, on a chain's first pkt */
	uint8_t flags;	   /* PKT_F_*, on a chain's first pkt */
	uint8_t data[];
};

#define PKT_CAP (PKT_SIZE - offsetof(struct pkt, data))

/* Offload metadata (see net.h, "virtio-net header"). */
#define PKT_F_CSUM_OK 0x01 /* received: the host vouches for the L4 checksum */
#define PKT_F_VNET    0x02 /* to send: its virtio-net header sits in the headroom */

/* Set up a pool of count buffers from the heap; ATL_ENOMEM if short. */
int pkt_pool_init(struct pool *pool, struct heap *h, unsigned count);

/* A fresh buffer with off = PKT_HEADROOM, len = 0, no links; NULL (and
 * counted in the pool) when none is free. */
struct pkt *pkt_alloc(struct pool *pool);
/* Free p and its whole chain (more links).  NULL is allowed. */
void pkt_free(struct pool *pool, struct pkt *p);
/* Free a next-linked list of chains. */
void pkt_free_list(struct pool *pool, struct pkt *p);

static inline unsigned pkt_pool_free(const struct pool *pool)
{
	return pool->total - pool->in_use;
}

/* (Inline: every layer calls these for every frame.) */

/* A reader over this buffer's bytes of interest (not the chain). */
static inline struct rd pkt_rd(const struct pkt *p)
{
	return rd_make(p->data + p->off, p->len);
}

/* A writer over the room from off to the end of the buffer; the caller
 * sets len = w.pos once done. */
static inline struct wr pkt_wr(struct pkt *p)
{
	return wr_make(p->data + p->off, PKT_CAP - p->off);
}

/* Drop n leading bytes of this buffer (n <= len). */
static inline void pkt_pull(struct pkt *p, size_t n)
{
	ASSERT(n <= p->len);
	p->off = (uint16_t)(p->off + n);
	p->len = (uint16_t)(p->len - n);
}

/* Take n bytes of headroom back in front of the bytes of interest and
 * return them; NULL (nothing changed) when the headroom is shorter. */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (n > p->off)
		return NULL;
	p->off = (uint16_t)(p->off - n);
	p->len = (uint16_t)(p->len + n);
	return p->data + p->off;
}

/* Chains. */
size_t pkt_chain_len(const struct pkt *p);
unsigned pkt_chain_count(const struct pkt *p);
/* Copy up to n bytes starting at byte off of the chain to dst; returns
 * how many were copied (fewer if the chain ends first). */
size_t pkt_chain_copy(const struct pkt *p, size_t off, void *dst, size_t n);
/* Copy bytes [off, off+n) of the chain to w (err on w if short). */
void pkt_chain_write(const struct pkt *p, size_t off, struct wr *w, size_t n);
/* Cut the chain to len bytes (len <= its length), freeing buffers that
 * become empty (never the first). */
void pkt_chain_trim(struct pool *pool, struct pkt *p, size_t len);
/* Drop n leading bytes of the chain (n <= its length); buffers that
 * become empty are freed except the last.  Returns the new first buffer,
 * whose metadata the caller must set again. */
struct pkt *pkt_chain_pull(struct pool *pool, struct pkt *p, size_t n);

#endif
