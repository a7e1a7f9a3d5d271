/*
 * ext.c - extension blocks, configuration defaults, names, the special
 * random values of RFC 8446 4.1.3 and 4.1.4.
 */
#include "core/err.h"
#include "core/log.h"
#include "tls/tls_int.h"

/* RFC 8446 4.1.3: the last 8 bytes of a 1.2 ServerHello.random from a
 * server that could speak 1.3 ("DOWNGRD" 01). */
const uint8_t tls_downgrade12[8] = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01};

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest"). */
const uint8_t tls_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

int tls_exts_parse(struct rd *r, struct tls_exts *out)
{
	out->n = 0;
	out->last_is_psk = false;
	if (rd_left(r) == 0)
		return 0; /* no extensions block at all (RFC 5246 7.4.1.2) */
	uint16_t total = rd_be16(r);
	struct rd x = rd_sub(r, total);
	if (!rd_ok(r))
		return TLS_ALERT_DECODE_ERROR;
	while (rd_left(&x) > 0) {
		uint16_t type = rd_be16(&x);
		uint16_t len = rd_be16(&x);
		const uint8_t *data = rd_take(&x, len);
		if (!rd_ok(&x))
			return TLS_ALERT_DECODE_ERROR;
		/* RFC 8446 4.2: no type may appear twice. */
		for (unsigned i = 0; i < out->n; i++)
			if (out->e[i].type == type)
				return TLS_ALERT_ILLEGAL_PARAMETER;
		if (out->n == TLS_MAX_EXTS)
			return TLS_ALERT_DECODE_ERROR;
		out->e[out->n].type = type;
		out->e[out->n].data = data;
		out->e[out->n].len = len;
		out->n++;
		out->last_is_psk = type == TLS_EXT_PRE_SHARED_KEY;
	}
	return 0;
}

const struct tls_ext *tls_exts_find(const struct tls_exts *x, uint16_t type)
{
	for (unsigned i = 0; i < x->n; i++)
		if (x->e[i].type == type)
			return &x->e[i];
	return NULL;
}

bool tls_version_on(const struct tls_conn *c, uint16_t v)
{
	return v >= c->cfg->min_version && v <= c->cfg->max_version;
}

bool tls_list_has16(struct rd r, uint16_t v)
{
	while (rd_left(&r) >= 2)
		if (rd_be16(&r) == v)
			return true;
	return false;
}

int tls_ext_list16(const struct tls_ext *e, struct rd *out)
{
	struct rd r = rd_make(e->data, e->len);
	uint16_t n = rd_be16(&r);
	*out = rd_sub(&r, n);
	if (!rd_ok(&r) || rd_left(&r) != 0 || (n & 1) || n == 0)
		return TLS_ALERT_DECODE_ERROR;
	return 0;
}

size_t tls_cv_content(uint8_t *out, const char *ctx, const uint8_t *thash, size_t hlen)
{
	size_t n = strlen(ctx);
	memset(out, 0x20, 64);
	memcpy(out + 64, ctx, n);
	out[64 + n] = 0;
	memcpy(out + 65 + n, thash, hlen);
	return 65 + n + hlen;
}

/* Preference: AES-128-GCM first (hardware AES and the smallest keys),
 * ChaCha20 before AES-256 (constant time without AES-NI). */
static const uint16_t default_suites[] = {TLS_AES_128_GCM_SHA256,   TLS_CHACHA20_POLY1305_SHA256,
					  TLS_AES_256_GCM_SHA384,   TLS_ECDHE_ECDSA_AES128_GCM,
					  TLS_ECDHE_ECDSA_CHACHA20, TLS_ECDHE_ECDSA_AES256_GCM,
					  TLS_ECDHE_RSA_AES128_GCM, TLS_ECDHE_RSA_CHACHA20,
					  TLS_ECDHE_RSA_AES256_GCM, 0};
static const uint16_t default_groups[] = {TLS_GROUP_X25519, TLS_GROUP_P256, TLS_GROUP_P384, 0};

const uint16_t *tls_cfg_suites(const struct tls_config *cfg)
{
	return cfg->suites ? cfg->suites : default_suites;
}

const uint16_t *tls_cfg_groups(const struct tls_config *cfg)
{
	return cfg->groups ? cfg->groups : default_groups;
}

void tls_config_init(struct tls_config *cfg, bool server)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->server = server;
	cfg->min_version = TLS_V12;
	cfg->max_version = TLS_V13;
	cfg->verify_peer = !server;
	cfg->tickets_enabled = false; /* until the caller sets a ticket key */
	cfg->ticket_lifetime = 7200;
	cfg->require_ems = true;
	cfg->in_buf = TLS_REC_HDR + TLS_MAX_CIPHERTEXT;
	cfg->out_buf = TLS_REC_HDR + TLS_MAX_CIPHERTEXT;
	cfg->hs_buf = 16384;
}

int tls_config_check(const struct tls_config *cfg)
{
	const char *why = NULL;
	if (cfg->min_version < TLS_V12 || cfg->max_version > TLS_V13 ||
	    cfg->min_version > cfg->max_version)
		why = "versions must be within TLS 1.2 .. TLS 1.3";
	else if (cfg->server && cfg->ncreds == 0)
		why = "a server needs a certificate";
	else if (cfg->ncreds > TLS_MAX_CREDS || cfg->nalpn > TLS_MAX_ALPN)
		why = "too many credentials or ALPN names";
	else if (cfg->in_buf < 512 + TLS_REC_HDR || cfg->out_buf < 512 + TLS_REC_HDR ||
		 cfg->hs_buf < 1024)
		why = "buffers too small";
	else if (cfg->ticket_lifetime > 604800)
		why = "ticket_lifetime over 7 days (RFC 8446 4.6.1)";
	else if (!cfg->server && cfg->verify_peer && !cfg->trust)
		why = "a verifying client needs trust anchors";
	for (const uint16_t *s = tls_cfg_suites(cfg); !why && *s; s++)
		if (!tls_suite_find(*s))
			why = "unknown cipher suite";
	for (const uint16_t *g = tls_cfg_groups(cfg); !why && *g; g++)
		if (!tls_group_known(*g))
			why = "unknown group";
	for (unsigned i = 0; !why && i < cfg->nalpn; i++) {
		size_t n = cfg->alpn[i] ? strlen(cfg->alpn[i]) : 0;
		if (n == 0 || n > 31)
			why = "ALPN names are 1 to 31 bytes";
	}
	if (why) {
		if (cfg->loop)
			LOG_ERROR(cfg->loop, "%s", why);
		return ATL_EINVAL;
	}
	return ATL_OK;
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case TLS_V12:
		return "TLS1.2";
	case TLS_V13:
		return "TLS1.3";
	}
	return "none";
}

const char *tls_suite_name(uint16_t s)
{
	switch (s) {
	case TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256";
	case TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384";
	case TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256";
	case TLS_ECDHE_ECDSA_AES128_GCM:
		return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case TLS_ECDHE_ECDSA_AES256_GCM:
		return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case TLS_ECDHE_RSA_AES128_GCM:
		return "ECDHE-RSA-AES128-GCM-SHA256";
	case TLS_ECDHE_RSA_AES256_GCM:
		return "ECDHE-RSA-AES256-GCM-SHA384";
	case TLS_ECDHE_RSA_CHACHA20:
		return "ECDHE-RSA-CHACHA20-POLY1305";
	case TLS_ECDHE_ECDSA_CHACHA20:
		return "ECDHE-ECDSA-CHACHA20-POLY1305";
	}
	return "none";
}

const char *tls_group_name(uint16_t g)
{
	switch (g) {
	case TLS_GROUP_X25519:
		return "x25519";
	case TLS_GROUP_P256:
		return "p256";
	case TLS_GROUP_P384:
		return "p384";
	}
	return "none";
}

const char *tls_alert_name(int a)
{
	switch (a) {
	case TLS_ALERT_CLOSE_NOTIFY:
		return "close_notify";
	case TLS_ALERT_UNEXPECTED_MESSAGE:
		return "unexpected_message";
	case TLS_ALERT_BAD_RECORD_MAC:
		return "bad_record_mac";
	case TLS_ALERT_RECORD_OVERFLOW:
		return "record_overflow";
	case TLS_ALERT_HANDSHAKE_FAILURE:
		return "handshake_failure";
	case TLS_ALERT_BAD_CERTIFICATE:
		return "bad_certificate";
	case TLS_ALERT_UNSUPPORTED_CERTIFICATE:
		return "unsupported_certificate";
	case TLS_ALERT_CERTIFICATE_EXPIRED:
		return "certificate_expired";
	case TLS_ALERT_CERTIFICATE_UNKNOWN:
		return "certificate_unknown";
	case TLS_ALERT_ILLEGAL_PARAMETER:
		return "illegal_parameter";
	case TLS_ALERT_UNKNOWN_CA:
		return "unknown_ca";
	case TLS_ALERT_DECODE_ERROR:
		return "decode_error";
	case TLS_ALERT_DECRYPT_ERROR:
		return "decrypt_error";
	case TLS_ALERT_PROTOCOL_VERSION:
		return "protocol_version";
	case TLS_ALERT_INSUFFICIENT_SECURITY:
		return "insufficient_security";
	case TLS_ALERT_INTERNAL_ERROR:
		return "internal_error";
	case TLS_ALERT_INAPPROPRIATE_FALLBACK:
		return "inappropriate_fallback";
	case TLS_ALERT_USER_CANCELED:
		return "user_canceled";
	case TLS_ALERT_NO_RENEGOTIATION:
		return "no_renegotiation";
	case TLS_ALERT_MISSING_EXTENSION:
		return "missing_extension";
	case TLS_ALERT_UNSUPPORTED_EXTENSION:
		return "unsupported_extension";
	case TLS_ALERT_UNRECOGNIZED_NAME:
		return "unrecognized_name";
	case TLS_ALERT_CERTIFICATE_REQUIRED:
		return "certificate_required";
	case TLS_ALERT_NO_APPLICATION_PROTOCOL:
		return "no_application_protocol";
	}
	return "alert";
}
