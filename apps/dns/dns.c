/*
 * dns - the authoritative DNS server unikernel (issue #6).
 *
 * Serves its zones on UDP and TCP (RFC 7766) port 53 with the lib/dns answering core.  Zones
 * come from a POSIX tar archive on the block device "zones" (one master
 * file per member, named <origin>.zone; members may $INCLUDE each other)
 * or, with no such device, from the embedded example.test. zone, so it
 * runs with no set-up.  A zone that fails its checks is reported and left
 * out; the others are served.
 */
#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "dns/dns.h"
#include "dns/rrl.h"
#include "dns/tar.h"
#include "secondary.h"
#include "srv.h"

static const char example_zone[] = "$ORIGIN example.test.\n"
				   "$TTL 3600\n"
				   "@       SOA   ns1 hostmaster 2026112601 7200 900 1209600 300\n"
				   "        NS    ns1\n"
				   "        NS    ns2\n"
				   "        A     192.0.2.10\n"
				   "        AAAA  2001:db8::10\n"
				   "        MX    10 mail\n"
				   "        TXT   \"v=spf1 mx -all\"\n"
				   "ns1     A     192.0.2.1\n"
				   "ns2     A     192.0.2.2\n"
				   "mail    A     192.0.2.25\n"
				   "www     CNAME @\n"
				   "*.apps  A     192.0.2.80\n"
				   "_sip._udp SRV 0 5 5060 sip\n"
				   "sip     A     192.0.2.60\n"
				   "dev     NS    ns.dev\n"
				   "ns.dev  A     192.0.2.53\n";

static const char *const dns_stat_names[DNS_S_COUNT] = {
    "queries",	      "answered",      "dropped",     "send_failed", "tcp_conns",
    "tcp_queries",    "tcp_refused",   "axfr_out",    "tsig_bad",    "updates",
    "update_refused", "update_failed", "rrl_dropped", "rrl_slipped"};
/* The cache counts for itself (enum dns_cache_stat). */
static const char *const dns_cache_stat_names[3] = {"hits", "misses", "stored"};

uint64_t dns_srv_now(void)
{
	return plat_clock_wall() / 1000000000u;
}

struct dns_zone *dns_srv_zone(struct dns_srv *d, const uint8_t *origin)
{
	for (unsigned i = 0; i < d->zones.n; i++)
		if (dns_name_equal(d->zones.z[i]->origin, origin))
			return d->zones.z[i];
	return NULL;
}

int dns_srv_replace_zone(struct dns_srv *d, struct dns_zone *z)
{
	unsigned i = 0;
	while (i < d->zones.n && !dns_name_equal(d->zones.z[i]->origin, z->origin))
		i++;
	if (i == d->zones.n) {
		if (d->zones.n >= DNS_ZONES_MAX) {
			dns_zone_free(&d->zr, z);
			return ATL_ENOMEM;
		}
		d->zones.n++;
	} else {
		struct dns_zone *old = d->zones.z[i];
		old->retired = true;
		if (!old->refs)
			dns_zone_free(&d->zr, old);
	}
	z->refs = 0;
	z->retired = false;
	d->zones.z[i] = z;
	/* Every change of any zone (update, transfer in, journal replay,
	 * reload) goes through here: no response of the old data stays. */
	dns_cache_flush(&d->cache);
	if (d->running)
		dns_srv_zone_changed(d, z);
	return ATL_OK;
}

void dns_srv_zone_hold(struct dns_zone *z)
{
	z->refs++;
}

void dns_srv_zone_release(struct dns_srv *d, struct dns_zone *z)
{
	ASSERT(z->refs > 0);
	if (--z->refs == 0 && z->retired)
		dns_zone_free(&d->zr, z);
}

void dns_srv_zone_changed(struct dns_srv *d, const struct dns_zone *z)
{
	dns_sec_zone_changed(d, z); /* NOTIFY (RFC 1996) to its secondaries */
}

static bool axfr_allowed(const struct dns_srv *d, uint32_t addr, const struct dns_tsig *t)
{
	if (d->axfr_any)
		return true;
	for (unsigned i = 0; i < d->naxfr; i++)
		if (d->axfr_allow[i] == addr)
			return true;
	for (unsigned i = 0; t && i < d->naxfr_keys; i++)
		if (dns_name_equal(d->axfr_keys[i], t->key->name))
			return true;
	return false;
}

/* A name from a boot argument: text up to n bytes, made absolute. */
static int arg_name(const char *v, size_t n, uint8_t *out)
{
	if (!n)
		return ATL_EINVAL;
	int rc = dns_name_from_text(v, n, (const uint8_t *)"", out);
	if (rc == ATL_OK)
		dns_name_lower(out);
	return rc;
}

/* axfr-allow=any, or a comma-separated list of IPv4 addresses and
 * key:<name> for requests signed with that TSIG key. */
static int parse_axfr_allow(struct dns_srv *d, const char *v)
{
	if (!v)
		return ATL_OK;
	if (!strcmp(v, "any")) {
		d->axfr_any = true;
		return ATL_OK;
	}
	while (*v) {
		char one[16];
		size_t n = 0;
		while (v[n] && v[n] != ',')
			n++;
		if (n > 4 && !memcmp(v, "key:", 4)) {
			if (d->naxfr_keys >= ARRAY_SIZE(d->axfr_keys) ||
			    arg_name(v + 4, n - 4, d->axfr_keys[d->naxfr_keys++]) != ATL_OK)
				return ATL_EINVAL;
		} else {
			if (n >= sizeof one || d->naxfr >= ARRAY_SIZE(d->axfr_allow))
				return ATL_EINVAL;
			memcpy(one, v, n);
			one[n] = 0;
			if (ip4_parse(one, &d->axfr_allow[d->naxfr++]) != ATL_OK)
				return ATL_EINVAL;
		}
		v += n + (v[n] == ',');
	}
	return ATL_OK;
}

/* update-allow=<key>[@<zone>],...: the key may update that zone (every
 * zone without @). */
static int parse_update_allow(struct dns_srv *d, const char *v)
{
	while (v && *v) {
		size_t n = 0, at = 0;
		while (v[n] && v[n] != ',') {
			if (v[n] == '@' && !at)
				at = n;
			n++;
		}
		if (d->nupd >= ARRAY_SIZE(d->upd))
			return ATL_EINVAL;
		if (arg_name(v, at ? at : n, d->upd[d->nupd].key) != ATL_OK)
			return ATL_EINVAL;
		if (at) {
			if (arg_name(v + at + 1, n - at - 1, d->upd[d->nupd].zone) != ATL_OK)
				return ATL_EINVAL;
		} else {
			d->upd[d->nupd].zone[0] = 0;
		}
		d->nupd++;
		v += n + (v[n] == ',');
	}
	return ATL_OK;
}

bool dns_srv_update_allowed(const struct dns_srv *d, const struct dns_tsig_key *k,
			    const uint8_t *zone)
{
	for (unsigned i = 0; k && i < d->nupd; i++)
		if (dns_name_equal(d->upd[i].key, k->name) &&
		    (!d->upd[i].zone[0] || dns_name_equal(d->upd[i].zone, zone)))
			return true;
	return false;
}

/*
 * One request that is not a transfer, to its response (0: none).  A
 * TSIG is checked first (RFC 8945 5.2): a failure is answered NOTAUTH
 * and the request is not looked at; a signed request gets a signed
 * response.
 */
static size_t dns_srv_handle(struct dns_srv *d, const uint8_t *msg, size_t len,
			     enum dns_transport tr, uint8_t *out, size_t cap)
{
	size_t n;
	/* A plain query (no TSIG, no UPDATE) goes through the cache. */
	if (d->cache.slots && dns_answer_cached(&d->cache, &d->zones, msg, len, tr, out, cap, &n))
		return n;
	struct dns_tsig t;
	uint64_t now = dns_srv_now();
	int rc = dns_tsig_verify(&d->keys, msg, len, now, &t);
	if (rc == DNS_R_FORMERR)
		return dns_tsig_error_response(NULL, msg, len, DNS_R_FORMERR, out, cap, now);
	if (rc == DNS_R_NOTAUTH) {
		char kn[1024];
		dns_name_to_text(t.name, kn, sizeof kn);
		d->stat[DNS_S_TSIG_BAD]++;
		LOG_WARN(d->loop, "TSIG %s with key %s: refused",
			 t.error == DNS_TSIG_BADKEY   ? "BADKEY (unknown key or algorithm)"
			 : t.error == DNS_TSIG_BADSIG ? "BADSIG (wrong MAC)"
						      : "BADTIME (clocks differ)",
			 kn);
		return dns_tsig_error_response(&t, msg, len, DNS_R_NOTAUTH, out, cap, now);
	}
	struct dns_tsig *tp = rc == DNS_R_NOERROR ? &t : NULL;
	if (len >= DNS_HDR_LEN && DNS_OPCODE(load_be16(msg + 2)) == DNS_OP_UPDATE &&
	    !(load_be16(msg + 2) & DNS_F_QR))
		n = dns_srv_update(d, msg, len, tp, out, cap - (tp ? dns_tsig_size(tp) : 0));
	else
		n = dns_answer_reserve(&d->zones, msg, len, tr, out, cap,
				       tp ? dns_tsig_size(tp) : 0);
	if (n && tp)
		n = dns_tsig_sign(tp, out, n, cap, now);
	return n;
}

/* Read exactly n bytes; false at the end of the stream, an error or the
 * deadline. */
static bool read_full(struct tcp_conn *c, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;
	while (got < n) {
		size_t len;
		if (tcp_read(c, buf + got, n - got, &len, deadline) != ATL_OK || len == 0)
			return false;
		got += len;
	}
	return true;
}

/*
 * A zone transfer out (RFC 5936, RFC 1995) started in s->x: the zone as a
 * stream of messages, each signed when the request was (RFC 8945 5.3.1).
 * The version being sent stays alive until the end; an IXFR gets the
 * differences when the journal has every one from the client's serial.
 * False when the connection is to be closed.
 */
static bool dns_tcp_transfer(struct dns_tcp_slot *s, struct dns_tsig *tp, uint64_t now,
			     uint64_t deadline)
{
	struct dns_srv *d = s->d;
	struct dns_zone *z = (struct dns_zone *)s->x.z;
	size_t room = DNS_TCP_ANSWER_MAX - (tp ? dns_tsig_size(tp) : 0), m;
	bool ok = true;
	uint32_t serial = s->x.client_serial;
	void *blk = NULL; /* the difference being sent, read from the journal */
	if (s->x.qtype == DNS_T_IXFR && s->x.have_client_serial && !s->x.up_to_date &&
	    dns_srv_journal_chain(d, z, serial))
		dns_ixfr_begin(&s->x);
	char zt[1024], peer[16];
	uint32_t a = s->peer.addr;
	dns_name_to_text(z->origin, zt, sizeof zt);
	fmt_snprintf(peer, sizeof peer, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
		     a & 255);
	if (s->x.qtype == DNS_T_AXFR)
		LOG_INFO(d->loop, "AXFR of %s serial %u to %s", zt, z->serial, peer);
	else if (s->x.up_to_date)
		LOG_INFO(d->loop, "IXFR of %s to %s: up to date (serial %u)", zt, peer, z->serial);
	else
		LOG_INFO(d->loop, "IXFR of %s to %s: serial %u -> %u %s", zt, peer, serial,
			 z->serial,
			 s->x.incremental ? "as differences" : "as the whole zone (no history)");
	dns_srv_zone_hold(z);
	while (ok) {
		if (s->x.need_diff) {
			const uint8_t *diff = NULL;
			size_t dl = 0;
			region_free(&d->zr, blk);
			blk = NULL;
			if (serial != z->serial &&
			    !(blk = dns_srv_journal_next(d, z, &serial, &diff, &dl)))
				break; /* unreadable now: the client retries */
			dns_ixfr_feed(&s->x, diff, dl);
		}
		if (!(m = dns_axfr_next(&s->x, s->out + 2, room)))
			break;
		if (tp && !(m = dns_tsig_sign(tp, s->out + 2, m, DNS_TCP_ANSWER_MAX, now)))
			break;
		store_be16(s->out, (uint16_t)m);
		ok = tcp_write(s->c, s->out, m + 2, NULL, deadline) == ATL_OK;
	}
	region_free(&d->zr, blk);
	dns_srv_zone_release(d, z);
	d->stat[DNS_S_AXFR_OUT]++;
	return ok && s->x.done;
}

/* RFC 7766: two-byte length, then the message; several queries per
 * connection, answered in order; closed after an idle period. */
static void dns_tcp_conn(void *arg)
{
	struct dns_tcp_slot *s = arg;
	struct dns_srv *d = s->d;
	for (;;) {
		uint8_t lb[2];
		uint64_t deadline = loop_now(d->loop) + DNS_TCP_IDLE_NS;
		if (!read_full(s->c, lb, 2, deadline))
			break;
		size_t len = load_be16(lb);
		if (len > sizeof s->in || !read_full(s->c, s->in, len, deadline))
			break;
		d->stat[DNS_S_TCP_QUERIES]++;
		struct dns_tsig t;
		uint64_t now = dns_srv_now();
		int trc = dns_tsig_verify(&d->keys, s->in, len, now, &t);
		struct dns_tsig *tp = trc == DNS_R_NOERROR ? &t : NULL;
		if ((trc == DNS_R_NOERROR || trc == ATL_ENOENT) &&
		    axfr_allowed(d, s->peer.addr, tp) &&
		    dns_axfr_start(&d->zones, s->in, len, &s->x) == DNS_R_NOERROR) {
			if (!dns_tcp_transfer(s, tp, now, deadline))
				break;
			continue;
		}
		size_t n;
		if (!d->sec ||
		    !dns_sec_intercept(d, &s->peer, s->in, len, s->out + 2, DNS_TCP_ANSWER_MAX, &n))
			n = dns_srv_handle(d, s->in, len, DNS_TCP, s->out + 2, DNS_TCP_ANSWER_MAX);
		if (!n)
			break;
		store_be16(s->out, (uint16_t)n);
		if (tcp_write(s->c, s->out, n + 2, NULL, deadline) != ATL_OK)
			break;
	}
	tcp_close(s->c);
	s->c = NULL;
}

static void dns_tcp(void *arg)
{
	struct dns_srv *d = arg;
	for (;;) {
		struct tcp_conn *c;
		struct ip4_ep peer;
		int rc = tcp_accept(d->ls, &c, &peer, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		struct dns_tcp_slot *s = NULL;
		for (unsigned i = 0; i < DNS_TCP_SLOTS && !s; i++)
			if (!d->slots[i].c)
				s = &d->slots[i];
		if (!s || !fiber_spawn(d->loop, "dns-tcp", dns_tcp_conn, s, 0)) {
			d->stat[DNS_S_TCP_REFUSED]++;
			tcp_close(c);
			continue;
		}
		s->d = d;
		s->c = c;
		s->peer = peer;
		d->stat[DNS_S_TCP_CONNS]++;
	}
}

static void dns_udp(void *arg)
{
	struct dns_srv *d = arg;
	for (;;) {
		struct ip4_ep from;
		size_t len;
		int rc = udp_recvfrom(d->sock, &from, d->in, DNS_BUF, &len, DEADLINE_NEVER);
		if (rc == ATL_ESTOPPED)
			return;
		if (rc != ATL_OK)
			continue;
		d->stat[DNS_S_QUERIES]++;
		size_t n;
		/* A secondary's zone not loaded yet is SERVFAIL (secondary.c). */
		if (!d->sec || !dns_sec_intercept(d, &from, d->in, len, d->out, DNS_BUF, &n))
			n = dns_srv_handle(d, d->in, len, DNS_UDP, d->out, DNS_BUF);
		if (!n) {
			d->stat[DNS_S_DROPPED]++;
			continue;
		}
		if (d->rrl.tab) {
			enum dns_rrl_verdict v =
			    dns_rrl_check(&d->rrl, from.addr, d->out, &n, loop_now(d->loop));
			if (v == DNS_RRL_DROP) {
				d->stat[DNS_S_RRL_DROPPED]++;
				continue;
			}
			if (v == DNS_RRL_SLIP)
				d->stat[DNS_S_RRL_SLIPPED]++;
		}
		if (udp_sendto(d->sock, &from, d->out, n) == ATL_OK)
			d->stat[DNS_S_ANSWERED]++;
		else
			d->stat[DNS_S_SEND_FAILED]++;
	}
}

/* $INCLUDE from the archive: a member of that name. */
struct archive {
	const uint8_t *data;
	size_t len;
};

static int archive_include(void *ctx, const char *file, const char **data, size_t *len)
{
	struct archive *ar = ctx;
	struct rd r = rd_make(ar->data, ar->len);
	struct dns_tar_member m;
	while (dns_tar_next(&r, &m) == ATL_OK) {
		if (!strcmp(m.name, file) ||
		    (m.name[0] == '.' && m.name[1] == '/' && !strcmp(m.name + 2, file))) {
			*data = (const char *)m.data;
			*len = m.len;
			return ATL_OK;
		}
	}
	return ATL_ENOENT;
}

static void add_zone(struct dns_srv *d, const char *file, const char *origin_text,
		     size_t origin_len, const char *text, size_t len, struct archive *ar)
{
	uint8_t origin[DNS_NAME_MAX];
	char err[320];
	if (dns_name_from_text(origin_text, origin_len, NULL, origin) != ATL_OK) {
		LOG_ERROR(d->loop, "%s: the member name is not a zone origin", file);
		return;
	}
	if (dns_sec_is_secondary(d, origin)) {
		LOG_WARN(d->loop, "%s: a secondary zone (primary=): transferred in, not loaded",
			 file);
		return;
	}
	if (d->zones.n >= DNS_ZONES_MAX) {
		LOG_ERROR(d->loop, "%s: more than %d zones", file, DNS_ZONES_MAX);
		return;
	}
	struct dns_zone *z;
	if (dns_zone_load_text_region(&d->zr, origin, file, text, len, ar ? archive_include : NULL,
				      ar, &z, err, sizeof err) != ATL_OK) {
		LOG_ERROR(d->loop, "zone rejected: %s", err);
		return;
	}
	char t[1024];
	dns_name_to_text(z->origin, t, sizeof t);
	LOG_INFO(d->loop, "zone %s serial %u: %zu names, %zu bytes", t, z->serial, z->nnodes,
		 z->bytes);
	dns_srv_replace_zone(d, z);
}

/* Zones from the tar archive on the "zones" block device. */
static int load_archive(struct dns_srv *d)
{
	plat_handle_t bh;
	struct plat_block_info info;
	if (plat_block_acquire("zones", &bh, &info) != PLAT_OK)
		return ATL_ENOENT;
	/* The archive is read into the top of the zone region and freed once
	 * the zones are built below it: it costs memory only while loading,
	 * and the room it leaves joins the free space later versions use. */
	uint8_t *buf =
	    info.capacity <= SIZE_MAX ? region_alloc_top(&d->zr, (size_t)info.capacity) : NULL;
	if (!buf) {
		LOG_ERROR(d->loop, "zone-mem too small for the %llu-byte zones archive",
			  (unsigned long long)info.capacity);
		return ATL_ENOMEM;
	}
	/* Read in chunks of whole blocks. */
	size_t chunk = info.block_size * 256u;
	for (uint64_t off = 0; off < info.capacity; off += chunk) {
		size_t n = info.capacity - off < chunk ? (size_t)(info.capacity - off) : chunk;
		if (plat_block_read(bh, off, buf + off, n) != PLAT_OK) {
			LOG_ERROR(d->loop, "cannot read the zones device");
			region_free(&d->zr, buf);
			return ATL_EIO;
		}
	}
	struct archive ar = {buf, (size_t)info.capacity};
	struct rd r = rd_make(buf, (size_t)info.capacity);
	struct dns_tar_member m;
	int rc;
	while ((rc = dns_tar_next(&r, &m)) == ATL_OK) {
		const char *base = m.name;
		for (const char *p = m.name; *p; p++)
			if (*p == '/')
				base = p + 1;
		size_t bl = strlen(base);
		if (!strcmp(base, "keys")) {
			char err[160];
			if (dns_tsig_keys_parse(&d->keys, (const char *)m.data, m.len, err,
						sizeof err) != ATL_OK)
				LOG_ERROR(d->loop, "%s: TSIG keys not all read: %s", m.name, err);
			LOG_INFO(d->loop, "%u TSIG keys", d->keys.n);
			continue;
		}
		if (bl <= 5 || strcmp(base + bl - 5, ".zone"))
			continue; /* $INCLUDE material, or not ours */
		/* "<origin>.zone": the origin is absolute whether or not it ends
		 * with a dot ("example.test.zone" or "example.test..zone"). */
		size_t ol = bl - 5;
		char origin[300];
		if (ol + 2 > sizeof origin)
			continue;
		memcpy(origin, base, ol);
		if (ol && origin[ol - 1] != '.')
			origin[ol++] = '.';
		add_zone(d, m.name, origin, ol, (const char *)m.data, m.len, &ar);
	}
	if (rc != ATL_ENOENT)
		LOG_ERROR(d->loop, "the zones archive is malformed after member %s", m.name);
	region_free(&d->zr, buf);
	return ATL_OK;
}

int dns_serve(const struct plat_start *s, void (*started)(struct dns_srv *d, void *arg), void *arg)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);
	args_report_unknown(s);

	struct dns_srv *d = heap_alloc(&heap, sizeof *d, 16);
	if (d) {
		d->in = heap_alloc(&heap, DNS_BUF, 16);
		d->out = heap_alloc(&heap, DNS_BUF, 16);
	}
	if (!d || !d->in || !d->out) {
		LOG_ERROR(&l, "heap too small for the DNS buffers");
		return 1;
	}
	d->loop = &l;
	if (parse_axfr_allow(d, args_get(s, "axfr-allow")) != ATL_OK) {
		LOG_ERROR(&l, "axfr-allow= takes \"any\", or IPv4 addresses and key:<name> "
			      "separated by commas");
		return 1;
	}
	if (parse_update_allow(d, args_get(s, "update-allow")) != ATL_OK) {
		LOG_ERROR(&l, "update-allow= takes <key>[@<zone>] separated by commas (at most %u)",
			  (unsigned)ARRAY_SIZE(d->upd));
		return 1;
	}
	if (dns_sec_init(d, &heap) != ATL_OK)
		return 1;

	/* Response rate limiting is off unless asked for, as in Knot: the
	 * right rate depends on who the clients are. */
	uint64_t rrl, rrl_slip;
	if (args_get_u64(&l, "rrl", 0, 1000000, &rrl) != ATL_OK ||
	    args_get_u64(&l, "rrl-slip", 2, 100, &rrl_slip) != ATL_OK)
		return 1;
	if (dns_rrl_init(&d->rrl, &heap, DNS_RRL_ENTRIES, (uint32_t)rrl, (uint32_t)rrl_slip) !=
	    ATL_OK) {
		LOG_ERROR(&l, "heap too small for the rate limiting table");
		return 1;
	}

	/* The response cache: small by default, as the heap hands memory
	 * out zeroed (so resident); 0 turns it off. */
	uint64_t cache;
	if (args_get_u64(&l, "dns-cache", DNS_CACHE_DEFAULT, (uint64_t)1 << 32, &cache) != ATL_OK)
		return 1;
	int rc = dns_cache_init(&d->cache, &heap, (size_t)cache);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "dns-cache=%llu: %s", (unsigned long long)cache,
			  rc == ATL_ENOMEM
			      ? "the heap is too small for it"
			      : "less than one set of two 512-byte slots (0 turns it off)");
		return 1;
	}

	struct stack *st;
	rc = stack_open(&l, "service", &st);
	d->st = st;
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot open the network stack: %s", atl_strerror(rc));
		return 1;
	}

	/* Zone data gets what the heap has left, less room for fibers and
	 * the archive (zone-mem= overrides). */
	uint64_t zmem;
	size_t left = heap.size - heap.used;
	if (args_get_u64(&l, "zone-mem", left / 2, left, &zmem) != ATL_OK)
		return 1;
	if (region_init(&d->zr, &heap, (size_t)zmem) != ATL_OK) {
		LOG_ERROR(&l, "heap too small for %llu bytes of zone data",
			  (unsigned long long)zmem);
		return 1;
	}
	rc = load_archive(d);
	if (rc == ATL_ENOENT && !dns_sec_nzones(d)) {
		LOG_INFO(&l, "no zones device: serving the embedded example.test. zone");
		add_zone(d, "embedded:example.test.zone", "example.test.", 13, example_zone,
			 sizeof example_zone - 1, NULL);
	}
	if (!d->zones.n && !dns_sec_nzones(d)) {
		LOG_ERROR(&l, "no zone to serve");
		return 1;
	}
	if (dns_srv_journal_open(d, &heap) != ATL_OK)
		return 1;

	struct ip4_ep local = {0, DNS_PORT};
	rc = udp_open(st, &local, &d->sock);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot bind UDP port %d: %s", DNS_PORT, atl_strerror(rc));
		return 1;
	}
	d->group = (struct counter_group){
	    .name = "dns", .names = dns_stat_names, .values = d->stat, .n = ARRAY_SIZE(d->stat)};
	counters_register(&l, &d->group);
	if (d->cache.slots) {
		d->cache_group = (struct counter_group){.name = "dns.cache",
							.names = dns_cache_stat_names,
							.values = d->cache.stat,
							.n = 3};
		counters_register(&l, &d->cache_group);
	}
	if (!fiber_spawn(&l, "dns-udp", dns_udp, d, 0)) {
		LOG_ERROR(&l, "heap too small for a fiber");
		return 1;
	}
	/* TCP (RFC 7766) where the stack has it. */
	const char *tcp = "no TCP on this stack";
	if (st->ops->tcp_listen) {
		d->slots = heap_alloc(&heap, DNS_TCP_SLOTS * sizeof *d->slots, 16);
		if (!d->slots) {
			LOG_ERROR(&l, "heap too small for the TCP connections");
			return 1;
		}
		rc = tcp_listen(st, &local, DNS_TCP_SLOTS, &d->ls);
		if (rc != ATL_OK) {
			LOG_ERROR(&l, "cannot listen on TCP port %d: %s", DNS_PORT,
				  atl_strerror(rc));
			return 1;
		}
		if (!fiber_spawn(&l, "dns-tcp", dns_tcp, d, 0)) {
			LOG_ERROR(&l, "heap too small for a fiber");
			return 1;
		}
		tcp = "UDP and TCP";
	}
	LOG_INFO(&l, "dns: %u zones on port %d, %s (%s stack), zone data %zu bytes", d->zones.n,
		 DNS_PORT, tcp, st->ops->name, d->zr.used);
	if (dns_sec_start(d) != ATL_OK)
		return 1;
	d->running = true;
	if (started)
		started(d, arg);
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	dns_sec_report(d);
	counters_print(&l);
	return 0;
}

static int dns_main(const struct plat_start *s)
{
	return dns_serve(s, NULL, NULL);
}

static const struct plat_device_decl dns_devices[] = {
    {"service", PLAT_DEV_NET, "the network the DNS server answers on (UDP port 53)"},
    {"zones", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive of <origin>.zone master files and a \"keys\" member of "
     "TSIG keys (default: example.test.)"},
    {"journal", PLAT_DEV_BLOCK,
     "optional: the journal of dynamic updates, written before each is acknowledged and "
     "replayed at start (without it updates are lost on restart)"},
    {"secondary", PLAT_DEV_BLOCK,
     "optional (third on pvh, after zones and journal): where zones transferred in (primary=) are "
     "kept across restarts"},
};

static const struct plat_arg_decl dns_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"zone-mem", "bytes of heap for zone data, and the zones archive while loading (default: "
		 "half of what is free at start)"},
    {"axfr-allow", "who may transfer zones (AXFR/IXFR over TCP): any, or addresses and "
		   "key:<TSIG key name>, a,b,... (default none)"},
    {"update-allow", "which TSIG key may send dynamic updates (RFC 2136) to which zone: "
		     "<key>[@<zone>],... (a key without @ may update every zone; default none)"},
    {"primary", "be a secondary: <zone>@<address>[:port],... zones transferred in from there"},
    {"notify", "secondaries to NOTIFY of every zone at start and on changes: <address>[:port],..."},
    {"rrl", "UDP responses a second per client /24 and kind of answer (default 0: no limit)"},
    {"dns-cache", "bytes for the response cache of plain queries, e.g. 4M (default 256K; 0: off)"},
    {"rrl-slip", "every Nth rate-limited response goes out truncated, the rest are dropped "
		 "(0: drop all; default 2)"},
    TCP_ARG_DECLS,
};

const struct plat_app dns_app = {
    .name = "dns",
    .summary = "authoritative DNS server on UDP and TCP port 53",
    .devices = dns_devices,
    .ndevices = ARRAY_SIZE(dns_devices),
    .args = dns_args,
    .nargs = ARRAY_SIZE(dns_args),
    .main = dns_main,
};
