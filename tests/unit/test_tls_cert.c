/*
 * test_tls_cert.c - lib/tls/cert.c: loading credentials in every key
 * format and refusing the keys atoll does not take; host-name matching
 * (RFC 6125 6.4); the signature schemes per version; signing and
 * verifying, also against signatures openssl made; chain validation
 * (names, dates, anchors, garbage); trust anchor bundles; wiping.
 *
 * The certificates and keys are files in tests/unit/tls_certs/, made by
 * its gen.sh (which says what each one is) and read at run time relative
 * to the repository root, where tests/run starts every binary.  Chains
 * are turned into DER here with BearSSL's PEM decoder, so chain_verify's
 * tests do not depend on tls_cred_load.
 */
#include <stdlib.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "fakeplat.h"
#include "test.h"
#include "tls/tls_int.h"

#define DIR "tests/unit/tls_certs/"
/* 2026-01-01T00:00:00Z: inside every fixture's validity except the
 * expired and not-yet-valid leaves. */
#define NOW_MS	 1767225600000ULL
#define Y2019_MS 1546300800000ULL /* before the leaves' notBefore (2020) */
#define Y2126_MS 4922553600000ULL /* after every notAfter (2125-01-01) */

#define ECDSA_SHA1 0x0203
#define RSA_SHA1   0x0201

static uint8_t heap_mem[4 << 20];
static struct heap heap;
static struct loop loop;

/* File contents live here until the next setup(). */
static uint8_t file_mem[1 << 20];
static size_t file_used;

struct blob {
	const uint8_t *p;
	size_t n;
};

static void setup(void)
{
	heap_init(&heap, heap_mem, sizeof heap_mem);
	loop_init(&loop, &heap, NULL);
	file_used = 0;
}

/* The whole of tests/unit/tls_certs/name, or path when it starts with
 * '/'.  n == 0 (and a failed check unless quiet) when it cannot be read. */
static struct blob read_path(const char *path, int quiet)
{
	struct blob b = {file_mem + file_used, 0};
	FILE *f = fopen(path, "rb");
	size_t k;

	if (!f) {
		if (!quiet) {
			printf("#   cannot open %s (run from the repository root)\n", path);
			test_failed_checks++;
		}
		return b;
	}
	while ((k = fread(file_mem + file_used, 1, sizeof file_mem - file_used, f)) > 0) {
		file_used += k;
		b.n += k;
	}
	fclose(f);
	if (file_used == sizeof file_mem) {
		printf("#   %s does not fit the test's buffer\n", path);
		test_failed_checks++;
	}
	return b;
}

static struct blob fx(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, DIR "%s", name);
	return read_path(path, 0);
}

/* A copy of b with room for more, in file_mem. */
static uint8_t *scratch(size_t n)
{
	uint8_t *p = file_mem + file_used;
	ASSERT(n <= sizeof file_mem - file_used);
	file_used += n;
	return p;
}

/* ---- PEM to DER, for the chain tests ------------------------------------------ */

struct chain {
	const uint8_t *c[TLS_CRED_MAX_CERTS];
	size_t l[TLS_CRED_MAX_CERTS];
	size_t n;
	uint8_t der[16384];
	size_t used;
	bool over;
};

static void der_put(void *ctx, const void *src, size_t len)
{
	struct chain *ch = ctx;
	if (len > sizeof ch->der - ch->used) {
		ch->over = true;
		return;
	}
	memcpy(ch->der + ch->used, src, len);
	ch->used += len;
}

static void der_drop(void *ctx, const void *src, size_t len)
{
}

/* Every CERTIFICATE block of the fixture file name, in order. */
static void chain_of(struct chain *ch, const char *name)
{
	struct blob b = fx(name);
	br_pem_decoder_context pc;
	size_t start = 0;
	bool in = false;

	ch->n = ch->used = 0;
	ch->over = false;
	br_pem_decoder_init(&pc);
	while (b.n > 0) {
		size_t k = br_pem_decoder_push(&pc, b.p, b.n);
		b.p += k;
		b.n -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0;
			start = ch->used;
			br_pem_decoder_setdest(&pc, in ? der_put : der_drop, ch);
			break;
		case BR_PEM_END_OBJ:
			if (in && ch->n < TLS_CRED_MAX_CERTS) {
				ch->c[ch->n] = ch->der + start;
				ch->l[ch->n] = ch->used - start;
				ch->n++;
			}
			in = false;
			break;
		case BR_PEM_ERROR:
			CHECK(!"PEM error in a fixture");
			return;
		}
	}
	CHECK(!ch->over);
	CHECK(ch->n > 0);
}

/* ---- helpers over the API ------------------------------------------------------- */

static int try_load(const char *chain, const char *key, struct tls_cred **out)
{
	struct blob c = fx(chain), k = fx(key);
	*out = NULL;
	return tls_cred_load(&loop, &heap, c.p, c.n, k.p, k.n, out);
}

/* A credential that must load (NULL, with a failed check, if not). */
static struct tls_cred *cred(const char *chain, const char *key)
{
	struct tls_cred *cr;
	int rc = try_load(chain, key, &cr);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		printf("#   %s + %s: %s", chain, key, fake_console());
	CHECK(rc != 0 || cr != NULL);
	return rc == 0 ? cr : NULL;
}

static int refused(const char *chain, const char *key)
{
	struct tls_cred *cr;
	return try_load(chain, key, &cr);
}

static struct tls_trust *trust(const char *name)
{
	struct blob b = fx(name);
	struct tls_trust *t = NULL;
	unsigned skipped = 99;
	int rc = tls_trust_load(&loop, &heap, b.p, b.n, &t, &skipped);
	CHECK_EQ(rc, 0);
	CHECK_EQ(skipped, 0);
	return rc == 0 ? t : NULL;
}

/* chain_verify over the certificates of file name. */
static int verify_at(const struct tls_trust *t, const char *file, const char *name, uint64_t ms,
		     struct tls_pubkey *pk)
{
	static struct chain ch;
	struct tls_pubkey dummy;
	const char *why = NULL;
	int rc;

	chain_of(&ch, file);
	rc = tls_chain_verify(t, ch.c, ch.l, ch.n, name, ms, pk ? pk : &dummy, &why);
	if (rc != 0 && why == NULL) {
		printf("#   %s (%s): alert %d without a reason\n", file, name ? name : "-", rc);
		test_failed_checks++;
	}
	return rc;
}

static int verify(const struct tls_trust *t, const char *file, const char *name)
{
	return verify_at(t, file, name, NOW_MS, NULL);
}

static bool pub_eq(const struct tls_pubkey *a, const struct tls_pubkey *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == TLS_KEY_EC)
		return a->curve == b->curve && a->q_len == b->q_len &&
		       memcmp(a->q, b->q, a->q_len) == 0;
	return a->n_len == b->n_len && a->e_len == b->e_len && memcmp(a->n, b->n, a->n_len) == 0 &&
	       memcmp(a->e, b->e, a->e_len) == 0;
}

/* The end entity's key of a chain file, as chain_verify decodes it. */
static void key_of(const char *file, struct tls_pubkey *pk)
{
	memset(pk, 0, sizeof *pk);
	CHECK_EQ(verify_at(NULL, file, NULL, NOW_MS, pk), 0);
}

static const char msg[] = "the quick brown fox signs the transcript";

/* ---- tls_cred_load: the key formats ------------------------------------------------- */

TEST(load_sec1_with_ec_parameters)
{
	setup();
	struct tls_cred *cr = cred("p256-chain.pem", "p256.key");
	struct blob der = fx("p256.der");
	if (!cr)
		return;
	CHECK_EQ(cr->key_type, TLS_KEY_EC);
	CHECK_EQ(cr->ec.curve, BR_EC_secp256r1);
	CHECK_EQ(cr->pub.type, TLS_KEY_EC);
	CHECK_EQ(cr->pub.curve, BR_EC_secp256r1);
	CHECK_EQ(cr->pub.q_len, 65);
	CHECK_EQ(cr->nchain, 2);
	CHECK_EQ(cr->chain[0].data_len, der.n);
	CHECK(cr->chain[0].data_len == der.n && memcmp(cr->chain[0].data, der.p, der.n) == 0);
}

TEST(load_pkcs8_ec_p384)
{
	setup();
	struct tls_cred *cr = cred("p384-chain.pem", "p384.key");
	if (!cr)
		return;
	CHECK_EQ(cr->key_type, TLS_KEY_EC);
	CHECK_EQ(cr->pub.curve, BR_EC_secp384r1);
	CHECK_EQ(cr->pub.q_len, 97);
	CHECK_EQ(cr->nchain, 2);
}

TEST(load_rsa_traditional)
{
	setup();
	struct tls_cred *cr = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!cr)
		return;
	CHECK_EQ(cr->key_type, TLS_KEY_RSA);
	CHECK_EQ(cr->rsa.n_bitlen, 2048);
	CHECK_EQ(cr->pub.type, TLS_KEY_RSA);
	CHECK_EQ(cr->pub.n_len, 256);
	CHECK_EQ(cr->nchain, 2);
}

TEST(load_pkcs8_rsa4096)
{
	setup();
	struct tls_cred *cr = cred("rsa4096.pem", "rsa4096.key");
	if (!cr)
		return;
	CHECK_EQ(cr->key_type, TLS_KEY_RSA);
	CHECK_EQ(cr->rsa.n_bitlen, 4096);
	CHECK_EQ(cr->pub.n_len, 512);
	CHECK_EQ(cr->nchain, 1);
}

TEST(load_der_cert_and_der_key)
{
	setup();
	struct tls_cred *cr = cred("p256.der", "p256.key.der");
	struct blob der = fx("p256.der");
	if (!cr)
		return;
	CHECK_EQ(cr->key_type, TLS_KEY_EC);
	CHECK_EQ(cr->nchain, 1);
	CHECK(cr->chain[0].data_len == der.n && memcmp(cr->chain[0].data, der.p, der.n) == 0);
}

TEST(load_single_pem_cert)
{
	setup();
	struct tls_cred *cr = cred("p256.pem", "p256.key");
	if (!cr)
		return;
	CHECK_EQ(cr->nchain, 1);
}

/* The chain is kept: it does not point into the caller's buffer. */
TEST(load_copies_the_chain)
{
	setup();
	struct blob c = fx("p256-chain.pem"), k = fx("p256.key");
	uint8_t *cc = scratch(c.n), *kc = scratch(k.n);
	struct tls_cred *cr = NULL;
	struct chain ch;

	memcpy(cc, c.p, c.n);
	memcpy(kc, k.p, k.n);
	CHECK_EQ(tls_cred_load(&loop, &heap, cc, c.n, kc, k.n, &cr), 0);
	memset(cc, 0, c.n);
	memset(kc, 0, k.n);
	if (!cr)
		return;
	chain_of(&ch, "p256-chain.pem");
	CHECK_EQ(cr->nchain, 2);
	for (size_t i = 0; i < cr->nchain && i < ch.n; i++)
		CHECK(cr->chain[i].data_len == ch.l[i] &&
		      memcmp(cr->chain[i].data, ch.c[i], ch.l[i]) == 0);
}

/* Files with CR LF line ends (Windows tools, some CAs' downloads) load
 * as the LF ones do. */
static struct blob crlf(struct blob b)
{
	uint8_t *o = scratch(2 * b.n);
	size_t n = 0;
	for (size_t i = 0; i < b.n; i++) {
		if (b.p[i] == '\n')
			o[n++] = '\r';
		o[n++] = b.p[i];
	}
	return (struct blob){o, n};
}

TEST(load_crlf_pem)
{
	setup();
	struct blob c = crlf(fx("p256-chain.pem")), k = crlf(fx("p256.key"));
	struct tls_cred *cr = NULL;
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, c.n, k.p, k.n, &cr), 0);
	if (cr)
		CHECK_EQ(cr->nchain, 2);
	struct tls_trust *t = NULL;
	CHECK_EQ(tls_trust_load(&loop, &heap, c.p, c.n, &t, NULL), 0);
}

/* The end entity's validity, as `openssl x509 -noout -dates` prints it
 * for the fixture: 2020-01-01 to 2125-01-01 (a GeneralizedTime). */
TEST(cred_validity)
{
	setup();
	struct tls_cred *cr = cred("p256.pem", "p256.key");
	uint64_t nb = 0, na = 0;
	if (!cr)
		return;
	CHECK_EQ(tls_cred_validity(cr, &nb, &na), ATL_OK);
	CHECK_EQ(nb, 1577836800u);
	CHECK_EQ(na, 4891363200u);
}

/* ---- tls_cred_load: refusals ------------------------------------------------------------ */

TEST(refuse_unsupported_keys)
{
	setup();
	CHECK_EQ(refused("rsa1024.pem", "rsa1024.key"), ATL_EINVAL);
	CHECK_EQ(refused("p521.pem", "p521.key"), ATL_EINVAL);
	CHECK_EQ(refused("p256-chain.pem", "p256-enc.key"), ATL_EINVAL);
}

TEST(refuse_key_not_matching_cert)
{
	setup();
	CHECK_EQ(refused("p256-chain.pem", "p256-other.key"), ATL_EINVAL); /* same curve */
	CHECK_EQ(refused("p256-chain.pem", "cn-only.key"), ATL_EINVAL);
	CHECK_EQ(refused("p256-chain.pem", "p384.key"), ATL_EINVAL);	/* other curve */
	CHECK_EQ(refused("p256-chain.pem", "rsa2048.key"), ATL_EINVAL); /* other type */
	CHECK_EQ(refused("rsa2048-chain.pem", "p256.key"), ATL_EINVAL);
	CHECK_EQ(refused("rsa2048-chain.pem", "rsa4096.key"), ATL_EINVAL); /* other modulus */
}

TEST(refuse_malformed)
{
	setup();
	static const char junk[] = "this is neither PEM nor DER\n";
	static const char no_end[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	struct blob c = fx("p256-chain.pem"), k = fx("p256.key"), d = fx("p256.der");
	struct tls_cred *cr;

	CHECK_EQ(tls_cred_load(&loop, &heap, junk, sizeof junk - 1, k.p, k.n, &cr), ATL_EINVAL);
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, 0, k.p, k.n, &cr), ATL_EINVAL);
	CHECK_EQ(tls_cred_load(&loop, &heap, no_end, sizeof no_end - 1, k.p, k.n, &cr), ATL_EINVAL);
	/* the key's PEM given as the chain: no CERTIFICATE in it */
	CHECK_EQ(tls_cred_load(&loop, &heap, k.p, k.n, k.p, k.n, &cr), ATL_EINVAL);
	/* a DER certificate cut short */
	CHECK_EQ(tls_cred_load(&loop, &heap, d.p, d.n - 20, k.p, k.n, &cr), ATL_EINVAL);
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, c.n, junk, sizeof junk - 1, &cr), ATL_EINVAL);
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, c.n, k.p, 0, &cr), ATL_EINVAL);
	/* the key cut in its base64 (the EC PRIVATE KEY block never ends) */
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, c.n, k.p, k.n - 40, &cr), ATL_EINVAL);
	/* the certificate given as the key */
	CHECK_EQ(tls_cred_load(&loop, &heap, c.p, c.n, c.p, c.n, &cr), ATL_EINVAL);
}

TEST(load_short_heap_fails_cleanly)
{
	static uint8_t tiny[64];
	struct heap th;
	struct tls_cred *cr = NULL;
	setup();
	struct blob c = fx("rsa4096.pem"), k = fx("rsa4096.key");
	heap_init(&th, tiny, sizeof tiny);
	CHECK(tls_cred_load(&loop, &th, c.p, c.n, k.p, k.n, &cr) != 0);
}

/* ---- tls_cred_matches (RFC 6125 6.4) --------------------------------------------------- */

TEST(matches_exact_case_and_trailing_dot)
{
	setup();
	struct tls_cred *cr = cred("p256-chain.pem", "p256.key");
	if (!cr)
		return;
	CHECK(tls_cred_matches(cr, "a.test"));
	CHECK(tls_cred_matches(cr, "A.TEST"));
	CHECK(tls_cred_matches(cr, "a.Test"));
	CHECK(tls_cred_matches(cr, "a.test."));
	CHECK(!tls_cred_matches(cr, "b.test"));
	CHECK(!tls_cred_matches(cr, "aa.test"));
	CHECK(!tls_cred_matches(cr, "a.test.x"));
	CHECK(!tls_cred_matches(cr, "x.a.test"));
	CHECK(!tls_cred_matches(cr, "test"));
	CHECK(!tls_cred_matches(cr, ""));
}

TEST(matches_wildcard_one_label)
{
	setup();
	struct tls_cred *cr = cred("p256-chain.pem", "p256.key");
	if (!cr)
		return;
	CHECK(tls_cred_matches(cr, "x.w.test"));
	CHECK(tls_cred_matches(cr, "Xy-Z.W.TEST"));
	CHECK(tls_cred_matches(cr, "x.w.test."));
	CHECK(!tls_cred_matches(cr, "y.x.w.test")); /* not two labels */
	CHECK(!tls_cred_matches(cr, "w.test"));	    /* not the bare parent */
	CHECK(!tls_cred_matches(cr, ".w.test"));    /* not an empty label */
	CHECK(!tls_cred_matches(cr, "x.ww.test"));
}

/* "*.test" leaves a single label: too broad to honour.  A wildcard that
 * is only part of a label ("f*") is not one either. */
TEST(matches_refuses_bad_wildcards)
{
	setup();
	struct tls_cred *cr = cred("p384-chain.pem", "p384.key");
	if (!cr)
		return;
	CHECK(tls_cred_matches(cr, "p384.test"));
	CHECK(tls_cred_matches(cr, "upper.P384.test"));
	CHECK(!tls_cred_matches(cr, "x.test"));
	CHECK(!tls_cred_matches(cr, "a.test"));
	CHECK(!tls_cred_matches(cr, "foo.p384.test"));
	CHECK(!tls_cred_matches(cr, "f.p384.test"));
}

TEST(matches_cn_only_without_san)
{
	setup();
	struct tls_cred *cr = cred("cn-only-chain.pem", "cn-only.key");
	struct tls_cred *san = cred("p256-chain.pem", "p256.key");
	if (!cr || !san)
		return;
	CHECK(tls_cred_matches(cr, "cn.test"));
	CHECK(tls_cred_matches(cr, "CN.Test."));
	CHECK(!tls_cred_matches(cr, "x.cn.test"));
	CHECK(!tls_cred_matches(cr, "other.test"));
	/* with a SAN the CN is not looked at */
	CHECK(!tls_cred_matches(san, "cn-ignored.test"));
}

/* ---- tls_cred_schemes ---------------------------------------------------------------------- */

static bool has(const uint16_t *s, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == v)
			return true;
	return false;
}

TEST(schemes_tls13)
{
	uint16_t s[8];
	setup();
	struct tls_cred *p256 = cred("p256-chain.pem", "p256.key");
	struct tls_cred *p384 = cred("p384-chain.pem", "p384.key");
	struct tls_cred *rsa = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!p256 || !p384 || !rsa)
		return;
	CHECK_EQ(tls_cred_schemes(p256, TLS_V13, s, 8), 1);
	CHECK_EQ(s[0], TLS_SIG_ECDSA_P256_SHA256);
	CHECK_EQ(tls_cred_schemes(p384, TLS_V13, s, 8), 1);
	CHECK_EQ(s[0], TLS_SIG_ECDSA_P384_SHA384);
	CHECK_EQ(tls_cred_schemes(rsa, TLS_V13, s, 8), 0);
}

TEST(schemes_tls12)
{
	uint16_t s[8];
	size_t n;
	setup();
	struct tls_cred *p256 = cred("p256-chain.pem", "p256.key");
	struct tls_cred *p384 = cred("p384-chain.pem", "p384.key");
	struct tls_cred *rsa = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!p256 || !p384 || !rsa)
		return;

	n = tls_cred_schemes(p256, TLS_V12, s, 8);
	CHECK(n >= 2);
	CHECK_EQ(s[0], TLS_SIG_ECDSA_P256_SHA256);
	CHECK(has(s, n, TLS_SIG_ECDSA_P384_SHA384));
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(s[i] & 0xff, 0x03); /* ECDSA only */

	n = tls_cred_schemes(p384, TLS_V12, s, 8);
	CHECK(n >= 2);
	CHECK_EQ(s[0], TLS_SIG_ECDSA_P384_SHA384);
	CHECK(has(s, n, TLS_SIG_ECDSA_P256_SHA256));
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(s[i] & 0xff, 0x03);

	CHECK_EQ(tls_cred_schemes(rsa, TLS_V12, s, 8), 3);
	CHECK_EQ(s[0], TLS_SIG_RSA_PKCS1_SHA256);
	CHECK_EQ(s[1], TLS_SIG_RSA_PKCS1_SHA384);
	CHECK_EQ(s[2], TLS_SIG_RSA_PKCS1_SHA512);
}

TEST(schemes_respect_cap)
{
	uint16_t s[4] = {0xeeee, 0xeeee, 0xeeee, 0xeeee};
	setup();
	struct tls_cred *rsa = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!rsa)
		return;
	CHECK(tls_cred_schemes(rsa, TLS_V12, s, 1) <= 1);
	CHECK_EQ(s[0], TLS_SIG_RSA_PKCS1_SHA256);
	CHECK_EQ(s[1], 0xeeee);
}

/* ---- tls_cred_sign / tls_pubkey_verify -------------------------------------------------- */

/* Sign with every scheme the credential offers for 1.2 (which includes
 * the 1.3 one) and check each against the cred's key and the key
 * chain_verify decodes from its certificate; then break each. */
static void round_trips(const char *chain, const char *key, size_t max_sig)
{
	uint16_t s[8];
	uint8_t sig[TLS_MAX_SIG];
	uint8_t bad[sizeof msg];
	struct tls_pubkey pk;
	size_t n;

	setup();
	struct tls_cred *cr = cred(chain, key);
	if (!cr)
		return;
	key_of(chain, &pk);
	CHECK(pub_eq(&pk, &cr->pub));
	n = tls_cred_schemes(cr, TLS_V12, s, 8);
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = sizeof sig;
		int rc = tls_cred_sign(cr, s[i], msg, sizeof msg, sig, &len);
		CHECK_EQ(rc, 0);
		if (rc != 0) {
			printf("#   %s: scheme %04x\n", chain, s[i]);
			continue;
		}
		CHECK(len > 0 && len <= max_sig);
		if (cr->key_type == TLS_KEY_RSA)
			CHECK_EQ(len, max_sig);
		else
			CHECK_EQ(sig[0], 0x30); /* ASN.1 SEQUENCE (r, s) */
		CHECK_EQ(tls_pubkey_verify(&cr->pub, s[i], msg, sizeof msg, sig, len), 0);
		CHECK_EQ(tls_pubkey_verify(&pk, s[i], msg, sizeof msg, sig, len), 0);

		memcpy(bad, msg, sizeof msg);
		bad[3] ^= 1;
		CHECK_EQ(tls_pubkey_verify(&pk, s[i], bad, sizeof bad, sig, len),
			 TLS_ALERT_DECRYPT_ERROR);
		CHECK_EQ(tls_pubkey_verify(&pk, s[i], msg, sizeof msg - 1, sig, len),
			 TLS_ALERT_DECRYPT_ERROR);
		sig[len / 2] ^= 0x40;
		CHECK_EQ(tls_pubkey_verify(&pk, s[i], msg, sizeof msg, sig, len),
			 TLS_ALERT_DECRYPT_ERROR);
		sig[len / 2] ^= 0x40;
		CHECK(tls_pubkey_verify(&pk, s[i], msg, sizeof msg, sig, len - 1) != 0);
		/* the signature checked under another hash */
		for (size_t j = 0; j < n; j++)
			if (j != i)
				CHECK_EQ(tls_pubkey_verify(&pk, s[j], msg, sizeof msg, sig, len),
					 TLS_ALERT_DECRYPT_ERROR);
	}
}

TEST(sign_verify_p256)
{
	round_trips("p256-chain.pem", "p256.key", 72);
}
TEST(sign_verify_p384)
{
	round_trips("p384-chain.pem", "p384.key", 104);
}
TEST(sign_verify_rsa2048)
{
	round_trips("rsa2048-chain.pem", "rsa2048.key", 256);
}
TEST(sign_verify_rsa4096)
{
	round_trips("rsa4096.pem", "rsa4096.key", 512);
}

/* The signer and the verifier could agree on a wrong format; openssl's
 * signatures of msg.txt keep them honest. */
TEST(verify_openssl_signatures)
{
	struct tls_pubkey p256, p384, rsa;
	setup();
	struct blob m = fx("msg.txt");
	struct blob s256 = fx("sig-p256.bin"), s384 = fx("sig-p384.bin");
	struct blob srsa = fx("sig-rsa2048.bin");

	key_of("p256-chain.pem", &p256);
	key_of("p384-chain.pem", &p384);
	key_of("rsa2048-chain.pem", &rsa);
	CHECK_EQ(tls_pubkey_verify(&p256, TLS_SIG_ECDSA_P256_SHA256, m.p, m.n, s256.p, s256.n), 0);
	CHECK_EQ(tls_pubkey_verify(&p384, TLS_SIG_ECDSA_P384_SHA384, m.p, m.n, s384.p, s384.n), 0);
	CHECK_EQ(tls_pubkey_verify(&rsa, TLS_SIG_RSA_PKCS1_SHA256, m.p, m.n, srsa.p, srsa.n), 0);
	/* the right key, the wrong hash */
	CHECK_EQ(tls_pubkey_verify(&p256, TLS_SIG_ECDSA_P384_SHA384, m.p, m.n, s256.p, s256.n),
		 TLS_ALERT_DECRYPT_ERROR);
	CHECK_EQ(tls_pubkey_verify(&rsa, TLS_SIG_RSA_PKCS1_SHA384, m.p, m.n, srsa.p, srsa.n),
		 TLS_ALERT_DECRYPT_ERROR);
	/* another key of the same kind */
	CHECK_EQ(tls_pubkey_verify(&p384, TLS_SIG_ECDSA_P256_SHA256, m.p, m.n, s256.p, s256.n),
		 TLS_ALERT_DECRYPT_ERROR);
}

/* PKCS#1 v1.5 is deterministic: our signature is openssl's, byte for byte. */
TEST(rsa_signature_equals_openssl)
{
	uint8_t sig[TLS_MAX_SIG];
	size_t len = sizeof sig;
	setup();
	struct blob m = fx("msg.txt"), want = fx("sig-rsa2048.bin");
	struct tls_cred *cr = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!cr)
		return;
	CHECK_EQ(tls_cred_sign(cr, TLS_SIG_RSA_PKCS1_SHA256, m.p, m.n, sig, &len), 0);
	CHECK_EQ(len, want.n);
	CHECK(len == want.n && memcmp(sig, want.p, len) == 0);
}

TEST(sign_refuses_wrong_scheme_or_short_buffer)
{
	uint8_t sig[TLS_MAX_SIG];
	size_t len;
	setup();
	struct tls_cred *ec = cred("p256-chain.pem", "p256.key");
	struct tls_cred *rsa = cred("rsa2048-chain.pem", "rsa2048.key");
	if (!ec || !rsa)
		return;
	len = sizeof sig;
	CHECK_EQ(tls_cred_sign(ec, TLS_SIG_RSA_PKCS1_SHA256, msg, sizeof msg, sig, &len),
		 ATL_EINVAL);
	len = sizeof sig;
	CHECK_EQ(tls_cred_sign(rsa, TLS_SIG_ECDSA_P256_SHA256, msg, sizeof msg, sig, &len),
		 ATL_EINVAL);
	len = sizeof sig;
	CHECK_EQ(tls_cred_sign(rsa, TLS_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof msg, sig, &len),
		 ATL_EINVAL);
	len = sizeof sig;
	CHECK_EQ(tls_cred_sign(ec, ECDSA_SHA1, msg, sizeof msg, sig, &len), ATL_EINVAL);
	len = 255;
	CHECK_EQ(tls_cred_sign(rsa, TLS_SIG_RSA_PKCS1_SHA256, msg, sizeof msg, sig, &len),
		 ATL_EINVAL);
	len = 8;
	CHECK_EQ(tls_cred_sign(ec, TLS_SIG_ECDSA_P256_SHA256, msg, sizeof msg, sig, &len),
		 ATL_EINVAL);
}

TEST(verify_refuses_schemes_that_do_not_fit)
{
	struct tls_pubkey ec, rsa;
	setup();
	struct blob m = fx("msg.txt");
	struct blob s256 = fx("sig-p256.bin"), srsa = fx("sig-rsa2048.bin");

	key_of("p256-chain.pem", &ec);
	key_of("rsa2048-chain.pem", &rsa);
	CHECK_EQ(tls_pubkey_verify(&ec, TLS_SIG_RSA_PKCS1_SHA256, m.p, m.n, s256.p, s256.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(tls_pubkey_verify(&rsa, TLS_SIG_ECDSA_P256_SHA256, m.p, m.n, srsa.p, srsa.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(tls_pubkey_verify(&rsa, TLS_SIG_RSA_PSS_RSAE_SHA256, m.p, m.n, srsa.p, srsa.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(tls_pubkey_verify(&rsa, RSA_SHA1, m.p, m.n, srsa.p, srsa.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(tls_pubkey_verify(&ec, ECDSA_SHA1, m.p, m.n, s256.p, s256.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(tls_pubkey_verify(&ec, 0x0807 /* ed25519 */, m.p, m.n, s256.p, s256.n),
		 TLS_ALERT_ILLEGAL_PARAMETER);
}

/* ---- tls_chain_verify ------------------------------------------------------------------------ */

TEST(chain_good_names)
{
	struct tls_pubkey pk, raw;
	setup();
	struct tls_trust *t = trust("root-ec.pem");
	if (!t)
		return;
	memset(&pk, 0, sizeof pk);
	CHECK_EQ(verify_at(t, "p256-chain.pem", "a.test", NOW_MS, &pk), 0);
	key_of("p256-chain.pem", &raw);
	CHECK_EQ(pk.type, TLS_KEY_EC);
	CHECK_EQ(pk.curve, BR_EC_secp256r1);
	CHECK(pub_eq(&pk, &raw));
	CHECK_EQ(verify(t, "p256-chain.pem", "x.w.test"), 0);
	CHECK_EQ(verify(t, "p256-chain.pem", "192.0.2.7"), 0);
	CHECK_EQ(verify(t, "p256-chain.pem", "A.Test"), 0);
	CHECK_EQ(verify(t, "p256-chain.pem", "a.test."), 0);
	CHECK_EQ(verify(t, "p256-chain.pem", NULL), 0);
	CHECK_EQ(verify(t, "p384-chain.pem", "p384.test"), 0);
	CHECK_EQ(verify(t, "cn-only-chain.pem", "cn.test"), 0);
	memset(&pk, 0, sizeof pk);
	CHECK_EQ(verify_at(t, "rsa2048-chain.pem", "rsa.test", NOW_MS, &pk), 0);
	CHECK_EQ(pk.type, TLS_KEY_RSA);
	CHECK_EQ(pk.n_len, 256);
}

TEST(chain_rsa_root)
{
	struct tls_pubkey pk;
	setup();
	struct tls_trust *t = trust("root-rsa.pem");
	if (!t)
		return;
	memset(&pk, 0, sizeof pk);
	CHECK_EQ(verify_at(t, "rsa4096.pem", "rsa4096.test", NOW_MS, &pk), 0);
	CHECK_EQ(pk.type, TLS_KEY_RSA);
	CHECK_EQ(pk.n_len, 512);
}

TEST(chain_wrong_names)
{
	setup();
	struct tls_trust *t = trust("root-ec.pem");
	if (!t)
		return;
	CHECK_EQ(verify(t, "p256-chain.pem", "b.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "p256-chain.pem", "y.x.w.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "p256-chain.pem", "w.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "p256-chain.pem", "192.0.2.9"), TLS_ALERT_BAD_CERTIFICATE);
	/* an IP literal matches an iPAddress entry, never a dNSName */
	CHECK_EQ(verify(t, "p256-chain.pem", "192.0.2.8"), TLS_ALERT_BAD_CERTIFICATE);
	/* the CN does not count next to a SAN */
	CHECK_EQ(verify(t, "p256-chain.pem", "cn-ignored.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "p384-chain.pem", "x.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "p384-chain.pem", "foo.p384.test"), TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(verify(t, "cn-only-chain.pem", "other.test"), TLS_ALERT_BAD_CERTIFICATE);
}

TEST(chain_dates)
{
	setup();
	struct tls_trust *t = trust("root-ec.pem");
	if (!t)
		return;
	CHECK_EQ(verify(t, "expired-chain.pem", "expired.test"), TLS_ALERT_CERTIFICATE_EXPIRED);
	CHECK_EQ(verify(t, "future-chain.pem", "future.test"), TLS_ALERT_CERTIFICATE_EXPIRED);
	CHECK_EQ(verify_at(t, "p256-chain.pem", "a.test", Y2019_MS, NULL),
		 TLS_ALERT_CERTIFICATE_EXPIRED);
	CHECK_EQ(verify_at(t, "p256-chain.pem", "a.test", Y2126_MS, NULL),
		 TLS_ALERT_CERTIFICATE_EXPIRED);
	/* the expired one was good in 2000 */
	CHECK_EQ(verify_at(t, "expired-chain.pem", "expired.test", 946771200000ULL, NULL), 0);
}

TEST(chain_unknown_ca)
{
	setup();
	struct tls_trust *ec = trust("root-ec.pem"), *rsa = trust("root-rsa.pem");
	if (!ec || !rsa)
		return;
	CHECK_EQ(verify(rsa, "p256-chain.pem", "a.test"), TLS_ALERT_UNKNOWN_CA);
	CHECK_EQ(verify(ec, "rsa4096.pem", "rsa4096.test"), TLS_ALERT_UNKNOWN_CA);
	/* the intermediate left out */
	CHECK_EQ(verify(ec, "p256.pem", "a.test"), TLS_ALERT_UNKNOWN_CA);
	CHECK_EQ(verify(ec, "self.pem", "self.test"), TLS_ALERT_UNKNOWN_CA);
}

/* A self-signed end-entity certificate (CA:FALSE) as its own anchor. */
TEST(chain_self_signed_trusted_directly)
{
	setup();
	struct tls_trust *t = trust("self.pem");
	if (!t)
		return;
	CHECK_EQ(verify(t, "self.pem", "self.test"), 0);
	CHECK_EQ(verify(t, "self.pem", "other.test"), TLS_ALERT_BAD_CERTIFICATE);
}

TEST(chain_garbage_and_empty)
{
	static const uint8_t junk[64] = {0x30, 0x82, 0x01, 0x00, 0x30, 0x05};
	const uint8_t *c[1] = {junk};
	size_t l[1] = {sizeof junk};
	struct tls_pubkey pk;
	struct chain ch;
	const char *why;
	setup();
	struct tls_trust *t = trust("root-ec.pem");
	if (!t)
		return;
	why = NULL;
	CHECK_EQ(tls_chain_verify(t, c, l, 1, "a.test", NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
	CHECK(why != NULL);
	CHECK_EQ(tls_chain_verify(NULL, c, l, 1, NULL, NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(tls_chain_verify(t, c, l, 0, "a.test", NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(tls_chain_verify(NULL, c, l, 0, NULL, NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
	/* a real leaf cut short, then with its intermediate */
	chain_of(&ch, "p256-chain.pem");
	if (ch.n != 2)
		return;
	ch.l[0] -= 10;
	CHECK_EQ(tls_chain_verify(t, ch.c, ch.l, 2, "a.test", NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
	CHECK_EQ(tls_chain_verify(NULL, ch.c, ch.l, 1, NULL, NOW_MS, &pk, &why),
		 TLS_ALERT_BAD_CERTIFICATE);
}

/* trust NULL: no validation (an expired leaf, a wrong name pass), only
 * the key, and it is the one tls_cred_load found. */
TEST(chain_no_trust_decodes_key)
{
	static const char *const pairs[][2] = {
	    {"p256-chain.pem", "p256.key"},
	    {"p384-chain.pem", "p384.key"},
	    {"rsa2048-chain.pem", "rsa2048.key"},
	    {"rsa4096.pem", "rsa4096.key"},
	};
	struct tls_pubkey pk;
	setup();
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct tls_cred *cr = cred(pairs[i][0], pairs[i][1]);
		if (!cr)
			continue;
		key_of(pairs[i][0], &pk);
		CHECK(pub_eq(&pk, &cr->pub));
	}
	CHECK_EQ(verify_at(NULL, "expired-chain.pem", "nothing.test", NOW_MS, &pk), 0);
	CHECK_EQ(pk.type, TLS_KEY_EC);
	CHECK_EQ(verify_at(NULL, "self.pem", NULL, NOW_MS, &pk), 0);
}

/* ---- tls_trust_load --------------------------------------------------------------------------- */

TEST(trust_pem_and_der)
{
	struct tls_trust *t = NULL;
	unsigned skipped = 99;
	setup();
	struct blob pem = fx("root-ec.pem"), der = fx("root-ec.der");
	CHECK_EQ(tls_trust_load(&loop, &heap, pem.p, pem.n, &t, &skipped), 0);
	CHECK_EQ(skipped, 0);
	CHECK(t && t->n == 1);
	t = NULL;
	CHECK_EQ(tls_trust_load(&loop, &heap, der.p, der.n, &t, NULL), 0);
	CHECK(t && t->n == 1);
	if (t)
		CHECK_EQ(verify(t, "p256-chain.pem", "a.test"), 0);
}

/* A bundle with a key and a broken certificate among the anchors: both
 * are skipped and counted, both roots are taken. */
TEST(trust_bundle_skips_what_is_not_a_cert)
{
	static const char bad[] =
	    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
	struct tls_trust *t = NULL;
	unsigned skipped = 99;
	setup();
	struct blob a = fx("root-ec.pem"), k = fx("p384.key"), b = fx("root-rsa.pem");
	size_t n = a.n + k.n + (sizeof bad - 1) + b.n;
	uint8_t *all = scratch(n), *p = all;

	memcpy(p, a.p, a.n);
	p += a.n;
	memcpy(p, k.p, k.n);
	p += k.n;
	memcpy(p, bad, sizeof bad - 1);
	p += sizeof bad - 1;
	memcpy(p, b.p, b.n);
	CHECK_EQ(tls_trust_load(&loop, &heap, all, n, &t, &skipped), 0);
	CHECK_EQ(skipped, 2);
	CHECK(t && t->n == 2);
	if (!t)
		return;
	CHECK_EQ(verify(t, "p256-chain.pem", "a.test"), 0);
	CHECK_EQ(verify(t, "rsa4096.pem", "rsa4096.test"), 0);
}

TEST(trust_refuses_nothing_usable)
{
	static const char junk[] = "no certificates here\n";
	static const char bad[] =
	    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
	struct tls_trust *t;
	unsigned skipped;
	setup();
	struct blob k = fx("p384.key");
	CHECK_EQ(tls_trust_load(&loop, &heap, junk, sizeof junk - 1, &t, NULL), ATL_EINVAL);
	CHECK_EQ(tls_trust_load(&loop, &heap, junk, 0, &t, NULL), ATL_EINVAL);
	CHECK_EQ(tls_trust_load(&loop, &heap, k.p, k.n, &t, NULL), ATL_EINVAL);
	CHECK_EQ(tls_trust_load(&loop, &heap, bad, sizeof bad - 1, &t, &skipped), ATL_EINVAL);
}

TEST(trust_debian_bundle)
{
	static const char path[] = "/etc/ssl/certs/ca-certificates.crt";
	struct tls_trust *t = NULL;
	unsigned skipped = 9999;
	setup();
	struct blob b = read_path(path, 1);
	if (b.n == 0) {
		printf("# skip trust_debian_bundle: no %s\n", path);
		return;
	}
	CHECK_EQ(tls_trust_load(&loop, &heap, b.p, b.n, &t, &skipped), 0);
	if (!t)
		return;
	printf("# %s: %zu anchors, %u skipped\n", path, t->n, skipped);
	CHECK(t->n > 100);
	CHECK(skipped < 10);
}

/* ---- tls_cred_wipe ------------------------------------------------------------------------------ */

static void wipes(const char *chain, const char *key)
{
	setup();
	struct tls_cred *cr = cred(chain, key);
	if (!cr)
		return;
	uint8_t *p = cr->key_mem;
	size_t n = cr->key_mem_len, nz = 0;
	CHECK(p != NULL && n > 0);
	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		nz += p[i] != 0;
	CHECK(nz > n / 2);
	tls_cred_wipe(cr);
	nz = 0;
	for (size_t i = 0; i < n; i++)
		nz += p[i] != 0;
	CHECK_EQ(nz, 0);
	/* what is public stays */
	CHECK(cr->nchain > 0);
}

TEST(wipe_zeroes_ec_key)
{
	wipes("p256-chain.pem", "p256.key");
}
TEST(wipe_zeroes_rsa_key)
{
	wipes("rsa2048-chain.pem", "rsa2048.key");
}

TEST_MAIN(TEST_ENTRY(load_sec1_with_ec_parameters), TEST_ENTRY(load_pkcs8_ec_p384),
	  TEST_ENTRY(load_rsa_traditional), TEST_ENTRY(load_pkcs8_rsa4096),
	  TEST_ENTRY(load_der_cert_and_der_key), TEST_ENTRY(load_single_pem_cert),
	  TEST_ENTRY(load_copies_the_chain), TEST_ENTRY(load_crlf_pem), TEST_ENTRY(cred_validity),
	  TEST_ENTRY(refuse_unsupported_keys), TEST_ENTRY(refuse_key_not_matching_cert),
	  TEST_ENTRY(refuse_malformed), TEST_ENTRY(load_short_heap_fails_cleanly),
	  TEST_ENTRY(matches_exact_case_and_trailing_dot), TEST_ENTRY(matches_wildcard_one_label),
	  TEST_ENTRY(matches_refuses_bad_wildcards), TEST_ENTRY(matches_cn_only_without_san),
	  TEST_ENTRY(schemes_tls13), TEST_ENTRY(schemes_tls12), TEST_ENTRY(schemes_respect_cap),
	  TEST_ENTRY(sign_verify_p256), TEST_ENTRY(sign_verify_p384),
	  TEST_ENTRY(sign_verify_rsa2048), TEST_ENTRY(sign_verify_rsa4096),
	  TEST_ENTRY(verify_openssl_signatures), TEST_ENTRY(rsa_signature_equals_openssl),
	  TEST_ENTRY(sign_refuses_wrong_scheme_or_short_buffer),
	  TEST_ENTRY(verify_refuses_schemes_that_do_not_fit), TEST_ENTRY(chain_good_names),
	  TEST_ENTRY(chain_rsa_root), TEST_ENTRY(chain_wrong_names), TEST_ENTRY(chain_dates),
	  TEST_ENTRY(chain_unknown_ca), TEST_ENTRY(chain_self_signed_trusted_directly),
	  TEST_ENTRY(chain_garbage_and_empty), TEST_ENTRY(chain_no_trust_decodes_key),
	  TEST_ENTRY(trust_pem_and_der), TEST_ENTRY(trust_bundle_skips_what_is_not_a_cert),
	  TEST_ENTRY(trust_refuses_nothing_usable), TEST_ENTRY(trust_debian_bundle),
	  TEST_ENTRY(wipe_zeroes_ec_key), TEST_ENTRY(wipe_zeroes_rsa_key))
