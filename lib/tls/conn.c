/*
 * conn.c - the engine's public calls: records in and out, handshake
 * message reassembly, alerts, application data, KeyUpdate.
 *
 * Received bytes land in in_buf and are processed a whole record at a
 * time, opened in place.  Application data stays where it was opened
 * until the caller has read it; only then is the record dropped and the
 * next one processed, so in_buf needs room for one record and no more.
 */
#include "core/err.h"
#include "core/log.h"
#include "tls/tls_int.h"

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)
#define NO_REC	   ((size_t)-1)

size_t tls_conn_size(const struct tls_config *cfg)
{
	return ALIGN16(sizeof(struct tls_conn)) + ALIGN16(cfg->in_buf) + ALIGN16(cfg->out_buf) +
	       ALIGN16(cfg->hs_buf);
}

/* ---- output ------------------------------------------------------------------ */

/* Make room for need more bytes at out_len, moving unsent bytes down. */
static bool out_room(struct tls_conn *c, size_t need)
{
	if (c->out_cap - c->out_len >= need)
		return true;
	if (c->out_pos > 0 && c->open_rec == NO_REC) {
		memmove(c->out_buf, c->out_buf + c->out_pos, c->out_len - c->out_pos);
		c->out_len -= c->out_pos;
		c->out_pos = 0;
	}
	return c->out_cap - c->out_len >= need;
}

/* Seal the open handshake record, if any. */
static void flush_open(struct tls_conn *c)
{
	if (c->open_rec == NO_REC)
		return;
	size_t n = tls_aead_seal(&c->wr, TLS_CT_HANDSHAKE, c->out_buf + c->open_rec, c->open_len);
	c->out_len = c->open_rec + n;
	c->open_rec = NO_REC;
	c->open_len = 0;
}

/* Queue one record of type with len bytes from data. */
static int send_record(struct tls_conn *c, uint8_t type, const void *data, size_t len)
{
	flush_open(c);
	size_t pre = tls_aead_prefix(&c->wr), suf = tls_aead_suffix(&c->wr);
	if (!out_room(c, TLS_REC_HDR + pre + len + suf))
		return TLS_ALERT_INTERNAL_ERROR;
	uint8_t *rec = c->out_buf + c->out_len;
	memcpy(rec + TLS_REC_HDR + pre, data, len);
	c->out_len += tls_aead_seal(&c->wr, type, rec, len);
	return 0;
}

int tls_send_hs_raw(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	tls_transcript_update(&c->th, msg, len);
	size_t pre = tls_aead_prefix(&c->wr), suf = tls_aead_suffix(&c->wr);
	while (len > 0) {
		if (c->open_rec == NO_REC || c->open_len == TLS_MAX_RECORD) {
			flush_open(c);
			if (!out_room(c, TLS_REC_HDR + pre + 1 + suf))
				return tls_fail(c, TLS_ALERT_INTERNAL_ERROR,
						"output buffer too small for the flight");
			c->open_rec = c->out_len;
			c->open_len = 0;
		}
		size_t room = c->out_cap - c->open_rec - TLS_REC_HDR - pre - suf - c->open_len;
		size_t n = len;
		if (n > TLS_MAX_RECORD - c->open_len)
			n = TLS_MAX_RECORD - c->open_len;
		if (n > room)
			n = room;
		if (n == 0) {
			if (c->open_len == 0)
				return tls_fail(c, TLS_ALERT_INTERNAL_ERROR,
						"output buffer too small for the flight");
			flush_open(c);
			continue;
		}
		memcpy(c->out_buf + c->open_rec + TLS_REC_HDR + pre + c->open_len, msg, n);
		c->open_len += n;
		msg += n;
		len -= n;
		c->out_len = c->open_rec + TLS_REC_HDR + pre + c->open_len;
	}
	return 0;
}

int tls_send_hs(struct tls_conn *c, uint8_t type, const void *body, size_t len)
{
	uint8_t hdr[4] = {type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	int a = tls_send_hs_raw(c, hdr, 4);
	return a ? a : tls_send_hs_raw(c, body, len);
}

int tls_send_ccs(struct tls_conn *c)
{
	static const uint8_t one = 1;
	struct tls_aead plain = {.on = false};
	/* A CCS is never protected (RFC 8446 5; RFC 5246 7.1 sends it under
	 * the old, null keys). */
	flush_open(c);
	if (!out_room(c, TLS_REC_HDR + 1))
		return TLS_ALERT_INTERNAL_ERROR;
	uint8_t *rec = c->out_buf + c->out_len;
	rec[TLS_REC_HDR] = one;
	c->out_len += tls_aead_seal(&plain, TLS_CT_CCS, rec, 1);
	return 0;
}

static void send_alert(struct tls_conn *c, uint8_t level, uint8_t desc)
{
	uint8_t a[2] = {level, desc};
	(void)send_record(c, TLS_CT_ALERT, a, 2);
}

void tls_set_read13(struct tls_conn *c, const uint8_t *secret)
{
	tls13_aead_init(&c->rd, c->suite, secret);
	c->rd_epoch++;
}

void tls_set_write13(struct tls_conn *c, const uint8_t *secret)
{
	flush_open(c);
	tls13_aead_init(&c->wr, c->suite, secret);
}

void tls_established(struct tls_conn *c)
{
	c->hs = HS_DONE;
	c->state = (c->state & ~TLS_ST_HANDSHAKE) | TLS_ST_ESTABLISHED;
	/* The handshake secrets are no longer needed (RFC 8446 7.1). */
	tls_wipe(c->c_hs_secret, sizeof c->c_hs_secret);
	tls_wipe(c->s_hs_secret, sizeof c->s_hs_secret);
	tls_wipe(&c->kx, sizeof c->kx);
}

int tls_fail(struct tls_conn *c, int alert, const char *why)
{
	if (!c->reason || !c->reason[0])
		c->reason = why;
	return alert;
}

/* A fatal error found here: tell the peer, end the connection. */
static int conn_fail(struct tls_conn *c, int alert)
{
	if (c->state & TLS_ST_FAILED)
		return c->err;
	if (!(c->state & TLS_ST_CLOSED))
		send_alert(c, 2, (uint8_t)alert);
	c->alert = alert;
	c->alert_sent = true;
	if (!c->reason)
		c->reason = tls_alert_name(alert);
	c->state =
	    (c->state & ~(TLS_ST_HANDSHAKE | TLS_ST_ESTABLISHED)) | TLS_ST_FAILED | TLS_ST_CLOSED;
	c->err = ATL_EINVAL;
	if (c->cfg->loop)
		LOG_DEBUG(c->cfg->loop, "%s: sent %s: %s", c->server ? "server" : "client",
			  tls_alert_name(alert), c->reason);
	return c->err;
}

/* ---- set-up ------------------------------------------------------------------- */

struct tls_conn *tls_conn_init(void *mem, size_t mem_len, const struct tls_config *cfg,
			       const void *seed, size_t seed_len, const char *server_name,
			       const struct tls_session *session)
{
	if (mem_len < tls_conn_size(cfg) || ((uintptr_t)mem & 15) || seed_len < 32)
		return NULL;
	struct tls_conn *c = mem;
	memset(c, 0, sizeof *c);
	uint8_t *p = (uint8_t *)mem + ALIGN16(sizeof *c);
	c->in_buf = p;
	c->in_cap = cfg->in_buf;
	p += ALIGN16(cfg->in_buf);
	c->out_buf = p;
	c->out_cap = cfg->out_buf;
	p += ALIGN16(cfg->out_buf);
	c->hs_buf = p;
	c->hs_cap = cfg->hs_buf;
	c->open_rec = NO_REC;
	c->cfg = cfg;
	c->server = cfg->server;
	c->state = TLS_ST_HANDSHAKE;
	c->hs = HS_START;
	c->alert = -1;
	br_hmac_drbg_init(&c->rng, &br_sha256_vtable, seed, seed_len);
	tls_transcript_init(&c->th);
	if (!c->server) {
		if (server_name) {
			size_t n = strlen(server_name);
			if (n >= sizeof c->server_name)
				return NULL;
			memcpy(c->server_name, server_name, n + 1);
		}
		if (session && session->ticket_len > 0)
			c->session = *session;
		/* The ClientHello is built when first asked for, so that
		 * tls_conn_set_time has been called: a resumed ticket's age
		 * and lifetime need the clock. */
		c->hello_pending = true;
	}
	return c;
}

static void client_hello(struct tls_conn *c)
{
	if (!c->hello_pending)
		return;
	c->hello_pending = false;
	int a = tls_client_start(c);
	if (a)
		conn_fail(c, a);
}

void tls_conn_set_time(struct tls_conn *c, uint64_t unix_ms)
{
	c->now_ms = unix_ms;
}

void tls_conn_wipe(struct tls_conn *c)
{
	size_t n =
	    ALIGN16(sizeof *c) + ALIGN16(c->in_cap) + ALIGN16(c->out_cap) + ALIGN16(c->hs_cap);
	tls_wipe(c, n);
}

/* ---- input -------------------------------------------------------------------- */

/* RFC 8446 4.6.3 / 7.2: the peer's KeyUpdate. */
static int key_update_in(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	if (len != 5)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "KeyUpdate length");
	if (msg[4] > 1)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, "KeyUpdate request value");
	uint8_t *rs = c->server ? c->c_ap_secret : c->s_ap_secret;
	tls13_update_secret(c->suite->hash, rs);
	tls_set_read13(c, rs);
	if (msg[4] == 1 && !(c->state & TLS_ST_CLOSED))
		return tls_conn_key_update(c, false) == ATL_OK ? 0 : TLS_ALERT_INTERNAL_ERROR;
	return 0;
}

/* A whole handshake message. */
static int hs_message(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];
	if (c->hs != HS_DONE)
		return c->server ? tls_server_hs(c, type, msg, len)
				 : tls_client_hs(c, type, msg, len);
	if (c->version == TLS_V13) {
		if (type == TLS_HS_KEY_UPDATE)
			return key_update_in(c, msg, len);
		if (type == TLS_HS_NEW_SESSION_TICKET && !c->server)
			return tls_client_hs(c, type, msg, len);
		/* Post-handshake authentication was not offered (RFC 8446
		 * 4.6.2), and nothing else may follow the handshake. */
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "message after the handshake");
	}
	/* 1.2: renegotiation is refused (RFC 5746 4.2 / 4.4, RFC 9325 3.5). */
	if ((c->server && type == TLS_HS_CLIENT_HELLO) ||
	    (!c->server && type == TLS_HS_HELLO_REQUEST)) {
		send_alert(c, 1, TLS_ALERT_NO_RENEGOTIATION);
		return 0;
	}
	return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "message after the handshake");
}

/* Gather handshake fragments; dispatch each whole message. */
static int hs_fragment(struct tls_conn *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
	if (c->hs_len + n > c->hs_cap)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "handshake message too large");
	memcpy(c->hs_buf + c->hs_len, p, n);
	c->hs_len += n;
	size_t off = 0;
	while (c->hs_len - off >= 4) {
		const uint8_t *m = c->hs_buf + off;
		size_t mlen = 4 + ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]);
		if (mlen > c->hs_cap)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, "handshake message too large");
		if (c->hs_len - off < mlen)
			break;
		unsigned epoch = c->rd_epoch;
		int a = hs_message(c, m, mlen);
		if (a)
			return a;
		off += mlen;
		/* RFC 8446 5.1: a key change must fall on a record boundary. */
		if (c->rd_epoch != epoch && c->hs_len > off)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE,
					"handshake data after a key change in one record");
		if (c->state & TLS_ST_FAILED)
			return 0;
	}
	memmove(c->hs_buf, c->hs_buf + off, c->hs_len - off);
	c->hs_len -= off;
	return 0;
}

static int alert_in(struct tls_conn *c, const uint8_t *p, size_t n)
{
	if (n != 2)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, "alert length");
	if (p[1] == TLS_ALERT_CLOSE_NOTIFY) {
		c->state |= TLS_ST_PEER_CLOSED;
		return 0;
	}
	/* RFC 8446 6: every alert but close_notify and user_canceled is
	 * fatal in 1.3; 1.2 warnings are ignored, no_renegotiation included. */
	if (p[1] == TLS_ALERT_USER_CANCELED || (c->version == TLS_V12 && p[0] == 1))
		return 0;
	c->alert = p[1];
	c->alert_sent = false;
	c->reason = "the peer sent a fatal alert";
	c->state = (c->state & ~(TLS_ST_HANDSHAKE | TLS_ST_ESTABLISHED)) | TLS_ST_FAILED |
		   TLS_ST_CLOSED | TLS_ST_PEER_CLOSED;
	c->err = ATL_ECONNRESET;
	return 0;
}

static int ccs_in(struct tls_conn *c, const uint8_t *p, size_t n)
{
	if (n != 1 || p[0] != 1)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "malformed ChangeCipherSpec");
	/* RFC 8446 5.1: no other record type between a message's fragments */
	if (c->hs_len != 0)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE,
				"ChangeCipherSpec inside a message");
	if (c->server && c->hs == HS_START)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE,
				"ChangeCipherSpec before the ClientHello");
	if (c->version == TLS_V13 || (c->server && c->hs == HS_WAIT_CH2)) {
		/* RFC 8446 5: between the first ClientHello and the peer's
		 * Finished a compatibility CCS, however many, is dropped;
		 * one after it is an error. */
		if (c->hs == HS_DONE)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "ChangeCipherSpec");
		return 0;
	}
	return c->server ? tls_server_hs(c, 0, NULL, 0) : tls_client_hs(c, 0, NULL, 0);
}

/* One whole record at in_buf (rec_len bytes).  Returns 0 or an alert;
 * sets app_end when it left application data to read. */
static int record_in(struct tls_conn *c, size_t rec_len)
{
	uint8_t *rec = c->in_buf;
	uint8_t type = rec[0];
	uint8_t *p = rec + TLS_REC_HDR;
	size_t n = rec_len - TLS_REC_HDR;

	if (type == TLS_CT_CCS && (!c->rd.on || c->version == TLS_V13))
		return ccs_in(c, p, n);
	if (c->rd.on) {
		if (c->rd.version == TLS_V13 && type != TLS_CT_APPDATA)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "plaintext record");
		int a = tls_aead_open(&c->rd, rec, rec_len, &type, &p, &n);
		if (a)
			return tls_fail(c, a,
					a == TLS_ALERT_BAD_RECORD_MAC ? "record did not decrypt"
					: a == TLS_ALERT_RECORD_OVERFLOW
					    ? "record over 2^14 inside"
					    : "record with no content type");
	} else if (n > TLS_MAX_RECORD) {
		return tls_fail(c, TLS_ALERT_RECORD_OVERFLOW, "plaintext record over 2^14");
	}
	switch (type) {
	case TLS_CT_HANDSHAKE:
		return hs_fragment(c, p, n);
	case TLS_CT_ALERT:
		if (c->hs_len != 0)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "alert inside a message");
		return alert_in(c, p, n);
	case TLS_CT_CCS: /* RFC 8446 5: never protected */
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "protected ChangeCipherSpec");
	case TLS_CT_APPDATA:
		if (!(c->state & TLS_ST_ESTABLISHED) || !c->rd.on || c->hs_len != 0)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE,
					"data before the handshake");
		if (c->state & TLS_ST_PEER_CLOSED)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "data after close_notify");
		c->app_pos = (size_t)(p - c->in_buf);
		c->app_end = c->app_pos + n;
		return 0;
	}
	return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, "unknown record type");
}

/* Drop the record at the front of in_buf. */
static void drop_record(struct tls_conn *c, size_t rec_len)
{
	memmove(c->in_buf, c->in_buf + rec_len, c->in_len - rec_len);
	c->in_len -= rec_len;
	c->app_pos = c->app_end = 0;
	c->app_rec_len = 0;
}

static int process(struct tls_conn *c)
{
	while (!(c->state & TLS_ST_FAILED) && c->app_rec_len == 0 && c->in_len >= TLS_REC_HDR) {
		const uint8_t *h = c->in_buf;
		size_t len = (size_t)h[3] << 8 | h[4];
		/* RFC 8446 5.1: legacy_record_version is ignored.  The type
		 * is checked before waiting for the body, so that what is not
		 * TLS at all (plain HTTP on 443) fails at once. */
		if (h[0] < TLS_CT_CCS || h[0] > TLS_CT_APPDATA)
			return conn_fail(c, tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE,
						     "unknown record type (not TLS?)"));
		if (len > TLS_MAX_CIPHERTEXT || TLS_REC_HDR + len > c->in_cap)
			return conn_fail(c,
					 tls_fail(c, TLS_ALERT_RECORD_OVERFLOW, "record too long"));
		if (c->in_len < TLS_REC_HDR + len)
			break;
		int a = record_in(c, TLS_REC_HDR + len);
		if (a)
			return conn_fail(c, a);
		if (c->app_end > c->app_pos)
			c->app_rec_len = TLS_REC_HDR + len;
		else
			drop_record(c, TLS_REC_HDR + len);
	}
	return c->err;
}

uint8_t *tls_conn_recv_buf(struct tls_conn *c, size_t *cap)
{
	client_hello(c);
	if (c->state & (TLS_ST_FAILED | TLS_ST_PEER_CLOSED)) {
		*cap = 0;
		return NULL;
	}
	*cap = c->in_cap - c->in_len;
	return c->in_buf + c->in_len;
}

int tls_conn_recv_done(struct tls_conn *c, size_t n)
{
	client_hello(c);
	if (c->err)
		return c->err;
	ASSERT(n <= c->in_cap - c->in_len);
	c->in_len += n;
	return process(c);
}

const uint8_t *tls_conn_send_buf(struct tls_conn *c, size_t *len)
{
	client_hello(c);
	flush_open(c);
	*len = c->out_len - c->out_pos;
	return *len ? c->out_buf + c->out_pos : NULL;
}

void tls_conn_send_done(struct tls_conn *c, size_t n)
{
	ASSERT(n <= c->out_len - c->out_pos);
	c->out_pos += n;
	if (c->out_pos == c->out_len)
		c->out_pos = c->out_len = 0;
}

/* ---- application data ---------------------------------------------------------- */

int tls_conn_read(struct tls_conn *c, void *buf, size_t cap, size_t *len)
{
	*len = 0;
	if (c->app_end > c->app_pos) {
		size_t n = c->app_end - c->app_pos;
		if (n > cap)
			n = cap;
		memcpy(buf, c->in_buf + c->app_pos, n);
		c->app_pos += n;
		*len = n;
		if (c->app_pos == c->app_end) {
			drop_record(c, c->app_rec_len);
			process(c);
		}
		return ATL_OK;
	}
	if (c->err)
		return c->err;
	if (c->state & TLS_ST_PEER_CLOSED)
		return ATL_OK;
	return ATL_EAGAIN;
}

int tls_conn_write(struct tls_conn *c, const void *data, size_t len, size_t *done)
{
	*done = 0;
	if (c->err)
		return c->err;
	if (!(c->state & TLS_ST_ESTABLISHED) || (c->state & TLS_ST_CLOSED))
		return ATL_ENOTCONN;
	flush_open(c);
	const uint8_t *src = data;
	size_t over = TLS_REC_HDR + tls_aead_prefix(&c->wr) + tls_aead_suffix(&c->wr);
	while (len > 0) {
		size_t want = len < TLS_MAX_RECORD ? len : TLS_MAX_RECORD;
		if (!out_room(c, over + want) && c->out_cap - c->out_len <= over)
			break;
		size_t n = c->out_cap - c->out_len - over;
		if (n > want)
			n = want;
		uint8_t *rec = c->out_buf + c->out_len;
		memcpy(rec + TLS_REC_HDR + tls_aead_prefix(&c->wr), src, n);
		c->out_len += tls_aead_seal(&c->wr, TLS_CT_APPDATA, rec, n);
		src += n;
		len -= n;
		*done += n;
	}
	return *done ? ATL_OK : ATL_EAGAIN;
}

int tls_conn_close(struct tls_conn *c)
{
	if (c->state & TLS_ST_CLOSED)
		return c->err;
	send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
	c->state |= TLS_ST_CLOSED;
	return ATL_OK;
}

int tls_conn_key_update(struct tls_conn *c, bool request_peer)
{
	if (c->err)
		return c->err;
	if (c->version != TLS_V13 || !(c->state & TLS_ST_ESTABLISHED))
		return ATL_ENOTSUP;
	uint8_t msg[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, request_peer ? 1 : 0};
	/* Not part of the transcript: sent as a record of its own. */
	if (send_record(c, TLS_CT_HANDSHAKE, msg, sizeof msg))
		return ATL_ENOMEM;
	uint8_t *ws = c->server ? c->s_ap_secret : c->c_ap_secret;
	tls13_update_secret(c->suite->hash, ws);
	tls_set_write13(c, ws);
	return ATL_OK;
}

/* ---- what was negotiated ------------------------------------------------------- */

unsigned tls_conn_state(const struct tls_conn *c)
{
	return c->state;
}

int tls_conn_alert(const struct tls_conn *c, bool *sent)
{
	if (sent)
		*sent = c->alert_sent;
	return c->alert;
}

const char *tls_conn_reason(const struct tls_conn *c)
{
	return c->reason ? c->reason : "";
}

uint16_t tls_conn_version(const struct tls_conn *c)
{
	return c->version;
}

uint16_t tls_conn_suite(const struct tls_conn *c)
{
	return c->suite ? c->suite->id : 0;
}

uint16_t tls_conn_group(const struct tls_conn *c)
{
	return c->group;
}

const char *tls_conn_alpn(const struct tls_conn *c)
{
	return c->alpn[0] ? c->alpn : NULL;
}

const char *tls_conn_server_name(const struct tls_conn *c)
{
	return c->server_name[0] ? c->server_name : NULL;
}

bool tls_conn_resumed(const struct tls_conn *c)
{
	return c->resumed;
}

const struct tls_session *tls_conn_session(const struct tls_conn *c)
{
	return &c->session;
}
