/*
 * hpack.c - HPACK (RFC 7541): the decoder with its dynamic table and
 * Huffman strings, and the few encoders a server's responses need.
 */
#include <string.h>

#include "core/err.h"
#include "http/h2.h"

/* RFC 7541 Appendix A: the static table. */
static const struct {
	const char *name, *value;
} static_table[] = {
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};
#define STATIC_N ARRAY_SIZE(static_table)

/*
 * RFC 7541 Appendix B: the Huffman code's length in bits for each symbol
 * (256 is EOS).  The code is canonical: the codes of each length are
 * consecutive, in symbol order, after the last code of the length before
 * shifted left, so the lengths are the whole code.  huff_order lists the
 * symbols by (length, symbol) and huff_count counts each length; the unit
 * test derives both from huff_len again, and checks the codes against
 * the appendix's own hexadecimal column.
 */
const uint8_t hpack_huff_len[257] = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6,	10, 10, 12, 13, 6,  8,	11, 10, 10, 8,	11, 8,	6,  6,	6,
    5,	5,  5,	6,  6,	6,  6,	6,  6,	6,  7,	8,  15, 6,  12, 10, 13, 6,  7,	7,  7,	7,  7,	7,
    7,	7,  7,	7,  7,	7,  7,	7,  7,	7,  7,	7,  7,	7,  7,	7,  8,	7,  8,	13, 19, 13, 14, 6,
    15, 5,  6,	5,  6,	5,  6,	6,  6,	5,  7,	7,  6,	6,  6,	5,  6,	7,  6,	5,  5,	6,  7,	7,
    7,	7,  7,	15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21,
    23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24,
    21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
};

const uint16_t hpack_huff_order[257] = {
    48,	 49,  50,  97,	99,  101, 105, 111, 115, 116, 32,  37,	45,  46,  47,  51,  52,	 53,  54,
    55,	 56,  57,  61,	65,  95,  98,  100, 102, 103, 104, 108, 109, 110, 112, 114, 117, 58,  66,
    67,	 68,  69,  70,	71,  72,  73,  74,  75,	 76,  77,  78,	79,  80,  81,  82,  83,	 84,  85,
    86,	 87,  89,  106, 107, 113, 118, 119, 120, 121, 122, 38,	42,  44,  59,  88,  90,	 33,  34,
    40,	 41,  63,  39,	43,  124, 35,  62,  0,	 36,  64,  91,	93,  126, 94,  125, 60,	 96,  123,
    92,	 195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161, 167, 172, 176, 177, 179, 209,
    216, 217, 227, 229, 230, 129, 132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170, 173,
    178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232, 233, 1,   135, 137, 138, 139, 140, 141,
    143, 147, 149, 150, 151, 152, 155, 157, 158, 165, 166, 168, 174, 175, 180, 182, 183, 188, 191,
    197, 231, 239, 9,	142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237, 199, 207, 234, 235,
    192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255, 203, 204, 211, 212,
    214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254, 2,   3,	 4,   5,
    6,	 7,   8,   11,	12,  14,  15,  16,  17,	 18,  19,  20,	21,  23,  24,  25,  26,	 27,  28,
    29,	 30,  31,  127, 220, 249, 10,  13,  22,	 256,
};

const uint8_t hpack_huff_count[31] = {
    0, 0, 0, 0, 0, 10, 26, 32, 6,  0, 5,  3,  2,  6, 2, 3,
    0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
};

long hpack_huffman_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;
	uint32_t code = 0;  /* the bits of the symbol being read */
	unsigned bits = 0;  /* how many */
	uint32_t first = 0; /* the first code of length bits */
	unsigned index = 0; /* huff_order's index of that code */
	bool ones = true;   /* every bit of the symbol so far is 1 (padding so far) */
	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			unsigned bit = (in[i] >> b) & 1;
			code = code << 1 | bit;
			ones = ones && bit;
			bits++;
			first <<= 1;
			if (bits > 30)
				return -1;
			unsigned cnt = hpack_huff_count[bits];
			if (code - first < cnt) {
				unsigned sym = hpack_huff_order[index + (code - first)];
				if (sym == 256)
					return -1; /* RFC 7541 5.2: EOS is an error */
				if (o == cap)
					return -2;
				out[o++] = (uint8_t)sym;
				code = bits = first = index = 0;
				ones = true;
				continue;
			}
			first += cnt;
			index += cnt;
		}
	}
	/* RFC 7541 5.2: padding is at most 7 bits, the high bits of EOS */
	if (bits > 7 || !ones)
		return -1;
	return (long)o;
}

/* RFC 7541 5.1: an integer with an n-bit prefix. */
static bool int_decode(const uint8_t **p, const uint8_t *end, unsigned n, uint32_t *out)
{
	if (*p == end)
		return false;
	uint32_t max = (1u << n) - 1;
	uint32_t v = **p & max;
	(*p)++;
	if (v < max) {
		*out = v;
		return true;
	}
	for (unsigned shift = 0; shift <= 21; shift += 7) {
		if (*p == end)
			return false;
		uint8_t b = **p;
		(*p)++;
		v += (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false; /* more than 28 bits: no field of ours is that long */
}

void hpack_dec_init(struct hpack_dec *d)
{
	d->max = H2_TABLE_SIZE;
	d->size = 0;
	d->n = 0;
}

static void table_evict_one(struct hpack_dec *d)
{
	size_t k = (size_t)d->ent[0].nlen + d->ent[0].vlen;
	memmove(d->buf, d->buf + k,
		(size_t)(d->ent[d->n - 1].off + d->ent[d->n - 1].nlen + d->ent[d->n - 1].vlen) - k);
	for (unsigned i = 1; i < d->n; i++) {
		d->ent[i - 1] = d->ent[i];
		d->ent[i - 1].off = (uint16_t)(d->ent[i - 1].off - k);
	}
	d->n--;
	d->size -= (uint32_t)k + 32;
}

static void table_fit(struct hpack_dec *d, uint32_t room)
{
	while (d->n && d->size + room > d->max)
		table_evict_one(d);
}

/* RFC 7541 4.4: adding an entry larger than the table empties it. */
static void table_add(struct hpack_dec *d, const uint8_t *name, size_t nlen, const uint8_t *value,
		      size_t vlen)
{
	uint32_t sz = (uint32_t)(nlen + vlen + 32);
	if (sz > d->max) {
		while (d->n)
			table_evict_one(d);
		return;
	}
	table_fit(d, sz);
	size_t off =
	    d->n ? (size_t)d->ent[d->n - 1].off + d->ent[d->n - 1].nlen + d->ent[d->n - 1].vlen : 0;
	/* name and value may point into buf (an indexed name): memmove */
	memmove(d->buf + off, name, nlen);
	memmove(d->buf + off + nlen, value, vlen);
	d->ent[d->n].off = (uint16_t)off;
	d->ent[d->n].nlen = (uint16_t)nlen;
	d->ent[d->n].vlen = (uint16_t)vlen;
	d->n++;
	d->size += sz;
}

/* Entry index (1-based, static then dynamic, newest first). */
static bool table_get(const struct hpack_dec *d, uint32_t index, const uint8_t **name, size_t *nlen,
		      const uint8_t **value, size_t *vlen)
{
	if (index == 0)
		return false;
	if (index <= STATIC_N) {
		*name = (const uint8_t *)static_table[index - 1].name;
		*nlen = strlen(static_table[index - 1].name);
		*value = (const uint8_t *)static_table[index - 1].value;
		*vlen = strlen(static_table[index - 1].value);
		return true;
	}
	index -= STATIC_N;
	if (index > d->n)
		return false;
	unsigned k = d->n - index;
	*name = d->buf + d->ent[k].off;
	*nlen = d->ent[k].nlen;
	*value = *name + *nlen;
	*vlen = d->ent[k].vlen;
	return true;
}

/* A string literal (RFC 7541 5.2) into out[*o..cap). */
static int str_decode(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t cap, size_t *o,
		      const uint8_t **s, size_t *slen)
{
	if (*p == end)
		return H2_COMPRESSION_ERROR;
	bool huff = **p & 0x80;
	uint32_t n;
	if (!int_decode(p, end, 7, &n) || n > (size_t)(end - *p))
		return H2_COMPRESSION_ERROR;
	if (huff) {
		long k = hpack_huffman_decode(*p, n, out + *o, cap - *o);
		if (k < 0)
			return k == -2 ? H2_ENHANCE_YOUR_CALM : H2_COMPRESSION_ERROR;
		*s = out + *o;
		*slen = (size_t)k;
		*o += (size_t)k;
	} else {
		if (n > cap - *o)
			return H2_ENHANCE_YOUR_CALM;
		memcpy(out + *o, *p, n);
		*s = out + *o;
		*slen = n;
		*o += n;
	}
	*p += n;
	return 0;
}

int hpack_decode(struct hpack_dec *d, const uint8_t *in, size_t len, uint8_t *scratch, size_t cap,
		 struct hpack_field *fields, unsigned max, unsigned *n)
{
	const uint8_t *p = in, *end = in + len;
	size_t o = 0;
	*n = 0;
	bool any_field = false;
	while (p < end) {
		uint8_t b = *p;
		const uint8_t *name, *value;
		size_t nlen, vlen;
		uint32_t index;
		int rc;
		if (b & 0x80) {
			/* 6.1 indexed field */
			if (!int_decode(&p, end, 7, &index) ||
			    !table_get(d, index, &name, &nlen, &value, &vlen))
				return H2_COMPRESSION_ERROR;
			/* a dynamic entry may change before the block ends: copy */
			if (index > STATIC_N) {
				if (nlen + vlen > cap - o)
					return H2_ENHANCE_YOUR_CALM;
				memcpy(scratch + o, name, nlen);
				memcpy(scratch + o + nlen, value, vlen);
				name = scratch + o;
				value = scratch + o + nlen;
				o += nlen + vlen;
			}
		} else if ((b & 0xe0) == 0x20) {
			/* 6.3 dynamic table size update: only before the first field */
			uint32_t sz;
			if (any_field || !int_decode(&p, end, 5, &sz) || sz > H2_TABLE_SIZE)
				return H2_COMPRESSION_ERROR;
			d->max = sz;
			table_fit(d, 0);
			continue;
		} else {
			/* 6.2.1 incremental indexing (01), 6.2.2 without (0000),
			 * 6.2.3 never indexed (0001) */
			bool incremental = (b & 0xc0) == 0x40;
			unsigned prefix = incremental ? 6 : 4;
			if (!int_decode(&p, end, prefix, &index))
				return H2_COMPRESSION_ERROR;
			if (index) {
				const uint8_t *v0;
				size_t v0l;
				if (!table_get(d, index, &name, &nlen, &v0, &v0l))
					return H2_COMPRESSION_ERROR;
				if (index > STATIC_N) {
					if (nlen > cap - o)
						return H2_ENHANCE_YOUR_CALM;
					memcpy(scratch + o, name, nlen);
					name = scratch + o;
					o += nlen;
				}
			} else if ((rc = str_decode(&p, end, scratch, cap, &o, &name, &nlen)) !=
				   0) {
				return rc;
			}
			if ((rc = str_decode(&p, end, scratch, cap, &o, &value, &vlen)) != 0)
				return rc;
			if (incremental)
				table_add(d, name, nlen, value, vlen);
		}
		any_field = true;
		if (*n == max)
			return H2_ENHANCE_YOUR_CALM;
		fields[*n].name = (struct http_span){(const char *)name, nlen};
		fields[*n].value = (struct http_span){(const char *)value, vlen};
		(*n)++;
	}
	return 0;
}

/* RFC 7541 5.1, encoding. */
static bool int_encode(uint8_t *out, size_t cap, size_t *len, uint8_t first, unsigned n, uint32_t v)
{
	uint32_t max = (1u << n) - 1;
	if (*len == cap)
		return false;
	if (v < max) {
		out[(*len)++] = (uint8_t)(first | v);
		return true;
	}
	out[(*len)++] = (uint8_t)(first | max);
	v -= max;
	while (v >= 128) {
		if (*len == cap)
			return false;
		out[(*len)++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	if (*len == cap)
		return false;
	out[(*len)++] = (uint8_t)v;
	return true;
}

static bool raw_string(uint8_t *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (!int_encode(out, cap, len, 0, 7, (uint32_t)n) || n > cap - *len)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	return true;
}

bool hpack_encode_status(uint8_t *out, size_t cap, size_t *len, int status)
{
	char v[4];
	if (status < 100 || status > 999)
		return false;
	v[0] = (char)('0' + status / 100);
	v[1] = (char)('0' + status / 10 % 10);
	v[2] = (char)('0' + status % 10);
	v[3] = '\0';
	for (uint32_t i = 8; i <= 14; i++)
		if (!strcmp(static_table[i - 1].value, v))
			return int_encode(out, cap, len, 0x80, 7, i);
	/* literal without indexing, name :status (index 8) */
	return int_encode(out, cap, len, 0x00, 4, 8) && raw_string(out, cap, len, v, 3);
}

bool hpack_encode_field(uint8_t *out, size_t cap, size_t *len, const char *name, size_t nlen,
			const char *value, size_t vlen)
{
	uint32_t index = 0;
	for (uint32_t i = 15; i <= STATIC_N && !index; i++)
		if (strlen(static_table[i - 1].name) == nlen &&
		    !memcmp(static_table[i - 1].name, name, nlen))
			index = i;
	if (!int_encode(out, cap, len, 0x00, 4, index))
		return false;
	if (!index && !raw_string(out, cap, len, name, nlen))
		return false;
	return raw_string(out, cap, len, value, vlen);
}
