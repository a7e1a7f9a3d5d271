/*
 * fuzz_dns_xfrin.c - libFuzzer target for what a hostile primary can send
 * a secondary: transfer responses (AXFR, IXFR in every form) and NOTIFY
 * and SOA messages.
 *
 * Input: one mode byte (bit 0: IXFR from the held version, else AXFR;
 * bit 1: small limits), then messages, each a two-byte length and its
 * bytes (as on a TCP stream).  Every message is also parsed as a NOTIFY
 * request (and answered), as a NOTIFY response and as an SOA answer.
 * Invariants: no crash or sanitizer report; the region and scratch end where they
 * began unless a zone was built; a built zone has the serial of the
 * opening SOA and, transferred out again with our own AXFR, comes back in
 * identical; a NOTIFY answer is never larger than a header and question.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/xfr.h"

static const char held_text[] = "$TTL 300\n"
				"@ SOA ns hm 10 3600 600 86400 60\n"
				"@ NS ns\n"
				"@ MX 10 mail\n"
				"ns A 192.0.2.1\n"
				"mail A 192.0.2.25\n"
				"www A 192.0.2.80\n"
				"old TXT \"x\"\n";

static _Alignas(16) uint8_t zone_mem[4 << 20], scratch_mem[1 << 20], held_mem[1 << 18];
static uint8_t origin[DNS_NAME_MAX];

static const struct dns_zone *held(void)
{
	static struct dns_zone z;
	static struct arena a;
	if (z.nnodes)
		return &z;
	a.base = held_mem;
	a.size = sizeof held_mem;
	char err[256];
	if (dns_name_from_text("example.", 8, NULL, origin) != ATL_OK ||
	    dns_zone_load_text(&a, origin, "held", held_text, sizeof held_text - 1, NULL, NULL, &z,
			       err, sizeof err) != ATL_OK) {
		fprintf(stderr, "zone: %s\n", err);
		abort();
	}
	return &z;
}

/* Transfer z out with our own AXFR into a second xfrin; the result must
 * serve the same records. */
static void round_trip(const struct dns_zone *z, struct region *zr, struct arena *sa)
{
	static uint8_t q[512], m[65535];
	static struct dns_xfrin x;
	static struct dns_axfr ax;
	struct dns_xfrin_limits lim = {1 << 20, 1 << 30};
	size_t n = dns_xfr_query_build(z->origin, DNS_T_AXFR, NULL, 1, q, sizeof q);
	struct dns_zones zs = {1, {(struct dns_zone *)z}};
	if (dns_axfr_start(&zs, q, n, &ax) != DNS_R_NOERROR)
		abort();
	dns_xfrin_init(&x, z->origin, DNS_T_AXFR, 1, NULL, zr, sa, &lim);
	int rc = ATL_EAGAIN;
	while (rc == ATL_EAGAIN && (n = dns_axfr_next(&ax, m, sizeof m)))
		rc = dns_xfrin_msg(&x, m, n);
	struct dns_zone *again;
	if (rc != ATL_OK || dns_xfrin_finish(&x, &again) != ATL_OK) {
		fprintf(stderr, "round trip: %s\n", x.err);
		abort();
	}
	if (again->serial != z->serial || again->nnodes != z->nnodes)
		abort();
	for (size_t i = 0; i < z->nnodes; i++)
		if (z->nodes[i].nrrsets != again->nodes[i].nrrsets ||
		    !dns_name_equal(z->nodes[i].name, again->nodes[i].name))
			abort();
	dns_zone_free(zr, again);
}

static void other_parsers(const uint8_t *m, size_t n)
{
	static uint8_t out[65536];
	struct dns_notify nt;
	int rc = dns_notify_parse(m, n, &nt);
	if (rc >= 0) {
		size_t a = dns_notify_answer(m, n, (uint8_t)rc, out, sizeof out);
		if (a > DNS_HDR_LEN + DNS_NAME_MAX + 4)
			abort();
		if (a && dns_notify_response_parse(out, a, nt.id, nt.zone) == ATL_EINVAL &&
		    rc == DNS_R_NOERROR)
			abort();
	}
	(void)dns_notify_response_parse(m, n, 1, origin);
	struct dns_soa soa;
	(void)dns_soa_response_parse(m, n, 1, origin, &soa);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dns_zone *have = held();
	if (size < 1)
		return 0;
	struct region zr;
	region_init_mem(&zr, zone_mem, sizeof zone_mem);
	struct arena sa = {scratch_mem, sizeof scratch_mem, 0, 0, 0};
	bool ixfr = data[0] & 1;
	struct dns_xfrin_limits lim = {100000, 1 << 24};
	if (data[0] & 2)
		lim = (struct dns_xfrin_limits){20, 2000};
	static struct dns_xfrin x;
	dns_xfrin_init(&x, origin, ixfr ? DNS_T_IXFR : DNS_T_AXFR, 1, ixfr ? have : NULL, &zr, &sa,
		       &lim);
	struct rd r = rd_make(data + 1, size - 1);
	int rc = ATL_EAGAIN;
	while (rd_left(&r) >= 2) {
		size_t n = rd_be16(&r);
		if (n > rd_left(&r))
			n = rd_left(&r);
		const uint8_t *m = rd_take(&r, n);
		other_parsers(m, n);
		if (rc == ATL_EAGAIN)
			rc = dns_xfrin_msg(&x, m, n);
	}
	if (rc == ATL_EAGAIN || rc == ATL_OK) {
		struct dns_zone *z;
		rc = dns_xfrin_finish(&x, &z);
		if (rc == ATL_OK) {
			if (z->serial != x.new_serial || !dns_name_equal(z->origin, origin))
				abort();
			if (sa.used)
				abort();
			round_trip(z, &zr, &sa);
			dns_zone_free(&zr, z);
			if (zr.used)
				abort();
			return 0;
		}
	} else {
		dns_xfrin_abort(&x);
	}
	if (zr.used || sa.used)
		abort();
	return 0;
}
