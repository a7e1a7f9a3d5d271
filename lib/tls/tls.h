/*
 * tls.h - TLS 1.2 and 1.3, client and server, over BearSSL's primitives.
 *
 * Two layers:
 *
 *  1. The engine (struct tls_conn): a state machine that does no I/O,
 *     reads no clock and allocates nothing.  The caller gives it the
 *     memory it runs in (tls_conn_size bytes), feeds it the bytes received
 *     from the peer and drains the bytes it wants sent; application data
 *     goes in and out through tls_conn_read / tls_conn_write.  Every
 *     random byte comes from a per-connection HMAC-DRBG seeded by the
 *     caller; every time comes from the caller (tls_conn_set_time).
 *
 *  2. The adapter (tls_accept / tls_connect / tls_read / tls_write /
 *     tls_close): runs an engine over a lib/net/stack.h TCP connection in
 *     the calling fiber, with deadlines, so a service reads top to bottom.
 *
 * Configuration (struct tls_config) is built once at start-up, may
 * allocate from a struct heap then, and is shared read-only by every
 * connection.  Credentials (certificate chain + private key) and trust
 * anchors are loaded from PEM or DER.
 *
 * Versions: TLS 1.3 (RFC 8446) and TLS 1.2 (RFC 5246 with RFC 7627's
 * extended master secret and RFC 9325's rules), chosen by negotiation.
 * SSL 3.0, TLS 1.0 and 1.1 are never spoken.  Suites are AEAD only:
 * AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, with ECDHE over X25519 or
 * P-256 (and P-384).  docs/tls.md lists the RFC sections implemented.
 *
 * Errors: engine and adapter calls return ATL_OK or a negative ATL_E*
 * value (core/err.h).  A connection that failed remembers why: tls_conn_
 * error gives a TLS_ERR_* or alert detail, and the alert was queued for
 * the peer.  Errors are sticky.
 */
#ifndef ATOLL_TLS_TLS_H
#define ATOLL_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct loop;
struct tcp_conn;

/* ---- Protocol numbers the caller may see --------------------------------- */

#define TLS_V12 0x0303
#define TLS_V13 0x0304

/* Cipher suites (IANA values). */
#define TLS_AES_128_GCM_SHA256	     0x1301
#define TLS_AES_256_GCM_SHA384	     0x1302
#define TLS_CHACHA20_POLY1305_SHA256 0x1303
#define TLS_ECDHE_ECDSA_AES128_GCM   0xC02B
#define TLS_ECDHE_ECDSA_AES256_GCM   0xC02C
#define TLS_ECDHE_RSA_AES128_GCM     0xC02F
#define TLS_ECDHE_RSA_AES256_GCM     0xC030
#define TLS_ECDHE_RSA_CHACHA20	     0xCCA8
#define TLS_ECDHE_ECDSA_CHACHA20     0xCCA9

/* Named groups. */
#define TLS_GROUP_P256	 23
#define TLS_GROUP_P384	 24
#define TLS_GROUP_X25519 29

/* Alert descriptions (RFC 8446 6). */
enum tls_alert {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_HANDSHAKE_FAILURE = 40,
	TLS_ALERT_BAD_CERTIFICATE = 42,
	TLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
	TLS_ALERT_CERTIFICATE_REVOKED = 44,
	TLS_ALERT_CERTIFICATE_EXPIRED = 45,
	TLS_ALERT_CERTIFICATE_UNKNOWN = 46,
	TLS_ALERT_ILLEGAL_PARAMETER = 47,
	TLS_ALERT_UNKNOWN_CA = 48,
	TLS_ALERT_ACCESS_DENIED = 49,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_DECRYPT_ERROR = 51,
	TLS_ALERT_PROTOCOL_VERSION = 70,
	TLS_ALERT_INSUFFICIENT_SECURITY = 71,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_INAPPROPRIATE_FALLBACK = 86,
	TLS_ALERT_USER_CANCELED = 90,
	TLS_ALERT_NO_RENEGOTIATION = 100,
	TLS_ALERT_MISSING_EXTENSION = 109,
	TLS_ALERT_UNSUPPORTED_EXTENSION = 110,
	TLS_ALERT_UNRECOGNIZED_NAME = 112,
	TLS_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
	TLS_ALERT_UNKNOWN_PSK_IDENTITY = 115,
	TLS_ALERT_CERTIFICATE_REQUIRED = 116,
	TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
};

/* ---- Credentials and trust ------------------------------------------------ */

/*
 * A certificate chain with its private key: what a server presents (one
 * per name, chosen by SNI) and what a client presents when asked.  The
 * key is ECDSA (P-256 or P-384) or RSA (2048 to 4096 bits); RSA
 * credentials serve TLS 1.2 only (BearSSL 0.6 has no RSA-PSS, which TLS
 * 1.3 requires for RSA signatures).  Loaded at start-up; the key is wiped
 * by tls_cred_wipe.
 */
struct tls_cred;

/* Load a chain (PEM: one or more CERTIFICATE blocks, end entity first;
 * or one DER certificate) and a key (PEM: EC PRIVATE KEY, PRIVATE KEY
 * (PKCS#8) or RSA PRIVATE KEY; or DER).  Allocates from h.  ATL_EINVAL
 * with a logged reason for anything malformed, for a key that does not
 * match the certificate, or for an unsupported key type. */
int tls_cred_load(struct loop *l, struct heap *h, const void *chain, size_t chain_len,
		  const void *key, size_t key_len, struct tls_cred **out);
/* True when the end-entity certificate covers host name name (SAN dNSName
 * entries, wildcards in the left-most label only, RFC 6125 6.4.3; CN only
 * when there is no SAN). */
bool tls_cred_matches(const struct tls_cred *cr, const char *name);
/* The validity of the end-entity certificate, in seconds since 1970. */
int tls_cred_validity(const struct tls_cred *cr, uint64_t *not_before, uint64_t *not_after);
/* Zero the private key (and forget it). */
void tls_cred_wipe(struct tls_cred *cr);

/* Trust anchors for verifying a peer's chain: every CERTIFICATE in a PEM
 * bundle (such as Debian's /etc/ssl/certs/ca-certificates.crt) or one
 * DER certificate.  Blocks that are not certificates, or certificates
 * BearSSL cannot decode, are skipped and counted in *skipped (may be
 * NULL).  ATL_EINVAL if nothing usable was found. */
struct tls_trust;
int tls_trust_load(struct loop *l, struct heap *h, const void *pem, size_t len,
		   struct tls_trust **out, unsigned *skipped);

/* ---- Configuration --------------------------------------------------------- */

#define TLS_MAX_CREDS 8
#define TLS_MAX_ALPN  8

struct tls_config {
	bool server; /* the role of every connection made with this config */

	uint16_t min_version, max_version; /* TLS_V12 / TLS_V13; defaults both */

	/* Suites and groups in order of preference (0-terminated; NULL: the
	 * defaults of tls_config_init). */
	const uint16_t *suites;
	const uint16_t *groups;

	/* Server: the credentials; creds[0] is the default when SNI names
	 * none of them.  Client: creds[0], if any, answers a
	 * CertificateRequest. */
	struct tls_cred *creds[TLS_MAX_CREDS];
	unsigned ncreds;

	/* Client: the anchors a server's chain must lead to (NULL with
	 * verify_peer false: accept any chain, for tests only).  Server: the
	 * anchors for client certificates when request_client_cert. */
	const struct tls_trust *trust;
	bool verify_peer; /* client default true */
	bool request_client_cert, require_client_cert;

	/* ALPN protocol names ("h2", "http/1.1") in preference order.  A
	 * server with a list answers no_application_protocol to a client
	 * whose list shares none. */
	const char *alpn[TLS_MAX_ALPN];
	unsigned nalpn;

	/* Server: stateless session tickets (RFC 8446 4.6.1, RFC 5077 for
	 * 1.2) are sealed with this key (AES-256-GCM); tickets_enabled false
	 * turns resumption off.  ticket_lifetime in seconds (default 7200,
	 * at most 604800). */
	bool tickets_enabled;
	uint8_t ticket_key[32];
	uint32_t ticket_lifetime;

	/* TLS 1.2: refuse peers that do not offer extended master secret
	 * (RFC 7627 5.2/5.3; default true, as RFC 9325 3.5 recommends). */
	bool require_ems;

	/* Buffer sizes: a record in each direction, and the largest
	 * handshake message taken (a ClientHello; a server's Certificate).
	 * Defaults: 16709 in (the largest legal record), 16709 out, 16384
	 * handshake. */
	size_t in_buf, out_buf, hs_buf;

	struct loop *loop; /* for log lines; may be NULL */
};

/* Fill cfg with the defaults (all fields), role server or client. */
void tls_config_init(struct tls_config *cfg, bool server);
/* Check a config after the caller set it; ATL_EINVAL (logged) if a
 * server has no credentials, a list names an unknown suite or group, or
 * the versions are out of range. */
int tls_config_check(const struct tls_config *cfg);

/* ---- Sessions (client side resumption) ------------------------------------ */

/* What a client keeps to resume: the server's newest ticket with its
 * secret.  Plain data, owned by the caller; zero it when done with it. */
struct tls_session {
	uint16_t version, suite;
	uint8_t secret[48]; /* 1.3: the PSK; 1.2: the master secret */
	uint8_t secret_len;
	uint32_t age_add;      /* 1.3 ticket_age_add */
	uint32_t lifetime;     /* seconds */
	uint64_t received;     /* unix ms when received */
	uint16_t ticket_len;   /* 0: no session */
	uint8_t ticket[512];   /* opaque to the client */
	char server_name[256]; /* the SNI it was made under */
	bool ems;	       /* 1.2: extended master secret was used */
};

/* ---- The engine --------------------------------------------------------------- */

struct tls_conn;

/* Bytes of memory a connection with cfg needs (struct and buffers). */
size_t tls_conn_size(const struct tls_config *cfg);

/*
 * Start a connection in mem (tls_conn_size(cfg) bytes, 16-byte aligned,
 * owned by the caller until tls_conn_wipe).  seed: 32 or more unpredictable
 * bytes for the connection's DRBG.  server_name: the client's SNI and the
 * name its peer's certificate must match (NULL: none, and no name check);
 * ignored by servers.  session: a client's session to resume (NULL: none).
 * A client's ClientHello is queued at once.
 */
struct tls_conn *tls_conn_init(void *mem, size_t mem_len, const struct tls_config *cfg,
			       const void *seed, size_t seed_len, const char *server_name,
			       const struct tls_session *session);

/* The wall clock, unix milliseconds, for certificate validity and ticket
 * ages.  Until it is called the time is 0 and only verify_peer=false
 * clients and tickets-off servers work.  A client builds its ClientHello
 * at the first tls_conn_send_buf / recv_buf / recv_done, so set the time
 * before those. */
void tls_conn_set_time(struct tls_conn *c, uint64_t unix_ms);

/* Received bytes: where to put them (at most *cap bytes; *cap 0 means
 * the engine must first be drained or read), then how many were put. */
uint8_t *tls_conn_recv_buf(struct tls_conn *c, size_t *cap);
/* Processes every complete record.  ATL_OK, or the connection's sticky
 * error (ATL_EINVAL for a protocol failure: an alert was queued; ATL_ECONNRESET
 * for a fatal alert from the peer). */
int tls_conn_recv_done(struct tls_conn *c, size_t n);

/* Bytes to send to the peer (NULL and *len 0 if none), then how many of
 * them were taken. */
const uint8_t *tls_conn_send_buf(struct tls_conn *c, size_t *len);
void tls_conn_send_done(struct tls_conn *c, size_t n);

/* Application data received: copies up to cap bytes.  ATL_OK with *len > 0;
 * ATL_OK with *len == 0 after the peer's close_notify (end of stream);
 * ATL_EAGAIN when nothing is there yet; or the sticky error. */
int tls_conn_read(struct tls_conn *c, void *buf, size_t cap, size_t *len);
/* Seal application data into records (only once established).  *done is
 * how many bytes were taken: fewer than len when the output buffer is
 * full (drain it and call again).  ATL_EAGAIN if none could be taken. */
int tls_conn_write(struct tls_conn *c, const void *data, size_t len, size_t *done);
/* Queue close_notify; nothing can be written after it. */
int tls_conn_close(struct tls_conn *c);
/* TLS 1.3: queue a KeyUpdate (and ask the peer to update its keys too
 * when request_peer).  ATL_ENOTSUP on 1.2. */
int tls_conn_key_update(struct tls_conn *c, bool request_peer);

/* State bits */
#define TLS_ST_HANDSHAKE   1u /* still negotiating */
#define TLS_ST_ESTABLISHED 2u /* application data may flow */
#define TLS_ST_PEER_CLOSED 4u /* close_notify received */
#define TLS_ST_CLOSED	   8u /* close_notify sent or the connection failed */
#define TLS_ST_FAILED	   16u
unsigned tls_conn_state(const struct tls_conn *c);

/* After failure: the alert sent (local failure, *sent true) or received
 * (*sent false).  -1 if none. */
int tls_conn_alert(const struct tls_conn *c, bool *sent);
/* A short text saying why it failed ("" if it did not). */
const char *tls_conn_reason(const struct tls_conn *c);

/* What was negotiated (valid once established). */
uint16_t tls_conn_version(const struct tls_conn *c);
uint16_t tls_conn_suite(const struct tls_conn *c);
uint16_t tls_conn_group(const struct tls_conn *c);
const char *tls_conn_alpn(const struct tls_conn *c);	    /* NULL if none */
const char *tls_conn_server_name(const struct tls_conn *c); /* SNI; NULL if none */
bool tls_conn_resumed(const struct tls_conn *c);
/* Client: the newest session the server offered (ticket_len 0 if none). */
const struct tls_session *tls_conn_session(const struct tls_conn *c);

/* Zero every secret in the connection's memory (keys, DRBG, transcript);
 * the memory may be reused after. */
void tls_conn_wipe(struct tls_conn *c);

/* Short names for logs: "TLS1.3", "TLS_AES_128_GCM_SHA256", "x25519". */
const char *tls_version_name(uint16_t v);
const char *tls_suite_name(uint16_t s);
const char *tls_group_name(uint16_t g);
const char *tls_alert_name(int alert);

/* ---- The adapter: an engine over a TCP connection, in a fiber --------------- */

/*
 * struct tls_stream owns an engine over a struct tcp_conn that the caller
 * gives it (and gets back closed at tls_stream_close).  Calls wait in the
 * calling fiber until their deadline (loop_now time; DEADLINE_NEVER).
 * The memory is the caller's: tls_stream_size(cfg) bytes, 16-aligned.
 */
struct tls_stream;

size_t tls_stream_size(const struct tls_config *cfg);
/* Run the handshake to completion over tcp.  Entropy from plat_entropy,
 * the time from plat_clock_wall.  ATL_OK; ATL_EINVAL (protocol failure,
 * see tls_conn_alert on tls_stream_conn); ATL_ETIMEDOUT; TCP errors. */
int tls_stream_accept(void *mem, size_t mem_len, const struct tls_config *cfg, struct tcp_conn *tcp,
		      uint64_t deadline, struct tls_stream **out);
int tls_stream_connect(void *mem, size_t mem_len, const struct tls_config *cfg,
		       struct tcp_conn *tcp, const char *server_name,
		       const struct tls_session *session, uint64_t deadline,
		       struct tls_stream **out);
/* As tcp_read: *len 0 with ATL_OK at the peer's close_notify (or a TCP
 * close without it, reported as ATL_ECONNRESET: a truncation). */
int tls_read(struct tls_stream *s, void *buf, size_t cap, size_t *len, uint64_t deadline);
/* Seal and send all of len bytes (or fail). */
int tls_write(struct tls_stream *s, const void *data, size_t len, uint64_t deadline);
/* Send close_notify and our FIN, then read and drop what the peer still
 * sends until its FIN or deadline (so that no reset cuts what we sent;
 * TCP_NOWAIT: none), then close the TCP connection and wipe the engine. */
int tls_close(struct tls_stream *s, uint64_t deadline);
struct tls_conn *tls_stream_conn(struct tls_stream *s);

#endif
