/*
 * crypto.c - lib/tls's cryptography, composed from BearSSL's primitives:
 * the suite table, the transcript hash, the TLS 1.3 key schedule (HKDF,
 * RFC 5869 / RFC 8446 7.1), the TLS 1.2 PRF (RFC 5246 5), AEAD record
 * protection for both versions, and ECDHE.  Nothing here allocates or
 * keeps state outside the caller's structs; temporaries holding secrets
 * are wiped before return.
 */
#include <string.h>

#include "core/err.h"
#include "tls/tls_int.h"

void tls_wipe(void *p, size_t n)
{
	/* Stores through a volatile pointer may not be elided as dead. */
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

int tls_ct_eq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint32_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint32_t)(x[i] ^ y[i]);
	/* d is 0..255: (d - 1) has bit 31 set exactly when d == 0. */
	return (int)((d - 1) >> 31);
}

/* ---- suites ------------------------------------------------------------ */

static const struct tls_suite_info suites[] = {
    {TLS_AES_128_GCM_SHA256, TLS_V13, TLS_CIPHER_AES128_GCM, &br_sha256_vtable, 0},
    {TLS_AES_256_GCM_SHA384, TLS_V13, TLS_CIPHER_AES256_GCM, &br_sha384_vtable, 0},
    {TLS_CHACHA20_POLY1305_SHA256, TLS_V13, TLS_CIPHER_CHACHA20, &br_sha256_vtable, 0},
    {TLS_ECDHE_ECDSA_AES128_GCM, TLS_V12, TLS_CIPHER_AES128_GCM, &br_sha256_vtable, TLS_KEY_EC},
    {TLS_ECDHE_ECDSA_AES256_GCM, TLS_V12, TLS_CIPHER_AES256_GCM, &br_sha384_vtable, TLS_KEY_EC},
    {TLS_ECDHE_RSA_AES128_GCM, TLS_V12, TLS_CIPHER_AES128_GCM, &br_sha256_vtable, TLS_KEY_RSA},
    {TLS_ECDHE_RSA_AES256_GCM, TLS_V12, TLS_CIPHER_AES256_GCM, &br_sha384_vtable, TLS_KEY_RSA},
    {TLS_ECDHE_RSA_CHACHA20, TLS_V12, TLS_CIPHER_CHACHA20, &br_sha256_vtable, TLS_KEY_RSA},
    {TLS_ECDHE_ECDSA_CHACHA20, TLS_V12, TLS_CIPHER_CHACHA20, &br_sha256_vtable, TLS_KEY_EC},
};

const struct tls_suite_info *tls_suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

/* ---- transcript ---------------------------------------------------------- */

void tls_transcript_init(struct tls_transcript *t)
{
	br_sha256_init(&t->s256);
	br_sha384_init(&t->s384);
}

void tls_transcript_update(struct tls_transcript *t, const void *data, size_t len)
{
	br_sha256_update(&t->s256, data, len);
	br_sha384_update(&t->s384, data, len);
}

size_t tls_transcript_hash(const struct tls_transcript *t, const br_hash_class *h, uint8_t *out)
{
	/* br_shaX_out computes the value from a copy: the running state is
	 * untouched, so the hash can be taken at every handshake step. */
	if (h == &br_sha384_vtable) {
		br_sha384_out(&t->s384, out);
		return br_sha384_SIZE;
	}
	br_sha256_out(&t->s256, out);
	return br_sha256_SIZE;
}

void tls_transcript_hrr_restart(struct tls_transcript *t, const br_hash_class *h)
{
	/* RFC 8446 4.4.1: ClientHello1 is replaced by the synthetic message
	 * message_hash(254) 00 00 Hash.length Hash(ClientHello1).  Both
	 * contexts restart, each with its own hash, so either can still be
	 * the one the suite names (h is the suite's; both are kept
	 * consistent). */
	uint8_t d256[br_sha256_SIZE], d384[br_sha384_SIZE];
	uint8_t hdr[4] = {TLS_HS_MESSAGE_HASH, 0, 0, 0};

	(void)h;
	br_sha256_out(&t->s256, d256);
	br_sha384_out(&t->s384, d384);
	tls_transcript_init(t);
	hdr[3] = br_sha256_SIZE;
	br_sha256_update(&t->s256, hdr, 4);
	br_sha256_update(&t->s256, d256, sizeof d256);
	hdr[3] = br_sha384_SIZE;
	br_sha384_update(&t->s384, hdr, 4);
	br_sha384_update(&t->s384, d384, sizeof d384);
}

/* ---- key schedules ---------------------------------------------------------- */

size_t tls_hash_len(const br_hash_class *h)
{
	return (size_t)(h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static void hmac(const br_hash_class *h, const uint8_t *key, size_t key_len, const uint8_t *data,
		 size_t len, uint8_t *out)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, h, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, data, len);
	br_hmac_out(&hc, out);
	tls_wipe(&kc, sizeof kc);
	tls_wipe(&hc, sizeof hc);
}

void tls_hkdf_extract(const br_hash_class *h, const uint8_t *salt, size_t salt_len,
		      const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
	static const uint8_t zeros[TLS_MAX_HASH];
	size_t hl = tls_hash_len(h);

	/* RFC 5869 2.2: no salt is HashLen zeros; RFC 8446 7.1: an absent
	 * IKM (no PSK, no (EC)DHE) is HashLen zeros as well. */
	if (salt == NULL || salt_len == 0) {
		salt = zeros;
		salt_len = hl;
	}
	if (ikm == NULL || ikm_len == 0) {
		ikm = zeros;
		ikm_len = hl;
	}
	hmac(h, salt, salt_len, ikm, ikm_len, out);
}

void tls_hkdf_expand_label(const br_hash_class *h, const uint8_t *secret, const char *label,
			   const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	/* RFC 8446 7.1: info = HkdfLabel { uint16 length; opaque label<7..255>
	 * = "tls13 " + Label; opaque context<0..255> }, fed to RFC 5869 2.3's
	 * T(i) = HMAC(PRK, T(i-1) | info | i) piece by piece, so no buffer
	 * bounds the label or the context. */
	static const char prefix[] = "tls13 ";
	size_t hl = tls_hash_len(h), llen = strlen(label), done = 0;
	uint8_t t[TLS_MAX_HASH], hdr[3], b;
	br_hmac_key_context kc;
	br_hmac_context hc;

	hdr[0] = (uint8_t)(out_len >> 8);
	hdr[1] = (uint8_t)out_len;
	hdr[2] = (uint8_t)(sizeof prefix - 1 + llen);
	br_hmac_key_init(&kc, h, secret, hl);
	for (uint8_t i = 1; done < out_len; i++) {
		size_t n = out_len - done < hl ? out_len - done : hl;

		br_hmac_init(&hc, &kc, 0);
		if (i > 1)
			br_hmac_update(&hc, t, hl);
		br_hmac_update(&hc, hdr, sizeof hdr);
		br_hmac_update(&hc, prefix, sizeof prefix - 1);
		br_hmac_update(&hc, label, llen);
		b = (uint8_t)ctx_len;
		br_hmac_update(&hc, &b, 1);
		if (ctx_len)
			br_hmac_update(&hc, ctx, ctx_len);
		br_hmac_update(&hc, &i, 1);
		br_hmac_out(&hc, t);
		memcpy(out + done, t, n);
		done += n;
	}
	tls_wipe(t, sizeof t);
	tls_wipe(&kc, sizeof kc);
	tls_wipe(&hc, sizeof hc);
}

void tls_derive_secret(const br_hash_class *h, const uint8_t *secret, const char *label,
		       const uint8_t *thash, uint8_t *out)
{
	size_t hl = tls_hash_len(h);
	tls_hkdf_expand_label(h, secret, label, thash, hl, out, hl);
}

void tls13_next_secret(const br_hash_class *h, const uint8_t *prev, const uint8_t *ikm,
		       size_t ikm_len, uint8_t *out)
{
	/* RFC 8446 7.1: each stage's salt is Derive-Secret(previous,
	 * "derived", "").  out may be prev: the salt is taken first. */
	uint8_t empty[TLS_MAX_HASH], salt[TLS_MAX_HASH];
	br_hash_compat_context hc;
	size_t hl = tls_hash_len(h);

	if (prev == NULL) {
		tls_hkdf_extract(h, NULL, 0, ikm, ikm_len, out);
		return;
	}
	h->init(&hc.vtable);
	h->out(&hc.vtable, empty);
	tls_derive_secret(h, prev, "derived", empty, salt);
	tls_hkdf_extract(h, salt, hl, ikm, ikm_len, out);
	tls_wipe(salt, sizeof salt);
}

void tls13_finished(const br_hash_class *h, const uint8_t *base, const uint8_t *thash, uint8_t *out)
{
	/* RFC 8446 4.4.4 (and 4.2.11.2 for binders, with base = binder_key). */
	uint8_t fk[TLS_MAX_HASH];
	size_t hl = tls_hash_len(h);

	tls_hkdf_expand_label(h, base, "finished", NULL, 0, fk, hl);
	hmac(h, fk, hl, thash, hl, out);
	tls_wipe(fk, sizeof fk);
}

void tls13_update_secret(const br_hash_class *h, uint8_t *secret)
{
	uint8_t next[TLS_MAX_HASH];
	size_t hl = tls_hash_len(h);

	tls_hkdf_expand_label(h, secret, "traffic upd", NULL, 0, next, hl);
	memcpy(secret, next, hl);
	tls_wipe(next, sizeof next);
}

void tls12_prf(const br_hash_class *h, const uint8_t *secret, size_t secret_len, const char *label,
	       const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
	       uint8_t *out, size_t out_len)
{
	/* RFC 5246 5: PRF = P_hash(secret, label + seed); BearSSL's
	 * implementation takes the seed in chunks. */
	br_tls_prf_seed_chunk seed[2] = {{seed1, seed1_len}, {seed2, seed2_len}};

	if (h == &br_sha384_vtable)
		br_tls12_sha384_prf(out, out_len, secret, secret_len, label, 2, seed);
	else
		br_tls12_sha256_prf(out, out_len, secret, secret_len, label, 2, seed);
}

void tls12_master_secret(const br_hash_class *h, const uint8_t *pms, size_t pms_len, bool ems,
			 const uint8_t *session_hash, size_t sh_len, const uint8_t cr[32],
			 const uint8_t sr[32], uint8_t master[48])
{
	if (ems) /* RFC 7627 4 */
		tls12_prf(h, pms, pms_len, "extended master secret", session_hash, sh_len, NULL, 0,
			  master, 48);
	else /* RFC 5246 8.1 */
		tls12_prf(h, pms, pms_len, "master secret", cr, 32, sr, 32, master, 48);
}

void tls12_finished(const br_hash_class *h, const uint8_t master[48], bool client,
		    const uint8_t *thash, size_t thash_len, uint8_t out[12])
{
	/* RFC 5246 7.4.9 */
	tls12_prf(h, master, 48, client ? "client finished" : "server finished", thash, thash_len,
		  NULL, 0, out, 12);
}

/* ---- record protection ---------------------------------------------------------- */

#define TAG_LEN	     16
#define EXPLICIT_LEN 8

static size_t cipher_key_len(enum tls_cipher c)
{
	return c == TLS_CIPHER_AES128_GCM ? 16 : 32;
}

/*
 * The fastest of BearSSL's implementations this CPU runs: AES-NI CTR and
 * PCLMULQDQ GHASH, SSE2 ChaCha20 and the 64-bit-multiply Poly1305, else
 * the constant-time portable ones.  Each _get is a CPUID, a VM exit under
 * a hypervisor, so the answer is taken once, not per key or per record.
 */
static struct {
	bool picked;
	const br_block_ctr_class *ctr; /* NULL: ct64 */
	br_ghash ghash;
	br_poly1305_run poly;
	br_chacha20_run chacha;
} cpu;

static void cpu_pick(void)
{
	if (cpu.picked)
		return;
	cpu.ctr = br_aes_x86ni_ctr_get_vtable();
	cpu.ghash = br_ghash_pclmul_get();
	if (cpu.ghash == 0)
		cpu.ghash = br_ghash_ctmul64;
	cpu.poly = br_poly1305_ctmulq_get();
	if (cpu.poly == 0)
		cpu.poly = br_poly1305_ctmul_run;
	cpu.chacha = br_chacha20_sse2_get();
	if (cpu.chacha == 0)
		cpu.chacha = br_chacha20_ct_run;
	cpu.picked = true;
}

static void aead_keys(struct tls_aead *a, const struct tls_suite_info *s, const uint8_t *key)
{
	size_t klen = cipher_key_len(s->cipher);

	a->on = true;
	a->cipher = s->cipher;
	a->seq = 0;
	memset(a->key, 0, sizeof a->key);
	memcpy(a->key, key, klen);
	if (s->cipher == TLS_CIPHER_CHACHA20)
		return;
	cpu_pick();
	a->ctr = cpu.ctr;
	if (a->ctr != NULL)
		a->ctr->init(&a->aes.ni.vtable, key, klen);
	else {
		a->ctr = &br_aes_ct64_ctr_vtable;
		a->ctr->init(&a->aes.ct64.vtable, key, klen);
	}
	a->ghash = cpu.ghash;
}

void tls13_aead_init(struct tls_aead *a, const struct tls_suite_info *s, const uint8_t *secret)
{
	/* RFC 8446 7.3: key = Expand-Label(secret, "key", "", key_length),
	 * iv = Expand-Label(secret, "iv", "", 12). */
	uint8_t key[32];

	tls_hkdf_expand_label(s->hash, secret, "key", NULL, 0, key, cipher_key_len(s->cipher));
	tls_hkdf_expand_label(s->hash, secret, "iv", NULL, 0, a->iv, sizeof a->iv);
	a->version = TLS_V13;
	aead_keys(a, s, key);
	tls_wipe(key, sizeof key);
}

void tls12_aead_init(struct tls_aead *a, const struct tls_suite_info *s, const uint8_t *key,
		     const uint8_t *iv)
{
	/* RFC 5288 3: GCM's implicit part is a 4-byte salt; RFC 7905 2:
	 * ChaCha20-Poly1305 takes a 12-byte IV. */
	memset(a->iv, 0, sizeof a->iv);
	memcpy(a->iv, iv, s->cipher == TLS_CIPHER_CHACHA20 ? 12 : 4);
	a->version = TLS_V12;
	aead_keys(a, s, key);
}

size_t tls_aead_prefix(const struct tls_aead *a)
{
	return a->on && a->version == TLS_V12 && a->cipher != TLS_CIPHER_CHACHA20 ? EXPLICIT_LEN
										  : 0;
}

size_t tls_aead_suffix(const struct tls_aead *a)
{
	if (!a->on)
		return 0;
	return TAG_LEN + (a->version == TLS_V13 ? 1 : 0);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The per-record nonce: RFC 8446 5.3 and RFC 7905 2 XOR the sequence
 * number (left-padded to 12 bytes) into the IV; RFC 5288 3 puts the
 * 8-byte explicit part after the 4-byte salt. */
static void record_nonce(const struct tls_aead *a, const uint8_t *explicit_nonce, uint8_t nonce[12])
{
	uint8_t s[8];

	memcpy(nonce, a->iv, 12);
	if (explicit_nonce != NULL) {
		memcpy(nonce + 4, explicit_nonce, 8);
		return;
	}
	put_u64(s, a->seq);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

/* RFC 5246 6.2.3.3: additional_data = seq_num + type + version + length. */
static void tls12_aad(const struct tls_aead *a, uint8_t type, const uint8_t ver[2], size_t len,
		      uint8_t aad[13])
{
	put_u64(aad, a->seq);
	aad[8] = type;
	aad[9] = ver[0];
	aad[10] = ver[1];
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

/* Encrypts (or decrypts) data in place and computes the tag over the
 * ciphertext.  The AES key schedule stays in a; the GCM context, which
 * points at it, lives only for the one record. */
static void aead_run(struct tls_aead *a, bool encrypt, const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, uint8_t tag[TAG_LEN])
{
	if (a->cipher == TLS_CIPHER_CHACHA20) {
		cpu_pick();
		br_poly1305_run poly = cpu.poly;
		br_chacha20_run chacha = cpu.chacha;
		poly(a->key, nonce, data, len, aad, aad_len, tag, chacha, encrypt);
	} else {
		br_gcm_context g;

		br_gcm_init(&g, &a->aes.ct64.vtable, a->ghash);
		br_gcm_reset(&g, nonce, 12);
		br_gcm_aad_inject(&g, aad, aad_len);
		br_gcm_flip(&g);
		br_gcm_run(&g, encrypt, data, len);
		br_gcm_get_tag(&g, tag);
		tls_wipe(&g, sizeof g);
	}
}

static void put_header(uint8_t *rec, uint8_t type, size_t len)
{
	/* RFC 8446 5.1: legacy_record_version 0x0303 in every record we
	 * send (1.2 uses the same value). */
	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(len >> 8);
	rec[4] = (uint8_t)len;
}

size_t tls_aead_seal(struct tls_aead *a, uint8_t type, uint8_t *rec, size_t len)
{
	uint8_t nonce[12], aad[13];
	uint8_t *p = rec + TLS_REC_HDR;

	if (!a->on) {
		put_header(rec, type, len);
		return TLS_REC_HDR + len;
	}
	if (a->version == TLS_V13) {
		/* RFC 8446 5.2: inner plaintext = content || type (no padding
		 * sent); the header with outer type application_data is the
		 * additional data. */
		size_t clen = len + 1 + TAG_LEN;

		p[len] = type;
		put_header(rec, TLS_CT_APPDATA, clen);
		record_nonce(a, NULL, nonce);
		aead_run(a, true, nonce, rec, TLS_REC_HDR, p, len + 1, p + len + 1);
		a->seq++;
		return TLS_REC_HDR + clen;
	}
	static const uint8_t v12[2] = {3, 3};
	size_t pre = tls_aead_prefix(a), clen = pre + len + TAG_LEN;

	put_header(rec, type, clen);
	tls12_aad(a, type, v12, len, aad);
	if (pre) {
		/* RFC 5288 3: the explicit nonce is ours to choose; the
		 * sequence number never repeats under one key. */
		put_u64(p, a->seq);
		record_nonce(a, p, nonce);
	} else {
		record_nonce(a, NULL, nonce);
	}
	aead_run(a, true, nonce, aad, sizeof aad, p + pre, len, p + pre + len);
	a->seq++;
	return TLS_REC_HDR + clen;
}

int tls_aead_open(struct tls_aead *a, uint8_t *rec, size_t rec_len, uint8_t *type, uint8_t **plain,
		  size_t *plain_len)
{
	uint8_t nonce[12], aad[13], tag[TAG_LEN];
	uint8_t *p = rec + TLS_REC_HDR;
	size_t clen, pre, len;

	if (rec_len < TLS_REC_HDR)
		return TLS_ALERT_BAD_RECORD_MAC;
	clen = rec_len - TLS_REC_HDR;
	if (!a->on) {
		if (clen > TLS_MAX_RECORD)
			return TLS_ALERT_RECORD_OVERFLOW;
		*type = rec[0];
		*plain = p;
		*plain_len = clen;
		return 0;
	}
	if (a->version == TLS_V13) {
		/* RFC 8446 5.2: at most 2^14 + 256 bytes of ciphertext. */
		if (clen > TLS_MAX_CIPHERTEXT)
			return TLS_ALERT_RECORD_OVERFLOW;
		if (clen < TAG_LEN)
			return TLS_ALERT_BAD_RECORD_MAC;
		len = clen - TAG_LEN;
		record_nonce(a, NULL, nonce);
		aead_run(a, false, nonce, rec, TLS_REC_HDR, p, len, tag);
		if (!tls_ct_eq(tag, p + len, TAG_LEN)) {
			/* Unauthenticated plaintext never leaves here. */
			tls_wipe(p, len);
			return TLS_ALERT_BAD_RECORD_MAC;
		}
		a->seq++;
		/* RFC 8446 5.4: the whole inner plaintext (content, type
		 * and padding) is at most 2^14 + 1 bytes. */
		if (len > TLS_MAX_RECORD + 1)
			return TLS_ALERT_RECORD_OVERFLOW;
		/* RFC 8446 5.4: the type is the last non-zero byte; none at
		 * all is unexpected_message. */
		while (len > 0 && p[len - 1] == 0)
			len--;
		if (len == 0)
			return TLS_ALERT_UNEXPECTED_MESSAGE;
		*type = p[len - 1];
		*plain = p;
		*plain_len = len - 1;
		return 0;
	}
	pre = tls_aead_prefix(a);
	if (clen < pre + TAG_LEN)
		return TLS_ALERT_BAD_RECORD_MAC;
	len = clen - pre - TAG_LEN;
	/* RFC 5246 6.2.3: plaintext over 2^14 is record_overflow, known
	 * before decrypting. */
	if (len > TLS_MAX_RECORD)
		return TLS_ALERT_RECORD_OVERFLOW;
	tls12_aad(a, rec[0], rec + 1, len, aad);
	record_nonce(a, pre ? p : NULL, nonce);
	aead_run(a, false, nonce, aad, sizeof aad, p + pre, len, tag);
	if (!tls_ct_eq(tag, p + pre + len, TAG_LEN)) {
		tls_wipe(p + pre, len);
		return TLS_ALERT_BAD_RECORD_MAC;
	}
	a->seq++;
	*type = rec[0];
	*plain = p + pre;
	*plain_len = len;
	return 0;
}

/* ---- ECDHE ------------------------------------------------------------------------- */

bool tls_group_known(uint16_t group)
{
	return group == TLS_GROUP_X25519 || group == TLS_GROUP_P256 || group == TLS_GROUP_P384;
}

/* BearSSL's curve ids equal the TLS named-group numbers (RFC 8422 5.1.1,
 * RFC 8446 4.2.7): 23, 24, 29. */
static size_t group_pub_len(uint16_t group)
{
	switch (group) {
	case TLS_GROUP_X25519:
		return 32;
	case TLS_GROUP_P256:
		return 65;
	case TLS_GROUP_P384:
		return 97;
	}
	return 0;
}

int tls_ecdhe_gen(struct tls_ecdhe *e, uint16_t group, const br_prng_class **rng)
{
	const br_ec_impl *impl = br_ec_get_default();

	memset(e, 0, sizeof *e);
	if (!tls_group_known(group))
		return ATL_ENOTSUP;
	e->group = group;
	if (group == TLS_GROUP_X25519) {
		/* RFC 7748 6.1: 32 random bytes, kept in RFC 7748 (little-
		 * endian) order, which is also how BearSSL's Curve25519 mul
		 * reads a scalar; the clamping is the multiplication's own. */
		size_t glen;
		const uint8_t *g = impl->generator(BR_EC_curve25519, &glen);

		(*rng)->generate(rng, e->priv, 32);
		e->priv_len = 32;
		memcpy(e->pub, g, glen);
		impl->mul(e->pub, glen, e->priv, 32, BR_EC_curve25519);
		e->pub_len = glen;
		return ATL_OK;
	}
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_ec_private_key sk;
	size_t n = br_ec_keygen(rng, impl, &sk, kbuf, group);

	if (n == 0 || n > sizeof e->priv) {
		tls_wipe(kbuf, sizeof kbuf);
		return ATL_ENOTSUP;
	}
	memcpy(e->priv, kbuf, n);
	e->priv_len = n;
	sk.x = e->priv;
	e->pub_len = br_ec_compute_pub(impl, NULL, e->pub, &sk);
	tls_wipe(kbuf, sizeof kbuf);
	return e->pub_len == group_pub_len(group) ? ATL_OK : ATL_ENOTSUP;
}

int tls_ecdhe_shared(const struct tls_ecdhe *e, const uint8_t *peer, size_t peer_len, uint8_t *out,
		     size_t *out_len)
{
	const br_ec_impl *impl = br_ec_get_default();
	size_t want = group_pub_len(e->group), xoff, xlen;
	uint8_t pt[133];
	uint32_t ok;

	if (want == 0 || peer_len != want)
		return ATL_EINVAL;
	memcpy(pt, peer, peer_len);
	if (e->group == TLS_GROUP_X25519) {
		uint8_t acc = 0;

		/* RFC 7748 5: the top bit of the u-coordinate is ignored. */
		pt[31] &= 0x7f;
		impl->mul(pt, 32, e->priv, 32, BR_EC_curve25519);
		/* RFC 8446 7.4.2 / RFC 7748 6.1: an all-zero result means a
		 * small-order point; checked without branching on bytes. */
		for (int i = 0; i < 32; i++)
			acc |= pt[i];
		if (acc == 0) {
			tls_wipe(pt, sizeof pt);
			return ATL_EINVAL;
		}
		memcpy(out, pt, 32);
		*out_len = 32;
		tls_wipe(pt, sizeof pt);
		return ATL_OK;
	}
	/* RFC 8446 4.2.8.2: only the uncompressed form; mul rejects a point
	 * off the curve (RFC 8446 7.4.2's validation). */
	if (pt[0] != 0x04)
		return ATL_EINVAL;
	ok = impl->mul(pt, peer_len, e->priv, e->priv_len, e->group);
	if (!ok) {
		tls_wipe(pt, sizeof pt);
		return ATL_EINVAL;
	}
	/* RFC 8446 7.4.2: the shared secret is the X coordinate. */
	xoff = impl->xoff(e->group, &xlen);
	memcpy(out, pt + xoff, xlen);
	*out_len = xlen;
	tls_wipe(pt, sizeof pt);
	return ATL_OK;
}
