/*
 * test_dns_update.c - unit tests of TSIG (RFC 8945), dynamic update
 * (RFC 2136), zone differences, the journal's records and incremental
 * IXFR (RFC 1995).
 */
#include "core/err.h"
#include "dns/dns.h"
#include "test.h"

static uint8_t rmem[4 << 20] __attribute__((aligned(16)));
static struct region rg;

static const char zone_text[] = "$TTL 3600\n"
				"@ SOA ns1 hm 100 7200 900 1209600 300\n"
				"@ NS ns1\n"
				"@ NS ns2\n"
				"ns1 A 192.0.2.1\n"
				"ns2 A 192.0.2.2\n"
				"www A 192.0.2.80\n"
				"www A 192.0.2.81\n"
				"alias CNAME www\n"
				"txt TXT \"hello\"\n";

static void name(const char *s, uint8_t *out)
{
	CHECK_EQ(dns_name_from_text(s, strlen(s), (const uint8_t *)"", out), ATL_OK);
}

static struct dns_zone *load(void)
{
	uint8_t o[DNS_NAME_MAX];
	char err[256];
	struct dns_zone *z = NULL;
	name("example.", o);
	if (dns_zone_load_text_region(&rg, o, "t", zone_text, sizeof zone_text - 1, NULL, NULL, &z,
				      err, sizeof err) != ATL_OK)
		printf("# %s\n", err);
	return z;
}

static unsigned count(const struct dns_zone *z, const char *owner, uint16_t type)
{
	uint8_t n[DNS_NAME_MAX];
	name(owner, n);
	const struct dns_node *nd = dns_zone_find(z, n);
	const struct dns_rrset *s = nd ? dns_node_rrset(nd, type) : NULL;
	return s ? s->count : 0;
}

/* ---- building an UPDATE message --------------------------------------------- */

static uint8_t msg[16384];
static struct wr mw;
static uint16_t counts[3];

static void upd_begin(const char *zone)
{
	uint8_t z[DNS_NAME_MAX];
	name(zone, z);
	mw = wr_make(msg, sizeof msg);
	struct dns_hdr h = {0x1234, DNS_OP_UPDATE << 11, 1, 0, 0, 0};
	dns_hdr_write(&mw, &h);
	dns_name_write(&mw, z, NULL);
	wr_be16(&mw, DNS_T_SOA);
	wr_be16(&mw, DNS_C_IN);
	counts[0] = counts[1] = counts[2] = 0;
}

/* sec 0 prerequisite, 1 update; rdata as presentation text (space-split). */
static void upd_rr(int sec, const char *owner, uint16_t class, uint16_t type, uint32_t ttl,
		   const char *rdata)
{
	uint8_t o[DNS_NAME_MAX], origin[DNS_NAME_MAX], rd[512];
	name(owner, o);
	name("example.", origin);
	int rl = 0;
	if (rdata) {
		struct dns_tok t[16];
		unsigned nt = 0;
		for (const char *p = rdata; *p;) {
			while (*p == ' ')
				p++;
			const char *q = p;
			while (*q && *q != ' ')
				q++;
			if (q > p)
				t[nt++] = (struct dns_tok){p, (uint16_t)(q - p), false};
			p = q;
		}
		const char *why;
		rl = dns_rdata_from_text(type, t, nt, origin, rd, sizeof rd, &why);
		CHECK(rl >= 0);
	}
	dns_name_write(&mw, o, NULL);
	wr_be16(&mw, type);
	wr_be16(&mw, class);
	wr_be32(&mw, ttl);
	wr_be16(&mw, (uint16_t)rl);
	wr_bytes(&mw, rd, (size_t)rl);
	counts[sec]++;
}

static size_t upd_end(void)
{
	store_be16(msg + 6, counts[0]);
	store_be16(msg + 8, counts[1]);
	CHECK(wr_ok(&mw));
	return mw.pos;
}

#define NONE 254

/* Apply the message to z: the rcode; *nz the new version or NULL. */
static int apply(struct dns_zone *z, size_t len, struct dns_zone **nz, uint8_t **diff, size_t *dlen)
{
	struct dns_zones zs = {1, {z}};
	const struct dns_zone *found;
	uint8_t zn[DNS_NAME_MAX];
	int rc = dns_update_zone(&zs, msg, len, &found, zn);
	if (rc != DNS_R_NOERROR)
		return rc;
	struct dns_update u = {.z = found, .r = &rg};
	rc = dns_update_apply(&u, msg, len);
	*nz = u.nz;
	if (diff) {
		*diff = u.diff;
		*dlen = u.difflen;
	} else {
		region_free(&rg, u.diff);
	}
	return rc;
}

TEST(update_prerequisites_give_the_rfc2136_rcodes)
{
	region_init_mem(&rg, rmem, sizeof rmem);
	struct dns_zone *z = load(), *nz;
	size_t used = rg.used;
	struct {
		uint16_t class, type;
		const char *owner, *rdata;
		int rcode;
	} cases[] = {
	    {DNS_C_ANY, DNS_T_A, "www.example.", NULL, DNS_R_NOERROR},	   /* RRset exists */
	    {DNS_C_ANY, DNS_T_A, "txt.example.", NULL, DNS_R_NXRRSET},	   /* ... does not */
	    {DNS_C_ANY, DNS_T_ANY, "www.example.", NULL, DNS_R_NOERROR},   /* name in use */
	    {DNS_C_ANY, DNS_T_ANY, "nope.example.", NULL, DNS_R_NXDOMAIN}, /* ... is not */
	    {NONE, DNS_T_A, "txt.example.", NULL, DNS_R_NOERROR},	   /* RRset absent */
	    {NONE, DNS_T_A, "www.example.", NULL, DNS_R_YXRRSET},	   /* ... is there */
	    {NONE, DNS_T_ANY, "nope.example.", NULL, DNS_R_NOERROR},	   /* name not in use */
	    {NONE, DNS_T_ANY, "www.example.", NULL, DNS_R_YXDOMAIN},	   /* ... is in use */
	    {DNS_C_IN, DNS_T_A, "www.example.", "192.0.2.99", DNS_R_NXRRSET},
	    {DNS_C_ANY, DNS_T_A, "www.other.", NULL, DNS_R_NOTZONE},
	    {3 /* CH */, DNS_T_A, "www.example.", NULL, DNS_R_FORMERR},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		upd_begin("example.");
		upd_rr(0, cases[i].owner, cases[i].class, cases[i].type, 0, cases[i].rdata);
		size_t len = upd_end();
		int rc = apply(z, len, &nz, NULL, NULL);
		if (rc != cases[i].rcode)
			printf("#   case %u\n", i);
		CHECK_EQ(rc, cases[i].rcode);
		CHECK(nz == NULL); /* nothing to change: no new version */
	}
	/* Value-dependent: the whole RRset, in any order, and no less. */
	upd_begin("example.");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.81");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.80");
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_NOERROR);
	upd_begin("example.");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.81");
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_NXRRSET);
	/* A repeated RR counts once (RFC 2136 3.2.3: sets, not lists). */
	upd_begin("example.");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.80");
	upd_rr(0, "WWW.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.80");
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_NXRRSET);
	upd_begin("example.");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.80");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.81");
	upd_rr(0, "www.example.", DNS_C_IN, DNS_T_A, 0, "192.0.2.80");
	upd_rr(0, "alias.example.", DNS_C_IN, DNS_T_CNAME, 0, "WWW.example.");
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_NOERROR);
	/* A prerequisite with a TTL is malformed; a zone we do not serve
	 * is NOTAUTH. */
	upd_begin("example.");
	upd_rr(0, "www.example.", DNS_C_ANY, DNS_T_A, 5, NULL);
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_FORMERR);
	upd_begin("other.");
	CHECK_EQ(apply(z, upd_end(), &nz, NULL, NULL), DNS_R_NOTAUTH);
	CHECK_EQ(rg.used, used); /* nothing left allocated */
}

TEST(update_adds_and_deletes_and_raises_the_serial)
{
	region_init_mem(&rg, rmem, sizeof rmem);
	struct dns_zone *z = load(), *nz;
	uint8_t *diff;
	size_t dlen;
	upd_begin("example.");
	upd_rr(1, "new.example.", DNS_C_IN, DNS_T_A, 300, "192.0.2.99");
	upd_rr(1, "www.example.", NONE, DNS_T_A, 0, "192.0.2.81");	 /* one RR */
	upd_rr(1, "txt.example.", DNS_C_ANY, DNS_T_ANY, 0, NULL);	 /* a name */
	upd_rr(1, "a.b.c.example.", DNS_C_IN, DNS_T_TXT, 60, "x");	 /* new ENTs */
	upd_rr(1, "example.", DNS_C_ANY, DNS_T_NS, 0, NULL);		 /* ignored at apex */
	upd_rr(1, "example.", NONE, DNS_T_SOA, 0, "ns1 hm 100 1 1 1 1"); /* ignored */
	upd_rr(1, "alias.example.", DNS_C_IN, DNS_T_A, 60, "192.0.2.7"); /* beside CNAME: ignored */
	CHECK_EQ(apply(z, upd_end(), &nz, &diff, &dlen), DNS_R_NOERROR);
	CHECK(nz != NULL);
	if (!nz)
		return;
	CHECK_EQ(nz->serial, 101);
	CHECK_EQ(count(nz, "new.example.", DNS_T_A), 1);
	CHECK_EQ(count(nz, "www.example.", DNS_T_A), 1);
	CHECK_EQ(count(nz, "txt.example.", DNS_T_TXT), 0);
	CHECK(dns_zone_find(nz, (const uint8_t *)"\1c\7example") != NULL); /* ENT */
	CHECK_EQ(count(nz, "example.", DNS_T_NS), 2);
	CHECK_EQ(count(nz, "alias.example.", DNS_T_A), 0);
	CHECK_EQ(count(nz, "alias.example.", DNS_T_CNAME), 1);
	/* The old version is untouched. */
	CHECK_EQ(z->serial, 100);
	CHECK_EQ(count(z, "www.example.", DNS_T_A), 2);

	/* The difference: SOA 100, two deleted; SOA 101, two added. */
	struct dns_diff df;
	CHECK_EQ(dns_diff_parse(diff, dlen, &df), ATL_OK);
	CHECK_EQ(df.old_serial, 100);
	CHECK_EQ(df.new_serial, 101);
	CHECK_EQ(df.ndel, 3);
	CHECK_EQ(df.nadd, 3);
	/* Replaying it over the old version gives the new one. */
	struct dns_zone *rz;
	char err[160];
	CHECK_EQ(dns_diff_apply(z, diff, dlen, &rg, &rz, err, sizeof err), ATL_OK);
	CHECK_EQ(rz->serial, 101);
	CHECK_EQ(rz->nnodes, nz->nnodes);
	CHECK_EQ(count(rz, "www.example.", DNS_T_A), 1);
	CHECK_EQ(count(rz, "a.b.c.example.", DNS_T_TXT), 1);
	/* A snapshot of the new version loads as it, over any version. */
	uint8_t *snap;
	size_t snaplen;
	CHECK_EQ(dns_zone_snapshot(nz, &rg, &snap, &snaplen), ATL_OK);
	struct dns_diff sd;
	CHECK_EQ(dns_diff_parse(snap, snaplen, &sd), ATL_OK);
	CHECK(sd.ndel == 0 && sd.new_serial == 101 && sd.nadd > 5);
	struct dns_zone *sz2;
	CHECK_EQ(dns_diff_apply(z, snap, snaplen, &rg, &sz2, err, sizeof err), ATL_OK);
	CHECK(sz2 && sz2->serial == 101 && sz2->nnodes == nz->nnodes);
	CHECK(sz2 && count(sz2, "a.b.c.example.", DNS_T_TXT) == 1);
	dns_zone_free(&rg, sz2);
	region_free(&rg, snap);
	/* ... and not over the new one (its serial is not 100). */
	struct dns_zone *bad;
	CHECK_EQ(dns_diff_apply(nz, diff, dlen, &rg, &bad, err, sizeof err), ATL_ENOENT);
	/* A corrupted difference is refused whole. */
	diff[dlen - 1] ^= 0xff;
	diff[dns_name_len(diff) + 3] ^= 1; /* the old serial */
	CHECK(dns_diff_apply(z, diff, dlen, &rg, &bad, err, sizeof err) != ATL_OK);
	region_free(&rg, diff);
	dns_zone_free(&rg, rz);

	/* A newer SOA in the update is taken as it is; an older one is
	 * ignored (and the serial goes up by one). */
	upd_begin("example.");
	upd_rr(1, "example.", DNS_C_IN, DNS_T_SOA, 3600, "ns1 hm 2000 7200 900 1209600 300");
	struct dns_zone *n2;
	CHECK_EQ(apply(nz, upd_end(), &n2, NULL, NULL), DNS_R_NOERROR);
	CHECK(n2 && n2->serial == 2000);
	upd_begin("example.");
	upd_rr(1, "example.", DNS_C_IN, DNS_T_SOA, 3600, "ns1 hm 5 7200 900 1209600 300");
	upd_rr(1, "more.example.", DNS_C_IN, DNS_T_A, 60, "192.0.2.5");
	struct dns_zone *n3;
	CHECK_EQ(apply(n2, upd_end(), &n3, NULL, NULL), DNS_R_NOERROR);
	CHECK(n3 && n3->serial == 2001);
	/* Deleting the last NS at the apex is ignored; adding an RR that is
	 * there changes nothing. */
	upd_begin("example.");
	upd_rr(1, "example.", NONE, DNS_T_NS, 0, "ns1");
	upd_rr(1, "example.", NONE, DNS_T_NS, 0, "ns2");
	struct dns_zone *n4;
	CHECK_EQ(apply(n3, upd_end(), &n4, NULL, NULL), DNS_R_NOERROR);
	CHECK(n4 && count(n4, "example.", DNS_T_NS) == 1);
	upd_begin("example.");
	upd_rr(1, "more.example.", DNS_C_IN, DNS_T_A, 60, "192.0.2.5");
	struct dns_zone *n5;
	CHECK_EQ(apply(n4, upd_end(), &n5, NULL, NULL), DNS_R_NOERROR);
	CHECK(n5 == NULL);
	/* An RR added with another TTL gives the whole RRset that TTL. */
	upd_begin("example.");
	upd_rr(1, "www.example.", DNS_C_IN, DNS_T_A, 77, "192.0.2.77");
	uint8_t *d2;
	size_t d2len;
	CHECK_EQ(apply(n4, upd_end(), &n5, &d2, &d2len), DNS_R_NOERROR);
	CHECK(n5 && count(n5, "www.example.", DNS_T_A) == 2);
	uint8_t wn[DNS_NAME_MAX];
	name("www.example.", wn);
	CHECK(n5 && dns_node_rrset(dns_zone_find(n5, wn), DNS_T_A)->ttl == 77);
	struct dns_diff df2;
	CHECK_EQ(dns_diff_parse(d2, d2len, &df2), ATL_OK);
	CHECK_EQ(df2.ndel, 2); /* the SOA, the A at its old TTL */
	CHECK_EQ(df2.nadd, 3); /* the SOA, both A at 77 */
	region_free(&rg, d2);
	dns_zone_free(&rg, n5);
	/* An update whose result fails the zone checks is refused and
	 * leaves nothing behind. */
	size_t used = rg.used;
	upd_begin("example.");
	upd_rr(1, "d.example.", DNS_C_IN, DNS_T_DNAME, 60, "a.example.");
	upd_rr(1, "d.example.", DNS_C_IN, DNS_T_DNAME, 60, "b.example.");
	CHECK_EQ(apply(n4, upd_end(), &n5, NULL, NULL), DNS_R_REFUSED);
	CHECK_EQ(rg.used, used);
	/* Short of room at any step: SERVFAIL, nothing left behind, the
	 * current version whole.  Every region size from too small to
	 * enough is tried. */
	{
		static uint8_t small[160 * 1024] __attribute__((aligned(16)));
		struct region save = rg;
		unsigned fails = 0, oks = 0;
		for (size_t size = 76 * 1024; size <= sizeof small; size += 512) {
			region_init_mem(&rg, small, size);
			struct dns_zone *sz = load();
			if (!sz)
				continue;
			size_t su = rg.used;
			upd_begin("example.");
			for (int i = 0; i < 150; i++) {
				char o[32];
				snprintf(o, sizeof o, "host%d.example.", i);
				upd_rr(1, o, DNS_C_IN, DNS_T_TXT, 60,
				       "0123456789012345678901234567890123456789012345678901234");
			}
			struct dns_zone *sn;
			int rc = apply(sz, upd_end(), &sn, NULL, NULL);
			CHECK(rc == DNS_R_SERVFAIL || rc == DNS_R_NOERROR);
			if (rc == DNS_R_SERVFAIL) {
				fails++;
				CHECK_EQ(rg.used, su);
			} else {
				oks++;
				CHECK(sn && count(sn, "host149.example.", DNS_T_TXT) == 1);
			}
			CHECK(count(sz, "www.example.", DNS_T_A) == 2);
		}
		CHECK(fails > 0 && oks > 0);
		rg = save;
	}
	/* Meta types and a class-ANY RR with data are malformed. */
	upd_begin("example.");
	upd_rr(1, "x.example.", DNS_C_IN, DNS_T_AXFR, 0, NULL);
	CHECK_EQ(apply(n4, upd_end(), &n5, NULL, NULL), DNS_R_FORMERR);
	upd_begin("example.");
	upd_rr(1, "x.example.", DNS_C_ANY, DNS_T_A, 0, "1.2.3.4");
	CHECK_EQ(apply(n4, upd_end(), &n5, NULL, NULL), DNS_R_FORMERR);
	upd_begin("example.");
	upd_rr(1, "x.elsewhere.", DNS_C_IN, DNS_T_A, 0, "1.2.3.4");
	CHECK_EQ(apply(n4, upd_end(), &n5, NULL, NULL), DNS_R_NOTZONE);
	/* The response echoes the zone section. */
	uint8_t out[512];
	size_t n = dns_update_response(msg, upd_end(), DNS_R_NOTZONE, out, sizeof out);
	CHECK_EQ(n, 12 + 9 + 4);
	CHECK_EQ(load_be16(out + 2), DNS_F_QR | DNS_OP_UPDATE << 11 | DNS_R_NOTZONE);
}

/* ---- TSIG ---------------------------------------------------------------------- */

static const char keys_text[] =
    "# comment\n"
    "key \"upd\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0c2VjcmV0c2VjcmV0\";\n};\n"
    "key xfr { algorithm HMAC-SHA512; secret \"AAECAwQFBgc=\"; }; // another\n";

TEST(tsig_keys_file_and_errors)
{
	struct dns_tsig_keys ks = {0};
	char err[160];
	CHECK_EQ(dns_tsig_keys_parse(&ks, keys_text, sizeof keys_text - 1, err, sizeof err),
		 ATL_OK);
	CHECK_EQ(ks.n, 2);
	CHECK_EQ(ks.k[0].alg, DNS_TSIG_HMAC_SHA256);
	CHECK_EQ(ks.k[0].secret_len, 18);
	CHECK_MEM(ks.k[0].secret, "secretsecretsecret", 18);
	CHECK_EQ(ks.k[1].alg, DNS_TSIG_HMAC_SHA512);
	CHECK_EQ(ks.k[1].secret_len, 8);
	CHECK(dns_tsig_key_find(&ks, (const uint8_t *)"\3XFR") != NULL);
	const char *bad[] = {
	    "key a { algorithm hmac-md5; secret \"AAAA\"; };",
	    "key a { algorithm hmac-sha256; secret \"A*AA\"; };",
	    "key a { algorithm hmac-sha256; };",
	    "key a { algorithm hmac-sha256 secret \"AAAA\"; };",
	    "zone a { };",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dns_tsig_keys k2 = {0};
		err[0] = 0;
		CHECK_EQ(dns_tsig_keys_parse(&k2, bad[i], strlen(bad[i]), err, sizeof err),
			 ATL_EINVAL);
		CHECK(!strncmp(err, "keys:1: ", 8));
	}
}

TEST(tsig_verifies_and_refuses_like_rfc8945)
{
	struct dns_tsig_keys ks = {0};
	char err[160];
	dns_tsig_keys_parse(&ks, keys_text, sizeof keys_text - 1, err, sizeof err);
	uint64_t now = 1800000000;
	for (unsigned k = 0; k < 2; k++) {
		upd_begin("example.");
		size_t len = upd_end();
		struct dns_tsig c = {.key = &ks.k[k]}, t;
		len = dns_tsig_sign(&c, msg, len, sizeof msg, now);
		CHECK(len > 0);
		CHECK_EQ(load_be16(msg + 10), 1);
		CHECK_EQ(dns_tsig_verify(&ks, msg, len, now + 100, &t), DNS_R_NOERROR);
		CHECK(t.key == &ks.k[k]);
		CHECK_EQ(t.orig_id, 0x1234);
		/* The time is checked after the MAC: BADTIME, signed. */
		CHECK_EQ(dns_tsig_verify(&ks, msg, len, now + 301, &t), DNS_R_NOTAUTH);
		CHECK_EQ(t.error, DNS_TSIG_BADTIME);
		uint8_t out[1024];
		size_t n = dns_tsig_error_response(&t, msg, len, DNS_R_NOTAUTH, out, sizeof out,
						   now + 301);
		CHECK(n > 0 && load_be16(out + 10) == 1);
		/* A changed byte: BADSIG, answered without a MAC. */
		msg[13] ^= 0x20;
		CHECK_EQ(dns_tsig_verify(&ks, msg, len, now, &t), DNS_R_NOTAUTH);
		CHECK_EQ(t.error, DNS_TSIG_BADSIG);
		msg[13] ^= 0x20;
		n = dns_tsig_error_response(&t, msg, len, DNS_R_NOTAUTH, out, sizeof out, now);
		CHECK_EQ(n, 12 + 9 + 4 + dns_tsig_size(&t));
		CHECK_EQ(load_be16(out + n - 8), 0); /* MAC size 0 */
		CHECK_EQ(load_be16(out + n - 4), DNS_TSIG_BADSIG);
	}
	/* A client signs a request; the server's responses, a transfer of
	 * three messages, verify in order, and not out of order. */
	for (unsigned k = 0; k < 2; k++) {
		upd_begin("example.");
		struct dns_tsig c = {.key = &ks.k[k]}, t;
		size_t len = dns_tsig_sign(&c, msg, upd_end(), sizeof msg, now);
		CHECK_EQ(dns_tsig_verify(&ks, msg, len, now, &t), DNS_R_NOERROR);
		uint8_t r[3][600];
		size_t rl[3];
		for (int i = 0; i < 3; i++) {
			rl[i] = dns_update_response(msg, len, DNS_R_NOERROR, r[i], sizeof r[i]);
			r[i][rl[i] - 1] = (uint8_t)i; /* three different messages */
			rl[i] = dns_tsig_sign(&t, r[i], rl[i], sizeof r[i], now + (uint64_t)i);
			CHECK(rl[i] > 0);
		}
		struct dns_tsig c2 = c, c3 = c;
		CHECK_EQ(dns_tsig_verify_response(&c2, r[1], rl[1], now), DNS_R_NOTAUTH);
		for (int i = 0; i < 3; i++)
			CHECK_EQ(dns_tsig_verify_response(&c, r[i], rl[i], now), DNS_R_NOERROR);
		r[0][3] ^= 0x01; /* the rcode */
		CHECK_EQ(dns_tsig_verify_response(&c3, r[0], rl[0], now), DNS_R_NOTAUTH);
		CHECK_EQ(c3.error, DNS_TSIG_BADSIG);
	}
	/* An unknown key: BADKEY. */
	struct dns_tsig_keys other = {0};
	const char *ok = "key zzz { algorithm hmac-sha256; secret \"AAAA\"; };";
	dns_tsig_keys_parse(&other, ok, strlen(ok), err, sizeof err);
	upd_begin("example.");
	struct dns_tsig c = {.key = &other.k[0]}, t;
	size_t len = dns_tsig_sign(&c, msg, upd_end(), sizeof msg, now);
	CHECK_EQ(dns_tsig_verify(&ks, msg, len, now, &t), DNS_R_NOTAUTH);
	CHECK_EQ(t.error, DNS_TSIG_BADKEY);
	/* Unsigned: ENOENT; a TSIG not last: FORMERR. */
	upd_begin("example.");
	CHECK_EQ(dns_tsig_verify(&ks, msg, upd_end(), now, &t), ATL_ENOENT);
	len = dns_tsig_sign(&c, msg, upd_end(), sizeof msg, now);
	memcpy(msg + len, msg + 12 + 13, 4); /* anything after it */
	store_be16(msg + 10, 2);
	CHECK_EQ(dns_tsig_verify(&ks, msg, len + 11, now, &t), DNS_R_FORMERR);
}

/* ---- the journal's records ------------------------------------------------------ */

TEST(journal_records_detect_torn_and_stale_blocks)
{
	uint8_t hdr[DNS_JOURNAL_HDR], rec[256];
	uint64_t gen, epoch;
	dns_journal_header_encode(hdr, 0x1122334455667788ull, 9);
	CHECK_EQ(dns_journal_header_decode(hdr, sizeof hdr, &gen, &epoch), ATL_OK);
	CHECK(gen == 0x1122334455667788ull && epoch == 9);
	hdr[20] ^= 1;
	CHECK_EQ(dns_journal_header_decode(hdr, sizeof hdr, &gen, &epoch), ATL_ENOENT);
	const uint8_t diff[] = "some difference";
	size_t rl = dns_journal_record_len(sizeof diff);
	dns_journal_record_encode(rec, 7, 3, diff, sizeof diff);
	size_t len;
	CHECK_EQ(dns_journal_record_peek(rec, 7, 3, &len), ATL_OK);
	CHECK_EQ(len, sizeof diff);
	CHECK_EQ(dns_journal_record_peek(rec, 8, 3, &len), ATL_ENOENT); /* another journal */
	CHECK_EQ(dns_journal_record_peek(rec, 7, 4, &len), ATL_ENOENT); /* out of sequence */
	CHECK_EQ(dns_journal_record_check(rec, rl), ATL_OK);
	rec[rl - 40] ^= 0x80; /* torn: the tail never reached the disk */
	CHECK_EQ(dns_journal_record_check(rec, rl), ATL_EINVAL);
}

/* ---- incremental IXFR ------------------------------------------------------------ */

TEST(ixfr_sends_differences_in_rfc1995_order)
{
	region_init_mem(&rg, rmem, sizeof rmem);
	struct dns_zone *z = load(), *nz;
	uint8_t *diff;
	size_t dlen;
	upd_begin("example.");
	upd_rr(1, "www.example.", NONE, DNS_T_A, 0, "192.0.2.81");
	upd_rr(1, "new.example.", DNS_C_IN, DNS_T_A, 300, "192.0.2.99");
	CHECK_EQ(apply(z, upd_end(), &nz, &diff, &dlen), DNS_R_NOERROR);
	if (!nz)
		return;
	/* IXFR query: SOA serial 100 in the authority section. */
	struct wr w = wr_make(msg, sizeof msg);
	struct dns_hdr h = {7, 0, 1, 0, 1, 0};
	dns_hdr_write(&w, &h);
	dns_name_write(&w, (const uint8_t *)"\7example", NULL);
	wr_be16(&w, DNS_T_IXFR);
	wr_be16(&w, DNS_C_IN);
	size_t sl;
	const uint8_t *soa = dns_zone_soa(z, &sl);
	dns_name_write(&w, (const uint8_t *)"\7example", NULL);
	wr_be16(&w, DNS_T_SOA);
	wr_be16(&w, DNS_C_IN);
	wr_be32(&w, 0);
	wr_be16(&w, (uint16_t)sl);
	wr_bytes(&w, soa, sl);
	struct dns_zones zs = {1, {nz}};
	struct dns_axfr x;
	CHECK_EQ(dns_axfr_start(&zs, msg, w.pos, &x), DNS_R_NOERROR);
	CHECK(x.have_client_serial && !x.up_to_date && x.client_serial == 100);
	dns_ixfr_begin(&x);
	uint8_t out[4096];
	uint32_t serials[8];
	unsigned nsoa = 0, nrr = 0, fed = 0;
	for (;;) {
		if (x.need_diff) {
			dns_ixfr_feed(&x, fed ? NULL : diff, dlen);
			fed++;
		}
		size_t n = dns_axfr_next(&x, out, sizeof out);
		if (!n)
			break;
		struct rd r = rd_make(out, n);
		struct dns_hdr rh;
		dns_hdr_read(&r, &rh);
		uint8_t nm[DNS_NAME_MAX];
		if (rh.qd) {
			dns_name_read(&r, nm);
			rd_skip(&r, 4);
		}
		for (unsigned i = 0; i < rh.an; i++) {
			struct dns_rr rr;
			CHECK_EQ(dns_rr_read(&r, &rr), ATL_OK);
			uint8_t rd[512];
			int l = dns_rdata_uncompress(out, n, &rr, rd, sizeof rd);
			if (rr.type == DNS_T_SOA && nsoa < 8)
				serials[nsoa++] = load_be32(rd + l - 20);
			nrr++;
		}
	}
	CHECK(x.done);
	CHECK_EQ(fed, 2);
	/* current, old, (deleted A), new, (added A), current */
	CHECK_EQ(nsoa, 4);
	CHECK_EQ(nrr, 6);
	CHECK(serials[0] == 101 && serials[1] == 100 && serials[2] == 101 && serials[3] == 101);
	region_free(&rg, diff);
}

TEST_MAIN(TEST_ENTRY(update_prerequisites_give_the_rfc2136_rcodes),
	  TEST_ENTRY(update_adds_and_deletes_and_raises_the_serial),
	  TEST_ENTRY(tsig_keys_file_and_errors), TEST_ENTRY(tsig_verifies_and_refuses_like_rfc8945),
	  TEST_ENTRY(journal_records_detect_torn_and_stale_blocks),
	  TEST_ENTRY(ixfr_sends_differences_in_rfc1995_order))
