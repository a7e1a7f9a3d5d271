/*
 * mem.h - the memory budget: one heap region, carved at start-up into
 * fixed pools and arenas.
 *
 * struct heap hands out memory from the platform's one region and never
 * takes it back: it is for start-up objects (contexts, pools, stacks).
 * The data path uses pools (fixed-size objects, O(1) get/put) and arenas
 * (bump allocation reset wholesale after a request).  Each reports its
 * high-water mark; exhaustion returns NULL and is counted, never fatal.
 */
#ifndef ATOLL_CORE_MEM_H
#define ATOLL_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

struct heap {
	uint8_t *base;
	size_t size;
	size_t used; /* also the high-water mark: nothing is freed */
	uint64_t fails;
};

void heap_init(struct heap *h, void *base, size_t size);
/* size bytes aligned to align (a power of two); zeroed.  NULL if short. */
void *heap_alloc(struct heap *h, size_t size, size_t align);

struct arena {
	uint8_t *base;
	size_t size;
	size_t used;
	size_t hwm;
	uint64_t fails;
};

/* Carve an arena of size bytes from the heap; ATL_ENOMEM if short. */
int arena_init(struct arena *a, struct heap *h, size_t size);
/* 16-byte aligned, not zeroed; NULL (counted) when the arena is full. */
void *arena_alloc(struct arena *a, size_t size);
static inline void arena_reset(struct arena *a)
{
	a->used = 0;
}

struct pool {
	const char *name;
	void *free; /* singly linked through the first word of each object */
	size_t obj_size;
	unsigned total;
	unsigned in_use;
	unsigned hwm;
	uint64_t fails;
};

/* count objects of obj_size bytes (rounded up to 16) from the heap. */
int pool_init(struct pool *p, struct heap *h, const char *name, size_t obj_size, unsigned count);
/* An object (contents undefined), or NULL (counted) if none is free. */
void *pool_get(struct pool *p);
void pool_put(struct pool *p, void *obj);

/*
 * A region: variable-sized blocks that can be freed, for long-lived data
 * that is replaced while running (a zone version lives in one block and
 * is freed when the next version is installed and nobody reads it).
 * First fit over an address-ordered free list; a freed block merges with
 * free neighbours, so the region does not fragment into slivers under
 * replace-one-block-by-a-similar-one use.  Every block carries a 16-byte
 * header; sizes are rounded up to 16.  Not for the data path: allocation
 * and free walk the free list.
 */
struct region {
	uint8_t *base;
	size_t size;
	void *free;  /* address-ordered list of free blocks */
	size_t used; /* bytes in allocated blocks, headers included */
	size_t hwm;  /* of used; a largest block counts once shrunk */
	uint64_t fails;
};

/* Carve a region of size bytes from the heap; ATL_ENOMEM if short. */
int region_init(struct region *r, struct heap *h, size_t size);
/* Over caller memory (16-byte aligned), e.g. in tests. */
void region_init_mem(struct region *r, void *mem, size_t size);
/* size bytes, 16-byte aligned, not zeroed; NULL (counted) if no free
 * block is large enough. */
void *region_alloc(struct region *r, size_t size);
/* The same from the top end of the highest free block that fits: for
 * short-lived data (a zones archive while loading) that should not split
 * the free space the long-lived blocks below it are built in. */
void *region_alloc_top(struct region *r, size_t size);
/* The largest free block, whole: *size gets its usable length (0 and NULL
 * when the region is full).  Build in it, then region_shrink it. */
void *region_alloc_largest(struct region *r, size_t *size);
/* Give back the tail of a block beyond size bytes. */
void region_shrink(struct region *r, void *p, size_t size);
/* Free a block from region_alloc (NULL is ignored). */
void region_free(struct region *r, void *p);
/* The usable size of a block. */
size_t region_block_size(const void *p);
/* The largest block region_alloc could return now. */
size_t region_largest_free(const struct region *r);

#endif
