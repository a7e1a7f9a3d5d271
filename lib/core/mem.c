/*
 * mem.c - heap, arenas and pools: see mem.h.
 */
#include "core/mem.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"

void heap_init(struct heap *h, void *base, size_t size)
{
	h->base = base;
	h->size = size;
	h->used = 0;
	h->fails = 0;
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	ASSERT(align && (align & (align - 1)) == 0);
	uintptr_t start = (uintptr_t)h->base + h->used;
	uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	size_t pad = aligned - start;
	if (pad > h->size - h->used || size > h->size - h->used - pad) {
		h->fails++;
		return NULL;
	}
	h->used += pad + size;
	memset((void *)aligned, 0, size);
	return (void *)aligned;
}

int arena_init(struct arena *a, struct heap *h, size_t size)
{
	memset(a, 0, sizeof *a);
	a->base = heap_alloc(h, size, 16);
	if (!a->base)
		return ATL_ENOMEM;
	a->size = size;
	return ATL_OK;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size_t rounded = (size + 15) & ~(size_t)15;
	if (rounded < size || rounded > a->size - a->used) {
		a->fails++;
		return NULL;
	}
	void *p = a->base + a->used;
	a->used += rounded;
	if (a->used > a->hwm)
		a->hwm = a->used;
	return p;
}

int pool_init(struct pool *p, struct heap *h, const char *name, size_t obj_size, unsigned count)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->obj_size = (obj_size + 15) & ~(size_t)15;
	if (p->obj_size < sizeof(void *))
		p->obj_size = 16;
	if (count && p->obj_size > SIZE_MAX / count)
		return ATL_ENOMEM;
	uint8_t *mem = heap_alloc(h, p->obj_size * count, 16);
	if (count && !mem)
		return ATL_ENOMEM;
	/* Thread the free list so the lowest address is handed out first. */
	for (unsigned i = count; i-- > 0;) {
		void *obj = mem + (size_t)i * p->obj_size;
		*(void **)obj = p->free;
		p->free = obj;
	}
	p->total = count;
	return ATL_OK;
}

void *pool_get(struct pool *p)
{
	void *obj = p->free;
	if (!obj) {
		p->fails++;
		return NULL;
	}
	p->free = *(void **)obj;
	if (++p->in_use > p->hwm)
		p->hwm = p->in_use;
	return obj;
}

void pool_put(struct pool *p, void *obj)
{
	ASSERT(obj && p->in_use > 0);
	*(void **)obj = p->free;
	p->free = obj;
	p->in_use--;
}

/*
 * Region blocks: a 16-byte header holding the block's total size (header
 * included); a free block's header also links to the next free block, in
 * address order, which is what makes merging with both neighbours a
 * single pass.
 */
struct rblock {
	size_t size;
	struct rblock *next; /* free blocks only */
};

#define RHDR 16u

_Static_assert(sizeof(struct rblock) <= RHDR, "region header fits in 16 bytes");

void region_init_mem(struct region *r, void *mem, size_t size)
{
	memset(r, 0, sizeof *r);
	r->base = mem;
	r->size = size & ~(size_t)15;
	if (r->size >= 2 * RHDR) {
		struct rblock *b = mem;
		b->size = r->size;
		b->next = NULL;
		r->free = b;
	}
}

int region_init(struct region *r, struct heap *h, size_t size)
{
	size &= ~(size_t)15;
	void *mem = heap_alloc(h, size, 16);
	if (!mem)
		return ATL_ENOMEM;
	region_init_mem(r, mem, size);
	return ATL_OK;
}

static size_t region_need(size_t size)
{
	if (size > SIZE_MAX - 2 * RHDR)
		return 0;
	return ((size + 15) & ~(size_t)15) + RHDR;
}

static void *region_take(struct region *r, struct rblock **link, size_t need, bool count)
{
	struct rblock *b = *link;
	if (b->size - need >= 2 * RHDR) {
		/* Split: the tail stays free, in the same list position. */
		struct rblock *rest = (struct rblock *)((uint8_t *)b + need);
		rest->size = b->size - need;
		rest->next = b->next;
		*link = rest;
		b->size = need;
	} else {
		*link = b->next;
	}
	b->next = NULL;
	r->used += b->size;
	if (count && r->used > r->hwm)
		r->hwm = r->used;
	return (uint8_t *)b + RHDR;
}

void *region_alloc(struct region *r, size_t size)
{
	size_t need = region_need(size);
	if (need) {
		for (struct rblock **link = (struct rblock **)&r->free; *link;
		     link = &(*link)->next)
			if ((*link)->size >= need)
				return region_take(r, link, need, true);
	}
	r->fails++;
	return NULL;
}

void *region_alloc_top(struct region *r, size_t size)
{
	size_t need = region_need(size);
	struct rblock **best = NULL;
	if (need)
		for (struct rblock **link = (struct rblock **)&r->free; *link;
		     link = &(*link)->next)
			if ((*link)->size >= need)
				best = link; /* the list is address-ordered: keep the last */
	if (!best) {
		r->fails++;
		return NULL;
	}
	struct rblock *b = *best;
	if (b->size - need < 2 * RHDR)
		return region_take(r, best, b->size, true);
	/* Split: the head stays free, in the same list position. */
	struct rblock *t = (struct rblock *)((uint8_t *)b + b->size - need);
	b->size -= need;
	t->size = need;
	t->next = NULL;
	r->used += need;
	if (r->used > r->hwm)
		r->hwm = r->used;
	return (uint8_t *)t + RHDR;
}

void *region_alloc_largest(struct region *r, size_t *size)
{
	struct rblock **best = NULL;
	for (struct rblock **link = (struct rblock **)&r->free; *link; link = &(*link)->next)
		if (!best || (*link)->size > (*best)->size)
			best = link;
	if (!best) {
		*size = 0;
		r->fails++;
		return NULL;
	}
	*size = (*best)->size - RHDR;
	/* Counted in hwm once shrunk to what was used of it. */
	return region_take(r, best, (*best)->size, false);
}

size_t region_block_size(const void *p)
{
	const struct rblock *b = (const struct rblock *)((const uint8_t *)p - RHDR);
	return b->size - RHDR;
}

size_t region_largest_free(const struct region *r)
{
	size_t m = 0;
	for (const struct rblock *b = r->free; b; b = b->next)
		if (b->size - RHDR > m)
			m = b->size - RHDR;
	return m;
}

/* Put block b (not linked) into the free list, merging with neighbours. */
static void region_put(struct region *r, struct rblock *b)
{
	struct rblock *prev = NULL, *next = r->free;
	while (next && next < b) {
		prev = next;
		next = next->next;
	}
	ASSERT(b != next && (!prev || (uint8_t *)prev + prev->size <= (uint8_t *)b));
	if (next && (uint8_t *)b + b->size == (uint8_t *)next) {
		b->size += next->size;
		next = next->next;
	}
	b->next = next;
	if (prev && (uint8_t *)prev + prev->size == (uint8_t *)b) {
		prev->size += b->size;
		prev->next = b->next;
	} else if (prev) {
		prev->next = b;
	} else {
		r->free = b;
	}
}

void region_shrink(struct region *r, void *p, size_t size)
{
	struct rblock *b = (struct rblock *)((uint8_t *)p - RHDR);
	size_t need = region_need(size);
	ASSERT(need && need <= b->size);
	if (b->size - need < 2 * RHDR) {
		if (r->used > r->hwm)
			r->hwm = r->used;
		return;
	}
	struct rblock *rest = (struct rblock *)((uint8_t *)b + need);
	rest->size = b->size - need;
	b->size = need;
	r->used -= rest->size;
	if (r->used > r->hwm)
		r->hwm = r->used;
	region_put(r, rest);
}

void region_free(struct region *r, void *p)
{
	if (!p)
		return;
	struct rblock *b = (struct rblock *)((uint8_t *)p - RHDR);
	ASSERT((uint8_t *)b >= r->base && (uint8_t *)b + b->size <= r->base + r->size);
	r->used -= b->size;
	region_put(r, b);
}
