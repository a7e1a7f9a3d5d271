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
#include "net/stack.h"
#include "net/tcp.h"

#define DNS_PORT	   53
#define DNS_BUF		   65535
#define DNS_TCP_SLOTS	   16			/* connections served at once */
#define DNS_TCP_QUERY_MAX  4096			/* a longer query closes the connection */
#define DNS_TCP_ANSWER_MAX 16384		/* a longer answer is sent truncated (TC) */
#define DNS_TCP_IDLE_NS	   (10ull * 1000000000) /* RFC 7766 6.2.3 */

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

struct dns_srv;

/* One TCP connection's state and buffers (from the heap, reused). */
struct dns_tcp_slot {
	struct dns_srv *d;
	struct tcp_conn *c;
	struct ip4_ep peer;
	struct dns_axfr x;
	uint8_t in[DNS_TCP_QUERY_MAX];
	uint8_t out[2 + DNS_TCP_ANSWER_MAX];
};

struct dns_srv {
	struct loop *loop;
	struct udp_sock *sock;
	struct tcp_listener *ls;
	struct dns_zones zones;
	uint8_t *in, *out;
	struct dns_tcp_slot *slots;
	/* axfr-allow=: who may transfer zones (none by default) */
	bool axfr_any;
	unsigned naxfr;
	uint32_t axfr_allow[16];
	struct dns_rrl rrl; /* rrl=, rrl-slip=: UDP response rate limiting */
	/* queries, answered, dropped, send_failed, tcp_conns, tcp_queries,
	 * tcp_refused (no slot), axfr_out, rrl_dropped, rrl_slipped */
	uint64_t stat[10];
	struct counter_group group;
};

static const char *const dns_stat_names[] = {
    "queries",	   "answered",	  "dropped",  "send_failed", "tcp_conns",
    "tcp_queries", "tcp_refused", "axfr_out", "rrl_dropped", "rrl_slipped"};

static bool axfr_allowed(const struct dns_srv *d, uint32_t addr)
{
	if (d->axfr_any)
		return true;
	for (unsigned i = 0; i < d->naxfr; i++)
		if (d->axfr_allow[i] == addr)
			return true;
	return false;
}

/* axfr-allow=any or a comma-separated list of IPv4 addresses. */
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
		if (n >= sizeof one || d->naxfr >= ARRAY_SIZE(d->axfr_allow))
			return ATL_EINVAL;
		memcpy(one, v, n);
		one[n] = 0;
		if (ip4_parse(one, &d->axfr_allow[d->naxfr++]) != ATL_OK)
			return ATL_EINVAL;
		v += n + (v[n] == ',');
	}
	return ATL_OK;
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
		d->stat[5]++;
		if (axfr_allowed(d, s->peer.addr) &&
		    dns_axfr_start(&d->zones, s->in, len, &s->x) == DNS_R_NOERROR) {
			/* RFC 5936: the zone as a stream of messages. */
			size_t m;
			bool ok = true;
			while (ok && (m = dns_axfr_next(&s->x, s->out + 2, DNS_TCP_ANSWER_MAX))) {
				store_be16(s->out, (uint16_t)m);
				ok = tcp_write(s->c, s->out, m + 2, NULL, deadline) == ATL_OK;
			}
			d->stat[7]++;
			if (!ok || !s->x.done)
				break;
			continue;
		}
		size_t n =
		    dns_answer(&d->zones, s->in, len, DNS_TCP, s->out + 2, DNS_TCP_ANSWER_MAX);
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
			d->stat[6]++;
			tcp_close(c);
			continue;
		}
		s->d = d;
		s->c = c;
		s->peer = peer;
		d->stat[4]++;
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
		d->stat[0]++;
		size_t n = dns_answer(&d->zones, d->in, len, DNS_UDP, d->out, DNS_BUF);
		if (!n) {
			d->stat[2]++;
			continue;
		}
		if (d->rrl.tab) {
			enum dns_rrl_verdict v =
			    dns_rrl_check(&d->rrl, from.addr, d->out, &n, loop_now(d->loop));
			if (v == DNS_RRL_DROP) {
				d->stat[8]++;
				continue;
			}
			if (v == DNS_RRL_SLIP)
				d->stat[9]++;
		}
		if (udp_sendto(d->sock, &from, d->out, n) == ATL_OK)
			d->stat[1]++;
		else
			d->stat[3]++;
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

/* above: bytes of the arena's top that hold the text and may be reused
 * once it is parsed (dns_zone_load_text_over), or 0. */
static void add_zone(struct dns_srv *d, struct heap *h, struct arena *a, size_t above,
		     const char *file, const char *origin_text, size_t origin_len, const char *text,
		     size_t len, struct archive *ar)
{
	uint8_t origin[DNS_NAME_MAX];
	char err[320];
	if (dns_name_from_text(origin_text, origin_len, NULL, origin) != ATL_OK) {
		LOG_ERROR(d->loop, "%s: the member name is not a zone origin", file);
		return;
	}
	if (d->zones.n >= DNS_ZONES_MAX) {
		LOG_ERROR(d->loop, "%s: more than %d zones", file, DNS_ZONES_MAX);
		return;
	}
	struct dns_zone *z = heap_alloc(h, sizeof *z, 16);
	if (!z) {
		LOG_ERROR(d->loop, "%s: heap exhausted", file);
		return;
	}
	if (dns_zone_load_text_over(a, above, origin, file, text, len, ar ? archive_include : NULL,
				    ar, z, err, sizeof err) != ATL_OK) {
		LOG_ERROR(d->loop, "zone rejected: %s", err);
		return;
	}
	char t[1024];
	dns_name_to_text(z->origin, t, sizeof t);
	LOG_INFO(d->loop, "zone %s serial %u: %zu names, %zu bytes", t, z->serial, z->nnodes,
		 z->bytes);
	d->zones.z[d->zones.n++] = z;
}

/* The origin of a zone member, "<origin>.zone" (absolute whether or not
 * it ends with a dot: "example.test.zone" or "example.test..zone"), into
 * origin; its length, or 0 when the member is not a zone.  d: where to
 * log (NULL: quietly). */
static size_t member_origin(struct dns_srv *d, const char *name, char origin[300])
{
	const char *base = name;
	for (const char *p = name; *p; p++)
		if (*p == '/')
			base = p + 1;
	size_t bl = strlen(base);
	if (!strcmp(base, "keys")) {
		if (d)
			LOG_WARN(d->loop, "keys: TSIG is not implemented yet; ignored");
		return 0;
	}
	if (bl <= 5 || strcmp(base + bl - 5, ".zone"))
		return 0; /* $INCLUDE material, or not ours */
	size_t ol = bl - 5;
	if (ol + 2 > 300)
		return 0;
	memcpy(origin, base, ol);
	if (ol && origin[ol - 1] != '.')
		origin[ol++] = '.';
	return ol;
}

/*
 * Zones from the tar archive on the "zones" block device.  The archive is
 * read into the top of the zone arena, not the heap, and the largest zone
 * is loaded last and built over it: the archive then costs no memory
 * beyond the load's own peak (records and built zone of the largest zone).
 */
static int load_archive(struct dns_srv *d, struct heap *h, struct arena *a)
{
	plat_handle_t bh;
	struct plat_block_info info;
	if (plat_block_acquire("zones", &bh, &info) != PLAT_OK)
		return ATL_ENOENT;
	size_t asize = a->size;
	size_t alen = (size_t)((info.capacity + 15) & ~(uint64_t)15);
	if (info.capacity > a->size - a->used || alen > a->size - a->used) {
		LOG_ERROR(d->loop,
			  "zone-mem= (%zu bytes) is too small for the %llu-byte zones archive",
			  a->size - a->used, (unsigned long long)info.capacity);
		return ATL_ENOMEM;
	}
	a->size -= alen;
	uint8_t *buf = a->base + a->size;
	/* Read in chunks of whole blocks. */
	size_t chunk = info.block_size * 256u;
	for (uint64_t off = 0; off < info.capacity; off += chunk) {
		size_t n = info.capacity - off < chunk ? (size_t)(info.capacity - off) : chunk;
		if (plat_block_read(bh, off, buf + off, n) != PLAT_OK) {
			LOG_ERROR(d->loop, "cannot read the zones device");
			a->size = asize;
			return ATL_EIO;
		}
	}
	struct archive ar = {buf, (size_t)info.capacity};
	struct dns_tar_member m;
	char origin[300];
	const uint8_t *last = NULL;
	size_t lastlen = 0;
	struct rd r = rd_make(buf, (size_t)info.capacity);
	while (dns_tar_next(&r, &m) == ATL_OK)
		if (m.len >= lastlen && member_origin(NULL, m.name, origin)) {
			last = m.data;
			lastlen = m.len;
		}
	int rc;
	r = rd_make(buf, (size_t)info.capacity);
	while ((rc = dns_tar_next(&r, &m)) == ATL_OK) {
		size_t ol = m.data == last ? 0 : member_origin(d, m.name, origin);
		if (ol)
			add_zone(d, h, a, 0, m.name, origin, ol, (const char *)m.data, m.len, &ar);
	}
	if (rc != ATL_ENOENT)
		LOG_ERROR(d->loop, "the zones archive is malformed after member %s", m.name);
	r = rd_make(buf, (size_t)info.capacity);
	while (last && dns_tar_next(&r, &m) == ATL_OK) {
		if (m.data != last)
			continue;
		size_t ol = member_origin(NULL, m.name, origin);
		add_zone(d, h, a, alen, m.name, origin, ol, (const char *)m.data, m.len, &ar);
		break;
	}
	a->size = asize;
	return ATL_OK;
}

static int dns_main(const struct plat_start *s)
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
		LOG_ERROR(&l, "axfr-allow= takes \"any\" or IPv4 addresses separated by commas");
		return 1;
	}

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

	struct stack *st;
	int rc = stack_open(&l, "service", &st);
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
	struct arena zones_arena;
	if (arena_init(&zones_arena, &heap, (size_t)zmem) != ATL_OK) {
		LOG_ERROR(&l, "heap too small for %llu bytes of zone data",
			  (unsigned long long)zmem);
		return 1;
	}
	rc = load_archive(d, &heap, &zones_arena);
	if (rc == ATL_ENOENT) {
		LOG_INFO(&l, "no zones device: serving the embedded example.test. zone");
		add_zone(d, &heap, &zones_arena, 0, "embedded:example.test.zone", "example.test.",
			 13, example_zone, sizeof example_zone - 1, NULL);
	}
	if (!d->zones.n) {
		LOG_ERROR(&l, "no zone to serve");
		return 1;
	}

	struct ip4_ep local = {0, DNS_PORT};
	rc = udp_open(st, &local, &d->sock);
	if (rc != ATL_OK) {
		LOG_ERROR(&l, "cannot bind UDP port %d: %s", DNS_PORT, atl_strerror(rc));
		return 1;
	}
	d->group =
	    (struct counter_group){"dns", dns_stat_names, d->stat, ARRAY_SIZE(d->stat), NULL};
	counters_register(&l, &d->group);
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
		 DNS_PORT, tcp, st->ops->name, zones_arena.used);
	rc = loop_run(&l);
	LOG_INFO(&l, "stopping: %s", rc == ATL_ESTOPPED ? "stop requested" : "loop ended");
	counters_print(&l);
	return 0;
}

static const struct plat_device_decl dns_devices[] = {
    {"service", PLAT_DEV_NET, "the network the DNS server answers on (UDP port 53)"},
    {"zones", PLAT_DEV_BLOCK,
     "optional: a POSIX tar archive of <origin>.zone master files (default: example.test.)"},
};

static const struct plat_arg_decl dns_args[] = {
    {"ipv4", "address and prefix, e.g. ipv4=10.0.0.2/24 (required on the atoll stack)"},
    {"ipv4-gateway", "default gateway address"},
    {"mac", "MAC address (default: from the platform)"},
    {"zone-mem", "bytes of heap for zone data, and the zones archive while loading (default: "
		 "half of what is free at start)"},
    {"axfr-allow",
     "who may transfer zones (AXFR over TCP): any, or addresses a,b,... (default none)"},
    {"rrl", "UDP responses a second per client /24 and kind of answer (default 0: no limit)"},
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
