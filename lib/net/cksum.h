/*
 * cksum.h - the Internet checksum (RFC 1071): the 16-bit ones' complement
 * of the ones' complement sum, used by IPv4, ICMP and UDP.
 *
 * struct csum accumulates over any number of pieces of any length, so a
 * datagram split across buffers at odd offsets sums as if contiguous.
 */
#ifndef ATOLL_NET_CKSUM_H
#define ATOLL_NET_CKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pkt;

struct csum {
	uint64_t sum;
	bool odd; /* an odd number of bytes so far: the next byte is a low byte */
};

static inline struct csum csum_start(void)
{
	struct csum c = {0, false};
	return c;
}

void csum_add(struct csum *c, const void *data, size_t len);

static inline void csum_add16(struct csum *c, uint16_t v)
{
	/* What csum_add of the two bytes (v >> 8, v) does, without the
	 * call: at an odd position they land byte-swapped. */
	c->sum += c->odd ? (uint16_t)(v << 8 | v >> 8) : v;
}

static inline void csum_add32(struct csum *c, uint32_t v)
{
	csum_add16(c, (uint16_t)(v >> 16));
	csum_add16(c, (uint16_t)v);
}

/* Bytes [off, off+len) of a chain (stops early if the chain ends). */
void csum_add_chain(struct csum *c, const struct pkt *p, size_t off, size_t len);
/* The value to put in a checksum field (the complement of the sum).  A
 * received message whose field is included verifies when this is 0. */
uint16_t csum_fold(const struct csum *c);

/* RFC 768 / RFC 9293 3.1: the pseudo-header of UDP and TCP. */
static inline void csum_add_pseudo(struct csum *c, uint32_t src, uint32_t dst, uint8_t proto,
				   uint16_t len)
{
	csum_add32(c, src);
	csum_add32(c, dst);
	csum_add16(c, proto);
	csum_add16(c, len);
}

/* The checksum of len bytes at data on their own (an IPv4 header): what
 * csum_fold gives after csum_add of them alone.  0 when data holds its
 * own correct checksum. */
uint16_t csum_bytes(const void *data, size_t len);

/* csum_bytes of an IPv4 header without options (20 bytes), inline: one
 * of these is checked and one written for every datagram.  The sum is
 * taken over five 32-bit words in host order and folded (RFC 1071 2:
 * the one's complement sum does not depend on the byte order, but comes
 * out swapped). */
static inline uint16_t csum_ip4_hdr(const void *h)
{
	uint32_t w[5];
	memcpy(w, h, sizeof w);
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	uint16_t v = (uint16_t)~s;
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first ? (uint16_t)(v << 8 | v >> 8) : v; /* to network order's value */
}

#endif
