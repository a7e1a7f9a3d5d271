/*
 * cksum.c - the Internet checksum: see cksum.h.
 */
#include "net/cksum.h"

#include "net/pkt.h"

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
	/* RFC 1071 2(B): the sum may be taken in any order of 16-bit words
	 * and deferred carries folded at the end; 64 bits never overflow for
	 * anything shorter than 2^48 bytes. */
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len) {
		sum += (uint32_t)b[i] << 8;
		c->odd = true;
	}
	c->sum = sum;
}

void csum_add16(struct csum *c, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	csum_add(c, b, 2);
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
