/*
 * test_dns_zone.c - unit tests of the master-file parser, the zone checks
 * and the zone store.
 */
#include "core/err.h"
#include "dns/dns.h"
#include "test.h"

static uint8_t mem[1 << 20];

static struct arena arena(void)
{
	struct arena a = {mem, sizeof mem, 0, 0, 0};
	return a;
}

static void name(const char *s, uint8_t *out)
{
	CHECK_EQ(dns_name_from_text(s, strlen(s), NULL, out), ATL_OK);
}

struct files {
	const char *name[4];
	const char *text[4];
};

static int include(void *ctx, const char *file, const char **data, size_t *len)
{
	struct files *f = ctx;
	for (int i = 0; i < 4 && f->name[i]; i++)
		if (!strcmp(f->name[i], file)) {
			*data = f->text[i];
			*len = strlen(f->text[i]);
			return ATL_OK;
		}
	return ATL_ENOENT;
}

static int load(struct arena *a, const char *origin, const char *text, struct files *f,
		struct dns_zone *z, char *err)
{
	uint8_t o[DNS_NAME_MAX];
	name(origin, o);
	return dns_zone_load_text(a, o, "test.zone", text, strlen(text), f ? include : NULL, f, z,
				  err, 256);
}

static const struct dns_rrset *rrset(const struct dns_zone *z, const char *owner, uint16_t type)
{
	uint8_t n[DNS_NAME_MAX];
	name(owner, n);
	const struct dns_node *nd = dns_zone_find(z, n);
	return nd ? dns_node_rrset(nd, type) : NULL;
}

TEST(parser_handles_the_rfc1035_syntax)
{
	struct arena a = arena();
	struct dns_zone z;
	char err[256];
	struct files f = {{"inc.zone"},
			  {"; included\nincl A 192.0.2.9\n$ORIGIN sub.example.\nx A 192.0.2.10\n"}};
	const char *text = "$ORIGIN example.\n"
			   "$TTL 1h\n"
			   "@ IN SOA ns.example. hostmaster ( 2024010101 ; serial\n"
			   "          3600 900\n"
			   "          604800 60 )\n"
			   "  NS ns ; owner omitted: still the apex\n"
			   "ns 300 IN A 192.0.2.1\n"
			   "   IN 600 AAAA 2001:db8::1\n"
			   "txt TXT \"a (quoted) ; string\" unquoted \\\"esc\n"
			   "a\\.dot A 192.0.2.2\n"
			   "\\065bc A 192.0.2.3\n"
			   "gen TYPE65000 \\# 2 abcd\n"
			   "gen2 A \\# 4 c0000204\n"
			   "$INCLUDE inc.zone\n"
			   "after A 192.0.2.11\n";
	int rc = load(&a, "example.", text, &f, &z, err);
	if (rc != ATL_OK)
		printf("#   %s\n", err);
	CHECK_EQ(rc, ATL_OK);
	if (rc != ATL_OK)
		return;
	CHECK_EQ(z.serial, 2024010101u);
	const struct dns_rrset *s = rrset(&z, "example.", DNS_T_NS);
	CHECK(s && s->count == 1 && s->ttl == 3600);
	s = rrset(&z, "ns.example.", DNS_T_A);
	CHECK(s && s->ttl == 300);
	s = rrset(&z, "ns.example.", DNS_T_AAAA);
	CHECK(s && s->ttl == 600);
	s = rrset(&z, "txt.example.", DNS_T_TXT);
	CHECK(s && s->rdata[2] == 19 && !memcmp(s->rdata + 3, "a (quoted) ; string", 19));
	CHECK(s && !memcmp(s->rdata + 3 + 19, "\x08unquoted\x04\"esc", 14));
	CHECK(rrset(&z, "a\\.dot.example.", DNS_T_A) != NULL);
	CHECK(rrset(&z, "Abc.example.", DNS_T_A) != NULL);
	s = rrset(&z, "gen.example.", 65000);
	CHECK(s && load_be16(s->rdata) == 2 && s->rdata[2] == 0xab);
	CHECK(rrset(&z, "gen2.example.", DNS_T_A) != NULL);
	CHECK(rrset(&z, "incl.example.", DNS_T_A) != NULL);
	CHECK(rrset(&z, "x.sub.example.", DNS_T_A) != NULL);
	/* The included file's $ORIGIN ends with it (RFC 1035 5.1). */
	CHECK(rrset(&z, "after.example.", DNS_T_A) != NULL);
}

TEST(parser_errors_name_file_line_and_reason)
{
	struct arena a = arena();
	struct dns_zone z;
	char err[256];
	struct {
		const char *text, *want;
	} cases[] = {
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 300.1.1.1\n", "test.zone:4: bad IPv4"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx BOGUS 1\n",
	     "test.zone:4: unknown record type"},
	    {"$TTL 60\n@ SOA ns hm ( 1 2 3 4 5\n", "unbalanced '('"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5 )\n", "test.zone:2: unbalanced ')'"},
	    {"$TTL 60\n@ TXT \"open\n", "unterminated quoted string"},
	    {"$BOGUS x\n", "test.zone:1: unknown directive"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx CH A 1.2.3.4\n",
	     "test.zone:4: only class IN"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n$INCLUDE missing.zone\n",
	     "test.zone:4: $INCLUDE file not found"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nout.of.zone. A 1.2.3.4\n",
	     "test.zone:4: out-of-zone data: out.of.zone."},
	    {"$TTL 60\n@ NS ns\n", "no SOA record at the apex"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n", "no NS records at the apex"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nc CNAME x\nc A 1.2.3.4\n",
	     "CNAME next to other data: c.example."},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nc CNAME x\nc CNAME y\n",
	     "more than one CNAME record: c.example."},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx SOA ns hm 1 2 3 4 5\n",
	     "SOA record not at the zone apex: x.example."},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 2 2 3 4 5\n@ NS ns\n",
	     "more than one SOA record"},
	    {"   A 1.2.3.4\n", "test.zone:1: no owner name"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t before = a.used;
		struct files none = {{NULL}, {NULL}};
		int rc = load(&a, "example.", cases[i].text, &none, &z, err);
		CHECK(rc != ATL_OK);
		if (!strstr(err, cases[i].want))
			printf("#   case %u: got \"%s\", want \"%s\"\n", i, err, cases[i].want);
		CHECK(strstr(err, cases[i].want) != NULL);
		CHECK_EQ(a.used, before); /* a rejected zone takes no memory */
	}
}

TEST(store_merges_rrsets_and_has_empty_non_terminals)
{
	struct arena a = arena();
	struct dns_zone z;
	char err[256];
	const char *text = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
			   "x.y.z A 192.0.2.1\n"
			   "X.Y.Z A 192.0.2.2\n"
			   "x.y.z A 192.0.2.1\n" /* a duplicate: dropped (RFC 2181 5) */
			   "x.y.z TXT hi\n";
	CHECK_EQ(load(&a, "example.", text, NULL, &z, err), ATL_OK);
	CHECK_EQ(z.nnodes, 4); /* apex, z, y.z, x.y.z */
	const struct dns_rrset *s = rrset(&z, "x.y.z.example.", DNS_T_A);
	CHECK(s && s->count == 2);
	uint8_t n[DNS_NAME_MAX];
	name("y.z.example.", n);
	const struct dns_node *ent = dns_zone_find(&z, n);
	CHECK(ent && ent->nrrsets == 0);
	name("q.example.", n);
	CHECK(dns_zone_find(&z, n) == NULL);
	/* Nodes are in canonical order. */
	for (size_t i = 0; i + 1 < z.nnodes; i++)
		CHECK(dns_name_cmp(z.nodes[i].name, z.nodes[i + 1].name) < 0);
	CHECK(dns_name_equal(z.nodes[0].name, z.origin));
	/* A second zone loads after the first in the same arena. */
	struct dns_zone z2;
	CHECK_EQ(load(&a, "other.", "$TTL 5\n@ SOA a b 7 1 1 1 1\n@ NS a\n", NULL, &z2, err),
		 ATL_OK);
	CHECK_EQ(z2.serial, 7);
	CHECK(rrset(&z, "x.y.z.example.", DNS_T_TXT) != NULL);
}

TEST(store_of_many_names_is_compact)
{
	/* 5000 names with one A each: well under 100 bytes a name. */
	static char text[400000];
	size_t o = (size_t)snprintf(text, sizeof text, "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n");
	for (int i = 0; i < 5000; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, "host%d A 10.0.%d.%d\n", i,
				      i / 256, i % 256);
	struct arena a = arena();
	struct dns_zone z;
	char err[256];
	CHECK_EQ(load(&a, "example.", text, NULL, &z, err), ATL_OK);
	CHECK_EQ(z.nnodes, 5001); /* the apex and the hosts */
	CHECK(z.bytes < 5000 * 80);
	CHECK(rrset(&z, "host4999.example.", DNS_T_A) != NULL);
	CHECK(rrset(&z, "host5000.example.", DNS_T_A) == NULL);
	/* The hash spreads names that differ in a digit or two: at under
	 * half load no run of occupied slots is long (a lookup's probes). */
	size_t run = 0, longest = 0;
	for (size_t i = 0; i <= z.hmask; i++) {
		run = z.hash[i] ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	CHECK(longest < 40);
}

TEST(store_keeps_the_case_of_owners_as_loaded)
{
	struct arena a = arena();
	struct dns_zone z;
	char err[256];
	const char *text = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nHost.Sub A 192.0.2.1\n";
	CHECK_EQ(load(&a, "example.", text, NULL, &z, err), ATL_OK);
	uint8_t n[DNS_NAME_MAX];
	name("host.sub.example.", n);
	const struct dns_node *nd = dns_zone_find(&z, n);
	CHECK(nd && !memcmp(nd->name, "\4Host\3Sub\7example", 18));
}

/* Zones built in a region are one block each: replacing versions many
 * times in a region just large enough for two never runs out. */
TEST(region_zones_are_replaced_without_leaking)
{
	static uint8_t rmem[256 * 1024] __attribute__((aligned(16)));
	struct region r;
	region_init_mem(&r, rmem, sizeof rmem);
	uint8_t o[DNS_NAME_MAX];
	name("example.", o);
	char err[256];
	struct dns_zone *cur = NULL;
	for (int v = 1; v <= 50; v++) {
		char text[256];
		snprintf(text, sizeof text,
			 "$TTL 60\n@ SOA ns hm %d 2 3 4 5\n@ NS ns\nns A 10.0.0.%d\n", v, v);
		struct dns_zone *z;
		CHECK_EQ(dns_zone_load_text_region(&r, o, "t", text, strlen(text), NULL, NULL, &z,
						   err, sizeof err),
			 ATL_OK);
		CHECK_EQ(z->serial, (uint32_t)v);
		CHECK(z->mem != NULL);
		CHECK(z->bytes < 1024);
		/* the old version is still readable until freed */
		if (cur)
			CHECK(rrset(cur, "ns.example.", DNS_T_A) != NULL);
		dns_zone_free(&r, cur);
		cur = z;
	}
	CHECK(rrset(cur, "ns.example.", DNS_T_A) != NULL);
	dns_zone_free(&r, cur);
	CHECK_EQ(r.used, 0);
	CHECK_EQ(region_largest_free(&r), sizeof rmem - 16);

	/* A rejected zone gives its block back. */
	struct dns_zone *z;
	CHECK_EQ(dns_zone_load_text_region(&r, o, "t", "@ 60 NS ns\n", 11, NULL, NULL, &z, err,
					   sizeof err),
		 ATL_EINVAL);
	CHECK(strstr(err, "no SOA") != NULL);
	CHECK_EQ(r.used, 0);

	/* Built from a list of records (a transfer in). */
	struct dns_zload zl;
	CHECK_EQ(dns_zload_begin(&zl, &r, o), ATL_OK);
	uint8_t soa[64], ns[32];
	const char *why;
	struct dns_tok t[7] = {{"ns", 2, false}, {"hm", 2, false}, {"9", 1, false}, {"1", 1, false},
			       {"1", 1, false},	 {"1", 1, false},  {"1", 1, false}};
	int sl = dns_rdata_from_text(DNS_T_SOA, t, 7, o, soa, sizeof soa, &why);
	int nl = dns_rdata_from_text(DNS_T_NS, t, 1, o, ns, sizeof ns, &why);
	CHECK(sl > 0 && nl > 0);
	struct dns_zrec rec = {o, DNS_T_SOA, DNS_C_IN, 60, (uint16_t)sl, soa};
	CHECK_EQ(dns_zload_add(&zl, &rec), ATL_OK);
	rec = (struct dns_zrec){o, DNS_T_NS, DNS_C_IN, 60, (uint16_t)nl, ns};
	CHECK_EQ(dns_zload_add(&zl, &rec), ATL_OK);
	CHECK_EQ(dns_zload_end(&zl, &z), ATL_OK);
	CHECK_EQ(z->serial, 9);
	size_t len;
	CHECK(dns_zone_soa(z, &len) != NULL && len == (size_t)sl);
	dns_zone_free(&r, z);
	CHECK_EQ(r.used, 0);
}

TEST_MAIN(TEST_ENTRY(parser_handles_the_rfc1035_syntax),
	  TEST_ENTRY(parser_errors_name_file_line_and_reason),
	  TEST_ENTRY(store_merges_rrsets_and_has_empty_non_terminals),
	  TEST_ENTRY(store_of_many_names_is_compact),
	  TEST_ENTRY(region_zones_are_replaced_without_leaking),
	  TEST_ENTRY(store_keeps_the_case_of_owners_as_loaded))
