/*
 * test_acme.c - unit tests of lib/acme, written from acme.h's contract
 * and the RFCs: base64url (RFC 4648 5, 10), the JSON reader (RFC 8259),
 * keys, the JWK and its thumbprint (RFC 7517, RFC 7638), ES256 JWS
 * (RFC 7515, RFC 7518 3.4, RFC 8555 6.2, 6.3), the key authorization and
 * the dns-01 TXT value (RFC 8555 8.1, 8.4), the CSR (RFC 2986), HTTP
 * response heads, the server's objects (RFC 8555 7.1), URL splitting and
 * the issued certificate's validity; and the dynamic update the dns-01
 * client sends (lib/dns, RFC 2136), applied to a zone.
 *
 * Everything a signature or hash is checked against is computed here
 * again with BearSSL directly, not with the code under test.  The CSR is
 * also shown to `openssl req -verify` when openssl is installed.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* popen, mkstemp */
#endif
#include <stdlib.h>
#include <unistd.h>

#include "bearssl/bearssl.h"

#include "acme/acme.h"
#include "core/err.h"
#include "core/mem.h"
#include "dns/dns.h"
#include "dns/xfr.h"
#include "test.h"

/* ---- helpers ---- */

/* An encoder of our own, so results are not checked against themselves. */
static void b64url(const uint8_t *s, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

static void sha256(const void *p, size_t n, uint8_t d[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, d);
}

static bool span_is(struct acme_span v, const char *s)
{
	return v.n == strlen(s) && !memcmp(v.p, s, v.n);
}

static int parse(const char *s, struct acme_span *v)
{
	return acme_json_parse(s, strlen(s), v);
}

/* A key from a fixed seed: the same key on every run. */
static void test_key(struct acme_key *k, uint8_t tag)
{
	uint8_t seed[32];
	for (unsigned i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(tag + i);
	CHECK_EQ(acme_key_gen(k, seed, sizeof seed), ATL_OK);
}

/* ---- base64url ---- */

TEST(b64url_rfc4648_vectors)
{
	/* RFC 4648 10, in the URL alphabet without padding (5, RFC 7515 2) */
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"", ""},		{"f", "Zg"},	      {"fo", "Zm8"},	      {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = strlen(v[i].in), len = 99;
		char out[16];
		uint8_t back[16];
		CHECK_EQ(acme_b64url_len(n), strlen(v[i].out));
		CHECK_EQ(acme_b64url_encode(v[i].in, n, out, sizeof out, &len), ATL_OK);
		CHECK(strcmp(out, v[i].out) == 0);
		CHECK_EQ(len, strlen(v[i].out));
		len = 99;
		CHECK_EQ(acme_b64url_decode(v[i].out, strlen(v[i].out), back, sizeof back, &len),
			 ATL_OK);
		CHECK_EQ(len, n);
		CHECK_MEM(back, v[i].in, n);
	}
}

TEST(b64url_uses_dash_and_underscore)
{
	/* 62 and 63 are '-' and '_' where base64 has '+' and '/' */
	static const uint8_t a[] = {0xfb, 0xef, 0xbe}, b[] = {0xff, 0xff, 0xff}, c[] = {0xfb, 0xff};
	char out[8];
	uint8_t back[8];
	size_t len;
	CHECK_EQ(acme_b64url_encode(a, 3, out, sizeof out, NULL), ATL_OK);
	CHECK(strcmp(out, "----") == 0);
	CHECK_EQ(acme_b64url_encode(b, 3, out, sizeof out, NULL), ATL_OK);
	CHECK(strcmp(out, "____") == 0);
	CHECK_EQ(acme_b64url_encode(c, 2, out, sizeof out, NULL), ATL_OK);
	CHECK(strcmp(out, "-_8") == 0);
	CHECK_EQ(acme_b64url_decode("-_8", 3, back, sizeof back, &len), ATL_OK);
	CHECK_EQ(len, 2);
	CHECK_MEM(back, c, 2);
	CHECK_EQ(acme_b64url_decode("____", 4, back, sizeof back, &len), ATL_OK);
	CHECK_MEM(back, b, 3);
}

TEST(b64url_decode_rejects_what_is_not_base64url)
{
	static const char *const bad[] = {
	    "Zg==",	    /* padding */
	    "Zm9=",	    /* padding */
	    "Zm+v",	    /* base64's 62 */
	    "Zm/v",	    /* base64's 63 */
	    "Zm 9v",	    /* whitespace */
	    "Zm9v\n",  "Z", /* n % 4 == 1 cannot be */
	    "Zm9vY",	    /* ditto */
	    "Zh",	    /* RFC 4648 3.5: bits left over must be zero */
	    "Zm9",	    /* ditto (9 = 111101: low 2 bits set) */
	    "Zm\x80v",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t out[16];
		size_t len;
		CHECK_EQ(acme_b64url_decode(bad[i], strlen(bad[i]), out, sizeof out, &len),
			 ATL_EINVAL);
	}
	uint8_t out[16];
	size_t len;
	CHECK_EQ(acme_b64url_decode("Zm9vYmFy", 8, out, 5, &len), ATL_EMSGSIZE);
	CHECK_EQ(acme_b64url_decode("Zm9vYmFy", 8, out, 6, &len), ATL_OK);
	CHECK_EQ(acme_b64url_decode("Zm9vYg", 6, out, 3, &len), ATL_EMSGSIZE);
	CHECK_EQ(acme_b64url_decode("", 0, out, 0, &len), ATL_OK);
	CHECK_EQ(len, 0);
}

TEST(b64url_encode_needs_room_for_the_nul)
{
	char out[8];
	CHECK_EQ(acme_b64url_encode("foo", 3, out, 4, NULL), ATL_EMSGSIZE);
	CHECK_EQ(acme_b64url_encode("foo", 3, out, 5, NULL), ATL_OK);
	CHECK_EQ(acme_b64url_encode("", 0, out, 0, NULL), ATL_EMSGSIZE);
	CHECK_EQ(acme_b64url_encode("", 0, out, 1, NULL), ATL_OK);
	CHECK_EQ(out[0], '\0');
}

/* ---- JSON ---- */

TEST(json_values_and_whitespace)
{
	struct acme_span v;
	static const char *const good[] = {
	    "{}",
	    "[]",
	    "\"\"",
	    "true",
	    "false",
	    "null",
	    "0",
	    "-0",
	    "12",
	    "-1.5e+10",
	    "1E-2",
	    "0.25",
	    " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\":{}} \n",
	    "[[],{},\"x\",null]",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		CHECK_EQ(parse(good[i], &v), ATL_OK);
	}
	CHECK_EQ(parse("  [1, 2]  ", &v), ATL_OK);
	CHECK(span_is(v, "[1, 2]")); /* the value, not the space around it */
}

TEST(json_rejects_what_rfc8259_does_not_allow)
{
	struct acme_span v;
	static const char *const bad[] = {
	    "",		" ",	   "{} x",	"{}{}",	       "[1,]",	"[,1]",	       "{\"a\":1,}",
	    "{\"a\"}",	"{a:1}",   "{\"a\" 1}", "{1:1}",       "[1 2]", "\"abc",       "\"a\\\"",
	    "01",	"-01",	   "1.",	".5",	       "1e",	"1e+",	       "+1",
	    "-",	"tru",	   "truex",	"nul",	       "True",	"'a'",	       "\"a\tb\"",
	    "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "[",	"{",	       "]",
	    "\"\\\"",	"[1]]",	   "0x10",	"Infinity",    "NaN",	"\"\\U0041\"",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse(bad[i], &v) != ATL_EINVAL)
			printf("#   accepted: %s\n", bad[i]);
		CHECK_EQ(parse(bad[i], &v), ATL_EINVAL);
	}
	/* RFC 8259 7: below U+0020 must be escaped, NUL included */
	CHECK_EQ(acme_json_parse("\"a\0b\"", 5, &v), ATL_EINVAL);
	CHECK_EQ(acme_json_parse("\"\x1f\"", 3, &v), ATL_EINVAL);
	CHECK_EQ(acme_json_parse("\"\x7f\"", 3, &v), ATL_OK);
}

TEST(json_nesting_is_bounded)
{
	char s[2 * (ACME_JSON_DEPTH + 2) + 1];
	struct acme_span v;
	for (unsigned d = 1; d <= ACME_JSON_DEPTH + 1; d++) {
		memset(s, '[', d);
		memset(s + d, ']', d);
		s[2 * d] = '\0';
		CHECK_EQ(parse(s, &v), d <= ACME_JSON_DEPTH ? ATL_OK : ATL_EINVAL);
	}
	/* objects count the same as arrays */
	char o[8 * (ACME_JSON_DEPTH + 1) + 8];
	for (unsigned d = ACME_JSON_DEPTH; d <= ACME_JSON_DEPTH + 1; d++) {
		size_t n = 0;
		for (unsigned i = 0; i < d; i++)
			n += (size_t)sprintf(o + n, "{\"a\":");
		n += (size_t)sprintf(o + n, "1");
		for (unsigned i = 0; i < d; i++)
			o[n++] = '}';
		o[n] = '\0';
		CHECK_EQ(parse(o, &v), d <= ACME_JSON_DEPTH ? ATL_OK : ATL_EINVAL);
		o[n - 1] = '\0';
		CHECK_EQ(parse(o, &v), ATL_EINVAL); /* unbalanced */
	}
}

TEST(json_strings_unescape_to_utf8)
{
	struct acme_span v;
	char out[64];
	CHECK_EQ(parse("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_OK);
	CHECK(strcmp(out, "a\"b\\c/d\be\ff\ng\rh\ti") == 0);
	/* \uXXXX: one, two and three UTF-8 bytes, either case of hex */
	CHECK_EQ(parse("\"\\u0041\\u00e9\\u00E9\\u20ac\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_OK);
	CHECK(strcmp(out, "A\xc3\xa9\xc3\xa9\xe2\x82\xac") == 0);
	/* RFC 8259 7: U+1D11E as the surrogate pair D834 DD1E */
	CHECK_EQ(parse("\"x\\uD834\\uDD1Ey\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_OK);
	CHECK(strcmp(out, "x\xf0\x9d\x84\x9ey") == 0);
	CHECK_EQ(parse("\"\\ud83d\\ude00\"", &v), ATL_OK); /* U+1F600 */
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_OK);
	CHECK(strcmp(out, "\xf0\x9f\x98\x80") == 0);
	/* raw UTF-8 passes through */
	CHECK_EQ(parse("\"caf\xc3\xa9\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_OK);
	CHECK(strcmp(out, "caf\xc3\xa9") == 0);
}

TEST(json_lone_surrogates_parse_but_do_not_decode)
{
	/* RFC 8259 8.2: the grammar allows an unpaired surrogate and the
	 * result is unpredictable; the reader accepts the text but will not
	 * turn it into (invalid) UTF-8. */
	static const char *const lone[] = {
	    "\"\\ud800\"",	  "\"\\udc00\"",	"\"\\ud800x\"",
	    "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "\"\\udfff\\ud800\"",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(lone); i++) {
		struct acme_span v;
		char out[32];
		CHECK_EQ(parse(lone[i], &v), ATL_OK);
		CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_EINVAL);
	}
	/* and a NUL would cut a C string short */
	struct acme_span v;
	char out[8];
	CHECK_EQ(parse("\"a\\u0000b\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_EINVAL);
}

TEST(json_string_output_size)
{
	struct acme_span v;
	char out[8];
	CHECK_EQ(parse("\"abcdefg\"", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, 8), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, 7), ATL_EMSGSIZE);
	CHECK_EQ(acme_json_string(v, out, 0), ATL_EMSGSIZE);
	CHECK_EQ(parse("\"ab\\u20ac\"", &v), ATL_OK); /* 2 + 3 bytes */
	CHECK_EQ(acme_json_string(v, out, 6), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, 5), ATL_EMSGSIZE);
	CHECK_EQ(parse("12", &v), ATL_OK);
	CHECK_EQ(acme_json_string(v, out, sizeof out), ATL_EINVAL); /* not a string */
}

TEST(json_member_lookup)
{
	struct acme_span o, v;
	char s[32];
	CHECK_EQ(parse("{\"a\":1, \"b\" : \"two\", \"c\":{\"a\":3}, \"a\":4, \"\\u0064\":5}", &o),
		 ATL_OK);
	CHECK_EQ(acme_json_member(o, "a", &v), ATL_OK);
	CHECK(span_is(v, "1")); /* the first of repeated keys */
	CHECK_EQ(acme_json_get_string(o, "b", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "two") == 0);
	CHECK_EQ(acme_json_member(o, "c", &v), ATL_OK);
	CHECK(span_is(v, "{\"a\":3}"));
	struct acme_span inner;
	CHECK_EQ(acme_json_member(v, "a", &inner), ATL_OK);
	CHECK(span_is(inner, "3"));
	CHECK_EQ(acme_json_member(o, "d", &v), ATL_OK); /* keys compare unescaped */
	CHECK(span_is(v, "5"));
	CHECK_EQ(acme_json_member(o, "A", &v), ATL_ENOENT); /* case matters */
	CHECK_EQ(acme_json_member(o, "", &v), ATL_ENOENT);
	CHECK_EQ(acme_json_member(o, "bb", &v), ATL_ENOENT);
	CHECK_EQ(acme_json_get_string(o, "a", s, sizeof s), ATL_EINVAL); /* 1 is no string */
	CHECK_EQ(acme_json_get_string(o, "zz", s, sizeof s), ATL_ENOENT);
	CHECK_EQ(parse("{}", &o), ATL_OK);
	CHECK_EQ(acme_json_member(o, "a", &v), ATL_ENOENT);
	CHECK_EQ(parse("[\"a\",1]", &o), ATL_OK);
	CHECK_EQ(acme_json_member(o, "a", &v), ATL_EINVAL); /* not an object */
	CHECK_EQ(parse("\"a\"", &o), ATL_OK);
	CHECK_EQ(acme_json_member(o, "a", &v), ATL_EINVAL);
}

TEST(json_array_index)
{
	struct acme_span a, v;
	CHECK_EQ(parse("[ \"x\" , {\"k\":[1,2]}, 3 ]", &a), ATL_OK);
	CHECK_EQ(acme_json_index(a, 0, &v), ATL_OK);
	CHECK(span_is(v, "\"x\""));
	CHECK_EQ(acme_json_index(a, 1, &v), ATL_OK);
	CHECK(span_is(v, "{\"k\":[1,2]}"));
	CHECK_EQ(acme_json_index(a, 2, &v), ATL_OK);
	CHECK(span_is(v, "3"));
	CHECK_EQ(acme_json_index(a, 3, &v), ATL_ENOENT);
	CHECK_EQ(acme_json_index(a, 1000, &v), ATL_ENOENT);
	CHECK_EQ(parse("[]", &a), ATL_OK);
	CHECK_EQ(acme_json_index(a, 0, &v), ATL_ENOENT);
	CHECK_EQ(parse("{\"a\":1}", &a), ATL_OK);
	CHECK_EQ(acme_json_index(a, 0, &v), ATL_EINVAL);
}

TEST(json_bool)
{
	struct acme_span v;
	bool b = false;
	CHECK_EQ(parse("true", &v), ATL_OK);
	CHECK_EQ(acme_json_bool(v, &b), ATL_OK);
	CHECK(b);
	CHECK_EQ(parse("false", &v), ATL_OK);
	CHECK_EQ(acme_json_bool(v, &b), ATL_OK);
	CHECK(!b);
	CHECK_EQ(parse("\"true\"", &v), ATL_OK);
	CHECK_EQ(acme_json_bool(v, &b), ATL_EINVAL);
	CHECK_EQ(parse("1", &v), ATL_OK);
	CHECK_EQ(acme_json_bool(v, &b), ATL_EINVAL);
}

/* ---- keys, JWK, JWS ---- */

TEST(key_gen_is_deterministic_and_valid)
{
	struct acme_key a, b, c;
	test_key(&a, 1);
	test_key(&b, 1);
	test_key(&c, 2);
	CHECK_MEM(a.sk, b.sk, 32);
	CHECK_MEM(a.pub, b.pub, 65);
	CHECK(memcmp(a.sk, c.sk, 32) != 0);
	CHECK_EQ(a.pub[0], 0x04); /* uncompressed point */
	/* the public key is the secret's, by BearSSL's own computation */
	br_ec_private_key sk = {BR_EC_secp256r1, a.sk, 32};
	br_ec_public_key pk;
	uint8_t pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	CHECK_EQ(br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk), 65);
	CHECK_MEM(pbuf, a.pub, 65);
	uint8_t seed[31] = {0};
	CHECK_EQ(acme_key_gen(&c, seed, sizeof seed), ATL_EINVAL); /* too little entropy */
	/* the DER key is RFC 5915's: SEQUENCE { INTEGER 1, OCTET STRING sk ... } */
	uint8_t der[200];
	size_t dl = 0;
	CHECK_EQ(acme_key_der(&a, der, sizeof der, &dl), ATL_OK);
	CHECK(dl > 40);
	CHECK_EQ(der[0], 0x30);
	CHECK_MEM(der + 2, "\x02\x01\x01\x04\x20", 5);
	CHECK_MEM(der + 7, a.sk, 32);
	CHECK_EQ(acme_key_der(&a, der, dl - 1, &dl), ATL_EMSGSIZE);
	acme_key_wipe(&b);
	static const uint8_t zero[65];
	CHECK_MEM(b.sk, zero, 32);
	CHECK_MEM(b.pub, zero, 65);
}

TEST(jwk_rfc7515_a3_key_in_rfc7638_form)
{
	/* RFC 7515 A.3.1's P-256 key: the JWK must be RFC 7638 3.2's
	 * canonical form, the required members in order, no whitespace */
	static const char x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
			  y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
			  d[] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
	struct acme_key k;
	size_t n;
	CHECK_EQ(acme_b64url_decode(d, 43, k.sk, 32, &n), ATL_OK);
	k.pub[0] = 4;
	CHECK_EQ(acme_b64url_decode(x, 43, k.pub + 1, 32, &n), ATL_OK);
	CHECK_EQ(acme_b64url_decode(y, 43, k.pub + 33, 32, &n), ATL_OK);
	/* the RFC's x and y are its d's point */
	br_ec_private_key sk = {BR_EC_secp256r1, k.sk, 32};
	br_ec_public_key pk;
	uint8_t pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	CHECK_EQ(br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk), 65);
	CHECK_MEM(pbuf, k.pub, 65);

	char jwk[200], want[200];
	snprintf(want, sizeof want, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		 x, y);
	CHECK_EQ(acme_jwk(&k, jwk, sizeof jwk, &n), ATL_OK);
	CHECK(strcmp(jwk, want) == 0);
	CHECK_EQ(n, strlen(want));
	CHECK_EQ(acme_jwk(&k, jwk, strlen(want), &n), ATL_EMSGSIZE);
	CHECK_EQ(acme_jwk(&k, jwk, strlen(want) + 1, &n), ATL_OK);

	/* RFC 7638 3: base64url(SHA-256(canonical JWK)) */
	uint8_t h[32];
	char tp[ACME_THUMB_LEN + 1], want_tp[64];
	sha256(want, strlen(want), h);
	b64url(h, 32, want_tp);
	CHECK_EQ(acme_jwk_thumbprint(&k, tp), ATL_OK);
	CHECK(strcmp(tp, want_tp) == 0);
	CHECK_EQ(strlen(tp), ACME_THUMB_LEN);
}

TEST(jwk_of_a_generated_key)
{
	struct acme_key k;
	test_key(&k, 7);
	char jwk[200], x[64], y[64], want[200];
	b64url(k.pub + 1, 32, x);
	b64url(k.pub + 33, 32, y);
	snprintf(want, sizeof want, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		 x, y);
	CHECK_EQ(acme_jwk(&k, jwk, sizeof jwk, NULL), ATL_OK);
	CHECK(strcmp(jwk, want) == 0);
	/* it is JSON, and its members are what they say */
	struct acme_span v;
	char s[64];
	CHECK_EQ(parse(jwk, &v), ATL_OK);
	CHECK_EQ(acme_json_get_string(v, "kty", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "EC") == 0);
	CHECK_EQ(acme_json_get_string(v, "crv", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "P-256") == 0);
}

TEST(key_authorization_and_dns01_txt)
{
	struct acme_key k;
	test_key(&k, 9);
	char tp[ACME_THUMB_LEN + 1], ka[ACME_KEYAUTH_MAX], want[ACME_KEYAUTH_MAX], txt[64],
	    want_txt[64];
	CHECK_EQ(acme_jwk_thumbprint(&k, tp), ATL_OK);
	/* RFC 8555 8.3's example token; 8.1: token || '.' || thumbprint */
	static const char token[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
	snprintf(want, sizeof want, "%s.%s", token, tp);
	CHECK_EQ(acme_key_authorization(token, &k, ka, sizeof ka), ATL_OK);
	CHECK(strcmp(ka, want) == 0);
	CHECK_EQ(acme_key_authorization(token, &k, ka, strlen(want)), ATL_EMSGSIZE);
	/* RFC 8555 8.4: the TXT value is base64url(SHA-256(keyauth)) */
	uint8_t h[32];
	sha256(want, strlen(want), h);
	b64url(h, 32, want_txt);
	CHECK_EQ(acme_dns01_txt(ka, txt), ATL_OK);
	CHECK(strcmp(txt, want_txt) == 0);
	CHECK_EQ(strlen(txt), ACME_THUMB_LEN);
}

/* The three members of a flattened JWS, decoded and checked. */
struct jws_parts {
	char prot_b64[1600], payload_b64[1600], sig_b64[100];
	char prot[1200];
	char payload[1200];
	size_t plen;
};

static void jws_split(const char *jws, struct jws_parts *j, const struct acme_key *k)
{
	struct acme_span v;
	size_t n;
	memset(j, 0, sizeof *j);
	CHECK_EQ(parse(jws, &v), ATL_OK);
	CHECK_EQ(acme_json_get_string(v, "protected", j->prot_b64, sizeof j->prot_b64), ATL_OK);
	CHECK_EQ(acme_json_get_string(v, "payload", j->payload_b64, sizeof j->payload_b64), ATL_OK);
	CHECK_EQ(acme_json_get_string(v, "signature", j->sig_b64, sizeof j->sig_b64), ATL_OK);
	CHECK_EQ(acme_b64url_decode(j->prot_b64, strlen(j->prot_b64), (uint8_t *)j->prot,
				    sizeof j->prot - 1, &n),
		 ATL_OK);
	j->prot[n] = '\0';
	CHECK_EQ(acme_b64url_decode(j->payload_b64, strlen(j->payload_b64), (uint8_t *)j->payload,
				    sizeof j->payload - 1, &j->plen),
		 ATL_OK);
	j->payload[j->plen] = '\0';
	uint8_t sig[64];
	/* RFC 7518 3.4: R || S, 64 bytes, not DER */
	CHECK_EQ(acme_b64url_decode(j->sig_b64, strlen(j->sig_b64), sig, sizeof sig, &n), ATL_OK);
	CHECK_EQ(n, 64);
	/* RFC 7515 5.2: verify over ASCII(protected "." payload) */
	br_sha256_context h;
	uint8_t d[32];
	br_sha256_init(&h);
	br_sha256_update(&h, j->prot_b64, strlen(j->prot_b64));
	br_sha256_update(&h, ".", 1);
	br_sha256_update(&h, j->payload_b64, strlen(j->payload_b64));
	br_sha256_out(&h, d);
	br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)k->pub, 65};
	CHECK_EQ(br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, d, 32, &pk, sig, 64), 1);
	/* and a signature over anything else fails */
	d[0] ^= 1;
	CHECK_EQ(br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, d, 32, &pk, sig, 64), 0);
}

static struct jws_parts jp;

TEST(jws_with_jwk_for_new_account)
{
	struct acme_key k;
	test_key(&k, 3);
	char body[128], jws[2048], s[ACME_URL_MAX];
	size_t bl, n;
	CHECK_EQ(acme_body_new_account("admin@example.org", body, sizeof body, &bl), ATL_OK);
	static const char nonce[] = "6S8IqOGY7eL2lsGoTZYifg",
			  url[] = "https://example.com/acme/new-account";
	CHECK_EQ(acme_jws(&k, NULL, nonce, url, body, bl, jws, sizeof jws, &n), ATL_OK);
	CHECK_EQ(n, strlen(jws));
	jws_split(jws, &jp, &k);
	CHECK(strcmp(jp.payload, body) == 0);
	/* RFC 8555 6.2: alg, jwk (newAccount has no kid yet), nonce, url */
	struct acme_span h, jwk;
	CHECK_EQ(parse(jp.prot, &h), ATL_OK);
	CHECK_EQ(acme_json_get_string(h, "alg", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "ES256") == 0);
	CHECK_EQ(acme_json_get_string(h, "nonce", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, nonce) == 0);
	CHECK_EQ(acme_json_get_string(h, "url", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, url) == 0);
	struct acme_span kid;
	CHECK_EQ(acme_json_member(h, "kid", &kid), ATL_ENOENT); /* never both */
	CHECK_EQ(acme_json_member(h, "jwk", &jwk), ATL_OK);
	char want[200];
	CHECK_EQ(acme_jwk(&k, want, sizeof want, NULL), ATL_OK);
	CHECK(span_is(jwk, want));
	/* too small an output */
	CHECK_EQ(acme_jws(&k, NULL, nonce, url, body, bl, jws, n, &n), ATL_EMSGSIZE);
}

TEST(jws_with_kid_and_post_as_get)
{
	struct acme_key k;
	test_key(&k, 4);
	char jws[2048], s[ACME_URL_MAX];
	size_t n;
	static const char kid[] = "https://example.com/acme/acct/evOfKhNU60wg",
			  url[] = "https://example.com/acme/authz/PAniVnsZcis";
	/* RFC 8555 6.3: POST-as-GET signs the empty payload "" */
	CHECK_EQ(acme_jws(&k, kid, "n0nce", url, NULL, 0, jws, sizeof jws, &n), ATL_OK);
	jws_split(jws, &jp, &k);
	CHECK(strcmp(jp.payload_b64, "") == 0);
	CHECK(strstr(jws, "\"payload\":\"\"") != NULL);
	struct acme_span h, v;
	CHECK_EQ(parse(jp.prot, &h), ATL_OK);
	CHECK_EQ(acme_json_get_string(h, "kid", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, kid) == 0);
	CHECK_EQ(acme_json_member(h, "jwk", &v), ATL_ENOENT);
	CHECK_EQ(acme_json_get_string(h, "alg", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "ES256") == 0);
	CHECK_EQ(acme_json_get_string(h, "nonce", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "n0nce") == 0);
	CHECK_EQ(acme_json_get_string(h, "url", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, url) == 0);
	/* a kid with characters JSON must escape still round-trips */
	CHECK_EQ(acme_jws(&k, "a\"b\\c\x01", "n", url, NULL, 0, jws, sizeof jws, &n), ATL_OK);
	jws_split(jws, &jp, &k);
	CHECK_EQ(parse(jp.prot, &h), ATL_OK);
	CHECK_EQ(acme_json_get_string(h, "kid", s, sizeof s), ATL_OK);
	CHECK(strcmp(s, "a\"b\\c\x01") == 0);
}

TEST(request_bodies)
{
	char out[512];
	size_t n;
	CHECK_EQ(acme_body_new_account(NULL, out, sizeof out, &n), ATL_OK);
	CHECK(strcmp(out, "{\"termsOfServiceAgreed\":true}") == 0);
	CHECK_EQ(acme_body_new_account("", out, sizeof out, &n), ATL_OK);
	CHECK(strcmp(out, "{\"termsOfServiceAgreed\":true}") == 0);
	CHECK_EQ(acme_body_new_account("a@b.test", out, sizeof out, &n), ATL_OK);
	CHECK(strcmp(out, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@b.test\"]}") ==
	      0);
	CHECK_EQ(n, strlen(out));
	CHECK_EQ(acme_body_new_account("a\"@b", out, sizeof out, &n), ATL_EMSGSIZE);
	static const char *const names[] = {"www.example.org", "example.org"};
	CHECK_EQ(acme_body_new_order(names, 2, out, sizeof out, &n), ATL_OK);
	CHECK(strcmp(out, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.example.org\"},"
			  "{\"type\":\"dns\",\"value\":\"example.org\"}]}") == 0);
	CHECK_EQ(acme_body_new_order(names, 0, out, sizeof out, &n), ATL_EINVAL);
	CHECK_EQ(acme_body_new_order(names, 2, out, 20, &n), ATL_EMSGSIZE);
	static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0xff};
	CHECK_EQ(acme_body_finalize(der, sizeof der, out, sizeof out, &n), ATL_OK);
	CHECK(strcmp(out, "{\"csr\":\"MAMCAf8\"}") == 0);
}

/* ---- CSR ---- */

/* One DER TLV at p[0..n): tag, content offset and length; false if it
 * does not fit exactly inside n. */
static bool der_tlv(const uint8_t *p, size_t n, uint8_t *tag, size_t *off, size_t *len)
{
	if (n < 2)
		return false;
	*tag = p[0];
	size_t l = p[1], o = 2;
	if (l & 0x80) {
		size_t k = l & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return false;
		l = 0;
		for (size_t i = 0; i < k; i++)
			l = l << 8 | p[2 + i];
		/* X.690 10.1: DER uses the shortest form */
		if (l < 128 || (k > 1 && p[2] == 0))
			return false;
		o = 2 + k;
	}
	if (l > n - o)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool has_dnsname(const uint8_t *p, size_t n, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; i < n; i++) {
		uint8_t tag;
		size_t off, len;
		if (p[i] == 0x82 && der_tlv(p + i, n - i, &tag, &off, &len) && len == l &&
		    !memcmp(p + i + off, name, l))
			return true;
	}
	return false;
}

/* openssl's opinion of the CSR, when openssl is there. */
static void csr_openssl(const uint8_t *der, size_t n, const char *const *names, unsigned nn)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		printf("# openssl not found: CSR not shown to openssl req -verify\n");
		return;
	}
	char path[] = "/tmp/test_acme_csr_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, der, n), (long long)n);
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "openssl req -inform DER -in %s -verify -noout -text 2>&1", path);
	FILE *f = popen(cmd, "r");
	CHECK(f != NULL);
	static char out[16384];
	size_t got = f ? fread(out, 1, sizeof out - 1, f) : 0;
	out[got] = '\0';
	int st = f ? pclose(f) : -1;
	unlink(path);
	CHECK_EQ(st, 0);
	/* OpenSSL 3 says "Certificate request self-signature verify OK",
	 * older ones "verify OK" */
	CHECK(strstr(out, "verify OK") != NULL);
	CHECK(strstr(out, "verify failure") == NULL);
	CHECK(strstr(out, "Subject Alternative Name") != NULL);
	for (unsigned i = 0; i < nn; i++) {
		char want[300];
		snprintf(want, sizeof want, "DNS:%s", names[i]);
		CHECK(strstr(out, want) != NULL);
	}
	if (!strstr(out, "verify OK"))
		printf("# openssl said:\n%s\n", out);
}

static void csr_check(const struct acme_key *k, const char *const *names, unsigned nn,
		      const char *cn)
{
	static uint8_t der[4096];
	size_t n = 0;
	CHECK_EQ(acme_csr(k, names, nn, der, sizeof der, &n), ATL_OK);
	/* RFC 2986 4.2: SEQUENCE { info SEQUENCE, algorithm SEQUENCE,
	 * signature BIT STRING }, each length exact */
	uint8_t tag;
	size_t off, len;
	CHECK(der_tlv(der, n, &tag, &off, &len));
	CHECK_EQ(tag, 0x30);
	CHECK_EQ(off + len, n);
	const uint8_t *p = der + off;
	size_t rest = len;
	size_t io, il;
	CHECK(der_tlv(p, rest, &tag, &io, &il));
	CHECK_EQ(tag, 0x30);
	const uint8_t *info = p;
	size_t info_len = io + il;
	p += info_len;
	rest -= info_len;
	size_t ao, al;
	CHECK(der_tlv(p, rest, &tag, &ao, &al));
	CHECK_EQ(tag, 0x30);
	/* RFC 5758 3.2: ecdsa-with-SHA256, no parameters */
	CHECK_EQ(al, 10);
	CHECK_MEM(p + ao, "\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10);
	p += ao + al;
	rest -= ao + al;
	size_t so, sl;
	CHECK(der_tlv(p, rest, &tag, &so, &sl));
	CHECK_EQ(tag, 0x03);
	CHECK_EQ(so + sl, rest);
	CHECK_EQ(p[so], 0); /* no unused bits */
	/* the signature is k's over the info, checked by BearSSL */
	uint8_t d[32];
	sha256(info, info_len, d);
	br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)k->pub, 65};
	CHECK_EQ(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, d, 32, &pk, p + so + 1, sl - 1), 1);
	/* the key and the names are in the info */
	bool key = false;
	for (size_t i = 0; i + 65 <= info_len; i++)
		key = key || !memcmp(info + i, k->pub, 65);
	CHECK(key);
	for (unsigned i = 0; i < nn; i++)
		CHECK(has_dnsname(info, info_len, names[i]));
	/* subject: CN=cn as a UTF8String, or an empty SEQUENCE */
	const uint8_t *s = info + io;
	CHECK_MEM(s, "\x02\x01\x00", 3); /* version 0 */
	s += 3;
	if (cn) {
		size_t l = strlen(cn);
		CHECK_EQ(s[0], 0x30);
		CHECK_EQ(s[1], l + 11);
		CHECK_MEM(s + 2, "\x31", 1);
		CHECK_MEM(s + 6, "\x06\x03\x55\x04\x03\x0c", 6);
		CHECK_EQ(s[12], l);
		CHECK_MEM(s + 13, cn, l);
	} else {
		CHECK_MEM(s, "\x30\x00", 2);
	}
	csr_openssl(der, n, names, nn);
	CHECK_EQ(acme_csr(k, names, nn, der, n - 1, &len), ATL_EMSGSIZE);
}

TEST(csr_for_two_names)
{
	struct acme_key k;
	test_key(&k, 5);
	static const char *const names[] = {"www.example.org", "example.org"};
	csr_check(&k, names, 2, "www.example.org");
}

TEST(csr_long_names_use_long_der_lengths)
{
	/* names of 250 bytes push lengths past 255 (X.690 8.1.3.5's two
	 * length bytes); RFC 5280's ub-common-name is 64, so such a name is
	 * only a dNSName, and the CN is the first name that fits */
	static char a[251], b[251], c[251];
	memset(a, 'a', 250);
	memset(b, 'b', 250);
	memset(c, 'c', 250);
	a[63] = b[63] = c[63] = '.';
	a[127] = b[127] = c[127] = '.';
	a[191] = b[191] = c[191] = '.';
	struct acme_key k;
	test_key(&k, 6);
	const char *const names[] = {a, b, c, "short.example.org"};
	csr_check(&k, names, 4, "short.example.org");
	const char *const only_long[] = {a, b};
	csr_check(&k, only_long, 2, NULL);
	static const char *const names8[] = {"a.test", "b.test", "c.test", "d.test", "e.test",
					     "f.test", "g.test", "h.test", "i.test"};
	uint8_t der[2048];
	size_t n;
	CHECK_EQ(acme_csr(&k, names8, 8, der, sizeof der, &n), ATL_OK);
	CHECK_EQ(acme_csr(&k, names8, 9, der, sizeof der, &n), ATL_EINVAL);
	CHECK_EQ(acme_csr(&k, names8, 0, der, sizeof der, &n), ATL_EINVAL);
	const char *const empty[] = {""};
	CHECK_EQ(acme_csr(&k, empty, 1, der, sizeof der, &n), ATL_EINVAL);
}

/* ---- HTTP response heads ---- */

static int head(const char *s, struct acme_http_resp *r)
{
	return acme_http_head((const uint8_t *)s, strlen(s), r);
}

static struct acme_http_resp hr;

TEST(http_head_fields)
{
	static const char h[] = "HTTP/1.1 201 Created\r\n"
				"Content-Type: application/json\r\n"
				"Replay-Nonce: D8s4D2mLs8Vn-goWuPQeKA\r\n"
				"Link: <https://example.com/acme/directory>;rel=\"index\"\r\n"
				"Location:   https://example.com/acme/acct/evOfKhNU60wg  \r\n"
				"Retry-After: 120\r\n"
				"Content-Length: 42\r\n"
				"\r\n"
				"{\"status\":\"valid\"}";
	CHECK_EQ(head(h, &hr), ATL_OK);
	CHECK_EQ(hr.status, 201);
	CHECK_EQ(hr.head_len, strlen(h) - strlen("{\"status\":\"valid\"}"));
	CHECK(strcmp(hr.location, "https://example.com/acme/acct/evOfKhNU60wg") == 0);
	CHECK(strcmp(hr.nonce, "D8s4D2mLs8Vn-goWuPQeKA") == 0);
	CHECK(strcmp(hr.content_type, "application/json") == 0);
	CHECK_EQ(hr.retry_after, 120);
	CHECK_EQ(hr.content_length, 42);
	CHECK(!hr.chunked);
}

TEST(http_head_names_are_case_insensitive)
{
	CHECK_EQ(head("HTTP/1.1 200 OK\r\nLOCATION: https://a/b\r\nreplay-NONCE: abc\r\n"
		      "transfer-encoding: Chunked\r\nRETRY-after: 3\r\n\r\n",
		      &hr),
		 ATL_OK);
	CHECK_EQ(hr.status, 200);
	CHECK(strcmp(hr.location, "https://a/b") == 0);
	CHECK(strcmp(hr.nonce, "abc") == 0);
	CHECK(hr.chunked);
	CHECK_EQ(hr.retry_after, 3);
	CHECK_EQ(hr.content_length, UINT64_MAX);
}

TEST(http_head_defaults)
{
	CHECK_EQ(head("HTTP/1.1 204\r\n\r\n", &hr), ATL_OK); /* no reason phrase */
	CHECK_EQ(hr.status, 204);
	CHECK_EQ(hr.head_len, 16);
	CHECK(hr.location[0] == '\0' && hr.nonce[0] == '\0' && hr.content_type[0] == '\0');
	CHECK_EQ(hr.content_length, UINT64_MAX);
	CHECK_EQ(hr.retry_after, 0);
	CHECK(!hr.chunked);
	CHECK_EQ(head("HTTP/1.0 503 Service Unavailable\r\n"
		      "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\nContent-Length: 0\r\n\r\n",
		      &hr),
		 ATL_OK);
	CHECK_EQ(hr.status, 503);
	CHECK_EQ(hr.retry_after, 0); /* the date form is not used */
	CHECK_EQ(hr.content_length, 0);
}

TEST(http_head_incomplete_is_eagain)
{
	static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
	for (size_t n = 0; n < sizeof h - 1; n++)
		CHECK_EQ(acme_http_head((const uint8_t *)h, n, &hr), ATL_EAGAIN);
	CHECK_EQ(acme_http_head((const uint8_t *)h, sizeof h - 1, &hr), ATL_OK);
	CHECK_EQ(hr.content_length, 2);
}

TEST(http_head_malformed_is_einval)
{
	static const char *const bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTX/1.1 200 OK\r\n\r\n",
	    "http/1.1 200 OK\r\n\r\n",
	    "HTTP/1.x 200 OK\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	    "HTTP/1.1 099 OK\r\n\r\n",
	    "HTTP/1.1 2x0 OK\r\n\r\n",
	    "HTTP/1.1  200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    /* RFC 9112 6.3: differing lengths cannot be framed */
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    /* a coding under chunked would have to be undone: not understood */
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = head(bad[i], &hr);
		if (rc != ATL_EINVAL)
			printf("#   %d for: %s\n", rc, bad[i]);
		CHECK_EQ(rc, ATL_EINVAL);
	}
	/* the same length twice is one length (RFC 9112 6.3) */
	CHECK_EQ(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &hr),
		 ATL_OK);
	CHECK_EQ(hr.content_length, 5);
}

TEST(http_head_too_long_values_are_emsgsize)
{
	static char h[1024], url[ACME_URL_MAX + 1];
	memset(url, 'a', sizeof url - 1);
	memcpy(url, "https://", 8);
	url[ACME_URL_MAX - 1] = '\0'; /* the longest that fits */
	snprintf(h, sizeof h, "HTTP/1.1 201 Created\r\nLocation: %s\r\n\r\n", url);
	CHECK_EQ(head(h, &hr), ATL_OK);
	CHECK(strcmp(hr.location, url) == 0);
	url[ACME_URL_MAX - 1] = 'a';
	snprintf(h, sizeof h, "HTTP/1.1 201 Created\r\nLocation: %s\r\n\r\n", url);
	CHECK_EQ(head(h, &hr), ATL_EMSGSIZE);
	char nonce[ACME_NONCE_MAX + 1];
	memset(nonce, 'N', ACME_NONCE_MAX);
	nonce[ACME_NONCE_MAX] = '\0';
	snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\n\r\n", nonce);
	CHECK_EQ(head(h, &hr), ATL_EMSGSIZE);
	nonce[ACME_NONCE_MAX - 1] = '\0';
	snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\n\r\n", nonce);
	CHECK_EQ(head(h, &hr), ATL_OK);
	/* a long Content-Type is cut, not refused: only its start matters */
	snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: application/json; %0200d\r\n\r\n",
		 0);
	CHECK_EQ(head(h, &hr), ATL_OK);
	CHECK_EQ(strlen(hr.content_type), sizeof hr.content_type - 1);
	CHECK(strncmp(hr.content_type, "application/json; 000", 21) == 0);
}

/* ---- the server's objects (RFC 8555 7.1) ---- */

/* RFC 8555 7.1.1's example directory */
static const char directory_json[] =
    "{\n"
    "  \"newNonce\": \"https://example.com/acme/new-nonce\",\n"
    "  \"newAccount\": \"https://example.com/acme/new-account\",\n"
    "  \"newOrder\": \"https://example.com/acme/new-order\",\n"
    "  \"newAuthz\": \"https://example.com/acme/new-authz\",\n"
    "  \"revokeCert\": \"https://example.com/acme/revoke-cert\",\n"
    "  \"keyChange\": \"https://example.com/acme/key-change\",\n"
    "  \"meta\": {\n"
    "    \"termsOfService\": \"https://example.com/acme/terms/2017-5-30\",\n"
    "    \"website\": \"https://www.example.com/\",\n"
    "    \"caaIdentities\": [\"example.com\"],\n"
    "    \"externalAccountRequired\": false\n"
    "  }\n"
    "}\n";

TEST(directory)
{
	struct acme_directory d;
	CHECK_EQ(acme_directory_parse(directory_json, strlen(directory_json), &d), ATL_OK);
	CHECK(strcmp(d.new_nonce, "https://example.com/acme/new-nonce") == 0);
	CHECK(strcmp(d.new_account, "https://example.com/acme/new-account") == 0);
	CHECK(strcmp(d.new_order, "https://example.com/acme/new-order") == 0);
	static const char no_order[] =
	    "{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\"}";
	CHECK_EQ(acme_directory_parse(no_order, strlen(no_order), &d), ATL_ENOENT);
	static const char not_string[] =
	    "{\"newNonce\":1,\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}";
	CHECK_EQ(acme_directory_parse(not_string, strlen(not_string), &d), ATL_EINVAL);
	CHECK_EQ(acme_directory_parse("[]", 2, &d), ATL_EINVAL);
	CHECK_EQ(acme_directory_parse(directory_json, strlen(directory_json) - 3, &d), ATL_EINVAL);
}

/* RFC 8555 7.1.3's example order */
static const char order_json[] =
    "{\n"
    "  \"status\": \"valid\",\n"
    "  \"expires\": \"2016-01-20T14:09:07.99Z\",\n"
    "  \"identifiers\": [\n"
    "    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
    "    { \"type\": \"dns\", \"value\": \"example.org\" }\n"
    "  ],\n"
    "  \"notBefore\": \"2016-01-01T00:00:00Z\",\n"
    "  \"notAfter\": \"2016-01-08T00:00:00Z\",\n"
    "  \"authorizations\": [\n"
    "    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
    "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n"
    "  ],\n"
    "  \"finalize\": \"https://example.com/acme/order/TOlocE8rfgo/finalize\",\n"
    "  \"certificate\": \"https://example.com/acme/cert/mAt3xBGaobw\"\n"
    "}\n";

TEST(order)
{
	struct acme_order o;
	CHECK_EQ(acme_order_parse(order_json, strlen(order_json), &o), ATL_OK);
	CHECK_EQ(o.status, ACME_ST_VALID);
	CHECK_EQ(o.nauthz, 2);
	CHECK(strcmp(o.authz[0], "https://example.com/acme/authz/PAniVnsZcis") == 0);
	CHECK(strcmp(o.authz[1], "https://example.com/acme/authz/r4HqLzrSrpI") == 0);
	CHECK(strcmp(o.finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize") == 0);
	CHECK(strcmp(o.certificate, "https://example.com/acme/cert/mAt3xBGaobw") == 0);

	/* a pending order (7.4) has no certificate yet */
	static const char pending[] =
	    "{\"status\":\"pending\",\"authorizations\":[\"https://a/z/1\"],"
	    "\"finalize\":\"https://a/o/1/finalize\",\"identifiers\":[]}";
	CHECK_EQ(acme_order_parse(pending, strlen(pending), &o), ATL_OK);
	CHECK_EQ(o.status, ACME_ST_PENDING);
	CHECK_EQ(o.nauthz, 1);
	CHECK(o.certificate[0] == '\0');
	/* an unknown status is UNKNOWN, not an error */
	static const char odd[] =
	    "{\"status\":\"sleeping\",\"authorizations\":[],\"finalize\":\"https://a/f\"}";
	CHECK_EQ(acme_order_parse(odd, strlen(odd), &o), ATL_OK);
	CHECK_EQ(o.status, ACME_ST_UNKNOWN);
	CHECK_EQ(o.nauthz, 0);
	/* what an order must have */
	static const char *const bad[] = {
	    "{\"authorizations\":[],\"finalize\":\"https://a/f\"}",
	    "{\"status\":\"ready\",\"authorizations\":[]}",
	    "{\"status\":\"ready\",\"finalize\":\"https://a/f\"}",
	    "{\"status\":\"ready\",\"authorizations\":\"https://a/z\",\"finalize\":\"https://a/"
	    "f\"}",
	    "{\"status\":\"ready\",\"authorizations\":[1],\"finalize\":\"https://a/f\"}",
	    "{\"status\":1,\"authorizations\":[],\"finalize\":\"https://a/f\"}",
	    ("{\"status\":\"ready\",\"authorizations\":[],\"finalize\":\"https://a/f\","
	     "\"certificate\":7}"),
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = acme_order_parse(bad[i], strlen(bad[i]), &o);
		CHECK(rc == ATL_EINVAL || rc == ATL_ENOENT);
	}
	/* more authorizations than identifiers we ever ask for */
	char many[1024];
	size_t n = (size_t)sprintf(many, "{\"status\":\"pending\",\"finalize\":\"https://a/f\","
					 "\"authorizations\":[");
	for (unsigned i = 0; i <= ACME_NAMES_MAX; i++)
		n += (size_t)sprintf(many + n, "%s\"https://a/z/%u\"", i ? "," : "", i);
	sprintf(many + n, "]}");
	CHECK_EQ(acme_order_parse(many, strlen(many), &o), ATL_EMSGSIZE);
}

TEST(status_names)
{
	static const char *const names[] = {"pending", "ready",	      "processing", "valid",
					    "invalid", "deactivated", "expired",    "revoked"};
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		enum acme_status st = acme_status_parse(names[i]);
		CHECK_EQ(st, ACME_ST_PENDING + i);
		CHECK(strcmp(acme_status_name(st), names[i]) == 0);
	}
	CHECK_EQ(acme_status_parse("Valid"), ACME_ST_UNKNOWN);
	CHECK_EQ(acme_status_parse(""), ACME_ST_UNKNOWN);
	CHECK_EQ(acme_status_parse("unknown"), ACME_ST_UNKNOWN);
	CHECK(strcmp(acme_status_name((enum acme_status)99), "unknown") == 0);
}

/* RFC 8555 7.1.4's example authorization, with a dns-01 challenge
 * (8.4) and one of a type the client does not do. */
static const char authz_json[] =
    "{\n"
    "  \"status\": \"pending\",\n"
    "  \"expires\": \"2015-03-01T14:09:07.99Z\",\n"
    "  \"identifier\": { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
    "  \"challenges\": [\n"
    "    {\n"
    "      \"url\": \"https://example.com/acme/chall/prV_B7yEyA4\",\n"
    "      \"type\": \"http-01\",\n"
    "      \"status\": \"pending\",\n"
    "      \"token\": \"DGyRejmCefe7v4NfDGDKfA\"\n"
    "    },\n"
    "    {\n"
    "      \"type\": \"tls-alpn-01\",\n"
    "      \"url\": \"https://example.com/acme/chall/Tq0a6ULv-Xk\",\n"
    "      \"status\": \"pending\",\n"
    "      \"token\": \"IlirfxKKXAsHtmzK29Pj8A\"\n"
    "    },\n"
    "    {\n"
    "      \"type\": \"dns-01\",\n"
    "      \"url\": \"https://example.com/acme/chall/Rg5dV14Gh1Q\",\n"
    "      \"status\": \"pending\",\n"
    "      \"token\": \"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\"\n"
    "    }\n"
    "  ],\n"
    "  \"wildcard\": false\n"
    "}\n";

TEST(authz_with_http01_and_dns01)
{
	struct acme_authz a;
	CHECK_EQ(acme_authz_parse(authz_json, strlen(authz_json), &a), ATL_OK);
	CHECK_EQ(a.status, ACME_ST_PENDING);
	CHECK(strcmp(a.name, "www.example.org") == 0);
	CHECK(!a.wildcard);
	CHECK(a.http01.present);
	CHECK_EQ(a.http01.status, ACME_ST_PENDING);
	CHECK(strcmp(a.http01.url, "https://example.com/acme/chall/prV_B7yEyA4") == 0);
	CHECK(strcmp(a.http01.token, "DGyRejmCefe7v4NfDGDKfA") == 0);
	CHECK(a.dns01.present);
	CHECK(strcmp(a.dns01.url, "https://example.com/acme/chall/Rg5dV14Gh1Q") == 0);
	CHECK(strcmp(a.dns01.token, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA") == 0);
}

TEST(authz_wildcard_and_missing_challenges)
{
	/* RFC 8555 7.1.4: a wildcard's identifier is the base name, and
	 * only dns-01 is offered for it */
	static const char wc[] =
	    "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\",\"value\":\"example.org\"},"
	    "\"wildcard\":true,\"challenges\":[{\"type\":\"dns-01\",\"status\":\"valid\","
	    "\"url\":\"https://a/c/1\",\"token\":\"abc_-123\","
	    "\"validated\":\"2014-12-01T12:05:58.16Z\"}]}";
	struct acme_authz a;
	CHECK_EQ(acme_authz_parse(wc, strlen(wc), &a), ATL_OK);
	CHECK(a.wildcard);
	CHECK(strcmp(a.name, "example.org") == 0);
	CHECK_EQ(a.status, ACME_ST_VALID);
	CHECK(!a.http01.present);
	CHECK(a.dns01.present);
	CHECK_EQ(a.dns01.status, ACME_ST_VALID);
	static const char none[] =
	    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
	    "\"challenges\":[]}";
	CHECK_EQ(acme_authz_parse(none, strlen(none), &a), ATL_OK);
	CHECK(!a.http01.present && !a.dns01.present);
	/* the first of repeated types counts */
	static const char twice[] =
	    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
	    "\"challenges\":[{\"type\":\"http-01\",\"status\":\"pending\",\"url\":\"https://a/1\","
	    "\"token\":\"first\"},{\"type\":\"http-01\",\"status\":\"pending\","
	    "\"url\":\"https://a/2\",\"token\":\"second\"}]}";
	CHECK_EQ(acme_authz_parse(twice, strlen(twice), &a), ATL_OK);
	CHECK(strcmp(a.http01.token, "first") == 0);
	static const char *const bad[] = {
	    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"}}",
	    "{\"status\":\"pending\",\"challenges\":[]}",
	    ("{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
	     "\"wildcard\":\"yes\",\"challenges\":[]}"),
	    "{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"challenges\":[]}",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = acme_authz_parse(bad[i], strlen(bad[i]), &a);
		CHECK(rc == ATL_EINVAL || rc == ATL_ENOENT);
	}
}

static int authz_with_token(const char *type, const char *token, struct acme_authz *a)
{
	char j[512];
	snprintf(j, sizeof j,
		 "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
		 "\"challenges\":[{\"type\":\"%s\",\"status\":\"pending\","
		 "\"url\":\"https://a/c\",\"token\":\"%s\"}]}",
		 type, token);
	return acme_authz_parse(j, strlen(j), a);
}

TEST(authz_tokens_must_be_base64url)
{
	/* RFC 8555 8.3: a token holds base64url characters only, no
	 * padding; it goes into a path, a key authorization, a TXT value */
	static const char *const bad[] = {
	    "",		 "abc=",  "abc/def", "ab+c", "../../etc",   "a b",
	    "a\\u002fb", "a\\nb", "%2e%2e",  "a.b",  "tok\\u00e9n",
	};
	struct acme_authz a;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(authz_with_token("http-01", bad[i], &a), ATL_EINVAL);
		CHECK_EQ(authz_with_token("dns-01", bad[i], &a), ATL_EINVAL);
	}
	/* but only the alphabet is required: a token need not be the
	 * canonical encoding of whole bytes (length 4k+1, non-zero
	 * trailing bits) */
	static const char *const good[] = {"A", "abcde", "Zh", "-_", "x"};
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		CHECK_EQ(authz_with_token("http-01", good[i], &a), ATL_OK);
		CHECK(strcmp(a.http01.token, good[i]) == 0);
	}
	/* a token of another type is not looked at */
	CHECK_EQ(authz_with_token("tls-alpn-01", "not/base64", &a), ATL_OK);
	/* the longest token that fits, and one more */
	char t[ACME_TOKEN_MAX + 1];
	memset(t, 'T', ACME_TOKEN_MAX);
	t[ACME_TOKEN_MAX - 1] = '\0';
	CHECK_EQ(authz_with_token("http-01", t, &a), ATL_OK);
	t[ACME_TOKEN_MAX - 1] = 'T';
	t[ACME_TOKEN_MAX] = '\0';
	CHECK(authz_with_token("http-01", t, &a) < 0);
}

TEST(problem_documents)
{
	/* RFC 8555 6.7.1's example, and a bare RFC 7807 one */
	static const char p[] =
	    "{\n"
	    "  \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
	    "  \"detail\": \"Some of the identifiers requested were rejected\",\n"
	    "  \"subproblems\": [\n"
	    "    {\n"
	    "      \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
	    "      \"detail\": \"Invalid underscore in DNS name \\\"_example.org\\\"\",\n"
	    "      \"identifier\": { \"type\": \"dns\", \"value\": \"_example.org\" }\n"
	    "    }\n"
	    "  ]\n"
	    "}\n";
	char type[128], detail[128];
	CHECK_EQ(acme_problem_parse(p, strlen(p), type, sizeof type, detail, sizeof detail),
		 ATL_OK);
	CHECK(strcmp(type, "urn:ietf:params:acme:error:malformed") == 0);
	CHECK(strcmp(detail, "Some of the identifiers requested were rejected") == 0);
	static const char bad_nonce[] = "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}";
	CHECK_EQ(acme_problem_parse(bad_nonce, strlen(bad_nonce), type, sizeof type, detail,
				    sizeof detail),
		 ATL_OK);
	CHECK(strcmp(type, "urn:ietf:params:acme:error:badNonce") == 0);
	CHECK(detail[0] == '\0');
	CHECK_EQ(acme_problem_parse("{}", 2, type, sizeof type, detail, sizeof detail), ATL_OK);
	CHECK(type[0] == '\0' && detail[0] == '\0');
	/* a detail too long for the buffer is left out, not half-written */
	CHECK_EQ(acme_problem_parse(p, strlen(p), type, sizeof type, detail, 10), ATL_OK);
	CHECK(detail[0] == '\0');
	CHECK_EQ(acme_problem_parse("[]", 2, type, sizeof type, detail, sizeof detail), ATL_EINVAL);
	CHECK_EQ(acme_problem_parse("\"x\"", 3, type, sizeof type, detail, sizeof detail),
		 ATL_EINVAL);
	CHECK_EQ(acme_problem_parse("<html>", 6, type, sizeof type, detail, sizeof detail),
		 ATL_EINVAL);
	CHECK(type[0] == '\0' && detail[0] == '\0');
}

/* ---- URLs ---- */

TEST(url_split)
{
	static const struct {
		const char *url, *host, *path;
	} good[] = {
	    {"https://example.com/acme/new-nonce", "example.com", "/acme/new-nonce"},
	    {"https://localhost:14000/dir", "localhost:14000", "/dir"},
	    {"https://example.com", "example.com", "/"},
	    {"https://example.com/", "example.com", "/"},
	    {"https://example.com?x=1", "example.com", "/?x=1"},
	    {"https://example.com/a?b=c#frag", "example.com", "/a?b=c"},
	    {"https://example.com#frag", "example.com", "/"},
	    {"https://[2001:db8::1]:443/x", "[2001:db8::1]:443", "/x"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		char host[64], path[64];
		CHECK_EQ(acme_url_split(good[i].url, host, sizeof host, path, sizeof path), ATL_OK);
		CHECK(strcmp(host, good[i].host) == 0);
		CHECK(strcmp(path, good[i].path) == 0);
	}
	static const char *const bad[] = {
	    "http://example.com/",    "https:/example.com/",  "https:///x",
	    "https://user@host/",     "https://ho st/",	      "https://host/a b",
	    "https://host/a\r\nX: y", "ftp://host/",	      "",
	    "https://host/\x7f",      "https://h\xc3\xa9st/", "https://host/caf\xc3\xa9",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char host[64], path[64];
		int rc = acme_url_split(bad[i], host, sizeof host, path, sizeof path);
		if (rc != ATL_EINVAL)
			printf("#   %d for %s\n", rc, bad[i]);
		CHECK_EQ(rc, ATL_EINVAL);
	}
	char host[8], path[4], big[64];
	CHECK_EQ(acme_url_split("https://12345678/abc", host, sizeof host, big, sizeof big),
		 ATL_EMSGSIZE);
	CHECK_EQ(acme_url_split("https://123456/abc", host, sizeof host, big, sizeof big), ATL_OK);
	CHECK(strcmp(host, "123456") == 0);
	CHECK_EQ(acme_url_split("https://h/abcd", host, sizeof host, path, sizeof path),
		 ATL_EMSGSIZE);
	CHECK_EQ(acme_url_split("https://h?abc", host, sizeof host, path, sizeof path),
		 ATL_EMSGSIZE); /* the '/' added counts */
	CHECK_EQ(acme_url_split("https://h?a", host, sizeof host, path, sizeof path), ATL_OK);
	CHECK(strcmp(path, "/?a") == 0);
}

/* ---- the dns-01 update (lib/dns/notify.c, RFC 2136) ---- */

static uint8_t rmem[1 << 20] __attribute__((aligned(16)));
static struct region rg;

static void dname(const char *s, uint8_t *out)
{
	CHECK_EQ(dns_name_from_text(s, strlen(s), (const uint8_t *)"", out), ATL_OK);
}

static const char zone_text[] = "$TTL 3600\n"
				"@ SOA ns1 hostmaster 7 7200 900 1209600 300\n"
				"@ NS ns1\n"
				"ns1 A 192.0.2.1\n"
				"www A 192.0.2.80\n";

static const struct dns_rrset *find_rrset(const struct dns_zone *z, const char *owner,
					  uint16_t type)
{
	uint8_t n[DNS_NAME_MAX];
	dname(owner, n);
	const struct dns_node *nd = dns_zone_find(z, n);
	return nd ? dns_node_rrset(nd, type) : NULL;
}

/* The update RR of msg, read back with lib/dns's readers. */
static void update_read(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *zone,
			struct dns_rr *rr)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	CHECK(rd_ok(&r));
	CHECK_EQ(h.id, id);
	CHECK_EQ(DNS_OPCODE(h.flags), DNS_OP_UPDATE);
	CHECK_EQ(h.flags & DNS_F_QR, 0);
	/* RFC 2136 2.3-2.5: ZOCOUNT 1, PRCOUNT 0, UPCOUNT 1, ADCOUNT 0 */
	CHECK_EQ(h.qd, 1);
	CHECK_EQ(h.an, 0);
	CHECK_EQ(h.ns, 1);
	CHECK_EQ(h.ar, 0);
	uint8_t zn[DNS_NAME_MAX];
	CHECK_EQ(dns_name_read(&r, zn), ATL_OK);
	CHECK(dns_name_equal(zn, zone));
	CHECK_EQ(rd_be16(&r), DNS_T_SOA); /* ZTYPE */
	CHECK_EQ(rd_be16(&r), DNS_C_IN);  /* ZCLASS */
	CHECK_EQ(dns_rr_read(&r, rr), ATL_OK);
	CHECK(rd_ok(&r));
	CHECK_EQ(r.pos, len); /* nothing after it */
}

static int update_apply(const struct dns_zone *z, const uint8_t *msg, size_t len,
			struct dns_zone **nz)
{
	struct dns_zones zs = {1, {(struct dns_zone *)z}};
	const struct dns_zone *found = NULL;
	uint8_t zn[DNS_NAME_MAX];
	int rc = dns_update_zone(&zs, msg, len, &found, zn);
	if (rc != DNS_R_NOERROR)
		return rc;
	CHECK(found == z);
	struct dns_update u = {.z = found, .r = &rg};
	rc = dns_update_apply(&u, msg, len);
	*nz = u.nz;
	return rc;
}

TEST(dns_update_txt_add_and_delete)
{
	region_init_mem(&rg, rmem, sizeof rmem);
	uint8_t origin[DNS_NAME_MAX], owner[DNS_NAME_MAX];
	dname("example.test.", origin);
	dname("_acme-challenge.www.example.test.", owner);
	char err[256];
	struct dns_zone *z = NULL;
	int lrc = dns_zone_load_text_region(&rg, origin, "t", zone_text, sizeof zone_text - 1, NULL,
					    NULL, &z, err, sizeof err);
	CHECK_EQ(lrc, ATL_OK);
	if (lrc != ATL_OK) {
		printf("# %s\n", err);
		return;
	}
	uint8_t msg[512];
	size_t n = dns_update_txt_build(origin, owner, "value", 60, true, 0x4242, msg, sizeof msg);
	CHECK(n > 12);
	struct dns_rr rr;
	update_read(msg, n, 0x4242, origin, &rr);
	CHECK(dns_name_equal(rr.owner, owner));
	CHECK_EQ(rr.type, DNS_T_TXT);
	CHECK_EQ(rr.class, DNS_C_IN); /* RFC 2136 2.5.1: the zone's class */
	CHECK_EQ(rr.ttl, 60);
	CHECK_EQ(rr.rdlen, 6);
	CHECK_MEM(msg + rr.rdoff, "\x05value", 6);
	/* too small a buffer */
	uint8_t small[512];
	CHECK_EQ(dns_update_txt_build(origin, owner, "value", 60, true, 1, small, n - 1), 0);

	/* applied, the zone has the TXT record and a higher serial */
	struct dns_zone *z2 = NULL, *z3 = NULL;
	CHECK_EQ(find_rrset(z, "_acme-challenge.www.example.test.", DNS_T_TXT), NULL);
	CHECK_EQ(update_apply(z, msg, n, &z2), DNS_R_NOERROR);
	CHECK(z2 != NULL);
	if (!z2)
		return;
	const struct dns_rrset *s = find_rrset(z2, "_acme-challenge.www.example.test.", DNS_T_TXT);
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ(s->count, 1);
		CHECK_EQ(s->ttl, 60);
		CHECK_MEM(s->rdata, "\x00\x06\x05value", 8);
	}
	struct dns_soa soa;
	dns_zone_soa_fields(z2, &soa);
	CHECK_EQ(soa.serial, 8);

	/* the server's answer carries the rcode back */
	uint8_t resp[512];
	size_t rl = dns_update_response(msg, n, DNS_R_NOERROR, resp, sizeof resp);
	CHECK(rl > 0);
	CHECK_EQ(dns_update_response_parse(resp, rl, 0x4242, origin), DNS_R_NOERROR);
	CHECK_EQ(dns_update_response_parse(resp, rl, 0x4243, origin), ATL_EINVAL); /* wrong id */
	uint8_t other[DNS_NAME_MAX];
	dname("example.org.", other);
	CHECK_EQ(dns_update_response_parse(resp, rl, 0x4242, other), ATL_EINVAL); /* not ours */
	CHECK_EQ(dns_update_response_parse(msg, n, 0x4242, origin), ATL_EINVAL);  /* no QR */
	CHECK_EQ(dns_update_response_parse(resp, 11, 0x4242, origin), ATL_EINVAL);
	rl = dns_update_response(msg, n, DNS_R_REFUSED, resp, sizeof resp);
	CHECK_EQ(dns_update_response_parse(resp, rl, 0x4242, origin), DNS_R_REFUSED);
	rl = dns_update_response(msg, n, DNS_R_NOTAUTH, resp, sizeof resp);
	CHECK_EQ(dns_update_response_parse(resp, rl, 0x4242, origin), DNS_R_NOTAUTH);

	/* the delete: class NONE, TTL 0 (RFC 2136 2.5.4), the same rdata */
	n = dns_update_txt_build(origin, owner, "value", 60, false, 0x4343, msg, sizeof msg);
	CHECK(n > 12);
	update_read(msg, n, 0x4343, origin, &rr);
	CHECK(dns_name_equal(rr.owner, owner));
	CHECK_EQ(rr.type, DNS_T_TXT);
	CHECK_EQ(rr.class, DNS_C_NONE);
	CHECK_EQ(rr.ttl, 0);
	CHECK_EQ(rr.rdlen, 6);
	CHECK_MEM(msg + rr.rdoff, "\x05value", 6);
	CHECK_EQ(update_apply(z2, msg, n, &z3), DNS_R_NOERROR);
	CHECK(z3 != NULL);
	if (z3) {
		CHECK_EQ(find_rrset(z3, "_acme-challenge.www.example.test.", DNS_T_TXT), NULL);
		CHECK(find_rrset(z3, "www.example.test.", DNS_T_A) != NULL);
		dns_zone_soa_fields(z3, &soa);
		CHECK_EQ(soa.serial, 9);
	}
}

TEST(dns_update_txt_limits)
{
	uint8_t origin[DNS_NAME_MAX], owner[DNS_NAME_MAX], outside[DNS_NAME_MAX];
	dname("example.test.", origin);
	dname("_acme-challenge.example.test.", owner);
	dname("_acme-challenge.example.org.", outside);
	uint8_t msg[1024];
	CHECK_EQ(dns_update_txt_build(origin, outside, "v", 60, true, 1, msg, sizeof msg), 0);
	CHECK_EQ(dns_update_txt_build(outside, origin, "v", 60, true, 1, msg, sizeof msg), 0);
	/* the apex itself is in the zone */
	CHECK(dns_update_txt_build(origin, origin, "v", 60, true, 1, msg, sizeof msg) > 0);
	/* RFC 1035 3.3.14: one character-string holds 255 bytes at most */
	char txt[257];
	memset(txt, 'x', 256);
	txt[256] = '\0';
	CHECK_EQ(dns_update_txt_build(origin, owner, txt, 60, true, 1, msg, sizeof msg), 0);
	txt[255] = '\0';
	size_t n = dns_update_txt_build(origin, owner, txt, 60, true, 1, msg, sizeof msg);
	CHECK(n > 0);
	struct dns_rr rr;
	update_read(msg, n, 1, origin, &rr);
	CHECK_EQ(rr.rdlen, 256);
	CHECK_EQ(msg[rr.rdoff], 255);
	/* an empty string is a valid TXT */
	n = dns_update_txt_build(origin, owner, "", 60, true, 1, msg, sizeof msg);
	update_read(msg, n, 1, origin, &rr);
	CHECK_EQ(rr.rdlen, 1);
	CHECK_EQ(msg[rr.rdoff], 0);
}

TEST_MAIN(TEST_ENTRY(b64url_rfc4648_vectors), TEST_ENTRY(b64url_uses_dash_and_underscore),
	  TEST_ENTRY(b64url_decode_rejects_what_is_not_base64url),
	  TEST_ENTRY(b64url_encode_needs_room_for_the_nul), TEST_ENTRY(json_values_and_whitespace),
	  TEST_ENTRY(json_rejects_what_rfc8259_does_not_allow), TEST_ENTRY(json_nesting_is_bounded),
	  TEST_ENTRY(json_strings_unescape_to_utf8),
	  TEST_ENTRY(json_lone_surrogates_parse_but_do_not_decode),
	  TEST_ENTRY(json_string_output_size), TEST_ENTRY(json_member_lookup),
	  TEST_ENTRY(json_array_index), TEST_ENTRY(json_bool),
	  TEST_ENTRY(key_gen_is_deterministic_and_valid),
	  TEST_ENTRY(jwk_rfc7515_a3_key_in_rfc7638_form), TEST_ENTRY(jwk_of_a_generated_key),
	  TEST_ENTRY(key_authorization_and_dns01_txt), TEST_ENTRY(jws_with_jwk_for_new_account),
	  TEST_ENTRY(jws_with_kid_and_post_as_get), TEST_ENTRY(request_bodies),
	  TEST_ENTRY(csr_for_two_names), TEST_ENTRY(csr_long_names_use_long_der_lengths),
	  TEST_ENTRY(http_head_fields), TEST_ENTRY(http_head_names_are_case_insensitive),
	  TEST_ENTRY(http_head_defaults), TEST_ENTRY(http_head_incomplete_is_eagain),
	  TEST_ENTRY(http_head_malformed_is_einval),
	  TEST_ENTRY(http_head_too_long_values_are_emsgsize), TEST_ENTRY(directory),
	  TEST_ENTRY(order), TEST_ENTRY(status_names), TEST_ENTRY(authz_with_http01_and_dns01),
	  TEST_ENTRY(authz_wildcard_and_missing_challenges),
	  TEST_ENTRY(authz_tokens_must_be_base64url), TEST_ENTRY(problem_documents),
	  TEST_ENTRY(url_split), TEST_ENTRY(dns_update_txt_add_and_delete),
	  TEST_ENTRY(dns_update_txt_limits))
