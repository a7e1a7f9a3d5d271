/*
 * pkt.c - packet buffers: see pkt.h.
 */
#include "net/pkt.h"

#include <string.h>

#include "core/err.h"

_Static_assert(PKT_CAP >= PKT_HEADROOM + 1514, "a buffer must hold a 1500-byte-MTU frame");

int pkt_pool_init(struct pool *pool, struct heap *h, unsigned count)
{
	return pool_init(pool, h, "pkt", PKT_SIZE, count);
}

struct pkt *pkt_alloc(struct pool *pool)
{
	struct pkt *p = pool_get(pool);
	if (!p)
		return NULL;
	p->next = NULL;
	p->more = NULL;
	p->off = PKT_HEADROOM;
	p->len = 0;
	p->port = 0;
	p->addr = 0;
	p->frag_off = 0;
	p->dlen = 0;
	p->flags = 0;
	return p;
}

void pkt_free(struct pool *pool, struct pkt *p)
{
	while (p) {
		struct pkt *more = p->more;
		pool_put(pool, p);
		p = more;
	}
}

void pkt_free_list(struct pool *pool, struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		pkt_free(pool, p);
		p = next;
	}
}

size_t pkt_chain_len(const struct pkt *p)
{
	size_t n = 0;
	for (; p; p = p->more)
		n += p->len;
	return n;
}

unsigned pkt_chain_count(const struct pkt *p)
{
	unsigned n = 0;
	for (; p; p = p->more)
		n++;
	return n;
}

size_t pkt_chain_copy(const struct pkt *p, size_t off, void *dst, size_t n)
{
	uint8_t *out = dst;
	size_t done = 0;
	for (; p && done < n; p = p->more) {
		if (off >= p->len) {
			off -= p->len;
			continue;
		}
		size_t k = p->len - off;
		if (k > n - done)
			k = n - done;
		memcpy(out + done, p->data + p->off + off, k);
		done += k;
		off = 0;
	}
	return done;
}

void pkt_chain_write(const struct pkt *p, size_t off, struct wr *w, size_t n)
{
	uint8_t *dst = wr_take(w, n);
	if (dst && pkt_chain_copy(p, off, dst, n) != n)
		w->err = true;
}

void pkt_chain_trim(struct pool *pool, struct pkt *p, size_t len)
{
	for (; p; p = p->more) {
		if (len <= p->len) {
			p->len = (uint16_t)len;
			pkt_free(pool, p->more);
			p->more = NULL;
			return;
		}
		len -= p->len;
	}
}

struct pkt *pkt_chain_pull(struct pool *pool, struct pkt *p, size_t n)
{
	while (p->more && n >= p->len) {
		struct pkt *more = p->more;
		n -= p->len;
		pool_put(pool, p);
		p = more;
	}
	pkt_pull(p, n);
	return p;
}
