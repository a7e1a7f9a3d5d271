/*
 * test_dns_answer.c - one test per answering rule of the authoritative
 * core: RFC 1034 4.3.2, RFC 4592 wildcards, RFC 6672 DNAME, referrals
 * with glue, negative answers, error codes, EDNS and truncation.
 *
 * Responses are rendered as text ("flags rcode / section lines") so the
 * expectations read like dig output.
 */
#include "core/err.h"
#include "dns/dns.h"
#include "test.h"

static const char example_zone[] =
    "$TTL 3600\n"
    "@ SOA ns.example. hostmaster.example. 1 7200 900 1209600 300\n"
    "@ NS ns\n"
    "@ NS ns.elsewhere.\n"
    "@ MX 10 mail\n"
    "@ A 192.0.2.80\n"
    "ns A 192.0.2.1\n"
    "mail A 192.0.2.25\n"
    "mail AAAA 2001:db8::25\n"
    "www CNAME web\n"
    "web A 192.0.2.80\n"
    "chain1 CNAME chain2\n"
    "chain2 CNAME www\n"
    "out CNAME www.other.test.\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "*.wild A 192.0.2.99\n"
    "*.wild MX 5 mail\n"
    "exists.wild TXT \"not from the wildcard\"\n"
    "*.cw CNAME web\n"
    "a.b.ent TXT deep\n"
    "sub NS ns1.sub\n"
    "sub NS ns.elsewhere.\n"
    "sub DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "ns1.sub A 192.0.2.53\n"
    "dn DNAME target.example.\n"
    "x.target A 192.0.2.7\n"
    "h3 NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG\n"
    "long DNAME "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.\n"
    "big TXT \"" /* ~ 8 x 200 bytes: beyond 512 and beyond 1232 */
    "01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901"
    "23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
    "4567890123456\"\n"
    "big TXT \"1\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n"
    "big TXT \"2\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n"
    "big TXT \"3\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n"
    "big TXT \"4\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n"
    "big TXT \"5\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n"
    "big TXT \"6\" "
    "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
    "12345678901234567890123456789\"\n";

static const char child_zone[] = "$TTL 60\n"
				 "@ SOA ns hm 5 1 1 1 1\n"
				 "@ NS ns\n"
				 "@ DS 2 8 2 00\n" /* would be wrong data: DS lives in the parent */
				 "ns A 192.0.2.54\n"
				 "host A 192.0.2.55\n";

static struct dns_zones zs;

static void setup(void)
{
	static uint8_t mem[1 << 20];
	static struct arena a = {mem, sizeof mem, 0, 0, 0};
	static struct dns_zone z[2];
	if (zs.n)
		return;
	uint8_t o[DNS_NAME_MAX];
	char err[256];
	dns_name_from_text("example.", 8, NULL, o);
	if (dns_zone_load_text(&a, o, "example", example_zone, sizeof example_zone - 1, NULL, NULL,
			       &z[0], err, sizeof err) != ATL_OK)
		printf("# %s\n", err);
	dns_name_from_text("sub.example.", 12, NULL, o);
	/* The child is served too, but the parent's DS wins for DS. */
	if (dns_zone_load_text(&a, o, "child", child_zone, sizeof child_zone - 1, NULL, NULL, &z[1],
			       err, sizeof err) != ATL_OK)
		printf("# %s\n", err);
	zs.z[zs.n++] = &z[0];
}

static char res[16384];
static uint8_t out[65536];
static size_t outlen;

static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
				     "NOTIMP",	"REFUSED", "YXDOMAIN"};

/* Render a response as text. */
static void render(const uint8_t *m, size_t len)
{
	size_t o = 0;
	res[0] = 0;
	if (!len) {
		strcpy(res, "(no response)");
		return;
	}
	struct rd r = rd_make(m, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	o += (size_t)snprintf(res + o, sizeof res - o, "%s%s%s%s %s\n",
			      h.flags & DNS_F_QR ? "qr" : "", h.flags & DNS_F_AA ? " aa" : "",
			      h.flags & DNS_F_TC ? " tc" : "", h.flags & DNS_F_RD ? " rd" : "",
			      DNS_RCODE(h.flags) < 7 ? rcodes[DNS_RCODE(h.flags)] : "?");
	for (unsigned i = 0; i < h.qd; i++) {
		uint8_t n[DNS_NAME_MAX];
		char t[1024];
		dns_name_read(&r, n);
		rd_skip(&r, 4);
		dns_name_to_text(n, t, sizeof t);
		o += (size_t)snprintf(res + o, sizeof res - o, "Q %s\n", t);
	}
	unsigned total = (unsigned)h.an + h.ns + h.ar;
	for (unsigned i = 0; i < total; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&r, &rr) != ATL_OK) {
			o += (size_t)snprintf(res + o, sizeof res - o, "MALFORMED\n");
			break;
		}
		char t[1024], ty[16], rdt[4096];
		uint8_t rd[4096];
		dns_name_to_text(rr.owner, t, sizeof t);
		int n = dns_rdata_uncompress(m, len, &rr, rd, sizeof rd);
		if (rr.type == DNS_T_OPT)
			snprintf(rdt, sizeof rdt, "size=%u ttl=%08x", rr.class, rr.ttl);
		else
			dns_rdata_to_text(rr.type, rd, n > 0 ? (size_t)n : 0, rdt, sizeof rdt);
		const char *sec = i < h.an ? "AN" : i < (unsigned)h.an + h.ns ? "NS" : "AR";
		o += (size_t)snprintf(res + o, sizeof res - o, "%s %s %u %s %s\n", sec, t, rr.ttl,
				      dns_type_name(rr.type, ty, sizeof ty), rdt);
	}
	if (!rd_ok(&r) || rd_left(&r))
		o += (size_t)snprintf(res + o, sizeof res - o, "TRAILING\n");
}

/* Ask qname/qtype over UDP (edns: the EDNS UDP size, 0 for none). */
static const char *ask_tr(const char *qname, uint16_t qtype, unsigned edns, enum dns_transport tr)
{
	setup();
	uint8_t q[512];
	struct wr w = wr_make(q, sizeof q);
	struct dns_hdr h = {0xbeef, DNS_F_RD, 1, 0, 0, edns ? 1 : 0};
	dns_hdr_write(&w, &h);
	uint8_t n[DNS_NAME_MAX];
	dns_name_from_text(qname, strlen(qname), NULL, n);
	dns_name_write(&w, n, NULL);
	wr_be16(&w, qtype);
	wr_be16(&w, DNS_C_IN);
	if (edns) {
		wr_u8(&w, 0);
		wr_be16(&w, DNS_T_OPT);
		wr_be16(&w, (uint16_t)edns);
		wr_be32(&w, 0);
		wr_be16(&w, 0);
	}
	outlen = dns_answer(&zs, q, w.pos, tr, out, sizeof out);
	render(out, outlen);
	return res;
}

static const char *ask(const char *qname, uint16_t qtype)
{
	return ask_tr(qname, qtype, 0, DNS_UDP);
}

static void expect(const char *got, const char *want)
{
	if (!strstr(got, want)) {
		printf("#   want \"%s\" in:\n", want);
		for (const char *p = got; *p;) {
			const char *e = strchr(p, '\n');
			int n = e ? (int)(e - p) : (int)strlen(p);
			printf("#     %.*s\n", n, p);
			p += n + (e ? 1 : 0);
		}
	}
	CHECK(strstr(got, want) != NULL);
}

static void expect_not(const char *got, const char *unwanted)
{
	if (strstr(got, unwanted))
		printf("#   did not want \"%s\" in:\n%s", unwanted, got);
	CHECK(strstr(got, unwanted) == NULL);
}

TEST(exact_match_is_authoritative_with_additional)
{
	const char *r = ask("example.", DNS_T_MX);
	expect(r, "qr aa rd NOERROR\nQ example.\n");
	expect(r, "AN example. 3600 MX 10 mail.example.\n");
	expect(r, "AR mail.example. 3600 A 192.0.2.25\n");
	expect(r, "AR mail.example. 3600 AAAA 2001:db8::25\n");
	r = ask("ns.example.", DNS_T_A);
	expect(r, "AN ns.example. 3600 A 192.0.2.1\n");
	expect_not(r, "\nNS ");
}

TEST(any_gets_one_rrset_the_lowest_type_over_udp_and_tcp)
{
	/* RFC 8482 4.2, as Knot answers: not every RRset at the name. */
	for (int tr = DNS_UDP; tr <= DNS_TCP; tr++) {
		const char *r = ask_tr("example.", DNS_T_ANY, 0, (enum dns_transport)tr);
		expect(r, "qr aa rd NOERROR\nQ example.\nAN example. 3600 A 192.0.2.80\n");
		expect_not(r, "SOA");
		expect_not(r, " MX ");
		expect_not(r, " NS ");
		r = ask_tr("mail.example.", DNS_T_ANY, 0, (enum dns_transport)tr);
		expect(r, "AN mail.example. 3600 A 192.0.2.25\n");
		expect_not(r, "AAAA");
	}
	/* A CNAME is the one RRset and is not followed; a wildcard answers
	 * with the query name; a cut is still a referral. */
	const char *r = ask("www.example.", DNS_T_ANY);
	expect(r, "AN www.example. 3600 CNAME web.example.\n");
	expect_not(r, "AN web.example.");
	r = ask("x.wild.example.", DNS_T_ANY);
	expect(r, "AN x.wild.example. 3600 A 192.0.2.99\n");
	expect_not(r, " MX ");
	r = ask("host.sub.example.", DNS_T_ANY);
	expect(r, "qr rd NOERROR\n");
	expect(r, "NS sub.example. 3600 NS ns1.sub.example.\n");
	r = ask("nope.example.", DNS_T_ANY);
	expect(r, "NXDOMAIN");
}

TEST(query_case_is_preserved_and_matching_ignores_it)
{
	const char *r = ask("WwW.ExAmPlE.", DNS_T_A);
	expect(r, "Q WwW.ExAmPlE.\n");
	/* Compression is case-blind, so names that share the query's
	 * suffix take its case too, as with NSD and Knot. */
	expect(r, "AN WwW.ExAmPlE. 3600 CNAME web.ExAmPlE.\n");
	expect(r, "AN web.ExAmPlE. 3600 A 192.0.2.80\n");
}

TEST(cname_chains_are_followed_inside_the_zone)
{
	const char *r = ask("chain1.example.", DNS_T_A);
	expect(r, "AN chain1.example. 3600 CNAME chain2.example.\n"
		  "AN chain2.example. 3600 CNAME www.example.\n"
		  "AN www.example. 3600 CNAME web.example.\n"
		  "AN web.example. 3600 A 192.0.2.80\n");
	/* Asking for the CNAME itself does not follow it. */
	r = ask("www.example.", DNS_T_CNAME);
	expect(r, "AN www.example. 3600 CNAME web.example.\n");
	expect_not(r, "192.0.2.80");
	/* Out of the zone: the CNAME alone. */
	r = ask("out.example.", DNS_T_A);
	expect(r, "NOERROR\n");
	expect(r, "AN out.example. 3600 CNAME www.other.test.\n");
	/* A loop ends: each CNAME once. */
	r = ask("loop1.example.", DNS_T_A);
	expect(r, "AN loop1.example. 3600 CNAME loop2.example.\nAN loop2.example. 3600 CNAME "
		  "loop1.example.\n");
	expect_not(r, "AN loop1.example. 3600 CNAME loop2.example.\nAN loop2.example. 3600 CNAME "
		      "loop1.example.\nAN loop1");
}

TEST(nxdomain_and_nodata_carry_the_soa)
{
	const char *r = ask("nope.example.", DNS_T_A);
	expect(r, "qr aa rd NXDOMAIN\n");
	/* RFC 2308 3: min(SOA TTL, MINIMUM) = 300. */
	expect(r, "NS example. 300 SOA ns.example. hostmaster.example. 1 7200 900 1209600 300\n");
	r = ask("ns.example.", DNS_T_AAAA);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "NS example. 300 SOA");
	expect_not(r, "AN ");
	/* NXDOMAIN at the end of a CNAME chain (RFC 6604). */
	r = ask("cnamenx.cw.example.", DNS_T_A);
	expect(r, "NOERROR");
}

TEST(empty_non_terminals_are_nodata_not_nxdomain)
{
	const char *r = ask("b.ent.example.", DNS_T_A);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "NS example. 300 SOA");
	r = ask("ent.example.", DNS_T_TXT);
	expect(r, "NOERROR\n");
	r = ask("c.ent.example.", DNS_T_TXT);
	expect(r, "NXDOMAIN\n");
}

TEST(wildcards_synthesize_with_the_query_name)
{
	const char *r = ask("anything.wild.example.", DNS_T_A);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "AN anything.wild.example. 3600 A 192.0.2.99\n");
	r = ask("a.b.c.wild.example.", DNS_T_MX);
	expect(r, "AN a.b.c.wild.example. 3600 MX 5 mail.example.\n");
	expect(r, "AR mail.example. 3600 A 192.0.2.25\n");
	/* NODATA from a wildcard. */
	r = ask("x.wild.example.", DNS_T_TXT);
	expect(r, "NOERROR\n");
	expect(r, "NS example. 300 SOA");
	/* RFC 4592 2.2.1: an existing name blocks the wildcard, and so does
	 * anything below it. */
	r = ask("exists.wild.example.", DNS_T_A);
	expect(r, "NOERROR\n");
	expect_not(r, "192.0.2.99");
	r = ask("below.exists.wild.example.", DNS_T_A);
	expect(r, "NXDOMAIN\n");
	/* The wildcard name asked for literally. */
	r = ask("*.wild.example.", DNS_T_A);
	expect(r, "AN *.wild.example. 3600 A 192.0.2.99\n");
	/* A wildcard CNAME is followed. */
	r = ask("foo.cw.example.", DNS_T_A);
	expect(r,
	       "AN foo.cw.example. 3600 CNAME web.example.\nAN web.example. 3600 A 192.0.2.80\n");
}

TEST(referrals_below_a_cut_with_glue)
{
	const char *r = ask("host.sub.example.", DNS_T_A);
	expect(r, "qr rd NOERROR\n"); /* not authoritative */
	expect(r, "NS sub.example. 3600 NS ns1.sub.example.\n");
	expect(r, "NS sub.example. 3600 NS ns.elsewhere.\n");
	expect(r, "AR ns1.sub.example. 3600 A 192.0.2.53\n");
	expect_not(r, "AN ");
	r = ask("sub.example.", DNS_T_NS);
	expect(r, "qr rd NOERROR\n");
	expect(r, "NS sub.example. 3600 NS ns1.sub.example.\n");
	/* Glue is not answered authoritatively. */
	r = ask("ns1.sub.example.", DNS_T_A);
	expect(r, "qr rd NOERROR\n");
	expect(r, "NS sub.example. 3600 NS");
	/* DS at the cut is the parent's (RFC 4035 3.1.4.1). */
	r = ask("sub.example.", DNS_T_DS);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "AN sub.example. 3600 DS 1 8 2 ");
}

TEST(dname_substitutes_and_synthesizes_a_cname)
{
	const char *r = ask("x.dn.example.", DNS_T_A);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "AN dn.example. 3600 DNAME target.example.\n"
		  "AN x.dn.example. 3600 CNAME x.target.example.\n"
		  "AN x.target.example. 3600 A 192.0.2.7\n");
	/* The DNAME owner itself is not redirected. */
	r = ask("dn.example.", DNS_T_DNAME);
	expect(r, "AN dn.example. 3600 DNAME target.example.\n");
	expect_not(r, "CNAME");
	r = ask("dn.example.", DNS_T_A);
	expect(r, "NS example. 300 SOA");
	/* A substitution longer than 255 bytes: YXDOMAIN (RFC 6672 2.2). */
	r = ask("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.long.example.",
		DNS_T_A);
	expect(r, "YXDOMAIN\n");
	expect(r, "AN long.example. 3600 DNAME");
}

TEST(nsec3_owner_names_do_not_exist)
{
	/* RFC 5155 7.2.8: as if the name did not exist. */
	const char *r = ask("h3.example.", DNS_T_NSEC3);
	expect(r, "NXDOMAIN\n");
	expect_not(r, "AN ");
}

TEST(outside_our_zones_is_refused)
{
	const char *r = ask("www.example.org.", DNS_T_A);
	expect(r, "qr rd REFUSED\nQ www.example.org.\n");
	r = ask(".", DNS_T_NS);
	expect(r, "REFUSED\n");
	r = ask("example.", DNS_T_AXFR);
	expect(r, "REFUSED\n");
}

TEST(malformed_and_unknown_opcodes)
{
	setup();
	uint8_t q[64] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 3, 'f', 'o'};
	/* A truncated question: FORMERR, header only. */
	outlen = dns_answer(&zs, q, 15, DNS_UDP, out, sizeof out);
	render(out, outlen);
	expect(res, "qr rd FORMERR\n");
	CHECK_EQ(outlen, 12);
	/* Fewer than 12 bytes, or a response: silence. */
	CHECK_EQ(dns_answer(&zs, q, 11, DNS_UDP, out, sizeof out), 0);
	uint8_t resp[] = {0x12, 0x34, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	CHECK_EQ(dns_answer(&zs, resp, sizeof resp, DNS_UDP, out, sizeof out), 0);
	/* An unknown opcode: NOTIMP. */
	uint8_t op[] = {0x12, 0x34, 0x7 << 3, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	outlen = dns_answer(&zs, op, sizeof op, DNS_UDP, out, sizeof out);
	render(out, outlen);
	expect(res, "NOTIMP\n");
	/* No question: FORMERR. */
	uint8_t noq[] = {0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
	outlen = dns_answer(&zs, noq, sizeof noq, DNS_UDP, out, sizeof out);
	render(out, outlen);
	expect(res, "FORMERR\n");
}

TEST(edns_echoes_an_opt_and_sizes_the_reply)
{
	const char *r = ask_tr("example.", DNS_T_MX, 4096, DNS_UDP);
	expect(r, "AR . 0 OPT size=1232 ttl=00000000\n");
	/* Without EDNS a 1.5 KiB answer does not fit 512 bytes: TC. */
	r = ask("big.example.", DNS_T_TXT);
	expect(r, "qr aa tc rd NOERROR\n");
	expect_not(r, "AN ");
	CHECK(outlen <= 512);
	/* With a 4096 EDNS size it is still cut at our 1232. */
	r = ask_tr("big.example.", DNS_T_TXT, 4096, DNS_UDP);
	expect(r, "tc");
	CHECK(outlen <= 1232);
	/* Over TCP it fits. */
	r = ask_tr("big.example.", DNS_T_TXT, 0, DNS_TCP);
	expect(r, "qr aa rd NOERROR\n");
	expect(r, "AN big.example. 3600 TXT \"6\"");
	/* EDNS version 1: BADVERS (extended rcode 1 in the OPT TTL). */
	setup();
	uint8_t q[64];
	struct wr w = wr_make(q, sizeof q);
	struct dns_hdr h = {1, 0, 1, 0, 0, 1};
	dns_hdr_write(&w, &h);
	wr_bytes(&w, "\7example\0", 9);
	wr_be16(&w, DNS_T_A);
	wr_be16(&w, DNS_C_IN);
	wr_u8(&w, 0);
	wr_be16(&w, DNS_T_OPT);
	wr_be16(&w, 1232);
	wr_be32(&w, 1u << 16);
	wr_be16(&w, 0);
	outlen = dns_answer(&zs, q, w.pos, DNS_UDP, out, sizeof out);
	render(out, outlen);
	expect(res, "AR . 16777216 OPT size=1232 ttl=01000000\n");
}

TEST(axfr_streams_the_zone_between_two_soas)
{
	setup();
	uint8_t q[64];
	struct wr w = wr_make(q, sizeof q);
	struct dns_hdr h = {7, 0, 1, 0, 0, 0};
	dns_hdr_write(&w, &h);
	wr_bytes(&w, "\7example\0", 9);
	wr_be16(&w, DNS_T_AXFR);
	wr_be16(&w, DNS_C_IN);
	struct dns_axfr x;
	CHECK_EQ(dns_axfr_start(&zs, q, w.pos, &x), DNS_R_NOERROR);
	/* Small messages force many; count the RRs and find both SOAs. */
	unsigned rrs = 0, soas = 0, msgs = 0;
	size_t n;
	while ((n = dns_axfr_next(&x, out, 600)) != 0) {
		msgs++;
		render(out, n);
		CHECK(strstr(res, "MALFORMED") == NULL && strstr(res, "TRAILING") == NULL);
		CHECK(strstr(res, "qr aa NOERROR") == res);
		for (const char *p = res; (p = strstr(p, "\nAN ")) != NULL; p++) {
			rrs++;
			if (!strncmp(p, "\nAN example. 3600 SOA ", 22))
				soas++;
		}
	}
	CHECK(x.done);
	CHECK(msgs > 3);
	CHECK_EQ(soas, 2);
	/* The zone's RRs, plus the closing SOA. */
	size_t total = 1;
	const struct dns_zone *z = zs.z[0];
	for (size_t i = 0; i < z->nnodes; i++)
		for (unsigned k = 0; k < z->nodes[i].nrrsets; k++)
			total += z->nodes[i].rrsets[k].count;
	CHECK_EQ(rrs, total);
	/* Not the apex: NOTAUTH. */
	uint8_t q2[64];
	w = wr_make(q2, sizeof q2);
	dns_hdr_write(&w, &h);
	wr_bytes(&w, "\3www\7example\0", 13);
	wr_be16(&w, DNS_T_AXFR);
	wr_be16(&w, DNS_C_IN);
	CHECK_EQ(dns_axfr_start(&zs, q2, w.pos, &x), DNS_R_NOTAUTH);
}

/* An IXFR query for example. carrying a SOA with this serial. */
static size_t ixfr_query(uint8_t *q, size_t cap, uint32_t serial)
{
	struct wr w = wr_make(q, cap);
	struct dns_hdr h = {8, 0, 1, 0, 1, 0};
	dns_hdr_write(&w, &h);
	wr_bytes(&w, "\7example\0", 9);
	wr_be16(&w, DNS_T_IXFR);
	wr_be16(&w, DNS_C_IN);
	wr_be16(&w, 0xc00c);
	wr_be16(&w, DNS_T_SOA);
	wr_be16(&w, DNS_C_IN);
	wr_be32(&w, 0);
	wr_be16(&w, 24);
	wr_be16(&w, 0xc00c);
	wr_be16(&w, 0xc00c);
	wr_be32(&w, serial);
	wr_zero(&w, 16);
	return w.pos;
}

TEST(ixfr_is_the_soa_when_up_to_date_else_the_whole_zone)
{
	setup();
	uint8_t q[128];
	struct dns_axfr x;
	/* RFC 1995 2: serial 1 is ours; 2 is newer (RFC 1982). */
	for (uint32_t serial = 1; serial <= 2; serial++) {
		CHECK_EQ(dns_axfr_start(&zs, q, ixfr_query(q, sizeof q, serial), &x),
			 DNS_R_NOERROR);
		size_t n = dns_axfr_next(&x, out, 16384);
		render(out, n);
		expect(res, "qr aa NOERROR\nQ example.\nAN example. 3600 SOA");
		CHECK_EQ(load_be16(out + 6), 1); /* one RR */
		CHECK_EQ(dns_axfr_next(&x, out, 16384), 0);
	}
	/* An older serial (0): the whole zone, from SOA to SOA. */
	CHECK_EQ(dns_axfr_start(&zs, q, ixfr_query(q, sizeof q, 0), &x), DNS_R_NOERROR);
	size_t n = dns_axfr_next(&x, out, 16384);
	CHECK(load_be16(out + 6) > 20);
	CHECK(n > 0);
}

TEST_MAIN(TEST_ENTRY(exact_match_is_authoritative_with_additional),
	  TEST_ENTRY(query_case_is_preserved_and_matching_ignores_it),
	  TEST_ENTRY(cname_chains_are_followed_inside_the_zone),
	  TEST_ENTRY(nxdomain_and_nodata_carry_the_soa),
	  TEST_ENTRY(empty_non_terminals_are_nodata_not_nxdomain),
	  TEST_ENTRY(wildcards_synthesize_with_the_query_name),
	  TEST_ENTRY(referrals_below_a_cut_with_glue),
	  TEST_ENTRY(dname_substitutes_and_synthesizes_a_cname),
	  TEST_ENTRY(nsec3_owner_names_do_not_exist), TEST_ENTRY(outside_our_zones_is_refused),
	  TEST_ENTRY(malformed_and_unknown_opcodes),
	  TEST_ENTRY(edns_echoes_an_opt_and_sizes_the_reply),
	  TEST_ENTRY(any_gets_one_rrset_the_lowest_type_over_udp_and_tcp),
	  TEST_ENTRY(axfr_streams_the_zone_between_two_soas),
	  TEST_ENTRY(ixfr_is_the_soa_when_up_to_date_else_the_whole_zone))
