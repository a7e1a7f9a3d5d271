/*
 * tlsc - a TLS 1.2 / 1.3 client for interop tests: one connection (two
 * with resume=1) to connect=<addr>:<port>, one exchange, one result line:
 *
 *   tlsc: version=TLS1.3 suite=TLS_AES_128_GCM_SHA256 group=x25519
 *         alpn=none resumed=0 bytes=N sha256=<hex of every byte received>
 *
 * (on one line; an HTTP response adds body=N body_sha256=<hex> for the
 * bytes after its head).  The exchange is an HTTP request (request=;
 * the default is GET / with Host: the SNI name), or with echo=N: N bytes of
 * the pattern of apps/tlsd/tlsargs.h sent in chunks and each chunk's echo
 * read back and compared.  keyupdate=1 sends a KeyUpdate that asks the
 * server to update too (TLS 1.3): halfway through an echo, or before the
 * request.  resume=1 connects a second time with the session ticket the
 * first connection received, and fails unless the server resumed it.
 *
 * The server's chain is verified against ca= (a PEM member of the tar
 * archive on the block device "certs") and must name sni=; verify=0
 * accepts any chain.  cert= and key= (members of the same archive) answer
 * a CertificateRequest.
 *
 * Exit status 0 on success; 1 on a failure (a line says which: the alert,
 * sent or received, and the library's reason); 2 for bad boot arguments.
 */
#include <string.h>

#include "bearssl/bearssl_hash.h"

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "tls/tls.h"

#include "../tlsd/tlsargs.h"

#define TLSC_STACK	(64u << 10) /* BearSSL's signatures run on the fiber's stack */
#define TLSC_IO		16384
#define TLSC_ECHO_CHUNK 8192 /* echo bytes in flight: well under both sides' buffers */
#define TLSC_REQ_MAX	2048
#define TLSC_HEAD_MAX	8192

struct tlsc {
	struct loop *loop;
	struct stack *st;
	struct tls_config cfg;
	struct tlsargs targs;
	struct ip4_ep server;
	const char *sni; /* NULL: none */
	char request[TLSC_REQ_MAX];
	size_t request_len;
	uint64_t echo; /* bytes; 0: the HTTP request */
	bool keyupdate, resume;
	uint64_t timeout;
	size_t stream_size;
	void *mem;
	uint8_t *io, *tx;
	struct tls_session session;
	int status;
};

/* One connection's outcome. */
struct tlsc_result {
	uint64_t bytes;
	br_sha256_context sha;
	/* An HTTP response: its head (up to its blank line) and body. */
	char head[TLSC_HEAD_MAX];
	size_t head_len;
	bool head_done;
	uint64_t body;
	br_sha256_context body_sha;
	uint64_t content_length; /* UINT64_MAX: not given */
};

static const char *or_none(const char *s)
{
	return s && *s ? s : "none";
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint64_t tlsc_deadline(const struct tlsc *t)
{
	return loop_now(t->loop) + t->timeout;
}

/* The value of the Content-Length header in head, UINT64_MAX if none. */
static uint64_t content_length(const char *head, size_t len)
{
	static const char name[] = "content-length:";
	size_t nl = sizeof name - 1;
	for (size_t i = 0; i + nl <= len; i++) {
		if ((i == 0 || head[i - 1] == '\n') && tlsargs_ieq(head + i, nl, name)) {
			uint64_t v = 0;
			size_t j = i + nl;
			while (j < len && head[j] == ' ')
				j++;
			bool any = false;
			for (; j < len && head[j] >= '0' && head[j] <= '9'; j++) {
				v = v * 10 + (uint64_t)(head[j] - '0');
				any = true;
			}
			return any ? v : UINT64_MAX;
		}
	}
	return UINT64_MAX;
}

/* Received application bytes into the hashes (and the HTTP head). */
static void tlsc_account(struct tlsc_result *r, const uint8_t *p, size_t n)
{
	br_sha256_update(&r->sha, p, n);
	r->bytes += n;
	size_t i = 0;
	while (!r->head_done && i < n) {
		if (r->head_len < sizeof r->head)
			r->head[r->head_len++] = (char)p[i];
		i++;
		size_t hl = r->head_len;
		if ((hl >= 4 && !memcmp(r->head + hl - 4, "\r\n\r\n", 4)) ||
		    (hl >= 2 && !memcmp(r->head + hl - 2, "\n\n", 2)) || hl == sizeof r->head) {
			r->head_done = true;
			r->content_length = content_length(r->head, hl);
		}
	}
	if (r->head_done && i < n) {
		br_sha256_update(&r->body_sha, p + i, n - i);
		r->body += n - i;
	}
}

static void tlsc_failed(struct tlsc *t, struct tls_stream *s, int rc, const char *when)
{
	struct tls_conn *c = s ? tls_stream_conn(s) : NULL;
	bool sent = false;
	int alert = c ? tls_conn_alert(c, &sent) : -1;
	con_printf("tlsc: failed: %s: %s alert=%s%s reason=%s\n", when, atl_strerror(rc),
		   alert >= 0 ? tls_alert_name(alert) : "none",
		   alert < 0 ? "" : (sent ? " (sent)" : " (received)"),
		   c ? or_none(tls_conn_reason(c)) : "none");
}

static int tlsc_key_update(struct tlsc *t, struct tls_stream *s)
{
	int rc = tls_conn_key_update(tls_stream_conn(s), true);
	if (rc != ATL_OK)
		con_printf("tlsc: KeyUpdate not sent: %s\n", atl_strerror(rc));
	else
		LOG_INFO(t->loop, "KeyUpdate sent (update_requested)");
	return rc;
}

/* echo=N: chunks of the pattern out, each one's echo back and compared. */
static int tlsc_echo(struct tlsc *t, struct tls_stream *s, struct tlsc_result *r)
{
	bool updated = !t->keyupdate;
	for (uint64_t off = 0; off < t->echo;) {
		if (!updated && off >= t->echo / 2) {
			if (tlsc_key_update(t, s) != ATL_OK)
				return ATL_EINVAL;
			updated = true;
		}
		size_t k =
		    t->echo - off < TLSC_ECHO_CHUNK ? (size_t)(t->echo - off) : TLSC_ECHO_CHUNK;
		tlsargs_fill(t->tx, off, k);
		int rc = tls_write(s, t->tx, k, tlsc_deadline(t));
		if (rc != ATL_OK) {
			tlsc_failed(t, s, rc, "echo write");
			return rc;
		}
		for (size_t got = 0; got < k;) {
			size_t n;
			rc = tls_read(s, t->io, k - got, &n, tlsc_deadline(t));
			if (rc != ATL_OK || n == 0) {
				if (rc == ATL_OK)
					con_printf("tlsc: failed: the server closed after %llu of "
						   "%llu echoed bytes\n",
						   (unsigned long long)(off + got),
						   (unsigned long long)t->echo);
				else
					tlsc_failed(t, s, rc, "echo read");
				return rc == ATL_OK ? ATL_ECONNRESET : rc;
			}
			for (size_t i = 0; i < n; i++) {
				if (t->io[i] != tlsargs_pattern(off + got + i)) {
					con_printf("tlsc: failed: echo differs at byte %llu\n",
						   (unsigned long long)(off + got + i));
					return ATL_EINVAL;
				}
			}
			tlsc_account(r, t->io, n);
			got += n;
		}
		off += k;
	}
	return ATL_OK;
}

/* The request, then everything until the response is complete (its
 * Content-Length) or the server closes. */
static int tlsc_request(struct tlsc *t, struct tls_stream *s, struct tlsc_result *r)
{
	if (t->keyupdate && tlsc_key_update(t, s) != ATL_OK)
		return ATL_EINVAL;
	int rc = tls_write(s, t->request, t->request_len, tlsc_deadline(t));
	if (rc != ATL_OK) {
		tlsc_failed(t, s, rc, "request write");
		return rc;
	}
	for (;;) {
		if (r->head_done && r->content_length != UINT64_MAX && r->body >= r->content_length)
			return ATL_OK;
		size_t n;
		rc = tls_read(s, t->io, TLSC_IO, &n, tlsc_deadline(t));
		if (rc != ATL_OK) {
			tlsc_failed(t, s, rc, "response read");
			return rc;
		}
		if (n == 0)
			return ATL_OK; /* close_notify */
		tlsc_account(r, t->io, n);
	}
}

/* One connection; the session it got is kept in t->session. */
static int tlsc_once(struct tlsc *t, const struct tls_session *resume)
{
	struct loop *l = t->loop;
	struct tcp_conn *tcp;
	char a[16];
	int rc = tcp_connect(t->st, &t->server, &tcp, tlsc_deadline(t));
	if (rc != ATL_OK) {
		con_printf("tlsc: failed: cannot connect to %s:%u: %s\n",
			   ip4_fmt(t->server.addr, a), t->server.port, atl_strerror(rc));
		return rc;
	}
	struct tls_stream *s = NULL;
	rc = tls_stream_connect(t->mem, t->stream_size, &t->cfg, tcp, t->sni, resume,
				tlsc_deadline(t), &s);
	if (rc != ATL_OK) {
		tlsc_failed(t, s, rc, "handshake");
		if (s)
			tls_close(s, TCP_NOWAIT);
		else
			tcp_close(tcp);
		return rc;
	}
	struct tls_conn *c = tls_stream_conn(s);
	LOG_INFO(l, "handshake done: %s %s", tls_version_name(tls_conn_version(c)),
		 tls_suite_name(tls_conn_suite(c)));
	struct tlsc_result *r = heap_alloc(l->heap, sizeof *r, 16);
	if (!r) {
		con_printf("tlsc: failed: heap too small\n");
		tls_close(s, TCP_NOWAIT);
		return ATL_ENOMEM;
	}
	br_sha256_init(&r->sha);
	br_sha256_init(&r->body_sha);
	r->content_length = UINT64_MAX;
	rc = t->echo ? tlsc_echo(t, s, r) : tlsc_request(t, s, r);
	/* The ticket (TLS 1.3: after the handshake) came with the data. */
	const struct tls_session *got = tls_conn_session(c);
	if (got)
		t->session = *got;
	if (rc == ATL_OK) {
		uint8_t h[32];
		char hx[65], bhx[65];
		br_sha256_out(&r->sha, h);
		hex(h, 32, hx);
		br_sha256_out(&r->body_sha, h);
		hex(h, 32, bhx);
		uint16_t g = tls_conn_group(c);
		char body[120] = "";
		if (!t->echo && r->head_done && !memcmp(r->head, "HTTP/", 5))
			fmt_snprintf(body, sizeof body, " body=%llu body_sha256=%s",
				     (unsigned long long)r->body, bhx);
		con_printf("tlsc: version=%s suite=%s group=%s alpn=%s resumed=%d bytes=%llu "
			   "sha256=%s%s\n",
			   tls_version_name(tls_conn_version(c)), tls_suite_name(tls_conn_suite(c)),
			   g ? tls_group_name(g) : "none", or_none(tls_conn_alpn(c)),
			   tls_conn_resumed(c) ? 1 : 0, (unsigned long long)r->bytes, hx, body);
		if (resume && !tls_conn_resumed(c)) {
			con_printf("tlsc: failed: the server did not resume the session\n");
			rc = ATL_EINVAL;
		}
	}
	int crc = tls_close(s, tlsc_deadline(t));
	LOG_INFO(l, "close: %s", crc == ATL_OK ? "close_notify both ways" : atl_strerror(crc));
	return rc;
}

static void tlsc_run(void *arg)
{
	struct tlsc *t = arg;
	t->status = 1;
	if (tlsc_once(t, NULL) != ATL_OK)
		goto out;
	if (t->resume) {
		if (t->session.ticket_len == 0) {
			con_printf("tlsc: failed: the server sent no session ticket\n");
			goto out;
		}
		struct tls_session s = t->session;
		int rc = tlsc_once(t, &s);
		memset(&s, 0, sizeof s);
		if (rc != ATL_OK)
			goto out;
	}
	t->status = 0;
out:
	memset(&t->session, 0, sizeof t->session);
	loop_stop(t->loop);
}

/* request=: "/path" makes a GET of it; anything else is sent as given,
 * with \r, \n and \\ escapes. */
static int tlsc_set_request(struct tlsc *t, const char *v)
{
	const char *host = t->sni;
	char a[16];
	if (!host)
		host = ip4_fmt(t->server.addr, a);
	int n;
	if (!v || v[0] == '/') {
		n = fmt_snprintf(t->request, sizeof t->request,
				 "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
				 v ? v : "/", host);
		if (n < 0 || (size_t)n >= sizeof t->request)
			return ATL_EINVAL;
		t->request_len = (size_t)n;
		return ATL_OK;
	}
	size_t o = 0;
	for (const char *p = v; *p; p++) {
		char ch = *p;
		if (ch == '\\' && p[1]) {
			p++;
			ch = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p;
		}
		if (o == sizeof t->request)
			return ATL_EINVAL;
		t->request[o++] = ch;
	}
	t->request_len = o;
	return o ? ATL_OK : ATL_EINVAL;
}

static const uint8_t *archive_member(struct loop *l, const struct rd *ar, bool have,
				     const char *key, const char *name, size_t *len)
{
	struct dns_tar_member m;
	if (!have) {
		LOG_ERROR(l, "%s=%s: no certs archive (--block:certs=)", key, name);
		return NULL;
	}
	if (!tlsargs_member(ar, name, &m)) {
		LOG_ERROR(l, "%s=%s: no such member in the certs archive", key, name);
		return NULL;
	}
	*len = m.len;
	return m.data;
}

static int tlsc_configure(struct tlsc *t)
{
	struct loop *l = t->loop;
	const struct plat_start *s = l->start;
	const char *v = args_get(s, "connect");
	if (!v || ip4_parse_ep(v, &t->server) != ATL_OK || t->server.addr == 0 ||
	    t->server.port == 0) {
		LOG_ERROR(l, "give the server as connect=<addr>:<port>");
		return ATL_EINVAL;
	}
	t->sni = args_get(s, "sni");
	if (t->sni && !*t->sni)
		t->sni = NULL;
	uint64_t echo, ku, resume, verify, timeout;
	if (args_get_u64(l, "echo", 0, 1ull << 40, &echo) != ATL_OK ||
	    args_get_u64(l, "keyupdate", 0, 1, &ku) != ATL_OK ||
	    args_get_u64(l, "resume", 0, 1, &resume) != ATL_OK ||
	    args_get_u64(l, "verify", 1, 1, &verify) != ATL_OK ||
	    args_get_u64(l, "timeout", 20, 3600, &timeout) != ATL_OK || timeout == 0)
		return ATL_EINVAL;
	t->echo = echo;
	t->keyupdate = ku != 0;
	t->resume = resume != 0;
	t->timeout = timeout * NS_PER_SEC;
	if (tlsc_set_request(t, args_get(s, "request")) != ATL_OK) {
		LOG_ERROR(l, "request=: empty or longer than %d bytes", TLSC_REQ_MAX);
		return ATL_EINVAL;
	}

	tls_config_init(&t->cfg, false);
	t->cfg.loop = l;
	if (tlsargs_apply(l, &t->cfg, &t->targs) != ATL_OK)
		return ATL_EINVAL;
	struct rd ar;
	int rc = tlsargs_archive(l, &ar);
	if (rc != ATL_OK && rc != ATL_ENOENT)
		return rc;
	bool have = rc == ATL_OK;
	const char *ca = args_get(s, "ca");
	if (verify && !ca) {
		LOG_ERROR(l, "give ca=<member of the certs archive>, or verify=0");
		return ATL_EINVAL;
	}
	t->cfg.verify_peer = verify != 0;
	if (verify) {
		size_t len;
		const uint8_t *pem = archive_member(l, &ar, have, "ca", ca, &len);
		if (!pem)
			return ATL_EINVAL;
		struct tls_trust *trust;
		unsigned skipped = 0;
		if (tls_trust_load(l, l->heap, pem, len, &trust, &skipped) != ATL_OK) {
			LOG_ERROR(l, "ca=%s: no usable trust anchor", ca);
			return ATL_EINVAL;
		}
		t->cfg.trust = trust;
	}
	const char *cert = args_get(s, "cert"), *key = args_get(s, "key");
	if (cert || key) {
		size_t cl = 0, kl = 0;
		const uint8_t *cp = cert ? archive_member(l, &ar, have, "cert", cert, &cl) : NULL;
		const uint8_t *kp = key ? archive_member(l, &ar, have, "key", key, &kl) : NULL;
		if (!cp || !kp) {
			LOG_ERROR(l, "a client certificate needs both cert= and key=");
			return ATL_EINVAL;
		}
		struct tls_cred *cr;
		if (tls_cred_load(l, l->heap, cp, cl, kp, kl, &cr) != ATL_OK)
			return ATL_EINVAL;
		t->cfg.creds[0] = cr;
		t->cfg.ncreds = 1;
	}
	return tls_config_check(&t->cfg);
}

static int tlsc_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct tlsc *t = heap_alloc(&heap, sizeof *t, 16);
	if (!t) {
		LOG_ERROR(&l, "heap too small");
		return 1;
	}
	t->loop = &l;
	if (tlsc_configure(t) != ATL_OK)
		return 2;
	t->stream_size = tls_stream_size(&t->cfg);
	t->mem = heap_alloc(&heap, t->stream_size, 16);
	t->io = heap_alloc(&heap, TLSC_IO, 16);
	t->tx = heap_alloc(&heap, TLSC_ECHO_CHUNK, 16);
	if (!t->mem || !t->io || !t->tx) {
		LOG_ERROR(&l, "heap too small for a %zu-byte connection", t->stream_size);
		return 1;
	}
	int rc = stack_open(&l, "service", &t->st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	if (!fiber_spawn(&l, "tlsc", tlsc_run, t, TLSC_STACK)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	loop_run(&l);
	if (t->cfg.ncreds)
		tls_cred_wipe(t->cfg.creds[0]);
	return t->status;
}

static const struct plat_device_decl tlsc_devices[] = {
    {"service", PLAT_DEV_NET, "the network the server is on"},
    {"certs", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive holding the ca= trust anchors and the cert=/key= "
     "client credential"},
};

static const struct plat_arg_decl tlsc_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"connect", "the server, <addr>:<port> (required)"},
    {"sni", "the server name sent and checked in its certificate (default: none)"},
    {"ca", "the certs archive member holding the trust anchors (PEM)"},
    {"verify", "0: accept any server chain (tests only); default 1"},
    {"cert", "the certs archive member with a client certificate chain (PEM)"},
    {"key", "the certs archive member with the client certificate's key (PEM)"},
    TLSARGS_DECLS,
    {"request", "/path: GET it (default /); or the bytes to send, with \\r \\n escapes"},
    {"echo", "N: send N pattern bytes and expect them echoed (instead of a request)"},
    {"resume", "1: connect again with the first connection's session; fail unless resumed"},
    {"keyupdate", "1: send a KeyUpdate (TLS 1.3) asking the server to update too"},
    {"timeout", "seconds each step may take (default 20)"},
    TCP_ARG_DECLS,
};

const struct plat_app tlsc_app = {
    .name = "tlsc",
    .summary = "TLS 1.2/1.3 client: one HTTP request or echo exchange, one result line",
    .devices = tlsc_devices,
    .ndevices = ARRAY_SIZE(tlsc_devices),
    .args = tlsc_args,
    .nargs = ARRAY_SIZE(tlsc_args),
    .main = tlsc_main,
};
