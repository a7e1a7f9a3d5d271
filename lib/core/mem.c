/*
 * mem.c - heap, arenas and pools: see mem.h.
 */
#include "core/mem.h"

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
