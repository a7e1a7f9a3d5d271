/*
 * server.c - the server's handshakes: TLS 1.3 (RFC 8446 2, 4) and TLS 1.2
 * (RFC 5246 7.3 with RFC 8422 ECDHE, RFC 7627 EMS, RFC 5077 tickets,
 * RFC 5746 renegotiation_info).
 *
 * One ClientHello parser feeds both versions: it picks the version, the
 * credential (by SNI and by what the client can verify), the suite and the
 * group, then hands over to the version's flight.  Tickets are stateless:
 * the session's secret sealed under a key derived from the config's
 * ticket key, so a server keeps nothing per session.
 */
#include "core/err.h"
#include "tls/tls_int.h"

#define SCSV_RENEGOTIATION 0x00FF
#define SCSV_FALLBACK	   0x5600

/* What a ClientHello offered, as far as the choices need it. */
struct hello {
	const uint8_t *random;
	const uint8_t *sid;
	uint8_t sid_len;
	struct rd suites;
	bool scsv_reneg, scsv_fallback;
	struct tls_exts x;
	const struct tls_ext *share; /* the key share chosen (1.3), or NULL */
	uint16_t share_group;
	size_t msg_len; /* the whole ClientHello */
};

static const char sig_ctx_server[] = "TLS 1.3, server CertificateVerify";
static const char sig_ctx_client[] = "TLS 1.3, client CertificateVerify";

/* ---- helpers --------------------------------------------------------------------- */

/* RFC 7301 3.1: the one protocol chosen, if any (EE in 1.3, SH in 1.2). */
static void wr_alpn(const struct tls_conn *c, struct wr *w)
{
	if (!c->alpn[0])
		return;
	size_t n = strlen(c->alpn);
	wr_be16(w, TLS_EXT_ALPN);
	wr_be16(w, (uint16_t)(n + 3));
	wr_be16(w, (uint16_t)(n + 1));
	wr_u8(w, (uint8_t)n);
	wr_bytes(w, c->alpn, n);
}

/* ---- tickets ------------------------------------------------------------------------ */

/* Tickets are sealed like a TLS 1.3 record (AES-256-GCM) under a key
 * HKDF-derived from the config's ticket key, with a random 64-bit
 * sequence number as the nonce's variable part, sent in front. */
#define TICKET_PLAIN_MAX (2 + 2 + 8 + 4 + 4 + 1 + 1 + 48 + 1)

static void ticket_aead(const struct tls_conn *c, struct tls_aead *a)
{
	uint8_t secret[48];
	tls_hkdf_extract(&br_sha384_vtable, (const uint8_t *)"atoll ticket", 12, c->cfg->ticket_key,
			 sizeof c->cfg->ticket_key, secret);
	tls13_aead_init(a, tls_suite_find(TLS_AES_256_GCM_SHA384), secret);
	tls_wipe(secret, sizeof secret);
}

struct ticket {
	uint16_t version, suite;
	uint64_t created_ms;
	uint32_t age_add, lifetime;
	bool ems;
	uint8_t secret[48];
	uint8_t secret_len;
};

/* Seal t into out (cap bytes); returns the ticket's length or 0. */
static size_t ticket_seal(struct tls_conn *c, const struct ticket *t, uint8_t *out, size_t cap)
{
	uint8_t rec[8 + TLS_REC_HDR + TICKET_PLAIN_MAX + 17];
	struct wr w = wr_make(rec + 8 + TLS_REC_HDR, TICKET_PLAIN_MAX);
	wr_be16(&w, t->version);
	wr_be16(&w, t->suite);
	wr_be32(&w, (uint32_t)(t->created_ms >> 32));
	wr_be32(&w, (uint32_t)t->created_ms);
	wr_be32(&w, t->age_add);
	wr_be32(&w, t->lifetime);
	wr_u8(&w, t->ems);
	wr_u8(&w, t->secret_len);
	wr_bytes(&w, t->secret, t->secret_len);
	if (!wr_ok(&w))
		return 0;
	struct tls_aead a;
	ticket_aead(c, &a);
	br_hmac_drbg_generate(&c->rng, rec, 8);
	a.seq = (uint64_t)load_be32(rec) << 32 | load_be32(rec + 4);
	size_t n = 8 + tls_aead_seal(&a, TLS_CT_HANDSHAKE, rec + 8, w.pos);
	tls_wipe(&a, sizeof a);
	if (n > cap) {
		tls_wipe(rec, sizeof rec);
		return 0;
	}
	memcpy(out, rec, n);
	tls_wipe(rec, sizeof rec);
	return n;
}

/* Open a ticket; false if it is not one of ours or has expired. */
static bool ticket_open(struct tls_conn *c, const uint8_t *tk, size_t len, struct ticket *t)
{
	uint8_t rec[8 + TLS_REC_HDR + TICKET_PLAIN_MAX + 17];
	if (!c->cfg->tickets_enabled || len < 8 + TLS_REC_HDR + 17 || len > sizeof rec)
		return false;
	memcpy(rec, tk, len);
	/* The header must say what its length is: the AAD covers it. */
	if (load_be16(rec + 8 + 3) != len - 8 - TLS_REC_HDR) {
		tls_wipe(rec, sizeof rec);
		return false;
	}
	struct tls_aead a;
	ticket_aead(c, &a);
	a.seq = (uint64_t)load_be32(rec) << 32 | load_be32(rec + 4);
	uint8_t type, *p;
	size_t n;
	int bad = tls_aead_open(&a, rec + 8, len - 8, &type, &p, &n);
	tls_wipe(&a, sizeof a);
	bool ok = false;
	if (!bad) {
		struct rd r = rd_make(p, n);
		t->version = rd_be16(&r);
		t->suite = rd_be16(&r);
		t->created_ms = (uint64_t)rd_be32(&r) << 32;
		t->created_ms |= rd_be32(&r);
		t->age_add = rd_be32(&r);
		t->lifetime = rd_be32(&r);
		t->ems = rd_u8(&r);
		t->secret_len = rd_u8(&r);
		if (t->secret_len <= sizeof t->secret)
			rd_copy(&r, t->secret, t->secret_len);
		ok = rd_ok(&r) && rd_left(&r) == 0 && t->secret_len <= sizeof t->secret &&
		     tls_suite_find(t->suite) && c->now_ms >= t->created_ms &&
		     c->now_ms - t->created_ms <= (uint64_t)t->lifetime * 1000;
	}
	tls_wipe(rec, sizeof rec);
	return ok;
}

/* ---- choosing ------------------------------------------------------------------------- */

/* The best scheme cr can sign with that the client accepts; 0 if none. */
static uint16_t pick_scheme(struct tls_conn *c, const struct tls_cred *cr, uint16_t version)
{
	uint16_t mine[8];
	size_t n = tls_cred_schemes(cr, version, mine, ARRAY_SIZE(mine));
	for (size_t i = 0; i < n; i++) {
		if (c->npeer_sig_schemes == 0 && version == TLS_V12)
			return mine[i]; /* RFC 5246 7.4.1.4.1 defaults; we sign SHA-256 */
		for (unsigned j = 0; j < c->npeer_sig_schemes; j++)
			if (c->peer_sig_schemes[j] == mine[i])
				return mine[i];
	}
	return 0;
}

/* The credential for version: the first naming the SNI that can sign
 * for this client, else the first that can sign at all.  groups (TLS
 * 1.2, else NULL): the client's supported_groups, which also bound the
 * curve of an ECDSA certificate (RFC 8422 5.1). */
static const struct tls_cred *pick_cred(struct tls_conn *c, uint16_t version,
					const struct rd *groups, uint16_t *scheme)
{
	const struct tls_config *cfg = c->cfg;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < cfg->ncreds; i++) {
			const struct tls_cred *cr = cfg->creds[i];
			if (pass == 0 &&
			    (!c->server_name[0] || !tls_cred_matches(cr, c->server_name)))
				continue;
			if (groups && cr->key_type == TLS_KEY_EC &&
			    !tls_list_has16(*groups, cr->ec.curve == BR_EC_secp384r1
							 ? TLS_GROUP_P384
							 : TLS_GROUP_P256))
				continue;
			uint16_t s = pick_scheme(c, cr, version);
			if (s) {
				*scheme = s;
				return cr;
			}
		}
	return NULL;
}

/* Can any of the credentials sign for TLS 1.3? */
static bool speaks13(const struct tls_config *cfg)
{
	uint16_t s;
	for (unsigned i = 0; i < cfg->ncreds; i++)
		if (tls_cred_schemes(cfg->creds[i], TLS_V13, &s, 1))
			return true;
	return false;
}

/* Server preference over the client's list, for version (and, on 1.2,
 * the credential's key type). */
static const struct tls_suite_info *pick_suite(struct tls_conn *c, const struct hello *h,
					       uint16_t version, int key_type)
{
	for (const uint16_t *s = tls_cfg_suites(c->cfg); *s; s++) {
		const struct tls_suite_info *si = tls_suite_find(*s);
		if (!si || si->version != version || (version == TLS_V12 && si->kx_sig != key_type))
			continue;
		if (tls_list_has16(h->suites, *s))
			return si;
	}
	return NULL;
}

static int parse_sni(struct tls_conn *c, const struct tls_ext *e)
{
	struct rd r = rd_make(e->data, e->len);
	struct rd list = rd_sub(&r, rd_be16(&r));
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return TLS_ALERT_DECODE_ERROR;
	while (rd_left(&list) > 0) {
		uint8_t type = rd_u8(&list);
		uint16_t n = rd_be16(&list);
		const uint8_t *name = rd_take(&list, n);
		if (!rd_ok(&list) || n == 0)
			return TLS_ALERT_DECODE_ERROR;
		if (type != 0 || c->server_name[0])
			continue; /* RFC 6066 3: one host_name */
		if (n >= sizeof c->server_name)
			return TLS_ALERT_UNRECOGNIZED_NAME;
		for (size_t i = 0; i < n; i++) {
			uint8_t ch = name[i];
			if (ch == 0)
				return TLS_ALERT_ILLEGAL_PARAMETER;
			c->server_name[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		c->server_name[n] = 0;
	}
	return 0;
}

static int parse_sigalgs(struct tls_conn *c, const struct tls_ext *e)
{
	struct rd list;
	if (tls_ext_list16(e, &list))
		return TLS_ALERT_DECODE_ERROR;
	c->npeer_sig_schemes = 0;
	while (rd_left(&list) >= 2) {
		uint16_t s = rd_be16(&list);
		if (c->npeer_sig_schemes < ARRAY_SIZE(c->peer_sig_schemes))
			c->peer_sig_schemes[c->npeer_sig_schemes++] = s;
	}
	return 0;
}

/* RFC 7301 3.2: our first protocol the client also lists. */
static int pick_alpn(struct tls_conn *c, const struct tls_ext *e)
{
	struct rd r = rd_make(e->data, e->len);
	struct rd list = rd_sub(&r, rd_be16(&r));
	if (!rd_ok(&r) || rd_left(&r) != 0 || rd_left(&list) == 0)
		return TLS_ALERT_DECODE_ERROR;
	for (struct rd l = list; rd_left(&l) > 0;) {
		uint8_t n = rd_u8(&l);
		if (n == 0 || !rd_take(&l, n))
			return TLS_ALERT_DECODE_ERROR;
	}
	if (c->cfg->nalpn == 0)
		return 0;
	for (unsigned i = 0; i < c->cfg->nalpn; i++) {
		const char *want = c->cfg->alpn[i];
		size_t wl = strlen(want);
		for (struct rd l = list; rd_left(&l) > 0;) {
			uint8_t n = rd_u8(&l);
			const uint8_t *p = rd_take(&l, n);
			if (n == wl && memcmp(p, want, n) == 0) {
				memcpy(c->alpn, want, wl + 1);
				return 0;
			}
		}
	}
	return tls_fail(c, TLS_ALERT_NO_APPLICATION_PROTOCOL, "no common ALPN protocol");
}

/* The version: supported_versions if sent (RFC 8446 4.2.1), else the
 * legacy field; never below 1.2. */
static int pick_version(struct tls_conn *c, uint16_t legacy, const struct tls_exts *x,
			uint16_t *out)
{
	const struct tls_ext *sv = tls_exts_find(x, TLS_EXT_SUPPORTED_VERSIONS);
	*out = 0;
	if (sv) {
		struct rd r = rd_make(sv->data, sv->len);
		uint8_t n = rd_u8(&r);
		struct rd list = rd_sub(&r, n);
		if (!rd_ok(&r) || rd_left(&r) != 0 || n == 0 || (n & 1))
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "supported_versions");
		if (tls_version_on(c, TLS_V13) && tls_list_has16(list, TLS_V13))
			*out = TLS_V13;
		else if (tls_version_on(c, TLS_V12) && tls_list_has16(list, TLS_V12))
			*out = TLS_V12;
	} else if (legacy >= TLS_V12 && tls_version_on(c, TLS_V12)) {
		*out = TLS_V12;
	}
	if (!*out)
		return tls_fail(c, TLS_ALERT_PROTOCOL_VERSION, "no common protocol version");
	return 0;
}

/* ---- the ServerHello --------------------------------------------------------------- */

static int send_server_hello(struct tls_conn *c, const struct hello *h, bool hrr, bool psk,
			     const uint8_t *ext12, size_t ext12_len)
{
	uint8_t b[512];
	struct wr w = wr_make(b, sizeof b);
	wr_be16(&w, TLS_V12);
	wr_bytes(&w, hrr ? tls_hrr_random : c->server_random, 32);
	if (c->version == TLS_V13) {
		wr_u8(&w, h->sid_len); /* RFC 8446 4.1.3: echoed */
		wr_bytes(&w, h->sid, h->sid_len);
	} else {
		wr_u8(&w, c->session_id_len);
		wr_bytes(&w, c->session_id, c->session_id_len);
	}
	wr_be16(&w, c->suite->id);
	wr_u8(&w, 0);
	size_t xl = w.pos;
	wr_be16(&w, 0);
	if (c->version == TLS_V13) {
		wr_be16(&w, TLS_EXT_SUPPORTED_VERSIONS);
		wr_be16(&w, 2);
		wr_be16(&w, TLS_V13);
		wr_be16(&w, TLS_EXT_KEY_SHARE);
		if (hrr) {
			wr_be16(&w, 2);
			wr_be16(&w, c->group);
		} else {
			wr_be16(&w, (uint16_t)(4 + c->kx.pub_len));
			wr_be16(&w, c->group);
			wr_be16(&w, (uint16_t)c->kx.pub_len);
			wr_bytes(&w, c->kx.pub, c->kx.pub_len);
		}
		if (psk) {
			wr_be16(&w, TLS_EXT_PRE_SHARED_KEY);
			wr_be16(&w, 2);
			wr_be16(&w, 0);
		}
	} else {
		wr_bytes(&w, ext12, ext12_len);
	}
	wr_be16_at(&w, xl, (uint16_t)(w.pos - xl - 2));
	if (!wr_ok(&w))
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "ServerHello too large");
	return tls_send_hs(c, TLS_HS_SERVER_HELLO, b, w.pos);
}

/* The Certificate message: a 1.3 one has a context and per-entry
 * extensions (RFC 8446 4.4.2), a 1.2 one a bare list. */
static int send_certificate(struct tls_conn *c, const struct tls_cred *cr)
{
	size_t body = c->version == TLS_V13 ? 1 + 3 : 3;
	size_t list = 0;
	for (size_t i = 0; cr && i < cr->nchain; i++)
		list += 3 + cr->chain[i].data_len + (c->version == TLS_V13 ? 2 : 0);
	body += list;
	uint8_t hdr[8];
	size_t n = 0;
	hdr[n++] = TLS_HS_CERTIFICATE;
	hdr[n++] = (uint8_t)(body >> 16);
	hdr[n++] = (uint8_t)(body >> 8);
	hdr[n++] = (uint8_t)body;
	if (c->version == TLS_V13)
		hdr[n++] = 0; /* certificate_request_context */
	hdr[n++] = (uint8_t)(list >> 16);
	hdr[n++] = (uint8_t)(list >> 8);
	hdr[n++] = (uint8_t)list;
	int a = tls_send_hs_raw(c, hdr, n);
	for (size_t i = 0; !a && cr && i < cr->nchain; i++) {
		size_t l = cr->chain[i].data_len;
		uint8_t lh[3] = {(uint8_t)(l >> 16), (uint8_t)(l >> 8), (uint8_t)l};
		static const uint8_t noext[2] = {0, 0};
		a = tls_send_hs_raw(c, lh, 3);
		if (!a)
			a = tls_send_hs_raw(c, cr->chain[i].data, l);
		if (!a && c->version == TLS_V13)
			a = tls_send_hs_raw(c, noext, 2);
	}
	return a;
}

/* ---- TLS 1.3 ------------------------------------------------------------------------- */

/* RFC 8446 4.2.11: a PSK from one of our tickets, binder checked.
 * Returns 0 with *psk_len 0 when there is none to use. */
static int check_psk(struct tls_conn *c, const struct hello *h, const uint8_t *msg, uint8_t *psk,
		     size_t *psk_len)
{
	*psk_len = 0;
	const struct tls_ext *e = tls_exts_find(&h->x, TLS_EXT_PRE_SHARED_KEY);
	if (!e)
		return 0;
	if (!h->x.last_is_psk)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "pre_shared_key not last");
	const struct tls_ext *modes = tls_exts_find(&h->x, TLS_EXT_PSK_MODES);
	if (!modes)
		return tls_fail(c, TLS_ALERT_MISSING_EXTENSION, "pre_shared_key without modes");
	struct rd r = rd_make(e->data, e->len);
	struct rd ids = rd_sub(&r, rd_be16(&r));
	size_t binders_off = r.pos;
	struct rd binders = rd_sub(&r, rd_be16(&r));
	if (!rd_ok(&r) || rd_left(&r) != 0 || rd_left(&ids) == 0 || rd_left(&binders) == 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "pre_shared_key");
	uint16_t id_len = rd_be16(&ids);
	const uint8_t *id = rd_take(&ids, id_len);
	uint32_t age = rd_be32(&ids);
	uint8_t bl = rd_u8(&binders);
	const uint8_t *binder = rd_take(&binders, bl);
	if (!rd_ok(&ids) || !rd_ok(&binders) || id_len == 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "pre_shared_key identity");
	/* psk_dhe_ke (1) is the only mode we take (RFC 8446 4.2.9). */
	struct rd m = rd_make(modes->data, modes->len);
	uint8_t mn = rd_u8(&m);
	const uint8_t *mp = rd_take(&m, mn);
	bool dhe = false;
	for (unsigned i = 0; mp && i < mn; i++)
		dhe |= mp[i] == 1;
	struct ticket t;
	if (!dhe || !ticket_open(c, id, id_len, &t) || t.version != TLS_V13)
		return 0;
	const struct tls_suite_info *ts = tls_suite_find(t.suite);
	size_t hl = tls_hash_len(c->suite->hash);
	/* RFC 8446 4.2.11: the PSK's hash must be the suite's. */
	if (ts->hash != c->suite->hash || t.secret_len != hl) {
		tls_wipe(&t, sizeof t);
		return 0;
	}
	/* The obfuscated age is not checked against ours: RFC 8446 8.3's
	 * window guards 0-RTT replay, and 0-RTT is refused. */
	(void)age;
	if (bl != hl) {
		tls_wipe(&t, sizeof t);
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "PSK binder length");
	}
	/* The binder covers the ClientHello up to the binders list
	 * (RFC 8446 4.2.11.2), after whatever came before it. */
	size_t trunc = (size_t)(e->data + binders_off - msg);
	struct tls_transcript th = c->th;
	tls_transcript_update(&th, msg, trunc);
	uint8_t hash[TLS_MAX_HASH], early[TLS_MAX_HASH], bk[TLS_MAX_HASH], empty[TLS_MAX_HASH],
	    want[TLS_MAX_HASH];
	tls_transcript_hash(&th, c->suite->hash, hash);
	tls13_next_secret(c->suite->hash, NULL, t.secret, hl, early);
	struct tls_transcript e0;
	tls_transcript_init(&e0);
	tls_transcript_hash(&e0, c->suite->hash, empty);
	tls_derive_secret(c->suite->hash, early, "res binder", empty, bk);
	tls13_finished(c->suite->hash, bk, hash, want);
	int ok = tls_ct_eq(want, binder, hl);
	tls_wipe(early, sizeof early);
	tls_wipe(bk, sizeof bk);
	tls_wipe(&th, sizeof th);
	if (!ok) {
		tls_wipe(&t, sizeof t);
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "PSK binder does not verify");
	}
	memcpy(psk, t.secret, hl);
	*psk_len = hl;
	tls_wipe(&t, sizeof t);
	return 0;
}

/* RFC 8446 4.2.8: a share from the client for a group we take, in our
 * order; else HelloRetryRequest for our best group it supports. */
static int pick_share13(struct tls_conn *c, struct hello *h, bool *hrr)
{
	const struct tls_ext *ks = tls_exts_find(&h->x, TLS_EXT_KEY_SHARE);
	const struct tls_ext *sg = tls_exts_find(&h->x, TLS_EXT_SUPPORTED_GROUPS);
	if (!ks || !sg)
		return tls_fail(c, TLS_ALERT_MISSING_EXTENSION, "key_share or supported_groups");
	struct rd groups;
	if (tls_ext_list16(sg, &groups))
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "supported_groups");
	struct rd r = rd_make(ks->data, ks->len);
	struct rd shares = rd_sub(&r, rd_be16(&r));
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "key_share");
	/* Check the whole list first: every share well formed, no group
	 * twice, each in supported_groups (RFC 8446 4.2.8). */
	uint16_t seen[16];
	unsigned nseen = 0;
	for (struct rd s = shares; rd_left(&s) > 0;) {
		uint16_t g = rd_be16(&s);
		uint16_t n = rd_be16(&s);
		if (!rd_take(&s, n) || n == 0)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "key_share entry");
		for (unsigned i = 0; i < nseen; i++)
			if (seen[i] == g)
				return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
						"key_share group twice");
		if (!tls_list_has16(groups, g))
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "key_share not in groups");
		if (nseen < ARRAY_SIZE(seen))
			seen[nseen++] = g;
	}
	for (const uint16_t *g = tls_cfg_groups(c->cfg); *g; g++)
		for (struct rd s = shares; rd_left(&s) > 0;) {
			uint16_t sgp = rd_be16(&s);
			uint16_t n = rd_be16(&s);
			const uint8_t *p = rd_take(&s, n);
			/* After a HelloRetryRequest only the group it named. */
			if (sgp != *g || (c->hrr_done && sgp != c->group))
				continue;
			h->share_group = sgp;
			h->share = NULL;
			/* Keep where the key is: reuse the ext slot's fields. */
			c->group = sgp;
			uint8_t shared[48];
			size_t sl;
			int rc = tls_ecdhe_gen(&c->kx, sgp, &c->rng.vtable);
			if (rc == ATL_OK)
				rc = tls_ecdhe_shared(&c->kx, p, n, shared, &sl);
			if (rc != ATL_OK)
				return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "bad key share");
			memcpy(c->shared, shared, sl);
			c->shared_len = sl;
			tls_wipe(shared, sizeof shared);
			*hrr = false;
			return 0;
		}
	if (c->hrr_done)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "no share for the group asked for");
	for (const uint16_t *g = tls_cfg_groups(c->cfg); *g; g++)
		if (tls_list_has16(groups, *g)) {
			c->group = *g;
			*hrr = true;
			return 0;
		}
	return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no common group");
}

static int flight13(struct tls_conn *c, struct hello *h, const uint8_t *msg, size_t len)
{
	const br_hash_class *hc;
	uint8_t thash[TLS_MAX_HASH], psk[TLS_MAX_HASH];
	size_t psk_len = 0;
	bool hrr = false;
	int a;

	if (c->hs == HS_WAIT_CH2) {
		/* RFC 8446 4.1.2: the same suite as the HelloRetryRequest. */
		if (!tls_list_has16(h->suites, c->suite->id))
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"second ClientHello suites");
	} else {
		c->suite = pick_suite(c, h, TLS_V13, 0);
		if (!c->suite)
			return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no common TLS 1.3 suite");
	}
	hc = c->suite->hash;
	size_t hl = tls_hash_len(hc);
	if ((a = pick_share13(c, h, &hrr)))
		return a;
	if (hrr) {
		tls_hash_msg(c, msg, len);
		tls_transcript_hrr_restart(&c->th, hc);
		c->version = TLS_V13;
		if ((a = send_server_hello(c, h, true, false, NULL, 0)))
			return a;
		if (h->sid_len && (a = tls_send_ccs(c)))
			return a;
		c->hrr_done = true;
		c->hs = HS_WAIT_CH2;
		return 0;
	}
	if ((a = check_psk(c, h, msg, psk, &psk_len)))
		return a;
	tls_hash_msg(c, msg, len);
	c->resumed = psk_len > 0;
	if (!c->resumed) {
		c->cred = pick_cred(c, TLS_V13, NULL, &c->sig_scheme);
		if (!c->cred)
			return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE,
					"no certificate for TLS 1.3");
	}
	br_hmac_drbg_generate(&c->rng, c->server_random, 32);
	if ((a = send_server_hello(c, h, false, c->resumed, NULL, 0)))
		return a;
	if (h->sid_len && !c->hrr_done && (a = tls_send_ccs(c)))
		return a;

	/* RFC 8446 7.1: the key schedule up to the handshake traffic keys. */
	uint8_t early[TLS_MAX_HASH];
	tls13_next_secret(hc, NULL, psk_len ? psk : NULL, psk_len, early);
	tls13_next_secret(hc, early, c->shared, c->shared_len, c->secret);
	tls_wipe(early, sizeof early);
	tls_wipe(psk, sizeof psk);
	tls_wipe(c->shared, sizeof c->shared);
	tls_thash(c, thash);
	tls_derive_secret(hc, c->secret, "c hs traffic", thash, c->c_hs_secret);
	tls_derive_secret(hc, c->secret, "s hs traffic", thash, c->s_hs_secret);
	tls_set_write13(c, c->s_hs_secret);
	tls_set_read13(c, c->c_hs_secret);

	/* EncryptedExtensions */
	uint8_t b[128];
	struct wr w = wr_make(b, sizeof b);
	wr_be16(&w, 0);
	wr_alpn(c, &w);
	if (c->server_name[0] && c->cred && tls_cred_matches(c->cred, c->server_name)) {
		wr_be16(&w, TLS_EXT_SERVER_NAME); /* RFC 6066 3: empty, "I used it" */
		wr_be16(&w, 0);
	}
	wr_be16_at(&w, 0, (uint16_t)(w.pos - 2));
	if ((a = tls_send_hs(c, TLS_HS_ENCRYPTED_EXTENSIONS, b, w.pos)))
		return a;

	if (!c->resumed) {
		if (c->cfg->request_client_cert) {
			/* RFC 8446 4.3.2: empty context, signature_algorithms. */
			static const uint8_t cr[] = {
			    0,	  0,	12,   0,    TLS_EXT_SIGNATURE_ALGORITHMS,
			    0,	  8,	0,    6,    0x04,
			    0x03, 0x05, 0x03, 0x04, 0x01};
			if ((a = tls_send_hs(c, TLS_HS_CERTIFICATE_REQUEST, cr, sizeof cr)))
				return a;
			c->peer_cert_requested = true;
		}
		if ((a = send_certificate(c, c->cred)))
			return a;
		uint8_t content[64 + 34 + TLS_MAX_HASH], sig[TLS_MAX_SIG];
		size_t sl = sizeof sig;
		tls_thash(c, thash);
		size_t cl = tls_cv_content(content, sig_ctx_server, thash, hl);
		if (tls_cred_sign(c->cred, c->sig_scheme, content, cl, sig, &sl) != ATL_OK)
			return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "signing failed");
		uint8_t cv[4 + TLS_MAX_SIG];
		store_be16(cv, c->sig_scheme);
		store_be16(cv + 2, (uint16_t)sl);
		memcpy(cv + 4, sig, sl);
		if ((a = tls_send_hs(c, TLS_HS_CERTIFICATE_VERIFY, cv, 4 + sl)))
			return a;
	}
	uint8_t fin[TLS_MAX_HASH];
	tls_thash(c, thash);
	tls13_finished(hc, c->s_hs_secret, thash, fin);
	if ((a = tls_send_hs(c, TLS_HS_FINISHED, fin, hl)))
		return a;
	/* Application secrets over ClientHello..server Finished. */
	tls13_next_secret(hc, c->secret, NULL, 0, c->secret);
	tls_thash(c, thash);
	tls_derive_secret(hc, c->secret, "c ap traffic", thash, c->c_ap_secret);
	tls_derive_secret(hc, c->secret, "s ap traffic", thash, c->s_ap_secret);
	tls_set_write13(c, c->s_ap_secret);
	c->hs = c->peer_cert_requested ? HS_WAIT_CLIENT_CERT : HS_WAIT_FINISHED;
	return 0;
}

/* RFC 8446 4.6.1: one ticket after the handshake. */
static int send_ticket13(struct tls_conn *c)
{
	const br_hash_class *hc = c->suite->hash;
	size_t hl = tls_hash_len(hc);
	struct ticket t = {.version = TLS_V13,
			   .suite = c->suite->id,
			   .created_ms = c->now_ms,
			   .lifetime = c->cfg->ticket_lifetime,
			   .secret_len = (uint8_t)hl};
	uint8_t nonce = c->ticket_count++;
	br_hmac_drbg_generate(&c->rng, &t.age_add, sizeof t.age_add);
	tls_hkdf_expand_label(hc, c->res_secret, "resumption", &nonce, 1, t.secret, hl);
	uint8_t b[4 + 4 + 2 + 256 + 2 + 2];
	struct wr w = wr_make(b, sizeof b);
	wr_be32(&w, t.lifetime);
	wr_be32(&w, t.age_add);
	wr_u8(&w, 1);
	wr_u8(&w, nonce);
	size_t tl = ticket_seal(c, &t, b + w.pos + 2, sizeof b - w.pos - 4);
	tls_wipe(&t, sizeof t);
	if (tl == 0)
		return 0;
	wr_be16(&w, (uint16_t)tl);
	wr_take(&w, tl);
	wr_be16(&w, 0);
	/* Not in the transcript: written as its own record. */
	uint8_t msg[4 + sizeof b];
	msg[0] = TLS_HS_NEW_SESSION_TICKET;
	msg[1] = 0;
	store_be16(msg + 2, (uint16_t)w.pos);
	memcpy(msg + 4, b, w.pos);
	struct tls_transcript keep = c->th;
	int a = tls_send_hs_raw(c, msg, 4 + w.pos);
	c->th = keep;
	return a;
}

/* The client's Certificate (TLS 1.3 only) into c->peer_key. */
static int client_certificate(struct tls_conn *c, const uint8_t *msg, size_t len, bool *empty)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint8_t ctx = rd_u8(&r);
	if (!rd_take(&r, ctx) || ctx != 0)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "certificate context");
	uint32_t ll = (uint32_t)rd_u8(&r) << 16;
	ll |= rd_be16(&r);
	struct rd list = rd_sub(&r, ll);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Certificate");
	const uint8_t *certs[TLS_CRED_MAX_CERTS];
	size_t lens[TLS_CRED_MAX_CERTS], n = 0;
	while (rd_left(&list) > 0) {
		uint32_t cl = (uint32_t)rd_u8(&list) << 16;
		cl |= rd_be16(&list);
		const uint8_t *p = rd_take(&list, cl);
		rd_skip(&list, rd_be16(&list)); /* the entry's extensions */
		if (!rd_ok(&list) || cl == 0)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Certificate entry");
		if (n == TLS_CRED_MAX_CERTS)
			return tls_fail(c, TLS_ALERT_BAD_CERTIFICATE, "chain too long");
		certs[n] = p;
		lens[n++] = cl;
	}
	*empty = n == 0;
	if (n == 0)
		return c->cfg->require_client_cert ? tls_fail(c, TLS_ALERT_CERTIFICATE_REQUIRED,
							      "client sent no certificate")
						   : 0;
	const char *why = "";
	int a =
	    tls_chain_verify(c->cfg->trust, certs, lens, n, NULL, c->now_ms, &c->peer_key, &why);
	return a ? tls_fail(c, a, why) : 0;
}

/* The client's CertificateVerify (1.3: the context string and the
 * transcript hash, RFC 8446 4.4.3). */
static int client_cert_verify(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint16_t scheme = rd_be16(&r);
	uint16_t sl = rd_be16(&r);
	const uint8_t *sig = rd_take(&r, sl);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "CertificateVerify");
	/* Only 1.3 asks for client certificates (docs/tls.md). */
	uint8_t content[64 + 34 + TLS_MAX_HASH], thash[TLS_MAX_HASH];
	size_t hl = tls_thash(c, thash);
	size_t cl = tls_cv_content(content, sig_ctx_client, thash, hl);
	int a = tls_pubkey_verify(&c->peer_key, scheme, content, cl, sig, sl);
	return a ? tls_fail(c, a, "client CertificateVerify does not verify") : 0;
}

static int finished13(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	const br_hash_class *hc = c->suite->hash;
	size_t hl = tls_hash_len(hc);
	uint8_t thash[TLS_MAX_HASH], want[TLS_MAX_HASH];
	if (len != 4 + hl)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Finished length");
	tls_thash(c, thash);
	tls13_finished(hc, c->c_hs_secret, thash, want);
	if (!tls_ct_eq(want, msg + 4, hl))
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "client Finished does not verify");
	tls_hash_msg(c, msg, len);
	tls_thash(c, thash);
	tls_derive_secret(hc, c->secret, "res master", thash, c->res_secret);
	tls_set_read13(c, c->c_ap_secret);
	tls_established(c);
	if (c->cfg->tickets_enabled)
		return send_ticket13(c);
	return 0;
}

/* ---- TLS 1.2 --------------------------------------------------------------------------- */

static void keys12(struct tls_conn *c)
{
	const struct tls_suite_info *s = c->suite;
	size_t kl = s->cipher == TLS_CIPHER_AES128_GCM ? 16 : 32;
	size_t il = s->cipher == TLS_CIPHER_CHACHA20 ? 12 : 4;
	uint8_t kb[2 * 32 + 2 * 12];
	/* RFC 5246 6.3: client key, server key, client IV, server IV. */
	tls12_prf(s->hash, c->master, 48, "key expansion", c->server_random, 32, c->client_random,
		  32, kb, 2 * kl + 2 * il);
	tls12_aead_init(&c->rd, s, kb, kb + 2 * kl);
	/* The write side waits for our ChangeCipherSpec: keep its keys in
	 * the secret slot until then. */
	memcpy(c->s_ap_secret, kb + kl, kl);
	memcpy(c->s_ap_secret + 32, kb + 2 * kl + il, il);
	c->rd.on = false; /* switched on by the client's CCS */
	tls_wipe(kb, sizeof kb);
}

static void write_keys12(struct tls_conn *c)
{
	tls12_aead_init(&c->wr, c->suite, c->s_ap_secret, c->s_ap_secret + 32);
	tls_wipe(c->s_ap_secret, sizeof c->s_ap_secret);
}

/* RFC 5077 3.3: NewSessionTicket (before our CCS). */
static int send_ticket12(struct tls_conn *c)
{
	struct ticket t = {.version = TLS_V12,
			   .suite = c->suite->id,
			   .created_ms = c->now_ms,
			   .lifetime = c->cfg->ticket_lifetime,
			   .ems = c->ems,
			   .secret_len = 48};
	memcpy(t.secret, c->master, 48);
	uint8_t b[4 + 2 + 256];
	store_be32(b, t.lifetime);
	size_t tl = ticket_seal(c, &t, b + 6, sizeof b - 6);
	tls_wipe(&t, sizeof t);
	store_be16(b + 4, (uint16_t)tl);
	return tls_send_hs(c, TLS_HS_NEW_SESSION_TICKET, b, 6 + tl);
}

static int send_finished12(struct tls_conn *c)
{
	uint8_t thash[TLS_MAX_HASH], vd[12];
	int a;
	if (c->send_ticket && (a = send_ticket12(c)))
		return a;
	if ((a = tls_send_ccs(c)))
		return a;
	write_keys12(c);
	size_t hl = tls_thash(c, thash);
	tls12_finished(c->suite->hash, c->master, false, thash, hl, vd);
	return tls_send_hs(c, TLS_HS_FINISHED, vd, 12);
}

static int flight12(struct tls_conn *c, struct hello *h, const uint8_t *msg, size_t len)
{
	const struct tls_ext *e;
	int a;

	/* RFC 5746 3.6: secure renegotiation signalled (and, initially, empty). */
	e = tls_exts_find(&h->x, TLS_EXT_RENEGOTIATION_INFO);
	if (e && (e->len != 1 || e->data[0] != 0))
		return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "renegotiation_info not empty");
	bool reneg = e || h->scsv_reneg;
	/* Client certificates are asked for on 1.3 only (docs/tls.md): a
	 * server that requires one cannot speak 1.2 at all. */
	if (c->cfg->require_client_cert)
		return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE,
				"a client certificate is required, which needs TLS 1.3");
	c->ems = tls_exts_find(&h->x, TLS_EXT_EMS) != NULL;
	if (!c->ems && c->cfg->require_ems)
		return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE,
				"client does not offer extended master secret");
	e = tls_exts_find(&h->x, TLS_EXT_EC_POINT_FORMATS);
	bool pf = e != NULL;
	if (e) {
		struct rd r = rd_make(e->data, e->len);
		uint8_t n = rd_u8(&r);
		const uint8_t *p = rd_take(&r, n);
		bool unc = false;
		for (unsigned i = 0; p && i < n; i++)
			unc |= p[i] == 0;
		if (!rd_ok(&r) || !unc)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "no uncompressed points");
	}
	tls_hash_msg(c, msg, len);
	br_hmac_drbg_generate(&c->rng, c->server_random, 32);
	/* RFC 8446 4.1.3: a 1.3-capable server says it was downgraded.  One
	 * whose certificates are all RSA (1.2 only here) is not 1.3-capable,
	 * and a 1.3 client must not take its 1.2 for an attack. */
	if (c->cfg->max_version >= TLS_V13 && speaks13(c->cfg))
		memcpy(c->server_random + 24, tls_downgrade12, 8);

	/* Resumption: a ticket of ours, a session ID to echo, EMS both times
	 * (RFC 7627 5.3). */
	const struct tls_ext *st = tls_exts_find(&h->x, TLS_EXT_SESSION_TICKET);
	struct ticket t;
	if (st && st->len > 0 && h->sid_len > 0 && ticket_open(c, st->data, st->len, &t)) {
		const struct tls_suite_info *ts = tls_suite_find(t.suite);
		if (t.version == TLS_V12 && t.ems && c->ems && ts->version == TLS_V12 &&
		    tls_list_has16(h->suites, t.suite) && t.secret_len == 48) {
			c->resumed = true;
			c->suite = ts;
			memcpy(c->master, t.secret, 48);
			memcpy(c->session_id, h->sid, h->sid_len);
			c->session_id_len = h->sid_len;
		}
		tls_wipe(&t, sizeof t);
	}
	c->send_ticket = st && c->cfg->tickets_enabled;
	if (!c->resumed) {
		/* RFC 8422 5.1.1: a client without supported_groups takes P-256. */
		e = tls_exts_find(&h->x, TLS_EXT_SUPPORTED_GROUPS);
		struct rd groups = rd_make((const uint8_t *)"\x00\x17", 2);
		if (e && tls_ext_list16(e, &groups))
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "supported_groups");
		c->cred = pick_cred(c, TLS_V12, &groups, &c->sig_scheme);
		if (!c->cred)
			return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no usable certificate");
		c->suite = pick_suite(c, h, TLS_V12, c->cred->key_type);
		if (!c->suite)
			return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no common TLS 1.2 suite");
		c->group = 0;
		for (const uint16_t *g = tls_cfg_groups(c->cfg); *g && !c->group; g++)
			if (tls_list_has16(groups, *g))
				c->group = *g;
		if (!c->group)
			return tls_fail(c, TLS_ALERT_HANDSHAKE_FAILURE, "no common group");
	}

	uint8_t x[64];
	struct wr w = wr_make(x, sizeof x);
	if (reneg) {
		wr_be16(&w, TLS_EXT_RENEGOTIATION_INFO);
		wr_be16(&w, 1);
		wr_u8(&w, 0);
	}
	if (c->ems) {
		wr_be16(&w, TLS_EXT_EMS);
		wr_be16(&w, 0);
	}
	if (pf && !c->resumed) {
		wr_be16(&w, TLS_EXT_EC_POINT_FORMATS);
		wr_be16(&w, 2);
		wr_u8(&w, 1);
		wr_u8(&w, 0);
	}
	if (c->send_ticket) {
		wr_be16(&w, TLS_EXT_SESSION_TICKET);
		wr_be16(&w, 0);
	}
	wr_alpn(c, &w);
	if ((a = send_server_hello(c, h, false, false, x, w.pos)))
		return a;

	if (c->resumed) {
		keys12(c);
		if ((a = send_finished12(c)))
			return a;
		c->hs = HS_WAIT_CCS;
		return 0;
	}
	if ((a = send_certificate(c, c->cred)))
		return a;
	/* ServerKeyExchange: RFC 8422 5.4, signed over both randoms. */
	if (tls_ecdhe_gen(&c->kx, c->group, &c->rng.vtable) != ATL_OK)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "key generation");
	uint8_t ske[4 + 133 + 4 + TLS_MAX_SIG], signed_data[64 + 4 + 133];
	size_t pl = 4 + c->kx.pub_len;
	ske[0] = 3; /* named_curve */
	store_be16(ske + 1, c->group);
	ske[3] = (uint8_t)c->kx.pub_len;
	memcpy(ske + 4, c->kx.pub, c->kx.pub_len);
	memcpy(signed_data, c->client_random, 32);
	memcpy(signed_data + 32, c->server_random, 32);
	memcpy(signed_data + 64, ske, pl);
	size_t sl = TLS_MAX_SIG;
	if (tls_cred_sign(c->cred, c->sig_scheme, signed_data, 64 + pl, ske + pl + 4, &sl) !=
	    ATL_OK)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, "signing failed");
	store_be16(ske + pl, c->sig_scheme);
	store_be16(ske + pl + 2, (uint16_t)sl);
	if ((a = tls_send_hs(c, TLS_HS_SERVER_KEY_EXCHANGE, ske, pl + 4 + sl)))
		return a;
	if ((a = tls_send_hs(c, TLS_HS_SERVER_HELLO_DONE, NULL, 0)))
		return a;
	c->hs = HS_WAIT_CKE;
	return 0;
}

static int client_key_exchange(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg + 4, len - 4);
	uint8_t n = rd_u8(&r);
	const uint8_t *pt = rd_take(&r, n);
	if (!rd_ok(&r) || rd_left(&r) != 0)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ClientKeyExchange");
	uint8_t pms[48], thash[TLS_MAX_HASH];
	size_t pms_len;
	if (tls_ecdhe_shared(&c->kx, pt, n, pms, &pms_len) != ATL_OK)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "bad ECDHE public value");
	tls_hash_msg(c, msg, len);
	/* RFC 7627 3: the session hash runs through ClientKeyExchange. */
	size_t hl = tls_thash(c, thash);
	tls12_master_secret(c->suite->hash, pms, pms_len, c->ems, thash, hl, c->client_random,
			    c->server_random, c->master);
	tls_wipe(pms, sizeof pms);
	tls_wipe(&c->kx, sizeof c->kx);
	keys12(c);
	c->hs = HS_WAIT_CCS;
	return 0;
}

static int finished12(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t thash[TLS_MAX_HASH], want[12];
	if (len != 4 + 12)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "Finished length");
	size_t hl = tls_thash(c, thash);
	tls12_finished(c->suite->hash, c->master, true, thash, hl, want);
	if (!tls_ct_eq(want, msg + 4, 12))
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, "client Finished does not verify");
	tls_hash_msg(c, msg, len);
	if (!c->resumed) {
		int a = send_finished12(c);
		if (a)
			return a;
	}
	tls_established(c);
	return 0;
}

/* ---- the ClientHello ------------------------------------------------------------------- */

static int client_hello(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct hello h;
	memset(&h, 0, sizeof h);
	struct rd r = rd_make(msg + 4, len - 4);
	uint16_t legacy = rd_be16(&r);
	h.random = rd_take(&r, 32);
	h.sid_len = rd_u8(&r);
	h.sid = rd_take(&r, h.sid_len);
	uint16_t sl = rd_be16(&r);
	h.suites = rd_sub(&r, sl);
	uint8_t cml = rd_u8(&r);
	const uint8_t *cm = rd_take(&r, cml);
	if (!rd_ok(&r) || h.sid_len > 32 || sl < 2 || (sl & 1) || cml < 1)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "ClientHello");
	int a = tls_exts_parse(&r, &h.x);
	if (a || rd_left(&r) != 0)
		return tls_fail(c, a ? a : TLS_ALERT_DECODE_ERROR, "ClientHello extensions");
	bool null_comp = false;
	for (unsigned i = 0; i < cml; i++)
		null_comp |= cm[i] == 0;
	if (!null_comp)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "no null compression");
	h.scsv_reneg = tls_list_has16(h.suites, SCSV_RENEGOTIATION);
	h.scsv_fallback = tls_list_has16(h.suites, SCSV_FALLBACK);

	uint16_t version;
	if ((a = pick_version(c, legacy, &h.x, &version)))
		return a;
	if (c->hs == HS_WAIT_CH2) {
		/* RFC 8446 4.1.2: the second ClientHello repeats the first
		 * but for the share (and cookie, padding). */
		if (version != TLS_V13 || memcmp(h.random, c->client_random, 32) != 0)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER,
					"second ClientHello differs");
	}
	memcpy(c->client_random, h.random, 32);
	/* RFC 7507 3: a fallback to below our best is refused. */
	if (h.scsv_fallback && version < c->cfg->max_version)
		return tls_fail(c, TLS_ALERT_INAPPROPRIATE_FALLBACK, "fallback SCSV");

	if (c->hs == HS_START) {
		const struct tls_ext *e = tls_exts_find(&h.x, TLS_EXT_SERVER_NAME);
		if (e && (a = parse_sni(c, e)))
			return tls_fail(c, a, "server_name");
		e = tls_exts_find(&h.x, TLS_EXT_SIGNATURE_ALGORITHMS);
		if (e && (a = parse_sigalgs(c, e)))
			return tls_fail(c, a, "signature_algorithms");
		e = tls_exts_find(&h.x, TLS_EXT_ALPN);
		if (e && (a = pick_alpn(c, e)))
			return a;
		/* A 1.3 client whose only acceptable certificate is 1.2's
		 * (RSA) gets 1.2 when it offers it. */
		uint16_t scheme;
		if (version == TLS_V13 && !pick_cred(c, TLS_V13, NULL, &scheme) &&
		    tls_version_on(c, TLS_V12)) {
			const struct tls_ext *sv = tls_exts_find(&h.x, TLS_EXT_SUPPORTED_VERSIONS);
			struct rd vr = rd_make(sv->data + 1, sv->len - 1);
			if (tls_list_has16(vr, TLS_V12) &&
			    tls_exts_find(&h.x, TLS_EXT_PRE_SHARED_KEY) == NULL)
				version = TLS_V12;
		}
		if (version == TLS_V13 && c->npeer_sig_schemes == 0 &&
		    !tls_exts_find(&h.x, TLS_EXT_PRE_SHARED_KEY))
			return tls_fail(c, TLS_ALERT_MISSING_EXTENSION, "no signature_algorithms");
	}
	c->version = version;
	if (version == TLS_V13) {
		/* RFC 8446 4.1.2: legacy_compression_methods is exactly {0}. */
		if (cml != 1)
			return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "compression methods");
		return flight13(c, &h, msg, len);
	}
	return flight12(c, &h, msg, len);
}

int tls_server_hs(struct tls_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
	bool empty = false;
	int a;

	if (!msg) { /* ChangeCipherSpec, 1.2 */
		if (c->hs != HS_WAIT_CCS)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "ChangeCipherSpec");
		c->rd.on = true;
		c->rd_epoch++;
		c->hs = HS_WAIT_FINISHED;
		return 0;
	}
	switch (c->hs) {
	case HS_START:
	case HS_WAIT_CH2:
		if (type != TLS_HS_CLIENT_HELLO)
			break;
		return client_hello(c, msg, len);
	case HS_WAIT_CLIENT_CERT:
		if (type != TLS_HS_CERTIFICATE)
			break;
		if ((a = client_certificate(c, msg, len, &empty)))
			return a;
		tls_hash_msg(c, msg, len);
		c->hs = empty ? HS_WAIT_FINISHED : HS_WAIT_CV;
		return 0;
	case HS_WAIT_CV:
		if (type != TLS_HS_CERTIFICATE_VERIFY)
			break;
		if ((a = client_cert_verify(c, msg, len)))
			return a;
		tls_hash_msg(c, msg, len);
		c->hs = HS_WAIT_FINISHED;
		return 0;
	case HS_WAIT_CKE:
		if (type != TLS_HS_CLIENT_KEY_EXCHANGE)
			break;
		return client_key_exchange(c, msg, len);
	case HS_WAIT_FINISHED:
		if (type != TLS_HS_FINISHED)
			break;
		return c->version == TLS_V13 ? finished13(c, msg, len) : finished12(c, msg, len);
	default:
		break;
	}
	return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected handshake message");
}
