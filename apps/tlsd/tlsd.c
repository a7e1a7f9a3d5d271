/*
 * tlsd - a TLS 1.2 / 1.3 server for interop tests and first contact.
 *
 * Each TCP connection on port 443 (port=; on the socket stack listen=
 * moves it) runs in a fiber of its own: a handshake, then
 *
 *  - a request starting "GET " is answered with one HTTP/1.1 response and
 *    the connection is closed (Connection: close; close_notify, then the
 *    TCP close): "GET /bytes/N" gets N bytes of the pattern of tlsargs.h,
 *    anything else a one-line text body naming what was negotiated
 *    ("version=TLS1.3 suite=... group=... alpn=... sni=... resumed=0");
 *  - anything else is echoed back, byte for byte, until the peer closes;
 *    a line "KEYUPDATE" makes the server send a TLS 1.3 KeyUpdate that
 *    asks the peer to update too, before echoing it.
 *
 * Credentials come from a POSIX tar archive on the block device "certs":
 * cert.pem with key.pem (the default), and <name>.cert.pem with
 * <name>.key.pem for more names (chosen by SNI); ca.pem holds the trust
 * anchors for client certificates.  Without the device the built-in
 * self-signed "localhost" credential (default_cred.h) is served.
 *
 * One line is logged per handshake, with what was negotiated or why it
 * failed; counters (handshakes, failures, resumed, bytes) at exit.
 */
#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "tls/tls.h"

#include "default_cred.h"
#include "tlsargs.h"

#define TLSD_PORT	       443
#define TLSD_CONNS_DEFAULT     32
#define TLSD_CONNS_MAX	       256
#define TLSD_BACKLOG	       32
#define TLSD_STACK	       (64u << 10) /* BearSSL's signatures run on the fiber's stack */
#define TLSD_IO		       16384	   /* bytes per read and per write */
#define TLSD_REQ_MAX	       8192	   /* an HTTP request head */
#define TLSD_HANDSHAKE_TIMEOUT (10 * NS_PER_SEC)
#define TLSD_IDLE_TIMEOUT      (60 * NS_PER_SEC)
#define TLSD_CLOSE_TIMEOUT     (2 * NS_PER_SEC)

enum {
	TLSD_S_CONNS,
	TLSD_S_REFUSED,
	TLSD_S_HANDSHAKES,
	TLSD_S_FAILURES,
	TLSD_S_RESUMED,
	TLSD_S_BYTES_IN,
	TLSD_S_BYTES,
	TLSD_S_HTTP,
	TLSD_S_KEY_UPDATES,
	TLSD_S_CLOSE_NOTIFY,
	TLSD_S_TRUNCATED,
	TLSD_S_N
};
static const char *const tlsd_stat_names[] = {
    "conns", "refused", "handshakes",  "failures",     "resumed",  "bytes_in",
    "bytes", "http",	"key_updates", "close_notify", "truncated"};

struct tlsd;

struct tlsd_conn {
	struct tlsd *d;
	struct tcp_conn *tcp; /* NULL: the slot is free */
	struct ip4_ep peer;
	void *mem; /* tls_stream_size bytes */
	uint8_t *io;
};

struct tlsd {
	struct loop *loop;
	struct tls_config cfg;
	struct tlsargs targs;
	struct tcp_listener *ls;
	size_t stream_size;
	unsigned nslots;
	struct tlsd_conn *slots;
	uint64_t stat[TLSD_S_N];
	struct counter_group group;
};

static const char *or_none(const char *s)
{
	return s && *s ? s : "none";
}

/* "version=... suite=... group=... alpn=... sni=... resumed=..." */
static int tlsd_describe(const struct tls_conn *c, char *buf, size_t cap)
{
	uint16_t g = tls_conn_group(c);
	return fmt_snprintf(buf, cap, "version=%s suite=%s group=%s alpn=%s sni=%s resumed=%d",
			    tls_version_name(tls_conn_version(c)),
			    tls_suite_name(tls_conn_suite(c)), g ? tls_group_name(g) : "none",
			    or_none(tls_conn_alpn(c)), or_none(tls_conn_server_name(c)),
			    tls_conn_resumed(c) ? 1 : 0);
}

static void tlsd_log_failure(struct tlsd *d, struct tlsd_conn *tc, struct tls_stream *s, int rc,
			     const char *when)
{
	char a[16];
	struct tls_conn *c = s ? tls_stream_conn(s) : NULL;
	bool sent = false;
	int alert = c ? tls_conn_alert(c, &sent) : -1;
	LOG_INFO(d->loop, "%s %s:%u failed: %s alert=%s%s reason=%s", when,
		 ip4_fmt(tc->peer.addr, a), tc->peer.port, atl_strerror(rc),
		 alert >= 0 ? tls_alert_name(alert) : "none",
		 alert < 0 ? ""
		 : sent	   ? " (sent)"
			   : " (received)",
		 c ? or_none(tls_conn_reason(c)) : "none");
}

static uint64_t deadline_in(struct loop *l, uint64_t ns)
{
	return loop_now(l) + ns;
}

/* The HTTP/1.1 answer to a request head in buf. */
static int tlsd_http(struct tlsd *d, struct tlsd_conn *tc, struct tls_stream *s, const char *req,
		     size_t len)
{
	struct loop *l = d->loop;
	char head[512];
	const char *path = req + 4;
	size_t plen = 0;
	while (4 + plen < len && path[plen] != ' ' && path[plen] != '\r' && path[plen] != '\n')
		plen++;
	uint64_t nbytes = 0;
	bool bytes = false;
	if (plen > 7 && !memcmp(path, "/bytes/", 7)) {
		char num[24];
		if (plen - 7 < sizeof num) {
			memcpy(num, path + 7, plen - 7);
			num[plen - 7] = '\0';
			bytes = args_parse_u64(num, &nbytes) == ATL_OK && nbytes <= (1ull << 36);
		}
	}
	d->stat[TLSD_S_HTTP]++;
	int rc;
	if (bytes) {
		int n = fmt_snprintf(head, sizeof head,
				     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				     "Content-Length: %llu\r\nConnection: close\r\n\r\n",
				     (unsigned long long)nbytes);
		rc = tls_write(s, head, (size_t)n, deadline_in(l, TLSD_IDLE_TIMEOUT));
		for (uint64_t off = 0; rc == ATL_OK && off < nbytes;) {
			size_t k = nbytes - off < TLSD_IO ? (size_t)(nbytes - off) : TLSD_IO;
			tlsargs_fill(tc->io, off, k);
			rc = tls_write(s, tc->io, k, deadline_in(l, TLSD_IDLE_TIMEOUT));
			off += k;
			if (rc == ATL_OK)
				d->stat[TLSD_S_BYTES] += k;
		}
		return rc;
	}
	char body[640];
	int bl = tlsd_describe(tls_stream_conn(s), body, sizeof body - 1);
	if (bl < 0 || (size_t)bl >= sizeof body - 1)
		bl = (int)strlen(body);
	body[bl++] = '\n';
	int n = fmt_snprintf(head, sizeof head,
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n",
			     bl);
	rc = tls_write(s, head, (size_t)n, deadline_in(l, TLSD_IDLE_TIMEOUT));
	if (rc == ATL_OK)
		rc = tls_write(s, body, (size_t)bl, deadline_in(l, TLSD_IDLE_TIMEOUT));
	if (rc == ATL_OK)
		d->stat[TLSD_S_BYTES] += (uint64_t)bl;
	return rc;
}

/* Where a line "KEYUPDATE" is in the echoed stream: the bytes of it seen
 * so far (-1: not at the start of a line). */
struct tlsd_ku {
	int matched;
};

/* True when buf ends a KEYUPDATE line. */
static bool tlsd_ku_scan(struct tlsd_ku *k, const uint8_t *buf, size_t len)
{
	static const char word[] = "KEYUPDATE";
	bool hit = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];
		if (k->matched == (int)sizeof word - 1 && (b == '\n' || b == '\r'))
			hit = true;
		if (b == '\n')
			k->matched = 0;
		else if (k->matched >= 0 && k->matched < (int)sizeof word - 1 &&
			 b == (uint8_t)word[k->matched])
			k->matched++;
		else if (!(b == '\r' && k->matched == (int)sizeof word - 1))
			k->matched = -1;
	}
	return hit;
}

/* Echo until the peer closes; the first len bytes are already in tc->io. */
static int tlsd_echo(struct tlsd *d, struct tlsd_conn *tc, struct tls_stream *s, size_t len)
{
	struct loop *l = d->loop;
	struct tlsd_ku ku = {0};
	for (;;) {
		if (tlsd_ku_scan(&ku, tc->io, len)) {
			int rc = tls_conn_key_update(tls_stream_conn(s), true);
			if (rc == ATL_OK) {
				d->stat[TLSD_S_KEY_UPDATES]++;
				LOG_INFO(l, "KeyUpdate sent (update_requested)");
			} else {
				LOG_INFO(l, "KeyUpdate refused: %s", atl_strerror(rc));
			}
		}
		int rc = tls_write(s, tc->io, len, deadline_in(l, TLSD_IDLE_TIMEOUT));
		if (rc != ATL_OK)
			return rc;
		d->stat[TLSD_S_BYTES] += len;
		rc = tls_read(s, tc->io, TLSD_IO, &len, deadline_in(l, TLSD_IDLE_TIMEOUT));
		if (rc != ATL_OK)
			return rc;
		if (len == 0)
			return ATL_OK;
		d->stat[TLSD_S_BYTES_IN] += len;
	}
}

static void tlsd_conn_run(void *arg)
{
	struct tlsd_conn *tc = arg;
	struct tlsd *d = tc->d;
	struct loop *l = d->loop;
	char a[16];
	struct tls_stream *s = NULL;
	int rc = tls_stream_accept(tc->mem, d->stream_size, &d->cfg, tc->tcp,
				   deadline_in(l, TLSD_HANDSHAKE_TIMEOUT), &s);
	if (rc != ATL_OK) {
		d->stat[TLSD_S_FAILURES]++;
		tlsd_log_failure(d, tc, s, rc, "handshake with");
		if (s)
			tls_close(s, TCP_NOWAIT);
		else
			tcp_close(tc->tcp);
		goto out;
	}
	struct tls_conn *c = tls_stream_conn(s);
	d->stat[TLSD_S_HANDSHAKES]++;
	if (tls_conn_resumed(c))
		d->stat[TLSD_S_RESUMED]++;
	char desc[600];
	tlsd_describe(c, desc, sizeof desc);
	LOG_INFO(l, "handshake with %s:%u: %s", ip4_fmt(tc->peer.addr, a), tc->peer.port, desc);

	/* Enough of the first bytes to tell a GET from anything else. */
	size_t len = 0;
	bool http = false;
	for (;;) {
		size_t n;
		rc = tls_read(s, tc->io + len, TLSD_REQ_MAX - len, &n,
			      deadline_in(l, TLSD_IDLE_TIMEOUT));
		if (rc != ATL_OK || n == 0)
			break;
		len += n;
		d->stat[TLSD_S_BYTES_IN] += n;
		http = !memcmp(tc->io, "GET ", len < 4 ? len : 4);
		if (!http)
			break;
		if (len < 4)
			continue;
		/* A GET: the head is complete at its blank line. */
		bool end = false;
		for (size_t i = 3; i < len && !end; i++)
			end = !memcmp(tc->io + i - 3, "\r\n\r\n", 4);
		for (size_t i = 1; i < len && !end; i++)
			end = !memcmp(tc->io + i - 1, "\n\n", 2);
		if (end || len == TLSD_REQ_MAX)
			break;
	}
	http = http && len >= 4;
	if (rc == ATL_OK && len > 0)
		rc = http ? tlsd_http(d, tc, s, (const char *)tc->io, len)
			  : tlsd_echo(d, tc, s, len);
	if (rc == ATL_OK && !http) {
		d->stat[TLSD_S_CLOSE_NOTIFY]++;
		LOG_INFO(l, "%s:%u closed cleanly (close_notify received)",
			 ip4_fmt(tc->peer.addr, a), tc->peer.port);
	} else if (rc == ATL_ECONNRESET && !(tls_conn_state(c) & TLS_ST_FAILED)) {
		d->stat[TLSD_S_TRUNCATED]++;
		LOG_INFO(l, "%s:%u closed without close_notify (truncation)",
			 ip4_fmt(tc->peer.addr, a), tc->peer.port);
	} else if (rc != ATL_OK) {
		tlsd_log_failure(d, tc, s, rc, "connection from");
	}
	/* Our close_notify: after the HTTP response (Connection: close), or
	 * the answer to the peer's. */
	int crc = tls_close(s, deadline_in(l, TLSD_CLOSE_TIMEOUT));
	if (http && rc == ATL_OK)
		LOG_INFO(l, "%s:%u: response sent, then close_notify: %s",
			 ip4_fmt(tc->peer.addr, a), tc->peer.port,
			 crc == ATL_OK ? "sent" : atl_strerror(crc));
	else if (crc != ATL_OK)
		LOG_DEBUG(l, "%s:%u: close: %s", ip4_fmt(tc->peer.addr, a), tc->peer.port,
			  atl_strerror(crc));
out:
	tc->tcp = NULL; /* the slot is free again */
}

static void tlsd_accept(void *arg)
{
	struct tlsd *d = arg;
	for (;;) {
		struct tcp_conn *c;
		struct ip4_ep peer;
		int rc = tcp_accept(d->ls, &c, &peer, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		d->stat[TLSD_S_CONNS]++;
		struct tlsd_conn *tc = NULL;
		for (unsigned i = 0; i < d->nslots && !tc; i++)
			if (!d->slots[i].tcp)
				tc = &d->slots[i];
		if (!tc || !fiber_spawn(d->loop, "tlsd-conn", tlsd_conn_run, tc, TLSD_STACK)) {
			d->stat[TLSD_S_REFUSED]++;
			tcp_close(c);
			continue;
		}
		tc->tcp = c;
		tc->peer = peer;
	}
}

static int tlsd_configure(struct tlsd *d)
{
	struct loop *l = d->loop;
	tls_config_init(&d->cfg, true);
	d->cfg.loop = l;
	if (tlsargs_apply(l, &d->cfg, &d->targs) != ATL_OK)
		return ATL_EINVAL;
	uint64_t tickets;
	if (args_get_u64(l, "tickets", 1, 1, &tickets) != ATL_OK)
		return ATL_EINVAL;
	d->cfg.tickets_enabled = tickets != 0;
	plat_entropy(d->cfg.ticket_key, sizeof d->cfg.ticket_key);
	const char *cc = args_get(l->start, "client-cert");
	if (cc && !strcmp(cc, "request")) {
		d->cfg.request_client_cert = true;
	} else if (cc && !strcmp(cc, "require")) {
		d->cfg.request_client_cert = true;
		d->cfg.require_client_cert = true;
	} else if (cc && strcmp(cc, "none")) {
		LOG_ERROR(l, "client-cert=%s: give none, request or require", cc);
		return ATL_EINVAL;
	}
	if (tlsargs_load_creds(l, &d->cfg, tlsd_default_cert, sizeof tlsd_default_cert - 1,
			       tlsd_default_key, sizeof tlsd_default_key - 1, false) != ATL_OK)
		return ATL_EINVAL;
	if (d->cfg.request_client_cert && !d->cfg.trust) {
		LOG_ERROR(l, "client-cert=%s needs ca.pem in the certs archive", cc);
		return ATL_EINVAL;
	}
	if (tls_config_check(&d->cfg) != ATL_OK)
		return ATL_EINVAL;
	return ATL_OK;
}

static int tlsd_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct tlsd *d = heap_alloc(&heap, sizeof *d, 16);
	if (!d) {
		LOG_ERROR(&l, "heap too small");
		return 1;
	}
	d->loop = &l;
	uint64_t port, nconns;
	if (args_get_u64(&l, "port", TLSD_PORT, 65535, &port) != ATL_OK ||
	    args_get_u64(&l, "conns", TLSD_CONNS_DEFAULT, TLSD_CONNS_MAX, &nconns) != ATL_OK ||
	    port == 0 || nconns == 0)
		return 2;
	if (tlsd_configure(d) != ATL_OK)
		return 2;

	d->stream_size = tls_stream_size(&d->cfg);
	d->nslots = (unsigned)nconns;
	d->slots = heap_alloc(&heap, d->nslots * sizeof *d->slots, 16);
	for (unsigned i = 0; d->slots && i < d->nslots; i++) {
		d->slots[i].d = d;
		d->slots[i].mem = heap_alloc(&heap, d->stream_size, 16);
		d->slots[i].io =
		    heap_alloc(&heap, TLSD_REQ_MAX > TLSD_IO ? TLSD_REQ_MAX : TLSD_IO, 16);
		if (!d->slots[i].mem || !d->slots[i].io) {
			d->slots = NULL;
			break;
		}
	}
	if (!d->slots) {
		LOG_ERROR(&l, "heap too small for %u connections of %zu bytes", d->nslots,
			  d->stream_size);
		return 1;
	}

	struct stack *st;
	int rc = stack_open(&l, "service", &st);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}
	struct ip4_ep local = {0, (uint16_t)port};
	rc = tcp_listen(st, &local, TLSD_BACKLOG, &d->ls);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot listen on TCP port %u: %s", (unsigned)port, atl_strerror(rc));
		return 1;
	}
	d->group = (struct counter_group){.name = "tlsd",
					  .names = tlsd_stat_names,
					  .values = d->stat,
					  .n = ARRAY_SIZE(tlsd_stat_names)};
	counters_register(&l, &d->group);
	if (!fiber_spawn(&l, "tlsd-accept", tlsd_accept, d, 0)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	LOG_INFO(&l, "tlsd on TCP port %u (%s stack): %u credential%s, %u connections of %zu bytes",
		 (unsigned)port, st->ops->name, d->cfg.ncreds, d->cfg.ncreds == 1 ? "" : "s",
		 d->nslots, d->stream_size);
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	for (unsigned i = 0; i < d->cfg.ncreds; i++)
		tls_cred_wipe(d->cfg.creds[i]);
	return 0;
}

static const struct plat_device_decl tlsd_devices[] = {
    {"service", PLAT_DEV_NET, "the network the TLS service answers on"},
    {"certs", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive of cert.pem + key.pem, <name>.cert.pem + <name>.key.pem "
     "for SNI, ca.pem for client certificates (default: a built-in self-signed localhost "
     "credential)"},
};

static const struct plat_arg_decl tlsd_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"port", "TCP port (default 443)"},
    {"conns", "TLS connections at once (default 32)"},
    TLSARGS_DECLS,
    {"tickets", "1: session tickets for resumption (default); 0: none"},
    {"client-cert", "none (default), request or require a client certificate (ca.pem)"},
    TCP_ARG_DECLS,
};

const struct plat_app tlsd_app = {
    .name = "tlsd",
    .summary = "TLS 1.2/1.3 server: HTTP GET answers, echo otherwise",
    .devices = tlsd_devices,
    .ndevices = ARRAY_SIZE(tlsd_devices),
    .args = tlsd_args,
    .nargs = ARRAY_SIZE(tlsd_args),
    .main = tlsd_main,
};
