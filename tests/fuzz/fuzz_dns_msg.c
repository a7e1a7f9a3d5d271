/*
 * fuzz_dns_msg.c - libFuzzer target for DNS message parsing and answering.
 *
 * Each input is one message.  It is read as a whole (header, every RR,
 * decompressed names, rdata expanded and printed) and answered by the
 * authoritative core against a zone that exercises every answering rule.
 * Invariants: no crash or sanitizer report; a response is never larger
 * than the UDP limit the query allows; a response parses back and echoes
 * the ID; a malformed query never gets a response larger than itself
 * plus the question and an OPT (no amplification from garbage); rate
 * limiting classifies every UDP response and its slipped (TC) form is
 * the header and question alone, never larger than the response.  The
 * response cache (a small one, shared by all inputs, so entries of one
 * input meet the lookups of others) answers every input twice, cold and
 * warm, and both answers are the full path's bytes; the case of the
 * question's name is then swapped and the cached answer must again be
 * the full path's, and the first byte of the input picks a cache size
 * and sometimes flushes it.  An
 * AXFR query also runs a whole transfer in small messages, each of
 * which must parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/dns.h"
#include "dns/rrl.h"

static const char zone_text[] =
    "$TTL 300\n"
    "@ SOA ns hostmaster 1 3600 900 604800 60\n"
    "@ NS ns\n"
    "@ MX 10 mail\n"
    "ns A 192.0.2.1\n"
    "mail A 192.0.2.2\n"
    "mail AAAA 2001:db8::2\n"
    "www CNAME host\n"
    "host A 192.0.2.3\n"
    "*.wild TXT \"wild\"\n"
    "a.b.c.ent A 192.0.2.4\n"
    "sub NS ns.sub\n"
    "ns.sub A 192.0.2.5\n"
    "old DNAME new.example.\n"
    "loop CNAME loop2\n"
    "loop2 CNAME loop\n"
    "big TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"3123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"4123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"5123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"6123456789012345678901234567890123456789012345678901234567890123456789\"\n"
    "big TXT \"7123456789012345678901234567890123456789012345678901234567890123456789\"\n";

static struct dns_zones *zones(void)
{
	static struct dns_zones zs;
	static struct dns_zone z;
	static struct arena a;
	static uint8_t mem[1 << 20];
	if (zs.n)
		return &zs;
	a.base = mem;
	a.size = sizeof mem;
	uint8_t origin[DNS_NAME_MAX];
	char err[256];
	if (dns_name_from_text("example.", 8, NULL, origin) != ATL_OK ||
	    dns_zone_load_text(&a, origin, "fuzz", zone_text, sizeof zone_text - 1, NULL, NULL, &z,
			       err, sizeof err) != ATL_OK) {
		fprintf(stderr, "zone: %s\n", err);
		abort();
	}
	zs.z[zs.n++] = &z;
	return &zs;
}

/* Read every RR of a message; returns false if it does not parse. */
static bool read_all(const uint8_t *m, size_t len)
{
	struct rd r = rd_make(m, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r))
		return false;
	for (unsigned i = 0; i < h.qd; i++) {
		uint8_t n[DNS_NAME_MAX];
		if (dns_name_read(&r, n) != ATL_OK)
			return false;
		rd_skip(&r, 4);
		char t[1024];
		if (dns_name_to_text(n, t, sizeof t) < 0)
			abort();
	}
	unsigned total = (unsigned)h.an + h.ns + h.ar;
	for (unsigned i = 0; i < total; i++) {
		static struct dns_rr rr;
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return false;
		static uint8_t rd[65536];
		static char text[300000];
		int n = dns_rdata_uncompress(m, len, &rr, rd, sizeof rd);
		if (n < 0)
			continue;
		if (dns_rdata_to_text(rr.type, rd, (size_t)n, text, sizeof text) < 0)
			abort();
	}
	return rd_ok(&r);
}

/* Rate 1, slip 1: the first response of a bucket goes out, the second
 * slips.  The clock moves two seconds a call, so buckets refill. */
static void check_rrl(uint8_t *resp, size_t n)
{
	static struct dns_rrl rrl;
	static uint64_t now;
	if (!rrl.tab) {
		static uint8_t mem[4096];
		static struct heap h;
		heap_init(&h, mem, sizeof mem);
		if (dns_rrl_init(&rrl, &h, 16, 1, 1) != ATL_OK)
			abort();
	}
	now += 2000000000ull;
	size_t len = n;
	if (dns_rrl_check(&rrl, 0x0a000001u, resp, &len, now) != DNS_RRL_SEND || len != n)
		abort();
	if (dns_rrl_check(&rrl, 0x0a000001u, resp, &len, now) != DNS_RRL_SLIP)
		abort();
	if (len > n || len > DNS_HDR_LEN + DNS_NAME_MAX + 4 || !(resp[2] & 0x02) ||
	    !read_all(resp, len))
		abort();
}

/* The cached path gives the full path's bytes (n, out) for msg. */
static void check_cache(const uint8_t *msg, size_t size, int tr, const uint8_t *out, size_t n)
{
	static struct dns_cache cache;
	static uint8_t mem[65 * DNS_CACHE_SLOT]; /* 64 slots and their alignment */
	static uint8_t got[65536];
	if (!cache.slots || (size && msg[0] == 0xff)) {
		struct heap h;
		heap_init(&h, mem, sizeof mem);
		/* Two to 64 slots: collisions and replacement. */
		if (dns_cache_init(&cache, &h,
				   (size_t)2 * DNS_CACHE_SLOT << (size ? msg[1 % size] % 6 : 0)) !=
		    ATL_OK)
			abort();
	}
	if (size > 1 && msg[1] == 0x5a)
		dns_cache_flush(&cache);
	for (int round = 0; round < 2; round++) {
		size_t m = 0;
		if (!dns_answer_cached(&cache, zones(), msg, size, tr ? DNS_TCP : DNS_UDP, got,
				       sizeof got, &m))
			return; /* not a plain query: the caller's path */
		if (m != n || memcmp(got, out, n))
			abort();
	}
}

static void check_cache_case(const uint8_t *msg, size_t size, int tr)
{
	static uint8_t sw[65536], full[65536];
	if (size > sizeof sw || size <= DNS_HDR_LEN)
		return;
	memcpy(sw, msg, size);
	for (size_t i = DNS_HDR_LEN; i < size && sw[i] && sw[i] < 64; i += sw[i] + 1u)
		for (size_t j = i + 1; j <= i + sw[i] && j < size; j++)
			if ((sw[j] | 0x20) >= 'a' && (sw[j] | 0x20) <= 'z')
				sw[j] ^= 0x20;
	size_t n = dns_answer(zones(), sw, size, tr ? DNS_TCP : DNS_UDP, full, sizeof full);
	check_cache(sw, size, tr, full, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_zones *zs = zones();
	read_all(data, size);
	static uint8_t out[65536];
	struct dns_query q;
	int prc = dns_query_parse(data, size, &q);
	for (int tr = 0; tr < 2; tr++) {
		size_t n = dns_answer(zs, data, size, tr ? DNS_TCP : DNS_UDP, out, sizeof out);
		check_cache(data, size, tr, out, n);
		check_cache_case(data, size, tr);
		if (!n)
			continue;
		if (prc == ATL_EINVAL)
			abort(); /* responses and runts are never answered */
		size_t limit = 512;
		if (q.edns && prc == DNS_R_NOERROR)
			limit = q.udp_size < DNS_EDNS_SIZE ? q.udp_size : DNS_EDNS_SIZE;
		if (!tr && n > (limit > 512 ? limit : 512))
			abort();
		if (prc != DNS_R_NOERROR && n > DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11)
			abort();
		if (!read_all(out, n))
			abort();
		if (out[0] != data[0] || out[1] != data[1] || !(out[2] & 0x80))
			abort();
		if (!tr)
			check_rrl(out, n);
	}
	/* A transfer of the zone, when the input asks for one. */
	struct dns_axfr x;
	if (dns_axfr_start(zs, data, size, &x) == DNS_R_NOERROR) {
		size_t n;
		unsigned msgs = 0;
		while ((n = dns_axfr_next(&x, out, 1024)) != 0) {
			if (!read_all(out, n) || ++msgs > 1000)
				abort();
		}
		if (!x.done)
			abort();
	}
	return 0;
}
