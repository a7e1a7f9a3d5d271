/*
 * test_dns_cache.c - the response cache (dns_answer_cached) answers byte
 * for byte as the full path does.
 *
 * Over the differential test's zones (tests/e2e/test_dns_data, read from
 * the repository root where tests/run starts) and a zone of edge cases,
 * every query of a broad set - names of every answering rule, many
 * types, in several cases, with and without EDNS, with EDNS sizes around
 * the responses' lengths, DO, RD and CD, over UDP and TCP - is answered
 * with the cache off (dns_answer), cold (a miss, stored) and warm (a hit),
 * and the three responses must be identical.  The variants of one
 * question run back to back without a flush, so a response stored for
 * one variant is served to the next: any part of the request the copy
 * got wrong shows as a difference.  Then: a zone change is seen only
 * after a flush, and what the cache will not take.
 */
#include <stdlib.h>

#include "core/err.h"
#include "dns/dns.h"
#include "test.h"

#define DATA "tests/e2e/test_dns_data/"

/* Edge cases the e2e zones lack: a DNAME whose result is too long
 * (YXDOMAIN), a CNAME into a DNAME, a loop, responses near 512 bytes. */
static const char edge_zone[] =
    "$TTL 300\n"
    "@ SOA ns hm 1 3600 900 604800 60\n"
    "@ NS ns\n"
    "ns A 192.0.2.1\n"
    "long DNAME "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.\n"
    "d DNAME t.edge.test.\n"
    "x.t A 192.0.2.7\n"
    "to-d CNAME Y.d.edge.test.\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "mx MX 1 m1\n"
    "mx MX 2 m2\n"
    "mx MX 3 m3\n"
    /* the additional section is too big for 512 */
    "m1 AAAA 2001:db8::1:1\n"
    "m1 AAAA 2001:db8::1:2\n"
    "m1 AAAA 2001:db8::1:3\n"
    "m1 AAAA 2001:db8::1:4\n"
    "m1 AAAA 2001:db8::1:5\n"
    "m2 AAAA 2001:db8::2:1\n"
    "m2 AAAA 2001:db8::2:2\n"
    "m2 AAAA 2001:db8::2:3\n"
    "m2 AAAA 2001:db8::2:4\n"
    "m2 AAAA 2001:db8::2:5\n"
    "m3 AAAA 2001:db8::3:1\n"
    "m3 AAAA 2001:db8::3:2\n"
    "m3 AAAA 2001:db8::3:3\n"
    "m3 AAAA 2001:db8::3:4\n"
    "m3 AAAA 2001:db8::3:5\n"
    "m1 A 192.0.2.11\n"
    "m1 AAAA 2001:db8::11\n"
    "m2 A 192.0.2.12\n"
    "m2 AAAA 2001:db8::12\n"
    "m3 A 192.0.2.13\n"
    "m3 AAAA 2001:db8::13\n"
    "n480 TXT "
    "\"01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901"
    "2345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345"
    "67890123456789012345678901234567890123456789\" "
    "\"01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901"
    "2345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345"
    "67890123456789012345678901234567890123456789\"\n";

static uint8_t mem[4 << 20];
static struct arena arena = {mem, sizeof mem, 0, 0, 0};
static struct dns_zones zs;
static struct dns_zone zbuf[8];
static unsigned nz;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("# cannot open %s (run from the repository root)\n", path);
		return NULL;
	}
	static char bufs[4][16384];
	static unsigned nb;
	char *b = bufs[nb++ % 4];
	*len = fread(b, 1, sizeof bufs[0] - 1, f);
	fclose(f);
	b[*len] = 0;
	return b;
}

static int include(void *ctx, const char *file, const char **data, size_t *len)
{
	(void)ctx;
	char path[256];
	snprintf(path, sizeof path, DATA "%s", file);
	*data = slurp(path, len);
	return *data ? ATL_OK : ATL_ENOENT;
}

static struct dns_zone *load(const char *origin, const char *text, size_t len)
{
	uint8_t o[DNS_NAME_MAX];
	char err[320];
	struct dns_zone *z = &zbuf[nz++];
	dns_name_from_text(origin, strlen(origin), NULL, o);
	uint8_t *ob = arena_alloc(&arena, DNS_NAME_MAX);
	memcpy(ob, o, sizeof o);
	if (dns_zone_load_text(&arena, ob, origin, text, len, include, NULL, z, err, sizeof err) !=
	    ATL_OK) {
		printf("# %s: %s\n", origin, err);
		test_failed_checks++;
		return NULL;
	}
	return z;
}

static void setup(void)
{
	static const char *const files[][2] = {{"example.", "example.zone"},
					       {"sub.example.", "sub.example.zone"},
					       {"other.test.", "other.test.zone"}};
	if (zs.n)
		return;
	for (unsigned i = 0; i < 3; i++) {
		char path[256];
		size_t len;
		snprintf(path, sizeof path, DATA "%s", files[i][1]);
		const char *t = slurp(path, &len);
		struct dns_zone *z = t ? load(files[i][0], t, len) : NULL;
		if (z)
			zs.z[zs.n++] = z;
	}
	struct dns_zone *z = load("edge.test.", edge_zone, sizeof edge_zone - 1);
	if (z)
		zs.z[zs.n++] = z;
}

static uint8_t cache_mem[1 << 20];

static void cache_make(struct dns_cache *c, size_t bytes)
{
	struct heap h;
	heap_init(&h, cache_mem, sizeof cache_mem);
	CHECK_EQ(dns_cache_init(c, &h, bytes), ATL_OK);
}

/* A request: name as text (its case kept), type, class, EDNS size (0:
 * none), DO, header flags. */
struct req {
	const char *name;
	uint16_t type, class, edns;
	bool dnssec;
	uint16_t flags;
};

static size_t build(uint8_t *q, size_t cap, const struct req *r, uint16_t id)
{
	struct wr w = wr_make(q, cap);
	struct dns_hdr h = {id, r->flags, 1, 0, 0, r->edns ? 1 : 0};
	dns_hdr_write(&w, &h);
	uint8_t n[DNS_NAME_MAX];
	dns_name_from_text(r->name, strlen(r->name), NULL, n);
	dns_name_write(&w, n, NULL);
	wr_be16(&w, r->type);
	wr_be16(&w, r->class);
	if (r->edns) {
		wr_u8(&w, 0);
		wr_be16(&w, DNS_T_OPT);
		wr_be16(&w, r->edns);
		wr_be32(&w, r->dnssec ? DNS_EDNS_DO : 0);
		wr_be16(&w, 0);
	}
	return w.pos;
}

static unsigned compared, differ;

/* The same request three ways; each must give the cache-off bytes. */
static void compare(struct dns_cache *c, const uint8_t *q, size_t qlen, enum dns_transport tr,
		    size_t cap, const char *what)
{
	static uint8_t off[65536], cold[65536], warm[65536];
	size_t n0 = dns_answer(&zs, q, qlen, tr, off, cap), n1 = 0, n2 = 0;
	bool p1 = dns_answer_cached(c, &zs, q, qlen, tr, cold, cap, &n1);
	bool p2 = dns_answer_cached(c, &zs, q, qlen, tr, warm, cap, &n2);
	compared++;
	if (!p1)
		n1 = dns_answer(&zs, q, qlen, tr, cold, cap);
	if (!p2)
		n2 = dns_answer(&zs, q, qlen, tr, warm, cap);
	if (p1 != p2 || n0 != n1 || n0 != n2 || memcmp(off, cold, n0) || memcmp(off, warm, n0)) {
		if (differ++ < 10)
			printf("#   %s over %s: %zu / %zu / %zu bytes, %s\n", what,
			       tr == DNS_TCP ? "TCP" : "UDP", n0, n1, n2,
			       p1 != p2 ? "taken, then not" : "bytes differ");
		test_failed_checks++;
	}
}

/* Every name of the zones and then some, in three cases. */
static const char *const names[] = {"example.",
				    "www.example.",
				    "web.example.",
				    "chain1.example.",
				    "chain2.example.",
				    "out.example.",
				    "cname-nx.example.",
				    "mail.example.",
				    "ns1.example.",
				    "anything.wild.example.",
				    "a.b.wild.example.",
				    "exists.wild.example.",
				    "wild.example.",
				    "x.cw.example.",
				    "ent.example.",
				    "b.ent.example.",
				    "a.b.ent.example.",
				    "sub.example.",
				    "host.sub.example.",
				    "deep.below.sub.example.",
				    "ns1.sub.example.",
				    "dn.example.",
				    "x.dn.example.",
				    "y.x.dn.example.",
				    "nope.dn.example.",
				    "target.example.",
				    "x.target.example.",
				    "case.mixed.example.",
				    "CASE.MIXED.example.",
				    "_sip._udp.example.",
				    "sip.example.",
				    "t-a.example.",
				    "t-ns.example.",
				    "t-ptr.example.",
				    "t-txt.example.",
				    "t-naptr.example.",
				    "t-srv.example.",
				    "t-https.example.",
				    "t-https0.example.",
				    "t-svcb.example.",
				    "t-unknown.example.",
				    "t-nsec3.example.",
				    "t-rrsig.example.",
				    "big.example.",
				    "nope.example.",
				    "a.nope.example.",
				    "other.test.",
				    "host.other.test.",
				    "alias.other.test.",
				    "ns.other.test.",
				    "missing.other.test.",
				    "elsewhere.test.",
				    ".",
				    "edge.test.",
				    "q.long.edge.test.",
				    "x.d.edge.test.",
				    "X.D.edge.test.",
				    "z.d.edge.test.",
				    "to-d.edge.test.",
				    "loop1.edge.test.",
				    "mx.edge.test.",
				    "n480.edge.test.",
				    "m1.edge.test."};

static const uint16_t types[] = {DNS_T_A,     DNS_T_AAAA,  DNS_T_MX,	DNS_T_NS,   DNS_T_SOA,
				 DNS_T_TXT,   DNS_T_CNAME, DNS_T_ANY,	DNS_T_DS,   DNS_T_SRV,
				 DNS_T_HTTPS, DNS_T_DNAME, DNS_T_NSEC3, DNS_T_AXFR, 65000};

static void recase(char *s, unsigned how)
{
	for (unsigned i = 0; s[i]; i++) {
		char ch = s[i];
		if (how == 1 && ch >= 'a' && ch <= 'z')
			s[i] = (char)(ch - 32);
		else if (how == 2 && (i & 1) && ch >= 'a' && ch <= 'z')
			s[i] = (char)(ch - 32);
		else if (how == 2 && !(i & 1) && ch >= 'A' && ch <= 'Z')
			s[i] = (char)(ch + 32);
	}
}

TEST(cached_responses_are_byte_identical_to_the_full_path)
{
	setup();
	static struct dns_cache c;
	cache_make(&c, 256 * 1024);
	static const struct {
		uint16_t edns;
		bool dnssec;
		uint16_t flags;
	} vs[] = {{0, false, DNS_F_RD},
		  {0, false, 0},
		  {1232, false, DNS_F_RD},
		  {1232, true, DNS_F_CD},
		  {4096, true, DNS_F_RD | DNS_F_CD},
		  {512, false, 0},
		  {100, false, 0}, /* below 512: taken as 512 */
		  {600, true, DNS_F_RD},
		  {1300, false, DNS_F_AD | 0x0040}, /* AD and Z ignored */
		  {0, false, DNS_F_RD | DNS_F_TC | DNS_F_AA}};
	uint16_t id = 1;
	for (unsigned ni = 0; ni < sizeof names / sizeof names[0]; ni++)
		for (unsigned ti = 0; ti < sizeof types / sizeof types[0]; ti++)
			for (unsigned cs = 0; cs < 3; cs++)
				for (unsigned vi = 0; vi < sizeof vs / sizeof vs[0]; vi++)
					for (int tr = 0; tr < 2; tr++) {
						char nm[300], what[400];
						snprintf(nm, sizeof nm, "%s", names[ni]);
						recase(nm, cs);
						struct req r = {
						    nm,		 types[ti],	DNS_C_IN,
						    vs[vi].edns, vs[vi].dnssec, vs[vi].flags};
						uint8_t q[512];
						size_t ql = build(q, sizeof q, &r, id++);
						snprintf(what, sizeof what, "%s type %u edns %u%s",
							 nm, types[ti], vs[vi].edns,
							 vs[vi].dnssec ? " DO" : "");
						compare(&c, q, ql, tr ? DNS_TCP : DNS_UDP,
							tr ? 16384 : 65535, what);
					}
	printf("# %u requests, %llu hits, %llu misses, %llu stored\n", compared,
	       (unsigned long long)c.stat[DNS_CACHE_HITS],
	       (unsigned long long)c.stat[DNS_CACHE_MISSES],
	       (unsigned long long)c.stat[DNS_CACHE_STORED]);
	CHECK_EQ(differ, 0);
	/* The set was really answered from the cache, mostly. */
	CHECK(c.stat[DNS_CACHE_HITS] > c.stat[DNS_CACHE_MISSES] * 4);
}

TEST(classes_and_small_buffers)
{
	setup();
	static struct dns_cache c;
	cache_make(&c, 64 * 1024);
	static const uint16_t classes[] = {DNS_C_IN, DNS_C_ANY, 3 /* CH */};
	for (unsigned k = 0; k < 3; k++)
		for (unsigned ni = 0; ni < 8; ni++) {
			struct req r = {names[ni], DNS_T_A, classes[k], 1232, false, 0};
			uint8_t q[512];
			size_t ql = build(q, sizeof q, &r, 7);
			compare(&c, q, ql, DNS_UDP, 65535, names[ni]);
			/* A buffer smaller than a whole response, or than 512. */
			compare(&c, q, ql, DNS_UDP, 100, names[ni]);
			compare(&c, q, ql, DNS_TCP, 140, names[ni]);
		}
	CHECK_EQ(differ, 0);
}

/* With a one-set cache, replacement: every answer still right. */
TEST(a_tiny_cache_replaces_and_stays_right)
{
	setup();
	static struct dns_cache c;
	cache_make(&c, 2 * DNS_CACHE_SLOT);
	CHECK_EQ(c.mask, 0);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned ni = 0; ni < sizeof names / sizeof names[0]; ni++) {
			struct req r = {names[ni],	  DNS_T_A,    DNS_C_IN,
					round ? 1232 : 0, round == 2, 0};
			uint8_t q[512];
			size_t ql = build(q, sizeof q, &r, (uint16_t)ni);
			compare(&c, q, ql, DNS_UDP, 65535, names[ni]);
		}
	CHECK_EQ(differ, 0);
	CHECK(c.stat[DNS_CACHE_HITS] > 0);
}

/* A DNAME's synthesized names carry the query's labels in its case: such
 * a response is served only to the same case. */
TEST(dname_responses_keep_the_query_case)
{
	setup();
	static struct dns_cache c;
	cache_make(&c, 64 * 1024);
	static uint8_t a[4096], b[4096];
	size_t na, nb;
	uint8_t q[512];
	struct req r = {"x.d.edge.test.", DNS_T_A, DNS_C_IN, 0, false, 0};
	size_t ql = build(q, sizeof q, &r, 1);
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, a, sizeof a, &na));
	r.name = "X.d.edge.test.";
	ql = build(q, sizeof q, &r, 1);
	uint64_t hits = c.stat[DNS_CACHE_HITS];
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits); /* not served the other case */
	CHECK_EQ(na, nb);
	CHECK(memcmp(a, b, na) != 0);
	size_t n0 = dns_answer(&zs, q, ql, DNS_UDP, a, sizeof a);
	CHECK_EQ(n0, nb);
	CHECK_MEM(a, b, n0);
	/* A plain name is served to any case. */
	r.name = "www.example.";
	ql = build(q, sizeof q, &r, 1);
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, a, sizeof a, &na));
	r.name = "WwW.ExAmPlE.";
	ql = build(q, sizeof q, &r, 1);
	hits = c.stat[DNS_CACHE_HITS];
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits + 1);
	CHECK_MEM(b + DNS_HDR_LEN + 1, "WwW", 3);
}

static const char v1[] = "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"
			 "host A 192.0.2.10\n";
static const char v2[] = "$TTL 60\n@ SOA ns hm 2 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"
			 "host A 192.0.2.20\nnew A 192.0.2.30\n";

/* A changed zone is seen after a flush, and only then (which is why the
 * server flushes on every change). */
TEST(a_zone_change_is_seen_after_a_flush)
{
	static uint8_t zmem[1 << 20];
	struct arena za = {zmem, sizeof zmem, 0, 0, 0};
	static struct dns_zone z1, z2;
	uint8_t o[DNS_NAME_MAX];
	char err[256];
	dns_name_from_text("chg.test.", 9, NULL, o);
	CHECK_EQ(
	    dns_zone_load_text(&za, o, "v1", v1, sizeof v1 - 1, NULL, NULL, &z1, err, sizeof err),
	    ATL_OK);
	CHECK_EQ(
	    dns_zone_load_text(&za, o, "v2", v2, sizeof v2 - 1, NULL, NULL, &z2, err, sizeof err),
	    ATL_OK);
	struct dns_zones one = {1, {&z1}};
	static struct dns_cache c;
	cache_make(&c, 64 * 1024);
	uint8_t q[512], q2[512], a[1024], b[1024];
	struct req r = {"host.chg.test.", DNS_T_A, DNS_C_IN, 1232, false, 0};
	size_t ql = build(q, sizeof q, &r, 9), na, nb;
	r.name = "new.chg.test.";
	size_t ql2 = build(q2, sizeof q2, &r, 9);
	CHECK(dns_answer_cached(&c, &one, q, ql, DNS_UDP, a, sizeof a, &na));
	CHECK(dns_answer_cached(&c, &one, q2, ql2, DNS_UDP, a, sizeof a, &na));
	CHECK_EQ(DNS_RCODE(load_be16(a + 2)), DNS_R_NXDOMAIN);
	one.z[0] = &z2; /* the new version (an update, a transfer, a reload) */
	uint64_t hits = c.stat[DNS_CACHE_HITS];
	CHECK(dns_answer_cached(&c, &one, q, ql, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits + 1); /* without a flush: the old answer */
	CHECK(memmem(b, nb, "\xc0\x00\x02\x0a", 4) != NULL);
	dns_cache_flush(&c);
	CHECK(dns_answer_cached(&c, &one, q, ql, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits + 1);
	CHECK(memmem(b, nb, "\xc0\x00\x02\x14", 4) != NULL);
	na = dns_answer(&one, q, ql, DNS_UDP, a, sizeof a);
	CHECK_EQ(na, nb);
	CHECK_MEM(a, b, na);
	CHECK(dns_answer_cached(&c, &one, q2, ql2, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(DNS_RCODE(load_be16(b + 2)), DNS_R_NOERROR);
	/* Generations wrap: the table is cleared rather than reused. */
	c.gen = UINT32_MAX;
	dns_cache_flush(&c);
	CHECK_EQ(c.gen, 1);
	hits = c.stat[DNS_CACHE_HITS];
	CHECK(dns_answer_cached(&c, &one, q, ql, DNS_UDP, b, sizeof b, &nb));
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits);
}

/* What goes the caller's way: signed, UPDATE, NOTIFY, malformed. */
TEST(only_plain_queries_are_taken)
{
	setup();
	static struct dns_cache c;
	cache_make(&c, 64 * 1024);
	uint8_t q[600], out[2048];
	size_t n;
	struct req r = {"www.example.", DNS_T_A, DNS_C_IN, 1232, false, 0};
	size_t ql = build(q, sizeof q, &r, 3);
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	/* A second additional record (as a TSIG would be). */
	q[11] = 2;
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	q[11] = 1;
	/* A TSIG in place of the OPT. */
	store_be16(q + ql - 10, DNS_T_TSIG);
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	store_be16(q + ql - 10, DNS_T_OPT);
	/* EDNS version 1 (BADVERS on the full path). */
	q[ql - 5] = 1;
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	q[ql - 5] = 0;
	/* Trailing bytes, a short OPT, malformed options. */
	CHECK(!dns_answer_cached(&c, &zs, q, ql + 1, DNS_UDP, out, sizeof out, &n));
	CHECK(!dns_answer_cached(&c, &zs, q, ql - 1, DNS_UDP, out, sizeof out, &n));
	store_be16(q + ql - 2, 3);
	q[ql] = 0;
	q[ql + 1] = 10;
	q[ql + 2] = 0;
	CHECK(!dns_answer_cached(&c, &zs, q, ql + 3, DNS_UDP, out, sizeof out, &n));
	store_be16(q + ql - 2, 0);
	/* Opcodes other than QUERY, and responses. */
	for (unsigned op = 1; op < 16; op++) {
		q[2] = (uint8_t)(op << 3);
		CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	}
	q[2] = 0x80;
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	q[2] = 0;
	/* A compressed question name, two questions, an answer record. */
	uint8_t p[64] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1};
	CHECK(!dns_answer_cached(&c, &zs, p, 18, DNS_UDP, out, sizeof out, &n));
	q[5] = 2;
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	q[5] = 1;
	q[7] = 1;
	CHECK(!dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	q[7] = 0;
	/* Off: nothing is taken. */
	struct dns_cache off;
	struct heap h;
	heap_init(&h, cache_mem, sizeof cache_mem);
	CHECK_EQ(dns_cache_init(&off, &h, 0), ATL_OK);
	CHECK(!dns_answer_cached(&off, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	CHECK_EQ(dns_cache_init(&off, &h, 100), ATL_EINVAL);
	CHECK_EQ(dns_cache_init(&off, &h, 3 << 20), ATL_ENOMEM);
	/* Truncated responses are not stored: big TXT over UDP. */
	r.name = "big.example.";
	r.type = DNS_T_TXT;
	r.edns = 0;
	ql = build(q, sizeof q, &r, 3);
	uint64_t stored = c.stat[DNS_CACHE_STORED];
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	CHECK(load_be16(out + 2) & DNS_F_TC);
	CHECK_EQ(c.stat[DNS_CACHE_STORED], stored);
	/* Over TCP it is whole and stored, and a UDP request is then not
	 * served from it (it would not fit): the full path truncates. */
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_TCP, out, sizeof out, &n));
	CHECK(!(load_be16(out + 2) & DNS_F_TC));
	uint64_t hits = c.stat[DNS_CACHE_HITS];
	CHECK(dns_answer_cached(&c, &zs, q, ql, DNS_UDP, out, sizeof out, &n));
	CHECK(load_be16(out + 2) & DNS_F_TC);
	CHECK_EQ(c.stat[DNS_CACHE_HITS], hits);
}

TEST_MAIN(TEST_ENTRY(cached_responses_are_byte_identical_to_the_full_path),
	  TEST_ENTRY(classes_and_small_buffers), TEST_ENTRY(a_tiny_cache_replaces_and_stays_right),
	  TEST_ENTRY(dname_responses_keep_the_query_case),
	  TEST_ENTRY(a_zone_change_is_seen_after_a_flush), TEST_ENTRY(only_plain_queries_are_taken))
