/*
 * cksum.c - the Internet checksum: see cksum.h.
 */
#include "net/cksum.h"

#include <string.h>

#include "net/pkt.h"

/* The ones' complement sum of the even number n of bytes at b, taken in
 * the machine's own byte order eight bytes at a time, folded to 16 bits.
 * RFC 1071 2(A)/(B): the sum is independent of byte order up to a swap of
 * the result, and it may be taken over 64-bit words whose carries are
 * added back in (end-around carry): 2^64 is 1 modulo 0xffff. */
static uint16_t sum_native(const uint8_t *b, size_t n)
{
	uint64_t acc = 0, v, w;
	for (; n >= 16; b += 16, n -= 16) {
		memcpy(&v, b, 8);
		memcpy(&w, b + 8, 8);
		acc += v;
		acc += acc < v;
		acc += w;
		acc += acc < w;
	}
	if (n >= 8) {
		memcpy(&v, b, 8);
		acc += v;
		acc += acc < v;
		b += 8;
		n -= 8;
	}
	/* Folded below 2^33: what is left cannot carry out of 64 bits. */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	if (n >= 4) {
		uint32_t u;
		memcpy(&u, b, 4);
		acc += u;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t u;
		memcpy(&u, b, 2);
		acc += u;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static bool little_endian(void)
{
	const uint16_t one = 1;
	uint8_t little;
	memcpy(&little, &one, 1);
	return little;
}

void csum_add(struct csum *c, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i = 0;
	uint64_t sum = c->sum;
	if (len && c->odd) {
		sum += b[0];
		i = 1;
		c->odd = false;
	}
	size_t even = (len - i) & ~(size_t)1;
	uint16_t native = sum_native(b + i, even);
	/* The running sum is kept in network order: swap on little-endian. */
	sum += little_endian() ? (uint16_t)(native << 8 | native >> 8) : native;
	i += even;
	if (i < len) {
		sum += (uint32_t)b[i] << 8;
		c->odd = true;
	}
	c->sum = sum;
}

void csum_add_chain(struct csum *c, const struct pkt *p, size_t off, size_t len)
{
	for (; p && len; p = p->more) {
		struct rd r = pkt_rd(p);
		if (off >= r.len) {
			off -= r.len;
			continue;
		}
		rd_skip(&r, off);
		size_t k = rd_left(&r) < len ? rd_left(&r) : len;
		csum_add(c, rd_take(&r, k), k);
		len -= k;
		off = 0;
	}
}

uint16_t csum_fold(const struct csum *c)
{
	uint64_t s = c->sum;
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint16_t csum_bytes(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint16_t native = sum_native(b, len & ~(size_t)1);
	uint32_t sum = little_endian() ? (uint16_t)(native << 8 | native >> 8) : native;
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
