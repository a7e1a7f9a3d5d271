/*
 * tls_int.h - lib/tls's private contracts: the connection struct, the
 * record layer, the key schedules, credentials and the role handlers.
 *
 * Files:
 *   crypto.c   transcript hash, HKDF / Expand-Label, the TLS 1.2 PRF,
 *              AEAD record protection (both versions), DRBG, ECDHE
 *   cert.c     credentials, trust anchors, signatures, chain validation
 *   conn.c     the public engine API: records in and out, handshake
 *              message reassembly, alerts, application data, KeyUpdate
 *   server.c   the server's handshakes (1.3 and 1.2)
 *   client.c   the client's handshakes (1.3 and 1.2)
 *   ext.c      extension codecs shared by both roles
 *   stream.c   the adapter over stack.h TCP
 *
 * Every parser reads through struct rd (core/buf.h); a failed rd is a
 * decode_error.  Secrets are wiped with tls_wipe once unused.
 */
#ifndef ATOLL_TLS_TLS_INT_H
#define ATOLL_TLS_TLS_INT_H

#include "bearssl/bearssl.h"

#include "core/buf.h"
#include "tls/tls.h"

/* Record content types */
#define TLS_CT_CCS	 20
#define TLS_CT_ALERT	 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPDATA	 23

/* Handshake message types */
#define TLS_HS_HELLO_REQUEST	    0
#define TLS_HS_CLIENT_HELLO	    1
#define TLS_HS_SERVER_HELLO	    2
#define TLS_HS_NEW_SESSION_TICKET   4
#define TLS_HS_END_OF_EARLY_DATA    5
#define TLS_HS_ENCRYPTED_EXTENSIONS 8
#define TLS_HS_CERTIFICATE	    11
#define TLS_HS_SERVER_KEY_EXCHANGE  12
#define TLS_HS_CERTIFICATE_REQUEST  13
#define TLS_HS_SERVER_HELLO_DONE    14
#define TLS_HS_CERTIFICATE_VERIFY   15
#define TLS_HS_CLIENT_KEY_EXCHANGE  16
#define TLS_HS_FINISHED		    20
#define TLS_HS_CERTIFICATE_STATUS   22
#define TLS_HS_KEY_UPDATE	    24
#define TLS_HS_MESSAGE_HASH	    254

/* Extensions */
#define TLS_EXT_SERVER_NAME	     0
#define TLS_EXT_STATUS_REQUEST	     5
#define TLS_EXT_SUPPORTED_GROUPS     10
#define TLS_EXT_EC_POINT_FORMATS     11
#define TLS_EXT_SIGNATURE_ALGORITHMS 13
#define TLS_EXT_ALPN		     16
#define TLS_EXT_PADDING		     21
#define TLS_EXT_EMS		     23
#define TLS_EXT_SESSION_TICKET	     35
#define TLS_EXT_PRE_SHARED_KEY	     41
#define TLS_EXT_EARLY_DATA	     42
#define TLS_EXT_SUPPORTED_VERSIONS   43
#define TLS_EXT_COOKIE		     44
#define TLS_EXT_PSK_MODES	     45
#define TLS_EXT_CERT_AUTHORITIES     47
#define TLS_EXT_SIG_ALGS_CERT	     50
#define TLS_EXT_KEY_SHARE	     51
#define TLS_EXT_RENEGOTIATION_INFO   0xff01

/* Signature schemes (RFC 8446 4.2.3) */
#define TLS_SIG_RSA_PKCS1_SHA256    0x0401
#define TLS_SIG_RSA_PKCS1_SHA384    0x0501
#define TLS_SIG_RSA_PKCS1_SHA512    0x0601
#define TLS_SIG_ECDSA_P256_SHA256   0x0403
#define TLS_SIG_ECDSA_P384_SHA384   0x0503
#define TLS_SIG_RSA_PSS_RSAE_SHA256 0x0804 /* named only to recognise it */

#define TLS_MAX_HASH   48    /* SHA-384 */
#define TLS_MAX_RECORD 16384 /* plaintext, RFC 8446 5.1 */
#define TLS_REC_HDR    5
/* The largest ciphertext record accepted: 2^14 + 256 (RFC 8446 5.2) */
#define TLS_MAX_CIPHERTEXT (TLS_MAX_RECORD + 256)
#define TLS_MAX_SIG	   512 /* RSA-4096 */

/* Overwrite a secret so the compiler cannot drop the store. */
void tls_wipe(void *p, size_t n);
/* Constant-time equality: 1 when equal. */
int tls_ct_eq(const void *a, const void *b, size_t n);

/* ---- crypto.c: suites ----------------------------------------------------- */

enum tls_cipher { TLS_CIPHER_AES128_GCM, TLS_CIPHER_AES256_GCM, TLS_CIPHER_CHACHA20 };

/* What a suite means.  kx_sig (1.2 only): TLS_KEY_EC or TLS_KEY_RSA, the
 * key type its certificate must have; 0 for 1.3 suites. */
struct tls_suite_info {
	uint16_t id;
	uint16_t version; /* TLS_V13 or TLS_V12 */
	enum tls_cipher cipher;
	const br_hash_class *hash; /* the PRF/HKDF hash */
	int kx_sig;
};
/* NULL for a suite atoll does not speak. */
const struct tls_suite_info *tls_suite_find(uint16_t id);

/* ---- crypto.c: transcript hash -------------------------------------------- */

/* Both hashes run until the suite is chosen (its hash is known only then,
 * and a 1.2 server's choice comes after the ClientHello was hashed). */
struct tls_transcript {
	br_sha256_context s256;
	br_sha384_context s384;
};
void tls_transcript_init(struct tls_transcript *t);
void tls_transcript_update(struct tls_transcript *t, const void *data, size_t len);
/* The hash so far with h (br_sha256_vtable or br_sha384_vtable), without
 * ending it.  Returns the hash length. */
size_t tls_transcript_hash(const struct tls_transcript *t, const br_hash_class *h, uint8_t *out);
/* RFC 8446 4.4.1: after a HelloRetryRequest the transcript restarts with
 * message_hash(254) || 00 00 Hash.length || Hash(ClientHello1). */
void tls_transcript_hrr_restart(struct tls_transcript *t, const br_hash_class *h);

/* ---- crypto.c: key schedules ------------------------------------------------ */

size_t tls_hash_len(const br_hash_class *h);
/* RFC 5869 HKDF-Extract; salt NULL/0 means HashLen zeros; ikm NULL/0 means
 * HashLen zeros (RFC 8446 7.1). out gets HashLen bytes. */
void tls_hkdf_extract(const br_hash_class *h, const uint8_t *salt, size_t salt_len,
		      const uint8_t *ikm, size_t ikm_len, uint8_t *out);
/* RFC 8446 7.1 HKDF-Expand-Label(secret, "tls13 " + label, ctx, len). */
void tls_hkdf_expand_label(const br_hash_class *h, const uint8_t *secret, const char *label,
			   const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);
/* Derive-Secret(secret, label, Messages) given Transcript-Hash(Messages). */
void tls_derive_secret(const br_hash_class *h, const uint8_t *secret, const char *label,
		       const uint8_t *thash, uint8_t *out);
/* The next early/handshake/master secret: Extract(Derive-Secret(prev,
 * "derived", Hash("")), ikm).  prev NULL: the first (early) secret. */
void tls13_next_secret(const br_hash_class *h, const uint8_t *prev, const uint8_t *ikm,
		       size_t ikm_len, uint8_t *out);
/* finished_key = Expand-Label(base, "finished", "", HashLen);
 * verify_data = HMAC(finished_key, thash). */
void tls13_finished(const br_hash_class *h, const uint8_t *base, const uint8_t *thash,
		    uint8_t *out);
/* RFC 8446 7.2 next application traffic secret ("traffic upd"), in place. */
void tls13_update_secret(const br_hash_class *h, uint8_t *secret);

/* RFC 5246 5 PRF with h (SHA-256 or SHA-384), several seed parts. */
void tls12_prf(const br_hash_class *h, const uint8_t *secret, size_t secret_len, const char *label,
	       const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
	       uint8_t *out, size_t out_len);
/* RFC 7627 4: master = PRF(pms, "extended master secret", session_hash),
 * or (ems false) RFC 5246 8.1 with the two randoms.  48 bytes out. */
void tls12_master_secret(const br_hash_class *h, const uint8_t *pms, size_t pms_len, bool ems,
			 const uint8_t *session_hash, size_t sh_len, const uint8_t cr[32],
			 const uint8_t sr[32], uint8_t master[48]);
/* verify_data (12 bytes) for "client finished" / "server finished". */
void tls12_finished(const br_hash_class *h, const uint8_t master[48], bool client,
		    const uint8_t *thash, size_t thash_len, uint8_t out[12]);

/* ---- crypto.c: record protection --------------------------------------------- */

/* One direction's keys.  Sealing and opening work in place on a whole
 * record (the 5-byte header included). */
struct tls_aead {
	bool on; /* false: plaintext records (before the keys) */
	uint16_t version;
	enum tls_cipher cipher;
	uint64_t seq;
	uint8_t iv[12]; /* 1.3: the full IV; 1.2 GCM: 4 salt bytes; 1.2 ChaCha: 12 */
	uint8_t key[32];
	union {
		br_aes_ct64_ctr_keys ct64;
		br_aes_x86ni_ctr_keys ni;
	} aes;
	const br_block_ctr_class *ctr; /* x86ni when the CPU has it, else ct64 */
	br_ghash ghash;
};
/* 1.3: key and IV from a traffic secret (RFC 8446 7.3); seq = 0. */
void tls13_aead_init(struct tls_aead *a, const struct tls_suite_info *s, const uint8_t *secret);
/* 1.2: from the key block (RFC 5246 6.3; RFC 5288 3, RFC 7905 2). */
void tls12_aead_init(struct tls_aead *a, const struct tls_suite_info *s, const uint8_t *key,
		     const uint8_t *iv);
/* Bytes between the header and the plaintext: 8 for 1.2 GCM (explicit
 * nonce), else 0. */
size_t tls_aead_prefix(const struct tls_aead *a);
/* Bytes after the plaintext: the tag, plus 1 inner-type byte on 1.3. */
size_t tls_aead_suffix(const struct tls_aead *a);
/* rec + 5 + prefix holds len plaintext bytes of content type type (room
 * for the suffix after it).  Writes the header (outer type 23 on 1.3),
 * the explicit nonce, seals, bumps seq; returns the whole record's length.
 * With a.on false: writes a plaintext header, returns 5 + len. */
size_t tls_aead_seal(struct tls_aead *a, uint8_t type, uint8_t *rec, size_t len);
/* rec: a whole record of rec_len bytes.  Opens it in place: *type and
 * *plain and *plain_len give the inner content.  Returns 0 or an alert:
 * bad_record_mac (the tag, or a length too short for one), record_overflow
 * (plaintext over 2^14), unexpected_message (1.3: no non-zero type byte). */
int tls_aead_open(struct tls_aead *a, uint8_t *rec, size_t rec_len, uint8_t *type, uint8_t **plain,
		  size_t *plain_len);

/* ---- crypto.c: ECDHE ---------------------------------------------------------- */

struct tls_ecdhe {
	uint16_t group;
	uint8_t priv[48];
	size_t priv_len;
	uint8_t pub[133]; /* X25519: 32; P-256: 65; P-384: 97 uncompressed */
	size_t pub_len;
};
/* A fresh key pair from the DRBG.  ATL_ENOTSUP for an unknown group. */
int tls_ecdhe_gen(struct tls_ecdhe *e, uint16_t group, const br_prng_class **rng);
/* The shared secret with the peer's public value (X25519: 32 bytes;
 * P-256/384: the X coordinate).  ATL_EINVAL for a malformed or invalid
 * point (and for X25519's all-zero result, RFC 8446 7.4.2). */
int tls_ecdhe_shared(const struct tls_ecdhe *e, const uint8_t *peer, size_t peer_len, uint8_t *out,
		     size_t *out_len);
bool tls_group_known(uint16_t group);

/* ---- cert.c ---------------------------------------------------------------------- */

#define TLS_KEY_EC  1
#define TLS_KEY_RSA 2

struct tls_pubkey {
	int type;  /* TLS_KEY_EC / TLS_KEY_RSA, 0 for none */
	int curve; /* BR_EC_secp256r1 ... */
	uint8_t q[133];
	size_t q_len;
	uint8_t n[512], e[8];
	size_t n_len, e_len;
};

#define TLS_CRED_MAX_CERTS 8
struct tls_cred {
	br_x509_certificate chain[TLS_CRED_MAX_CERTS]; /* DER, end entity first */
	size_t nchain;
	int key_type;
	br_ec_private_key ec;
	br_rsa_private_key rsa;
	uint8_t *key_mem; /* the key's bytes, on the heap */
	size_t key_mem_len;
	struct tls_pubkey pub; /* the end entity's */
};

struct tls_trust {
	br_x509_trust_anchor *anchors;
	size_t n;
};

/* The signature schemes cr can make, best first, filtered for version
 * (1.3: ECDSA only, and only the scheme that fits the curve). */
size_t tls_cred_schemes(const struct tls_cred *cr, uint16_t version, uint16_t *out, size_t cap);
/* Sign msg (hashed here by the scheme's hash) with scheme.  *sig_len in:
 * capacity, out: length.  ATL_EINVAL if the scheme does not fit the key. */
int tls_cred_sign(const struct tls_cred *cr, uint16_t scheme, const void *msg, size_t msg_len,
		  uint8_t *sig, size_t *sig_len);
/* Verify a peer's signature; 0, or the alert (decrypt_error,
 * illegal_parameter for a scheme that does not fit the key). */
int tls_pubkey_verify(const struct tls_pubkey *pk, uint16_t scheme, const void *msg, size_t msg_len,
		      const uint8_t *sig, size_t sig_len);
/* Does the DER certificate name host name (RFC 6125, the rules of
 * tls_cred_matches)?  False for a certificate that does not parse. */
bool tls_cert_names_host(const uint8_t *der, size_t len, const char *name);
/*
 * Validate a peer's chain (DER certificates, end entity first) against
 * trust at time unix_ms, for host name name (NULL: no name check), and
 * give the end entity's key.  trust NULL: no validation, only the key is
 * decoded.  Returns 0 or the alert: bad_certificate, unsupported_
 * certificate, certificate_expired, unknown_ca.  *why gets a short
 * reason.
 */
int tls_chain_verify(const struct tls_trust *trust, const uint8_t *const *certs, const size_t *lens,
		     size_t n, const char *name, uint64_t unix_ms, struct tls_pubkey *out,
		     const char **why);

/* ---- conn.c: the connection --------------------------------------------------------- */

struct tls_conn;

/* One role's handshake: called by conn.c for each whole handshake message
 * (msg: the 4-byte header and the body, len bytes in all), and for a
 * ChangeCipherSpec record (msg NULL).  Returns 0 or an alert to send. */
typedef int (*tls_hs_fn)(struct tls_conn *c, uint8_t type, const uint8_t *msg, size_t len);
int tls_server_hs(struct tls_conn *c, uint8_t type, const uint8_t *msg, size_t len);
int tls_client_hs(struct tls_conn *c, uint8_t type, const uint8_t *msg, size_t len);
/* The client's first flight (ClientHello), called by tls_conn_init. */
int tls_client_start(struct tls_conn *c);

/* Handshake state, shared by the roles (each uses its own values). */
enum tls_hs_state {
	HS_START,	     /* server: wait ClientHello; client: ClientHello sent */
	HS_WAIT_CH2,	     /* server: HRR sent, wait the second ClientHello */
	HS_WAIT_SH,	     /* client: wait ServerHello (or HRR) */
	HS_WAIT_EE,	     /* client 1.3 */
	HS_WAIT_CERT_CR,     /* client 1.3: Certificate or CertificateRequest */
	HS_WAIT_CERT,	     /* client 1.3 after CR; 1.2 client: Certificate */
	HS_WAIT_CV,	     /* client 1.3 / server (client cert) */
	HS_WAIT_FINISHED,    /* both */
	HS_WAIT_SKE,	     /* client 1.2 */
	HS_WAIT_SHD,	     /* client 1.2: CertificateRequest or ServerHelloDone */
	HS_WAIT_CLIENT_CERT, /* server: client's Certificate */
	HS_WAIT_CKE,	     /* server 1.2 */
	HS_WAIT_CCS,	     /* 1.2: ChangeCipherSpec, then Finished */
	HS_WAIT_NST,	     /* client 1.2 resumption/tickets: NewSessionTicket or CCS */
	HS_DONE,
};

struct tls_conn {
	const struct tls_config *cfg;
	bool server;
	unsigned state; /* TLS_ST_* */
	enum tls_hs_state hs;
	uint16_t version; /* negotiated; 0 before ServerHello */
	const struct tls_suite_info *suite;
	uint16_t group;
	int alert;	 /* -1, or the alert that ended it */
	bool alert_sent; /* ... sent by us (else received) */
	const char *reason;
	int err;	 /* sticky ATL_E* */
	uint64_t now_ms; /* unix ms from tls_conn_set_time */

	br_hmac_drbg_context rng;

	/* Records in: in_buf holds [0, in_len) received bytes; a record is
	 * processed once whole.  Application data opened in place waits in
	 * [app_pos, app_end) until read. */
	uint8_t *in_buf;
	size_t in_cap, in_len;
	size_t app_pos, app_end; /* offsets in in_buf of unread app data */
	size_t app_rec_len;	 /* the whole record holding it, to drop after */

	/* Records out: [out_pos, out_len) still to be sent.  Handshake
	 * messages gather in one open (not yet sealed) record at open_rec
	 * (SIZE_MAX: none) of open_len plaintext bytes, so a flight goes in
	 * as few records as the keys allow. */
	uint8_t *out_buf;
	size_t out_cap, out_len, out_pos;
	size_t open_rec, open_len;
	unsigned rd_epoch; /* bumped on every read key change */

	/* Handshake messages are gathered here across records. */
	uint8_t *hs_buf;
	size_t hs_cap, hs_len;

	struct tls_aead rd, wr;
	struct tls_transcript th;

	/* Key schedule (1.3): the current secret (early, then handshake, then
	 * master) and the traffic secrets. */
	uint8_t secret[TLS_MAX_HASH];
	uint8_t c_hs_secret[TLS_MAX_HASH], s_hs_secret[TLS_MAX_HASH];
	uint8_t c_ap_secret[TLS_MAX_HASH], s_ap_secret[TLS_MAX_HASH];
	uint8_t res_secret[TLS_MAX_HASH]; /* resumption_master_secret */
	/* 1.2 */
	uint8_t master[48];
	bool ems;

	uint8_t client_random[32], server_random[32];
	uint8_t session_id[32];
	uint8_t session_id_len;
	struct tls_ecdhe kx;
	uint8_t shared[48]; /* the (EC)DHE secret until the key schedule took it */
	size_t shared_len;

	/* Negotiated details */
	const struct tls_cred *cred; /* ours, as chosen */
	uint16_t sig_scheme;	     /* the scheme we sign with */
	char server_name[256];
	char alpn[32];
	bool resumed, hrr_done, peer_cert_requested, send_ticket;
	bool hello_pending;	 /* client: ClientHello not yet built */
	bool key_update_pending; /* 1.3: the peer asked us to update */
	uint8_t ticket_count;
	struct tls_pubkey peer_key;

	/* Client */
	struct tls_session session; /* the one offered, then the newest received */
	uint16_t offered_groups[4];
	unsigned noffered;
	uint8_t cookie[256];
	uint16_t cookie_len;

	/* Server: what the ClientHello offered, for the choices */
	uint16_t peer_sig_schemes[32];
	unsigned npeer_sig_schemes;
};

/* Queue one handshake message of type with body (len bytes): header
 * added, hashed into the transcript, sealed with the current write keys
 * (split over records as needed).  Returns 0 or internal_error when the
 * output buffer cannot hold it. */
int tls_send_hs(struct tls_conn *c, uint8_t type, const void *body, size_t len);
/* The same for a message already built with its 4-byte header at hdr
 * (len bytes in all), e.g. one whose binder needed the partial hash. */
int tls_send_hs_raw(struct tls_conn *c, const uint8_t *msg, size_t len);
/* Queue a ChangeCipherSpec record (1.2; 1.3 middlebox compatibility). */
int tls_send_ccs(struct tls_conn *c);
/* Hash a received message (conn.c does not: the role decides when, as a
 * ClientHello may be hashed after a HelloRetryRequest restart). */
static inline void tls_hash_msg(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	tls_transcript_update(&c->th, msg, len);
}
/* The transcript hash with the suite's hash. */
static inline size_t tls_thash(struct tls_conn *c, uint8_t *out)
{
	return tls_transcript_hash(&c->th, c->suite->hash, out);
}
/* Install keys for reading / writing (1.3 traffic secret). */
void tls_set_read13(struct tls_conn *c, const uint8_t *secret);
void tls_set_write13(struct tls_conn *c, const uint8_t *secret);
/* The handshake is over: application data may flow. */
void tls_established(struct tls_conn *c);
/* Record a failure reason for logs (an alert is returned by the caller). */
int tls_fail(struct tls_conn *c, int alert, const char *why);

/* ---- ext.c: extension helpers ------------------------------------------------------ */

/* Parse an extensions block (the 2-byte length included) into a table of
 * the ones atoll understands.  Returns 0, decode_error, or
 * illegal_parameter for a repeated extension (RFC 8446 4.2). */
struct tls_ext {
	uint16_t type;
	const uint8_t *data;
	uint16_t len;
};
#define TLS_MAX_EXTS 48
struct tls_exts {
	struct tls_ext e[TLS_MAX_EXTS];
	unsigned n;
	bool last_is_psk; /* pre_shared_key was the last (RFC 8446 4.2.11) */
};
int tls_exts_parse(struct rd *r, struct tls_exts *out);
/* The extension of type, or NULL. */
const struct tls_ext *tls_exts_find(const struct tls_exts *x, uint16_t type);

/* version is within the config's min..max. */
bool tls_version_on(const struct tls_conn *c, uint16_t version);
/* A list of 2-byte values (a struct rd over it) holds v. */
bool tls_list_has16(struct rd r, uint16_t v);
/* An extension that is exactly a non-empty vector<2..2^16-2> of 2-byte
 * values: *out over the values; decode_error otherwise. */
int tls_ext_list16(const struct tls_ext *e, struct rd *out);
/* RFC 8446 4.4.3: what a CertificateVerify signs (64 spaces, the context
 * string, a zero byte, the transcript hash) into out (98 + hlen bytes);
 * returns its length. */
size_t tls_cv_content(uint8_t *out, const char *ctx, const uint8_t *thash, size_t hlen);

/* The config's suites and groups with the defaults applied. */
const uint16_t *tls_cfg_suites(const struct tls_config *cfg);
const uint16_t *tls_cfg_groups(const struct tls_config *cfg);
/* RFC 8446 4.1.3 downgrade sentinels. */
extern const uint8_t tls_downgrade12[8];
/* RFC 8446 4.1.3 the special random of a HelloRetryRequest. */
extern const uint8_t tls_hrr_random[32];

#endif
