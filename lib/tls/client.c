/*
 * client.c - the client's handshakes: TLS 1.3 (RFC 8446 2, 4) and TLS 1.2
 * (RFC 5246 7.3 with RFC 8422 ECDHE, RFC 7627 EMS, RFC 5077 tickets,
 * RFC 5746 renegotiation_info, RFC 9325's rules).
 *
 * One ClientHello offers every enabled version; the ServerHello picks the
 * flight that follows.  Each received message is checked against the one
 * state that may take it, so a message out of order or seen twice is
 * refused.  A message is hashed into the transcript only after it was
 * checked and before anything that covers it is computed.
 *
 * What is offered: one key share (the config's first group; a server
 * preferring another asks with HelloRetryRequest), signature schemes
 * ECDSA P-256/P-384 and RSA PKCS#1 v1.5, never RSA-PSS (BearSSL 0.6 cannot
 * verify it), so a TLS 1.3 server with an RSA key refuses this client.
 * Never early data.  A TLS 1.2 CertificateRequest is answered with an
 * empty Certificate: a 1.2 CertificateVerify signs the whole handshake
 * (RFC 5246 7.4.8), which tls_cred_sign cannot do from a hash.
 */
#include "core/err.h"
#include "tls/tls_int.h"

#define SCSV_RENEGOTIATION 0x00FF
#define CH_MAX		   2048	  /* our largest ClientHello */
#define LIFETIME_MAX	   604800 /* RFC 8446 4.6.1: seven days */
#define PSK_DHE_KE	   1	  /* RFC 8446 4.2.9 */
#define NAMED_CURVE	   3	  /* RFC 8422 5.4 */

/* signature_algorithms, in our order of preference (RFC 8446 4.2.3). */
static const uint16_t sig_schemes[] = {TLS_SIG_ECDSA_P256_SHA256, TLS_SIG_ECDSA_P384_SHA384,
				       TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PKCS1_SHA384,
				       TLS_SIG_RSA_PKCS1_SHA512};

static const char cv_ctx_server[] = "TLS 1.3, server CertificateVerify";
static const char cv_ctx_client[] = "TLS 1.3, client CertificateVerify";

/* ---- helpers ------------------------------------------------------------------------ */

/* The suite if we offered it (known, of an enabled version), else NULL. */
static const struct tls_suite_info *suite_offered(const struct tls_conn *c, uint16_t id)
{
	for (const uint16_t *s = tls_cfg_suites(c->cfg); *s; s++) {
		if (*s != id)
			continue;
		const struct tls_suite_info *si = tls_suite_find(id);
		return si && tls_version_on(c, si->version) ? si : NULL;
	}
	return NULL;
}

static bool group_offered(const struct tls_conn *c, uint16_t g)
{
	for (unsigned i = 0; i < c->noffered; i++)
		if (c->offered_groups[i] == g)
			return true;
	return false;
}

static void wr_be24(struct wr *w, size_t v)
{
	wr_u8(w, (uint8_t)(v >> 16));
	wr_be16(w, (uint16_t)v);
}

static uint32_t rd_be24(struct rd *r)
{
	uint32_t hi = rd_u8(r);
	return hi << 16 | rd_be16(r);
}

static void empty_hash(const br_hash_class *h, uint8_t *out)
{
	br_hash_compat_context hc;
	h->init(&hc.vtable);
	h->out(&hc.vtable, out);
}

/* RFC 6066 3: SNI carries a DNS name without its trailing dot, never an
 * address literal.  The length to send, 0 for no SNI. */
static size_t sni_len(const struct tls_conn *c)
{
	const char *s = c->server_name;
	size_t n = strlen(s);
	bool ip = n > 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':')
			return 0; /* IPv6 */
		if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
			ip = false;
	}
	if (ip)
		return 0;
	if (n > 0 && s[n - 1] == '.')
		n--;
	return n;
}

static void forget_session(struct tls_conn *c)
{
	tls_wipe(&c->session, sizeof c->session);
}

static bool psk_offered(const struct tls_conn *c)
{
	return c->session.ticket_len > 0 && c->session.version == TLS_V13;
}

static bool ticket12_offered(const struct tls_conn *c)
{
	return c->session.ticket_len > 0 && c->session.version == TLS_V12;
}

/* Whether the session given to tls_conn_init may be offered. */
static bool session_usable(const struct tls_conn *c)
{
	const struct tls_session *s = &c->session;
	const struct tls_suite_info *si = tls_suite_find(s->suite);
	if (s->ticket_len == 0 || s->ticket_len > sizeof s->ticket || !si ||
	    si->version != s->version || !suite_offered(c, s->suite))
		return false;
	/* RFC 8446 4.2.11 / RFC 6066 3: only under the name it was made for. */
	if (!memchr(s->server_name, 0, sizeof s->server_name) ||
	    strcmp(s->server_name, c->server_name) != 0)
		return false;
	/* RFC 8446 4.6.1: never past its lifetime, nor seven days; a clock
	 * behind the time it was received cannot tell its age. */
	uint32_t life = s->lifetime < LIFETIME_MAX ? s->lifetime : LIFETIME_MAX;
	if (c->now_ms < s->received || c->now_ms - s->received >= (uint64_t)life * 1000)
		return false;
	if (s->version == TLS_V13)
		return s->secret_len == tls_hash_len(si->hash);
	/* RFC 7627 5.3: resume only sessions made with EMS. */
	return s->secret_len == 48 && s->ems;
}

/* What our ClientHello asked for, so a reply may carry it (RFC 8446 4.2,
 * RFC 5246 7.4.1.4). */
static bool ext_offered(const struct tls_conn *c, uint16_t type)
{
	bool v12 = tls_version_on(c, TLS_V12), v13 = tls_version_on(c, TLS_V13);
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		return sni_len(c) > 0;
	case TLS_EXT_SUPPORTED_VERSIONS:
	case TLS_EXT_SUPPORTED_GROUPS:
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		return true;
	case TLS_EXT_KEY_SHARE:
	case TLS_EXT_PSK_MODES:
		return v13;
	case TLS_EXT_PRE_SHARED_KEY:
		return psk_offered(c);
	case TLS_EXT_EC_POINT_FORMATS:
	case TLS_EXT_EMS:
	case TLS_EXT_SESSION_TICKET:
	case TLS_EXT_RENEGOTIATION_INFO: /* by the SCSV, RFC 5746 3.4 */
		return v12;
	case TLS_EXT_ALPN:
		return c->cfg->nalpn > 0;
	case TLS_EXT_COOKIE:
		return c->cookie_len > 0;
	}
	return false;
}

/* RFC 8446 4.2: an extension we did not ask for is unsupported_extension
 * (the HelloRetryRequest's cookie excepted); one we asked for that does
 * not belong in this message is illegal_parameter. */
static int check_exts(struct tls_conn *c, const struct tls_exts *x, const uint16_t *allowed,
		      size_t nallowed, bool hrr)
{
	for (unsigned i = 0; i < x->n; i++) {
		uint16_t t = x->e[i].type;
		if (!(hrr && t == TLS_EXT_COOKIE) && !ext_offered(c, t))
			return tls_fail(c, TLS_ALERT_UNSUPPORTED_EXTENSION,
					"extension not offered");
		bool ok = false;
		for (size_t j = 0; j < nallowed; j++)
			ok |= allowed[j] == t;
		if (!ok)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"extension not allowed in this message");
	}
	return 0;
}

/* RFC 7301 3.1: exactly one protocol, one of ours. */
static int alpn_answer(struct tls_conn *c, const struct tls_ext *e)
{
	struct rd r = rd_make(e->data, e->len);
	uint16_t ll = rd_be16(&r);
	uint8_t n = rd_u8(&r);
	const uint8_t *p = rd_take(&r, n);
	if (!rd_ok(&r) || rd_left(&r) != 0 || n == 0 || ll != n + 1)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ALPN");
	for (unsigned i = 0; i < c->cfg->nalpn; i++) {
		const char *mine = c->cfg->alpn[i];
		size_t ml = strlen(mine);
		if (ml == n && ml < sizeof c->alpn && memcmp(mine, p, n) == 0) {
			memcpy(c->alpn, mine, ml + 1);
			return 0;
		}
	}
	return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "ALPN protocol not offered");
}

/* The Certificate message for cr (NULL: an empty one), 1.3 form with a
 * context and per-entry extensions (RFC 8446 4.4.2) or 1.2's bare list
 * (RFC 5246 7.4.2). */
static int send_certificate(struct tls_conn *c, const struct tls_cred *cr)
{
	bool v13 = c->version == TLS_V13;
	size_t n = cr ? cr->nchain : 0, list = 0;
	for (size_t i = 0; i < n; i++)
		list += 3 + cr->chain[i].data_len + (v13 ? 2 : 0);
	uint8_t hdr[8];
	struct wr w = wr_make(hdr, sizeof hdr);
	wr_u8(&w, TLS_HS_CERTIFICATE);
	wr_be24(&w, (v13 ? 1 : 0) + 3 + list);
	if (v13)
		wr_u8(&w, 0); /* certificate_request_context: empty in the handshake */
	wr_be24(&w, list);
	int a = tls_send_hs_raw(c, hdr, w.pos);
	for (size_t i = 0; !a && i < n; i++) {
		uint8_t lh[3];
		struct wr lw = wr_make(lh, sizeof lh);
		wr_be24(&lw, cr->chain[i].data_len);
		a = tls_send_hs_raw(c, lh, sizeof lh);
		if (!a)
			a = tls_send_hs_raw(c, cr->chain[i].data, cr->chain[i].data_len);
		if (!a && v13) {
			static const uint8_t no_exts[2] = {0, 0};
			a = tls_send_hs_raw(c, no_exts, sizeof no_exts);
		}
	}
	return a;
}

/* ---- the ClientHello ------------------------------------------------------------------ */

/* Build the ClientHello into m (cap bytes): *len in all, and where the
 * PSK binder goes (0 without a PSK; the binder left zero).  False if it
 * does not fit. */
static bool ch_build(struct tls_conn *c, uint8_t *m, size_t cap, size_t *len, size_t *binder_at)
{
	const struct tls_config *cfg = c->cfg;
	bool v12 = tls_version_on(c, TLS_V12), v13 = tls_version_on(c, TLS_V13);
	struct wr w = wr_make(m, cap);
	size_t at;

	*binder_at = 0;
	wr_u8(&w, TLS_HS_CLIENT_HELLO);
	wr_be24(&w, 0);	      /* the length, once known */
	wr_be16(&w, TLS_V12); /* RFC 8446 4.1.2 legacy_version */
	wr_bytes(&w, c->client_random, 32);
	wr_u8(&w, c->session_id_len);
	wr_bytes(&w, c->session_id, c->session_id_len);

	/* cipher_suites: 1.3's first, then 1.2's with the renegotiation SCSV
	 * (RFC 5746 3.4). */
	at = w.pos;
	wr_be16(&w, 0);
	for (int pass = 0; pass < 2; pass++) {
		uint16_t v = pass == 0 ? TLS_V13 : TLS_V12;
		if (!tls_version_on(c, v))
			continue;
		for (const uint16_t *s = tls_cfg_suites(cfg); *s; s++) {
			const struct tls_suite_info *si = tls_suite_find(*s);
			if (si && si->version == v)
				wr_be16(&w, *s);
		}
	}
	if (v12)
		wr_be16(&w, SCSV_RENEGOTIATION);
	wr_be16_at(&w, at, (uint16_t)(w.pos - at - 2));
	wr_u8(&w, 1); /* compression methods: null only */
	wr_u8(&w, 0);

	at = w.pos;
	wr_be16(&w, 0);
	size_t sn = sni_len(c);
	if (sn > 0) { /* RFC 6066 3 */
		wr_be16(&w, TLS_EXT_SERVER_NAME);
		wr_be16(&w, (uint16_t)(sn + 5));
		wr_be16(&w, (uint16_t)(sn + 3));
		wr_u8(&w, 0); /* host_name */
		wr_be16(&w, (uint16_t)sn);
		wr_bytes(&w, c->server_name, sn);
	}
	/* RFC 8446 4.2.1 */
	size_t nv = (v13 ? 1 : 0) + (v12 ? 1 : 0);
	wr_be16(&w, TLS_EXT_SUPPORTED_VERSIONS);
	wr_be16(&w, (uint16_t)(1 + 2 * nv));
	wr_u8(&w, (uint8_t)(2 * nv));
	if (v13)
		wr_be16(&w, TLS_V13);
	if (v12)
		wr_be16(&w, TLS_V12);
	/* RFC 8446 4.2.7 */
	wr_be16(&w, TLS_EXT_SUPPORTED_GROUPS);
	wr_be16(&w, (uint16_t)(2 + 2 * c->noffered));
	wr_be16(&w, (uint16_t)(2 * c->noffered));
	for (unsigned i = 0; i < c->noffered; i++)
		wr_be16(&w, c->offered_groups[i]);
	if (v13) { /* RFC 8446 4.2.8: one share */
		wr_be16(&w, TLS_EXT_KEY_SHARE);
		wr_be16(&w, (uint16_t)(2 + 4 + c->kx.pub_len));
		wr_be16(&w, (uint16_t)(4 + c->kx.pub_len));
		wr_be16(&w, c->kx.group);
		wr_be16(&w, (uint16_t)c->kx.pub_len);
		wr_bytes(&w, c->kx.pub, c->kx.pub_len);
	}
	/* RFC 8446 4.2.3 */
	wr_be16(&w, TLS_EXT_SIGNATURE_ALGORITHMS);
	wr_be16(&w, (uint16_t)(2 + sizeof sig_schemes));
	wr_be16(&w, (uint16_t)sizeof sig_schemes);
	for (size_t i = 0; i < ARRAY_SIZE(sig_schemes); i++)
		wr_be16(&w, sig_schemes[i]);
	if (v12) {
		/* RFC 8422 5.1.2: uncompressed points only. */
		wr_be16(&w, TLS_EXT_EC_POINT_FORMATS);
		wr_be16(&w, 2);
		wr_u8(&w, 1);
		wr_u8(&w, 0);
		/* RFC 7627 5.1 */
		wr_be16(&w, TLS_EXT_EMS);
		wr_be16(&w, 0);
		/* RFC 5077 3.2: our 1.2 ticket, or empty to ask for one. */
		uint16_t tl = ticket12_offered(c) ? c->session.ticket_len : 0;
		wr_be16(&w, TLS_EXT_SESSION_TICKET);
		wr_be16(&w, tl);
		wr_bytes(&w, c->session.ticket, tl);
	}
	if (cfg->nalpn > 0) { /* RFC 7301 3.1 */
		size_t total = 0;
		for (unsigned i = 0; i < cfg->nalpn; i++)
			total += 1 + strlen(cfg->alpn[i]);
		wr_be16(&w, TLS_EXT_ALPN);
		wr_be16(&w, (uint16_t)(2 + total));
		wr_be16(&w, (uint16_t)total);
		for (unsigned i = 0; i < cfg->nalpn; i++) {
			size_t n = strlen(cfg->alpn[i]);
			wr_u8(&w, (uint8_t)n);
			wr_bytes(&w, cfg->alpn[i], n);
		}
	}
	if (c->cookie_len > 0) { /* RFC 8446 4.2.2: echoed */
		wr_be16(&w, TLS_EXT_COOKIE);
		wr_be16(&w, (uint16_t)(2 + c->cookie_len));
		wr_be16(&w, c->cookie_len);
		wr_bytes(&w, c->cookie, c->cookie_len);
	}
	if (v13) { /* RFC 8446 4.2.9: with (EC)DHE only */
		wr_be16(&w, TLS_EXT_PSK_MODES);
		wr_be16(&w, 2);
		wr_u8(&w, 1);
		wr_u8(&w, PSK_DHE_KE);
	}
	if (psk_offered(c)) {
		/* RFC 8446 4.2.11: last; one identity, its obfuscated age. */
		const struct tls_session *s = &c->session;
		size_t hl = tls_hash_len(tls_suite_find(s->suite)->hash);
		uint32_t age = s->age_add;
		if (c->now_ms >= s->received)
			age += (uint32_t)(c->now_ms - s->received);
		wr_be16(&w, TLS_EXT_PRE_SHARED_KEY);
		wr_be16(&w, (uint16_t)(2 + 2 + s->ticket_len + 4 + 2 + 1 + hl));
		wr_be16(&w, (uint16_t)(2 + s->ticket_len + 4));
		wr_be16(&w, s->ticket_len);
		wr_bytes(&w, s->ticket, s->ticket_len);
		wr_be32(&w, age);
		wr_be16(&w, (uint16_t)(1 + hl));
		wr_u8(&w, (uint8_t)hl);
		*binder_at = w.pos;
		wr_zero(&w, hl);
	}
	wr_be16_at(&w, at, (uint16_t)(w.pos - at - 2));
	if (!wr_ok(&w))
		return false;
	m[1] = (uint8_t)((w.pos - 4) >> 16);
	store_be16(m + 2, (uint16_t)(w.pos - 4));
	*len = w.pos;
	return true;
}

/* RFC 8446 4.2.11.2: the binder over the transcript so far and the
 * ClientHello up to the binders list (trunc bytes of m). */
static void psk_binder(struct tls_conn *c, const uint8_t *m, size_t trunc, uint8_t *out)
{
	const br_hash_class *h = tls_suite_find(c->session.suite)->hash;
	size_t hl = tls_hash_len(h);
	struct tls_transcript t = c->th;
	uint8_t thash[TLS_MAX_HASH], early[TLS_MAX_HASH], empty[TLS_MAX_HASH], bk[TLS_MAX_HASH];

	tls_transcript_update(&t, m, trunc);
	tls_transcript_hash(&t, h, thash);
	tls13_next_secret(h, NULL, c->session.secret, hl, early);
	empty_hash(h, empty);
	tls_derive_secret(h, early, "res binder", empty, bk);
	tls13_finished(h, bk, thash, out);
	tls_wipe(early, sizeof early);
	tls_wipe(bk, sizeof bk);
	tls_wipe(&t, sizeof t);
}

static int send_client_hello(struct tls_conn *c)
{
	uint8_t m[CH_MAX];
	size_t len, binder_at;

	/* A ClientHello the server's handshake buffer (as large as ours,
	 * presumably) can take: drop the ticket if that is what is too big. */
	for (;;) {
		if (ch_build(c, m, sizeof m, &len, &binder_at) && len <= c->hs_cap)
			break;
		if (c->session.ticket_len == 0)
			return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "ClientHello too large");
		forget_session(c);
	}
	if (binder_at > 0) {
		/* The binder is the message's last bytes, after its 2-byte
		 * list length and 1-byte length. */
		psk_binder(c, m, binder_at - 3, m + binder_at);
	}
	int a = tls_send_hs_raw(c, m, len);
	tls_wipe(m, sizeof m);
	return a;
}

int tls_client_start(struct tls_conn *c)
{
	const uint16_t *g;

	if (!tls_version_on(c, TLS_V12) && !tls_version_on(c, TLS_V13))
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "no protocol version enabled");
	br_hmac_drbg_generate(&c->rng, c->client_random, 32);
	/* RFC 8446 D.4: a legacy_session_id for middlebox compatibility;
	 * for 1.2 it is the ID a ticket resumption echoes (RFC 5077 3.4). */
	br_hmac_drbg_generate(&c->rng, c->session_id, 32);
	c->session_id_len = 32;
	c->noffered = 0;
	for (g = tls_cfg_groups(c->cfg); *g && c->noffered < ARRAY_SIZE(c->offered_groups); g++)
		if (tls_group_known(*g))
			c->offered_groups[c->noffered++] = *g;
	if (c->noffered == 0)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "no groups");
	if (!session_usable(c))
		forget_session(c);
	if (tls_version_on(c, TLS_V13) &&
	    tls_ecdhe_gen(&c->kx, c->offered_groups[0], &c->rng.vtable) != ATL_OK)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "key share generation");
	int a = send_client_hello(c);
	if (a)
		return a;
	c->hs = HS_WAIT_SH;
	return 0;
}

/* ---- TLS 1.3 ------------------------------------------------------------------------------ */

/* RFC 8446 4.1.4: a new share and/or the cookie, then ClientHello again. */
static int hello_retry(struct tls_conn *c, const uint8_t *msg, size_t len,
		       const struct tls_suite_info *si, const struct tls_exts *x)
{
	static const uint16_t allowed[] = {TLS_EXT_SUPPORTED_VERSIONS, TLS_EXT_KEY_SHARE,
					   TLS_EXT_COOKIE};
	int a;

	if (c->hrr_done)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
	if ((a = check_exts(c, x, allowed, ARRAY_SIZE(allowed), true)))
		return a;
	const struct tls_ext *ks = tls_exts_find(x, TLS_EXT_KEY_SHARE);
	const struct tls_ext *ck = tls_exts_find(x, TLS_EXT_COOKIE);
	if (!ks && !ck)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
				"HelloRetryRequest changes nothing");
	if (ks) {
		if (ks->len != 2)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "HelloRetryRequest key_share");
		uint16_t group = load_be16(ks->data);
		/* RFC 8446 4.2.8: a group we listed, not the share we sent. */
		if (!group_offered(c, group) || group == c->kx.group)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"HelloRetryRequest group not acceptable");
		tls_wipe(&c->kx, sizeof c->kx);
		if (tls_ecdhe_gen(&c->kx, group, &c->rng.vtable) != ATL_OK)
			return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "key share generation");
	}
	if (ck) {
		struct rd r = rd_make(ck->data, ck->len);
		uint16_t n = rd_be16(&r);
		const uint8_t *p = rd_take(&r, n);
		if (!rd_ok(&r) || rd_left(&r) != 0 || n == 0)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "cookie");
		if (n > sizeof c->cookie)
			return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "cookie too large to keep");
		memcpy(c->cookie, p, n);
		c->cookie_len = n;
	}
	c->version = TLS_V13; /* so a compatibility CCS is dropped by conn.c */
	c->suite = si;
	c->hrr_done = true;
	/* RFC 8446 4.4.1: ClientHello1 becomes message_hash, then the HRR. */
	tls_transcript_hrr_restart(&c->th, si->hash);
	tls_hash_msg(c, msg, len);
	/* RFC 8446 4.1.2: the PSK stays only if its hash is the suite's. */
	if (psk_offered(c) && tls_suite_find(c->session.suite)->hash != si->hash)
		forget_session(c);
	if ((a = send_client_hello(c)))
		return a;
	c->hs = HS_WAIT_SH;
	return 0;
}

static int server_hello13(struct tls_conn *c, const uint8_t *msg, size_t len,
			  const struct tls_suite_info *si, const uint8_t *random,
			  const struct tls_exts *x)
{
	static const uint16_t allowed[] = {TLS_EXT_SUPPORTED_VERSIONS, TLS_EXT_KEY_SHARE,
					   TLS_EXT_PRE_SHARED_KEY};
	const br_hash_class *h = si->hash;
	size_t hl = tls_hash_len(h);
	int a;

	if ((a = check_exts(c, x, allowed, ARRAY_SIZE(allowed), false)))
		return a;
	/* RFC 8446 4.1.4: the suite the HelloRetryRequest named. */
	if (c->hrr_done && c->suite->id != si->id)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "suite differs from the HRR's");
	/* psk_dhe_ke is the only mode offered: a share is required. */
	const struct tls_ext *ks = tls_exts_find(x, TLS_EXT_KEY_SHARE);
	if (!ks)
		return tls_fail(c, TLS_ALERT_MISSING_EXTENSION, "ServerHello without key_share");
	struct rd r = rd_make(ks->data, ks->len);
	uint16_t g = rd_be16(&r);
	uint16_t n = rd_be16(&r);
	const uint8_t *pub = rd_take(&r, n);
	if (!rd_ok(&r) || rd_left(&r) != 0 || n == 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ServerHello key_share");
	/* RFC 8446 4.2.8: the group of the share we sent. */
	if (g != c->kx.group)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "key_share group not offered");
	if (tls_ecdhe_shared(&c->kx, pub, n, c->shared, &c->shared_len) != ATL_OK)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "bad key share");
	const struct tls_ext *pk = tls_exts_find(x, TLS_EXT_PRE_SHARED_KEY);
	if (pk) {
		if (pk->len != 2)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ServerHello pre_shared_key");
		/* RFC 8446 4.2.11: the one identity offered, with the PSK's hash. */
		if (load_be16(pk->data) != 0 || tls_suite_find(c->session.suite)->hash != h)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "PSK identity or suite");
	}
	c->version = TLS_V13;
	c->suite = si;
	c->group = g;
	c->resumed = pk != NULL;
	memcpy(c->server_random, random, 32);
	tls_hash_msg(c, msg, len);

	/* RFC 8446 7.1: early secret (the PSK or zeros), handshake secret,
	 * the handshake traffic secrets over ClientHello..ServerHello. */
	uint8_t early[TLS_MAX_HASH], thash[TLS_MAX_HASH];
	tls13_next_secret(h, NULL, c->resumed ? c->session.secret : NULL, c->resumed ? hl : 0,
			  early);
	tls13_next_secret(h, early, c->shared, c->shared_len, c->secret);
	tls_wipe(early, sizeof early);
	tls_wipe(c->shared, sizeof c->shared);
	c->shared_len = 0;
	/* RFC 8446 C.4: a ticket is used once; the server may send more. */
	forget_session(c);
	tls_thash(c, thash);
	tls_derive_secret(h, c->secret, "c hs traffic", thash, c->c_hs_secret);
	tls_derive_secret(h, c->secret, "s hs traffic", thash, c->s_hs_secret);
	tls_set_read13(c, c->s_hs_secret);
	c->hs = HS_WAIT_EE;
	return 0;
}

/* RFC 8446 4.3.1 */
static int encrypted_extensions(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	static const uint16_t allowed[] = {TLS_EXT_SERVER_NAME, TLS_EXT_SUPPORTED_GROUPS,
					   TLS_EXT_ALPN};
	struct rd r = rd_make(msg + 4, len - 4);
	struct tls_exts x;
	int a;

	if (rd_left(&r) < 2)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "EncryptedExtensions");
	a = tls_exts_parse(&r, &x);
	if (a || rd_left(&r) != 0)
		return tls_fail(c, a ? a : TLS_ALERT_DECODE_ERROR, "EncryptedExtensions");
	if ((a = check_exts(c, &x, allowed, ARRAY_SIZE(allowed), false)))
		return a;
	const struct tls_ext *e = tls_exts_find(&x, TLS_EXT_SERVER_NAME);
	if (e && e->len != 0) /* RFC 6066 3: empty */
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "server_name answer");
	e = tls_exts_find(&x, TLS_EXT_ALPN);
	if (e && (a = alpn_answer(c, e)))
		return a;
	/* supported_groups: the server's preferences, for later (RFC 8446
	 * 4.2.7); nothing to act on now. */
	tls_hash_msg(c, msg, len);
	c->hs = c->resumed ? HS_WAIT_FINISHED : HS_WAIT_CERT_CR;
	return 0;
}

/* RFC 8446 4.3.2: remember to answer; pick what we sign with. */
static int cert_request13(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	struct tls_exts x;
	struct rd list;
	uint8_t cl = rd_u8(&r);
	rd_skip(&r, cl);
	if (!rd_ok(&r) || rd_left(&r) < 2)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "CertificateRequest");
	int a = tls_exts_parse(&r, &x);
	if (a || rd_left(&r) != 0)
		return tls_fail(c, a ? a : TLS_ALERT_DECODE_ERROR, "CertificateRequest extensions");
	if (cl != 0)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "CertificateRequest context");
	const struct tls_ext *sa = tls_exts_find(&x, TLS_EXT_SIGNATURE_ALGORITHMS);
	if (!sa)
		return tls_fail(c, TLS_ALERT_MISSING_EXTENSION,
				"CertificateRequest signature_algorithms");
	if (tls_ext_list16(sa, &list))
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "signature_algorithms");
	/* Other extensions (certificate_authorities, oid_filters) are
	 * ignored: there is one credential to offer. */
	c->peer_cert_requested = true;
	c->cred = NULL;
	c->sig_scheme = 0;
	if (c->cfg->ncreds > 0 && c->cfg->creds[0]) {
		uint16_t mine[8];
		size_t n = tls_cred_schemes(c->cfg->creds[0], TLS_V13, mine, ARRAY_SIZE(mine));
		for (size_t i = 0; i < n && !c->cred; i++)
			if (tls_list_has16(list, mine[i])) {
				c->cred = c->cfg->creds[0];
				c->sig_scheme = mine[i];
			}
	}
	tls_hash_msg(c, msg, len);
	c->hs = HS_WAIT_CERT;
	return 0;
}

/* The server's Certificate (both versions), validated within the call:
 * the DER pointers point into msg. */
static int server_certificate(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	bool v13 = c->version == TLS_V13;
	struct rd r = rd_make(msg + 4, len - 4);
	if (v13) {
		uint8_t ctx = rd_u8(&r);
		rd_skip(&r, ctx);
		/* RFC 8446 4.4.2: empty for server authentication. */
		if (rd_ok(&r) && ctx != 0)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"certificate_request_context");
	}
	uint32_t ll = rd_be24(&r);
	struct rd list = rd_sub(&r, ll);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Certificate");
	const uint8_t *certs[TLS_CRED_MAX_CERTS];
	size_t lens[TLS_CRED_MAX_CERTS], n = 0;
	while (rd_left(&list) > 0) {
		uint32_t cl = rd_be24(&list);
		const uint8_t *p = rd_take(&list, cl);
		if (v13) {
			uint16_t el = rd_be16(&list);
			rd_skip(&list, el);
			/* RFC 8446 4.4.2: entry extensions answer ones we sent;
			 * we sent none that apply. */
			if (rd_ok(&list) && el != 0)
				return tls_fail(c, TLS_ALERT_UNSUPPORTED_EXTENSION,
						"certificate entry extension");
		}
		if (!rd_ok(&list) || cl == 0)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Certificate entry");
		if (n == TLS_CRED_MAX_CERTS)
			return tls_fail(c, TLS_ALERT_BAD_CERTIFICATE, "chain too long");
		certs[n] = p;
		lens[n++] = cl;
	}
	/* RFC 8446 4.4.2.4: a server must send a certificate. */
	if (n == 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "empty server Certificate");
	const char *why = "server certificate rejected";
	int a = tls_chain_verify(c->cfg->verify_peer ? c->cfg->trust : NULL, certs, lens, n,
				 c->server_name[0] ? c->server_name : NULL, c->now_ms, &c->peer_key,
				 &why);
	if (a)
		return tls_fail(c, a, why);
	/* RFC 5246 7.4.2: the key the suite's exchange is signed with. */
	if (!v13 && c->peer_key.type != c->suite->kx_sig)
		return tls_fail(c, TLS_ALERT_UNSUPPORTED_CERTIFICATE,
				"key type does not fit the suite");
	tls_hash_msg(c, msg, len);
	c->hs = v13 ? HS_WAIT_CV : HS_WAIT_SKE;
	return 0;
}

/* RFC 8446 4.4.3 */
static int server_cert_verify(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint16_t scheme = rd_be16(&r);
	uint16_t sl = rd_be16(&r);
	const uint8_t *sig = rd_take(&r, sl);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "CertificateVerify");
	/* One we offered, and never PKCS#1 v1.5 in 1.3 (RFC 8446 4.4.3). */
	if (scheme != TLS_SIG_ECDSA_P256_SHA256 && scheme != TLS_SIG_ECDSA_P384_SHA384)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "CertificateVerify scheme");
	uint8_t content[64 + sizeof cv_ctx_server + TLS_MAX_HASH], thash[TLS_MAX_HASH];
	size_t hl = tls_thash(c, thash);
	size_t cl = tls_cv_content(content, cv_ctx_server, thash, hl);
	int a = tls_pubkey_verify(&c->peer_key, scheme, content, cl, sig, sl);
	if (a)
		return tls_fail(c, a, "server CertificateVerify does not verify");
	tls_hash_msg(c, msg, len);
	c->hs = HS_WAIT_FINISHED;
	return 0;
}

/* RFC 8446 4.4.2 / 4.4.3: our Certificate and, with a credential, our
 * CertificateVerify. */
static int client_auth13(struct tls_conn *c)
{
	int a = send_certificate(c, c->cred);
	if (a || !c->cred)
		return a;
	uint8_t content[64 + sizeof cv_ctx_client + TLS_MAX_HASH], thash[TLS_MAX_HASH];
	uint8_t cv[4 + TLS_MAX_SIG];
	size_t hl = tls_thash(c, thash);
	size_t cl = tls_cv_content(content, cv_ctx_client, thash, hl);
	size_t sl = TLS_MAX_SIG;
	if (tls_cred_sign(c->cred, c->sig_scheme, content, cl, cv + 4, &sl) != ATL_OK)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "signing failed");
	store_be16(cv, c->sig_scheme);
	store_be16(cv + 2, (uint16_t)sl);
	return tls_send_hs(c, TLS_HS_CERTIFICATE_VERIFY, cv, 4 + sl);
}

/* The server's Finished, then our second flight (RFC 8446 4.4.4, 7.1). */
static int server_finished13(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	const br_hash_class *h = c->suite->hash;
	size_t hl = tls_hash_len(h);
	uint8_t thash[TLS_MAX_HASH], want[TLS_MAX_HASH];
	int a;

	if (len != 4 + hl)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Finished length");
	tls_thash(c, thash);
	tls13_finished(h, c->s_hs_secret, thash, want);
	if (!tls_ct_eq(want, msg + 4, hl))
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "server Finished does not verify");
	tls_hash_msg(c, msg, len);
	/* Master secret; application secrets over ClientHello..server Finished. */
	tls13_next_secret(h, c->secret, NULL, 0, c->secret);
	tls_thash(c, thash);
	tls_derive_secret(h, c->secret, "c ap traffic", thash, c->c_ap_secret);
	tls_derive_secret(h, c->secret, "s ap traffic", thash, c->s_ap_secret);
	tls_set_read13(c, c->s_ap_secret);
	/* RFC 8446 D.4: the compatibility CCS before our first encrypted
	 * message (we sent a session ID). */
	if (c->session_id_len > 0 && (a = tls_send_ccs(c)))
		return a;
	tls_set_write13(c, c->c_hs_secret);
	if (c->peer_cert_requested && (a = client_auth13(c)))
		return a;
	tls_thash(c, thash);
	tls13_finished(h, c->c_hs_secret, thash, want);
	if ((a = tls_send_hs(c, TLS_HS_FINISHED, want, hl)))
		return a;
	/* RFC 8446 7.1: resumption_master_secret over ..client Finished. */
	tls_thash(c, thash);
	tls_derive_secret(h, c->secret, "res master", thash, c->res_secret);
	tls_set_write13(c, c->c_ap_secret);
	tls_established(c);
	return 0;
}

/* RFC 8446 4.6.1: keep the newest ticket with its PSK. */
static int new_session_ticket13(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	struct tls_exts x;
	uint32_t lifetime = rd_be32(&r);
	uint32_t age_add = rd_be32(&r);
	uint8_t nl = rd_u8(&r);
	const uint8_t *nonce = rd_take(&r, nl);
	uint16_t tl = rd_be16(&r);
	const uint8_t *ticket = rd_take(&r, tl);
	if (!rd_ok(&r) || tl == 0 || rd_left(&r) < 2)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "NewSessionTicket");
	int a = tls_exts_parse(&r, &x);
	if (a || rd_left(&r) != 0)
		return tls_fail(c, a ? a : TLS_ALERT_DECODE_ERROR, "NewSessionTicket extensions");
	/* early_data is the only extension defined here; unknown ones are
	 * ignored (RFC 8446 4.6.1).  Lifetime zero: discard at once. */
	if (lifetime == 0 || tl > sizeof c->session.ticket)
		return 0;
	const br_hash_class *h = c->suite->hash;
	size_t hl = tls_hash_len(h);
	struct tls_session *s = &c->session;
	forget_session(c);
	s->version = TLS_V13;
	s->suite = c->suite->id;
	tls_hkdf_expand_label(h, c->res_secret, "resumption", nonce, nl, s->secret, hl);
	s->secret_len = (uint8_t)hl;
	s->age_add = age_add;
	s->lifetime = lifetime < LIFETIME_MAX ? lifetime : LIFETIME_MAX;
	s->received = c->now_ms;
	s->ticket_len = tl;
	memcpy(s->ticket, ticket, tl);
	memcpy(s->server_name, c->server_name, sizeof s->server_name);
	return 0;
}

/* ---- TLS 1.2 --------------------------------------------------------------------------- */

/* RFC 5246 6.3: client key, server key, client IV, server IV. */
static void keys12(struct tls_conn *c, bool write)
{
	const struct tls_suite_info *s = c->suite;
	size_t kl = s->cipher == TLS_CIPHER_AES128_GCM ? 16 : 32;
	size_t il = s->cipher == TLS_CIPHER_CHACHA20 ? 12 : 4;
	uint8_t kb[2 * 32 + 2 * 12];
	tls12_prf(s->hash, c->master, 48, "key expansion", c->server_random, 32, c->client_random,
		  32, kb, 2 * kl + 2 * il);
	if (write) {
		tls12_aead_init(&c->wr, s, kb, kb + 2 * kl);
	} else {
		tls12_aead_init(&c->rd, s, kb + kl, kb + 2 * kl + il);
		c->rd_epoch++;
	}
	tls_wipe(kb, sizeof kb);
}

static int server_hello12(struct tls_conn *c, const uint8_t *msg, size_t len,
			  const struct tls_suite_info *si, const uint8_t *random,
			  const uint8_t *sid, uint8_t sid_len, const struct tls_exts *x)
{
	static const uint16_t allowed[] = {
	    TLS_EXT_SERVER_NAME,    TLS_EXT_EC_POINT_FORMATS,	TLS_EXT_EMS,
	    TLS_EXT_SESSION_TICKET, TLS_EXT_RENEGOTIATION_INFO, TLS_EXT_ALPN};
	const struct tls_ext *e;
	int a;

	if ((a = check_exts(c, x, allowed, ARRAY_SIZE(allowed), false)))
		return a;
	/* RFC 5746 3.4: the SCSV was sent, so renegotiation_info must come
	 * back, empty on an initial handshake. */
	e = tls_exts_find(x, TLS_EXT_RENEGOTIATION_INFO);
	if (!e || e->len != 1 || e->data[0] != 0)
		return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no secure renegotiation");
	e = tls_exts_find(x, TLS_EXT_EMS);
	if (e && e->len != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "extended_master_secret");
	c->ems = e != NULL;
	e = tls_exts_find(x, TLS_EXT_EC_POINT_FORMATS);
	if (e) { /* RFC 8422 5.2: uncompressed must be among them */
		struct rd r = rd_make(e->data, e->len);
		uint8_t n = rd_u8(&r);
		const uint8_t *p = rd_take(&r, n);
		bool unc = false;
		for (unsigned i = 0; p && i < n; i++)
			unc |= p[i] == 0;
		if (!rd_ok(&r) || rd_left(&r) != 0 || n == 0)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ec_point_formats");
		if (!unc)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "no uncompressed points");
	}
	e = tls_exts_find(x, TLS_EXT_SESSION_TICKET);
	if (e && e->len != 0) /* RFC 5077 3.2: empty */
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "session_ticket answer");
	c->send_ticket = e != NULL; /* client: a NewSessionTicket will come */
	e = tls_exts_find(x, TLS_EXT_SERVER_NAME);
	if (e && e->len != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "server_name answer");
	e = tls_exts_find(x, TLS_EXT_ALPN);
	if (e && (a = alpn_answer(c, e)))
		return a;

	/* RFC 5077 3.4: our session ID echoed means the ticket was taken. */
	bool echo =
	    sid_len > 0 && sid_len == c->session_id_len && memcmp(sid, c->session_id, sid_len) == 0;
	if (echo && !ticket12_offered(c))
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
				"session ID echoed without a ticket");
	/* RFC 7627 5.3: a resumption needs EMS now as it had then. */
	if (!c->ems && (echo || c->cfg->require_ems))
		return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no extended master secret");
	/* RFC 5246 7.4.1.3: a session resumes with its own suite. */
	if (echo && si->id != c->session.suite)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "resumed with another suite");
	c->version = TLS_V12;
	c->suite = si;
	memcpy(c->server_random, random, 32);
	tls_hash_msg(c, msg, len);
	if (echo) {
		c->resumed = true;
		memcpy(c->master, c->session.secret, 48);
		/* The session stays ours (RFC 5077 3.4) unless a new ticket
		 * replaces it. */
		c->hs = c->send_ticket ? HS_WAIT_NST : HS_WAIT_CCS;
		return 0;
	}
	forget_session(c);
	c->hs = HS_WAIT_CERT;
	return 0;
}

/* The scheme a 1.2 ServerKeyExchange may be signed with: one we offered,
 * of the key type the suite names (RFC 5246 7.4.1.4.1, RFC 8422 5.4). */
static bool scheme_fits12(const struct tls_conn *c, uint16_t scheme)
{
	bool ec = scheme == TLS_SIG_ECDSA_P256_SHA256 || scheme == TLS_SIG_ECDSA_P384_SHA384;
	bool rsa = scheme == TLS_SIG_RSA_PKCS1_SHA256 || scheme == TLS_SIG_RSA_PKCS1_SHA384 ||
		   scheme == TLS_SIG_RSA_PKCS1_SHA512;
	return c->suite->kx_sig == TLS_KEY_EC ? ec : c->suite->kx_sig == TLS_KEY_RSA && rsa;
}

/* RFC 8422 5.4: ECDHE parameters signed over both randoms. */
static int server_key_exchange(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint8_t pl = rd_peek_at(&r, 3);
	const uint8_t *params = rd_take(&r, 4 + (size_t)pl);
	uint16_t scheme = rd_be16(&r);
	uint16_t sl = rd_be16(&r);
	const uint8_t *sig = rd_take(&r, sl);
	if (!rd_ok(&r) || rd_left(&r) != 0 || pl == 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ServerKeyExchange");
	struct rd p = rd_make(params, 4 + (size_t)pl);
	uint8_t curve_type = rd_u8(&p);
	uint16_t g = rd_be16(&p);
	rd_skip(&p, 1);
	const uint8_t *pub = rd_take(&p, pl);
	if (curve_type != NAMED_CURVE || !group_offered(c, g))
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "ServerKeyExchange group");
	if (!scheme_fits12(c, scheme))
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "ServerKeyExchange scheme");
	uint8_t tbs[64 + 4 + 255];
	memcpy(tbs, c->client_random, 32);
	memcpy(tbs + 32, c->server_random, 32);
	memcpy(tbs + 64, params, 4 + (size_t)pl);
	int a = tls_pubkey_verify(&c->peer_key, scheme, tbs, 64 + 4 + (size_t)pl, sig, sl);
	if (a)
		return tls_fail(c, a, "ServerKeyExchange signature does not verify");
	tls_wipe(&c->kx, sizeof c->kx);
	if (tls_ecdhe_gen(&c->kx, g, &c->rng.vtable) != ATL_OK)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "key generation");
	if (tls_ecdhe_shared(&c->kx, pub, pl, c->shared, &c->shared_len) != ATL_OK)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "bad ECDHE public value");
	c->group = g;
	tls_hash_msg(c, msg, len);
	c->hs = HS_WAIT_SHD;
	return 0;
}

/* RFC 5246 7.4.4: checked for form; answered with an empty Certificate. */
static int cert_request12(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint8_t nt = rd_u8(&r);
	rd_skip(&r, nt);
	uint16_t sal = rd_be16(&r);
	rd_skip(&r, sal);
	uint16_t cal = rd_be16(&r);
	rd_skip(&r, cal);
	if (!rd_ok(&r) || rd_left(&r) != 0 || nt == 0 || sal < 2 || (sal & 1))
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "CertificateRequest");
	c->peer_cert_requested = true;
	tls_hash_msg(c, msg, len);
	return 0;
}

/* Our ChangeCipherSpec and Finished (RFC 5246 7.4.9). */
static int send_finished12(struct tls_conn *c)
{
	uint8_t thash[TLS_MAX_HASH], vd[12];
	int a = tls_send_ccs(c);
	if (a)
		return a;
	keys12(c, true);
	size_t hl = tls_thash(c, thash);
	tls12_finished(c->suite->hash, c->master, true, thash, hl, vd);
	return tls_send_hs(c, TLS_HS_FINISHED, vd, sizeof vd);
}

/* ServerHelloDone: our flight of a full handshake. */
static int server_hello_done(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t thash[TLS_MAX_HASH], cke[1 + sizeof c->kx.pub];
	int a;

	if (len != 4)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ServerHelloDone");
	tls_hash_msg(c, msg, len);
	/* RFC 5246 7.4.6: no certificate we can prove in 1.2, so none. */
	if (c->peer_cert_requested && (a = send_certificate(c, NULL)))
		return a;
	/* RFC 8422 5.7 */
	cke[0] = (uint8_t)c->kx.pub_len;
	memcpy(cke + 1, c->kx.pub, c->kx.pub_len);
	if ((a = tls_send_hs(c, TLS_HS_CLIENT_KEY_EXCHANGE, cke, 1 + c->kx.pub_len)))
		return a;
	/* RFC 7627 3: the session hash runs through ClientKeyExchange. */
	size_t hl = tls_thash(c, thash);
	tls12_master_secret(c->suite->hash, c->shared, c->shared_len, c->ems, thash, hl,
			    c->client_random, c->server_random, c->master);
	tls_wipe(c->shared, sizeof c->shared);
	c->shared_len = 0;
	tls_wipe(&c->kx, sizeof c->kx);
	if ((a = send_finished12(c)))
		return a;
	c->hs = c->send_ticket ? HS_WAIT_NST : HS_WAIT_CCS;
	return 0;
}

/* RFC 5077 3.3: the ticket with the master secret it resumes. */
static int new_session_ticket12(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint32_t hint = rd_be32(&r);
	uint16_t tl = rd_be16(&r);
	const uint8_t *ticket = rd_take(&r, tl);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "NewSessionTicket");
	tls_hash_msg(c, msg, len);
	c->hs = HS_WAIT_CCS;
	/* An empty ticket: none issued.  One too long to keep: dropped. */
	if (tl == 0 || tl > sizeof c->session.ticket)
		return 0;
	struct tls_session *s = &c->session;
	forget_session(c);
	s->version = TLS_V12;
	s->suite = c->suite->id;
	memcpy(s->secret, c->master, 48);
	s->secret_len = 48;
	/* A hint of zero leaves the lifetime to us: the 1.3 maximum. */
	s->lifetime = hint == 0 || hint > LIFETIME_MAX ? LIFETIME_MAX : hint;
	s->received = c->now_ms;
	s->ticket_len = tl;
	memcpy(s->ticket, ticket, tl);
	memcpy(s->server_name, c->server_name, sizeof s->server_name);
	s->ems = c->ems;
	return 0;
}

static int server_finished12(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t thash[TLS_MAX_HASH], want[12];
	if (len != 4 + sizeof want)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Finished length");
	size_t hl = tls_thash(c, thash);
	tls12_finished(c->suite->hash, c->master, false, thash, hl, want);
	if (!tls_ct_eq(want, msg + 4, sizeof want))
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "server Finished does not verify");
	tls_hash_msg(c, msg, len);
	/* Abbreviated handshake: the server finished first (RFC 5246 7.3). */
	if (c->resumed) {
		int a = send_finished12(c);
		if (a)
			return a;
	}
	tls_established(c);
	return 0;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static int server_hello(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	struct tls_exts x;
	uint16_t legacy = rd_be16(&r);
	const uint8_t *random = rd_take(&r, 32);
	uint8_t sid_len = rd_u8(&r);
	const uint8_t *sid = rd_take(&r, sid_len);
	uint16_t suite = rd_be16(&r);
	uint8_t comp = rd_u8(&r);
	if (!rd_ok(&r) || sid_len > 32)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ServerHello");
	int a = tls_exts_parse(&r, &x);
	if (a || rd_left(&r) != 0)
		return tls_fail(c, a ? a : TLS_ALERT_DECODE_ERROR, "ServerHello extensions");

	/* RFC 8446 4.2.1: supported_versions decides, and names 1.3; else
	 * the legacy field, 1.2 and nothing older (RFC 8996). */
	uint16_t version = TLS_V12;
	const struct tls_ext *sv = tls_exts_find(&x, TLS_EXT_SUPPORTED_VERSIONS);
	if (sv) {
		if (sv->len != 2)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "supported_versions");
		version = load_be16(sv->data);
		if (version != TLS_V13 || !tls_version_on(c, TLS_V13))
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"selected version not offered");
	} else if (legacy != TLS_V12 || !tls_version_on(c, TLS_V12)) {
		return tls_fail(c, TLS_ALERT_PROTOCOL_VERSION, "server version not supported");
	}
	bool hrr = memcmp(random, tls_hrr_random, 32) == 0;
	/* RFC 8446 4.1.4: after a HelloRetryRequest, its version. */
	if ((hrr || c->hrr_done) && version != TLS_V13)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "version differs from the HRR's");
	const struct tls_suite_info *si = suite_offered(c, suite);
	if (!si || si->version != version)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "suite not offered");
	if (comp != 0)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "compression");
	if (version == TLS_V13) {
		/* RFC 8446 4.1.3: legacy_session_id_echo is ours. */
		if (sid_len != c->session_id_len || memcmp(sid, c->session_id, sid_len) != 0)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "session ID not echoed");
		return hrr ? hello_retry(c, msg, len, si, &x)
			   : server_hello13(c, msg, len, si, random, &x);
	}
	/* RFC 8446 4.1.3: a 1.3 server's downgrade to 1.2 is an attack. */
	if (tls_version_on(c, TLS_V13) && memcmp(random + 24, tls_downgrade12, 8) == 0)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "downgrade sentinel");
	return server_hello12(c, msg, len, si, random, sid, sid_len, &x);
}

/* ChangeCipherSpec (1.2 only; conn.c drops 1.3's): the server's keys. */
static int change_cipher_spec(struct tls_conn *c)
{
	if (c->version != TLS_V12 || c->hs != HS_WAIT_CCS)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected ChangeCipherSpec");
	keys12(c, false);
	c->hs = HS_WAIT_FINISHED;
	return 0;
}

int tls_client_hs(struct tls_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
	if (!msg)
		return change_cipher_spec(c);
	if (c->hs == HS_DONE) {
		if (type == TLS_HS_NEW_SESSION_TICKET && c->version == TLS_V13)
			return new_session_ticket13(c, msg, len);
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "message after the handshake");
	}
	/* RFC 5246 7.4.1.1: a HelloRequest while negotiating is ignored, and
	 * is no part of the transcript. */
	if (type == TLS_HS_HELLO_REQUEST && c->version == TLS_V12)
		return len == 4 ? 0 : tls_fail(c, TLS_ALERT_DECODE_ERROR, "HelloRequest");
	bool v13 = c->version == TLS_V13;
	switch (c->hs) {
	case HS_WAIT_SH:
		if (type == TLS_HS_SERVER_HELLO)
			return server_hello(c, msg, len);
		break;
	case HS_WAIT_EE:
		if (type == TLS_HS_ENCRYPTED_EXTENSIONS)
			return encrypted_extensions(c, msg, len);
		break;
	case HS_WAIT_CERT_CR:
		if (type == TLS_HS_CERTIFICATE_REQUEST)
			return cert_request13(c, msg, len);
		if (type == TLS_HS_CERTIFICATE)
			return server_certificate(c, msg, len);
		break;
	case HS_WAIT_CERT:
		if (type == TLS_HS_CERTIFICATE)
			return server_certificate(c, msg, len);
		break;
	case HS_WAIT_CV:
		if (type == TLS_HS_CERTIFICATE_VERIFY)
			return server_cert_verify(c, msg, len);
		break;
	case HS_WAIT_FINISHED:
		if (type == TLS_HS_FINISHED)
			return v13 ? server_finished13(c, msg, len)
				   : server_finished12(c, msg, len);
		break;
	case HS_WAIT_SKE:
		if (type == TLS_HS_SERVER_KEY_EXCHANGE)
			return server_key_exchange(c, msg, len);
		break;
	case HS_WAIT_SHD:
		/* RFC 5246 7.3: at most one CertificateRequest, before the Done. */
		if (type == TLS_HS_CERTIFICATE_REQUEST && !c->peer_cert_requested)
			return cert_request12(c, msg, len);
		if (type == TLS_HS_SERVER_HELLO_DONE)
			return server_hello_done(c, msg, len);
		break;
	case HS_WAIT_NST:
		/* RFC 5077 3.3: promised by the ServerHello, so required. */
		if (type == TLS_HS_NEW_SESSION_TICKET)
			return new_session_ticket12(c, msg, len);
		break;
	default:
		break;
	}
	return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected handshake message");
}
