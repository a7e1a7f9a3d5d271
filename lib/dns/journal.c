/*
 * journal.c - the layout of the journal's header and records (see dns.h);
 * the reading and writing is the app's.  The checksum is SHA-256 from
 * BearSSL: it detects a torn or stale record, it is not a signature.
 */
#include "bearssl/bearssl_hash.h"

#include "core/err.h"
#include "dns/dns.h"

static const char hdr_magic[16] = "atoll-journal-2";
static const uint8_t rec_magic[4] = {'A', 'T', 'J', 'R'};

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, out);
}

static void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

void dns_journal_header_encode(uint8_t out[DNS_JOURNAL_HDR], uint64_t gen, uint64_t epoch)
{
	memcpy(out, hdr_magic, 16);
	store_be64(out + 16, gen);
	store_be64(out + 24, epoch);
	sha256(out, 32, out + 32);
}

int dns_journal_header_decode(const uint8_t *buf, size_t len, uint64_t *gen, uint64_t *epoch)
{
	uint8_t sum[32];
	if (len < DNS_JOURNAL_HDR || memcmp(buf, hdr_magic, 16))
		return ATL_ENOENT;
	sha256(buf, 32, sum);
	if (memcmp(sum, buf + 32, 32))
		return ATL_ENOENT;
	*gen = load_be64(buf + 16);
	*epoch = load_be64(buf + 24);
	return ATL_OK;
}

void dns_journal_record_encode(uint8_t *out, uint64_t gen, uint32_t seq, const uint8_t *diff,
			       size_t len)
{
	memcpy(out, rec_magic, 4);
	store_be64(out + 4, gen);
	store_be32(out + 12, seq);
	store_be32(out + 16, (uint32_t)len);
	memcpy(out + DNS_JOURNAL_RHEAD, diff, len);
	sha256(out, DNS_JOURNAL_RHEAD + len, out + DNS_JOURNAL_RHEAD + len);
}

int dns_journal_record_peek(const uint8_t *head, uint64_t gen, uint32_t seq, size_t *len)
{
	if (memcmp(head, rec_magic, 4) || load_be64(head + 4) != gen || load_be32(head + 12) != seq)
		return ATL_ENOENT;
	*len = load_be32(head + 16);
	return ATL_OK;
}

int dns_journal_record_check(const uint8_t *rec, size_t reclen)
{
	uint8_t sum[32];
	if (reclen < DNS_JOURNAL_RHEAD + DNS_JOURNAL_RTAIL)
		return ATL_EINVAL;
	size_t n = reclen - DNS_JOURNAL_RTAIL;
	if (load_be32(rec + 16) != n - DNS_JOURNAL_RHEAD)
		return ATL_EINVAL;
	sha256(rec, n, sum);
	return memcmp(sum, rec + n, 32) ? ATL_EINVAL : ATL_OK;
}
