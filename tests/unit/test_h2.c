/*
 * test_h2.c - unit tests of lib/http's HTTP/2 core, written from h2.h's
 * contract and the RFCs: HPACK (RFC 7541: every example of Appendix C,
 * integers, Huffman strings and the tables behind them, the dynamic table
 * and its evictions, the encoders) and the frame layer (RFC 9113), driven
 * with hand-built frames as a client would send them: the prefaces,
 * SETTINGS, PING, GOAWAY, WINDOW_UPDATE, streams and their states, header
 * blocks over CONTINUATION, malformed requests, flow control both ways,
 * and the attack mitigations of RFC 9113 10.5 (rapid reset, CONTINUATION
 * flood, HPACK bomb, PING and SETTINGS floods, a client that never
 * reads).  Tests are named after the section they check, h2spec-style.
 */
#include <stdlib.h>

#include "core/err.h"
#include "http/h2.h"
#include "test.h"

#define F_END_STREAM  0x1
#define F_ACK	      0x1
#define F_END_HEADERS 0x4
#define F_PADDED      0x8
#define F_PRIORITY    0x20

#define S_HEADER_TABLE_SIZE	 0x1
#define S_ENABLE_PUSH		 0x2
#define S_MAX_CONCURRENT_STREAMS 0x3
#define S_INITIAL_WINDOW_SIZE	 0x4
#define S_MAX_FRAME_SIZE	 0x5
#define S_MAX_HEADER_LIST_SIZE	 0x6

#define WINDOW_MAX 0x7fffffffu

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = hex; p[0] && p[1]; p += 2) {
		unsigned v;
		if (sscanf(p, "%2x", &v) != 1 || n == cap)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

static bool span_is(struct http_span s, const char *want)
{
	return s.n == strlen(want) && (s.n == 0 || (s.p && memcmp(s.p, want, s.n) == 0));
}

/* ==== HPACK (RFC 7541) ==== */

static struct hpack_dec D;
static uint8_t scratch[H2_FIELD_BYTES];
static struct hpack_field F[H2_FIELDS_MAX];
static unsigned NF;

static int decode_bytes(const uint8_t *in, size_t len)
{
	NF = 12345;
	int rc = hpack_decode(&D, in, len, scratch, sizeof scratch, F, H2_FIELDS_MAX, &NF);
	CHECK(NF <= H2_FIELDS_MAX);
	CHECK(D.size <= D.max);
	CHECK(D.max <= H2_TABLE_SIZE);
	return rc;
}

static int decode_hex(const char *hex)
{
	static uint8_t in[4096];
	return decode_bytes(in, unhex(hex, in, sizeof in));
}

static bool field_is(unsigned i, const char *name, const char *value)
{
	return i < NF && span_is(F[i].name, name) && span_is(F[i].value, value);
}

/* The dynamic table's entry at HPACK index i (62: the newest), via an
 * indexed field in a block of its own. */
static bool entry_is(uint32_t index, const char *name, const char *value)
{
	uint8_t in[8];
	size_t n = 0;
	if (index < 127) {
		in[n++] = (uint8_t)(0x80 | index);
	} else {
		in[n++] = 0xff;
		uint32_t v = index - 127;
		while (v >= 128) {
			in[n++] = (uint8_t)(0x80 | (v & 0x7f));
			v >>= 7;
		}
		in[n++] = (uint8_t)v;
	}
	return decode_bytes(in, n) == 0 && NF == 1 && field_is(0, name, value);
}

/* The table's own bookkeeping (RFC 7541 4.1): size is the sum of the
 * entries' lengths plus 32 each, entries back to back from buf[0]. */
static void check_table(void)
{
	uint32_t sum = 0, off = 0;
	for (unsigned i = 0; i < D.n; i++) {
		CHECK_EQ(D.ent[i].off, off);
		off += D.ent[i].nlen + D.ent[i].vlen;
		sum += D.ent[i].nlen + D.ent[i].vlen + 32u;
	}
	CHECK_EQ(D.size, sum);
	CHECK(D.size <= D.max);
}

TEST(rfc7541_c1_integer_representation)
{
	/* Integers are seen through the dynamic table size update (5-bit
	 * prefix): C.1.1, 10 on 5 bits; C.1.2, 1337 on 5 bits. */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("2a"), 0);
	CHECK_EQ(D.max, 10);
	CHECK_EQ(NF, 0);
	CHECK_EQ(decode_hex("3f9a0a"), 0);
	CHECK_EQ(D.max, 1337);
	/* prefix boundaries: 30 fits, 31 needs a zero continuation byte */
	CHECK_EQ(decode_hex("3e"), 0);
	CHECK_EQ(D.max, 30);
	CHECK_EQ(decode_hex("3f00"), 0);
	CHECK_EQ(D.max, 31);
	CHECK_EQ(decode_hex("3f01"), 0);
	CHECK_EQ(D.max, 32);
	CHECK_EQ(decode_hex("3f7f"), 0); /* 31 + 127 */
	CHECK_EQ(D.max, 158);
	CHECK_EQ(decode_hex("3f8001"), 0); /* 31 + 128 */
	CHECK_EQ(D.max, 159);
	CHECK_EQ(decode_hex("3fe11f"), 0); /* 4096 */
	CHECK_EQ(D.max, 4096);
	/* truncated integers */
	CHECK_EQ(decode_hex("3f"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("3f80"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("ff"), H2_COMPRESSION_ERROR);
	/* RFC 7541 5.1: excessively large encodings are errors */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("3fffffffff0f"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("ffffffffff7f"), H2_COMPRESSION_ERROR);
}

TEST(rfc7541_5_1_prefixes_of_every_representation)
{
	hpack_dec_init(&D);
	/* 4-bit name index: 14 fits (:status), 15 takes a byte more */
	CHECK_EQ(decode_hex("0e0135"), 0);
	CHECK(field_is(0, ":status", "5"));
	CHECK_EQ(decode_hex("0f000178"), 0);
	CHECK(field_is(0, "accept-charset", "x"));
	CHECK_EQ(decode_hex("1f000178"), 0); /* never indexed */
	CHECK(field_is(0, "accept-charset", "x"));
	/* 7-bit indexes across the prefix: 67 dynamic entries reach 128 */
	for (unsigned i = 0; i < 67; i++) {
		uint8_t b[8] = {
		    0x40, 0x02, 'k', (uint8_t)('a' + i % 26), 0x02, 'v', (uint8_t)('a' + i / 26)};
		CHECK_EQ(decode_bytes(b, 7), 0);
	}
	CHECK_EQ(D.n, 67);
	check_table();
	/* entry 62 is the newest (i = 66), 128 the oldest (i = 0) */
	CHECK(entry_is(62, "ko", "vc"));
	CHECK(entry_is(126, "kc", "va"));
	CHECK(entry_is(127, "kb", "va"));
	CHECK(entry_is(128, "ka", "va"));
	CHECK(!entry_is(129, "", ""));
	hpack_dec_init(&D);
	/* 6-bit name index 63 (0x7f 0x00) */
	CHECK_EQ(decode_hex("4001610162"), 0);
	CHECK_EQ(decode_hex("4001630164"), 0);
	CHECK_EQ(decode_hex("7f00017a"), 0);
	CHECK(field_is(0, "a", "z"));
	/* 7-bit string lengths: 126, 127, 128 */
	for (unsigned len = 126; len <= 128; len++) {
		uint8_t b[200];
		size_t n = 0;
		b[n++] = 0x04; /* :path, without indexing */
		if (len < 127) {
			b[n++] = (uint8_t)len;
		} else {
			b[n++] = 0x7f;
			b[n++] = (uint8_t)(len - 127);
		}
		memset(b + n, '/', len);
		n += len;
		CHECK_EQ(decode_bytes(b, n), 0);
		CHECK_EQ(NF, 1);
		CHECK_EQ(F[0].value.n, len);
		/* one byte short */
		CHECK_EQ(decode_bytes(b, n - 1), H2_COMPRESSION_ERROR);
		hpack_dec_init(&D);
	}
}

TEST(rfc7541_c2_1_literal_with_indexing)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"), 0);
	CHECK_EQ(NF, 1);
	CHECK(field_is(0, "custom-key", "custom-header"));
	CHECK_EQ(D.n, 1);
	CHECK_EQ(D.size, 55);
	check_table();
	CHECK(entry_is(62, "custom-key", "custom-header"));
}

TEST(rfc7541_c2_2_literal_without_indexing)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("040c2f73616d706c652f70617468"), 0);
	CHECK_EQ(NF, 1);
	CHECK(field_is(0, ":path", "/sample/path"));
	CHECK_EQ(D.n, 0);
	CHECK_EQ(D.size, 0);
}

TEST(rfc7541_c2_3_literal_never_indexed)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("100870617373776f726406736563726574"), 0);
	CHECK_EQ(NF, 1);
	CHECK(field_is(0, "password", "secret"));
	CHECK_EQ(D.n, 0);
	CHECK_EQ(D.size, 0);
}

TEST(rfc7541_c2_4_indexed_field)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("82"), 0);
	CHECK_EQ(NF, 1);
	CHECK(field_is(0, ":method", "GET"));
	CHECK_EQ(D.n, 0);
	CHECK_EQ(D.size, 0);
}

/* C.3 and C.4 decode to the same lists, and leave the same tables. */
static void check_requests(const char *hex1, const char *hex2, const char *hex3)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex(hex1), 0);
	CHECK_EQ(NF, 4);
	CHECK(field_is(0, ":method", "GET"));
	CHECK(field_is(1, ":scheme", "http"));
	CHECK(field_is(2, ":path", "/"));
	CHECK(field_is(3, ":authority", "www.example.com"));
	CHECK_EQ(D.n, 1);
	CHECK_EQ(D.size, 57);
	check_table();

	CHECK_EQ(decode_hex(hex2), 0);
	CHECK_EQ(NF, 5);
	CHECK(field_is(0, ":method", "GET"));
	CHECK(field_is(1, ":scheme", "http"));
	CHECK(field_is(2, ":path", "/"));
	CHECK(field_is(3, ":authority", "www.example.com"));
	CHECK(field_is(4, "cache-control", "no-cache"));
	CHECK_EQ(D.n, 2);
	CHECK_EQ(D.size, 110);
	check_table();

	CHECK_EQ(decode_hex(hex3), 0);
	CHECK_EQ(NF, 5);
	CHECK(field_is(0, ":method", "GET"));
	CHECK(field_is(1, ":scheme", "https"));
	CHECK(field_is(2, ":path", "/index.html"));
	CHECK(field_is(3, ":authority", "www.example.com"));
	CHECK(field_is(4, "custom-key", "custom-value"));
	CHECK_EQ(D.n, 3);
	CHECK_EQ(D.size, 164);
	check_table();
	CHECK(entry_is(62, "custom-key", "custom-value"));
	CHECK(entry_is(63, "cache-control", "no-cache"));
	CHECK(entry_is(64, ":authority", "www.example.com"));
	CHECK_EQ(decode_hex("c1"), H2_COMPRESSION_ERROR);
}

TEST(rfc7541_c3_requests_without_huffman)
{
	check_requests("828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
		       "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565");
}

TEST(rfc7541_c4_requests_with_huffman)
{
	check_requests("828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
		       "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
}

/* C.5 and C.6: a 256-byte table, evictions in the second and third. */
static void check_responses(const char *hex1, const char *hex2, const char *hex3)
{
	CHECK_EQ(decode_hex(hex1), 0);
	CHECK_EQ(D.max, 256);
	CHECK_EQ(NF, 4);
	CHECK(field_is(0, ":status", "302"));
	CHECK(field_is(1, "cache-control", "private"));
	CHECK(field_is(2, "date", "Mon, 21 Oct 2013 20:13:21 GMT"));
	CHECK(field_is(3, "location", "https://www.example.com"));
	CHECK_EQ(D.n, 4);
	CHECK_EQ(D.size, 222);
	check_table();

	CHECK_EQ(decode_hex(hex2), 0);
	CHECK_EQ(NF, 4);
	CHECK(field_is(0, ":status", "307"));
	CHECK(field_is(1, "cache-control", "private"));
	CHECK(field_is(2, "date", "Mon, 21 Oct 2013 20:13:21 GMT"));
	CHECK(field_is(3, "location", "https://www.example.com"));
	CHECK_EQ(D.n, 4);
	CHECK_EQ(D.size, 222);
	check_table();

	CHECK_EQ(decode_hex(hex3), 0);
	CHECK_EQ(NF, 6);
	CHECK(field_is(0, ":status", "200"));
	CHECK(field_is(1, "cache-control", "private"));
	CHECK(field_is(2, "date", "Mon, 21 Oct 2013 20:13:22 GMT"));
	CHECK(field_is(3, "location", "https://www.example.com"));
	CHECK(field_is(4, "content-encoding", "gzip"));
	CHECK(
	    field_is(5, "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"));
	CHECK_EQ(D.n, 3);
	CHECK_EQ(D.size, 215);
	check_table();
	CHECK(
	    entry_is(62, "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"));
	CHECK(entry_is(63, "content-encoding", "gzip"));
	CHECK(entry_is(64, "date", "Mon, 21 Oct 2013 20:13:22 GMT"));
	CHECK_EQ(decode_hex("c1"), H2_COMPRESSION_ERROR);
}

TEST(rfc7541_c5_responses_without_huffman)
{
	/* SETTINGS_HEADER_TABLE_SIZE 256: the encoder says so first (6.3) */
	hpack_dec_init(&D);
	check_responses(
	    "3fe101"
	    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a3133"
	    "3a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
	    "4803333037c1c0bf",
	    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a"
	    "69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d"
	    "61782d6167653d333630303b2076657273696f6e3d31");
}

TEST(rfc7541_c6_responses_with_huffman)
{
	hpack_dec_init(&D);
	D.max = 256;
	check_responses(
	    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e91"
	    "9d29ad171863c78f0b97c8e9ae82ae43d3",
	    "4883640effc1c0bf",
	    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821d"
	    "d7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b106"
	    "3d5007");
}

/* ---- Huffman (RFC 7541 5.2, Appendix B) ---- */

static uint32_t huff_code[257]; /* derived from hpack_huff_len alone */

/* The canonical code from the lengths: symbols in (length, symbol) order,
 * each code one more than the last, shifted left when the length grows. */
static void huff_derive(uint16_t order[257], uint8_t count[31])
{
	unsigned k = 0;
	memset(count, 0, 31);
	for (unsigned len = 1; len <= 30; len++)
		for (unsigned s = 0; s < 257; s++)
			if (hpack_huff_len[s] == len) {
				order[k++] = (uint16_t)s;
				count[len]++;
			}
	CHECK_EQ(k, 257);
	uint32_t code = 0;
	unsigned prev = hpack_huff_len[order[0]];
	for (unsigned i = 0; i < 257; i++) {
		unsigned len = hpack_huff_len[order[i]];
		code <<= len - prev;
		prev = len;
		huff_code[order[i]] = code++;
	}
}

/* Encode with the derived code, padding with the EOS prefix (all ones). */
static size_t huff_encode(const uint8_t *s, size_t n, uint8_t *out)
{
	uint64_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << hpack_huff_len[s[i]] | huff_code[s[i]];
		bits += hpack_huff_len[s[i]];
		while (bits >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits)
		out[o++] = (uint8_t)(acc << (8 - bits) | (0xffu >> bits));
	return o;
}

TEST(rfc7541_appendix_b_tables_are_one_canonical_code)
{
	uint16_t order[257];
	uint8_t count[31];
	huff_derive(order, count);
	CHECK_MEM(order, hpack_huff_order, sizeof order);
	CHECK_MEM(count, hpack_huff_count, sizeof count);
	/* Kraft: a complete prefix code, sum of 2^-len is exactly 1 */
	uint64_t kraft = 0;
	for (unsigned s = 0; s < 257; s++) {
		CHECK(hpack_huff_len[s] >= 5 && hpack_huff_len[s] <= 30);
		kraft += 1ull << (30 - hpack_huff_len[s]);
	}
	CHECK_EQ(kraft, 1ull << 30);
	/* the hexadecimal column of Appendix B */
	static const struct {
		unsigned sym;
		uint32_t code;
		unsigned len;
	} b[] = {
	    {0, 0x1ff8, 13},	 {1, 0x7fffd8, 23},    {9, 0xffffea, 24},    {10, 0x3ffffffc, 30},
	    {' ', 0x14, 6},	 {'0', 0x0, 5},	       {':', 0x5c, 7},	     {'<', 0x7ffc, 15},
	    {'\\', 0x7fff0, 19}, {'a', 0x3, 5},	       {'z', 0x7b, 7},	     {127, 0xffffffc, 28},
	    {128, 0xfffe6, 20},	 {200, 0x3ffffe2, 26}, {255, 0x3ffffee, 26}, {256, 0x3fffffff, 30},
	};
	for (unsigned i = 0; i < sizeof b / sizeof b[0]; i++) {
		CHECK_EQ(hpack_huff_len[b[i].sym], b[i].len);
		CHECK_EQ(huff_code[b[i].sym], b[i].code);
		if (b[i].sym == 256)
			continue;
		/* the code's bits by hand, then the EOS prefix as padding */
		uint8_t in[8], out[4];
		size_t n = 0;
		unsigned acc = 0, bits = 0;
		for (int k = (int)b[i].len - 1; k >= 0; k--) {
			acc = acc << 1 | ((b[i].code >> k) & 1);
			if (++bits == 8) {
				in[n++] = (uint8_t)acc;
				acc = bits = 0;
			}
		}
		if (bits)
			in[n++] = (uint8_t)(acc << (8 - bits) | (0xffu >> bits));
		CHECK_EQ(hpack_huffman_decode(in, n, out, sizeof out), 1);
		CHECK_EQ(out[0], b[i].sym);
	}
}

TEST(rfc7541_5_2_huffman_decode)
{
	uint8_t in[64], out[64];
	static const struct {
		const char *hex, *text;
	} v[] = {
	    {"f1e3c2e5f23a6ba0ab90f4ff", "www.example.com"},
	    {"a8eb10649cbf", "no-cache"},
	    {"25a849e95ba97d7f", "custom-key"},
	    {"25a849e95bb8e8b4bf", "custom-value"},
	    {"6402", "302"},
	    {"640eff", "307"},
	    {"aec3771a4b", "private"},
	    {"d07abe941054d444a8200595040b8166e082a62d1bff", "Mon, 21 Oct 2013 20:13:21 GMT"},
	    {"9d29ad171863c78f0b97c8e9ae82ae43d3", "https://www.example.com"},
	    {"9bd9ab", "gzip"},
	    {"", ""},
	};
	for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = unhex(v[i].hex, in, sizeof in);
		long k = hpack_huffman_decode(in, n, out, sizeof out);
		CHECK_EQ(k, (long)strlen(v[i].text));
		CHECK(k >= 0 && memcmp(out, v[i].text, (size_t)k) == 0);
		if (k > 0)
			CHECK_EQ(hpack_huffman_decode(in, n, out, (size_t)k - 1), -2);
	}
	/* every byte value round-trips through the derived encoder */
	uint16_t order[257];
	uint8_t count[31];
	huff_derive(order, count);
	static uint8_t all[256], enc[1024], dec[256];
	for (unsigned i = 0; i < 256; i++)
		all[i] = (uint8_t)(255 - i);
	size_t n = huff_encode(all, sizeof all, enc);
	CHECK_EQ(hpack_huffman_decode(enc, n, dec, sizeof dec), 256);
	CHECK_MEM(dec, all, sizeof all);
	CHECK_EQ(hpack_huffman_decode(enc, n, dec, 255), -2);
}

TEST(rfc7541_5_2_huffman_padding_and_eos)
{
	uint8_t out[16];
	/* "0" is 00000: three bits of padding, all ones */
	static const uint8_t ok[] = {0x07};
	CHECK_EQ(hpack_huffman_decode(ok, 1, out, sizeof out), 1);
	CHECK_EQ(out[0], '0');
	/* padding longer than 7 bits */
	static const uint8_t longpad[] = {0x07, 0xff};
	CHECK_EQ(hpack_huffman_decode(longpad, 2, out, sizeof out), -1);
	static const uint8_t onlypad[] = {0xff};
	CHECK_EQ(hpack_huffman_decode(onlypad, 1, out, sizeof out), -1);
	/* padding not all ones */
	static const uint8_t zeropad[] = {0x00};
	CHECK_EQ(hpack_huffman_decode(zeropad, 1, out, sizeof out), -1);
	static const uint8_t mixpad[] = {0x06};
	CHECK_EQ(hpack_huffman_decode(mixpad, 1, out, sizeof out), -1);
	static const uint8_t mixpad2[] = {0x05};
	CHECK_EQ(hpack_huffman_decode(mixpad2, 1, out, sizeof out), -1);
	/* EOS (30 ones) inside the string, alone or after a symbol */
	static const uint8_t eos[] = {0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(hpack_huffman_decode(eos, 4, out, sizeof out), -1);
	/* '0' (00000) then EOS (30 ones) then 5 bits of padding */
	static const uint8_t sym_eos[] = {0x07, 0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(hpack_huffman_decode(sym_eos, 5, out, sizeof out), -1);
	/* a Huffman string with bad padding inside a block is a
	 * COMPRESSION_ERROR: :path, Huffman, one byte 0x00 */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("048100"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("048107"), 0);
	CHECK(field_is(0, ":path", "0"));
}

/* ---- the table (RFC 7541 2.3, 4) ---- */

TEST(rfc7541_2_3_3_index_zero_and_out_of_range)
{
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("80"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("bd"), 0); /* 61, the last static entry */
	CHECK(field_is(0, "www-authenticate", ""));
	CHECK_EQ(decode_hex("be"), H2_COMPRESSION_ERROR); /* 62, empty table */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("7e0178"), H2_COMPRESSION_ERROR); /* name 62 */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("0f2f0178"), H2_COMPRESSION_ERROR); /* name 62, 4-bit */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("4001610162"), 0);
	CHECK(entry_is(62, "a", "b"));
	CHECK_EQ(decode_hex("bf"), H2_COMPRESSION_ERROR);
	/* literal name index 0 means a literal name; value cut short */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("000161"), H2_COMPRESSION_ERROR);
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("00036162"), H2_COMPRESSION_ERROR);
}

TEST(rfc7541_6_3_dynamic_table_size_update)
{
	hpack_dec_init(&D);
	CHECK_EQ(D.max, 4096);
	CHECK_EQ(decode_hex("3fe21f"), H2_COMPRESSION_ERROR); /* 4097 */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("823f00"), H2_COMPRESSION_ERROR); /* after a field */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("20"
			    "3fe11f"
			    "82"),
		 0); /* two at the start (4.2) */
	CHECK_EQ(D.max, 4096);
	CHECK_EQ(NF, 1);
	/* shrinking evicts (4.3): after C.3, 110 keeps the two newest */
	check_requests("828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
		       "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565");
	CHECK_EQ(decode_hex("3f4f"), 0);
	CHECK_EQ(D.max, 110);
	CHECK_EQ(D.n, 2);
	CHECK_EQ(D.size, 107);
	check_table();
	CHECK(entry_is(62, "custom-key", "custom-value"));
	CHECK(entry_is(63, "cache-control", "no-cache"));
	/* 0 empties it; entries then do not stay */
	CHECK_EQ(decode_hex("20"), 0);
	CHECK_EQ(D.n, 0);
	CHECK_EQ(D.size, 0);
	CHECK_EQ(decode_hex("4001610162"), 0);
	CHECK(field_is(0, "a", "b"));
	CHECK_EQ(D.n, 0);
	/* and back up again */
	CHECK_EQ(decode_hex("3fe11f4001610162"), 0);
	CHECK_EQ(D.n, 1);
}

TEST(rfc7541_4_4_entry_eviction)
{
	hpack_dec_init(&D);
	/* 100 bytes: two entries of 34, a third evicts the oldest */
	CHECK_EQ(decode_hex("3f45"
			    "4001610131"
			    "4001620132"),
		 0);
	CHECK_EQ(D.n, 2);
	CHECK_EQ(D.size, 68);
	CHECK_EQ(decode_hex("4001630133"), 0);
	CHECK_EQ(D.n, 2);
	CHECK_EQ(D.size, 68);
	check_table();
	CHECK(entry_is(62, "c", "3"));
	CHECK(entry_is(63, "b", "2"));
	CHECK(!entry_is(64, "a", "1"));
	/* exactly the table's size: fits, alone */
	static uint8_t b[200];
	size_t n = 0;
	b[n++] = 0x40;
	b[n++] = 1;
	b[n++] = 'x';
	b[n++] = 67;
	memset(b + n, 'v', 67);
	n += 67;
	CHECK_EQ(decode_bytes(b, n), 0);
	CHECK_EQ(D.n, 1);
	CHECK_EQ(D.size, 100);
	check_table();
	/* larger than the table: the table empties, the field still decodes */
	b[3] = 68;
	memset(b + 4, 'w', 68);
	CHECK_EQ(decode_bytes(b, n + 1), 0);
	CHECK_EQ(NF, 1);
	CHECK_EQ(F[0].value.n, 68);
	CHECK_EQ(D.n, 0);
	CHECK_EQ(D.size, 0);
	/* a new entry naming the entry its addition evicts (4.4) */
	hpack_dec_init(&D);
	CHECK_EQ(decode_hex("3f07"
			    "400361626303646566"),
		 0);
	CHECK_EQ(D.size, 38);
	CHECK_EQ(decode_hex("7e0378797a"), 0);
	CHECK(field_is(0, "abc", "xyz"));
	CHECK_EQ(D.n, 1);
	CHECK_EQ(D.size, 38);
	CHECK(entry_is(62, "abc", "xyz"));
	/* a field indexed from the table survives the table changing later
	 * in the same block */
	CHECK_EQ(decode_hex("be"
			    "400371717103727272"),
		 0);
	CHECK_EQ(NF, 2);
	CHECK(field_is(0, "abc", "xyz"));
	CHECK(field_is(1, "qqq", "rrr"));
	CHECK(entry_is(62, "qqq", "rrr"));
}

TEST(rfc7541_7_limits_fields_and_bytes)
{
	static uint8_t b[20000];
	/* more fields than max */
	memset(b, 0x82, 65);
	hpack_dec_init(&D);
	CHECK_EQ(decode_bytes(b, 64), 0);
	CHECK_EQ(NF, 64);
	CHECK_EQ(decode_bytes(b, 65), H2_ENHANCE_YOUR_CALM);
	/* more bytes than the scratch: a small cap */
	hpack_dec_init(&D);
	unsigned n;
	size_t len = unhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572", b, sizeof b);
	CHECK_EQ(hpack_decode(&D, b, len, scratch, 22, F, H2_FIELDS_MAX, &n), H2_ENHANCE_YOUR_CALM);
	hpack_dec_init(&D);
	CHECK_EQ(hpack_decode(&D, b, len, scratch, 23, F, H2_FIELDS_MAX, &n), 0);
	/* Huffman output past the cap */
	hpack_dec_init(&D);
	len = unhex("828684418cf1e3c2e5f23a6ba0ab90f4ff", b, sizeof b);
	CHECK_EQ(hpack_decode(&D, b, len, scratch, 14, F, H2_FIELDS_MAX, &n), H2_ENHANCE_YOUR_CALM);
	/* an HPACK bomb: one 4000-byte entry indexed again and again */
	hpack_dec_init(&D);
	len = 0;
	b[len++] = 0x40;
	b[len++] = 1;
	b[len++] = 'x';
	b[len++] = 0x7f;
	b[len++] = (4000 - 127) % 128 | 0x80;
	b[len++] = (4000 - 127) / 128;
	memset(b + len, 'A', 4000);
	len += 4000;
	for (unsigned i = 0; i < 40; i++)
		b[len++] = 0xbe;
	CHECK_EQ(decode_bytes(b, len), H2_ENHANCE_YOUR_CALM);
	/* the same with few enough references fits */
	hpack_dec_init(&D);
	CHECK_EQ(decode_bytes(b, len - 37), 0);
	CHECK_EQ(NF, 4);
}

/* ---- the encoders ---- */

TEST(rfc7541_encoders_round_trip)
{
	static const struct {
		int status;
		const char *hex;
	} st[] = {
	    {200, "88"},	 {204, "89"},	      {206, "8a"},	   {304, "8b"},
	    {400, "8c"},	 {404, "8d"},	      {500, "8e"},	   {302, "0803333032"},
	    {100, "0803313030"}, {999, "0803393939"}, {416, "0803343136"},
	};
	for (unsigned i = 0; i < sizeof st / sizeof st[0]; i++) {
		uint8_t out[16], want[16];
		size_t len = 0, wn = unhex(st[i].hex, want, sizeof want);
		CHECK(hpack_encode_status(out, sizeof out, &len, st[i].status));
		CHECK_EQ(len, wn);
		CHECK_MEM(out, want, wn);
		/* too small by any amount: false, nothing written past cap */
		for (size_t cap = 0; cap < wn; cap++) {
			uint8_t g[16];
			memset(g, 0xee, sizeof g);
			size_t l = 0;
			CHECK(!hpack_encode_status(g, cap, &l, st[i].status));
			for (size_t k = cap; k < sizeof g; k++)
				CHECK_EQ(g[k], 0xee);
		}
		hpack_dec_init(&D);
		CHECK_EQ(decode_bytes(out, len), 0);
		CHECK_EQ(NF, 1);
		char v[4];
		snprintf(v, sizeof v, "%d", st[i].status);
		CHECK(field_is(0, ":status", v));
		CHECK_EQ(D.n, 0);
	}
	size_t len = 0;
	uint8_t out[512];
	CHECK(!hpack_encode_status(out, sizeof out, &len, 99));
	CHECK(!hpack_encode_status(out, sizeof out, &len, 1000));

	/* fields: a static name, a new name, a long value; appended */
	static char longv[301];
	memset(longv, 'q', 300);
	static const struct {
		const char *name, *value;
	} fl[] = {
	    {"content-type", "text/html"}, {"x-frame-options", "DENY"}, {"etag", longv},
	    {"www-authenticate", ""},	   {"accept-charset", "utf-8"},
	};
	len = 0;
	CHECK(hpack_encode_status(out, sizeof out, &len, 200));
	for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++)
		CHECK(hpack_encode_field(out, sizeof out, &len, fl[i].name, strlen(fl[i].name),
					 fl[i].value, strlen(fl[i].value)));
	/* content-type by its static index, 31: 4-bit prefix 15 + 16 */
	CHECK_EQ(out[1], 0x0f);
	CHECK_EQ(out[2], 0x10);
	hpack_dec_init(&D);
	CHECK_EQ(decode_bytes(out, len), 0);
	CHECK_EQ(NF, 6);
	CHECK(field_is(0, ":status", "200"));
	for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++)
		CHECK(field_is(i + 1, fl[i].name, fl[i].value));
	CHECK_EQ(D.n, 0); /* never indexed by us */
	/* each field too small by any amount */
	for (size_t cap = 0; cap < 22; cap++) {
		size_t l = 0;
		uint8_t g[32];
		memset(g, 0xee, sizeof g);
		CHECK(!hpack_encode_field(g, cap, &l, "x-frame-options", 15, "DENY", 4));
		for (size_t k = cap; k < sizeof g; k++)
			CHECK_EQ(g[k], 0xee);
	}
	size_t l = 0;
	/* 0x00, a 15-byte name, a 4-byte value, each with its length */
	CHECK(hpack_encode_field(out, 22, &l, "x-frame-options", 15, "DENY", 4));
	CHECK_EQ(l, 22);
}

/* ==== the frame layer (RFC 9113) ==== */

static struct h2_conn H;
static uint8_t wire[1 << 18]; /* what the client sent that the core has not taken */
static size_t wire_len, wire_off;
static struct h2_event ev;

static void put(const void *p, size_t n)
{
	if (wire_len + n > sizeof wire)
		abort();
	if (n)
		memcpy(wire + wire_len, p, n);
	wire_len += n;
}

static void frame_header(size_t len, uint8_t type, uint8_t flags, uint32_t id)
{
	uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags};
	put32(h + 5, id);
	put(h, 9);
}

static void frame(uint8_t type, uint8_t flags, uint32_t id, const void *payload, size_t len)
{
	frame_header(len, type, flags, id);
	put(payload, len);
}

static void settings(unsigned n, const uint16_t *ids, const uint32_t *values)
{
	uint8_t p[60];
	for (unsigned i = 0; i < n; i++) {
		p[6 * i] = (uint8_t)(ids[i] >> 8);
		p[6 * i + 1] = (uint8_t)ids[i];
		put32(p + 6 * i + 2, values[i]);
	}
	frame(H2_SETTINGS, 0, 0, p, 6 * n);
}

static void setting(uint16_t id, uint32_t value)
{
	settings(1, &id, &value);
}

static void window_update(uint32_t id, uint32_t inc)
{
	uint8_t p[4];
	put32(p, inc);
	frame(H2_WINDOW_UPDATE, 0, id, p, 4);
}

static void rst_stream(uint32_t id, uint32_t error)
{
	uint8_t p[4];
	put32(p, error);
	frame(H2_RST_STREAM, 0, id, p, 4);
}

static void ping(uint8_t flags, const char *data8)
{
	frame(H2_PING, flags, 0, data8, 8);
}

static void data(uint32_t id, uint8_t flags, size_t len)
{
	static uint8_t zeros[1 << 14];
	if (len > sizeof zeros)
		abort();
	frame(H2_DATA, flags, id, zeros, len);
}

/*
 * The control frames the core queued since the test last forgot them:
 * those written on H2_EV_CTL (drain does, as a server would) and those
 * still in h->ctl, parsed.
 */
struct cframe {
	uint8_t type, flags;
	uint32_t id;
	const uint8_t *p;
	size_t len;
};
static uint8_t ctl_log[1 << 16], ctl_all[(1 << 16) + H2_CTL_MAX];
static size_t ctl_log_len;
static struct cframe cf[sizeof ctl_all / H2_FRAME_HEADER];
static unsigned ncf;

/* The server wrote h->ctl out. */
static void ctl_write(void)
{
	CHECK(H.ctl_len <= H2_CTL_MAX);
	if (ctl_log_len + H.ctl_len > sizeof ctl_log)
		abort();
	memcpy(ctl_log + ctl_log_len, H.ctl, H.ctl_len);
	ctl_log_len += H.ctl_len;
	h2_conn_ctl_sent(&H);
}

/* The test has looked at what was queued: forget it. */
static void ctl_forget(void)
{
	ctl_log_len = 0;
	h2_conn_ctl_sent(&H);
}

static void ctl_parse(void)
{
	ncf = 0;
	CHECK(H.ctl_len <= H2_CTL_MAX);
	size_t n = ctl_log_len;
	memcpy(ctl_all, ctl_log, n);
	memcpy(ctl_all + n, H.ctl, H.ctl_len < H2_CTL_MAX ? H.ctl_len : H2_CTL_MAX);
	n += H.ctl_len < H2_CTL_MAX ? H.ctl_len : H2_CTL_MAX;
	for (size_t o = 0; o < n;) {
		CHECK(o + H2_FRAME_HEADER <= n);
		if (o + H2_FRAME_HEADER > n)
			return;
		size_t len = be24(ctl_all + o);
		CHECK(o + H2_FRAME_HEADER + len <= n);
		if (o + H2_FRAME_HEADER + len > n)
			return;
		cf[ncf++] = (struct cframe){ctl_all[o + 3], ctl_all[o + 4], be32(ctl_all + o + 5),
					    ctl_all + o + H2_FRAME_HEADER, len};
		o += H2_FRAME_HEADER + len;
	}
}

static const struct cframe *ctl_find(uint8_t type, uint32_t id)
{
	ctl_parse();
	for (unsigned i = 0; i < ncf; i++)
		if (cf[i].type == type && cf[i].id == id)
			return &cf[i];
	return NULL;
}

static unsigned ctl_count(uint8_t type)
{
	ctl_parse();
	unsigned n = 0;
	for (unsigned i = 0; i < ncf; i++)
		n += cf[i].type == type;
	return n;
}

/* The GOAWAY's error code, -1 if none is queued. */
static long goaway_error(void)
{
	const struct cframe *f = ctl_find(H2_GOAWAY, 0);
	if (!f)
		return -1;
	CHECK_EQ(f->len, 8);
	CHECK_EQ(be32(f->p) & WINDOW_MAX, H.last_stream);
	return (long)be32(f->p + 4);
}

static long rst_error(uint32_t id)
{
	const struct cframe *f = ctl_find(H2_RST_STREAM, id);
	if (!f)
		return -1;
	CHECK_EQ(f->len, 4);
	return (long)be32(f->p);
}

static void check_conn(void)
{
	CHECK(H.ctl_len <= H2_CTL_MAX);
	unsigned open = 0;
	for (unsigned i = 0; i < H2_STREAMS_MAX; i++) {
		if (!H.streams[i].id)
			continue;
		open++;
		CHECK(H.streams[i].id & 1);
		CHECK(H.streams[i].id <= H.last_stream);
		/* (once the connection is over its windows do not matter) */
		CHECK(H.goaway_sent || H.streams[i].send_window <= (int64_t)WINDOW_MAX);
	}
	CHECK_EQ(open, H.open);
	CHECK(H.open <= H2_STREAMS_MAX);
	CHECK(H.goaway_sent || H.send_window <= (int64_t)WINDOW_MAX);
}

/* One call: one event. */
static enum h2_event_type step(void)
{
	size_t used = (size_t)-1, left = wire_len - wire_off;
	h2_conn_input(&H, wire + wire_off, left, &used, &ev);
	CHECK(used <= left);
	if (used > left)
		used = left;
	wire_off += used;
	if (wire_off == wire_len)
		wire_off = wire_len = 0;
	check_conn();
	if (ev.type == H2_EV_CLOSE && ev.error != H2_NO_ERROR) {
		CHECK(H.goaway_sent);
		CHECK(ev.why != NULL);
	}
	return ev.type;
}

/* Steps until the input is used up (NONE) or the connection ends;
 * counts the events on the way, and writes the control frames out when
 * the core hands them back (H2_EV_CTL). */
static unsigned seen[H2_EV_CLOSE + 1];

static enum h2_event_type drain(void)
{
	memset(seen, 0, sizeof seen);
	for (unsigned i = 0; i < 100000; i++) {
		enum h2_event_type t = step();
		seen[t]++;
		if (t == H2_EV_CTL)
			ctl_write();
		if (t == H2_EV_NONE || t == H2_EV_CLOSE)
			return t;
	}
	CHECK(!"drain never ended");
	return H2_EV_NONE;
}

/* The connection ends with GOAWAY(error), and stays ended. */
static void expect_close(enum h2_error error)
{
	CHECK_EQ(drain(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, error);
	CHECK_EQ(goaway_error(), error);
	CHECK_EQ(step(), H2_EV_CLOSE);
}

/* A stream error: RST_STREAM(id, error) queued, no GOAWAY, the
 * connection goes on. */
static void expect_rst(uint32_t id, enum h2_error error)
{
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(rst_error(id), error);
	CHECK_EQ(goaway_error(), -1);
	CHECK(H.ctl_len <= H2_CTL_MAX);
	ctl_forget();
}

/* A header block under construction. */
static uint8_t blk[2 * H2_HEADER_BLOCK_MAX];
static size_t blk_len;

static void b_int(uint8_t first, unsigned prefix, uint32_t v)
{
	uint32_t max = (1u << prefix) - 1;
	if (v < max) {
		blk[blk_len++] = (uint8_t)(first | v);
		return;
	}
	blk[blk_len++] = (uint8_t)(first | max);
	v -= max;
	while (v >= 128) {
		blk[blk_len++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	blk[blk_len++] = (uint8_t)v;
}

static void b_strn(const char *s, size_t n)
{
	b_int(0, 7, (uint32_t)n);
	memcpy(blk + blk_len, s, n);
	blk_len += n;
}

static void b_str(const char *s)
{
	b_strn(s, strlen(s));
}

static void b_index(uint32_t i)
{
	b_int(0x80, 7, i);
}

/* literal without indexing, a new name */
static void b_field(const char *name, const char *value)
{
	b_int(0, 4, 0);
	b_str(name);
	b_str(value);
}

/* literal with incremental indexing, a new name */
static void b_field_inc(const char *name, const char *value)
{
	b_int(0x40, 6, 0);
	b_str(name);
	b_str(value);
}

/* literal without indexing, a static name */
static void b_named(uint32_t index, const char *value)
{
	b_int(0, 4, index);
	b_str(value);
}

/* :method GET, :scheme http, :path, :authority */
static void b_get(const char *path)
{
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_named(4, path);
	b_named(1, "example.com");
}

static void headers(uint32_t id, uint8_t flags)
{
	frame(H2_HEADERS, flags, id, blk, blk_len);
}

/* A fresh connection past both prefaces and the SETTINGS exchange. */
static void connect(void)
{
	memset(&H, 0xa5, sizeof H);
	h2_conn_init(&H);
	wire_len = wire_off = ctl_log_len = 0;
	CHECK_EQ(ctl_count(H2_SETTINGS), 1);
	ctl_forget();
	put(H2_PREFACE, H2_PREFACE_LEN);
	frame(H2_SETTINGS, 0, 0, NULL, 0);
	CHECK_EQ(drain(), H2_EV_NONE);
	const struct cframe *f = ctl_find(H2_SETTINGS, 0);
	CHECK(f && f->flags == F_ACK && f->len == 0);
	ctl_forget();
}

/* A GET on stream id: the REQUEST event's stream. */
static struct h2_stream *request(uint32_t id, uint8_t flags)
{
	b_get("/");
	headers(id, flags | F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.stream && ev.stream->id == id);
	return ev.type == H2_EV_REQUEST ? ev.stream : NULL;
}

/* A response of headers only, END_STREAM: the stream is done. */
static void answer(struct h2_stream *s)
{
	uint8_t b[64], out[128];
	size_t bl = 0;
	CHECK(hpack_encode_status(b, sizeof b, &bl, 204));
	CHECK(h2_stream_headers(&H, s, out, sizeof out, b, bl, true) == H2_FRAME_HEADER + bl);
}

/* ---- 3.4: the prefaces ---- */

TEST(rfc9113_3_4_server_preface_is_settings_first)
{
	h2_conn_init(&H);
	ctl_parse();
	CHECK(ncf == 1);
	CHECK_EQ(cf[0].type, H2_SETTINGS);
	CHECK_EQ(cf[0].flags, 0);
	CHECK_EQ(cf[0].id, 0);
	CHECK_EQ(cf[0].len % 6, 0);
	bool streams = false, window = false, frame_ok = true;
	for (size_t i = 0; i + 6 <= cf[0].len; i += 6) {
		uint16_t k = (uint16_t)(cf[0].p[i] << 8 | cf[0].p[i + 1]);
		uint32_t v = be32(cf[0].p + i + 2);
		if (k == S_MAX_CONCURRENT_STREAMS)
			streams = v == H2_STREAMS_MAX;
		if (k == S_INITIAL_WINDOW_SIZE)
			window = v == H2_WINDOW;
		if (k == S_MAX_FRAME_SIZE)
			frame_ok = v == H2_FRAME_MAX;
		if (k == S_HEADER_TABLE_SIZE)
			CHECK(v >= H2_TABLE_SIZE); /* we decode with a 4096-byte table */
		if (k == S_MAX_HEADER_LIST_SIZE)
			CHECK_EQ(v, H2_FIELD_BYTES);
	}
	CHECK(streams);
	CHECK(window || H2_WINDOW == 65535);
	CHECK(frame_ok);
	CHECK(!H.preface_seen && !H.goaway_sent && H.open == 0);
}

TEST(rfc9113_3_4_client_preface_required)
{
	h2_conn_init(&H);
	ctl_forget();
	wire_len = wire_off = 0;
	put("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	CHECK_EQ(step(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_PROTOCOL_ERROR);
	CHECK_EQ(goaway_error(), H2_PROTOCOL_ERROR);
	/* a wrong byte at the end of the preface */
	h2_conn_init(&H);
	ctl_forget();
	wire_len = wire_off = 0;
	put("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", 24);
	CHECK_EQ(step(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_PROTOCOL_ERROR);
	CHECK_EQ(goaway_error(), H2_PROTOCOL_ERROR);
	/* a wrong first byte is enough to tell */
	h2_conn_init(&H);
	ctl_forget();
	wire_len = wire_off = 0;
	put("X", 1);
	CHECK_EQ(step(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_PROTOCOL_ERROR);
}

TEST(rfc9113_3_4_client_preface_in_pieces)
{
	h2_conn_init(&H);
	ctl_forget();
	/* a byte at a time: nothing taken until the whole preface is there */
	static uint8_t all[64];
	memcpy(all, H2_PREFACE, H2_PREFACE_LEN);
	memcpy(all + H2_PREFACE_LEN, "\0\0\0\x04\0\0\0\0\0", 9);
	size_t have = 0, off = 0;
	for (size_t i = 0; i < H2_PREFACE_LEN + 9; i++) {
		have = i + 1;
		size_t used;
		h2_conn_input(&H, all + off, have - off, &used, &ev);
		CHECK_EQ(ev.type, H2_EV_NONE);
		off += used;
		if (i < H2_PREFACE_LEN - 1)
			CHECK_EQ(off, 0);
	}
	CHECK_EQ(off, H2_PREFACE_LEN + 9);
	CHECK(H.preface_seen);
	const struct cframe *f = ctl_find(H2_SETTINGS, 0);
	CHECK(f && f->flags == F_ACK);
}

TEST(rfc9113_3_4_preface_must_be_followed_by_settings)
{
	/* "This sequence MUST be followed by a SETTINGS frame", and "MUST
	 * treat an invalid connection preface as a connection error of type
	 * PROTOCOL_ERROR". */
	h2_conn_init(&H);
	ctl_forget();
	wire_len = wire_off = 0;
	put(H2_PREFACE, H2_PREFACE_LEN);
	ping(0, "abcdefgh");
	expect_close(H2_PROTOCOL_ERROR);
}

/* ---- 4: frames ---- */

TEST(rfc9113_4_1_reserved_bit_and_unused_flags_ignored)
{
	connect();
	b_get("/");
	/* R bit set on the stream id; unused flag bits set */
	frame(H2_HEADERS, F_END_HEADERS | F_END_STREAM | 0xc2, 0x80000001u, blk, blk_len);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.stream && ev.stream->id == 1);
	ping(0xfe, "12345678"); /* 0xfe: no ACK bit */
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK(ctl_find(H2_PING, 0) != NULL);
}

TEST(rfc9113_4_2_frame_above_max_frame_size)
{
	connect();
	/* only the header: the length alone is enough */
	frame_header(H2_FRAME_MAX + 1, H2_DATA, 0, 1);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame_header(0xffffff, 0xee, 0, 0);
	expect_close(H2_FRAME_SIZE_ERROR);
	/* exactly H2_FRAME_MAX is fine (an unknown type, ignored) */
	connect();
	static uint8_t big[H2_FRAME_MAX];
	frame(0xee, 0, 0, big, sizeof big);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(wire_len, 0);
}

TEST(rfc9113_4_1_frames_in_pieces)
{
	connect();
	b_get("/pieces");
	headers(1, F_END_HEADERS | F_END_STREAM);
	/* hand over a byte at a time */
	size_t total = wire_len, off = 0;
	static uint8_t copy[256];
	memcpy(copy, wire, total);
	wire_len = wire_off = 0;
	for (size_t have = 1; have <= total; have++) {
		size_t used;
		h2_conn_input(&H, copy + off, have - off, &used, &ev);
		off += used;
		if (have < total) {
			CHECK_EQ(ev.type, H2_EV_NONE);
			CHECK_EQ(off, 0);
		} else {
			CHECK_EQ(ev.type, H2_EV_REQUEST);
			CHECK_EQ(off, total);
			CHECK(ev.nfields == 4 && span_is(ev.fields[2].value, "/pieces"));
		}
	}
}

TEST(rfc9113_4_3_header_compression_state_spans_streams)
{
	connect();
	b_get("/");
	b_field_inc("x-shared", "one");
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK_EQ(ev.nfields, 5);
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	b_index(62);
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK_EQ(ev.nfields, 4);
	CHECK(span_is(ev.fields[3].name, "x-shared") && span_is(ev.fields[3].value, "one"));
	/* a decoding error is a connection error COMPRESSION_ERROR */
	blk_len = 0;
	b_index(2);
	b_index(70);
	headers(5, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_COMPRESSION_ERROR);
}

/* ---- 5.1: stream states ---- */

TEST(rfc9113_5_1_1_stream_id_zero_or_even)
{
	connect();
	b_get("/");
	headers(0, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	b_get("/");
	headers(2, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_PROTOCOL_ERROR);
}

TEST(rfc9113_5_1_1_stream_id_decreasing)
{
	/* "The identifier of a newly established stream MUST be numerically
	 * greater than all streams that the initiating endpoint has opened
	 * ... An endpoint that receives an unexpected stream identifier MUST
	 * respond with a connection error of type PROTOCOL_ERROR." */
	connect();
	request(5, F_END_STREAM);
	b_get("/");
	headers(3, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_PROTOCOL_ERROR);
	CHECK_EQ(H.last_stream, 5);
}

TEST(rfc9113_5_1_1_skipped_ids_are_closed)
{
	connect();
	request(1, F_END_STREAM);
	request(7, F_END_STREAM); /* 3 and 5 skipped: fine */
	CHECK_EQ(H.last_stream, 7);
	CHECK_EQ(H.open, 2);
}

TEST(rfc9113_5_1_idle_stream_frames)
{
	/* anything but HEADERS or PRIORITY on an idle stream */
	connect();
	data(1, 0, 4);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	rst_stream(1, H2_CANCEL);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	window_update(1, 100);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	request(1, F_END_STREAM);
	data(3, 0, 4);
	expect_close(H2_PROTOCOL_ERROR);
	/* PRIORITY on an idle stream is fine and does not open it */
	connect();
	frame(H2_PRIORITY, 0, 9, "\0\0\0\0\x10", 5);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(H.open, 0);
	CHECK_EQ(goaway_error(), -1);
	request(3, F_END_STREAM);
	request(9, F_END_STREAM);
}

TEST(rfc9113_5_1_half_closed_remote)
{
	connect();
	struct h2_stream *s = request(1, F_END_STREAM);
	CHECK(s && s->state == H2_ST_HALF_CLOSED_REMOTE);
	CHECK(ev.end_stream);
	/* WINDOW_UPDATE, PRIORITY are fine */
	window_update(1, 10);
	frame(H2_PRIORITY, 0, 1, "\0\0\0\0\x10", 5);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK(seen[H2_EV_WINDOW] == 1);
	CHECK_EQ(goaway_error(), -1);
	/* DATA: stream error STREAM_CLOSED */
	s->app = &H;
	data(1, 0, 3);
	CHECK_EQ(step(), H2_EV_RESET);
	CHECK(ev.app == &H);
	expect_rst(1, H2_STREAM_CLOSED);
	CHECK_EQ(H.open, 0);
	/* the connection goes on */
	request(3, F_END_STREAM);
}

TEST(rfc9113_5_1_half_closed_remote_headers)
{
	connect();
	request(1, F_END_STREAM);
	b_get("/");
	headers(1, F_END_HEADERS | F_END_STREAM);
	/* STREAM_CLOSED, as a stream or a connection error */
	enum h2_event_type t = drain();
	if (t == H2_EV_CLOSE) {
		CHECK_EQ(ev.error, H2_STREAM_CLOSED);
		CHECK_EQ(goaway_error(), H2_STREAM_CLOSED);
	} else {
		CHECK_EQ(rst_error(1), H2_STREAM_CLOSED);
	}
}

TEST(rfc9113_5_1_half_closed_local_takes_trailers)
{
	/* We answered (END_STREAM: half-closed local) before the client
	 * finished: "an endpoint can receive any type of frame in this
	 * state"; its DATA and trailers must not end the connection. */
	connect();
	struct h2_stream *s = request(1, 0);
	answer(s);
	CHECK_EQ(H.open, 0);
	data(1, 0, 100);
	blk_len = 0;
	b_field_inc("x-trailer", "t");
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	/* and the trailers' block reached the HPACK table (4.3) */
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	b_index(62);
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.nfields == 4 && span_is(ev.fields[3].name, "x-trailer"));
}

TEST(rfc9113_5_1_closed_after_our_rst_frames_are_ignored)
{
	/* "An endpoint MUST ignore frames that it receives on closed
	 * streams after it has sent a RST_STREAM frame", HEADERS still
	 * decoded for HPACK. */
	connect();
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_named(4, "/");
	b_field("Bad", "x"); /* malformed: stream error */
	headers(1, F_END_HEADERS);
	expect_rst(1, H2_PROTOCOL_ERROR);
	data(1, 0, 10);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	blk_len = 0;
	b_field_inc("x-after", "reset");
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	b_index(62);
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.nfields == 4 && span_is(ev.fields[3].name, "x-after"));
}

TEST(rfc9113_5_1_2_concurrency_limit_refuses)
{
	connect();
	struct h2_stream *first = NULL;
	for (uint32_t i = 0; i < H2_STREAMS_MAX; i++) {
		struct h2_stream *s = request(2 * i + 1, F_END_STREAM);
		if (!first)
			first = s;
	}
	CHECK_EQ(H.open, H2_STREAMS_MAX);
	uint32_t id = 2 * H2_STREAMS_MAX + 1;
	/* the refused stream's block still feeds HPACK */
	b_get("/");
	b_field_inc("x-refused", "yes");
	headers(id, F_END_HEADERS | F_END_STREAM);
	expect_rst(id, H2_REFUSED_STREAM);
	CHECK_EQ(H.open, H2_STREAMS_MAX);
	/* one done: room for one more, which sees the refused one's entry */
	answer(first);
	CHECK_EQ(H.open, H2_STREAMS_MAX - 1);
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	b_index(62);
	headers(id + 2, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.nfields == 4 && span_is(ev.fields[3].value, "yes"));
	CHECK_EQ(H.open, H2_STREAMS_MAX);
}

/* ---- 5.5: extensions ---- */

TEST(rfc9113_5_5_unknown_frame_type_ignored)
{
	connect();
	frame(0xfa, 0xff, 0, "xyz", 3);
	frame(0x20, 0, 1, "", 0);
	ping(0, "pingping");
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK(ctl_find(H2_PING, 0) != NULL);
	CHECK_EQ(goaway_error(), -1);
	/* but not inside a header block (4.3, 6.10) */
	connect();
	b_get("/");
	headers(1, F_END_STREAM);
	frame(0xfa, 0, 1, "x", 1);
	expect_close(H2_PROTOCOL_ERROR);
}

/* ---- 6.1 DATA ---- */

TEST(rfc9113_6_1_data)
{
	connect();
	data(0, 0, 4);
	expect_close(H2_PROTOCOL_ERROR);
	/* padding: stripped, counted against flow control */
	connect();
	struct h2_stream *s = request(1, 0);
	uint8_t p[20] = {5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0};
	frame(H2_DATA, F_PADDED, 1, p, 11);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK(ev.stream == s && ev.len == 5 && memcmp(ev.data, "hello", 5) == 0);
	CHECK(!ev.end_stream);
	CHECK_EQ(s->received, 5);
	CHECK_EQ(s->recv_unacked, 11); /* the whole payload (the connection's: 6.9.1 below) */
	/* padding of all but the Pad Length byte: no data, fine */
	p[0] = 10;
	frame(H2_DATA, F_PADDED, 1, p, 11);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK_EQ(ev.len, 0);
	/* "the length of the padding is the length of the frame payload or
	 * greater": PROTOCOL_ERROR */
	p[0] = 11;
	frame(H2_DATA, F_PADDED, 1, p, 11);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	request(1, 0);
	frame(H2_DATA, F_PADDED, 1, "", 0);
	expect_close(H2_PROTOCOL_ERROR);
	/* zero padding, END_STREAM */
	connect();
	s = request(1, 0);
	p[0] = 0;
	frame(H2_DATA, F_PADDED | F_END_STREAM, 1, p, 3);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK(ev.len == 2 && ev.end_stream);
	CHECK_EQ(s->state, H2_ST_HALF_CLOSED_REMOTE);
}

/* ---- 6.2 HEADERS, 6.10 CONTINUATION ---- */

TEST(rfc9113_6_2_headers_padding_and_priority)
{
	connect();
	b_get("/padded");
	uint8_t p[512];
	size_t n = 0;
	p[n++] = 7;
	memcpy(p + n, "\x80\0\0\0\xff", 5); /* exclusive, on stream 0, weight 256 */
	n += 5;
	memcpy(p + n, blk, blk_len);
	n += blk_len;
	memset(p + n, 0, 7);
	n += 7;
	frame(H2_HEADERS, F_PADDED | F_PRIORITY | F_END_HEADERS | F_END_STREAM, 1, p, n);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.nfields == 4 && span_is(ev.fields[2].value, "/padded"));
	/* padding past the end */
	p[0] = (uint8_t)(n - 1 + 1);
	frame(H2_HEADERS, F_PADDED | F_END_HEADERS | F_END_STREAM, 3, p, n);
	expect_close(H2_PROTOCOL_ERROR);
	/* PRIORITY flag without its five bytes */
	connect();
	frame(H2_HEADERS, F_PRIORITY | F_END_HEADERS | F_END_STREAM, 1, "\0\0\0", 3);
	expect_close(H2_FRAME_SIZE_ERROR);
}

TEST(rfc9113_6_2_headers_priority_on_itself_keeps_hpack)
{
	/* RFC 9113 deprecates RFC 7540's priority tree (5.3.2); whatever is
	 * done about a stream that depends on itself, its field block must
	 * still be decompressed (4.3) and the stream id used (5.1.1). */
	connect();
	b_get("/");
	b_field_inc("x-self", "dep");
	uint8_t p[256];
	memcpy(p, "\0\0\0\x01\x10", 5); /* depends on stream 1 itself */
	memcpy(p + 5, blk, blk_len);
	frame(H2_HEADERS, F_PRIORITY | F_END_HEADERS | F_END_STREAM, 1, p, 5 + blk_len);
	drain();
	CHECK_EQ(goaway_error(), -1);
	CHECK_EQ(H.last_stream, 1);
	ctl_forget();
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	b_index(62);
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.nfields == 4 && span_is(ev.fields[3].name, "x-self"));
	/* and with the block continued */
	connect();
	b_get("/");
	memcpy(p + 5, blk, blk_len);
	frame(H2_HEADERS, F_PRIORITY | F_END_STREAM, 1, p, 5 + 3);
	frame(H2_CONTINUATION, F_END_HEADERS, 1, blk + 3, blk_len - 3);
	drain();
	CHECK_EQ(goaway_error(), -1);
}

TEST(rfc9113_6_10_continuation_assembles_the_block)
{
	connect();
	b_get("/a/long/path/for/splitting");
	b_field("user-agent", "test");
	/* split in the middle of strings: HEADERS, then three pieces */
	size_t a = 5, b = 11, c = 20;
	frame(H2_HEADERS, F_END_STREAM, 1, blk, a);
	frame(H2_CONTINUATION, 0, 1, blk + a, b - a);
	frame(H2_CONTINUATION, 0, 1, blk + b, c - b);
	frame(H2_CONTINUATION, F_END_HEADERS, 1, blk + c, blk_len - c);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.end_stream);
	CHECK_EQ(ev.nfields, 5);
	CHECK(span_is(ev.fields[0].name, ":method") && span_is(ev.fields[0].value, "GET"));
	CHECK(span_is(ev.fields[2].value, "/a/long/path/for/splitting"));
	CHECK(span_is(ev.fields[4].name, "user-agent") && span_is(ev.fields[4].value, "test"));
	CHECK_EQ(ev.stream->state, H2_ST_HALF_CLOSED_REMOTE);
	CHECK_EQ(H.block_stream, 0);
}

TEST(rfc9113_6_10_frames_inside_a_header_block)
{
	static const uint8_t kinds[] = {H2_PING,     H2_DATA,	  H2_HEADERS,	   H2_CONTINUATION,
					H2_PRIORITY, H2_SETTINGS, H2_WINDOW_UPDATE};
	for (unsigned k = 0; k < sizeof kinds; k++) {
		connect();
		request(1, 0);
		b_get("/");
		headers(3, F_END_STREAM);
		switch (kinds[k]) {
		case H2_PING:
			ping(0, "12345678");
			break;
		case H2_DATA:
			data(1, 0, 1);
			break;
		case H2_HEADERS:
			b_get("/");
			headers(5, F_END_HEADERS | F_END_STREAM);
			break;
		case H2_CONTINUATION: /* of another stream */
			frame(H2_CONTINUATION, F_END_HEADERS, 1, "", 0);
			break;
		case H2_PRIORITY:
			frame(H2_PRIORITY, 0, 3, "\0\0\0\0\x10", 5);
			break;
		case H2_SETTINGS:
			frame(H2_SETTINGS, 0, 0, NULL, 0);
			break;
		default:
			window_update(0, 1);
			break;
		}
		expect_close(H2_PROTOCOL_ERROR);
	}
}

TEST(rfc9113_6_10_continuation_out_of_place)
{
	connect();
	frame(H2_CONTINUATION, F_END_HEADERS, 1, "\x82", 1);
	expect_close(H2_PROTOCOL_ERROR);
	/* after END_HEADERS */
	connect();
	request(1, 0);
	frame(H2_CONTINUATION, F_END_HEADERS, 1, "\x82", 1);
	expect_close(H2_PROTOCOL_ERROR);
	/* on stream 0 */
	connect();
	b_get("/");
	headers(1, F_END_STREAM);
	frame(H2_CONTINUATION, F_END_HEADERS, 0, "", 0);
	expect_close(H2_PROTOCOL_ERROR);
}

/* ---- 6.3 PRIORITY, 6.4 RST_STREAM ---- */

TEST(rfc9113_6_3_priority)
{
	connect();
	frame(H2_PRIORITY, 0, 0, "\0\0\0\x01\x10", 5);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	request(1, 0);
	frame(H2_PRIORITY, 0, 1, "\0\0\0\0\x10\0", 6);
	expect_rst(1, H2_FRAME_SIZE_ERROR);
	/* the connection goes on */
	frame(H2_PRIORITY, 0, 1, "\0\0\0\0\x10", 5);
	request(3, F_END_STREAM);
	CHECK_EQ(goaway_error(), -1);
}

TEST(rfc9113_6_4_rst_stream)
{
	connect();
	struct h2_stream *s = request(1, 0);
	int tag;
	s->app = &tag;
	rst_stream(1, H2_CANCEL);
	CHECK_EQ(step(), H2_EV_RESET);
	CHECK(ev.app == &tag);
	CHECK_EQ(H.open, 0);
	CHECK_EQ(s->id, 0);
	CHECK_EQ(H.ctl_len, 0); /* no RST_STREAM for a RST_STREAM */
	/* again, on the now closed stream: ignored */
	rst_stream(1, H2_CANCEL);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	/* wrong length, stream 0 */
	frame(H2_RST_STREAM, 0, 1, "\0\0\0\0\0", 5);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	rst_stream(0, H2_CANCEL);
	expect_close(H2_PROTOCOL_ERROR);
}

/* ---- 6.5 SETTINGS ---- */

TEST(rfc9113_6_5_settings_acknowledged)
{
	connect();
	uint16_t ids[] = {S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS,
			  S_MAX_HEADER_LIST_SIZE, 0x99};
	uint32_t vals[] = {0, 0, 10, 100000, 12345};
	settings(5, ids, vals);
	CHECK_EQ(drain(), H2_EV_NONE);
	const struct cframe *f = ctl_find(H2_SETTINGS, 0);
	CHECK(f && f->flags == F_ACK && f->len == 0);
	CHECK_EQ(goaway_error(), -1);
	ctl_forget();
	/* an ACK of ours is not answered */
	frame(H2_SETTINGS, F_ACK, 0, NULL, 0);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(H.ctl_len, 0);
}

TEST(rfc9113_6_5_settings_errors)
{
	connect();
	frame(H2_SETTINGS, F_ACK, 0, "\0\x01\0\0\0\0", 6);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_SETTINGS, 0, 0, "\0\x01\0\0\0", 5);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_SETTINGS, 0, 0, "\0\x01\0\0\0\0\0", 7);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_SETTINGS, 0, 1, NULL, 0);
	expect_close(H2_PROTOCOL_ERROR);
}

TEST(rfc9113_6_5_2_defined_settings_values)
{
	connect();
	setting(S_ENABLE_PUSH, 2);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	setting(S_INITIAL_WINDOW_SIZE, WINDOW_MAX + 1);
	expect_close(H2_FLOW_CONTROL_ERROR);
	connect();
	setting(S_INITIAL_WINDOW_SIZE, WINDOW_MAX);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	CHECK_EQ(H.peer_initial_window, WINDOW_MAX);
	connect();
	setting(S_MAX_FRAME_SIZE, 16383);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	setting(S_MAX_FRAME_SIZE, 16777216);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	setting(S_MAX_FRAME_SIZE, 16777215);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(H.peer_frame_max, 16777215);
	connect();
	setting(S_MAX_FRAME_SIZE, 16384);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
}

/* ---- 6.7 PING, 6.8 GOAWAY ---- */

TEST(rfc9113_6_7_ping)
{
	connect();
	ping(0, "\x01\x02\x03\x04\x05\x06\x07\x08");
	CHECK_EQ(drain(), H2_EV_NONE);
	const struct cframe *f = ctl_find(H2_PING, 0);
	CHECK(f && f->flags == F_ACK && f->len == 8 &&
	      memcmp(f->p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
	ctl_forget();
	/* an ACK is not answered */
	ping(F_ACK, "abcdefgh");
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(H.ctl_len, 0);
	frame(H2_PING, 0, 0, "1234567", 7);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_PING, 0, 0, "123456789", 9);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_PING, 0, 1, "12345678", 8);
	expect_close(H2_PROTOCOL_ERROR);
}

TEST(rfc9113_6_8_goaway)
{
	connect();
	request(1, F_END_STREAM);
	frame(H2_GOAWAY, 0, 0, "\0\0\0\0\0\0\0\0", 8);
	CHECK_EQ(step(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_NO_ERROR);
	CHECK(H.goaway_received);
	CHECK_EQ(step(), H2_EV_CLOSE);
	/* our answer to it names the last stream we took */
	h2_conn_goaway(&H, H2_NO_ERROR);
	CHECK_EQ(goaway_error(), H2_NO_ERROR);
	const struct cframe *f = ctl_find(H2_GOAWAY, 0);
	CHECK(f && be32(f->p) == 1);
	/* once only */
	h2_conn_goaway(&H, H2_INTERNAL_ERROR);
	CHECK_EQ(ctl_count(H2_GOAWAY), 1);
	connect();
	frame(H2_GOAWAY, 0, 0, "\0\0\0\0\0\0\0", 7);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	frame(H2_GOAWAY, 0, 1, "\0\0\0\0\0\0\0\0", 8);
	expect_close(H2_PROTOCOL_ERROR);
	/* with debug data */
	connect();
	frame(H2_GOAWAY, 0, 0,
	      "\0\0\0\0\0\0\0\x02"
	      "debug",
	      13);
	CHECK_EQ(step(), H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_NO_ERROR);
}

TEST(rfc9113_6_6_push_promise_from_client)
{
	connect();
	request(1, 0);
	frame(H2_PUSH_PROMISE, F_END_HEADERS, 1, "\0\0\0\x02\x82", 5);
	expect_close(H2_PROTOCOL_ERROR);
}

/* ---- 6.9 flow control ---- */

TEST(rfc9113_6_9_window_update)
{
	connect();
	window_update(0, 0);
	expect_close(H2_PROTOCOL_ERROR);
	connect();
	frame(H2_WINDOW_UPDATE, 0, 0, "\0\0\0\x01\0", 5);
	expect_close(H2_FRAME_SIZE_ERROR);
	connect();
	struct h2_stream *s = request(1, F_END_STREAM);
	window_update(1, 0);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(1, H2_PROTOCOL_ERROR);
	CHECK_EQ(goaway_error(), -1);
	/* on a stream we finished: ignored (it may arrive late) */
	s = request(3, F_END_STREAM);
	answer(s);
	window_update(3, 1000);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	/* the reserved bit is ignored */
	window_update(0, 0x80000000u | 10);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(H.send_window, 65535 + 10);
}

TEST(rfc9113_6_9_1_window_overflow)
{
	connect();
	window_update(0, WINDOW_MAX - 65535);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(H.send_window, WINDOW_MAX);
	window_update(0, 1);
	expect_close(H2_FLOW_CONTROL_ERROR);
	/* a stream's: a stream error */
	connect();
	struct h2_stream *s = request(1, F_END_STREAM);
	window_update(1, WINDOW_MAX - 65535);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(s->send_window, WINDOW_MAX);
	window_update(1, 1);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(1, H2_FLOW_CONTROL_ERROR);
	request(3, F_END_STREAM);
}

TEST(rfc9113_6_9_1_room_and_charging)
{
	connect();
	struct h2_stream *a = request(1, F_END_STREAM);
	struct h2_stream *b = request(3, F_END_STREAM);
	/* both windows 65535, the peer's frames 16384 */
	CHECK_EQ(h2_stream_room(&H, a), 16384);
	setting(S_MAX_FRAME_SIZE, 1 << 20);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(h2_stream_room(&H, a), 65535);
	uint8_t fh[H2_FRAME_HEADER];
	h2_stream_data(&H, a, fh, 60000, false);
	CHECK_EQ(be24(fh), 60000);
	CHECK_EQ(fh[3], H2_DATA);
	CHECK_EQ(fh[4], 0);
	CHECK_EQ(be32(fh + 5), 1);
	CHECK_EQ(H.send_window, 5535);
	CHECK_EQ(a->send_window, 5535);
	CHECK_EQ(h2_stream_room(&H, a), 5535);
	CHECK_EQ(h2_stream_room(&H, b), 5535); /* the connection's window */
	h2_stream_data(&H, b, fh, 5535, false);
	CHECK_EQ(h2_stream_room(&H, a), 0);
	CHECK_EQ(h2_stream_room(&H, b), 0);
	window_update(0, 100000);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(h2_stream_room(&H, a), 5535);
	CHECK_EQ(h2_stream_room(&H, b), 60000);
	window_update(1, 10);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(h2_stream_room(&H, a), 5545);
	/* the frame size bounds it back */
	setting(S_MAX_FRAME_SIZE, 16384);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(h2_stream_room(&H, b), 16384);
	/* end_stream frees the stream */
	h2_stream_data(&H, b, fh, 0, true);
	CHECK_EQ(fh[4], F_END_STREAM);
	CHECK_EQ(be24(fh), 0);
	CHECK_EQ(b->id, 0);
	CHECK_EQ(H.open, 1);
	CHECK_EQ(H.completed, 1);
}

TEST(rfc9113_6_9_2_initial_window_size_changes_open_streams)
{
	connect();
	struct h2_stream *s = request(1, F_END_STREAM);
	setting(S_INITIAL_WINDOW_SIZE, 100);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK(seen[H2_EV_WINDOW] <= 1);
	CHECK_EQ(s->send_window, 100);
	CHECK_EQ(h2_stream_room(&H, s), 100);
	CHECK_EQ(H.send_window, 65535); /* the connection's does not move */
	uint8_t fh[H2_FRAME_HEADER];
	h2_stream_data(&H, s, fh, 100, false);
	CHECK_EQ(h2_stream_room(&H, s), 0);
	/* below what is in flight: negative */
	setting(S_INITIAL_WINDOW_SIZE, 40);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(s->send_window, -60);
	CHECK_EQ(h2_stream_room(&H, s), 0);
	window_update(1, 100);
	CHECK_EQ(step(), H2_EV_WINDOW);
	CHECK_EQ(h2_stream_room(&H, s), 40);
	/* up again: a new stream starts at the new size */
	setting(S_INITIAL_WINDOW_SIZE, 1000);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(s->send_window, 1000);
	struct h2_stream *t = request(3, F_END_STREAM);
	CHECK_EQ(t->send_window, 1000);
	/* a change that takes a stream past 2^31-1 */
	window_update(3, WINDOW_MAX - 1000);
	CHECK_EQ(step(), H2_EV_WINDOW);
	setting(S_INITIAL_WINDOW_SIZE, 1001);
	expect_close(H2_FLOW_CONTROL_ERROR);
}

TEST(rfc9113_6_9_1_receive_window_replenished)
{
	/* Our windows (H2_WINDOW each) come back by WINDOW_UPDATE once half
	 * is used; the credit given never exceeds the bytes taken, or the
	 * client's view of our connection window grows without bound and
	 * passes 2^31-1 (its FLOW_CONTROL_ERROR, 6.9.1) after 2 GiB. */
	connect();
	struct h2_stream *s = request(1, 0);
	uint64_t sent = 0, conn_credit = 0, stream_credit = 0;
	int64_t conn_window = H2_WINDOW, stream_window = H2_WINDOW;
	for (unsigned i = 0; i < 40; i++) {
		size_t n = 10000;
		CHECK(conn_window >= (int64_t)n && stream_window >= (int64_t)n);
		if (conn_window < (int64_t)n || stream_window < (int64_t)n)
			break;
		data(1, 0, n);
		CHECK_EQ(step(), H2_EV_DATA);
		CHECK_EQ(ev.len, n);
		sent += n;
		conn_window -= (int64_t)n;
		stream_window -= (int64_t)n;
		ctl_parse();
		for (unsigned k = 0; k < ncf; k++) {
			if (cf[k].type != H2_WINDOW_UPDATE)
				continue;
			CHECK_EQ(cf[k].len, 4);
			uint32_t inc = be32(cf[k].p) & WINDOW_MAX;
			CHECK(inc > 0);
			if (cf[k].id == 0) {
				conn_credit += inc;
				conn_window += inc;
			} else {
				CHECK_EQ(cf[k].id, 1);
				stream_credit += inc;
				stream_window += inc;
			}
		}
		ctl_forget();
		CHECK(conn_credit <= sent);
		CHECK(stream_credit <= sent);
		CHECK(conn_window <= H2_WINDOW);
		CHECK(stream_window <= H2_WINDOW);
		/* no update before half is used */
		CHECK(sent - conn_credit <= H2_WINDOW);
	}
	CHECK_EQ(conn_credit + H.recv_unacked, sent);
	CHECK_EQ(stream_credit + s->recv_unacked, sent);
	CHECK(conn_credit > 0 && stream_credit > 0);
}

/* ---- 8.1 requests ---- */

TEST(rfc9113_8_1_request_without_body)
{
	connect();
	b_get("/index.html");
	b_field("user-agent", "t/1");
	b_named(19, "*/*"); /* accept */
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(ev.end_stream);
	CHECK_EQ(ev.nfields, 6);
	CHECK(ev.fields == H.fields);
	CHECK(span_is(ev.fields[0].name, ":method") && span_is(ev.fields[0].value, "GET"));
	CHECK(span_is(ev.fields[1].name, ":scheme") && span_is(ev.fields[1].value, "http"));
	CHECK(span_is(ev.fields[2].name, ":path") && span_is(ev.fields[2].value, "/index.html"));
	CHECK(span_is(ev.fields[3].name, ":authority") &&
	      span_is(ev.fields[3].value, "example.com"));
	CHECK(span_is(ev.fields[4].name, "user-agent") && span_is(ev.fields[4].value, "t/1"));
	CHECK(span_is(ev.fields[5].name, "accept") && span_is(ev.fields[5].value, "*/*"));
	struct h2_stream *s = ev.stream;
	CHECK(s && s->id == 1 && s->state == H2_ST_HALF_CLOSED_REMOTE);
	CHECK_EQ(H.open, 1);
	CHECK_EQ(H.last_stream, 1);
	CHECK_EQ(step(), H2_EV_NONE);
	/* the answer: one HEADERS frame, END_STREAM frees the stream */
	uint8_t b[64], out[128];
	size_t bl = 0;
	CHECK(hpack_encode_status(b, sizeof b, &bl, 200));
	CHECK(hpack_encode_field(b, sizeof b, &bl, "content-type", 12, "text/html", 9));
	CHECK_EQ(h2_stream_headers(&H, s, out, H2_FRAME_HEADER + bl - 1, b, bl, true), 0);
	CHECK_EQ(s->id, 1); /* nothing happened */
	size_t fl = h2_stream_headers(&H, s, out, sizeof out, b, bl, true);
	CHECK_EQ(fl, H2_FRAME_HEADER + bl);
	CHECK_EQ(be24(out), bl);
	CHECK_EQ(out[3], H2_HEADERS);
	CHECK_EQ(out[4], F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(be32(out + 5), 1);
	CHECK_MEM(out + H2_FRAME_HEADER, b, bl);
	CHECK_EQ(H.open, 0);
	CHECK_EQ(s->id, 0);
	CHECK_EQ(H.completed, 1);
}

TEST(rfc9113_8_1_request_with_body_and_trailers)
{
	connect();
	blk_len = 0;
	b_index(3);
	b_index(6);
	b_named(4, "/upload");
	b_named(1, "example.com");
	b_named(28, "5"); /* content-length */
	headers(1, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(!ev.end_stream);
	struct h2_stream *s = ev.stream;
	CHECK(s && s->state == H2_ST_OPEN && s->has_length && s->content_length == 5);
	/* the answer can start before the body ends */
	uint8_t b[16], out[64];
	size_t bl = 0;
	CHECK(hpack_encode_status(b, sizeof b, &bl, 200));
	CHECK(h2_stream_headers(&H, s, out, sizeof out, b, bl, false) > 0);
	CHECK_EQ(out[4], F_END_HEADERS);
	CHECK(s->responding);
	frame(H2_DATA, 0, 1, "abc", 3);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK(ev.len == 3 && memcmp(ev.data, "abc", 3) == 0 && !ev.end_stream);
	frame(H2_DATA, 0, 1, "de", 2);
	CHECK_EQ(step(), H2_EV_DATA);
	blk_len = 0;
	b_field("x-checksum", "ok");
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_TRAILERS_END);
	CHECK(ev.stream == s);
	CHECK_EQ(s->state, H2_ST_HALF_CLOSED_REMOTE);
	CHECK_EQ(s->received, 5);
	/* DATA with END_STREAM ends a body too */
	struct h2_stream *t = request(3, 0);
	frame(H2_DATA, F_END_STREAM, 3, "xy", 2);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK(ev.end_stream && ev.stream == t);
	CHECK_EQ(t->state, H2_ST_HALF_CLOSED_REMOTE);
}

TEST(rfc9113_8_1_trailers_without_end_stream)
{
	connect();
	request(1, 0);
	blk_len = 0;
	b_field("x-trailer", "1");
	headers(1, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(1, H2_PROTOCOL_ERROR);
	/* pseudo-fields in trailers */
	request(3, 0);
	blk_len = 0;
	b_named(4, "/");
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(3, H2_PROTOCOL_ERROR);
	CHECK_EQ(H.open, 0);
}

/* A request of the given block on a new stream must be reset
 * PROTOCOL_ERROR, and the connection go on. */
static uint32_t next_id;

static void expect_malformed(const char *what)
{
	uint32_t id = next_id;
	next_id += 2;
	headers(id, F_END_HEADERS | F_END_STREAM);
	enum h2_event_type t = drain();
	CHECK_EQ(t, H2_EV_NONE);
	long e = rst_error(id);
	if (e != H2_PROTOCOL_ERROR || goaway_error() != -1 || seen[H2_EV_REQUEST])
		printf("#   malformed request accepted or mishandled: %s\n", what);
	CHECK_EQ(e, H2_PROTOCOL_ERROR);
	CHECK_EQ(goaway_error(), -1);
	CHECK_EQ(seen[H2_EV_REQUEST], 0);
	CHECK_EQ(H.open, 0);
	ctl_forget();
}

static void b_base(bool method, bool scheme, bool path, bool authority)
{
	blk_len = 0;
	if (method)
		b_index(2);
	if (scheme)
		b_index(7);
	if (path)
		b_named(4, "/x");
	if (authority)
		b_named(1, "example.com");
}

TEST(rfc9113_8_3_1_malformed_requests)
{
	connect();
	next_id = 1;
	b_base(false, true, true, true);
	expect_malformed("no :method");
	b_base(true, false, true, true);
	expect_malformed("no :scheme");
	b_base(true, true, false, true);
	expect_malformed("no :path");
	b_base(true, true, false, true);
	b_named(4, "");
	expect_malformed("empty :path");
	b_base(true, true, true, true);
	b_index(2);
	expect_malformed("duplicate :method");
	b_base(true, true, true, true);
	b_named(4, "/y");
	expect_malformed("duplicate :path");
	b_base(true, true, true, true);
	b_field(":foo", "bar");
	expect_malformed("unknown pseudo-header");
	b_base(true, true, true, true);
	b_index(8); /* :status 200 */
	expect_malformed(":status in a request");
	b_base(true, true, true, false);
	b_field("accept", "*/*");
	b_named(1, "example.com");
	expect_malformed("pseudo-header after a regular field");
	b_base(true, true, true, true);
	b_field("User-Agent", "x");
	expect_malformed("uppercase field name");
	b_base(true, true, true, true);
	b_field("x y", "1");
	expect_malformed("space in a field name");
	b_base(true, true, true, true);
	b_field("x:y", "1");
	expect_malformed("colon in a field name");
	b_base(true, true, true, true);
	b_field("", "1");
	expect_malformed("empty field name");
	b_base(true, true, true, true);
	b_field("x\x80", "1");
	expect_malformed("byte 0x80 in a field name");
	static const char *conn_fields[] = {"connection", "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade"};
	for (unsigned i = 0; i < 5; i++) {
		b_base(true, true, true, true);
		b_field(conn_fields[i], "x");
		expect_malformed(conn_fields[i]);
	}
	b_base(true, true, true, true);
	b_field("te", "gzip");
	expect_malformed("te: gzip");
	b_base(true, true, true, true);
	b_field("te", "trailers, gzip");
	expect_malformed("te: trailers, gzip");
	b_base(true, true, true, true);
	b_field("x-v", "a\rb");
	expect_malformed("CR in a value");
	b_base(true, true, true, true);
	b_field("x-v", "a\nb");
	expect_malformed("LF in a value");
	b_base(true, true, true, true);
	b_int(0, 4, 0);
	b_str("x-v");
	b_strn("a\0b", 3);
	expect_malformed("NUL in a value");
	b_base(true, true, true, true);
	b_int(0, 4, 0);
	b_strn(":method", 7);
	b_strn("GET", 3);
	expect_malformed("duplicate :method as a literal");
	blk_len = 0;
	b_named(2, "CONNECT");
	b_named(1, "example.com:443");
	b_named(4, "/");
	expect_malformed("CONNECT with :path");
	/* the connection is still good, and accepts what is well formed */
	b_base(true, true, true, true);
	b_field("te", "trailers");
	b_field("x-empty", "");
	headers(next_id, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK_EQ(ev.nfields, 6);
	next_id += 2;
	blk_len = 0;
	b_named(2, "CONNECT");
	b_named(1, "example.com:443");
	headers(next_id, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK_EQ(goaway_error(), -1);
}

TEST(rfc9113_8_2_1_value_whitespace_malformed)
{
	/* "A field value MUST NOT start or end with an ASCII whitespace
	 * character (ASCII SP or HTAB, 0x20 or 0x09)." */
	connect();
	next_id = 1;
	b_base(true, true, true, true);
	b_field("x-v", " leading");
	expect_malformed("leading space in a value");
	b_base(true, true, true, true);
	b_field("x-v", "trailing\t");
	expect_malformed("trailing tab in a value");
}

TEST(rfc9113_8_1_1_content_length)
{
	connect();
	next_id = 1;
	/* END_STREAM on the headers with a non-zero length */
	b_base(true, true, true, true);
	b_named(28, "5");
	expect_malformed("content-length 5 without DATA");
	b_base(true, true, true, true);
	b_named(28, "five");
	expect_malformed("content-length not a number");
	b_base(true, true, true, true);
	b_named(28, "5");
	b_named(28, "6");
	expect_malformed("two content-lengths");
	/* zero with END_STREAM is fine */
	b_base(true, true, true, true);
	b_named(28, "0");
	headers(next_id, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	next_id += 2;
	/* more DATA than said */
	b_base(true, true, true, true);
	b_named(28, "3");
	uint32_t id = next_id;
	next_id += 2;
	headers(id, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	frame(H2_DATA, 0, id, "abcd", 4);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(id, H2_PROTOCOL_ERROR);
	/* less DATA than said, then END_STREAM */
	b_base(true, true, true, true);
	b_named(28, "3");
	id = next_id;
	next_id += 2;
	headers(id, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	frame(H2_DATA, F_END_STREAM, id, "ab", 2);
	CHECK_EQ(step(), H2_EV_RESET);
	expect_rst(id, H2_PROTOCOL_ERROR);
	/* exactly */
	b_base(true, true, true, true);
	b_named(28, "3");
	id = next_id;
	next_id += 2;
	headers(id, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	frame(H2_DATA, 0, id, "ab", 2);
	CHECK_EQ(step(), H2_EV_DATA);
	frame(H2_DATA, F_END_STREAM, id, "c", 1);
	CHECK_EQ(step(), H2_EV_DATA);
	CHECK(ev.end_stream);
	CHECK_EQ(goaway_error(), -1);
}

TEST(rfc9113_8_1_1_content_length_short_then_trailers)
{
	/* "A request or response is also malformed if the value of a
	 * content-length header field does not equal the sum of the DATA
	 * frame payload lengths": a body ended by trailers too. */
	connect();
	b_base(true, true, true, true);
	b_named(28, "10");
	headers(1, F_END_HEADERS);
	CHECK_EQ(step(), H2_EV_REQUEST);
	frame(H2_DATA, 0, 1, "abc", 3);
	CHECK_EQ(step(), H2_EV_DATA);
	blk_len = 0;
	b_field("x-trailer", "1");
	headers(1, F_END_HEADERS | F_END_STREAM);
	enum h2_event_type t = step();
	CHECK(t != H2_EV_TRAILERS_END);
	CHECK_EQ(rst_error(1), H2_PROTOCOL_ERROR);
}

/* ---- 10.5: denial of service ---- */

TEST(rfc9113_10_5_rapid_reset)
{
	/* CVE-2023-44487: streams opened and reset at once */
	connect();
	uint32_t id = 1;
	unsigned i;
	for (i = 0; i < 2 * H2_RESET_BUDGET; i++, id += 2) {
		request(id, F_END_STREAM);
		rst_stream(id, H2_CANCEL);
		if (step() != H2_EV_RESET)
			break;
	}
	CHECK_EQ(i, H2_RESET_BUDGET);
	CHECK_EQ(ev.type, H2_EV_CLOSE);
	CHECK_EQ(ev.error, H2_ENHANCE_YOUR_CALM);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
	/* resets among completed streams are fine */
	connect();
	id = 1;
	for (i = 0; i < 3 * H2_RESET_BUDGET; i++, id += 2) {
		struct h2_stream *s = request(id, F_END_STREAM);
		if (i % 2) {
			rst_stream(id, H2_CANCEL);
			CHECK_EQ(step(), H2_EV_RESET);
		} else if (s) {
			answer(s);
		}
	}
	CHECK_EQ(goaway_error(), -1);
	CHECK_EQ(H.open, 0);
}

TEST(rfc9113_10_5_server_resets_count_too)
{
	/* "MadeYouReset" (2025): a frame that makes the server reset the
	 * stream (here WINDOW_UPDATE of 0 on it, a stream error, 6.9) cancels
	 * a request as the client's RST_STREAM does, frees its slot at once,
	 * and must count against the same budget (10.5). */
	connect();
	uint32_t id = 1;
	unsigned i;
	for (i = 0; i < 3 * H2_RESET_BUDGET; i++, id += 2) {
		request(id, F_END_STREAM);
		window_update(id, 0);
		if (drain() == H2_EV_CLOSE)
			break;
		ctl_forget();
	}
	CHECK(i <= H2_RESET_BUDGET + 1);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
}

TEST(rfc9113_8_5_connect_needs_authority)
{
	/* "The :scheme and :path pseudo-header fields MUST be omitted.  The
	 * :authority pseudo-header field contains the host and port to
	 * connect to": a CONNECT without it is malformed (8.1.1). */
	connect();
	next_id = 1;
	blk_len = 0;
	b_named(2, "CONNECT");
	expect_malformed("CONNECT without :authority");
}

TEST(rfc9113_10_5_continuation_flood_bytes)
{
	/* 2024 CONTINUATION flood: the block is bounded however it comes */
	connect();
	static uint8_t junk[H2_FRAME_MAX];
	memset(junk, 0x82, sizeof junk);
	frame(H2_HEADERS, 0, 1, junk, 4000);
	unsigned k;
	for (k = 0; k < 10; k++) {
		frame(H2_CONTINUATION, 0, 1, junk, 4000);
		if (drain() == H2_EV_CLOSE)
			break;
	}
	CHECK_EQ(k, (H2_HEADER_BLOCK_MAX - 4000) / 4000);
	CHECK_EQ(ev.error, H2_ENHANCE_YOUR_CALM);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
	/* a full HEADERS, then one byte more */
	connect();
	frame(H2_HEADERS, 0, 1, junk, H2_FRAME_MAX);
	CHECK_EQ(drain(), H2_EV_NONE);
	frame(H2_CONTINUATION, F_END_HEADERS, 1, junk, 1);
	expect_close(H2_ENHANCE_YOUR_CALM);
}

TEST(rfc9113_10_5_continuation_flood_empty)
{
	connect();
	b_get("/");
	headers(1, F_END_STREAM);
	unsigned k;
	for (k = 0; k < 10 * H2_EMPTY_FRAMES_MAX; k++) {
		frame(H2_CONTINUATION, 0, 1, NULL, 0);
		if (drain() == H2_EV_CLOSE)
			break;
	}
	CHECK(k + 2 >= H2_EMPTY_FRAMES_MAX && k <= H2_EMPTY_FRAMES_MAX);
	CHECK_EQ(ev.error, H2_ENHANCE_YOUR_CALM);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
}

TEST(rfc9113_10_5_empty_data_flood)
{
	connect();
	request(1, 0);
	unsigned k;
	for (k = 0; k < 10 * H2_EMPTY_FRAMES_MAX; k++) {
		data(1, 0, 0);
		if (drain() == H2_EV_CLOSE)
			break;
	}
	CHECK(k + 2 >= H2_EMPTY_FRAMES_MAX && k <= H2_EMPTY_FRAMES_MAX);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
}

TEST(rfc9113_10_5_1_hpack_bomb)
{
	/* RFC 7541 7.3: a small block that decodes to a lot */
	connect();
	static char big[4001];
	memset(big, 'A', 4000);
	b_get("/");
	b_field_inc("x-bomb", big);
	size_t one = blk_len;
	headers(1, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_REQUEST);
	CHECK(one > 4000);
	blk_len = 0;
	b_index(2);
	b_index(6);
	b_index(4);
	for (unsigned i = 0; i < 100; i++)
		b_index(62);
	CHECK(blk_len < 110);
	headers(3, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_ENHANCE_YOUR_CALM);
	/* too many fields, each small */
	connect();
	b_get("/");
	for (unsigned i = 0; i < H2_FIELDS_MAX; i++)
		b_index(19); /* accept: */
	headers(1, F_END_HEADERS | F_END_STREAM);
	expect_close(H2_ENHANCE_YOUR_CALM);
}

TEST(rfc9113_10_5_ping_and_settings_floods)
{
	connect();
	unsigned k;
	for (k = 0; k < 10 * H2_EMPTY_FRAMES_MAX; k++) {
		ping(0, "flooding");
		if (drain() == H2_EV_CLOSE)
			break;
		ctl_forget(); /* the client reads our acks */
	}
	CHECK(k + 2 >= H2_EMPTY_FRAMES_MAX && k <= H2_EMPTY_FRAMES_MAX);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
	connect();
	for (k = 0; k < 10 * H2_EMPTY_FRAMES_MAX; k++) {
		setting(S_ENABLE_PUSH, 0);
		if (drain() == H2_EV_CLOSE)
			break;
		ctl_forget();
	}
	CHECK(k + 2 >= H2_EMPTY_FRAMES_MAX && k <= H2_EMPTY_FRAMES_MAX);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
	/* PRIORITY frames too */
	connect();
	for (k = 0; k < 10 * H2_EMPTY_FRAMES_MAX; k++) {
		frame(H2_PRIORITY, 0, 1, "\0\0\0\0\x10", 5);
		if (drain() == H2_EV_CLOSE)
			break;
	}
	CHECK(k <= H2_EMPTY_FRAMES_MAX);
	CHECK_EQ(goaway_error(), H2_ENHANCE_YOUR_CALM);
}

/* Step through a burst of frames that each ask for an answer: once
 * h->ctl is over half full, H2_EV_CTL, and nothing more is taken until
 * it is written. */
static void burst_handed_back(unsigned frames)
{
	unsigned handed = 0;
	for (unsigned i = 0; i < 100000; i++) {
		enum h2_event_type t = step();
		if (t == H2_EV_NONE || t == H2_EV_CLOSE)
			break;
		if (t != H2_EV_CTL)
			continue;
		handed++;
		CHECK(H.ctl_len > H2_CTL_MAX / 2);
		CHECK(H.ctl_len <= H2_CTL_MAX);
		/* not written: the same again, nothing taken */
		size_t len = H.ctl_len, off = wire_off, left = wire_len;
		CHECK_EQ(step(), H2_EV_CTL);
		CHECK_EQ(H.ctl_len, len);
		CHECK_EQ(wire_off, off);
		CHECK_EQ(wire_len, left);
		ctl_write();
	}
	CHECK(handed >= frames * H2_FRAME_HEADER / H2_CTL_MAX);
	CHECK_EQ(goaway_error(), -1);
}

TEST(rfc9113_10_5_control_queue_handed_back)
{
	/* A client that does not read what it asks for cannot grow the
	 * queue: the core stops taking its frames until the server has
	 * written the answers (the server's write then blocks on the
	 * client, and times out). */
	connect();
	for (unsigned k = 0; k < 60; k++)
		ping(0, "burst!!!");
	burst_handed_back(60);
	CHECK_EQ(ctl_count(H2_PING), 60);
	connect();
	for (unsigned k = 0; k < 60; k++)
		setting(S_ENABLE_PUSH, 0);
	burst_handed_back(60);
	CHECK_EQ(ctl_count(H2_SETTINGS), 60);
	/* RST_STREAMs for malformed requests */
	connect();
	for (uint32_t k = 0, id = 1; k < 200; k++, id += 2) {
		b_base(true, true, true, true);
		b_field("connection", "close");
		headers(id, F_END_HEADERS | F_END_STREAM);
	}
	burst_handed_back(200);
	CHECK_EQ(ctl_count(H2_RST_STREAM), 200);
	CHECK_EQ(H.open, 0);
}

TEST(h2_stream_reset_by_the_server)
{
	connect();
	struct h2_stream *s = request(1, 0);
	h2_stream_reset(&H, s, H2_INTERNAL_ERROR);
	CHECK_EQ(rst_error(1), H2_INTERNAL_ERROR);
	CHECK_EQ(H.open, 0);
	CHECK_EQ(s->id, 0);
	ctl_forget();
	/* what the client had in flight is ignored */
	data(1, F_END_STREAM, 10);
	window_update(1, 10);
	rst_stream(1, H2_CANCEL);
	CHECK_EQ(drain(), H2_EV_NONE);
	CHECK_EQ(goaway_error(), -1);
	/* a server GOAWAY: no more events but CLOSE */
	h2_conn_goaway(&H, H2_NO_ERROR);
	CHECK_EQ(goaway_error(), H2_NO_ERROR);
	b_get("/");
	headers(3, F_END_HEADERS | F_END_STREAM);
	CHECK_EQ(step(), H2_EV_CLOSE);
}

TEST_MAIN(
    TEST_ENTRY(rfc7541_c1_integer_representation),
    TEST_ENTRY(rfc7541_5_1_prefixes_of_every_representation),
    TEST_ENTRY(rfc7541_c2_1_literal_with_indexing),
    TEST_ENTRY(rfc7541_c2_2_literal_without_indexing),
    TEST_ENTRY(rfc7541_c2_3_literal_never_indexed), TEST_ENTRY(rfc7541_c2_4_indexed_field),
    TEST_ENTRY(rfc7541_c3_requests_without_huffman), TEST_ENTRY(rfc7541_c4_requests_with_huffman),
    TEST_ENTRY(rfc7541_c5_responses_without_huffman), TEST_ENTRY(rfc7541_c6_responses_with_huffman),
    TEST_ENTRY(rfc7541_appendix_b_tables_are_one_canonical_code),
    TEST_ENTRY(rfc7541_5_2_huffman_decode), TEST_ENTRY(rfc7541_5_2_huffman_padding_and_eos),
    TEST_ENTRY(rfc7541_2_3_3_index_zero_and_out_of_range),
    TEST_ENTRY(rfc7541_6_3_dynamic_table_size_update), TEST_ENTRY(rfc7541_4_4_entry_eviction),
    TEST_ENTRY(rfc7541_7_limits_fields_and_bytes), TEST_ENTRY(rfc7541_encoders_round_trip),
    TEST_ENTRY(rfc9113_3_4_server_preface_is_settings_first),
    TEST_ENTRY(rfc9113_3_4_client_preface_required),
    TEST_ENTRY(rfc9113_3_4_client_preface_in_pieces),
    TEST_ENTRY(rfc9113_4_1_reserved_bit_and_unused_flags_ignored),
    TEST_ENTRY(rfc9113_4_2_frame_above_max_frame_size), TEST_ENTRY(rfc9113_4_1_frames_in_pieces),
    TEST_ENTRY(rfc9113_4_3_header_compression_state_spans_streams),
    TEST_ENTRY(rfc9113_5_1_1_stream_id_zero_or_even),
    TEST_ENTRY(rfc9113_5_1_1_skipped_ids_are_closed), TEST_ENTRY(rfc9113_5_1_idle_stream_frames),
    TEST_ENTRY(rfc9113_5_1_half_closed_remote), TEST_ENTRY(rfc9113_5_1_half_closed_remote_headers),
    TEST_ENTRY(rfc9113_5_1_2_concurrency_limit_refuses),
    TEST_ENTRY(rfc9113_5_5_unknown_frame_type_ignored), TEST_ENTRY(rfc9113_6_1_data),
    TEST_ENTRY(rfc9113_6_2_headers_padding_and_priority),
    TEST_ENTRY(rfc9113_6_10_continuation_assembles_the_block),
    TEST_ENTRY(rfc9113_6_10_frames_inside_a_header_block),
    TEST_ENTRY(rfc9113_6_10_continuation_out_of_place), TEST_ENTRY(rfc9113_6_3_priority),
    TEST_ENTRY(rfc9113_6_4_rst_stream), TEST_ENTRY(rfc9113_6_5_settings_acknowledged),
    TEST_ENTRY(rfc9113_6_5_settings_errors), TEST_ENTRY(rfc9113_6_5_2_defined_settings_values),
    TEST_ENTRY(rfc9113_6_7_ping), TEST_ENTRY(rfc9113_6_8_goaway),
    TEST_ENTRY(rfc9113_6_6_push_promise_from_client), TEST_ENTRY(rfc9113_6_9_window_update),
    TEST_ENTRY(rfc9113_6_9_1_window_overflow), TEST_ENTRY(rfc9113_6_9_1_room_and_charging),
    TEST_ENTRY(rfc9113_6_9_2_initial_window_size_changes_open_streams),
    TEST_ENTRY(rfc9113_8_1_request_without_body),
    TEST_ENTRY(rfc9113_8_1_request_with_body_and_trailers),
    TEST_ENTRY(rfc9113_8_1_trailers_without_end_stream),
    TEST_ENTRY(rfc9113_8_3_1_malformed_requests), TEST_ENTRY(rfc9113_8_1_1_content_length),
    TEST_ENTRY(rfc9113_10_5_rapid_reset), TEST_ENTRY(rfc9113_10_5_continuation_flood_bytes),
    TEST_ENTRY(rfc9113_10_5_continuation_flood_empty), TEST_ENTRY(rfc9113_10_5_empty_data_flood),
    TEST_ENTRY(rfc9113_10_5_1_hpack_bomb), TEST_ENTRY(rfc9113_10_5_ping_and_settings_floods),
    TEST_ENTRY(rfc9113_10_5_control_queue_handed_back), TEST_ENTRY(h2_stream_reset_by_the_server),
    TEST_ENTRY(rfc9113_3_4_preface_must_be_followed_by_settings),
    TEST_ENTRY(rfc9113_5_1_1_stream_id_decreasing),
    TEST_ENTRY(rfc9113_5_1_half_closed_local_takes_trailers),
    TEST_ENTRY(rfc9113_5_1_closed_after_our_rst_frames_are_ignored),
    TEST_ENTRY(rfc9113_6_2_headers_priority_on_itself_keeps_hpack),
    TEST_ENTRY(rfc9113_6_9_1_receive_window_replenished),
    TEST_ENTRY(rfc9113_8_2_1_value_whitespace_malformed),
    TEST_ENTRY(rfc9113_8_1_1_content_length_short_then_trailers),
    TEST_ENTRY(rfc9113_10_5_server_resets_count_too),
    TEST_ENTRY(rfc9113_8_5_connect_needs_authority))
