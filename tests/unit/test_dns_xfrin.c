/*
 * test_dns_xfrin.c - the secondary's pure pieces: SOA fields and RFC 1982
 * serial arithmetic, NOTIFY built, parsed and answered (RFC 1996), SOA
 * queries and their answers, and transfers in: AXFR from our own AXFR
 * output, IXFR in its three forms (up to date, AXFR form, differences over
 * several steps), and every way a transfer is refused with the arenas left
 * as they were.
 *
 * Transfer responses are written from master-file lines, so each test
 * reads like the records a primary sends.
 */
#include "core/err.h"
#include "dns/xfr.h"
#include "test.h"

static _Alignas(16) uint8_t zone_mem[1 << 20], region_mem[1 << 20], scratch_mem[1 << 18];
static struct arena za, sa;
static struct region zr; /* transferred zones */

static const char base_zone[] = "$TTL 300\n"
				"@ SOA ns hm 10 3600 600 86400 60\n"
				"@ NS ns\n"
				"@ MX 10 mail\n"
				"ns A 192.0.2.1\n"
				"mail A 192.0.2.25\n"
				"www A 192.0.2.80\n"
				"www A 192.0.2.81\n"
				"old TXT \"going away\"\n";

static void arenas_reset(void)
{
	za = (struct arena){zone_mem, sizeof zone_mem, 0, 0, 0};
	sa = (struct arena){scratch_mem, sizeof scratch_mem, 0, 0, 0};
	region_init_mem(&zr, region_mem, sizeof region_mem);
}

static const uint8_t *origin(void)
{
	static uint8_t o[DNS_NAME_MAX];
	dns_name_from_text("example.", 8, NULL, o);
	return o;
}

static bool load(const char *text, struct dns_zone *z)
{
	char err[256];
	int rc = dns_zone_load_text(&za, origin(), "t", text, strlen(text), NULL, NULL, z, err,
				    sizeof err);
	if (rc != ATL_OK)
		printf("#   load: %s\n", err);
	return rc == ATL_OK;
}

/* Every RR of a zone as sorted presentation lines, for comparisons. */
static void zone_dump(const struct dns_zone *z, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct dns_node *nd = &z->nodes[i];
		for (unsigned j = 0; j < nd->nrrsets; j++) {
			const struct dns_rrset *s = &nd->rrsets[j];
			const uint8_t *p = s->rdata;
			for (unsigned k = 0; k < s->count; k++) {
				char name[1024], type[16], rd[1024];
				dns_name_to_text(nd->name, name, sizeof name);
				dns_rdata_to_text(s->type, p + 2, load_be16(p), rd, sizeof rd);
				n += (size_t)snprintf(
				    out + n, cap - n, "%s %u %s %s\n", name, s->ttl,
				    dns_type_name(s->type, type, sizeof type), rd);
				p += 2 + load_be16(p);
			}
		}
	}
}

/* A response message built from master-file lines (relative to example.). */
struct mbuild {
	struct wr w;
	struct dns_cmp c;
	unsigned an;
};

static int mb_record(void *ctx, const struct dns_zrec *rec)
{
	struct mbuild *m = ctx;
	dns_name_write(&m->w, rec->owner, &m->c);
	wr_be16(&m->w, rec->type);
	wr_be16(&m->w, rec->class);
	wr_be32(&m->w, rec->ttl);
	wr_be16(&m->w, rec->rdlen);
	wr_bytes(&m->w, rec->rdata, rec->rdlen);
	m->an++;
	return ATL_OK;
}

static size_t response(uint8_t *out, size_t cap, uint16_t id, uint16_t flags, bool question,
		       uint16_t qtype, const char *rrs)
{
	static uint8_t scratch[DNS_ZPARSE_SCRATCH];
	struct mbuild m = {wr_make(out, cap), {0}, 0};
	wr_zero(&m.w, DNS_HDR_LEN);
	if (question) {
		dns_name_write(&m.w, origin(), &m.c);
		wr_be16(&m.w, qtype);
		wr_be16(&m.w, DNS_C_IN);
	}
	struct dns_zparse p = {
	    .record = mb_record, .ctx = &m, .default_ttl = 300, .scratch = scratch};
	int rc = dns_zonefile_parse(&p, "msg", rrs, strlen(rrs), origin());
	if (rc != ATL_OK)
		printf("#   response: %s\n", p.err);
	struct dns_hdr h = {
	    id, (uint16_t)(DNS_F_QR | DNS_F_AA | flags), question ? 1 : 0, (uint16_t)m.an, 0, 0};
	struct wr hw = wr_make(out, DNS_HDR_LEN);
	dns_hdr_write(&hw, &h);
	return wr_ok(&m.w) ? m.w.pos : 0;
}

static const struct dns_xfrin_limits lim = {100000, 1 << 24};

TEST(soa_fields_and_rfc1982_serials)
{
	arenas_reset();
	struct dns_zone z;
	CHECK(load(base_zone, &z));
	struct dns_soa soa;
	dns_zone_soa_fields(&z, &soa);
	CHECK_EQ(soa.serial, 10);
	CHECK_EQ(soa.refresh, 3600);
	CHECK_EQ(soa.retry, 600);
	CHECK_EQ(soa.expire, 86400);
	CHECK_EQ(soa.minimum, 60);
	CHECK_EQ(dns_soa_parse((const uint8_t *)"\0\0", 2, &soa), ATL_EINVAL);
	/* RFC 1982 3.2 */
	CHECK(dns_serial_cmp(1, 2) < 0);
	CHECK(dns_serial_cmp(2, 1) > 0);
	CHECK(dns_serial_cmp(7, 7) == 0);
	CHECK(dns_serial_cmp(0xffffffffu, 0) < 0); /* wraps */
	CHECK(dns_serial_cmp(0, 0xffffffffu) > 0);
	CHECK(dns_serial_cmp(0x7fffffffu, 0) > 0);
	CHECK(dns_serial_cmp(0, 0x7fffffffu) < 0);
	CHECK(dns_serial_cmp(0x80000001u, 0) < 0); /* more than half away: "before" */
}

TEST(notify_round_trip_and_answer)
{
	arenas_reset();
	struct dns_zone z;
	CHECK(load(base_zone, &z));
	uint8_t msg[512], ans[512];
	size_t n = dns_notify_build(&z, 0x1234, msg, sizeof msg);
	CHECK(n > DNS_HDR_LEN);
	CHECK_EQ(DNS_OPCODE(load_be16(msg + 2)), DNS_OP_NOTIFY);
	CHECK(load_be16(msg + 2) & DNS_F_AA);
	struct dns_notify nt;
	CHECK_EQ(dns_notify_parse(msg, n, &nt), DNS_R_NOERROR);
	CHECK_EQ(nt.id, 0x1234);
	CHECK(dns_name_equal(nt.zone, origin()));
	CHECK(nt.has_serial);
	CHECK_EQ(nt.serial, 10);
	/* RFC 1996 4.7: same ID and question, QR and AA, opcode NOTIFY. */
	size_t m = dns_notify_answer(msg, n, DNS_R_NOERROR, ans, sizeof ans);
	CHECK(m > DNS_HDR_LEN);
	uint16_t f = load_be16(ans + 2);
	CHECK(f & DNS_F_QR);
	CHECK(f & DNS_F_AA);
	CHECK_EQ(DNS_OPCODE(f), DNS_OP_NOTIFY);
	CHECK_EQ(load_be16(ans + 4), 1);
	CHECK_EQ(load_be16(ans + 6), 0);
	CHECK_EQ(dns_notify_response_parse(ans, m, 0x1234, origin()), DNS_R_NOERROR);
	CHECK_EQ(dns_notify_response_parse(ans, m, 0x1235, origin()), ATL_EINVAL);
	m = dns_notify_answer(msg, n, DNS_R_REFUSED, ans, sizeof ans);
	CHECK_EQ(dns_notify_response_parse(ans, m, 0x1234, origin()), DNS_R_REFUSED);
	/* The request itself is not a response; a response is not a request. */
	CHECK_EQ(dns_notify_response_parse(msg, n, 0x1234, origin()), ATL_EINVAL);
	CHECK_EQ(dns_notify_parse(ans, m, &nt), ATL_EINVAL);
}

TEST(notify_requests_that_are_wrong)
{
	arenas_reset();
	struct dns_zone z;
	CHECK(load(base_zone, &z));
	uint8_t msg[512], ans[512];
	struct dns_notify nt;
	size_t n = dns_notify_build(&z, 7, msg, sizeof msg);
	/* A query (opcode 0) is not a NOTIFY. */
	uint8_t q[512];
	memcpy(q, msg, n);
	q[2] &= 0x87;
	CHECK_EQ(dns_notify_parse(q, n, &nt), ATL_EINVAL);
	/* QTYPE other than SOA: NOTIMP (RFC 1996 3.7). */
	memcpy(q, msg, n);
	q[DNS_HDR_LEN + 9] = DNS_T_A; /* example. is 9 bytes, then the type */
	CHECK_EQ(dns_notify_parse(q, n, &nt), DNS_R_NOTIMP);
	/* No question: FORMERR, answered without one. */
	memcpy(q, msg, DNS_HDR_LEN);
	q[5] = 0;
	q[7] = 0;
	CHECK_EQ(dns_notify_parse(q, DNS_HDR_LEN, &nt), DNS_R_FORMERR);
	size_t m = dns_notify_answer(q, DNS_HDR_LEN, DNS_R_FORMERR, ans, sizeof ans);
	CHECK_EQ(m, DNS_HDR_LEN);
	CHECK_EQ(DNS_RCODE(load_be16(ans + 2)), DNS_R_FORMERR);
	CHECK_EQ(dns_notify_answer(q, DNS_HDR_LEN, DNS_R_NOERROR, ans, sizeof ans), 0);
	/* A truncated SOA hint makes the message malformed. */
	CHECK_EQ(dns_notify_parse(msg, n - 3, &nt), DNS_R_FORMERR);
	/* Runts get nothing. */
	CHECK_EQ(dns_notify_parse(msg, 5, &nt), ATL_EINVAL);
	CHECK_EQ(dns_notify_answer(msg, 5, DNS_R_FORMERR, ans, sizeof ans), 0);
}

TEST(soa_query_answered_by_the_core)
{
	arenas_reset();
	struct dns_zone z;
	CHECK(load(base_zone, &z));
	struct dns_zones zs = {1, {&z}};
	uint8_t q[512], a[512];
	size_t n = dns_soa_query_build(origin(), 99, q, sizeof q);
	CHECK(n > DNS_HDR_LEN);
	size_t m = dns_answer(&zs, q, n, DNS_UDP, a, sizeof a);
	struct dns_soa soa;
	CHECK_EQ(dns_soa_response_parse(a, m, 99, origin(), &soa), ATL_OK);
	CHECK_EQ(soa.serial, 10);
	CHECK_EQ(soa.expire, 86400);
	CHECK_EQ(dns_soa_response_parse(a, m, 98, origin(), &soa), ATL_EINVAL);
	/* Without AA the server is not a primary for it. */
	a[2] &= (uint8_t) ~(DNS_F_AA >> 8);
	CHECK_EQ(dns_soa_response_parse(a, m, 99, origin(), &soa), ATL_EINVAL);
	/* A zone the server does not have: its rcode comes back. */
	uint8_t other[DNS_NAME_MAX];
	dns_name_from_text("other.test.", 11, NULL, other);
	n = dns_soa_query_build(other, 5, q, sizeof q);
	m = dns_answer(&zs, q, n, DNS_UDP, a, sizeof a);
	CHECK_EQ(dns_soa_response_parse(a, m, 5, other, &soa), DNS_R_REFUSED);
	CHECK_EQ(dns_soa_response_parse(a, m, 5, origin(), &soa), ATL_EINVAL);
}

/* Run our own AXFR/IXFR server side on query q into xfrin, in messages of
 * at most cap bytes. */
static int serve_into(const struct dns_zone *src, const uint8_t *q, size_t qlen, size_t cap,
		      struct dns_xfrin *x)
{
	struct dns_zones zs = {1, {(struct dns_zone *)src}};
	static struct dns_axfr ax;
	static uint8_t m[65535];
	if (dns_axfr_start(&zs, q, qlen, &ax) != DNS_R_NOERROR)
		return ATL_EUNSPEC;
	size_t n;
	int rc = ATL_EAGAIN;
	while (rc == ATL_EAGAIN && (n = dns_axfr_next(&ax, m, cap)))
		rc = dns_xfrin_msg(x, m, n);
	return rc;
}

TEST(axfr_in_from_our_own_axfr_out)
{
	arenas_reset();
	struct dns_zone src, *got;
	CHECK(load(base_zone, &src));
	size_t used = zr.used;
	uint8_t q[512];
	size_t n = dns_xfr_query_build(origin(), DNS_T_AXFR, NULL, 42, q, sizeof q);
	static struct dns_xfrin x;
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 42, NULL, &zr, &sa, &lim);
	/* Small messages: the transfer spans several. */
	CHECK_EQ(serve_into(&src, q, n, 120, &x), ATL_OK);
	if (x.msgs <= 2)
		printf("#   %zu messages\n", x.msgs);
	CHECK(x.msgs > 2);
	CHECK_EQ(dns_xfrin_finish(&x, &got), ATL_OK);
	CHECK(zr.used > used);
	CHECK_EQ(got->serial, 10);
	static char a[8192], b[8192];
	zone_dump(&src, a, sizeof a);
	zone_dump(got, b, sizeof b);
	CHECK(!strcmp(a, b));
	CHECK_EQ(sa.used, 0);
}

TEST(ixfr_answered_in_axfr_form_and_up_to_date)
{
	arenas_reset();
	struct dns_zone have, src, *got;
	CHECK(load(base_zone, &have));
	char newer[sizeof base_zone + 64];
	snprintf(newer, sizeof newer, "%s", base_zone);
	memcpy(strstr(newer, " 10 "), " 11 ", 4);
	strcat(newer, "new A 192.0.2.9\n");
	CHECK(load(newer, &src));
	uint8_t q[512];
	size_t n = dns_xfr_query_build(origin(), DNS_T_IXFR, &have, 7, q, sizeof q);
	CHECK_EQ(load_be16(q + 8), 1); /* RFC 1995 3: our SOA in authority */
	static struct dns_xfrin x;
	dns_xfrin_init(&x, origin(), DNS_T_IXFR, 7, &have, &zr, &sa, &lim);
	/* Our server side answers IXFR with the whole zone (AXFR form). */
	CHECK_EQ(serve_into(&src, q, n, 65535, &x), ATL_OK);
	CHECK_EQ(dns_xfrin_finish(&x, &got), ATL_OK);
	CHECK_EQ(got->serial, 11);
	CHECK(dns_zone_find(got, (const uint8_t *)"\3new\7example"));

	/* Asking with serial 11 of a server at 11: the SOA alone. */
	n = dns_xfr_query_build(origin(), DNS_T_IXFR, got, 8, q, sizeof q);
	size_t used = zr.used;
	dns_xfrin_init(&x, origin(), DNS_T_IXFR, 8, got, &zr, &sa, &lim);
	CHECK_EQ(serve_into(&src, q, n, 65535, &x), ATL_OK);
	CHECK(x.up_to_date);
	struct dns_zone *none;
	CHECK_EQ(dns_xfrin_finish(&x, &none), ATL_ENOENT);
	CHECK_EQ(zr.used, used);
	/* A newer SOA alone (no changes with it) is refused, not taken as
	 * "up to date". */
	uint8_t m[512];
	size_t ml =
	    response(m, sizeof m, 9, 0, true, DNS_T_IXFR, "@ SOA ns hm 12 3600 600 86400 60\n");
	dns_xfrin_init(&x, origin(), DNS_T_IXFR, 9, got, &zr, &sa, &lim);
	CHECK_EQ(dns_xfrin_msg(&x, m, ml), ATL_EINVAL);
	dns_xfrin_abort(&x);
	CHECK_EQ(zr.used, used);
}

TEST(ixfr_differences_over_several_steps)
{
	arenas_reset();
	struct dns_zone have, *got;
	CHECK(load(base_zone, &have));
	/* 10 -> 11: old goes, www loses .81, new arrives;
	 * 11 -> 12: .81 comes back, ns changes TTL, new goes again, a
	 * second name arrives; the deletion of a record we never had is
	 * harmless. */
	const char *rrs = "$TTL 300\n"
			  "@ SOA ns hm 12 3600 600 86400 60\n"
			  "@ SOA ns hm 10 3600 600 86400 60\n"
			  "old TXT \"going away\"\n"
			  "www A 192.0.2.81\n"
			  "@ SOA ns hm 11 3600 600 86400 60\n"
			  "new A 192.0.2.9\n"
			  "@ SOA ns hm 11 3600 600 86400 60\n"
			  "www A 192.0.2.81\n" /* deleting what step 1 deleted: no matter */
			  "ns A 192.0.2.1\n"
			  "new A 192.0.2.9\n"
			  "never A 192.0.2.200\n"
			  "@ SOA ns hm 12 3600 600 86400 60\n"
			  "www 300 A 192.0.2.81\n"
			  "ns 7200 A 192.0.2.1\n"
			  "deep.er 300 TXT here\n"
			  "@ SOA ns hm 12 3600 600 86400 60\n";
	static uint8_t m[8192];
	size_t n = response(m, sizeof m, 3, 0, true, DNS_T_IXFR, rrs);
	static struct dns_xfrin x;
	dns_xfrin_init(&x, origin(), DNS_T_IXFR, 3, &have, &zr, &sa, &lim);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_OK);
	CHECK(!x.loading); /* differences, not AXFR form */
	CHECK_EQ(x.ndiffs, 10);
	CHECK_EQ(dns_xfrin_finish(&x, &got), ATL_OK);
	CHECK_EQ(sa.used, 0);
	static char d[8192];
	zone_dump(got, d, sizeof d);
	const char *want = "example. 300 NS ns.example.\n"
			   "example. 300 SOA ns.example. hm.example. 12 3600 600 86400 60\n"
			   "example. 300 MX 10 mail.example.\n"
			   "deep.er.example. 300 TXT \"here\"\n"
			   "mail.example. 300 A 192.0.2.25\n"
			   "ns.example. 7200 A 192.0.2.1\n"
			   "www.example. 300 A 192.0.2.80\n"
			   "www.example. 300 A 192.0.2.81\n";
	if (strcmp(d, want))
		printf("#   got:\n%s", d);
	CHECK(!strcmp(d, want));
	CHECK_EQ(got->serial, 12);
	/* The held version is untouched. */
	CHECK_EQ(have.serial, 10);
	CHECK(dns_zone_find(&have, (const uint8_t *)"\3old\7example"));
}

TEST(ixfr_differences_split_across_messages)
{
	arenas_reset();
	struct dns_zone have, *got;
	CHECK(load(base_zone, &have));
	static uint8_t m[2048];
	static struct dns_xfrin x;
	dns_xfrin_init(&x, origin(), DNS_T_IXFR, 4, &have, &zr, &sa, &lim);
	size_t n = response(m, sizeof m, 4, 0, true, DNS_T_IXFR,
			    "@ SOA ns hm 11 3600 600 86400 60\n"
			    "@ SOA ns hm 10 3600 600 86400 60\n");
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EAGAIN);
	n = response(m, sizeof m, 4, 0, false, 0,
		     "old TXT \"going away\"\n@ SOA ns hm 11 3600 600 86400 60\n");
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EAGAIN);
	n = response(m, sizeof m, 4, 0, false, 0, "@ SOA ns hm 11 3600 600 86400 60\n");
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_OK);
	CHECK_EQ(dns_xfrin_finish(&x, &got), ATL_OK);
	CHECK_EQ(got->serial, 11);
	CHECK(!dns_zone_find(got, (const uint8_t *)"\3old\7example"));
}

/* Feed rrs as one message; expect rc from msg (and from finish when the
 * message completes); the arenas must end as they began. */
static void refused(uint16_t qtype, const struct dns_zone *have, uint16_t flags, const char *rrs,
		    int want, const char *why)
{
	static uint8_t m[8192];
	static struct dns_xfrin x;
	size_t zu = zr.used;
	size_t n = response(m, sizeof m, 1, flags, true, qtype, rrs);
	dns_xfrin_init(&x, origin(), qtype, 1, have, &zr, &sa, &lim);
	int rc = dns_xfrin_msg(&x, m, n);
	if (rc == ATL_OK) {
		struct dns_zone *z;
		rc = dns_xfrin_finish(&x, &z);
	} else {
		dns_xfrin_abort(&x);
	}
	if (rc != want || (why && !strstr(x.err, why)))
		printf("#   %s: rc %d, err \"%s\"\n", why ? why : "", rc, x.err);
	CHECK_EQ(rc, want);
	CHECK(!why || strstr(x.err, why));
	CHECK_EQ(zr.used, zu);
	CHECK_EQ(sa.used, 0);
}

TEST(hostile_or_broken_transfers_are_refused_whole)
{
	arenas_reset();
	struct dns_zone have;
	CHECK(load(base_zone, &have));
	const char *soa12 = "@ SOA ns hm 12 3600 600 86400 60\n";
	(void)soa12;
	refused(DNS_T_AXFR, NULL, 0, "ns A 192.0.2.1\n", ATL_EINVAL, "does not start with");
	refused(DNS_T_AXFR, NULL, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n"
		"@ SOA ns hm 13 3600 600 86400 60\n",
		ATL_EINVAL, "closing SOA differs");
	refused(DNS_T_AXFR, NULL, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\n@ SOA ns hm 12 3600 600 86400 60\n"
		"ns A 192.0.2.1\n",
		ATL_EINVAL, "after the closing SOA");
	refused(DNS_T_AXFR, NULL, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\nevil.test. A 192.0.2.1\n"
		"@ SOA ns hm 12 3600 600 86400 60\n",
		ATL_EINVAL, "out-of-zone");
	/* The zone checks: no NS at the apex, a CNAME beside data. */
	refused(DNS_T_AXFR, NULL, 0,
		"@ SOA ns hm 12 3600 600 86400 60\nns A 192.0.2.1\n"
		"@ SOA ns hm 12 3600 600 86400 60\n",
		ATL_EINVAL, "NS");
	refused(DNS_T_AXFR, NULL, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\nns CNAME x\n"
		"@ SOA ns hm 12 3600 600 86400 60\n",
		ATL_EINVAL, "CNAME");
	/* Truncation, an rcode, a missing closing SOA. */
	refused(DNS_T_AXFR, NULL, DNS_F_TC, "@ SOA ns hm 12 3600 600 86400 60\n", ATL_EINVAL,
		"truncated");
	refused(DNS_T_IXFR, &have, DNS_R_NOTIMP, "", DNS_R_NOTIMP, "rcode 4");
	/* IXFR: steps that do not chain, deletions that would leave no NS,
	 * an addition outside the zone. */
	refused(DNS_T_IXFR, &have, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ SOA ns hm 10 3600 600 86400 60\n"
		"@ SOA ns hm 11 3600 600 86400 60\n@ SOA ns hm 9 3600 600 86400 60\n",
		ATL_EINVAL, "do not follow");
	refused(DNS_T_IXFR, &have, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ SOA ns hm 10 3600 600 86400 60\n"
		"@ NS ns\n@ SOA ns hm 12 3600 600 86400 60\n@ SOA ns hm 12 3600 600 86400 60\n",
		ATL_EINVAL, "NS");
	refused(DNS_T_IXFR, &have, 0,
		"@ SOA ns hm 12 3600 600 86400 60\n@ SOA ns hm 10 3600 600 86400 60\n"
		"@ SOA ns hm 12 3600 600 86400 60\nx.other. A 192.0.2.1\n"
		"@ SOA ns hm 12 3600 600 86400 60\n",
		ATL_EINVAL, "outside the zone");
	/* An IXFR whose first message ends mid-way is not complete. */
	static uint8_t m[1024];
	static struct dns_xfrin x;
	size_t n = response(m, sizeof m, 1, 0, true, DNS_T_AXFR,
			    "@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\n");
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &zr, &sa, &lim);
	size_t zu = zr.used;
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EAGAIN);
	struct dns_zone *z;
	CHECK_EQ(dns_xfrin_finish(&x, &z), ATL_EINVAL);
	CHECK(strstr(x.err, "before its closing SOA"));
	CHECK_EQ(zr.used, zu);
	/* Not our ID, not our question, no question at first. */
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 2, NULL, &zr, &sa, &lim);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EINVAL);
	n = response(m, sizeof m, 1, 0, true, DNS_T_IXFR, "@ SOA ns hm 12 3600 600 86400 60\n");
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &zr, &sa, &lim);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EINVAL);
	n = response(m, sizeof m, 1, 0, false, 0, "@ SOA ns hm 12 3600 600 86400 60\n");
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &zr, &sa, &lim);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EINVAL);
	dns_xfrin_abort(&x);
	CHECK_EQ(zr.used, zu);
}

TEST(transfer_limits_bound_a_hostile_primary)
{
	arenas_reset();
	static uint8_t m[4096];
	static struct dns_xfrin x;
	struct dns_xfrin_limits small = {3, 1 << 20};
	size_t n = response(m, sizeof m, 1, 0, true, DNS_T_AXFR,
			    "@ SOA ns hm 12 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n"
			    "a A 192.0.2.2\n@ SOA ns hm 12 3600 600 86400 60\n");
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &zr, &sa, &small);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EMSGSIZE);
	dns_xfrin_abort(&x);
	CHECK_EQ(zr.used, 0);
	small = (struct dns_xfrin_limits){1000, 100};
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &zr, &sa, &small);
	CHECK_EQ(dns_xfrin_msg(&x, m, n), ATL_EMSGSIZE);
	dns_xfrin_abort(&x);
	/* A region too small for the zone: ENOMEM, rolled back. */
	struct region tiny;
	region_init_mem(&tiny, region_mem, 512);
	dns_xfrin_init(&x, origin(), DNS_T_AXFR, 1, NULL, &tiny, &sa, &lim);
	int rc = dns_xfrin_msg(&x, m, n);
	if (rc == ATL_OK) {
		struct dns_zone *z;
		rc = dns_xfrin_finish(&x, &z);
	} else {
		dns_xfrin_abort(&x);
	}
	CHECK(rc == ATL_ENOMEM || rc == ATL_EINVAL);
	CHECK_EQ(tiny.used, 0);
	CHECK_EQ(region_largest_free(&tiny), 512 - 16);
}

TEST(tsig_on_a_transfer_as_a_client)
{
	/* dns_tsig_verify_response (tsig.c) as the secondary uses it: the
	 * client signs its request; the server checks it and signs two
	 * messages; the client checks them in order (RFC 8945 5.3). */
	static const char keys[] = "key \"xfr\" { algorithm hmac-sha256; "
				   "secret \"eGZyLWtleS1mb3ItYXRvbGwtdGVzdHMtMDAwMDAwMDA=\"; };\n"
				   "key \"other\" { algorithm hmac-sha256; secret \"AAAA\"; };\n";
	static struct dns_tsig_keys ks;
	char err[128];
	memset(&ks, 0, sizeof ks);
	CHECK_EQ(dns_tsig_keys_parse(&ks, keys, sizeof keys - 1, err, sizeof err), ATL_OK);
	uint8_t xfr[DNS_NAME_MAX], other[DNS_NAME_MAX];
	dns_name_from_text("xfr.", 4, NULL, xfr);
	dns_name_from_text("other.", 6, NULL, other);
	uint64_t now = 1800000000;
	uint8_t q[1024], m1[1024], m2[1024], bad[1024];
	size_t qn = dns_soa_query_build(origin(), 77, q, sizeof q);
	struct dns_tsig c = {.key = dns_tsig_key_find(&ks, xfr)}, srv;
	CHECK(c.key);
	qn = dns_tsig_sign(&c, q, qn, sizeof q, now);
	CHECK(qn > 0);
	CHECK_EQ(dns_tsig_verify(&ks, q, qn, now + 5, &srv), DNS_R_NOERROR);
	size_t n1 =
	    response(m1, sizeof m1, 77, 0, true, DNS_T_SOA, "@ SOA ns hm 12 3600 600 86400 60\n");
	size_t n2 = response(m2, sizeof m2, 77, 0, false, 0, "@ NS ns\n");
	n1 = dns_tsig_sign(&srv, m1, n1, sizeof m1, now + 5);
	n2 = dns_tsig_sign(&srv, m2, n2, sizeof m2, now + 6);
	CHECK(n1 && n2);
	/* Out of order: the second message does not follow the request. */
	struct dns_tsig c2 = c;
	CHECK_EQ(dns_tsig_verify_response(&c2, m2, n2, now + 6), DNS_R_NOTAUTH);
	/* A flipped byte, then the real one. */
	memcpy(bad, m1, n1);
	bad[DNS_HDR_LEN + 2] ^= 1;
	CHECK_EQ(dns_tsig_verify_response(&c, bad, n1, now + 6), DNS_R_NOTAUTH);
	CHECK_EQ(dns_tsig_verify_response(&c, m1, n1, now + 6), DNS_R_NOERROR);
	CHECK_EQ(dns_tsig_verify_response(&c, m2, n2, now + 7), DNS_R_NOERROR);
	/* Too late (past the fudge), unsigned, or signed with another key. */
	c2 = (struct dns_tsig){.key = c.key};
	qn = dns_tsig_sign(&c2, q, dns_soa_query_build(origin(), 78, q, sizeof q), sizeof q, now);
	CHECK_EQ(dns_tsig_verify(&ks, q, qn, now, &srv), DNS_R_NOERROR);
	n1 = response(m1, sizeof m1, 78, 0, true, DNS_T_SOA, "@ SOA ns hm 12 3600 600 86400 60\n");
	CHECK(dns_tsig_verify_response(&c2, m1, n1, now) != DNS_R_NOERROR); /* unsigned */
	n1 = dns_tsig_sign(&srv, m1, n1, sizeof m1, now);
	CHECK_EQ(dns_tsig_verify_response(&c2, m1, n1, now + 1000), DNS_R_NOTAUTH);
	struct dns_tsig c3 = {.key = dns_tsig_key_find(&ks, other)};
	CHECK(c3.key);
	dns_tsig_sign(&c3, bad, dns_soa_query_build(origin(), 78, bad, sizeof bad), sizeof bad,
		      now);
	CHECK_EQ(dns_tsig_verify_response(&c3, m1, n1, now), DNS_R_NOTAUTH);
	CHECK_EQ(dns_tsig_verify_response(&c2, m1, n1, now), DNS_R_NOERROR);
}

TEST_MAIN(TEST_ENTRY(soa_fields_and_rfc1982_serials), TEST_ENTRY(notify_round_trip_and_answer),
	  TEST_ENTRY(notify_requests_that_are_wrong), TEST_ENTRY(soa_query_answered_by_the_core),
	  TEST_ENTRY(axfr_in_from_our_own_axfr_out),
	  TEST_ENTRY(ixfr_answered_in_axfr_form_and_up_to_date),
	  TEST_ENTRY(ixfr_differences_over_several_steps),
	  TEST_ENTRY(ixfr_differences_split_across_messages),
	  TEST_ENTRY(hostile_or_broken_transfers_are_refused_whole),
	  TEST_ENTRY(transfer_limits_bound_a_hostile_primary),
	  TEST_ENTRY(tsig_on_a_transfer_as_a_client))
