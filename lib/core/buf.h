/*
 * buf.h - bounds-checked readers and writers for wire formats.
 *
 * Every parser of outside input reads through struct rd and every encoder
 * writes through struct wr; nothing else does pointer arithmetic on packet
 * bytes.  Errors are sticky (as in BearSSL): a read past the end, or a
 * write past the capacity, sets err, returns zeros and moves nothing, so a
 * parser may read a whole header and check rd_ok() once at the end.
 *
 * Multi-byte integers are big-endian (network order) unless named _le.
 * Neither structure owns its memory.
 */
#ifndef ATOLL_CORE_BUF_H
#define ATOLL_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool err;
};

static inline struct rd rd_make(const void *data, size_t len)
{
	struct rd r = {(const uint8_t *)data, len, 0, false};
	return r;
}

static inline size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}
static inline bool rd_ok(const struct rd *r)
{
	return !r->err;
}

/* Pointer to the next n bytes, consumed; NULL (and err) if fewer remain. */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->data + r->pos;
	r->pos += n;
	return p;
}

static inline uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? p[0] : 0;
}

static inline uint16_t rd_be16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t rd_be32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

static inline void rd_skip(struct rd *r, size_t n)
{
	(void)rd_take(r, n);
}

/* A reader over the next n bytes, which are consumed from r. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	struct rd s = {p, p ? n : 0, 0, p == NULL};
	return s;
}

/* Byte at absolute offset off, without moving; err if out of range. */
static inline uint8_t rd_peek_at(struct rd *r, size_t off)
{
	if (r->err || off >= r->len) {
		r->err = true;
		return 0;
	}
	return r->data[off];
}

struct wr {
	uint8_t *data;
	size_t cap;
	size_t pos;
	bool err;
};

static inline struct wr wr_make(void *data, size_t cap)
{
	struct wr w = {(uint8_t *)data, cap, 0, false};
	return w;
}

static inline bool wr_ok(const struct wr *w)
{
	return !w->err;
}
static inline size_t wr_room(const struct wr *w)
{
	return w->err ? 0 : w->cap - w->pos;
}

/* Reserve the next n bytes and return them for the caller to fill. */
static inline uint8_t *wr_take(struct wr *w, size_t n)
{
	if (w->err || n > w->cap - w->pos) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->data + w->pos;
	w->pos += n;
	return p;
}

static inline void wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_take(w, 1);
	if (p)
		p[0] = v;
}

static inline void wr_be16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_take(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void wr_be32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_take(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_take(w, n);
	if (p && n)
		memcpy(p, src, n);
}

static inline void wr_zero(struct wr *w, size_t n)
{
	uint8_t *p = wr_take(w, n);
	if (p)
		memset(p, 0, n);
}

/* Overwrite two bytes already written at absolute offset off. */
static inline void wr_be16_at(struct wr *w, size_t off, uint16_t v)
{
	if (w->err || off + 2 > w->pos) {
		w->err = true;
		return;
	}
	w->data[off] = (uint8_t)(v >> 8);
	w->data[off + 1] = (uint8_t)v;
}

/* Plain big-endian loads and stores on memory the caller has already
 * bounds-checked (a header obtained from rd_take or wr_take). */
static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
