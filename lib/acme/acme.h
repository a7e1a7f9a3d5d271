/*
 * acme.h - the I/O-free core of an ACME client (RFC 8555): what a
 * client writes to an ACME server and how it reads the answers.
 *
 * Nothing here does I/O, reads a clock or allocates: the caller owns
 * every buffer, brings the entropy (key generation) and moves the bytes
 * (apps/web/acme.c runs it over lib/tls).  Every cryptographic operation
 * is BearSSL's: P-256 keys (br_ec_keygen), ES256 signatures
 * (br_ecdsa_i31_sign_raw over br_sha256), the CSR's ECDSA signature.
 *
 * Pieces:
 *  - base64url without padding (RFC 4648 5, as RFC 7515 2 uses it);
 *  - a small JSON reader over spans of the caller's text, bounded in
 *    depth, enough for the directory, account, order, authorization,
 *    challenge and problem objects;
 *  - keys, the JWK (RFC 7517) and its thumbprint (RFC 7638), the key
 *    authorization (RFC 8555 8.1), JWS in flattened JSON (RFC 7515 7.2.2,
 *    RFC 8555 6.2);
 *  - a PKCS#10 CSR (RFC 2986) for DNS names, with a subjectAltName
 *    extension request (RFC 8555 7.4);
 *  - the request bodies and the parsing of HTTP response heads and of
 *    the server's objects.
 *
 * Errors: ATL_OK, or a negative ATL_E* value (core/err.h): ATL_EINVAL for
 * malformed input, ATL_EMSGSIZE when an output buffer is too small,
 * ATL_ENOENT for an absent member.  Output strings are NUL-terminated.
 */
#ifndef ATOLL_ACME_ACME_H
#define ATOLL_ACME_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_URL_MAX	 384 /* a URL the server gives */
#define ACME_NONCE_MAX	 128 /* a Replay-Nonce (RFC 8555 6.5.1: base64url) */
#define ACME_TOKEN_MAX	 128 /* an http-01 token */
#define ACME_NAME_MAX	 254 /* a DNS name, without the root dot */
#define ACME_NAMES_MAX	 8   /* identifiers in one order */
#define ACME_THUMB_LEN	 43  /* base64url of a SHA-256 */
#define ACME_KEYAUTH_MAX (ACME_TOKEN_MAX + 1 + ACME_THUMB_LEN + 1)
#define ACME_JSON_DEPTH	 16 /* nesting the reader follows */

/* ---- base64url ---- */

/* Characters base64url takes for n bytes (no padding). */
size_t acme_b64url_len(size_t n);
/* n bytes of src as base64url into out (cap bytes, NUL included);
 * *len (may be NULL) is the length without the NUL. */
int acme_b64url_encode(const void *src, size_t n, char *out, size_t cap, size_t *len);
/* Decode n characters (no padding, no whitespace); ATL_EINVAL for any
 * other character or an impossible length. */
int acme_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len);

/* ---- JSON ---- */

/* A JSON value as the text it spans in the caller's buffer. */
struct acme_span {
	const char *p;
	size_t n;
};

/* The whole of text[0..n) as one value (whitespace around it allowed);
 * ATL_EINVAL if it is not exactly one well-formed value. */
int acme_json_parse(const char *text, size_t n, struct acme_span *v);
/* The value of member key of object obj (the first, if repeated);
 * ATL_ENOENT if absent, ATL_EINVAL if obj is not an object. */
int acme_json_member(struct acme_span obj, const char *key, struct acme_span *val);
/* Element i of array arr; ATL_ENOENT past its end. */
int acme_json_index(struct acme_span arr, unsigned i, struct acme_span *val);
/* A string value unescaped (\uXXXX as UTF-8) into out. */
int acme_json_string(struct acme_span v, char *out, size_t cap);
/* acme_json_member then acme_json_string. */
int acme_json_get_string(struct acme_span obj, const char *key, char *out, size_t cap);
/* true/false; ATL_EINVAL for anything else. */
int acme_json_bool(struct acme_span v, bool *out);

/* ---- keys, JWK, JWS ---- */

/* A P-256 key pair: the secret scalar and the uncompressed point. */
struct acme_key {
	uint8_t sk[32];
	uint8_t pub[65];
};

/* A new key from seed (at least 32 unpredictable bytes, the caller's). */
int acme_key_gen(struct acme_key *k, const void *seed, size_t seed_len);
/* The key as DER (RFC 5915 ECPrivateKey, what tls_cred_load takes). */
int acme_key_der(const struct acme_key *k, uint8_t *out, size_t cap, size_t *len);
/* Zero the key. */
void acme_key_wipe(struct acme_key *k);

/* The public JWK in RFC 7638 3.2's canonical form:
 * {"crv":"P-256","kty":"EC","x":"...","y":"..."}. */
int acme_jwk(const struct acme_key *k, char *out, size_t cap, size_t *len);
/* The RFC 7638 thumbprint, base64url (ACME_THUMB_LEN characters). */
int acme_jwk_thumbprint(const struct acme_key *k, char out[ACME_THUMB_LEN + 1]);
/* RFC 8555 8.1: token "." thumbprint. */
int acme_key_authorization(const char *token, const struct acme_key *k, char *out, size_t cap);
/* RFC 8555 8.4: the TXT record's value for a dns-01 key authorization,
 * base64url(SHA-256(keyauth)), ACME_THUMB_LEN characters. */
int acme_dns01_txt(const char *keyauth, char out[ACME_THUMB_LEN + 1]);

/*
 * A JWS in flattened JSON serialization signed ES256 with k (RFC 8555
 * 6.2): protected header {"alg":"ES256","jwk"|"kid",...,"nonce","url"}
 * (jwk when kid is NULL: newAccount), payload[0..plen) (plen 0 with
 * payload NULL: POST-as-GET, RFC 8555 6.3, an empty payload).
 */
int acme_jws(const struct acme_key *k, const char *kid, const char *nonce, const char *url,
	     const char *payload, size_t plen, char *out, size_t cap, size_t *len);

/* ---- CSR ---- */

/* A PKCS#10 request (DER) for names[0..n) (subject CN the first name of
 * at most 64 bytes, none if there is none; every name a dNSName of the
 * subjectAltName extension), with k's public key, signed
 * ecdsa-with-SHA256 by k. */
int acme_csr(const struct acme_key *k, const char *const *names, unsigned n, uint8_t *out,
	     size_t cap, size_t *len);

/* ---- request bodies (the JWS payloads) ---- */

/* {"termsOfServiceAgreed":true} (with "contact":["mailto:..."] if given). */
int acme_body_new_account(const char *email, char *out, size_t cap, size_t *len);
/* {"identifiers":[{"type":"dns","value":...},...]} */
int acme_body_new_order(const char *const *names, unsigned n, char *out, size_t cap, size_t *len);
/* {"csr":"<base64url of der>"} */
int acme_body_finalize(const uint8_t *der, size_t der_len, char *out, size_t cap, size_t *len);

/* ---- answers ---- */

/* An HTTP/1.1 response head, the fields ACME needs. */
struct acme_http_resp {
	int status;
	size_t head_len;	 /* bytes of the head, blank line included */
	uint64_t content_length; /* UINT64_MAX: not given */
	bool chunked;
	uint64_t retry_after; /* seconds, 0: not given (RFC 9110 10.2.3; delta form) */
	char location[ACME_URL_MAX];
	char nonce[ACME_NONCE_MAX]; /* Replay-Nonce, "" if none */
	char content_type[64];
};

/* Parse the head at buf[0..len): ATL_OK, ATL_EAGAIN (not all there yet),
 * ATL_EINVAL (malformed; a Location or Replay-Nonce too long is
 * ATL_EMSGSIZE). */
int acme_http_head(const uint8_t *buf, size_t len, struct acme_http_resp *r);

enum acme_status {
	ACME_ST_UNKNOWN,
	ACME_ST_PENDING,
	ACME_ST_READY,
	ACME_ST_PROCESSING,
	ACME_ST_VALID,
	ACME_ST_INVALID,
	ACME_ST_DEACTIVATED,
	ACME_ST_EXPIRED,
	ACME_ST_REVOKED,
};
enum acme_status acme_status_parse(const char *s);
const char *acme_status_name(enum acme_status st);

/* RFC 8555 7.1.1 */
struct acme_directory {
	char new_nonce[ACME_URL_MAX];
	char new_account[ACME_URL_MAX];
	char new_order[ACME_URL_MAX];
};
int acme_directory_parse(const char *json, size_t n, struct acme_directory *d);

/* RFC 8555 7.1.3 */
struct acme_order {
	enum acme_status status;
	unsigned nauthz;
	char authz[ACME_NAMES_MAX][ACME_URL_MAX];
	char finalize[ACME_URL_MAX];
	char certificate[ACME_URL_MAX]; /* "" until valid */
};
int acme_order_parse(const char *json, size_t n, struct acme_order *o);

/* A challenge of an authorization (RFC 8555 7.1.5, 8). */
struct acme_chall {
	bool present; /* false: the server offers none of this type */
	enum acme_status status;
	char url[ACME_URL_MAX];
	char token[ACME_TOKEN_MAX]; /* base64url, checked */
};

/* RFC 8555 7.1.4, with its http-01 (8.3) and dns-01 (8.4) challenges. */
struct acme_authz {
	enum acme_status status;
	char name[ACME_NAME_MAX + 1]; /* identifier value */
	bool wildcard;
	struct acme_chall http01, dns01;
};
int acme_authz_parse(const char *json, size_t n, struct acme_authz *a);

/* A problem document (RFC 7807, RFC 8555 6.7): its type and detail ("" if
 * absent); ATL_EINVAL if json is no object. */
int acme_problem_parse(const char *json, size_t n, char *type, size_t tcap, char *detail,
		       size_t dcap);

/* "https://host[:port]/path": host (with the port) and the path ("/" at
 * least) of url.  ATL_EINVAL for other schemes. */
int acme_url_split(const char *url, char *host, size_t hcap, char *path, size_t pcap);

#endif
