/*
 * block.c - block devices held in memory, and what a power cut does to
 * them.
 *
 * Each device keeps two images: what reads see, and what is durable.  A
 * flush makes every block written since the last one durable.  A restart
 * is a power cut: each block written but not flushed is, at random, either
 * kept (it reached the platter) or reverted to its durable contents (it
 * was still in a cache).  Storage code that forgets a flush fails under
 * some seeds instead of never.
 */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

void sim_node_block(struct sim_node *n, const char *dev, uint64_t capacity, uint32_t block_size)
{
	if (n->sim->started)
		sim_usage_fatal("sim_node_block: only during setup");
	if (n->ndevs == SIM_DEVS_MAX)
		sim_usage_fatal("sim_node_block(%s): more than %d devices", n->name, SIM_DEVS_MAX);
	if (block_size == 0 || (block_size & (block_size - 1)) || capacity % block_size ||
	    capacity == 0)
		sim_usage_fatal("sim_node_block(%s, %s): capacity must be a non-zero multiple of a "
				"power-of-two block size",
				n->name, dev);
	for (unsigned i = 0; i < n->ndevs; i++)
		if (strcmp(n->devs[i].name, dev) == 0)
			sim_usage_fatal("sim_node_block(%s): two devices called %s", n->name, dev);
	struct sim_dev *d = &n->devs[n->ndevs++];
	d->name = sim_xstrdup(dev);
	d->kind = PLAT_DEV_BLOCK;
	struct sim_blk *b = &d->u.blk;
	b->capacity = capacity;
	b->block_size = block_size;
	b->data = sim_xmalloc(capacity);
	b->durable = sim_xmalloc(capacity);
	b->dirty = sim_xmalloc(capacity / block_size);
}

void sim_blk_power_cut(struct sim_node *n, struct sim_blk *b)
{
	uint64_t rng =
	    sim_rng_derive(n->sim->seed, SIM_RNG_BLOCK, (uint64_t)n->id << 32 | n->boots);
	uint64_t blocks = b->capacity / b->block_size;
	for (uint64_t i = 0; i < blocks; i++) {
		if (!b->dirty[i])
			continue;
		uint64_t off = i * b->block_size;
		if (sim_rng_next(&rng) & 1)
			memcpy(b->durable + off, b->data + off, b->block_size);
		else
			memcpy(b->data + off, b->durable + off, b->block_size);
		b->dirty[i] = 0;
	}
}

static struct sim_blk *blk_get(plat_handle_t h)
{
	struct sim_node *n = sim_active ? sim_active->current : NULL;
	if (!n) {
		fprintf(stderr, "sim: plat_block_* called outside a node\n");
		abort();
	}
	if (h >= n->ndevs || n->devs[h].kind != PLAT_DEV_BLOCK)
		return NULL;
	return &n->devs[h].u.blk;
}

static bool blk_range_ok(const struct sim_blk *b, uint64_t offset, size_t len)
{
	return offset % b->block_size == 0 && len % b->block_size == 0 && offset <= b->capacity &&
	       len <= b->capacity - offset;
}

int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info)
{
	struct sim_node *n = sim_active ? sim_active->current : NULL;
	if (!n) {
		fprintf(stderr, "sim: plat_block_acquire called outside a node\n");
		abort();
	}
	for (unsigned i = 0; i < n->ndevs; i++) {
		if (n->devs[i].kind == PLAT_DEV_BLOCK && strcmp(n->devs[i].name, name) == 0) {
			*h = i;
			info->capacity = n->devs[i].u.blk.capacity;
			info->block_size = n->devs[i].u.blk.block_size;
			return PLAT_OK;
		}
	}
	return PLAT_ENOENT;
}

int plat_block_read(plat_handle_t h, uint64_t offset, void *buf, size_t len)
{
	struct sim_blk *b = blk_get(h);
	if (!b || !blk_range_ok(b, offset, len))
		return PLAT_EINVAL;
	memcpy(buf, b->data + offset, len);
	return PLAT_OK;
}

int plat_block_write(plat_handle_t h, uint64_t offset, const void *buf, size_t len)
{
	struct sim_blk *b = blk_get(h);
	if (!b || !blk_range_ok(b, offset, len))
		return PLAT_EINVAL;
	memcpy(b->data + offset, buf, len);
	memset(b->dirty + offset / b->block_size, 1, len / b->block_size);
	return PLAT_OK;
}

int plat_block_flush(plat_handle_t h)
{
	struct sim_blk *b = blk_get(h);
	if (!b)
		return PLAT_EINVAL;
	uint64_t blocks = b->capacity / b->block_size;
	for (uint64_t i = 0; i < blocks; i++) {
		if (b->dirty[i]) {
			uint64_t off = i * b->block_size;
			memcpy(b->durable + off, b->data + off, b->block_size);
			b->dirty[i] = 0;
		}
	}
	return PLAT_OK;
}
