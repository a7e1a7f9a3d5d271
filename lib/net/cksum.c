/*
 * cksum.c - the Internet checksum: see cksum.h.
 */
#include "net/cksum.h"

#include <string.h>

#include "net/pkt.h"

/* The one's complement sum of the even number n of bytes at b, taken in
 * the machine's own byte order eight bytes at a time, folded to 16 bits.
 * RFC 1071 2(A)/(B): the sum is independent of byte order up to a swap of
 * the result, and 32-bit halves may be added whole because 2^16 is 1
 * modulo 0xffff; 64 bits hold the carries of any datagram. */
static uint16_t sum_native(const uint8_t *b, size_t n)
{
	uint64_t acc = 0;
	for (; n >= 8; b += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		acc += (v & 0xffffffffu) + (v >> 32);
	}
	for (; n >= 2; b += 2, n -= 2) {
		uint16_t v;
		memcpy(&v, b, 2);
		acc += v;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
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
	const uint16_t one = 1;
	uint8_t little;
	memcpy(&little, &one, 1);
	/* The running sum is kept in network order: swap on little-endian. */
	sum += little ? (uint16_t)(native << 8 | native >> 8) : native;
	i += even;
	if (i < len) {
		sum += (uint32_t)b[i] << 8;
		c->odd = true;
	}
	c->sum = sum;
}

void csum_add16(struct csum *c, uint16_t v)
{
	/* What csum_add of the two bytes (v >> 8, v) does, without the
	 * call: at an odd position they land byte-swapped. */
	c->sum += c->odd ? (uint16_t)(v << 8 | v >> 8) : v;
}

void csum_add32(struct csum *c, uint32_t v)
{
	csum_add16(c, (uint16_t)(v >> 16));
	csum_add16(c, (uint16_t)v);
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
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void csum_add_pseudo(struct csum *c, uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	csum_add32(c, src);
	csum_add32(c, dst);
	csum_add16(c, proto);
	csum_add16(c, len);
}
