/*
 * test_dns_rrl.c - response rate limiting with a fake clock: buckets per
 * client /24 and kind of response, refill per second, slip (TC) and drop,
 * bounded memory.
 */
#include "core/err.h"
#include "dns/dns.h"
#include "dns/rrl.h"
#include "test.h"

static const char zone_text[] = "$TTL 3600\n"
				"@ SOA ns.example. hostmaster.example. 1 7200 900 1209600 300\n"
				"@ NS ns\n"
				"ns A 192.0.2.1\n"
				"www A 192.0.2.80\n"
				"mail A 192.0.2.25\n"
				"sub NS ns.elsewhere.\n";

static struct dns_zones zs;
static uint8_t heapmem[1 << 20];
static struct heap heap;

#define SEC	  1000000000ull
#define CLIENT	  0x0a000001u /* 10.0.0.1 */
#define NEIGHBOUR 0x0a0000feu /* 10.0.0.254: the same /24 */
#define ELSEWHERE 0x0a000101u /* 10.0.1.1: another /24 */

static void setup(void)
{
	static uint8_t mem[1 << 18];
	static struct arena a = {mem, sizeof mem, 0, 0, 0};
	static struct dns_zone z;
	heap_init(&heap, heapmem, sizeof heapmem);
	if (zs.n)
		return;
	uint8_t o[DNS_NAME_MAX];
	char err[256];
	dns_name_from_text("example.", 8, NULL, o);
	if (dns_zone_load_text(&a, o, "example", zone_text, sizeof zone_text - 1, NULL, NULL, &z,
			       err, sizeof err) != ATL_OK)
		printf("# %s\n", err);
	zs.z[zs.n++] = &z;
}

static uint8_t q[512], out[4096];
static size_t qlen, outlen;

/* Answer qname/qtype with EDNS, as a server would before limiting. */
static void answer(const char *qname, uint16_t qtype)
{
	struct wr w = wr_make(q, sizeof q);
	struct dns_hdr h = {0x1234, 0, 1, 0, 0, 1};
	dns_hdr_write(&w, &h);
	uint8_t n[DNS_NAME_MAX];
	dns_name_from_text(qname, strlen(qname), NULL, n);
	dns_name_write(&w, n, NULL);
	wr_be16(&w, qtype);
	wr_be16(&w, DNS_C_IN);
	wr_u8(&w, 0);
	wr_be16(&w, DNS_T_OPT);
	wr_be16(&w, 1232);
	wr_be32(&w, 0);
	wr_be16(&w, 0);
	qlen = w.pos;
	outlen = dns_answer(&zs, q, qlen, DNS_UDP, out, sizeof out);
}

static enum dns_rrl_verdict check(struct dns_rrl *r, uint32_t addr, const char *qname,
				  uint16_t qtype, uint64_t now)
{
	answer(qname, qtype);
	return dns_rrl_check(r, addr, out, &outlen, now);
}

/* Verdicts for n identical queries at one instant: sent, dropped, slipped. */
static void burst(struct dns_rrl *r, uint32_t addr, const char *qname, uint16_t qtype, uint64_t now,
		  unsigned n, unsigned v[3])
{
	v[0] = v[1] = v[2] = 0;
	for (unsigned i = 0; i < n; i++)
		v[check(r, addr, qname, qtype, now)]++;
}

TEST(rrl_off_takes_no_memory_and_limits_nothing)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, DNS_RRL_ENTRIES, 0, 2), ATL_OK);
	CHECK(r.tab == NULL);
	CHECK_EQ(heap.used, 0);
	unsigned v[3];
	burst(&r, CLIENT, "www.example.", DNS_T_A, 0, 1000, v);
	CHECK_EQ(v[DNS_RRL_SEND], 1000);
}

TEST(rrl_rejects_a_table_size_not_a_power_of_two)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, 1000, 10, 2), ATL_EINVAL);
	CHECK_EQ(dns_rrl_init(&r, &heap, 2, 10, 2), ATL_EINVAL);
}

TEST(rrl_a_burst_gets_rate_answers_then_drop_and_slip_alternate)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 5, 2), ATL_OK);
	uint64_t t = 1000 * SEC;
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, t), DNS_RRL_SEND);
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, t), DNS_RRL_DROP);
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, t), DNS_RRL_SLIP);
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, t), DNS_RRL_DROP);
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, t), DNS_RRL_SLIP);
}

TEST(rrl_a_slipped_response_is_header_and_question_with_tc)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 1, 1), ATL_OK);
	CHECK_EQ(check(&r, CLIENT, "mail.example.", DNS_T_A, 0), DNS_RRL_SEND);
	CHECK_EQ(check(&r, CLIENT, "mail.example.", DNS_T_A, 0), DNS_RRL_SLIP);
	/* 12 + "mail.example." (14) + type and class: no records, no OPT,
	 * smaller than the query that asked (it carried an OPT). */
	CHECK_EQ(outlen, 12 + 14 + 4);
	CHECK(outlen < qlen);
	struct rd rd = rd_make(out, outlen);
	struct dns_hdr h;
	dns_hdr_read(&rd, &h);
	CHECK_EQ(h.id, 0x1234);
	CHECK(h.flags & DNS_F_QR);
	CHECK(h.flags & DNS_F_TC);
	CHECK(h.flags & DNS_F_AA);
	CHECK_EQ(h.qd, 1);
	CHECK_EQ(h.an + h.ns + h.ar, 0);
	CHECK_MEM(out + 12, q + 12, 14 + 4);
}

TEST(rrl_slip_zero_drops_all_and_slip_one_truncates_all)
{
	setup();
	struct dns_rrl r;
	unsigned v[3];
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 3, 0), ATL_OK);
	burst(&r, CLIENT, "www.example.", DNS_T_A, 0, 20, v);
	CHECK_EQ(v[DNS_RRL_SEND], 3);
	CHECK_EQ(v[DNS_RRL_DROP], 17);
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 3, 1), ATL_OK);
	burst(&r, CLIENT, "www.example.", DNS_T_A, 0, 20, v);
	CHECK_EQ(v[DNS_RRL_SEND], 3);
	CHECK_EQ(v[DNS_RRL_SLIP], 17);
}

TEST(rrl_tokens_come_back_each_second_and_a_flood_stays_limited)
{
	setup();
	struct dns_rrl r;
	unsigned v[3];
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 10, 2), ATL_OK);
	uint64_t t = 50 * SEC;
	burst(&r, CLIENT, "www.example.", DNS_T_A, t, 100, v);
	CHECK_EQ(v[DNS_RRL_SEND], 10);
	/* Within the same second nothing more, however long the wait. */
	burst(&r, CLIENT, "www.example.", DNS_T_A, t + SEC - 1, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 0);
	/* One second later the debt (one second's worth) is paid off... */
	burst(&r, CLIENT, "www.example.", DNS_T_A, t + SEC, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 0);
	/* ...and a client that keeps within the rate is answered in full. */
	for (unsigned s = 3; s < 10; s++) {
		burst(&r, CLIENT, "www.example.", DNS_T_A, t + s * SEC, 10, v);
		CHECK_EQ(v[DNS_RRL_SEND], 10);
	}
	/* A long pause fills the bucket only up to the rate. */
	burst(&r, CLIENT, "www.example.", DNS_T_A, t + 1000 * SEC, 50, v);
	CHECK_EQ(v[DNS_RRL_SEND], 10);
}

TEST(rrl_buckets_are_per_client_slash_24)
{
	setup();
	struct dns_rrl r;
	unsigned v[3];
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 4, 2), ATL_OK);
	burst(&r, CLIENT, "www.example.", DNS_T_A, 0, 10, v);
	CHECK_EQ(v[DNS_RRL_SEND], 4);
	/* The same /24 shares the bucket (a forger spreads over it)... */
	burst(&r, NEIGHBOUR, "www.example.", DNS_T_A, 0, 10, v);
	CHECK_EQ(v[DNS_RRL_SEND], 0);
	/* ...another /24 has its own. */
	burst(&r, ELSEWHERE, "www.example.", DNS_T_A, 0, 10, v);
	CHECK_EQ(v[DNS_RRL_SEND], 4);
}

TEST(rrl_answers_are_keyed_by_name_and_type_case_blind)
{
	setup();
	struct dns_rrl r;
	unsigned v[3];
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 3, 2), ATL_OK);
	burst(&r, CLIENT, "www.example.", DNS_T_A, 0, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 3);
	burst(&r, CLIENT, "WWW.Example.", DNS_T_A, 0, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 0);
	burst(&r, CLIENT, "mail.example.", DNS_T_A, 0, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 3);
	burst(&r, CLIENT, "example.", DNS_T_SOA, 0, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 3);
}

TEST(rrl_nxdomain_for_random_names_shares_the_zone_bucket)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 3, 0), ATL_OK);
	/* A random-subdomain flood is one bucket per zone, not per name. */
	unsigned sent = 0;
	char name[64];
	for (unsigned i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "r%u.example.", i);
		sent += check(&r, CLIENT, name, DNS_T_A, 0) == DNS_RRL_SEND;
	}
	CHECK_EQ(sent, 3);
	/* NODATA is its own kind: it still has its tokens. */
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_MX, 0), DNS_RRL_SEND);
	/* So are referrals, by their cut. */
	sent = 0;
	for (unsigned i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "h%u.sub.example.", i);
		sent += check(&r, CLIENT, name, DNS_T_A, 0) == DNS_RRL_SEND;
	}
	CHECK_EQ(sent, 3);
}

TEST(rrl_errors_are_limited_per_client)
{
	setup();
	struct dns_rrl r;
	unsigned v[3];
	CHECK_EQ(dns_rrl_init(&r, &heap, 64, 2, 0), ATL_OK);
	burst(&r, CLIENT, "a.elsewhere.", DNS_T_A, 0, 3, v); /* REFUSED */
	CHECK_EQ(v[DNS_RRL_SEND], 2);
	burst(&r, CLIENT, "b.elsewhere.", DNS_T_A, 0, 3, v);
	CHECK_EQ(v[DNS_RRL_SEND], 0);
	/* Answers are another kind. */
	CHECK_EQ(check(&r, CLIENT, "www.example.", DNS_T_A, 0), DNS_RRL_SEND);
}

TEST(rrl_a_full_table_reuses_buckets_and_stays_bounded)
{
	setup();
	struct dns_rrl r;
	CHECK_EQ(dns_rrl_init(&r, &heap, 16, 2, 2), ATL_OK);
	size_t used = heap.used;
	CHECK_EQ(used, 16 * sizeof(struct dns_rrl_entry));
	/* Far more clients than buckets: no failure, no more memory; each
	 * new client starts with a full bucket. */
	for (uint32_t i = 0; i < 5000; i++)
		CHECK_EQ(check(&r, 0x0b000000u + (i << 8), "www.example.", DNS_T_A, i * SEC),
			 DNS_RRL_SEND);
	CHECK_EQ(heap.used, used);
	unsigned v[3];
	burst(&r, CLIENT, "www.example.", DNS_T_A, 6000 * SEC, 5, v);
	CHECK_EQ(v[DNS_RRL_SEND], 2);
}

TEST_MAIN(TEST_ENTRY(rrl_off_takes_no_memory_and_limits_nothing),
	  TEST_ENTRY(rrl_rejects_a_table_size_not_a_power_of_two),
	  TEST_ENTRY(rrl_a_burst_gets_rate_answers_then_drop_and_slip_alternate),
	  TEST_ENTRY(rrl_a_slipped_response_is_header_and_question_with_tc),
	  TEST_ENTRY(rrl_slip_zero_drops_all_and_slip_one_truncates_all),
	  TEST_ENTRY(rrl_tokens_come_back_each_second_and_a_flood_stays_limited),
	  TEST_ENTRY(rrl_buckets_are_per_client_slash_24),
	  TEST_ENTRY(rrl_answers_are_keyed_by_name_and_type_case_blind),
	  TEST_ENTRY(rrl_nxdomain_for_random_names_shares_the_zone_bucket),
	  TEST_ENTRY(rrl_errors_are_limited_per_client),
	  TEST_ENTRY(rrl_a_full_table_reuses_buckets_and_stays_bounded))
