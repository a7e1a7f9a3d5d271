/*
 * jws.c - the ACME core's signatures: P-256 keys, the JWK and its
 * thumbprint (RFC 7517, RFC 7638), ES256 JWS (RFC 7515, RFC 7518 3.4) and
 * the PKCS#10 CSR (RFC 2986) with its small DER writer.  Every
 * cryptographic operation is BearSSL's.
 */
#include <string.h>

#include "bearssl/bearssl.h"

#include "acme/acme.h"
#include "core/buf.h"
#include "core/err.h"

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

/* ---- keys ---- */

static br_ec_private_key key_sk(const struct acme_key *k)
{
	br_ec_private_key sk = {BR_EC_secp256r1, (unsigned char *)k->sk, sizeof k->sk};
	return sk;
}

static br_ec_public_key key_pk(const struct acme_key *k)
{
	br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)k->pub, sizeof k->pub};
	return pk;
}

int acme_key_gen(struct acme_key *k, const void *seed, size_t seed_len)
{
	if (seed_len < 32)
		return ATL_EINVAL;
	br_hmac_drbg_context drbg;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, seed_len);
	br_ec_private_key sk;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	size_t n = br_ec_keygen(&drbg.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1);
	int rc = ATL_EINVAL;
	if (n == sizeof k->sk) {
		memcpy(k->sk, kbuf, n);
		br_ec_private_key view = key_sk(k);
		br_ec_public_key pk;
		uint8_t pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
		if (br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &view) == sizeof k->pub) {
			memcpy(k->pub, pbuf, sizeof k->pub);
			rc = ATL_OK;
		}
	}
	wipe(kbuf, sizeof kbuf);
	wipe(&drbg, sizeof drbg);
	return rc;
}

int acme_key_der(const struct acme_key *k, uint8_t *out, size_t cap, size_t *len)
{
	br_ec_private_key sk = key_sk(k);
	br_ec_public_key pk = key_pk(k);
	size_t n = br_encode_ec_raw_der(NULL, &sk, &pk);
	if (n == 0)
		return ATL_EINVAL;
	if (n > cap)
		return ATL_EMSGSIZE;
	*len = br_encode_ec_raw_der(out, &sk, &pk);
	return ATL_OK;
}

void acme_key_wipe(struct acme_key *k)
{
	wipe(k, sizeof *k);
}

/* ---- text output ---- */

static void put(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s));
}

/* A JSON string: quotes, and escapes for what must be escaped. */
static void put_json_string(struct wr *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	wr_u8(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			wr_u8(w, '\\');
			wr_u8(w, c);
		} else if (c < 0x20) {
			put(w, "\\u00");
			wr_u8(w, (uint8_t)hex[c >> 4]);
			wr_u8(w, (uint8_t)hex[c & 15]);
		} else {
			wr_u8(w, c);
		}
	}
	wr_u8(w, '"');
}

static void put_b64url(struct wr *w, const void *p, size_t n)
{
	size_t need = acme_b64url_len(n);
	uint8_t *dst = wr_take(w, need + 1);
	if (dst) {
		acme_b64url_encode(p, n, (char *)dst, need + 1, NULL);
		w->pos--; /* the NUL is not part of the text */
	}
}

/* End the text in w with a NUL (not counted in *len). */
static int finish(struct wr *w, size_t *len)
{
	wr_u8(w, 0);
	if (!wr_ok(w))
		return ATL_EMSGSIZE;
	if (len)
		*len = w->pos - 1;
	return ATL_OK;
}

/* ---- JWK, thumbprint, key authorization ---- */

int acme_jwk(const struct acme_key *k, char *out, size_t cap, size_t *len)
{
	/* RFC 7638 3.2/3.3: the required members only, in lexicographic
	 * order, no whitespace */
	struct wr w = wr_make(out, cap);
	put(&w, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
	put_b64url(&w, k->pub + 1, 32);
	put(&w, "\",\"y\":\"");
	put_b64url(&w, k->pub + 33, 32);
	put(&w, "\"}");
	return finish(&w, len);
}

int acme_jwk_thumbprint(const struct acme_key *k, char out[ACME_THUMB_LEN + 1])
{
	char jwk[160];
	size_t n;
	int rc = acme_jwk(k, jwk, sizeof jwk, &n);
	if (rc != ATL_OK)
		return rc;
	br_sha256_context h;
	uint8_t d[32];
	br_sha256_init(&h);
	br_sha256_update(&h, jwk, n);
	br_sha256_out(&h, d);
	return acme_b64url_encode(d, sizeof d, out, ACME_THUMB_LEN + 1, NULL);
}

int acme_key_authorization(const char *token, const struct acme_key *k, char *out, size_t cap)
{
	char tp[ACME_THUMB_LEN + 1];
	int rc = acme_jwk_thumbprint(k, tp);
	if (rc != ATL_OK)
		return rc;
	struct wr w = wr_make(out, cap);
	put(&w, token);
	wr_u8(&w, '.');
	put(&w, tp);
	return finish(&w, NULL);
}

int acme_dns01_txt(const char *keyauth, char out[ACME_THUMB_LEN + 1])
{
	br_sha256_context h;
	uint8_t d[32];
	br_sha256_init(&h);
	br_sha256_update(&h, keyauth, strlen(keyauth));
	br_sha256_out(&h, d);
	return acme_b64url_encode(d, sizeof d, out, ACME_THUMB_LEN + 1, NULL);
}

/* ---- JWS ---- */

int acme_jws(const struct acme_key *k, const char *kid, const char *nonce, const char *url,
	     const char *payload, size_t plen, char *out, size_t cap, size_t *len)
{
	char prot[ACME_URL_MAX * 2 + ACME_NONCE_MAX + 256];
	struct wr h = wr_make(prot, sizeof prot);
	put(&h, "{\"alg\":\"ES256\",");
	if (kid) {
		put(&h, "\"kid\":");
		put_json_string(&h, kid);
	} else {
		char jwk[160];
		if (acme_jwk(k, jwk, sizeof jwk, NULL) != ATL_OK)
			return ATL_EINVAL;
		put(&h, "\"jwk\":");
		put(&h, jwk);
	}
	put(&h, ",\"nonce\":");
	put_json_string(&h, nonce);
	put(&h, ",\"url\":");
	put_json_string(&h, url);
	put(&h, "}");
	if (!wr_ok(&h))
		return ATL_EMSGSIZE;

	struct wr w = wr_make(out, cap);
	put(&w, "{\"protected\":\"");
	size_t ps = w.pos;
	put_b64url(&w, prot, h.pos);
	size_t pe = w.pos;
	put(&w, "\",\"payload\":\"");
	size_t ys = w.pos;
	put_b64url(&w, payload, plen);
	size_t ye = w.pos;
	put(&w, "\",\"signature\":\"");
	if (!wr_ok(&w))
		return ATL_EMSGSIZE;

	/* RFC 7515 5.1: the signing input is ASCII(protected "." payload) */
	br_sha256_context sh;
	uint8_t d[32], sig[64];
	br_sha256_init(&sh);
	br_sha256_update(&sh, out + ps, pe - ps);
	br_sha256_update(&sh, ".", 1);
	br_sha256_update(&sh, out + ys, ye - ys);
	br_sha256_out(&sh, d);
	br_ec_private_key sk = key_sk(k);
	/* RFC 7518 3.4: R and S, 32 bytes each, not DER */
	if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, d, &sk, sig) != sizeof sig)
		return ATL_EINVAL;
	put_b64url(&w, sig, sizeof sig);
	put(&w, "\"}");
	return finish(&w, len);
}

/* ---- DER ---- */

/* Begin a TLV of tag: the tag and a one-byte length placeholder; the
 * content follows, then der_end fixes the length. */
static size_t der_begin(struct wr *w, uint8_t tag)
{
	wr_u8(w, tag);
	size_t at = w->pos;
	wr_u8(w, 0);
	return at;
}

static void der_end(struct wr *w, size_t at)
{
	if (!wr_ok(w))
		return;
	size_t n = w->pos - at - 1;
	if (n < 128) {
		w->data[at] = (uint8_t)n;
		return;
	}
	/* X.690 8.1.3.5: the long form, the content moved up */
	size_t k = n < 256 ? 1 : n < 65536 ? 2 : 3;
	if (!wr_take(w, k))
		return;
	memmove(w->data + at + 1 + k, w->data + at + 1, n);
	w->data[at] = (uint8_t)(0x80 | k);
	for (size_t i = 0; i < k; i++)
		w->data[at + 1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
}

static void der_raw(struct wr *w, uint8_t tag, const void *p, size_t n)
{
	size_t at = der_begin(w, tag);
	wr_bytes(w, p, n);
	der_end(w, at);
}

#define DER_INTEGER   0x02
#define DER_BITSTRING 0x03
#define DER_OCTETS    0x04
#define DER_OID	      0x06
#define DER_UTF8      0x0c
#define DER_SEQUENCE  0x30
#define DER_SET	      0x31
#define DER_CTX0      0xa0 /* [0] constructed */
#define DER_DNSNAME   0x82 /* [2] primitive: GeneralName dNSName */

static const uint8_t oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_prime256v1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_common_name[] = {0x55, 0x04, 0x03};
static const uint8_t oid_extension_request[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
						0x0d, 0x01, 0x09, 0x0e};
static const uint8_t oid_subject_alt_name[] = {0x55, 0x1d, 0x11};

/* RFC 2986 4.1: CertificationRequestInfo. */
static void csr_info(struct wr *w, const struct acme_key *k, const char *const *names, unsigned n)
{
	size_t info = der_begin(w, DER_SEQUENCE);
	der_raw(w, DER_INTEGER, "\0", 1); /* version 0 */

	/* subject: CN= the first name that fits RFC 5280's ub-common-name
	 * (64): a CA refuses a longer CN, and RFC 8555 7.4 needs none, the
	 * names being in the subjectAltName; no such name, an empty subject */
	const char *cn = NULL;
	for (unsigned i = 0; i < n && !cn; i++)
		if (strlen(names[i]) <= 64)
			cn = names[i];
	size_t subj = der_begin(w, DER_SEQUENCE);
	if (cn) {
		size_t rdn = der_begin(w, DER_SET);
		size_t atv = der_begin(w, DER_SEQUENCE);
		der_raw(w, DER_OID, oid_common_name, sizeof oid_common_name);
		der_raw(w, DER_UTF8, cn, strlen(cn));
		der_end(w, atv);
		der_end(w, rdn);
	}
	der_end(w, subj);

	/* subjectPKInfo (RFC 5480 2) */
	size_t spki = der_begin(w, DER_SEQUENCE);
	size_t alg = der_begin(w, DER_SEQUENCE);
	der_raw(w, DER_OID, oid_ec_public_key, sizeof oid_ec_public_key);
	der_raw(w, DER_OID, oid_prime256v1, sizeof oid_prime256v1);
	der_end(w, alg);
	size_t bits = der_begin(w, DER_BITSTRING);
	wr_u8(w, 0); /* no unused bits */
	wr_bytes(w, k->pub, sizeof k->pub);
	der_end(w, bits);
	der_end(w, spki);

	/* attributes [0]: extensionRequest (RFC 2985 5.4.2) with the
	 * subjectAltName extension (RFC 5280 4.2.1.6) */
	size_t attrs = der_begin(w, DER_CTX0);
	size_t attr = der_begin(w, DER_SEQUENCE);
	der_raw(w, DER_OID, oid_extension_request, sizeof oid_extension_request);
	size_t vals = der_begin(w, DER_SET);
	size_t exts = der_begin(w, DER_SEQUENCE);
	size_t ext = der_begin(w, DER_SEQUENCE);
	der_raw(w, DER_OID, oid_subject_alt_name, sizeof oid_subject_alt_name);
	size_t oct = der_begin(w, DER_OCTETS);
	size_t gns = der_begin(w, DER_SEQUENCE);
	for (unsigned i = 0; i < n; i++)
		der_raw(w, DER_DNSNAME, names[i], strlen(names[i]));
	der_end(w, gns);
	der_end(w, oct);
	der_end(w, ext);
	der_end(w, exts);
	der_end(w, vals);
	der_end(w, attr);
	der_end(w, attrs);
	der_end(w, info);
}

int acme_csr(const struct acme_key *k, const char *const *names, unsigned n, uint8_t *out,
	     size_t cap, size_t *len)
{
	if (n == 0 || n > ACME_NAMES_MAX)
		return ATL_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (l == 0 || l > ACME_NAME_MAX)
			return ATL_EINVAL;
	}
	struct wr w = wr_make(out, cap);
	size_t req = der_begin(&w, DER_SEQUENCE);
	size_t info_at = w.pos;
	csr_info(&w, k, names, n);
	if (!wr_ok(&w))
		return ATL_EMSGSIZE;
	size_t info_len = w.pos - info_at;

	br_sha256_context sh;
	uint8_t d[32], sig[80];
	br_sha256_init(&sh);
	br_sha256_update(&sh, out + info_at, info_len);
	br_sha256_out(&sh, d);
	br_ec_private_key sk = key_sk(k);
	size_t sl = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, d, &sk, sig);
	if (sl == 0)
		return ATL_EINVAL;

	/* RFC 5758 3.2: ecdsa-with-SHA256 has no parameters */
	size_t alg = der_begin(&w, DER_SEQUENCE);
	der_raw(&w, DER_OID, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
	der_end(&w, alg);
	size_t bits = der_begin(&w, DER_BITSTRING);
	wr_u8(&w, 0);
	wr_bytes(&w, sig, sl);
	der_end(&w, bits);
	der_end(&w, req);
	if (!wr_ok(&w))
		return ATL_EMSGSIZE;
	*len = w.pos;
	return ATL_OK;
}
