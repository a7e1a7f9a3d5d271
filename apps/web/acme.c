/*
 * acme.c - certificates from an ACME server (RFC 8555) for the web
 * unikernel, obtained at start and renewed before they expire, without a
 * restart.
 *
 * One fiber does it all, in the order of RFC 8555 7.1's overview: the
 * directory, a nonce, an account (a new P-256 key each boot), an order for acme-names=, for each
 * authorization the chosen challenge (http-01: this server answers
 * /.well-known/acme-challenge/<token> on its plain port, web_acme_
 * challenge; dns-01: a TSIG-signed UPDATE adds the TXT record to the DNS
 * server at acme-dns=, and another removes it afterwards), polling until
 * the authorizations are valid, the finalization with a CSR for a fresh
 * P-256 key, polling the order, and the download of the chain.  The new
 * credential replaces the default one (creds[0]: cert.pem or the
 * built-in one) between two handshakes; SNI credentials stay.  Then the
 * fiber sleeps until the renewal time and starts over with a new order.
 *
 * The server is reached over lib/tls (client role) with the anchors of
 * the certs archive's acme-ca.pem, at acme-server= (the directory URL's
 * host when that is an IPv4 address: there is no resolver here).  Every
 * request and answer goes over one keep-alive HTTP/1.1 connection, made
 * again when the server closes it.  Failures are logged with the
 * server's problem document and retried with a backoff.
 *
 * The I/O-free part (JSON, JWS, CSR, the objects) is lib/acme.
 */
#include <string.h>

#include "acme/acme.h"
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/log.h"
#include "dns/xfr.h"

#include "web.h"

#define AC_RX	       32768 /* one answer: head and body (a chain is a few KiB) */
#define AC_TX	       8192  /* one request's JWS (a CSR fits) */
#define AC_STACK       65536
#define AC_TIMEOUT     (30 * NS_PER_SEC) /* one request and its answer */
#define AC_POLLS       60		 /* status polls of an authorization or an order */
#define AC_BACKOFF_0   10		 /* seconds before the first retry after a failure */
#define AC_BACKOFF_MAX 3600
#define AC_DNS_TTL     60
#define AC_DNS_TRIES   4

enum { AC_HTTP01, AC_DNS01 };

enum {
	AC_S_CERTS,
	AC_S_FAILURES,
	AC_S_CHALLENGES, /* http-01 answers served */
	AC_S_REQUESTS,
	AC_S_BAD_NONCE,
	AC_S_DNS_UPDATES,
	AC_S_N
};
static const char *const ac_stat_names[AC_S_N] = {
    "certificates", "failures", "challenges_served", "requests", "bad_nonces", "dns_updates",
};

struct ac_pending { /* an http-01 token being answered */
	char token[ACME_TOKEN_MAX];
	char keyauth[ACME_KEYAUTH_MAX];
};

struct web_acme {
	struct web *w;
	struct loop *loop;
	struct stack *st;

	/* configuration */
	char dir_url[ACME_URL_MAX];
	char hostport[ACME_URL_MAX]; /* the server's host[:port], as URLs name it */
	char sni[ACME_URL_MAX];	     /* the host alone, for SNI and the name check */
	struct ip4_ep server;
	char namebuf[ACME_NAMES_MAX * (ACME_NAME_MAX + 1)];
	const char *names[ACME_NAMES_MAX];
	unsigned nnames;
	int challenge;
	char email[ACME_NAME_MAX + 1];
	uint64_t renew_before; /* seconds; 0: a third of the lifetime */
	struct tls_config ccfg;
	size_t stream_size;
	void *tls_mem;
	/* dns-01 */
	struct ip4_ep dns;
	uint8_t zone[DNS_NAME_MAX];
	struct dns_tsig_keys keys;
	const struct dns_tsig_key *key;

	/* the account */
	struct acme_key account;
	char kid[ACME_URL_MAX];
	struct acme_directory dir;
	char nonce[ACME_NONCE_MAX];

	/* the connection and one exchange */
	struct tcp_conn *tcp;
	struct tls_stream *s;
	uint8_t *rx;
	size_t have;
	const char *body; /* of the last answer, NUL-terminated in rx */
	size_t blen;
	char *tx;
	char order_url[ACME_URL_MAX];

	struct ac_pending pending[ACME_NAMES_MAX];
	unsigned npending;

	struct tls_cred *issued, *retired; /* ours in creds[0]; the one it replaced */
	uint64_t stat[AC_S_N];
	struct counter_group group;
};

static uint64_t ac_deadline(struct web_acme *a)
{
	return loop_now(a->loop) + AC_TIMEOUT;
}

/* ---- the connection ---------------------------------------------------------- */

static void ac_disconnect(struct web_acme *a)
{
	if (a->s)
		tls_close(a->s, TCP_NOWAIT);
	else if (a->tcp)
		tcp_close(a->tcp);
	a->s = NULL;
	a->tcp = NULL;
}

static int ac_connect(struct web_acme *a)
{
	struct loop *l = a->loop;
	char ab[16];
	int rc = tcp_connect(a->st, &a->server, &a->tcp, ac_deadline(a));
	if (rc != ATL_OK) {
		a->tcp = NULL;
		LOG_WARN(l, "acme: cannot connect to %s:%u: %s", ip4_fmt(a->server.addr, ab),
			 a->server.port, atl_strerror(rc));
		return rc;
	}
	rc = tls_stream_connect(a->tls_mem, a->stream_size, &a->ccfg, a->tcp, a->sni, NULL,
				ac_deadline(a), &a->s);
	if (rc != ATL_OK) {
		LOG_WARN(l, "acme: TLS with %s failed: %s", a->sni, atl_strerror(rc));
		ac_disconnect(a);
		return rc;
	}
	return ATL_OK;
}

/* Read the answer to what was just sent into rx: ATL_OK with *r, a->body. */
static int ac_read_answer(struct web_acme *a, bool head_only, struct acme_http_resp *r)
{
	a->have = 0;
	int rc;
	for (;;) {
		rc = acme_http_head(a->rx, a->have, r);
		if (rc != ATL_EAGAIN)
			break;
		if (a->have == AC_RX - 1)
			return ATL_EMSGSIZE;
		size_t n;
		rc = tls_read(a->s, a->rx + a->have, AC_RX - 1 - a->have, &n, ac_deadline(a));
		if (rc != ATL_OK)
			return rc;
		if (n == 0)
			return ATL_ECONNRESET;
		a->have += n;
	}
	if (rc != ATL_OK)
		return rc;
	uint8_t *body = a->rx + r->head_len;
	size_t raw = a->have - r->head_len; /* body bytes read, not yet decoded */
	size_t dec = 0;			    /* decoded bytes at body[0..dec) */
	bool none = head_only || r->status == 204 || r->status == 304 ||
		    (r->status >= 100 && r->status < 200);
	struct http_chunked ch = {0};
	ch.max = AC_RX;
	for (;;) {
		bool done;
		if (none) {
			raw = 0;
			done = true;
		} else if (r->chunked) {
			size_t used, out;
			int cr = http_chunked_decode(&ch, body + dec, raw, &used, &out);
			if (cr != HTTP_OK && cr != HTTP_MORE)
				return ATL_EINVAL;
			memmove(body + dec + out, body + dec + used, raw - used);
			dec += out;
			raw -= used;
			done = cr == HTTP_OK;
		} else if (r->content_length != UINT64_MAX) {
			if (r->content_length > AC_RX)
				return ATL_EMSGSIZE;
			done = raw >= r->content_length;
			if (done) {
				dec = (size_t)r->content_length;
				raw = 0;
			}
		} else {
			done = false; /* to the end of the connection */
		}
		if (done)
			break;
		size_t at = r->head_len + dec + raw;
		if (at >= AC_RX - 1)
			return ATL_EMSGSIZE;
		size_t n;
		rc = tls_read(a->s, a->rx + at, AC_RX - 1 - at, &n, ac_deadline(a));
		if (rc != ATL_OK)
			return rc;
		if (n == 0) {
			if (r->chunked || r->content_length != UINT64_MAX)
				return ATL_ECONNRESET;
			dec += raw;
			raw = 0;
			ac_disconnect(a);
			break;
		}
		raw += n;
	}
	body[dec] = '\0';
	a->body = (const char *)body;
	a->blen = dec;
	if (r->nonce[0])
		memcpy(a->nonce, r->nonce, sizeof a->nonce);
	return ATL_OK;
}

/*
 * One request to the ACME server: method url, with a JOSE body when
 * body is not NULL.  Made again once on a fresh connection when the kept
 * one turns out closed.
 */
static int ac_request(struct web_acme *a, const char *method, const char *url, const char *body,
		      size_t blen, struct acme_http_resp *r)
{
	char host[ACME_URL_MAX], path[ACME_URL_MAX];
	int rc = acme_url_split(url, host, sizeof host, path, sizeof path);
	if (rc != ATL_OK || strcmp(host, a->hostport)) {
		LOG_WARN(a->loop, "acme: the server named %s, not on %s: not followed", url,
			 a->hostport);
		return ATL_EINVAL;
	}
	char head[2 * ACME_URL_MAX + 256], clen[96] = "";
	if (body)
		fmt_snprintf(clen, sizeof clen,
			     "Content-Type: application/jose+json\r\nContent-Length: %zu\r\n",
			     blen);
	size_t hl = fmt_snprintf(head, sizeof head,
				 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: atoll-web-acme\r\n"
				 "Accept: */*\r\n%s\r\n",
				 method, path, a->hostport, clen);
	if (hl >= sizeof head)
		return ATL_EMSGSIZE;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = !a->s;
		if (fresh && (rc = ac_connect(a)) != ATL_OK)
			return rc;
		a->stat[AC_S_REQUESTS]++;
		rc = tls_write(a->s, head, hl, ac_deadline(a));
		if (rc == ATL_OK && body)
			rc = tls_write(a->s, body, blen, ac_deadline(a));
		if (rc == ATL_OK)
			rc = ac_read_answer(a, !strcmp(method, "HEAD"), r);
		if (rc == ATL_OK)
			return ATL_OK;
		ac_disconnect(a);
		if (fresh || rc == ATL_ESTOPPED)
			break;
	}
	LOG_WARN(a->loop, "acme: %s %s: %s", method, url, atl_strerror(rc));
	return rc;
}

/* Log the server's problem document of a failed answer. */
static void ac_problem(struct web_acme *a, const char *what, const struct acme_http_resp *r)
{
	char type[128], detail[256];
	if (acme_problem_parse(a->body, a->blen, type, sizeof type, detail, sizeof detail) !=
	    ATL_OK) {
		type[0] = '\0';
		fmt_snprintf(detail, sizeof detail, "%.*s", (int)(a->blen > 200 ? 200 : a->blen),
			     a->body);
	}
	LOG_WARN(a->loop, "acme: %s: HTTP %d %s %s", what, r->status, type, detail);
}

static bool problem_is(struct web_acme *a, const char *type)
{
	char t[128], d[8];
	return acme_problem_parse(a->body, a->blen, t, sizeof t, d, sizeof d) == ATL_OK &&
	       !strcmp(t, type);
}

/*
 * A signed POST (RFC 8555 6.2): payload, or POST-as-GET with payload NULL
 * (6.3).  A badNonce answer (6.5) is retried with the nonce it carried.
 * Statuses other than 2xx are logged as what and fail.
 */
static int ac_post(struct web_acme *a, const char *what, const char *url, const char *payload,
		   struct acme_http_resp *r)
{
	size_t plen = payload ? strlen(payload) : 0;
	for (int tries = 0; tries < 5; tries++) {
		int rc;
		if (!a->nonce[0]) {
			rc = ac_request(a, "HEAD", a->dir.new_nonce, NULL, 0, r);
			if (rc != ATL_OK)
				return rc;
			if (!a->nonce[0]) {
				LOG_WARN(a->loop, "acme: newNonce gave no Replay-Nonce");
				return ATL_EINVAL;
			}
		}
		size_t n;
		rc = acme_jws(&a->account, a->kid[0] ? a->kid : NULL, a->nonce, url, payload, plen,
			      a->tx, AC_TX, &n);
		a->nonce[0] = '\0'; /* each is good once */
		if (rc != ATL_OK) {
			LOG_WARN(a->loop, "acme: %s: cannot sign: %s", what, atl_strerror(rc));
			return rc;
		}
		if ((rc = ac_request(a, "POST", url, a->tx, n, r)) != ATL_OK)
			return rc;
		if (r->status >= 200 && r->status < 300)
			return ATL_OK;
		if (r->status == 400 && problem_is(a, "urn:ietf:params:acme:error:badNonce")) {
			a->stat[AC_S_BAD_NONCE]++;
			continue;
		}
		ac_problem(a, what, r);
		return ATL_EINVAL;
	}
	LOG_WARN(a->loop, "acme: %s: the server refused five nonces", what);
	return ATL_EINVAL;
}

/* Sleep for an answer's Retry-After (RFC 8555 7.5.1), 1 to 30 s. */
static int ac_wait(struct web_acme *a, const struct acme_http_resp *r)
{
	uint64_t s = r->retry_after ? r->retry_after : 1;
	if (s > 30)
		s = 30;
	return fiber_sleep(a->loop, loop_now(a->loop) + s * NS_PER_SEC);
}

/* ---- challenges ---------------------------------------------------------------- */

const char *web_acme_challenge(const struct web *w, const char *token, size_t tlen, size_t *len)
{
	struct web_acme *a = w->acme;
	if (!a)
		return NULL;
	for (unsigned i = 0; i < a->npending; i++) {
		struct ac_pending *p = &a->pending[i];
		if (strlen(p->token) == tlen && !memcmp(p->token, token, tlen)) {
			a->stat[AC_S_CHALLENGES]++;
			*len = strlen(p->keyauth);
			return p->keyauth;
		}
	}
	return NULL;
}

/* dns-01: add (or delete) _acme-challenge.<name> TXT <value> by a
 * TSIG-signed UPDATE over UDP; ATL_OK when the server said NOERROR. */
static int ac_dns_update(struct web_acme *a, const char *name, const char *value, bool add)
{
	struct loop *l = a->loop;
	char owner_text[ACME_NAME_MAX + 32];
	uint8_t owner[DNS_NAME_MAX];
	fmt_snprintf(owner_text, sizeof owner_text, "_acme-challenge.%s.", name);
	if (dns_name_from_text(owner_text, strlen(owner_text), (const uint8_t *)"", owner) !=
		ATL_OK ||
	    !dns_name_is_sub(owner, a->zone)) {
		LOG_WARN(l, "acme: %s is not in the zone of acme-dns-zone=", owner_text);
		return ATL_EINVAL;
	}
	struct udp_sock *u;
	struct ip4_ep any = {0, 0};
	int rc = udp_open(a->st, &any, &u);
	if (rc != ATL_OK)
		return rc;
	uint8_t q[512 + DNS_TSIG_RESERVE], ans[1024];
	rc = ATL_ETIMEDOUT;
	for (unsigned t = 0; t < AC_DNS_TRIES && rc == ATL_ETIMEDOUT; t++) {
		uint16_t id;
		plat_entropy(&id, sizeof id);
		size_t n = dns_update_txt_build(a->zone, owner, value, AC_DNS_TTL, add, id, q,
						sizeof q - DNS_TSIG_RESERVE);
		struct dns_tsig ts;
		memset(&ts, 0, sizeof ts);
		ts.key = a->key;
		uint64_t now = plat_clock_wall() / NS_PER_SEC;
		if (n == 0 || (n = dns_tsig_sign(&ts, q, n, sizeof q, now)) == 0) {
			rc = ATL_EMSGSIZE;
			break;
		}
		a->stat[AC_S_DNS_UPDATES]++;
		if (udp_sendto(u, &a->dns, q, n) != ATL_OK)
			continue;
		uint64_t deadline = loop_now(l) + (NS_PER_SEC << t);
		for (;;) {
			struct ip4_ep from;
			size_t m;
			int r = udp_recvfrom(u, &from, ans, sizeof ans, &m, deadline);
			if (r == ATL_ETIMEDOUT || r == ATL_ESTOPPED) {
				rc = r;
				break;
			}
			if (r != ATL_OK || from.addr != a->dns.addr || from.port != a->dns.port)
				continue;
			int rcode = dns_update_response_parse(ans, m, id, a->zone);
			if (rcode < 0)
				continue; /* not the answer to this one */
			if (dns_tsig_verify_response(&ts, ans, m, plat_clock_wall() / NS_PER_SEC) !=
			    DNS_R_NOERROR) {
				LOG_WARN(l, "acme: the UPDATE's answer fails its TSIG check");
				rc = ATL_EINVAL;
			} else if (rcode != DNS_R_NOERROR) {
				LOG_WARN(l, "acme: UPDATE %s TXT: rcode %d", owner_text, rcode);
				rc = ATL_EINVAL;
			} else {
				rc = ATL_OK;
			}
			break;
		}
	}
	udp_close(u);
	if (rc == ATL_ETIMEDOUT)
		LOG_WARN(l, "acme: no answer to the UPDATE of %s", owner_text);
	return rc;
}

/* ---- one certificate ----------------------------------------------------------- */

static int ac_account(struct web_acme *a)
{
	struct acme_http_resp r;
	char body[ACME_NAME_MAX + 64];
	size_t n;
	if (acme_body_new_account(a->email, body, sizeof body, &n) != ATL_OK)
		return ATL_EINVAL;
	int rc = ac_post(a, "newAccount", a->dir.new_account, body, &r);
	if (rc != ATL_OK)
		return rc;
	if (!r.location[0]) {
		LOG_WARN(a->loop, "acme: newAccount answered without a Location");
		return ATL_EINVAL;
	}
	memcpy(a->kid, r.location, sizeof a->kid);
	LOG_INFO(a->loop, "acme: account %s (%s)", a->kid, r.status == 201 ? "new" : "existing");
	return ATL_OK;
}

/* Poll url (an authorization or the order) until its status leaves
 * pending/processing; *st the status, the object in a->body. */
static int ac_poll(struct web_acme *a, const char *what, const char *url, bool order,
		   enum acme_status *st, struct acme_authz *az, struct acme_order *o)
{
	for (unsigned i = 0; i < AC_POLLS; i++) {
		struct acme_http_resp r;
		int rc = ac_post(a, what, url, NULL, &r);
		if (rc != ATL_OK)
			return rc;
		rc = order ? acme_order_parse(a->body, a->blen, o)
			   : acme_authz_parse(a->body, a->blen, az);
		if (rc != ATL_OK) {
			LOG_WARN(a->loop, "acme: %s: the answer does not parse", what);
			return ATL_EINVAL;
		}
		*st = order ? o->status : az->status;
		if (*st != ACME_ST_PENDING && *st != ACME_ST_PROCESSING)
			return ATL_OK;
		if ((rc = ac_wait(a, &r)) != ATL_OK)
			return rc;
	}
	LOG_WARN(a->loop, "acme: %s still pending after %u polls", what, AC_POLLS);
	return ATL_ETIMEDOUT;
}

/* Answer one authorization's challenge and wait for it to be valid. */
static int ac_authorize(struct web_acme *a, const char *url)
{
	struct loop *l = a->loop;
	struct acme_http_resp r;
	struct acme_authz az;
	int rc = ac_post(a, "authorization", url, NULL, &r);
	if (rc != ATL_OK)
		return rc;
	if (acme_authz_parse(a->body, a->blen, &az) != ATL_OK) {
		LOG_WARN(l, "acme: an authorization does not parse");
		return ATL_EINVAL;
	}
	if (az.status == ACME_ST_VALID)
		return ATL_OK; /* still valid from an earlier order */
	const char *type = a->challenge == AC_DNS01 ? "dns-01" : "http-01";
	struct acme_chall *c = a->challenge == AC_DNS01 ? &az.dns01 : &az.http01;
	if (az.status != ACME_ST_PENDING || !c->present) {
		LOG_WARN(l, "acme: %s: authorization %s%s", az.name, acme_status_name(az.status),
			 c->present ? "" : ", and no such challenge offered");
		return ATL_EINVAL;
	}
	char keyauth[ACME_KEYAUTH_MAX], txt[ACME_THUMB_LEN + 1];
	if (acme_key_authorization(c->token, &a->account, keyauth, sizeof keyauth) != ATL_OK)
		return ATL_EINVAL;
	if (a->challenge == AC_DNS01) {
		if (acme_dns01_txt(keyauth, txt) != ATL_OK ||
		    (rc = ac_dns_update(a, az.name, txt, true)) != ATL_OK)
			return rc == ATL_OK ? ATL_EINVAL : rc;
	} else {
		if (a->npending == ACME_NAMES_MAX)
			return ATL_EINVAL;
		struct ac_pending *p = &a->pending[a->npending++];
		memcpy(p->token, c->token, sizeof p->token);
		memcpy(p->keyauth, keyauth, sizeof p->keyauth);
	}
	/* RFC 8555 7.5.1: an empty object says we are ready */
	rc = ac_post(a, "challenge", c->url, "{}", &r);
	enum acme_status st = ACME_ST_UNKNOWN;
	if (rc == ATL_OK)
		rc = ac_poll(a, "authorization", url, false, &st, &az, NULL);
	if (a->challenge == AC_DNS01)
		ac_dns_update(a, az.name, txt, false);
	else
		a->npending--; /* the last one is this one: authorizations go one at a time */
	if (rc != ATL_OK)
		return rc;
	if (st != ACME_ST_VALID) {
		char t[128], detail[256] = "";
		struct acme_span v, ch, err;
		/* the challenge's error says why (RFC 8555 7.1.4) */
		if (acme_json_parse(a->body, a->blen, &v) == ATL_OK &&
		    acme_json_member(v, "challenges", &ch) == ATL_OK) {
			for (unsigned i = 0; acme_json_index(ch, i, &v) == ATL_OK; i++)
				if (acme_json_member(v, "error", &err) == ATL_OK)
					acme_problem_parse(err.p, err.n, t, sizeof t, detail,
							   sizeof detail);
		}
		LOG_WARN(l, "acme: %s: %s challenge %s: %s", az.name, type, acme_status_name(st),
			 detail);
		return ATL_EINVAL;
	}
	LOG_INFO(l, "acme: %s: %s challenge valid", az.name, type);
	return ATL_OK;
}

/* Install the chain in a->body with key k as the default credential;
 * its validity into *not_before, *not_after. */
static int ac_install(struct web_acme *a, const struct acme_key *k, uint64_t *not_before,
		      uint64_t *not_after)
{
	struct loop *l = a->loop;
	uint8_t der[160];
	size_t dl;
	if (acme_key_der(k, der, sizeof der, &dl) != ATL_OK)
		return ATL_EINVAL;
	struct tls_cred *cr;
	int rc = tls_cred_load(l, l->heap, a->body, a->blen, der, dl, &cr);
	memset(der, 0, sizeof der);
	if (rc != ATL_OK)
		return rc;
	if (tls_cred_validity(cr, not_before, not_after) != ATL_OK || *not_after <= *not_before) {
		LOG_WARN(l, "acme: the certificate's validity does not parse");
		tls_cred_wipe(cr);
		return ATL_EINVAL;
	}
	for (unsigned i = 0; i < a->nnames; i++)
		if (!tls_cred_matches(cr, a->names[i])) {
			LOG_WARN(l, "acme: the certificate does not cover %s", a->names[i]);
			tls_cred_wipe(cr);
			return ATL_EINVAL;
		}
	/* Handshakes under way may still sign with the credential replaced:
	 * it is wiped when the next one comes (the heap does not free). */
	struct web *w = a->w;
	if (a->retired)
		tls_cred_wipe(a->retired);
	a->retired = a->issued;
	w->cfg.creds[0] = cr;
	a->issued = cr;
	a->stat[AC_S_CERTS]++;
	return ATL_OK;
}

/* One order from new to installed; ATL_OK with the certificate's end. */
static int ac_obtain(struct web_acme *a, uint64_t *not_after, uint64_t *lifetime)
{
	struct loop *l = a->loop;
	struct acme_http_resp r;
	int rc = ac_request(a, "GET", a->dir_url, NULL, 0, &r);
	if (rc != ATL_OK)
		return rc;
	if (r.status != 200 || acme_directory_parse(a->body, a->blen, &a->dir) != ATL_OK) {
		LOG_WARN(l, "acme: %s is not an ACME directory (HTTP %d)", a->dir_url, r.status);
		return ATL_EINVAL;
	}
	if (!a->kid[0] && (rc = ac_account(a)) != ATL_OK)
		return rc;

	char body[ACME_NAMES_MAX * (ACME_NAME_MAX + 40) + 32];
	size_t n;
	if (acme_body_new_order(a->names, a->nnames, body, sizeof body, &n) != ATL_OK)
		return ATL_EINVAL;
	if ((rc = ac_post(a, "newOrder", a->dir.new_order, body, &r)) != ATL_OK)
		return rc;
	struct acme_order o;
	if (!r.location[0] || acme_order_parse(a->body, a->blen, &o) != ATL_OK) {
		LOG_WARN(l, "acme: the new order does not parse");
		return ATL_EINVAL;
	}
	memcpy(a->order_url, r.location, sizeof a->order_url);
	LOG_INFO(l, "acme: order %s for %s%s: %s", a->order_url, a->names[0],
		 a->nnames > 1 ? " and more" : "", acme_status_name(o.status));

	for (unsigned i = 0; i < o.nauthz && o.status == ACME_ST_PENDING; i++)
		if ((rc = ac_authorize(a, o.authz[i])) != ATL_OK)
			return rc;

	/* RFC 8555 7.4: a new key for each certificate */
	struct acme_key k;
	uint8_t seed[48];
	plat_entropy(seed, sizeof seed);
	rc = acme_key_gen(&k, seed, sizeof seed);
	memset(seed, 0, sizeof seed);
	if (rc != ATL_OK)
		return rc;
	uint8_t csr[1024];
	size_t cl;
	char fin[2048];
	enum acme_status st;
	rc = acme_csr(&k, a->names, a->nnames, csr, sizeof csr, &cl);
	if (rc == ATL_OK)
		rc = acme_body_finalize(csr, cl, fin, sizeof fin, &n);
	if (rc == ATL_OK)
		rc = ac_post(a, "finalize", o.finalize, fin, &r);
	if (rc == ATL_OK)
		rc = ac_poll(a, "order", a->order_url, true, &st, NULL, &o);
	if (rc == ATL_OK && (st != ACME_ST_VALID || !o.certificate[0])) {
		LOG_WARN(l, "acme: the order ended %s", acme_status_name(st));
		rc = ATL_EINVAL;
	}
	if (rc == ATL_OK)
		rc = ac_post(a, "certificate", o.certificate, NULL, &r);
	uint64_t nb = 0;
	if (rc == ATL_OK)
		rc = ac_install(a, &k, &nb, not_after);
	acme_key_wipe(&k);
	if (rc != ATL_OK)
		return rc;
	*lifetime = *not_after - nb;
	return ATL_OK;
}

static void ac_run(void *arg)
{
	struct web_acme *a = arg;
	struct loop *l = a->loop;
	uint64_t backoff = AC_BACKOFF_0;
	for (;;) {
		uint64_t not_after, lifetime, wait;
		int rc = ac_obtain(a, &not_after, &lifetime);
		ac_disconnect(a);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc == ATL_OK) {
			backoff = AC_BACKOFF_0;
			uint64_t before = a->renew_before ? a->renew_before : lifetime / 3;
			uint64_t now = plat_clock_wall() / NS_PER_SEC;
			uint64_t at = not_after > before ? not_after - before : 0;
			wait = at > now ? at - now : 0;
			char until[HTTP_DATE_LEN + 1];
			http_date_fmt(not_after, until);
			LOG_INFO(l,
				 "acme: certificate for %s installed (%u name%s), valid until %s; "
				 "renewal in %llu s",
				 a->names[0], a->nnames, a->nnames == 1 ? "" : "s", until,
				 (unsigned long long)wait);
		} else {
			a->stat[AC_S_FAILURES]++;
			wait = backoff;
			backoff = backoff * 2 > AC_BACKOFF_MAX ? AC_BACKOFF_MAX : backoff * 2;
			LOG_WARN(l, "acme: no certificate this time; again in %llu s",
				 (unsigned long long)wait);
			a->kid[0] = '\0'; /* look the account up again */
		}
		if (fiber_sleep(l, loop_now(l) + wait * NS_PER_SEC) != ATL_OK)
			return;
	}
}

/* ---- configuration --------------------------------------------------------------- */

static int ac_names(struct web_acme *a, const char *v)
{
	size_t o = 0;
	while (*v) {
		size_t n = strcspn(v, ",");
		if (n == 0 || n > ACME_NAME_MAX || a->nnames == ACME_NAMES_MAX)
			return ATL_EINVAL;
		for (size_t i = 0; i < n; i++)
			if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
			      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.' ||
			      (v[i] == '*' && i == 0)))
				return ATL_EINVAL;
		memcpy(a->namebuf + o, v, n);
		a->namebuf[o + n] = '\0';
		a->names[a->nnames++] = a->namebuf + o;
		o += n + 1;
		v += n;
		if (*v == ',')
			v++;
	}
	return a->nnames ? ATL_OK : ATL_EINVAL;
}

/* The server's endpoint: acme-server=, else the URL's host if it is an
 * IPv4 address; the port from the URL when acme-server= has none. */
static int ac_endpoint(struct web_acme *a, const char *srv)
{
	struct loop *l = a->loop;
	const char *colon = strrchr(a->hostport, ':');
	size_t hl = colon ? (size_t)(colon - a->hostport) : strlen(a->hostport);
	uint64_t port = 443;
	if (colon && (args_parse_u64(colon + 1, &port) != ATL_OK || port == 0 || port > 65535)) {
		LOG_ERROR(l, "acme=: the port of %s is not a number", a->hostport);
		return ATL_EINVAL;
	}
	memcpy(a->sni, a->hostport, hl);
	a->sni[hl] = '\0';
	const char *where = srv ? srv : a->sni;
	char buf[64];
	if (strchr(where, ':')) {
		if (ip4_parse_ep(where, &a->server) == ATL_OK)
			return ATL_OK;
	} else if (strlen(where) < sizeof buf - 8) {
		fmt_snprintf(buf, sizeof buf, "%s:%u", where, (unsigned)port);
		if (ip4_parse_ep(buf, &a->server) == ATL_OK)
			return ATL_OK;
	}
	LOG_ERROR(l,
		  srv ? "acme-server=%s: give an IPv4 address[:port]"
		      : "acme=: %s is no IPv4 address; give acme-server= (no resolver here)",
		  where);
	return ATL_EINVAL;
}

static int ac_dns_config(struct web_acme *a, const struct rd *ar)
{
	struct loop *l = a->loop;
	const char *dns = args_get(l->start, "acme-dns");
	const char *keyname = args_get(l->start, "acme-dns-key");
	const char *zone = args_get(l->start, "acme-dns-zone");
	char buf[64];
	if (!dns || !keyname) {
		LOG_ERROR(l, "acme-challenge=dns-01 needs acme-dns= and acme-dns-key=");
		return ATL_EINVAL;
	}
	if (!strchr(dns, ':') && strlen(dns) < sizeof buf - 4) {
		fmt_snprintf(buf, sizeof buf, "%s:53", dns);
		dns = buf;
	}
	if (ip4_parse_ep(dns, &a->dns) != ATL_OK) {
		LOG_ERROR(l, "acme-dns=%s: give an IPv4 address[:port]", dns);
		return ATL_EINVAL;
	}
	/* the zone: given, or the first name's parent */
	const char *zt = zone;
	if (!zt) {
		zt = strchr(a->names[0], '.');
		zt = zt ? zt + 1 : "";
	}
	if (dns_name_from_text(zt, strlen(zt), (const uint8_t *)"", a->zone) != ATL_OK) {
		LOG_ERROR(l, "acme-dns-zone=%s is not a domain name", zt);
		return ATL_EINVAL;
	}
	size_t kl;
	const uint8_t *kt = tlsargs_member_data(ar, "tsig.key", &kl);
	char err[160];
	if (!kt) {
		LOG_ERROR(l, "acme-dns-key=: the certs archive has no tsig.key");
		return ATL_EINVAL;
	}
	if (dns_tsig_keys_parse(&a->keys, (const char *)kt, kl, err, sizeof err) != ATL_OK) {
		LOG_ERROR(l, "tsig.key: %s", err);
		return ATL_EINVAL;
	}
	uint8_t kn[DNS_NAME_MAX];
	if (dns_name_from_text(keyname, strlen(keyname), (const uint8_t *)"", kn) != ATL_OK ||
	    !(a->key = dns_tsig_key_find(&a->keys, kn))) {
		LOG_ERROR(l, "acme-dns-key=%s: no such key in tsig.key", keyname);
		return ATL_EINVAL;
	}
	return ATL_OK;
}

int web_acme_start(struct web *w, struct stack *st)
{
	struct loop *l = w->loop;
	const char *url = args_get(l->start, "acme");
	if (!url)
		return ATL_OK;
	struct web_acme *a = heap_alloc(l->heap, sizeof *a, 16);
	if (!a)
		return ATL_ENOMEM;
	memset(a, 0, sizeof *a);
	a->w = w;
	a->loop = l;
	a->st = st;
	char path[ACME_URL_MAX];
	if (strlen(url) >= sizeof a->dir_url ||
	    acme_url_split(url, a->hostport, sizeof a->hostport, path, sizeof path) != ATL_OK) {
		LOG_ERROR(l, "acme=%s: give the https:// URL of the ACME directory", url);
		return ATL_EINVAL;
	}
	memcpy(a->dir_url, url, strlen(url) + 1);
	const char *names = args_get(l->start, "acme-names");
	if (!names || ac_names(a, names) != ATL_OK) {
		LOG_ERROR(l, "acme= needs acme-names=<name>[,<name>...] (at most %d DNS names)",
			  ACME_NAMES_MAX);
		return ATL_EINVAL;
	}
	const char *ch = args_get(l->start, "acme-challenge");
	if (!ch || !strcmp(ch, "http-01")) {
		a->challenge = AC_HTTP01;
	} else if (!strcmp(ch, "dns-01")) {
		a->challenge = AC_DNS01;
	} else {
		LOG_ERROR(l, "acme-challenge=%s: give http-01 or dns-01", ch);
		return ATL_EINVAL;
	}
	bool plain = false;
	for (unsigned i = 0; i < w->nports; i++)
		plain = plain || !w->ports[i].tls;
	if (a->challenge == AC_HTTP01 && !plain) {
		LOG_ERROR(l, "acme-challenge=http-01 is answered on the plain port: http-port= "
			     "must not be 0");
		return ATL_EINVAL;
	}
	const char *email = args_get(l->start, "acme-email");
	if (email && strlen(email) >= sizeof a->email) {
		LOG_ERROR(l, "acme-email= is too long");
		return ATL_EINVAL;
	}
	if (email)
		memcpy(a->email, email, strlen(email) + 1);
	if (args_get_u64(l, "acme-renew-before", 0, 1ull << 34, &a->renew_before) != ATL_OK ||
	    ac_endpoint(a, args_get(l->start, "acme-server")) != ATL_OK)
		return ATL_EINVAL;

	struct rd ar;
	if (tlsargs_archive(l, &ar) != ATL_OK) {
		LOG_ERROR(l, "acme= needs the certs archive, with acme-ca.pem: the anchors of the "
			     "ACME server's certificate");
		return ATL_EINVAL;
	}
	size_t cal;
	const uint8_t *ca = tlsargs_member_data(&ar, "acme-ca.pem", &cal);
	struct tls_trust *trust = NULL;
	if (!ca || tls_trust_load(l, l->heap, ca, cal, &trust, NULL) != ATL_OK) {
		LOG_ERROR(l, "acme=: the certs archive's acme-ca.pem is %s",
			  ca ? "not a certificate bundle" : "missing");
		return ATL_EINVAL;
	}
	if (a->challenge == AC_DNS01 && ac_dns_config(a, &ar) != ATL_OK)
		return ATL_EINVAL;
	uint8_t seed[48];
	plat_entropy(seed, sizeof seed);
	int rc = acme_key_gen(&a->account, seed, sizeof seed);
	memset(seed, 0, sizeof seed);
	if (rc != ATL_OK)
		return rc;

	tls_config_init(&a->ccfg, false);
	a->ccfg.loop = l;
	a->ccfg.trust = trust;
	a->ccfg.verify_peer = true;
	a->ccfg.alpn[0] = "http/1.1";
	a->ccfg.nalpn = 1;
	if (tls_config_check(&a->ccfg) != ATL_OK)
		return ATL_EINVAL;
	a->stream_size = tls_stream_size(&a->ccfg);
	a->tls_mem = heap_alloc(l->heap, a->stream_size, 16);
	a->rx = heap_alloc(l->heap, AC_RX, 16);
	a->tx = heap_alloc(l->heap, AC_TX, 16);
	if (!a->tls_mem || !a->rx || !a->tx || !fiber_spawn(l, "acme", ac_run, a, AC_STACK)) {
		LOG_ERROR(l, "heap too small for the ACME client");
		return ATL_ENOMEM;
	}
	a->group = (struct counter_group){
	    .name = "acme", .names = ac_stat_names, .values = a->stat, .n = AC_S_N};
	counters_register(l, &a->group);
	w->acme = a;
	LOG_INFO(l, "acme: certificates for %s%s from %s (%s challenge)", a->names[0],
		 a->nnames > 1 ? " and more" : "", a->dir_url,
		 a->challenge == AC_DNS01 ? "dns-01" : "http-01");
	return ATL_OK;
}

void web_acme_stop(struct web *w)
{
	struct web_acme *a = w->acme;
	if (!a)
		return;
	if (a->retired)
		tls_cred_wipe(a->retired);
	acme_key_wipe(&a->account);
}
