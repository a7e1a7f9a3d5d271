/*
 * secondary.c - zones transferred in from primaries, and NOTIFY both ways.
 *
 * Boot arguments:
 *   primary=<zone>@<addr>[:port],...  we are a secondary for <zone>; its
 *       primary is <addr> (port 53 by default).  Such a zone is not loaded
 *       from the zones device: it is transferred in.
 *   notify=<addr>[:port],...          our secondaries: every zone we serve
 *       is announced to them (RFC 1996) at start and on every change.
 *
 * Each secondary zone has a fiber that keeps it fresh (RFC 1034 4.3.5): an
 * SOA query over UDP (retried with backoff), and when the primary's serial
 * is newer (RFC 1982) a transfer over TCP: IXFR (RFC 1995) from the version
 * held, AXFR (RFC 5936) when there is none or the primary refuses IXFR.
 * The new version is installed only once the whole transfer has arrived
 * and passed the zone checks.  Then the SOA's refresh interval, or its retry
 * interval after a failure; after expire seconds without a successful
 * check the zone is no longer answered (SERVFAIL, as Knot and NSD do)
 * until a check succeeds again.
 *
 * A NOTIFY for a secondary zone from its primary's address is answered
 * (NOERROR, AA, the question echoed: RFC 1996 4.7) and starts a check at
 * once; from any other address it is REFUSED, and a NOTIFY for a zone we
 * are not a secondary for gets NOTAUTH (Knot does the same).  An UPDATE
 * for a secondary zone is REFUSED: only the primary changes it.
 *
 * NOTIFY out goes from our own UDP socket (an ephemeral port) and is
 * retransmitted until answered: 5 tries, 1, 2, 4, 8, 16 s apart (RFC 1996
 * 3.6).  The answers to SOA queries and NOTIFYs arrive on that socket; one
 * fiber reads it and hands each answer to whoever waits for its ID.
 *
 * Everything is bounded: DNS_SEC_ZONES secondary zones, DNS_SEC_TARGETS
 * NOTIFY targets, DNS_SEC_PENDING NOTIFYs in flight, one transfer at a time
 * (it builds in the zone region's largest block), a transfer no larger than
 * the zone region, a deadline on every read.
 */
#include "secondary.h"

#include "bearssl/bearssl_hash.h"
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "dns/xfr.h"

#define DNS_SEC_ZONES	     16
#define DNS_SEC_TARGETS	     16
#define DNS_SEC_PENDING	     64
#define DNS_SEC_NOTIFY_TRIES 5
#define DNS_SEC_SOA_TRIES    3
#define DNS_SEC_SOA_WAIT     NS_PER_SEC	       /* doubled per try: 1, 2, 4 s */
#define DNS_SEC_TCP_WAIT     (15 * NS_PER_SEC) /* connect, and each read */
#define DNS_SEC_XFR_WAIT     (120 * NS_PER_SEC)
#define DNS_SEC_FIRST_RETRY  (2 * NS_PER_SEC) /* before the first SOA is known */
#define DNS_SEC_STACK	     (32 << 10)
#define DNS_SEC_RBUF	     4096

struct dns_sec;

struct sec_zone {
	struct dns_sec *sec;
	uint8_t origin[DNS_NAME_MAX];
	char name[256];
	struct ip4_ep primary;
	bool loaded;   /* a version has been transferred in */
	bool expired;  /* expire passed without a successful check */
	bool notified; /* a NOTIFY asked for a check now */
	uint64_t next_check;
	struct dns_soa soa; /* of the version held */
	/* The SOA query in flight. */
	uint16_t soa_id;
	bool soa_waiting, soa_done;
	int soa_rc;
	struct dns_soa soa_got;
	uint64_t first_retry; /* backoff before the first version */
	struct waitq wq;
	struct timer expire; /* armed while a version is served */
	/* /<key>: TSIG (RFC 8945) on everything exchanged with the primary */
	char keyname[64];
	const struct dns_tsig_key *key;
	struct dns_tsig soa_t; /* the SOA query's, to check its answer */
	uint32_t kept_left;    /* seconds to expire of a version kept on the device */
};

/* A NOTIFY in flight to one target. */
struct sec_pending {
	bool active;
	uint8_t origin[DNS_NAME_MAX];
	struct ip4_ep to;
	const struct dns_tsig_key *key; /* the target's, or NULL */
	struct dns_tsig t;		/* this try's, to check the answer */
	uint16_t id;
	unsigned tries;
	uint64_t next;
};

enum sec_stat {
	S_SOA_QUERIES,
	S_XFR_AXFR,
	S_XFR_IXFR,
	S_XFR_UPTODATE,
	S_XFR_FAILED,
	S_NOTIFY_IN,
	S_NOTIFY_REFUSED,
	S_NOTIFY_OUT,
	S_NOTIFY_ANSWERED,
	S_NOTIFY_GAVE_UP,
	S_EXPIRED,
	S_STORED,
	S_STORE_FAILED,
	S_TSIG_BAD,
	S_COUNT
};

static const char *const sec_stat_names[S_COUNT] = {
    "soa_queries", "axfr_in",	     "ixfr_in",	     "up_to_date",	"xfr_failed",
    "notify_in",   "notify_refused", "notify_out",   "notify_answered", "notify_gave_up",
    "expired",	   "stored",	     "store_failed", "tsig_bad"};

struct dns_sec {
	struct dns_srv *d;
	struct udp_sock *sock;
	unsigned nzones;
	struct sec_zone zones[DNS_SEC_ZONES];
	unsigned ntargets;
	struct ip4_ep targets[DNS_SEC_TARGETS];
	char target_keyname[DNS_SEC_TARGETS][64]; /* /<key>: NOTIFY signed */
	const struct dns_tsig_key *target_key[DNS_SEC_TARGETS];
	struct sec_pending pending[DNS_SEC_PENDING];
	struct waitq notify_wq;
	/* One transfer at a time. */
	bool xfr_busy;
	struct waitq xfr_wq;
	struct dns_xfrin x;
	uint8_t tcpbuf[2 + DNS_MSG_MAX];
	uint8_t rbuf[DNS_SEC_RBUF];
	uint8_t sbuf[DNS_SEC_RBUF];
	/* The block device "secondary": the transferred zones, kept. */
	bool store;
	plat_handle_t sh;
	uint32_t sbs;
	uint64_t scap, sgen;
	uint64_t stat[S_COUNT];
	struct counter_group group;
};

static void store_save(struct dns_sec *sec);

static uint16_t random_id(void)
{
	uint16_t id;
	plat_entropy(&id, sizeof id);
	return id;
}

/* "<zone>@<addr>[:port]" */
static int parse_primary(struct dns_sec *sec, const char *v, size_t n)
{
	size_t at = 0;
	while (at < n && v[at] != '@')
		at++;
	if (at == 0 || at >= n || sec->nzones >= DNS_SEC_ZONES)
		return ATL_EINVAL;
	struct sec_zone *z = &sec->zones[sec->nzones];
	if (dns_name_from_text(v, at, NULL, z->origin) != ATL_OK)
		return ATL_EINVAL;
	char ep[32];
	size_t el = n - at - 1, kl = 0;
	for (size_t i = at + 1; i < n; i++)
		if (v[i] == '/') {
			kl = n - i - 1;
			el = i - at - 1;
			break;
		}
	if (el == 0 || el >= sizeof ep || (kl && kl >= sizeof z->keyname) ||
	    (el + 1 < n - at - 1 && !kl))
		return ATL_EINVAL;
	memcpy(ep, v + at + 1, el);
	ep[el] = 0;
	memcpy(z->keyname, v + at + 2 + el, kl);
	z->keyname[kl] = 0;
	z->primary.port = 53;
	bool port = false;
	for (size_t i = 0; i < el; i++)
		port |= ep[i] == ':';
	if (port ? ip4_parse_ep(ep, &z->primary) != ATL_OK
		 : ip4_parse(ep, &z->primary.addr) != ATL_OK)
		return ATL_EINVAL;
	for (unsigned i = 0; i < sec->nzones; i++)
		if (dns_name_equal(sec->zones[i].origin, z->origin))
			return ATL_EINVAL;
	dns_name_to_text(z->origin, z->name, sizeof z->name);
	z->sec = sec;
	sec->nzones++;
	return ATL_OK;
}

static int parse_target(struct dns_sec *sec, const char *v, size_t n)
{
	char ep[32];
	size_t kl = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '/') {
			kl = n - i - 1;
			n = i;
			break;
		}
	if (n == 0 || n >= sizeof ep || sec->ntargets >= DNS_SEC_TARGETS ||
	    kl >= sizeof sec->target_keyname[0] || (kl == 0 && v[n] == '/'))
		return ATL_EINVAL;
	memcpy(ep, v, n);
	ep[n] = 0;
	memcpy(sec->target_keyname[sec->ntargets], v + n + 1, kl);
	sec->target_keyname[sec->ntargets][kl] = 0;
	struct ip4_ep *t = &sec->targets[sec->ntargets];
	t->port = 53;
	bool port = false;
	for (size_t i = 0; i < n; i++)
		port |= ep[i] == ':';
	if (port ? ip4_parse_ep(ep, t) != ATL_OK : ip4_parse(ep, &t->addr) != ATL_OK)
		return ATL_EINVAL;
	sec->ntargets++;
	return ATL_OK;
}

/* Call one for each comma-separated item of v. */
static int parse_list(struct dns_sec *sec, const char *v,
		      int (*one)(struct dns_sec *, const char *, size_t))
{
	while (v && *v) {
		size_t n = 0;
		while (v[n] && v[n] != ',')
			n++;
		if (one(sec, v, n) != ATL_OK)
			return ATL_EINVAL;
		v += n + (v[n] == ',');
	}
	return ATL_OK;
}

int dns_sec_init(struct dns_srv *d, struct heap *h)
{
	const struct plat_start *s = d->loop->start;
	const char *prim = args_get(s, "primary"), *notify = args_get(s, "notify");
	d->sec = NULL;
	if (!prim && !notify)
		return ATL_OK;
	struct dns_sec *sec = heap_alloc(h, sizeof *sec, 16);
	if (!sec) {
		LOG_ERROR(d->loop, "heap too small for the secondary's state");
		return ATL_ENOMEM;
	}
	sec->d = d;
	if (parse_list(sec, prim, parse_primary) != ATL_OK) {
		LOG_ERROR(d->loop,
			  "primary= takes <zone>@<address>[:port][/<TSIG key>] separated by commas "
			  "(at most %d zones, each once)",
			  DNS_SEC_ZONES);
		return ATL_EINVAL;
	}
	if (parse_list(sec, notify, parse_target) != ATL_OK) {
		LOG_ERROR(
		    d->loop,
		    "notify= takes <address>[:port][/<TSIG key>] separated by commas (at most %d)",
		    DNS_SEC_TARGETS);
		return ATL_EINVAL;
	}
	d->sec = sec;
	return ATL_OK;
}

unsigned dns_sec_nzones(const struct dns_srv *d)
{
	return d->sec ? d->sec->nzones : 0;
}

static struct sec_zone *sec_zone_find(struct dns_sec *sec, const uint8_t *origin)
{
	for (unsigned i = 0; i < sec->nzones; i++)
		if (dns_name_equal(sec->zones[i].origin, origin))
			return &sec->zones[i];
	return NULL;
}

bool dns_sec_is_secondary(const struct dns_srv *d, const uint8_t *origin)
{
	for (unsigned i = 0; d->sec && i < d->sec->nzones; i++)
		if (dns_name_equal(d->sec->zones[i].origin, origin))
			return true;
	return false;
}

/* ---- NOTIFY out ------------------------------------------------------------------ */

void dns_sec_zone_changed(struct dns_srv *d, const struct dns_zone *z)
{
	struct dns_sec *sec = d->sec;
	if (!sec || !sec->ntargets)
		return;
	for (unsigned t = 0; t < sec->ntargets; t++) {
		/* A newer change replaces a NOTIFY still in flight for the zone. */
		struct sec_pending *p = NULL, *free = NULL;
		for (unsigned i = 0; i < DNS_SEC_PENDING && !p; i++) {
			struct sec_pending *e = &sec->pending[i];
			if (e->active && dns_name_equal(e->origin, z->origin) &&
			    e->to.addr == sec->targets[t].addr &&
			    e->to.port == sec->targets[t].port)
				p = e;
			else if (!e->active && !free)
				free = e;
		}
		if (!p)
			p = free;
		if (!p) {
			sec->stat[S_NOTIFY_GAVE_UP]++;
			continue;
		}
		p->active = true;
		memcpy(p->origin, z->origin, dns_name_len(z->origin));
		p->to = sec->targets[t];
		p->key = sec->target_key[t];
		p->id = random_id();
		p->tries = 0;
		p->next = 0;
	}
	waitq_wake_all(d->loop, &sec->notify_wq);
}

static void notify_fiber(void *arg)
{
	struct dns_sec *sec = arg;
	struct dns_srv *d = sec->d;
	for (;;) {
		uint64_t now = loop_now(d->loop), next = DEADLINE_NEVER;
		for (unsigned i = 0; i < DNS_SEC_PENDING; i++) {
			struct sec_pending *p = &sec->pending[i];
			if (!p->active)
				continue;
			if (now >= p->next) {
				const struct dns_zone *z = dns_srv_zone(d, p->origin);
				char a[16];
				if (!z || p->tries >= DNS_SEC_NOTIFY_TRIES) {
					if (z)
						LOG_WARN(d->loop,
							 "NOTIFY to %s: no answer after %u tries",
							 ip4_fmt(p->to.addr, a), p->tries);
					sec->stat[S_NOTIFY_GAVE_UP]++;
					p->active = false;
					continue;
				}
				size_t n = dns_notify_build(z, p->id, sec->sbuf, sizeof sec->sbuf);
				if (n && p->key) {
					/* RFC 8945: signed for a target with a key. */
					p->t = (struct dns_tsig){.key = p->key};
					n = dns_tsig_sign(&p->t, sec->sbuf, n, sizeof sec->sbuf,
							  dns_srv_now());
				}
				if (n && udp_sendto(sec->sock, &p->to, sec->sbuf, n) == ATL_OK)
					sec->stat[S_NOTIFY_OUT]++;
				/* RFC 1996 3.6: retransmit with a growing interval. */
				p->next = now + (NS_PER_SEC << p->tries);
				p->tries++;
			}
			if (p->next < next)
				next = p->next;
		}
		if (fiber_wait(d->loop, &sec->notify_wq, next) == ATL_ESTOPPED)
			return;
	}
}

/* ---- answers on our socket ----------------------------------------------------------- */

static void answer_in(struct dns_sec *sec, const struct ip4_ep *from, const uint8_t *m, size_t n)
{
	if (n < DNS_HDR_LEN)
		return;
	uint16_t id = load_be16(m);
	unsigned op = DNS_OPCODE(load_be16(m + 2));
	if (op == DNS_OP_NOTIFY) {
		for (unsigned i = 0; i < DNS_SEC_PENDING; i++) {
			struct sec_pending *p = &sec->pending[i];
			if (!p->active || p->id != id || p->to.addr != from->addr)
				continue;
			int rc = dns_notify_response_parse(m, n, id, p->origin);
			if (rc < 0)
				continue;
			if (p->key &&
			    dns_tsig_verify_response(&p->t, m, n, dns_srv_now()) != DNS_R_NOERROR) {
				/* Unsigned or badly signed: a NOERROR could be forged,
				 * keep trying; a refusal (a zone the target is not a
				 * secondary for) ends the retries either way. */
				sec->stat[S_TSIG_BAD]++;
				if (rc == DNS_R_NOERROR)
					continue;
			}
			if (rc != DNS_R_NOERROR) {
				char a[16];
				LOG_WARN(sec->d->loop, "NOTIFY to %s answered with rcode %d",
					 ip4_fmt(from->addr, a), rc);
			}
			sec->stat[S_NOTIFY_ANSWERED]++;
			p->active = false;
		}
		return;
	}
	for (unsigned i = 0; i < sec->nzones; i++) {
		struct sec_zone *z = &sec->zones[i];
		if (!z->soa_waiting || z->soa_id != id || z->primary.addr != from->addr)
			continue;
		/* RFC 8945 5.3: with a key, only a correctly signed answer. */
		if (z->key &&
		    dns_tsig_verify_response(&z->soa_t, m, n, dns_srv_now()) != DNS_R_NOERROR) {
			sec->stat[S_TSIG_BAD]++;
			continue;
		}
		int rc = dns_soa_response_parse(m, n, id, z->origin, &z->soa_got);
		if (rc == ATL_EINVAL)
			continue; /* not the answer: keep waiting for it */
		z->soa_rc = rc;
		z->soa_done = true;
		z->soa_waiting = false;
		waitq_wake_all(sec->d->loop, &z->wq);
	}
}

static void sock_fiber(void *arg)
{
	struct dns_sec *sec = arg;
	for (;;) {
		struct ip4_ep from;
		size_t n;
		int rc =
		    udp_recvfrom(sec->sock, &from, sec->rbuf, sizeof sec->rbuf, &n, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc == ATL_OK)
			answer_in(sec, &from, sec->rbuf, n);
	}
}

/* ---- the refresh check and transfers in ------------------------------------------------- */

/* The primary's SOA: ATL_OK, an rcode, or ATL_ETIMEDOUT after all tries. */
static int soa_check(struct sec_zone *z)
{
	struct dns_sec *sec = z->sec;
	struct loop *l = sec->d->loop;
	uint8_t q[DNS_HDR_LEN + DNS_NAME_MAX + 4 + DNS_TSIG_RESERVE];
	for (unsigned t = 0; t < DNS_SEC_SOA_TRIES; t++) {
		z->soa_id = random_id();
		z->soa_done = false;
		z->soa_waiting = true;
		size_t n = dns_soa_query_build(z->origin, z->soa_id, q, sizeof q);
		if (z->key) {
			memset(&z->soa_t, 0, sizeof z->soa_t);
			z->soa_t.key = z->key;
			n = dns_tsig_sign(&z->soa_t, q, n, sizeof q, dns_srv_now());
		}
		if (udp_sendto(sec->sock, &z->primary, q, n) == ATL_OK)
			sec->stat[S_SOA_QUERIES]++;
		uint64_t deadline = loop_now(l) + (DNS_SEC_SOA_WAIT << t);
		while (!z->soa_done) {
			int rc = fiber_wait(l, &z->wq, deadline);
			if (rc == ATL_ESTOPPED) {
				z->soa_waiting = false;
				return rc;
			}
			if (rc == ATL_ETIMEDOUT)
				break;
		}
		if (z->soa_done)
			return z->soa_rc;
	}
	z->soa_waiting = false;
	return ATL_ETIMEDOUT;
}

/* Read exactly n bytes by the deadline. */
static int read_full(struct tcp_conn *c, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;
	while (got < n) {
		size_t len;
		int rc = tcp_read(c, buf + got, n - got, &len, deadline);
		if (rc != ATL_OK)
			return rc;
		if (len == 0)
			return ATL_ECONNRESET; /* closed mid-transfer */
		got += len;
	}
	return ATL_OK;
}

/* One transfer over one TCP connection; *out gets the new version. */
static int transfer(struct sec_zone *z, uint16_t qtype, struct dns_zone *have,
		    struct dns_zone **out, struct arena *scratch)
{
	struct dns_sec *sec = z->sec;
	struct dns_srv *d = sec->d;
	struct loop *l = d->loop;
	uint64_t end = loop_now(l) + DNS_SEC_XFR_WAIT;
	uint16_t id = random_id();
	sec->x.err[0] = 0; /* no stale reason if we fail before dns_xfrin_init */
	size_t n = dns_xfr_query_build(z->origin, qtype, have, id, sec->tcpbuf + 2,
				       sizeof sec->tcpbuf - 2);
	struct dns_tsig t = {.key = z->key};
	if (n && z->key)
		n = dns_tsig_sign(&t, sec->tcpbuf + 2, n, sizeof sec->tcpbuf - 2, dns_srv_now());
	if (!n)
		return ATL_EMSGSIZE;
	store_be16(sec->tcpbuf, (uint16_t)n);
	struct tcp_conn *c;
	int rc = tcp_connect(d->st, &z->primary, &c, loop_now(l) + DNS_SEC_TCP_WAIT);
	if (rc != ATL_OK)
		return rc;
	struct dns_xfrin_limits lim = {1u << 22, d->zr.size};
	dns_xfrin_init(&sec->x, z->origin, qtype, id, have, &d->zr, scratch, &lim);
	rc = tcp_write(c, sec->tcpbuf, n + 2, NULL, loop_now(l) + DNS_SEC_TCP_WAIT);
	while (rc == ATL_OK) {
		uint64_t deadline = loop_now(l) + DNS_SEC_TCP_WAIT;
		if (deadline > end)
			deadline = end;
		rc = read_full(c, sec->tcpbuf, 2, deadline);
		size_t len = load_be16(sec->tcpbuf);
		if (rc == ATL_OK)
			rc = read_full(c, sec->tcpbuf + 2, len, deadline);
		if (rc != ATL_OK)
			break;
		if (z->key && dns_tsig_verify_response(&t, sec->tcpbuf + 2, len, dns_srv_now()) !=
				  DNS_R_NOERROR) {
			sec->stat[S_TSIG_BAD]++;
			fmt_snprintf(sec->x.err, sizeof sec->x.err,
				     "a message without a valid TSIG of key %s", z->keyname);
			rc = ATL_EINVAL;
			break;
		}
		rc = dns_xfrin_msg(&sec->x, sec->tcpbuf + 2, len);
		if (rc == ATL_EAGAIN)
			rc = ATL_OK;
		else
			break;
	}
	tcp_close(c);
	if (rc != ATL_OK) {
		if (rc < 0 && !sec->x.err[0])
			fmt_snprintf(sec->x.err, sizeof sec->x.err, "%s", atl_strerror(rc));
		dns_xfrin_abort(&sec->x);
		return rc;
	}
	return dns_xfrin_finish(&sec->x, out);
}

/* Transfer in and install; ATL_OK also when we turn out to be up to date. */
static int refresh(struct sec_zone *z)
{
	struct dns_sec *sec = z->sec;
	struct dns_srv *d = sec->d;
	struct loop *l = d->loop;
	while (sec->xfr_busy)
		if (fiber_wait(l, &sec->xfr_wq, DEADLINE_NEVER) == ATL_ESTOPPED)
			return ATL_ESTOPPED;
	sec->xfr_busy = true;
	struct dns_zone *have = z->loaded ? dns_srv_zone(d, z->origin) : NULL;
	if (have)
		dns_srv_zone_hold(have);
	/* IXFR differences are kept in a quarter of the largest free block
	 * of the zone region while they arrive; the rest builds the zone. */
	struct arena scratch = {0};
	size_t ss = region_largest_free(&d->zr) / 4;
	if (have && ss >= 4096)
		scratch.base = region_alloc(&d->zr, ss);
	scratch.size = scratch.base ? ss : 0;
	uint16_t qtype = have && scratch.base ? DNS_T_IXFR : DNS_T_AXFR;
	struct dns_zone *nz = NULL;
	int rc = transfer(z, qtype, have, &nz, &scratch);
	if (qtype == DNS_T_IXFR && (rc > 0 || rc == ATL_EINVAL)) {
		/* RFC 1995 says a server without IXFR answers AXFR-form; some
		 * refuse instead, or send what we cannot use: try AXFR. */
		LOG_INFO(l, "%s: IXFR failed (%s), trying AXFR", z->name, sec->x.err);
		region_free(&d->zr, scratch.base);
		scratch.base = NULL;
		qtype = DNS_T_AXFR;
		rc = transfer(z, qtype, NULL, &nz, &scratch);
	}
	region_free(&d->zr, scratch.base);
	if (have)
		dns_srv_zone_release(d, have);
	if (rc == ATL_OK) {
		sec->stat[sec->x.incremental ? S_XFR_IXFR : S_XFR_AXFR]++;
		z->loaded = true;
		dns_zone_soa_fields(nz, &z->soa);
		LOG_INFO(l, "zone %s serial %u: transferred in (%s), %zu names, %zu bytes", z->name,
			 nz->serial,
			 sec->x.incremental    ? "IXFR"
			 : qtype == DNS_T_IXFR ? "IXFR in AXFR form"
					       : "AXFR",
			 nz->nnodes, nz->bytes);
		rc = dns_srv_replace_zone(d, nz);
		if (rc != ATL_OK)
			LOG_ERROR(l, "%s: cannot install the zone: %s", z->name, atl_strerror(rc));
		else
			store_save(sec);
	} else if (rc == ATL_ENOENT) {
		sec->stat[S_XFR_UPTODATE]++;
		rc = ATL_OK;
	} else if (rc != ATL_ESTOPPED) {
		sec->stat[S_XFR_FAILED]++;
		char a[16];
		LOG_WARN(l, "%s: transfer from %s failed: %s", z->name, ip4_fmt(z->primary.addr, a),
			 sec->x.err[0] ? sec->x.err : atl_strerror(rc));
	}
	sec->xfr_busy = false;
	waitq_wake_one(l, &sec->xfr_wq);
	return rc;
}

/* ---- keeping transferred zones on the block device "secondary" --------------------
 *
 * The device holds two copies, A in its first half and B in its second,
 * written in turn, so that a power cut while one is written leaves the
 * other.  A copy is a header block, then the payload:
 *
 *   header:  "atoll-secondary1" (16)  generation:64  payload length:64
 *            SHA-256 of generation, length and payload (32)
 *   payload: per zone: origin (wire)  saved-at:64 (wall seconds)
 *            length:32  the zone as our own AXFR stream (two-byte framed
 *            messages, as over TCP)
 *
 * At start the valid copy with the highest generation is read back
 * through the same transfer-in code (dns_xfrin) that a primary's answer
 * goes through, so a damaged copy can at worst fail the zone checks.
 */

#define SEC_MAGIC   "atoll-secondary1"
#define SEC_HDR_LEN 64

static void store_digest(uint64_t gen, uint64_t len, const uint8_t *payload, uint8_t out[32])
{
	uint8_t b[16];
	br_sha256_context h;
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(gen >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(len >> (56 - 8 * i));
	}
	br_sha256_init(&h);
	br_sha256_update(&h, b, sizeof b);
	br_sha256_update(&h, payload, (size_t)len);
	br_sha256_out(&h, out);
}

/* One zone's AXFR stream into w (or only counted when w is NULL). */
static size_t store_stream(const struct dns_zone *z, uint8_t *msg, size_t cap, struct wr *w)
{
	struct dns_zones zs = {1, {(struct dns_zone *)z}};
	uint8_t q[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	struct dns_axfr ax;
	size_t qn = dns_xfr_query_build(z->origin, DNS_T_AXFR, NULL, 0, q, sizeof q), n, total = 0;
	if (!qn || dns_axfr_start(&zs, q, qn, &ax) != DNS_R_NOERROR)
		return 0;
	while ((n = dns_axfr_next(&ax, msg, cap)) != 0) {
		total += 2 + n;
		if (w) {
			wr_be16(w, (uint16_t)n);
			wr_bytes(w, msg, n);
		}
	}
	return ax.done ? total : 0;
}

/* Write every loaded secondary zone to the next copy. */
static void store_save(struct dns_sec *sec)
{
	struct dns_srv *d = sec->d;
	struct loop *l = d->loop;
	if (!sec->store)
		return;
	uint8_t *msg = sec->tcpbuf; /* free between transfers */
	size_t len = 0;
	for (unsigned i = 0; i < sec->nzones; i++) {
		const struct dns_zone *z = dns_srv_zone(d, sec->zones[i].origin);
		if (sec->zones[i].loaded && z)
			len += dns_name_len(z->origin) + 12 +
			       store_stream(z, msg, DNS_TCP_ANSWER_MAX, NULL);
	}
	uint64_t half = sec->scap / 2 / sec->sbs * sec->sbs;
	size_t total = (SEC_HDR_LEN + len + sec->sbs - 1) / sec->sbs * sec->sbs + sec->sbs;
	uint8_t *b = total <= half ? region_alloc(&d->zr, total) : NULL;
	if (!b) {
		sec->stat[S_STORE_FAILED]++;
		LOG_WARN(l, "secondary device: %zu bytes of zones do not fit (%s)", len,
			 total > half ? "device too small" : "zone-mem");
		return;
	}
	memset(b, 0, total);
	struct wr w = wr_make(b + sec->sbs, total - sec->sbs);
	uint64_t now = dns_srv_now();
	for (unsigned i = 0; i < sec->nzones; i++) {
		const struct dns_zone *z = dns_srv_zone(d, sec->zones[i].origin);
		if (!sec->zones[i].loaded || !z)
			continue;
		wr_bytes(&w, z->origin, dns_name_len(z->origin));
		wr_be32(&w, (uint32_t)(now >> 32));
		wr_be32(&w, (uint32_t)now);
		size_t at = w.pos;
		wr_be32(&w, 0);
		size_t n = store_stream(z, msg, DNS_TCP_ANSWER_MAX, &w);
		if (wr_ok(&w))
			store_be32(w.data + at, (uint32_t)n);
	}
	uint64_t gen = sec->sgen + 1;
	struct wr h = wr_make(b, SEC_HDR_LEN);
	wr_bytes(&h, SEC_MAGIC, 16);
	wr_be32(&h, (uint32_t)(gen >> 32));
	wr_be32(&h, (uint32_t)gen);
	wr_be32(&h, 0);
	wr_be32(&h, (uint32_t)w.pos);
	uint8_t dg[32];
	store_digest(gen, w.pos, b + sec->sbs, dg);
	wr_bytes(&h, dg, 32);
	uint64_t off = (gen & 1) ? half : 0;
	bool ok =
	    wr_ok(&w) && w.pos == len &&
	    plat_block_write(sec->sh, off + sec->sbs, b + sec->sbs, total - sec->sbs) == PLAT_OK &&
	    plat_block_flush(sec->sh) == PLAT_OK &&
	    plat_block_write(sec->sh, off, b, sec->sbs) == PLAT_OK &&
	    plat_block_flush(sec->sh) == PLAT_OK;
	region_free(&d->zr, b);
	if (!ok) {
		sec->stat[S_STORE_FAILED]++;
		LOG_WARN(l, "secondary device: cannot write the zones");
		return;
	}
	sec->sgen = gen;
	sec->stat[S_STORED]++;
}

/* Read one copy; a region block holding its payload, or NULL. */
static uint8_t *store_read_copy(struct dns_sec *sec, uint64_t off, uint64_t half, uint64_t *gen,
				size_t *len)
{
	struct dns_srv *d = sec->d;
	uint8_t *h = region_alloc(&d->zr, sec->sbs);
	if (!h)
		return NULL;
	uint8_t *p = NULL;
	if (plat_block_read(sec->sh, off, h, sec->sbs) == PLAT_OK && !memcmp(h, SEC_MAGIC, 16)) {
		*gen = (uint64_t)load_be32(h + 16) << 32 | load_be32(h + 20);
		uint64_t n = (uint64_t)load_be32(h + 24) << 32 | load_be32(h + 28);
		size_t bytes = (size_t)((n + sec->sbs - 1) / sec->sbs * sec->sbs);
		if (n <= half - sec->sbs && (p = region_alloc(&d->zr, bytes ? bytes : 1))) {
			uint8_t dg[32];
			if (bytes && plat_block_read(sec->sh, off + sec->sbs, p, bytes) != PLAT_OK)
				n = UINT64_MAX;
			else
				store_digest(*gen, n, p, dg);
			if (n == UINT64_MAX || memcmp(dg, h + 32, 32)) {
				region_free(&d->zr, p);
				p = NULL;
			}
			*len = (size_t)n;
		}
	}
	region_free(&d->zr, h);
	return p;
}

/* At start: the zones kept by the last run, through the transfer-in code. */
static void store_load(struct dns_sec *sec)
{
	struct dns_srv *d = sec->d;
	struct loop *l = d->loop;
	struct plat_block_info info;
	if (!sec->nzones || plat_block_acquire("secondary", &sec->sh, &info) != PLAT_OK)
		return;
	sec->sbs = info.block_size;
	sec->scap = info.capacity;
	uint64_t half = sec->scap / 2 / sec->sbs * sec->sbs;
	if (sec->sbs < SEC_HDR_LEN || half < 2 * (uint64_t)sec->sbs) {
		LOG_ERROR(l, "secondary device: too small (four blocks at least); not used");
		return;
	}
	sec->store = true;
	uint64_t ga = 0, gb = 0;
	size_t la = 0, lb = 0;
	uint8_t *a = store_read_copy(sec, 0, half, &ga, &la);
	uint8_t *b = store_read_copy(sec, half, half, &gb, &lb);
	if (a && b && gb > ga) {
		region_free(&d->zr, a);
		a = NULL;
	} else if (a && b) {
		region_free(&d->zr, b);
		b = NULL;
	}
	uint8_t *p = a ? a : b;
	size_t len = a ? la : lb;
	sec->sgen = a ? ga : b ? gb : 0;
	if (!p) {
		LOG_INFO(l, "secondary device: no zones kept yet");
		return;
	}
	struct rd r = rd_make(p, len);
	uint64_t now = dns_srv_now();
	while (rd_left(&r)) {
		uint8_t origin[DNS_NAME_MAX];
		if (dns_name_read(&r, origin) != ATL_OK)
			break;
		uint64_t at = (uint64_t)rd_be32(&r) << 32;
		at |= rd_be32(&r);
		struct rd st = rd_sub(&r, rd_be32(&r));
		struct sec_zone *z = sec_zone_find(sec, origin);
		if (!rd_ok(&r))
			break;
		if (!z)
			continue; /* no longer a secondary zone of ours */
		struct dns_xfrin_limits lim = {1u << 22, d->zr.size};
		dns_xfrin_init(&sec->x, origin, DNS_T_AXFR, 0, NULL, &d->zr, NULL, &lim);
		int rc = ATL_EAGAIN;
		while (rc == ATL_EAGAIN && rd_left(&st) >= 2) {
			size_t n = rd_be16(&st);
			const uint8_t *m = rd_take(&st, n);
			rc = m ? dns_xfrin_msg(&sec->x, m, n) : ATL_EINVAL;
		}
		struct dns_zone *nz;
		if (rc != ATL_OK || dns_xfrin_finish(&sec->x, &nz) != ATL_OK) {
			if (rc != ATL_OK)
				dns_xfrin_abort(&sec->x);
			LOG_WARN(l, "secondary device: %s unusable (%s); transferred again",
				 z->name, sec->x.err);
			continue;
		}
		dns_zone_soa_fields(nz, &z->soa);
		if (dns_srv_replace_zone(d, nz) != ATL_OK)
			continue;
		z->loaded = true;
		/* RFC 1034 4.3.5: expire counts from the last successful check,
		 * which was before the restart. */
		uint64_t age = now > at ? now - at : 0;
		z->expired = age >= z->soa.expire;
		z->kept_left = z->expired ? 0 : z->soa.expire - age;
		LOG_INFO(l, "zone %s serial %u: kept on the secondary device, %llu s old%s",
			 z->name, nz->serial, (unsigned long long)age,
			 z->expired ? ", expired" : "");
	}
	region_free(&d->zr, p);
}

/* Seconds from an SOA field, kept sane (at least 1 s, at most 4 weeks). */
static uint64_t soa_ns(uint32_t s)
{
	if (s < 1)
		s = 1;
	if (s > 28 * 86400)
		s = 28 * 86400;
	return s * NS_PER_SEC;
}

/* RFC 1034 4.3.5: past expire without a successful check, the data is
 * too old to be served.  A timer, so that it happens on time even while
 * the fiber waits for a primary that does not answer. */
static void expire_fired(struct loop *l, struct timer *t)
{
	struct sec_zone *z = CONTAINER_OF(t, struct sec_zone, expire);
	if (!z->loaded || z->expired)
		return;
	z->expired = true;
	z->sec->stat[S_EXPIRED]++;
	LOG_WARN(l, "%s: expired (no successful refresh for %u s): SERVFAIL from now", z->name,
		 z->soa.expire);
}

static void zone_fiber(void *arg)
{
	struct sec_zone *z = arg;
	struct dns_sec *sec = z->sec;
	struct loop *l = sec->d->loop;
	z->first_retry = DNS_SEC_FIRST_RETRY;
	timer_init(&z->expire, expire_fired);
	if (z->loaded && !z->expired) /* kept on the device: its expire runs on */
		timer_arm(l, &z->expire, loop_now(l) + z->kept_left * NS_PER_SEC);
	for (;;) {
		uint64_t now = loop_now(l);
		if (z->notified || now >= z->next_check) {
			z->notified = false;
			struct dns_soa soa;
			int rc = soa_check(z);
			if (rc == ATL_ESTOPPED)
				return;
			if (rc == ATL_OK)
				soa = z->soa_got;
			bool ok = false;
			if (rc == ATL_OK && z->loaded &&
			    dns_serial_cmp(soa.serial, z->soa.serial) <= 0) {
				ok = true; /* RFC 1982: not newer, nothing to fetch */
			} else if (rc == ATL_OK) {
				rc = refresh(z);
				if (rc == ATL_ESTOPPED)
					return;
				ok = rc == ATL_OK;
			} else {
				char a[16];
				LOG_WARN(l, "%s: SOA query to %s: %s", z->name,
					 ip4_fmt(z->primary.addr, a),
					 rc > 0 ? "refused (rcode)" : atl_strerror(rc));
			}
			now = loop_now(l);
			if (ok) {
				/* RFC 1034 4.3.5: fresh again until refresh. */
				z->next_check = now + soa_ns(z->soa.refresh);
				timer_arm(l, &z->expire, now + soa_ns(z->soa.expire));
				if (z->expired)
					LOG_INFO(l, "%s: answered again", z->name);
				z->expired = false;
			} else if (z->loaded) {
				z->next_check = now + soa_ns(z->soa.retry);
			} else {
				z->next_check = now + z->first_retry;
				if (z->first_retry < 16 * NS_PER_SEC)
					z->first_retry *= 2;
			}
		}
		if (!z->notified && fiber_wait(l, &z->wq, z->next_check) == ATL_ESTOPPED)
			return;
	}
}

int dns_sec_start(struct dns_srv *d)
{
	struct dns_sec *sec = d->sec;
	if (!sec)
		return ATL_OK;
	struct loop *l = d->loop;
	struct ip4_ep any = {0, 0};
	int rc = udp_open(d->st, &any, &sec->sock);
	if (rc != ATL_OK) {
		LOG_ERROR(l, "cannot open a UDP socket for SOA queries and NOTIFY: %s",
			  atl_strerror(rc));
		return rc;
	}
	if (sec->nzones && !d->st->ops->tcp_connect) {
		LOG_ERROR(l, "primary=: zone transfers need TCP, which this stack lacks");
		return ATL_ENOTSUP;
	}
	sec->group = (struct counter_group){
	    .name = "xfr", .names = sec_stat_names, .values = sec->stat, .n = S_COUNT};
	counters_register(l, &sec->group);
	if (!fiber_spawn(l, "dns-sec-sock", sock_fiber, sec, 0) ||
	    !fiber_spawn(l, "dns-notify", notify_fiber, sec, 0))
		return ATL_ENOMEM;
	static const uint8_t root[1] = {0};
	for (unsigned i = 0; i < sec->ntargets; i++) {
		const char *kt = sec->target_keyname[i];
		uint8_t kn[DNS_NAME_MAX];
		if (kt[0] && (dns_name_from_text(kt, strlen(kt), root, kn) != ATL_OK ||
			      !(sec->target_key[i] = dns_tsig_key_find(&d->keys, kn)))) {
			LOG_ERROR(l, "notify=.../%s: no such TSIG key in the zones archive's keys",
				  kt);
			return ATL_EINVAL;
		}
	}
	for (unsigned i = 0; i < sec->nzones; i++) {
		struct sec_zone *z = &sec->zones[i];
		uint8_t kn[DNS_NAME_MAX];
		if (z->keyname[0] &&
		    (dns_name_from_text(z->keyname, strlen(z->keyname), root, kn) != ATL_OK ||
		     !(z->key = dns_tsig_key_find(&d->keys, kn)))) {
			LOG_ERROR(l,
				  "primary=%s@.../%s: no such TSIG key in the zones archive's keys",
				  z->name, z->keyname);
			return ATL_EINVAL;
		}
	}
	for (unsigned i = 0; i < sec->nzones; i++) {
		char a[16];
		LOG_INFO(l, "secondary for %s from %s:%u%s%s", sec->zones[i].name,
			 ip4_fmt(sec->zones[i].primary.addr, a), sec->zones[i].primary.port,
			 sec->zones[i].key ? ", TSIG key " : "", sec->zones[i].keyname);
		if (!fiber_spawn(l, "dns-refresh", zone_fiber, &sec->zones[i], DNS_SEC_STACK))
			return ATL_ENOMEM;
	}
	store_load(sec);
	/* Like NSD and Knot: announce every zone at start. */
	for (unsigned i = 0; i < d->zones.n; i++)
		dns_sec_zone_changed(d, d->zones.z[i]);
	return ATL_OK;
}

/* ---- port 53: NOTIFY in, and SERVFAIL for zones we cannot answer ----------------------- */

/* A SERVFAIL echoing the question (RFC 1035 4.1.1). */
static size_t servfail(const uint8_t *msg, const struct dns_query *q, uint8_t *out, size_t cap)
{
	if (q->qend > cap)
		return 0;
	memcpy(out, msg, q->qend);
	uint16_t f =
	    (uint16_t)((q->h.flags & (0x7800 | DNS_F_RD | DNS_F_CD)) | DNS_F_QR | DNS_R_SERVFAIL);
	store_be16(out + 2, f);
	store_be16(out + 4, 1);
	memset(out + 6, 0, 6);
	return q->qend;
}

bool dns_sec_intercept(struct dns_srv *d, const struct ip4_ep *from, const uint8_t *msg, size_t len,
		       uint8_t *out, size_t cap, size_t *n)
{
	struct dns_sec *sec = d->sec;
	*n = 0;
	if (!sec || len < DNS_HDR_LEN || (load_be16(msg + 2) & DNS_F_QR))
		return false;
	unsigned op = DNS_OPCODE(load_be16(msg + 2));
	if (op == DNS_OP_NOTIFY) {
		struct dns_notify nt;
		int rc = dns_notify_parse(msg, len, &nt);
		if (rc == ATL_EINVAL)
			return true; /* nothing to answer */
		struct sec_zone *z = rc == DNS_R_NOERROR ? sec_zone_find(sec, nt.zone) : NULL;
		char a[16];
		struct dns_tsig t;
		uint64_t now = dns_srv_now();
		bool signed_ok = z && z->key &&
				 dns_tsig_verify(&d->keys, msg, len, now, &t) == DNS_R_NOERROR &&
				 t.key == z->key;
		if (rc == DNS_R_NOERROR && !z) {
			rc = DNS_R_NOTAUTH;
			sec->stat[S_NOTIFY_REFUSED]++;
		} else if (z && from->addr != z->primary.addr) {
			/* RFC 1996 3.10: only from a known master. */
			LOG_WARN(d->loop, "NOTIFY for %s from %s, not its primary: refused",
				 z->name, ip4_fmt(from->addr, a));
			rc = DNS_R_REFUSED;
			sec->stat[S_NOTIFY_REFUSED]++;
		} else if (z && z->key && !signed_ok) {
			/* RFC 8945 5.2: with a key, only a NOTIFY signed by it. */
			LOG_WARN(d->loop, "NOTIFY for %s without a valid TSIG of key %s: refused",
				 z->name, z->keyname);
			rc = DNS_R_NOTAUTH;
			sec->stat[S_TSIG_BAD]++;
			sec->stat[S_NOTIFY_REFUSED]++;
		} else if (z) {
			sec->stat[S_NOTIFY_IN]++;
			z->notified = true;
			waitq_wake_all(d->loop, &z->wq);
		}
		*n = dns_notify_answer(msg, len, (uint8_t)rc, out, cap);
		if (*n && signed_ok && rc == DNS_R_NOERROR) /* RFC 8945 5.3 */
			*n = dns_tsig_sign(&t, out, *n, cap, now);
		return true;
	}
	if (op == DNS_OP_UPDATE && sec->nzones) {
		/* RFC 2136 6: a secondary's copy changes only by transfer from
		 * its primary; without forwarding, an update sent to us is
		 * refused (as BIND does) rather than applied to a copy the
		 * next transfer would undo. */
		const struct dns_zone *uz;
		uint8_t zname[DNS_NAME_MAX];
		if (dns_update_zone(&d->zones, msg, len, &uz, zname) != DNS_R_NOERROR ||
		    !sec_zone_find(sec, uz->origin))
			return false;
		*n = dns_update_response(msg, len, DNS_R_REFUSED, out, cap);
		return true;
	}
	if (op != DNS_OP_QUERY || !sec->nzones)
		return false;
	struct dns_query q;
	if (dns_query_parse(msg, len, &q) != DNS_R_NOERROR)
		return false;
	/* The deepest secondary zone holding the name, unless a deeper zone
	 * we serve holds it. */
	struct sec_zone *best = NULL;
	for (unsigned i = 0; i < sec->nzones; i++) {
		struct sec_zone *z = &sec->zones[i];
		if (dns_name_is_sub(q.qname, z->origin) &&
		    (!best || dns_name_labels(z->origin) > dns_name_labels(best->origin)))
			best = z;
	}
	if (!best || (best->loaded && !best->expired))
		return false;
	const struct dns_zone *served = dns_zones_find(&d->zones, q.qname);
	if (served && dns_name_labels(served->origin) > dns_name_labels(best->origin))
		return false;
	*n = servfail(msg, &q, out, cap);
	return true;
}

void dns_sec_report(struct dns_srv *d)
{
	struct dns_sec *sec = d->sec;
	for (unsigned i = 0; sec && i < sec->nzones; i++) {
		struct sec_zone *z = &sec->zones[i];
		const struct dns_zone *v = dns_srv_zone(d, z->origin);
		LOG_INFO(d->loop, "secondary %s: %s serial %u, %zu names", z->name,
			 !z->loaded   ? "never loaded"
			 : z->expired ? "expired,"
				      : "loaded,",
			 z->soa.serial, v && z->loaded ? v->nnodes : 0);
	}
}
