/*
 * fuzz_dns_update.c - libFuzzer target for the dynamic side of the DNS
 * server: UPDATE messages (RFC 2136), TSIG (RFC 8945) and the journal's
 * records and differences.
 *
 * The first byte picks what the rest is:
 *   0: an UPDATE message applied to a zone.  When it changes the zone,
 *      the difference must parse, replaying it over the old version must
 *      give the new serial and the same number of names, and every block
 *      must come back to the region afterwards (also on every error).
 *   1: a message whose TSIG is checked with known keys, as a request
 *      and as a response; a valid request is answered with a signed
 *      response, which must fit and parse.
 *   2: a journal record (header, difference, checksum) as read from a
 *      device, then its difference replayed over the zone and sent as an
 *      incremental IXFR in small messages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/dns.h"

static const char zone_text[] = "$TTL 300\n"
				"@ SOA ns hostmaster 1 3600 900 604800 60\n"
				"@ NS ns\n"
				"@ NS ns2\n"
				"@ MX 10 mail\n"
				"ns A 192.0.2.1\n"
				"ns2 A 192.0.2.6\n"
				"mail A 192.0.2.2\n"
				"www CNAME host\n"
				"host A 192.0.2.3\n"
				"host A 192.0.2.4\n"
				"*.wild TXT \"wild\"\n"
				"a.b.c.ent A 192.0.2.4\n"
				"sub NS ns.sub\n"
				"ns.sub A 192.0.2.5\n"
				"old DNAME new.example.\n";

static const char keys_text[] = "key k { algorithm hmac-sha256; secret \"a2V5a2V5a2V5\"; };\n"
				"key k1 { algorithm hmac-sha1; secret \"a2V5\"; };\n";

static uint8_t rmem[8 << 20] __attribute__((aligned(16)));
static struct region rg;
static struct dns_zone *z;
static struct dns_tsig_keys keys;
static size_t base_used;

static void setup(void)
{
	if (z)
		return;
	region_init_mem(&rg, rmem, sizeof rmem);
	uint8_t origin[DNS_NAME_MAX];
	char err[256];
	if (dns_name_from_text("example.", 8, NULL, origin) != ATL_OK ||
	    dns_zone_load_text_region(&rg, origin, "fuzz", zone_text, sizeof zone_text - 1, NULL,
				      NULL, &z, err, sizeof err) != ATL_OK ||
	    dns_tsig_keys_parse(&keys, keys_text, sizeof keys_text - 1, err, sizeof err) !=
		ATL_OK) {
		fprintf(stderr, "setup: %s\n", err);
		abort();
	}
	base_used = rg.used;
}

static void check_freed(void)
{
	if (rg.used != base_used) {
		fprintf(stderr, "region leak: %zu bytes\n", rg.used - base_used);
		abort();
	}
}

static void run_ixfr(const struct dns_zone *nz, const uint8_t *diff, size_t len)
{
	/* An IXFR query from serial 1 to nz, answered from this difference. */
	uint8_t q[512], out[600];
	struct wr w = wr_make(q, sizeof q);
	struct dns_hdr h = {1, 0, 1, 0, 1, 0};
	size_t sl;
	const uint8_t *soa = dns_zone_soa(z, &sl);
	dns_hdr_write(&w, &h);
	dns_name_write(&w, z->origin, NULL);
	wr_be16(&w, DNS_T_IXFR);
	wr_be16(&w, DNS_C_IN);
	dns_name_write(&w, z->origin, NULL);
	wr_be16(&w, DNS_T_SOA);
	wr_be16(&w, DNS_C_IN);
	wr_be32(&w, 0);
	wr_be16(&w, (uint16_t)sl);
	wr_bytes(&w, soa, sl);
	struct dns_zones zs = {1, {(struct dns_zone *)nz}};
	struct dns_axfr x;
	if (!wr_ok(&w) || dns_axfr_start(&zs, q, w.pos, &x) != DNS_R_NOERROR)
		abort();
	if (x.up_to_date)
		return;
	dns_ixfr_begin(&x);
	for (unsigned fed = 0, msgs = 0; msgs < 10000; msgs++) {
		if (x.need_diff)
			dns_ixfr_feed(&x, fed++ ? NULL : diff, len);
		size_t n = dns_axfr_next(&x, out, sizeof out);
		if (!n)
			break;
		if (n > sizeof out)
			abort();
	}
}

static void fuzz_update(const uint8_t *d, size_t n)
{
	struct dns_zones zs = {1, {z}};
	const struct dns_zone *found;
	uint8_t zn[DNS_NAME_MAX];
	uint8_t out[512];
	if (dns_update_zone(&zs, d, n, &found, zn) == DNS_R_NOERROR) {
		struct dns_update u = {.z = found, .r = &rg};
		int rc = dns_update_apply(&u, d, n);
		if (rc != DNS_R_NOERROR && (u.nz || u.diff))
			abort();
		if (u.nz) {
			struct dns_diff df;
			struct dns_zone *rz;
			char err[160];
			if (dns_diff_parse(u.diff, u.difflen, &df) != ATL_OK ||
			    df.new_serial != u.nz->serial || df.old_serial != z->serial)
				abort();
			if (dns_diff_apply(z, u.diff, u.difflen, &rg, &rz, err, sizeof err) ==
			    ATL_OK) {
				if (rz->serial != u.nz->serial || rz->nnodes != u.nz->nnodes)
					abort();
				dns_zone_free(&rg, rz);
			} else if (strcmp(err, "out of zone memory (zone-mem=)")) {
				fprintf(stderr, "replay: %s\n", err);
				abort();
			}
			run_ixfr(u.nz, u.diff, u.difflen);
			dns_zone_free(&rg, u.nz);
			region_free(&rg, u.diff);
		}
		(void)dns_update_response(d, n, rc, out, sizeof out);
	}
	check_freed();
}

static void fuzz_tsig(const uint8_t *d, size_t n)
{
	struct dns_tsig t;
	static uint8_t out[2048];
	/* As a client that signed a request with key k: a response. */
	struct dns_tsig cl = {.key = &keys.k[0], .maclen = 32};
	(void)dns_tsig_verify_response(&cl, d, n, 1800000000);
	int rc = dns_tsig_verify(&keys, d, n, 1800000000, &t);
	if (rc == DNS_R_NOTAUTH || rc == DNS_R_NOERROR) {
		size_t m = dns_tsig_error_response(&t, d, n, (uint16_t)(rc & 0xf), out, sizeof out,
						   1800000000);
		if (m) {
			struct dns_tsig c;
			/* Our own response must carry a TSIG we can find. */
			if (load_be16(out + 10) != 1 ||
			    dns_tsig_verify(&keys, out, m, 1800000000, &c) == ATL_ENOENT)
				abort();
		}
	}
}

static void fuzz_journal(const uint8_t *d, size_t n)
{
	size_t len;
	if (n >= DNS_JOURNAL_RHEAD && dns_journal_record_peek(d, 0, 0, &len) == ATL_OK &&
	    dns_journal_record_len(len) <= n)
		(void)dns_journal_record_check(d, dns_journal_record_len(len));
	uint64_t gen, epoch;
	(void)dns_journal_header_decode(d, n, &gen, &epoch);
	/* The bytes as a difference. */
	struct dns_zone *nz;
	char err[160];
	if (dns_diff_apply(z, d, n, &rg, &nz, err, sizeof err) == ATL_OK) {
		run_ixfr(nz, d, n);
		dns_zone_free(&rg, nz);
	}
	check_freed();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_update(data + 1, size - 1);
		break;
	case 1:
		fuzz_tsig(data + 1, size - 1);
		break;
	default:
		fuzz_journal(data + 1, size - 1);
		break;
	}
	return 0;
}
