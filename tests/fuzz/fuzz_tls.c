/*
 * fuzz_tls.c - libFuzzer target for lib/tls: what a hostile peer can send
 * a server or a client.
 *
 * A real client engine and a real server engine talk to each other with
 * fixed seeds, so their conversation is the same every run; the input
 * says which record of it, towards which side, is replaced, and with what.
 * Input: byte 0: bit 0 the victim (0 server, 1 client), bits 1-2 the
 * version limits (both, 1.2 only, 1.3 only), bit 3 tickets and a resumed
 * second connection; byte 1: the index of the record to replace (records
 * before it pass unchanged); then chunks, each a two-byte length and its
 * bytes, sent to the victim in place of that record and after it.
 * Invariants: no crash or sanitizer report; the output never overruns
 * (ASan); a failed engine has an alert and is no longer established; a
 * conversation the fuzzer did not touch (the first connection of a
 * resumption pair, or a record index past its end) ends with both sides
 * established.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "tls/tls_int.h"

/*
 * lib/tls/cert.c is not in the tree yet.  Until it is, this target brings
 * its own credential (a fixed ECDSA P-256 key and self-signed certificate
 * for "fuzz.test", as DER) and the five calls the engine makes on
 * credentials and peer chains, each a direct use of BearSSL: ECDSA P-256
 * signing and verifying, and the peer's end-entity key decoded by
 * br_x509_decoder (so hostile certificate bytes reach BearSSL's decoder).
 * When cert.c lands these go and the target links the real ones.
 */
static const uint8_t fuzz_cert_der[] = {
    0x30, 0x82, 0x01, 0x95, 0x30, 0x82, 0x01, 0x3b, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x46,
    0x04, 0xfc, 0x59, 0xed, 0x85, 0x9e, 0x03, 0x58, 0xd8, 0xae, 0x36, 0x6d, 0x75, 0x98, 0xe5, 0x61,
    0x48, 0x39, 0x25, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09, 0x66, 0x75, 0x7a, 0x7a,
    0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x20, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x32, 0x30, 0x37, 0x30,
    0x37, 0x30, 0x33, 0x31, 0x39, 0x5a, 0x18, 0x0f, 0x32, 0x31, 0x32, 0x36, 0x31, 0x31, 0x31, 0x33,
    0x30, 0x37, 0x30, 0x33, 0x31, 0x39, 0x5a, 0x30, 0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55,
    0x04, 0x03, 0x0c, 0x09, 0x66, 0x75, 0x7a, 0x7a, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x59, 0x30,
    0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x5b, 0xa1, 0x1d, 0xba, 0xca, 0xcf, 0x3c, 0xa8,
    0x47, 0x92, 0x28, 0x98, 0xd8, 0x28, 0x0d, 0x2f, 0x87, 0x26, 0xdf, 0x6b, 0x99, 0x6d, 0x62, 0x2c,
    0x84, 0xa5, 0xcb, 0x1a, 0xe7, 0x77, 0xf6, 0xb5, 0xc9, 0x9f, 0x4f, 0x63, 0x04, 0x26, 0x33, 0x41,
    0x1f, 0xcc, 0x29, 0x97, 0x28, 0xec, 0x1c, 0x57, 0x23, 0x5a, 0x7f, 0x82, 0x90, 0xf0, 0x2e, 0x8b,
    0x49, 0x07, 0x99, 0x55, 0x71, 0x47, 0x60, 0x14, 0xa3, 0x69, 0x30, 0x67, 0x30, 0x1d, 0x06, 0x03,
    0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x09, 0xc3, 0x7f, 0x20, 0xc4, 0xe4, 0xbe, 0xd3, 0xbf,
    0x09, 0x2b, 0x16, 0xef, 0xcd, 0x62, 0x33, 0xbe, 0x47, 0xac, 0xf7, 0x30, 0x1f, 0x06, 0x03, 0x55,
    0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x09, 0xc3, 0x7f, 0x20, 0xc4, 0xe4, 0xbe, 0xd3,
    0xbf, 0x09, 0x2b, 0x16, 0xef, 0xcd, 0x62, 0x33, 0xbe, 0x47, 0xac, 0xf7, 0x30, 0x0f, 0x06, 0x03,
    0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x14, 0x06,
    0x03, 0x55, 0x1d, 0x11, 0x04, 0x0d, 0x30, 0x0b, 0x82, 0x09, 0x66, 0x75, 0x7a, 0x7a, 0x2e, 0x74,
    0x65, 0x73, 0x74, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03,
    0x48, 0x00, 0x30, 0x45, 0x02, 0x21, 0x00, 0xea, 0xac, 0xe3, 0x13, 0xb7, 0xc5, 0xa7, 0xc4, 0x7e,
    0x9b, 0x4b, 0xfd, 0xba, 0xfb, 0x9b, 0xc1, 0x54, 0x12, 0xc8, 0x24, 0x6d, 0x64, 0xc1, 0x28, 0x2b,
    0xb8, 0x1a, 0x4f, 0xe9, 0x88, 0x03, 0x69, 0x02, 0x20, 0x4c, 0xb4, 0x9d, 0x81, 0x4c, 0x6a, 0x05,
    0xd6, 0x0d, 0x16, 0x7f, 0xf5, 0x6b, 0x61, 0x35, 0x35, 0x80, 0x9b, 0xdc, 0xab, 0xb7, 0xff, 0xc7,
    0x74, 0xdd, 0xa9, 0x06, 0xcd, 0xd3, 0x8d, 0x64, 0x7f};
static const uint8_t fuzz_key_der[] = {
    0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20, 0x89, 0x8e, 0x50, 0x06, 0xde, 0x54, 0xe9, 0xa0, 0xa0,
    0x2c, 0xd4, 0xe3, 0xe3, 0xe9, 0x81, 0x2c, 0x22, 0xa7, 0xdf, 0xc5, 0x6d, 0x07, 0xcf, 0x85, 0xf2,
    0x6f, 0x7d, 0x08, 0xd7, 0xb3, 0xbf, 0x69, 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04, 0x5b, 0xa1, 0x1d, 0xba, 0xca, 0xcf, 0x3c,
    0xa8, 0x47, 0x92, 0x28, 0x98, 0xd8, 0x28, 0x0d, 0x2f, 0x87, 0x26, 0xdf, 0x6b, 0x99, 0x6d, 0x62,
    0x2c, 0x84, 0xa5, 0xcb, 0x1a, 0xe7, 0x77, 0xf6, 0xb5, 0xc9, 0x9f, 0x4f, 0x63, 0x04, 0x26, 0x33,
    0x41, 0x1f, 0xcc, 0x29, 0x97, 0x28, 0xec, 0x1c, 0x57, 0x23, 0x5a, 0x7f, 0x82, 0x90, 0xf0, 0x2e,
    0x8b, 0x49, 0x07, 0x99, 0x55, 0x71, 0x47, 0x60, 0x14};

size_t tls_cred_schemes(const struct tls_cred *cr, uint16_t version, uint16_t *out, size_t cap)
{
	(void)cr;
	(void)version;
	if (cap < 1)
		return 0;
	out[0] = TLS_SIG_ECDSA_P256_SHA256;
	return 1;
}

bool tls_cred_matches(const struct tls_cred *cr, const char *name)
{
	(void)cr;
	return strcmp(name, "fuzz.test") == 0;
}

static void sha256(const void *msg, size_t len, uint8_t out[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, msg, len);
	br_sha256_out(&h, out);
}

int tls_cred_sign(const struct tls_cred *cr, uint16_t scheme, const void *msg, size_t msg_len,
		  uint8_t *sig, size_t *sig_len)
{
	uint8_t hv[32];
	if (scheme != TLS_SIG_ECDSA_P256_SHA256 || *sig_len < 80)
		return ATL_EINVAL;
	sha256(msg, msg_len, hv);
	size_t n = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable, hv,
						    &cr->ec, sig);
	if (n == 0)
		return ATL_EINVAL;
	*sig_len = n;
	return ATL_OK;
}

int tls_pubkey_verify(const struct tls_pubkey *pk, uint16_t scheme, const void *msg, size_t msg_len,
		      const uint8_t *sig, size_t sig_len)
{
	uint8_t hv[32];
	if (scheme != TLS_SIG_ECDSA_P256_SHA256 || pk->type != TLS_KEY_EC ||
	    pk->curve != BR_EC_secp256r1)
		return TLS_ALERT_ILLEGAL_PARAMETER;
	sha256(msg, msg_len, hv);
	br_ec_public_key k = {pk->curve, (unsigned char *)pk->q, pk->q_len};
	return br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), hv, 32, &k, sig, sig_len)
		   ? 0
		   : TLS_ALERT_DECRYPT_ERROR;
}

int tls_chain_verify(const struct tls_trust *trust, const uint8_t *const *certs, const size_t *lens,
		     size_t n, const char *name, uint64_t unix_ms, struct tls_pubkey *out,
		     const char **why)
{
	(void)trust;
	(void)name;
	(void)unix_ms;
	*why = "bad certificate";
	if (n == 0)
		return TLS_ALERT_BAD_CERTIFICATE;
	br_x509_decoder_context d;
	br_x509_decoder_init(&d, NULL, NULL);
	br_x509_decoder_push(&d, certs[0], lens[0]);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&d);
	if (!pk || pk->key_type != BR_KEYTYPE_EC || pk->key.ec.qlen > sizeof out->q)
		return TLS_ALERT_BAD_CERTIFICATE;
	memset(out, 0, sizeof *out);
	out->type = TLS_KEY_EC;
	out->curve = pk->key.ec.curve;
	memcpy(out->q, pk->key.ec.q, pk->key.ec.qlen);
	out->q_len = pk->key.ec.qlen;
	return 0;
}

static struct tls_cred fixture_cred;
static br_skey_decoder_context fixture_key;

static struct tls_cred *fixture(void)
{
	br_skey_decoder_init(&fixture_key);
	br_skey_decoder_push(&fixture_key, fuzz_key_der, sizeof fuzz_key_der);
	const br_ec_private_key *ec = br_skey_decoder_get_ec(&fixture_key);
	if (!ec)
		abort();
	fixture_cred.ec = *ec;
	fixture_cred.key_type = TLS_KEY_EC;
	fixture_cred.chain[0].data = (unsigned char *)fuzz_cert_der;
	fixture_cred.chain[0].data_len = sizeof fuzz_cert_der;
	fixture_cred.nchain = 1;
	return &fixture_cred;
}

#define CONN_MEM 80000

static uint8_t cmem[CONN_MEM] __attribute__((aligned(16)));
static uint8_t smem[CONN_MEM] __attribute__((aligned(16)));
static struct tls_cred *cred;

/* Move whole records from one side's output to the other's input; the
 * victim's n-th record (counted in *idx) and later ones come from the
 * fuzzer instead once that index is reached. */
struct feed {
	const uint8_t *data;
	size_t len, pos;
	unsigned target;
	bool victim_server;
	bool touched; /* a record was replaced or dropped, or bytes added */
};

static void to_engine(struct tls_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t cap;
		uint8_t *b = tls_conn_recv_buf(c, &cap);
		if (cap == 0) {
			uint8_t sink[4096];
			size_t got;
			if (tls_conn_read(c, sink, sizeof sink, &got) != ATL_OK || got == 0)
				return;
			continue;
		}
		size_t k = n < cap ? n : cap;
		memcpy(b, p, k);
		if (tls_conn_recv_done(c, k) != ATL_OK)
			return;
		p += k;
		n -= k;
	}
}

/* One step: drain from's output towards to; returns bytes moved. */
static size_t pump(struct tls_conn *from, struct tls_conn *to, bool to_is_victim, struct feed *f,
		   unsigned *idx)
{
	size_t moved = 0, n;
	const uint8_t *p;
	while ((p = tls_conn_send_buf(from, &n)) != NULL) {
		size_t off = 0;
		while (off + 5 <= n) {
			size_t rl = 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
			if (off + rl > n)
				break;
			if (to_is_victim && (*idx)++ >= f->target) {
				/* The fuzzer's chunks instead, one per record
				 * (none left: the record is dropped). */
				f->touched = true;
				if (f->pos + 2 <= f->len) {
					size_t cl =
					    (size_t)f->data[f->pos] << 8 | f->data[f->pos + 1];
					f->pos += 2;
					if (cl > f->len - f->pos)
						cl = f->len - f->pos;
					to_engine(to, f->data + f->pos, cl);
					f->pos += cl;
				}
			} else {
				to_engine(to, p + off, rl);
			}
			off += rl;
		}
		tls_conn_send_done(from, n);
		moved += n;
	}
	return moved;
}

static void check(struct tls_conn *c)
{
	unsigned st = tls_conn_state(c);
	if (st & TLS_ST_FAILED) {
		bool sent;
		if (tls_conn_alert(c, &sent) < 0)
			abort();
		if (st & TLS_ST_ESTABLISHED)
			abort();
	}
}

static void session(const struct tls_config *scfg, const struct tls_config *ccfg,
		    const struct tls_session *resume, struct feed *f, struct tls_session *out,
		    uint8_t seed_tweak)
{
	uint8_t seed[32];
	memset(seed, 0x5a ^ seed_tweak, sizeof seed);
	struct tls_conn *s = tls_conn_init(smem, sizeof smem, scfg, seed, 32, NULL, NULL);
	seed[0] ^= 1;
	struct tls_conn *c = tls_conn_init(cmem, sizeof cmem, ccfg, seed, 32, "fuzz.test", resume);
	if (!s || !c)
		abort();
	tls_conn_set_time(s, 1700000000000ull);
	tls_conn_set_time(c, 1700000000000ull);
	unsigned idx = 0;
	for (int round = 0; round < 16; round++) {
		size_t m = pump(c, s, f->victim_server, f, &idx);
		m += pump(s, c, !f->victim_server, f, &idx);
		if ((tls_conn_state(c) & TLS_ST_ESTABLISHED) && round == 4) {
			size_t d;
			tls_conn_write(c, "ping", 4, &d);
			tls_conn_key_update(c, true);
		}
		if (m == 0 && f->pos >= f->len)
			break;
		/* Left-over fuzz chunks go in even when the sender is silent. */
		if (m == 0) {
			to_engine(f->victim_server ? s : c, f->data + f->pos, f->len - f->pos);
			f->pos = f->len;
			f->touched = true;
		}
		check(s);
		check(c);
	}
	uint8_t sink[2048];
	size_t got;
	while (tls_conn_read(s, sink, sizeof sink, &got) == ATL_OK && got > 0)
		;
	check(s);
	check(c);
	/* An untouched conversation is a plain handshake: it must succeed. */
	if (!f->touched && (!(tls_conn_state(s) & TLS_ST_ESTABLISHED) ||
			    !(tls_conn_state(c) & TLS_ST_ESTABLISHED) ||
			    ((tls_conn_state(s) | tls_conn_state(c)) & TLS_ST_FAILED)))
		abort();
	if (out)
		*out = *tls_conn_session(c);
	tls_conn_wipe(s);
	tls_conn_wipe(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (!cred)
		cred = fixture();
	struct tls_config scfg, ccfg;
	tls_config_init(&scfg, true);
	tls_config_init(&ccfg, false);
	scfg.creds[0] = cred;
	scfg.ncreds = 1;
	ccfg.verify_peer = false;
	unsigned v = (data[0] >> 1) & 3;
	if (v == 1)
		scfg.max_version = ccfg.max_version = 0x0303;
	if (v == 2)
		scfg.min_version = ccfg.min_version = 0x0304;
	bool tickets = data[0] & 8;
	scfg.tickets_enabled = tickets;
	memset(scfg.ticket_key, 0x33, sizeof scfg.ticket_key);
	scfg.in_buf = ccfg.in_buf = 16709;
	scfg.out_buf = ccfg.out_buf = 16709;
	scfg.hs_buf = ccfg.hs_buf = 8192;
	if (tls_conn_size(&scfg) > CONN_MEM)
		abort();

	struct feed f = {data + 2, size - 2, 0, data[1], !(data[0] & 1), false};
	struct tls_session sess;
	memset(&sess, 0, sizeof sess);
	if (tickets) {
		/* A clean first connection for a ticket, then the fuzzed one
		 * resumes with it. */
		struct feed clean = {NULL, 0, 0, ~0u, true, false};
		session(&scfg, &ccfg, NULL, &clean, &sess, 0);
	}
	session(&scfg, &ccfg, tickets ? &sess : NULL, &f, NULL, 1);
	return 0;
}
