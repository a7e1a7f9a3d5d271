/*
 * answer.c - the authoritative answering core: query bytes and zones in,
 * response bytes out (RFC 1034 4.3.2 with RFC 4592 wildcards and
 * RFC 6672 DNAME).  No I/O, no state between queries.
 */
#include "core/err.h"
#include "dns/dns.h"

#define CHAIN_MAX 12 /* CNAME/DNAME links followed inside a zone */
#define SEEN_MAX  32
#define OPT_LEN	  11 /* root name, type, class, ttl, rdlen */

struct resp {
	struct wr w;
	struct dns_cmp cmp;
	uint16_t count[3]; /* answer, authority, additional */
	bool tc;
	bool dropped; /* an RRset did not fit (in any section) */
	bool qcase;   /* bytes after the question carry the query's case */
	unsigned nseen;
	const struct dns_rrset *seen[SEEN_MAX]; /* RRsets already in the message */
};

enum { AN, NS, AR };

static bool seen(struct resp *r, const struct dns_rrset *s)
{
	for (unsigned i = 0; i < r->nseen; i++)
		if (r->seen[i] == s)
			return true;
	return false;
}

/* Rdata of one record, with names compressed where RFC 3597 4 allows. */
static void put_rdata(struct resp *r, uint16_t type, const uint8_t *rd, size_t len)
{
	struct wr *w = &r->w;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		dns_name_write(w, rd, &r->cmp);
		break;
	case DNS_T_MX:
		wr_bytes(w, rd, 2);
		dns_name_write(w, rd + 2, &r->cmp);
		break;
	case DNS_T_SOA: {
		size_t n1 = dns_name_len(rd);
		dns_name_write(w, rd, &r->cmp);
		dns_name_write(w, rd + n1, &r->cmp);
		size_t n2 = dns_name_len(rd + n1);
		wr_bytes(w, rd + n1 + n2, len - n1 - n2);
		break;
	}
	default:
		wr_bytes(w, rd, len);
		break;
	}
}

/* The rest of an RR after its owner. */
static void put_rr_body(struct resp *r, uint16_t type, uint32_t ttl, const uint8_t *rd, size_t len)
{
	struct wr *w = &r->w;
	wr_be16(w, type);
	wr_be16(w, DNS_C_IN);
	wr_be32(w, ttl);
	size_t lenpos = w->pos;
	wr_be16(w, 0);
	size_t start = w->pos;
	put_rdata(r, type, rd, len);
	if (wr_ok(w))
		wr_be16_at(w, lenpos, (uint16_t)(w->pos - start));
}

static void put_rr(struct resp *r, const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rd, size_t len)
{
	dns_name_write(&r->w, owner, &r->cmp);
	put_rr_body(r, type, ttl, rd, len);
}

/*
 * Add a whole RRset to a section.  If it does not fit: in the answer and
 * authority sections the response is truncated (RFC 2181 9); in the
 * additional section it is left out.  Returns false when it did not fit.
 */
static bool put_rrset(struct resp *r, int sec, const uint8_t *owner, const struct dns_rrset *s,
		      uint32_t ttl)
{
	if (r->tc)
		return false;
	size_t mark = r->w.pos;
	unsigned cmark = r->cmp.n;
	const uint8_t *p = s->rdata;
	size_t opos = r->w.pos; /* where the first RR's owner went */
	for (unsigned i = 0; i < s->count; i++) {
		size_t len = load_be16(p);
		/* The owner once; the other RRs point at it (or copy the
		 * pointer it became) without searching again. */
		if (!wr_ok(&r->w))
			break;
		if (i == 0 || opos >= 0x3fff)
			dns_name_write(&r->w, owner, &r->cmp);
		else if ((r->w.data[opos] & 0xc0) == 0xc0)
			wr_bytes(&r->w, r->w.data + opos, 2);
		else
			wr_be16(&r->w, (uint16_t)(0xc000 | opos));
		put_rr_body(r, s->type, ttl, p + 2, len);
		p += 2 + len;
	}
	if (!wr_ok(&r->w)) {
		r->w.err = false;
		r->w.pos = mark;
		r->cmp.n = cmark;
		r->dropped = true;
		if (sec != AR)
			r->tc = true;
		return false;
	}
	r->count[sec] += s->count;
	if (r->nseen < SEEN_MAX)
		r->seen[r->nseen++] = s;
	return true;
}

static void put_soa(struct resp *r, const struct dns_zone *z)
{
	const struct dns_rrset *soa = dns_node_rrset(&z->nodes[0], DNS_T_SOA);
	/* RFC 2308 3: the SOA's TTL in a negative answer is the lesser of
	 * its own TTL and its MINIMUM field. */
	size_t len = load_be16(soa->rdata);
	uint32_t min = load_be32(soa->rdata + 2 + len - 4);
	put_rrset(r, NS, z->origin, soa, soa->ttl < min ? soa->ttl : min);
}

/* Addresses of a target name, when it is in the zone (RFC 1034 4.3.2
 * step 6; glue below a cut per RFC 9471). */
static void put_addresses(struct resp *r, const struct dns_zone *z, const uint8_t *target)
{
	if (!dns_name_is_sub(target, z->origin))
		return;
	const struct dns_node *n = dns_zone_find(z, target);
	if (!n || (n->flags & DNS_NODE_HIDDEN))
		return;
	static const uint16_t types[2] = {DNS_T_A, DNS_T_AAAA};
	for (int i = 0; i < 2; i++) {
		const struct dns_rrset *s = dns_node_rrset(n, types[i]);
		if (s && !seen(r, s))
			put_rrset(r, AR, n->name, s, s->ttl);
	}
}

/* Additional section processing for the name-bearing types. */
static void put_additional(struct resp *r, const struct dns_zone *z, const struct dns_rrset *s)
{
	const uint8_t *p = s->rdata;
	for (unsigned i = 0; i < s->count; i++) {
		size_t len = load_be16(p);
		const uint8_t *rd = p + 2;
		if (s->type == DNS_T_NS)
			put_addresses(r, z, rd);
		else if (s->type == DNS_T_MX && len > 2)
			put_addresses(r, z, rd + 2);
		else if (s->type == DNS_T_SRV && len > 6)
			put_addresses(r, z, rd + 6);
		p += 2 + len;
	}
}

const struct dns_zone *dns_zones_find(const struct dns_zones *zs, const uint8_t *name)
{
	/* The name's label offsets once, so each zone is one comparison of
	 * the suffix with as many labels as its origin. */
	uint8_t off[128];
	unsigned nl = dns_name_offsets(name, off);
	off[nl] = (uint8_t)(dns_name_len(name) - 1); /* the root label */
	const struct dns_zone *best = NULL;
	unsigned bestl = 0;
	for (unsigned i = 0; i < zs->n; i++) {
		const struct dns_zone *z = zs->z[i];
		unsigned l = z->labels;
		if (l > nl || (best && l <= bestl))
			continue;
		if (dns_name_equal(name + off[nl - l], z->origin)) {
			best = z;
			bestl = l;
		}
	}
	return best;
}

/* RFC 4035 3.1.4.1: DS at a zone's apex is answered by the parent zone,
 * when we serve it. */
static const struct dns_zone *zone_for(const struct dns_zones *zs, const uint8_t *name,
				       uint16_t qtype)
{
	const struct dns_zone *z = dns_zones_find(zs, name);
	if (z && qtype == DNS_T_DS && name[0] && dns_name_equal(z->origin, name)) {
		const struct dns_zone *p = dns_zones_find(zs, dns_name_skip(name, 1));
		if (p)
			return p;
	}
	return z;
}

/* RFC 6672 2.2: replace the owner suffix of name by the DNAME target.
 * False when the result would be longer than 255 bytes. */
static bool dname_subst(const uint8_t *name, const uint8_t *owner, const uint8_t *target,
			uint8_t *out)
{
	unsigned keep = dns_name_labels(name) - dns_name_labels(owner);
	size_t prefix = (size_t)(dns_name_skip(name, keep) - name);
	size_t tl = dns_name_len(target);
	if (prefix + tl > DNS_NAME_MAX)
		return false;
	memmove(out + prefix, target, tl);
	memmove(out, name, prefix);
	return true;
}

/*
 * Resolve qname in zone z into the answer (RFC 1034 4.3.2 steps 3-6).
 * Returns the rcode.  *aa is cleared for a referral.
 */
static int resolve(struct resp *r, const struct dns_zone *z, const uint8_t *qname, uint16_t qtype,
		   bool *aa)
{
	uint8_t cur[DNS_NAME_MAX], next[DNS_NAME_MAX];
	memcpy(cur, qname, dns_name_len(qname));
	for (unsigned chain = 0;; chain++) {
		uint8_t off[128];
		unsigned nl = dns_name_offsets(cur, off), zl = z->labels;
		const struct dns_node *node = NULL, *ce = NULL;
		bool restarted = false;
		/* Step 3: walk down from the apex, stopping at a zone cut
		 * (3b) or a DNAME (RFC 6672 3.2) above the name. */
		for (unsigned k = zl; k <= nl; k++) {
			const struct dns_node *n =
			    k == zl ? &z->nodes[0] : dns_zone_find(z, cur + off[nl - k]);
			if (!n || (n->flags & DNS_NODE_HIDDEN))
				break;
			ce = n;
			if ((n->flags & DNS_NODE_DELEG) && !(k == nl && qtype == DNS_T_DS)) {
				/* A referral (3b): NS of the cut, glue for it. */
				const struct dns_rrset *ns = dns_node_rrset(n, DNS_T_NS);
				if (chain == 0)
					*aa = false;
				if (put_rrset(r, NS, n->name, ns, ns->ttl))
					put_additional(r, z, ns);
				return DNS_R_NOERROR;
			}
			if ((n->flags & DNS_NODE_DNAME) && k < nl) {
				const struct dns_rrset *d = dns_node_rrset(n, DNS_T_DNAME);
				put_rrset(r, AN, n->name, d, d->ttl);
				/* The new name keeps the query's labels. */
				r->qcase = true;
				if (!dname_subst(cur, n->name, d->rdata + 2, next))
					return DNS_R_YXDOMAIN;
				/* The synthesized CNAME (RFC 6672 3.1). */
				put_rr(r, cur, DNS_T_CNAME, d->ttl, next, dns_name_len(next));
				if (!wr_ok(&r->w)) {
					r->w.err = false;
					r->tc = true;
					return DNS_R_NOERROR;
				}
				r->count[AN]++;
				if (!dns_name_is_sub(next, z->origin) || chain >= CHAIN_MAX)
					return DNS_R_NOERROR;
				memcpy(cur, next, dns_name_len(next));
				restarted = true;
				break;
			}
			if (k == nl)
				node = n;
		}
		if (restarted)
			continue;
		const uint8_t *owner = cur;
		if (!node) {
			/* RFC 4592 3.3.1: the wildcard at the closest encloser. */
			uint8_t wild[DNS_NAME_MAX];
			size_t cl = dns_name_len(ce->name);
			if (cl + 2 > DNS_NAME_MAX)
				return DNS_R_NXDOMAIN;
			wild[0] = 1;
			wild[1] = '*';
			memcpy(wild + 2, ce->name, cl);
			node = dns_zone_find(z, wild);
			if (!node || (node->flags & DNS_NODE_HIDDEN)) {
				put_soa(r, z); /* step 3c: a name error */
				return DNS_R_NXDOMAIN;
			}
		}
		/* Step 3a: the name (or its wildcard) matches. */
		/* RFC 8482 4.2: ANY gets one RRset, not all, so it is no
		 * amplifier; like Knot, the lowest type (RRsets are kept in
		 * type order), over UDP and TCP alike. */
		const struct dns_rrset *s = qtype == DNS_T_ANY && node->nrrsets
						? &node->rrsets[0]
						: dns_node_rrset(node, qtype);
		if (s) {
			if (!seen(r, s) && put_rrset(r, AN, owner, s, s->ttl))
				put_additional(r, z, s);
			return DNS_R_NOERROR;
		}
		s = (node->flags & DNS_NODE_CNAME) ? dns_node_rrset(node, DNS_T_CNAME) : NULL;
		if (s) {
			if (seen(r, s))
				return DNS_R_NOERROR; /* a loop */
			put_rrset(r, AN, owner, s, s->ttl);
			const uint8_t *target = s->rdata + 2;
			if (!dns_name_is_sub(target, z->origin) || chain >= CHAIN_MAX)
				return DNS_R_NOERROR;
			memcpy(cur, target, dns_name_len(target));
			continue;
		}
		put_soa(r, z); /* NODATA (RFC 2308 2.2) */
		return DNS_R_NOERROR;
	}
}

static size_t reply_error(const uint8_t *msg, size_t len, const struct dns_query *q, int rcode,
			  uint8_t *out, size_t cap)
{
	/* A header, the question when it could be read, and the OPT. */
	struct wr w = wr_make(out, cap);
	bool qd = q->qend > DNS_HDR_LEN && rcode != DNS_R_FORMERR;
	/* Like NSD, a FORMERR for several questions echoes only the opcode
	 * (RFC 9619: a query with QDCOUNT > 1 is not a query at all). */
	bool multi = rcode == DNS_R_FORMERR && q->h.qd > 1;
	uint16_t keep = multi ? 0x7800 : 0x7800 | DNS_F_RD | DNS_F_CD;
	struct dns_hdr h = {q->h.id, (uint16_t)(DNS_F_QR | (q->h.flags & keep) | (rcode & 0xf)),
			    qd,	     0,
			    0,	     q->edns && rcode != DNS_R_FORMERR};
	dns_hdr_write(&w, &h);
	if (qd) {
		dns_name_write(&w, q->qname, NULL);
		wr_be16(&w, q->qtype);
		wr_be16(&w, q->qclass);
	}
	if (h.ar) {
		wr_u8(&w, 0);
		wr_be16(&w, DNS_T_OPT);
		wr_be16(&w, DNS_EDNS_SIZE);
		wr_be32(&w, (uint32_t)(rcode >> 4) << 24 | (q->edns_flags & DNS_EDNS_DO));
		wr_be16(&w, 0);
	}
	(void)msg;
	(void)len;
	return wr_ok(&w) ? w.pos : 0;
}

/* What the response cache learns from building a response. */
struct fill {
	bool whole; /* answered from the zones, nothing truncated or left out */
	bool qcase; /* the query's case is in it beyond the question */
};

/* RFC 6891 6.2.5: a response fits the requester's UDP size (at least
 * 512) and ours; over TCP it fits a 16-bit length. */
static size_t size_limit(enum dns_transport tr, bool edns, uint16_t udp_size, size_t cap)
{
	size_t limit = tr == DNS_TCP ? DNS_MSG_MAX : DNS_UDP_MIN;
	if (tr == DNS_UDP && edns)
		limit = udp_size < DNS_EDNS_SIZE ? udp_size : DNS_EDNS_SIZE;
	return limit > cap ? cap : limit;
}

static size_t answer(const struct dns_zones *zs, const uint8_t *msg, size_t len,
		     enum dns_transport tr, uint8_t *out, size_t cap, size_t reserve,
		     struct fill *f)
{
	struct dns_query q;
	int rc = dns_query_parse(msg, len, &q);
	f->whole = false;
	if (rc == ATL_EINVAL || cap < DNS_UDP_MIN)
		return 0;
	if (rc != DNS_R_NOERROR)
		return reply_error(msg, len, &q, rc, out, cap);
	/* Meta types cannot be asked for this way (RFC 6895 3.1): zone
	 * transfers are not served over UDP, nor yet over TCP here. */
	if (q.qtype == DNS_T_OPT || q.qtype == DNS_T_TSIG || q.qtype == 0)
		return reply_error(msg, len, &q, DNS_R_FORMERR, out, cap);
	const struct dns_zone *z = zone_for(zs, q.qname, q.qtype);
	if (!z || (q.qclass != DNS_C_IN && q.qclass != DNS_C_ANY) || q.qtype == DNS_T_AXFR ||
	    q.qtype == DNS_T_IXFR)
		return reply_error(msg, len, &q, DNS_R_REFUSED, out, cap);

	size_t limit = size_limit(tr, q.edns, q.udp_size, cap);
	if (reserve >= limit - DNS_HDR_LEN)
		return 0;
	limit -= reserve; /* room for a TSIG RR after us */
	struct resp r;
	r.w = wr_make(out, limit - (q.edns ? OPT_LEN : 0));
	r.cmp.n = 0;
	r.count[0] = r.count[1] = r.count[2] = 0;
	r.tc = r.dropped = r.qcase = false;
	r.nseen = 0;
	wr_zero(&r.w, DNS_HDR_LEN);
	dns_name_write(&r.w, q.qname, &r.cmp);
	wr_be16(&r.w, q.qtype);
	wr_be16(&r.w, q.qclass);
	size_t qend = r.w.pos;
	bool aa = true;
	rc = resolve(&r, z, q.qname, q.qtype, &aa);
	if (r.tc) {
		/* RFC 2181 9: what fits is not the answer; send the header and
		 * question with TC so the client retries over TCP. */
		r.w.pos = qend;
		r.count[0] = r.count[1] = r.count[2] = 0;
	}
	r.w.cap = limit;
	if (q.edns) {
		wr_u8(&r.w, 0);
		wr_be16(&r.w, DNS_T_OPT);
		wr_be16(&r.w, DNS_EDNS_SIZE);
		wr_be32(&r.w, (uint32_t)(q.edns_flags & DNS_EDNS_DO));
		wr_be16(&r.w, 0);
		r.count[AR]++;
	}
	if (!wr_ok(&r.w))
		return 0;
	uint16_t flags = (uint16_t)(DNS_F_QR | (q.h.flags & (DNS_F_RD | DNS_F_CD)) | (rc & 0xf));
	if (aa)
		flags |= DNS_F_AA;
	if (r.tc)
		flags |= DNS_F_TC;
	struct dns_hdr h = {q.h.id, flags, 1, r.count[AN], r.count[NS], r.count[AR]};
	struct wr hw = wr_make(out, DNS_HDR_LEN);
	dns_hdr_write(&hw, &h);
	f->whole = !r.tc && !r.dropped;
	f->qcase = r.qcase;
	return r.w.pos;
}

size_t dns_answer(const struct dns_zones *zs, const uint8_t *msg, size_t len, enum dns_transport tr,
		  uint8_t *out, size_t cap)
{
	struct fill f;
	return answer(zs, msg, len, tr, out, cap, 0, &f);
}

size_t dns_answer_reserve(const struct dns_zones *zs, const uint8_t *msg, size_t len,
			  enum dns_transport tr, uint8_t *out, size_t cap, size_t reserve)
{
	struct fill f;
	return answer(zs, msg, len, tr, out, cap, reserve, &f);
}

/* ---- the response cache ---------------------------------------------------- */

/* One slot.  Whole responses are kept, so rate limiting (which reads the
 * response) classifies a response from the cache as it did the first. */
struct cent {
	uint32_t hash, gen; /* gen 0: never filled */
	uint16_t qtype, qclass;
	uint16_t flags;	     /* the response's, RD and CD left out */
	uint16_t an, ns, ar; /* ar without the OPT */
	uint16_t blen;	     /* bytes after the question, the OPT left out */
	uint8_t nlen;	     /* the name's (its bytes come first in data) */
	uint8_t exact;	     /* the query's case is in the bytes: match it exactly */
	uint8_t lru;	     /* in a set's first slot: the way used last */
	uint8_t pad[3];
	uint8_t data[DNS_CACHE_SLOT - 28];
};
_Static_assert(sizeof(struct cent) == DNS_CACHE_SLOT, "a cache slot is DNS_CACHE_SLOT bytes");

int dns_cache_init(struct dns_cache *c, struct heap *h, size_t bytes)
{
	memset(c, 0, sizeof *c);
	if (!bytes)
		return ATL_OK;
	size_t sets = bytes / (2 * DNS_CACHE_SLOT);
	if (!sets || sets > (size_t)1 << 31)
		return ATL_EINVAL;
	while (sets & (sets - 1))
		sets &= sets - 1; /* down to a power of two */
	c->slots = heap_alloc(h, sets * 2 * DNS_CACHE_SLOT, 64);
	if (!c->slots)
		return ATL_ENOMEM;
	c->mask = (uint32_t)(sets - 1);
	c->gen = 1;
	return ATL_OK;
}

void dns_cache_flush(struct dns_cache *c)
{
	if (!c->slots)
		return;
	if (++c->gen == 0) {
		/* Once in 2^32 flushes: old generations would come back. */
		memset(c->slots, 0, ((size_t)c->mask + 1) * 2 * DNS_CACHE_SLOT);
		c->gen = 1;
	}
}

/* A plain query, as the cache reads it. */
struct plain {
	uint64_t hash;
	size_t nlen, qend;
	uint16_t qtype, qclass, udp_size, ednsflags;
	bool edns;
};

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	/* | 0x20 folds letters (and some other bytes together, which the
	 * comparison sorts out). */
	h = (h ^ (v | 0x2020202020202020ull)) * 0xff51afd7ed558ccdull;
	return h ^ h >> 32;
}

/*
 * A hash of the question (name, type and class: n bytes, at least 5) with
 * case folded, eight bytes at a time; the last word is the eight bytes
 * that end it, overlapping the one before, so there is no tail to mask.
 */
static uint64_t key_hash(const uint8_t *q, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	if (n < 8) {
		uint64_t v = 0;
		memcpy(&v, q, n);
		h = mix(h, v);
	} else {
		for (size_t i = 0; i + 8 < n; i += 8)
			h = mix(h, load64(q + i));
		h = mix(h, load64(q + n - 8));
	}
	return h ^ h >> 29;
}

/* Copy n bytes the same way (short copies are most of a hit). */
static inline void copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n < 8) {
		memcpy(dst, src, n);
		return;
	}
	for (size_t i = 0; i + 8 < n; i += 8)
		memcpy(dst + i, src + i, 8);
	memcpy(dst + n - 8, src + n - 8, 8);
}

/* And compare them exactly. */
static inline bool equal_short(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n < 8)
		return !memcmp(a, b, n);
	for (size_t i = 0; i + 8 < n; i += 8)
		if (load64(a + i) != load64(b + i))
			return false;
	return load64(a + n - 8) == load64(b + n - 8);
}

/*
 * Whether msg is a query the cache may answer: QUERY, one question with
 * an uncompressed name, no answer or authority records, at most one
 * additional record and that an EDNS(0) OPT with well-formed options, no
 * bytes after it.  Anything else (a TSIG, an unknown EDNS version, a
 * malformed message) takes the full path.
 */
static bool plain_query(const uint8_t *msg, size_t len, struct plain *p)
{
	if (len < DNS_HDR_LEN + 5 || (msg[2] & 0xf8) || load_be16(msg + 4) != 1 ||
	    load_be32(msg + 6) != 0 || load_be16(msg + 10) > 1)
		return false;
	size_t i = DNS_HDR_LEN;
	while (i < len && msg[i]) {
		if (msg[i] & 0xc0)
			return false;
		i += msg[i] + 1u;
	}
	p->nlen = i + 1 - DNS_HDR_LEN;
	if (p->nlen > DNS_NAME_MAX || i + 5 > len)
		return false;
	p->qtype = load_be16(msg + i + 1);
	p->qclass = load_be16(msg + i + 3);
	size_t e = p->qend = i + 5;
	p->edns = msg[11] != 0;
	p->udp_size = DNS_UDP_MIN;
	p->ednsflags = 0;
	if (!p->edns) {
		if (e != len)
			return false;
	} else {
		/* RFC 6891 6.1.2: root owner, type, size, extended rcode,
		 * version (0 only), flags, options. */
		if (len - e < OPT_LEN || msg[e] || load_be16(msg + e + 1) != DNS_T_OPT ||
		    msg[e + 6] != 0)
			return false;
		uint16_t sz = load_be16(msg + e + 3);
		p->udp_size = sz < DNS_UDP_MIN ? DNS_UDP_MIN : sz;
		p->ednsflags = load_be16(msg + e + 7);
		size_t o = e + OPT_LEN;
		if (o + load_be16(msg + e + 9) != len)
			return false;
		while (o < len) {
			if (len - o < 4)
				return false;
			o += 4u + load_be16(msg + o + 2);
		}
		if (o != len)
			return false;
	}
	p->hash = key_hash(msg + DNS_HDR_LEN, p->nlen + 4);
	return true;
}

static bool fold_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (equal_short(a, b, n))
		return true;
	/* Length bytes (0-63) are no letters: they compare as they are. */
	for (size_t i = 0; i < n; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}

static void cache_store(struct dns_cache *c, struct cent *set, const struct plain *p,
			const uint8_t *msg, const uint8_t *out, size_t n, const struct fill *f)
{
	size_t blen = n - p->qend - (p->edns ? OPT_LEN : 0);
	if (p->nlen + blen > sizeof set->data)
		return; /* too big for a slot */
	unsigned w = set[0].gen != c->gen ? 0 : set[1].gen != c->gen ? 1 : 1u - set[0].lru;
	struct cent *e = &set[w];
	e->hash = (uint32_t)p->hash;
	e->gen = c->gen;
	e->qtype = p->qtype;
	e->qclass = p->qclass;
	e->flags = load_be16(out + 2) & (uint16_t) ~(DNS_F_RD | DNS_F_CD);
	e->an = load_be16(out + 6);
	e->ns = load_be16(out + 8);
	e->ar = (uint16_t)(load_be16(out + 10) - p->edns);
	e->blen = (uint16_t)blen;
	e->nlen = (uint8_t)p->nlen;
	e->exact = f->qcase;
	memcpy(e->data, msg + DNS_HDR_LEN, p->nlen);
	memcpy(e->data + p->nlen, out + p->qend, blen);
	set[0].lru = (uint8_t)w;
	c->stat[DNS_CACHE_STORED]++;
}

bool dns_answer_cached(struct dns_cache *c, const struct dns_zones *zs, const uint8_t *msg,
		       size_t len, enum dns_transport tr, uint8_t *out, size_t cap, size_t *n)
{
	struct plain p;
	if (!c->slots || cap < DNS_UDP_MIN || !plain_query(msg, len, &p))
		return false;
	struct cent *set = (struct cent *)c->slots + 2 * ((p.hash >> 32) & c->mask);
	const uint8_t *name = msg + DNS_HDR_LEN;
	for (unsigned w = 0; w < 2; w++) {
		const struct cent *e = &set[w];
		if (e->hash != (uint32_t)p.hash || e->gen != c->gen || e->qtype != p.qtype ||
		    e->qclass != p.qclass || e->nlen != p.nlen ||
		    (e->exact ? !equal_short(e->data, name, p.nlen)
			      : !fold_equal(e->data, name, p.nlen)))
			continue;
		size_t m = p.qend + e->blen + (p.edns ? OPT_LEN : 0);
		if (m > size_limit(tr, p.edns, p.udp_size, cap))
			break; /* the full path truncates it */
		/* The request's ID, question (its case), RD and CD, OPT. */
		memcpy(out, msg, 2);
		store_be16(out + 2,
			   (uint16_t)(e->flags | (load_be16(msg + 2) & (DNS_F_RD | DNS_F_CD))));
		store_be16(out + 4, 1);
		store_be16(out + 6, e->an);
		store_be16(out + 8, e->ns);
		store_be16(out + 10, (uint16_t)(e->ar + p.edns));
		copy_short(out + DNS_HDR_LEN, name, p.qend - DNS_HDR_LEN);
		memcpy(out + p.qend, e->data + p.nlen, e->blen);
		if (p.edns) {
			uint8_t *o = out + p.qend + e->blen;
			o[0] = 0;
			store_be16(o + 1, DNS_T_OPT);
			store_be16(o + 3, DNS_EDNS_SIZE);
			store_be32(o + 5, p.ednsflags & DNS_EDNS_DO);
			store_be16(o + 9, 0);
		}
		set[0].lru = (uint8_t)w;
		c->stat[DNS_CACHE_HITS]++;
		*n = m;
		return true;
	}
	c->stat[DNS_CACHE_MISSES]++;
	struct fill f;
	*n = answer(zs, msg, len, tr, out, cap, 0, &f);
	if (*n && f.whole)
		cache_store(c, set, &p, msg, out, *n, &f);
	return true;
}
