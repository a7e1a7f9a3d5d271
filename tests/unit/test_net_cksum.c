/*
 * test_net_cksum.c - the Internet checksum (RFC 1071) against the
 * textbook one of test_net.h: every length and alignment, sums split at
 * odd places, all-ones data (the most carries), and over buffer chains.
 */
#include "net/cksum.h"
#include "test_net.h"

static uint8_t data[4096 + 16];

static void fill(uint64_t seed)
{
	for (size_t i = 0; i < sizeof data; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		data[i] = (uint8_t)(seed >> 56);
	}
}

TEST(csum_bytes_every_length_and_alignment)
{
	for (unsigned round = 0; round < 2; round++) {
		if (round == 0)
			fill(1);
		else
			memset(data, 0xff, sizeof data);
		for (size_t align = 0; align < 8; align++)
			for (size_t len = 0; len <= 300; len++)
				CHECK_EQ(csum_bytes(data + align, len), t_csum(data + align, len));
		CHECK_EQ(csum_bytes(data + 3, 4096), t_csum(data + 3, 4096));
	}
}

TEST(csum_ip4_hdr_is_csum_bytes_of_20)
{
	/* Random headers at every alignment, all ones, all zeros, and the
	 * sums whose carries fold twice. */
	for (unsigned seed = 1; seed < 2000; seed++) {
		fill(seed);
		for (size_t align = 0; align < 8; align++)
			CHECK_EQ(csum_ip4_hdr(data + align), csum_bytes(data + align, 20));
	}
	memset(data, 0xff, 20);
	CHECK_EQ(csum_ip4_hdr(data), csum_bytes(data, 20));
	memset(data, 0, 20);
	CHECK_EQ(csum_ip4_hdr(data), 0xffff);
	memset(data, 0xff, 18);
	CHECK_EQ(csum_ip4_hdr(data), csum_bytes(data, 20));
}

TEST(csum_add_in_pieces_is_the_whole)
{
	fill(7);
	for (size_t len = 0; len <= 200; len++) {
		uint16_t want = t_csum(data + 1, len);
		for (size_t cut = 0; cut <= len; cut += 1 + cut / 3) {
			struct csum c = csum_start();
			csum_add(&c, data + 1, cut);
			csum_add(&c, data + 1 + cut, len - cut);
			CHECK_EQ(csum_fold(&c), want);
		}
	}
	/* The pseudo-header and 16-bit words, at even and odd positions. */
	struct csum c = csum_start();
	csum_add_pseudo(&c, IP_US, IP_PEER, 17, 300);
	csum_add(&c, data, 301);
	csum_add16(&c, 0x1234);
	uint8_t tail[2] = {0x12, 0x34};
	uint32_t want = t_sum(data, 301, t_pseudo(IP_US, IP_PEER, 17, 300));
	/* After 301 bytes the 16-bit word is at an odd offset. */
	uint8_t all[303];
	memcpy(all, data, 301);
	memcpy(all + 301, tail, 2);
	want = t_sum(all, 303, t_pseudo(IP_US, IP_PEER, 17, 300));
	CHECK_EQ(csum_fold(&c), t_fold(want));
}

TEST(csum_add_chain_over_buffers)
{
	static _Alignas(16) uint8_t mem[16 * PKT_SIZE + 4096];
	struct heap h;
	struct pool pool;
	heap_init(&h, mem, sizeof mem);
	CHECK_EQ(pkt_pool_init(&pool, &h, 16), ATL_OK);
	fill(3);
	/* Three buffers of odd lengths: 1001 + 3 + 777 bytes. */
	size_t lens[3] = {1001, 3, 777}, off = 0;
	struct pkt *head = NULL, *tail = NULL;
	for (unsigned i = 0; i < 3; i++) {
		struct pkt *p = pkt_alloc(&pool);
		struct wr w = pkt_wr(p);
		wr_bytes(&w, data + off, lens[i]);
		p->len = (uint16_t)w.pos;
		off += lens[i];
		if (tail)
			tail->more = p;
		else
			head = p;
		tail = p;
	}
	for (size_t from = 0; from < off; from += 97) {
		struct csum c = csum_start();
		csum_add_chain(&c, head, from, off - from);
		CHECK_EQ(csum_fold(&c), t_csum(data + from, off - from));
	}
	pkt_free(&pool, head);
	CHECK_EQ(pool.in_use, 0);
}

TEST_MAIN(TEST_ENTRY(csum_bytes_every_length_and_alignment),
	  TEST_ENTRY(csum_ip4_hdr_is_csum_bytes_of_20), TEST_ENTRY(csum_add_in_pieces_is_the_whole),
	  TEST_ENTRY(csum_add_chain_over_buffers))
