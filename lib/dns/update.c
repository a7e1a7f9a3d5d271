/*
 * update.c - dynamic update (RFC 2136) and zone differences.
 *
 * An update is checked against the current version of a zone and, when
 * it changes something, gives a new version and the difference between
 * the two.  The difference is one serialized blob (its layout is in
 * dns.h) that the server journals before it answers, replays at start-up
 * (dns_diff_apply) and sends as one step of an incremental transfer.
 *
 * The work happens on a list with one entry per RR: the RRs of the
 * current version in its canonical order (found through the zone's hash
 * and a per-node index), then the RRs the update adds.  Deleting marks
 * entries dead; RFC 2136 3.4.2 applies the update's RRs in order, so each
 * one sees what the ones before it did.  The new version is then built
 * from the live entries with the ordinary zone load, so every zone check
 * applies to it, and a refused update leaves the current version as it
 * was.  All memory is region blocks given back before returning.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "dns/dns.h"

struct wrr {
	const uint8_t *owner;
	const uint8_t *rd;
	uint32_t ttl;
	uint16_t type, rdlen;
	bool dead;
	bool mark; /* named by a value-dependent prerequisite */
};

struct work {
	const struct dns_zone *z;
	struct region *r;
	struct wrr *v;
	size_t n, nold, cap;
	size_t *base;  /* per node: its first entry; base[nnodes] == nold */
	uint8_t *data; /* copies of the added RRs' owners and rdata */
	size_t dlen, dcap;
	bool changed, soa_set;
};

static void work_free(struct work *w)
{
	region_free(w->r, w->v);
	region_free(w->r, w->base);
	region_free(w->r, w->data);
	w->v = NULL;
	w->base = NULL;
	w->data = NULL;
}

/* The current version's RRs, plus room for nadd more and dcap bytes of
 * their data. */
static int work_init(struct work *w, const struct dns_zone *z, struct region *r, size_t nadd,
		     size_t dcap)
{
	memset(w, 0, sizeof *w);
	w->z = z;
	w->r = r;
	size_t nold = 0;
	for (size_t i = 0; i < z->nnodes; i++)
		for (unsigned k = 0; k < z->nodes[i].nrrsets; k++)
			nold += z->nodes[i].rrsets[k].count;
	w->cap = nold + nadd;
	w->v = region_alloc(r, w->cap * sizeof *w->v);
	w->base = region_alloc(r, (z->nnodes + 1) * sizeof *w->base);
	w->data = region_alloc(r, dcap ? dcap : 1);
	w->dcap = dcap;
	if (!w->v || !w->base || !w->data) {
		work_free(w);
		return ATL_ENOMEM;
	}
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct dns_node *nd = &z->nodes[i];
		w->base[i] = w->n;
		for (unsigned k = 0; k < nd->nrrsets; k++) {
			const struct dns_rrset *s = &nd->rrsets[k];
			const uint8_t *p = s->rdata;
			for (unsigned j = 0; j < s->count; j++) {
				uint16_t l = load_be16(p);
				w->v[w->n++] =
				    (struct wrr){nd->name, p + 2, s->ttl, s->type, l, false, false};
				p += 2u + l;
			}
		}
	}
	w->base[z->nnodes] = w->n;
	w->nold = w->n;
	return ATL_OK;
}

/* Iterate the entries at name: the current version's, then the added. */
struct wit {
	size_t i, end;
	bool added;
};

static void wit_begin(const struct work *w, const uint8_t *name, struct wit *it)
{
	const struct dns_node *nd = dns_zone_find(w->z, name);
	size_t idx = nd ? (size_t)(nd - w->z->nodes) : 0;
	it->i = nd ? w->base[idx] : w->nold;
	it->end = nd ? w->base[idx + 1] : w->nold;
	it->added = false;
}

/* The next live entry at name, or NULL. */
static struct wrr *wit_next(struct work *w, const uint8_t *name, struct wit *it)
{
	for (;;) {
		if (!it->added && it->i >= it->end) {
			it->added = true;
			it->i = w->nold;
		}
		if (it->added && it->i >= w->n)
			return NULL;
		struct wrr *e = &w->v[it->i++];
		if (e->dead || (it->added && !dns_name_equal(e->owner, name)))
			continue;
		return e;
	}
}

/* RDATA equality: names in the RFC 1035 types compared case-blind. */
static bool rdata_equal(uint16_t type, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	if (al != bl)
		return false;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		return dns_name_equal(a, b);
	case DNS_T_MX:
		return al > 2 && !memcmp(a, b, 2) && dns_name_equal(a + 2, b + 2);
	case DNS_T_SOA: {
		size_t n1 = dns_name_len(a);
		if (n1 != dns_name_len(b) || !dns_name_equal(a, b) ||
		    !dns_name_equal(a + n1, b + n1))
			return false;
		return !memcmp(a + al - 20, b + bl - 20, 20);
	}
	default:
		return !memcmp(a, b, al);
	}
}

static bool rrset_exists(struct work *w, const uint8_t *name, uint16_t type)
{
	struct wit it;
	wit_begin(w, name, &it);
	for (struct wrr *e; (e = wit_next(w, name, &it));)
		if (type == DNS_T_ANY || e->type == type)
			return true;
	return false;
}

static struct wrr *rr_find(struct work *w, const uint8_t *name, uint16_t type, const uint8_t *rd,
			   uint16_t rdlen)
{
	struct wit it;
	wit_begin(w, name, &it);
	for (struct wrr *e; (e = wit_next(w, name, &it));)
		if (e->type == type && rdata_equal(type, e->rd, e->rdlen, rd, rdlen))
			return e;
	return NULL;
}

static unsigned rrset_count(struct work *w, const uint8_t *name, uint16_t type)
{
	unsigned n = 0;
	struct wit it;
	wit_begin(w, name, &it);
	for (struct wrr *e; (e = wit_next(w, name, &it));)
		n += e->type == type;
	return n;
}

/* Delete the live entries at name of type (DNS_T_ANY: all), except
 * keep (0: none). */
static void rrset_delete(struct work *w, const uint8_t *name, uint16_t type, bool apex)
{
	struct wit it;
	wit_begin(w, name, &it);
	for (struct wrr *e; (e = wit_next(w, name, &it));) {
		if (type != DNS_T_ANY && e->type != type)
			continue;
		/* RFC 2136 3.4.2.3: the apex keeps its SOA and NS. */
		if (apex && (e->type == DNS_T_SOA || e->type == DNS_T_NS))
			continue;
		e->dead = true;
		w->changed = true;
	}
}

/* One more entry; the list grows (a new region block) when full. */
static struct wrr *work_push(struct work *w)
{
	if (w->n >= w->cap) {
		size_t cap = w->cap * 2 + 16;
		struct wrr *v = region_alloc(w->r, cap * sizeof *v);
		if (!v)
			return NULL;
		memcpy(v, w->v, w->n * sizeof *v);
		region_free(w->r, w->v);
		w->v = v;
		w->cap = cap;
	}
	return &w->v[w->n++];
}

static int work_add(struct work *w, const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rd, uint16_t rdlen)
{
	size_t ol = dns_name_len(owner);
	if (w->dcap - w->dlen < ol + rdlen)
		return ATL_ENOMEM;
	struct wrr *e = work_push(w);
	if (!e)
		return ATL_ENOMEM;
	uint8_t *p = w->data + w->dlen;
	memcpy(p, owner, ol);
	memcpy(p + ol, rd, rdlen);
	w->dlen += ol + rdlen;
	*e = (struct wrr){p, p + ol, ttl, type, rdlen, false, false};
	w->changed = true;
	return ATL_OK;
}

/*
 * An RRset has one TTL (RFC 2181 5.2).  RFC 2136 does not say which when
 * an update adds an RR with another; like BIND and Knot, the one just
 * added: the RRset's other RRs go and come back with it (so the
 * difference carries the change).  The current version outlives the
 * update, so its RRs are referred to, not copied.
 */
static int rrset_set_ttl(struct work *w, const uint8_t *owner, uint16_t type, uint32_t ttl)
{
	struct wit it;
	wit_begin(w, owner, &it);
	for (struct wrr *e; (e = wit_next(w, owner, &it));) {
		if (e->type != type || e->ttl == ttl)
			continue;
		if (e >= w->v + w->nold) {
			e->ttl = ttl; /* added by this update: changed in place */
			continue;
		}
		struct wrr old = *e;
		e->dead = true;
		struct wrr *n = work_push(w); /* may move w->v: e is stale */
		if (!n)
			return ATL_ENOMEM;
		*n = (struct wrr){old.owner, old.rd, ttl, type, old.rdlen, false, false};
	}
	return ATL_OK;
}

static uint32_t soa_serial(const uint8_t *rd, size_t len)
{
	return load_be32(rd + len - 20);
}

static struct wrr *apex_soa(struct work *w)
{
	struct wit it;
	wit_begin(w, w->z->origin, &it);
	for (struct wrr *e; (e = wit_next(w, w->z->origin, &it));)
		if (e->type == DNS_T_SOA)
			return e;
	return NULL;
}

/* RFC 2136 3.4.2.2: add one RR, with the special cases. */
static int update_add(struct work *w, const uint8_t *owner, uint16_t type, uint32_t ttl,
		      const uint8_t *rd, uint16_t rdlen)
{
	bool apex = dns_name_equal(owner, w->z->origin);
	if (type == DNS_T_SOA) {
		struct wrr *old = apex_soa(w);
		/* Only at the apex, and only a newer serial (RFC 1982). */
		if (!apex || !old)
			return ATL_OK;
		uint32_t d = soa_serial(rd, rdlen) - soa_serial(old->rd, old->rdlen);
		if (d == 0 || d >= 0x80000000u)
			return ATL_OK;
		old->dead = true;
		w->soa_set = true;
		return work_add(w, owner, type, ttl, rd, rdlen);
	}
	struct wit it;
	wit_begin(w, owner, &it);
	for (struct wrr *e; (e = wit_next(w, owner, &it));) {
		bool meta = e->type == DNS_T_RRSIG || e->type == DNS_T_NSEC;
		/* A CNAME replaces a CNAME; it is ignored beside other data,
		 * and other data is ignored beside a CNAME. */
		if (type == DNS_T_CNAME && e->type == DNS_T_CNAME) {
			if (rdata_equal(type, e->rd, e->rdlen, rd, rdlen) && e->ttl == ttl)
				return ATL_OK;
			e->dead = true;
			w->changed = true;
			continue;
		}
		if (type == DNS_T_CNAME && !meta)
			return ATL_OK;
		if (type != DNS_T_CNAME && e->type == DNS_T_CNAME && type != DNS_T_RRSIG &&
		    type != DNS_T_NSEC)
			return ATL_OK;
	}
	struct wrr *same = rr_find(w, owner, type, rd, rdlen);
	if (same && same->ttl == ttl)
		return ATL_OK; /* a duplicate is ignored */
	if (same)
		same->dead = true; /* a new TTL replaces the RR */
	if (rrset_set_ttl(w, owner, type, ttl) != ATL_OK)
		return ATL_ENOMEM;
	return work_add(w, owner, type, ttl, rd, rdlen);
}

/* RFC 2136 3.4.2.4: delete one RR. */
static void update_delete_rr(struct work *w, const uint8_t *owner, uint16_t type, const uint8_t *rd,
			     uint16_t rdlen)
{
	bool apex = dns_name_equal(owner, w->z->origin);
	if (type == DNS_T_SOA)
		return;
	if (apex && type == DNS_T_NS && rrset_count(w, owner, DNS_T_NS) <= 1)
		return; /* never the last NS at the apex */
	struct wrr *e = rr_find(w, owner, type, rd, rdlen);
	if (e) {
		e->dead = true;
		w->changed = true;
	}
}

/* ---- building the new version and the difference ------------------------- */

static size_t rr_wire_len(const struct wrr *e)
{
	return dns_name_len(e->owner) + 8 + e->rdlen;
}

static void rr_wire(struct wr *o, const struct wrr *e)
{
	wr_bytes(o, e->owner, dns_name_len(e->owner));
	wr_be16(o, e->type);
	wr_be32(o, e->ttl);
	wr_be16(o, e->rdlen);
	wr_bytes(o, e->rd, e->rdlen);
}

/*
 * Build the new version from the live entries and the difference from
 * the dead old ones and the live added ones, the SOAs first.
 */
static int work_finish(struct work *w, struct dns_zone **nz, uint8_t **diff, size_t *difflen,
		       char *err, size_t errcap)
{
	const struct wrr *osoa = NULL, *nsoa = NULL;
	size_t dbytes = dns_name_len(w->z->origin) + 16;
	uint32_t ndel = 0, nadd = 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct wrr *e = &w->v[i];
		bool del = i < w->nold && e->dead, add = i >= w->nold && !e->dead;
		if (!del && !add)
			continue;
		if (e->type == DNS_T_SOA)
			*(del ? &osoa : &nsoa) = e;
		dbytes += rr_wire_len(e);
		ndel += del;
		nadd += add;
	}
	if (!osoa || !nsoa) {
		fmt_snprintf(err, errcap, "the difference lacks a SOA");
		return ATL_EINVAL;
	}
	struct dns_zload zl;
	int rc = dns_zload_begin(&zl, w->r, w->z->origin);
	for (size_t i = 0; rc == ATL_OK && i < w->n; i++) {
		const struct wrr *e = &w->v[i];
		if (e->dead)
			continue;
		struct dns_zrec rec = {e->owner, e->type, DNS_C_IN, e->ttl, e->rdlen, e->rd};
		rc = dns_zload_add(&zl, &rec);
		if (rc != ATL_OK)
			dns_zload_abort(&zl);
	}
	if (rc == ATL_OK)
		rc = dns_zload_end(&zl, nz);
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s", zl.err[0] ? zl.err : "out of memory");
		return rc;
	}
	uint8_t *d = region_alloc(w->r, dbytes);
	if (!d) {
		dns_zone_free(w->r, *nz);
		*nz = NULL;
		fmt_snprintf(err, errcap, "out of memory for the difference");
		return ATL_ENOMEM;
	}
	struct wr o = wr_make(d, dbytes);
	wr_bytes(&o, w->z->origin, dns_name_len(w->z->origin));
	wr_be32(&o, soa_serial(osoa->rd, osoa->rdlen));
	wr_be32(&o, soa_serial(nsoa->rd, nsoa->rdlen));
	wr_be32(&o, ndel);
	wr_be32(&o, nadd);
	rr_wire(&o, osoa);
	for (size_t i = 0; i < w->nold; i++)
		if (w->v[i].dead && &w->v[i] != osoa)
			rr_wire(&o, &w->v[i]);
	rr_wire(&o, nsoa);
	for (size_t i = w->nold; i < w->n; i++)
		if (!w->v[i].dead && &w->v[i] != nsoa)
			rr_wire(&o, &w->v[i]);
	ASSERT(wr_ok(&o) && o.pos == dbytes);
	*diff = d;
	*difflen = dbytes;
	return ATL_OK;
}

/* ---- the update message ------------------------------------------------------ */

static bool meta_type(uint16_t t)
{
	/* RFC 2136 3.4.1.2 / RFC 6895 3.1: no meta or query types. */
	return t == DNS_T_OPT || (t >= 128 && t <= 255) || t == 0;
}

static int read_rr(struct rd *r, const uint8_t *msg, size_t len, struct dns_rr *rr, uint8_t *rd,
		   size_t cap, int *rdlen)
{
	if (dns_rr_read(r, rr) != ATL_OK)
		return DNS_R_FORMERR;
	*rdlen = rr->rdlen ? dns_rdata_uncompress(msg, len, rr, rd, cap) : 0;
	if (*rdlen < 0)
		return DNS_R_FORMERR;
	return DNS_R_NOERROR;
}

int dns_update_zone(const struct dns_zones *zs, const uint8_t *msg, size_t len,
		    const struct dns_zone **z, uint8_t *zname)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	*z = NULL;
	zname[0] = 0;
	if (!rd_ok(&r))
		return ATL_EINVAL;
	/* RFC 2136 3.1.1: one zone, type SOA. */
	if (h.qd != 1 || dns_name_read(&r, zname) != ATL_OK)
		return DNS_R_FORMERR;
	uint16_t type = rd_be16(&r), class = rd_be16(&r);
	if (!rd_ok(&r) || type != DNS_T_SOA)
		return DNS_R_FORMERR;
	const struct dns_zone *zz = dns_zones_find(zs, zname);
	if (!zz || !dns_name_equal(zz->origin, zname) || class != DNS_C_IN)
		return DNS_R_NOTAUTH;
	*z = zz;
	return DNS_R_NOERROR;
}

/* RFC 2136 3.2: the prerequisites, against the current version. */
static int check_prereqs(struct work *w, const uint8_t *msg, size_t len, struct rd *r,
			 unsigned count, uint8_t *rd, size_t rdcap)
{
	const uint8_t *origin = w->z->origin;
	size_t start = r->pos;
	for (unsigned i = 0; i < count; i++) {
		struct dns_rr rr;
		int rdlen = 0;
		if (read_rr(r, msg, len, &rr, rd, rdcap, &rdlen) != DNS_R_NOERROR)
			return DNS_R_FORMERR;
		if (rr.ttl != 0)
			return DNS_R_FORMERR;
		if (!dns_name_is_sub(rr.owner, origin))
			return DNS_R_NOTZONE;
		if (rr.class == DNS_C_ANY) {
			if (rdlen)
				return DNS_R_FORMERR;
			if (!rrset_exists(w, rr.owner, rr.type))
				return rr.type == DNS_T_ANY ? DNS_R_NXDOMAIN : DNS_R_NXRRSET;
		} else if (rr.class == DNS_C_NONE) {
			if (rdlen)
				return DNS_R_FORMERR;
			if (rrset_exists(w, rr.owner, rr.type))
				return rr.type == DNS_T_ANY ? DNS_R_YXDOMAIN : DNS_R_YXRRSET;
		} else if (rr.class == DNS_C_IN) {
			if (meta_type(rr.type))
				return DNS_R_FORMERR;
			/* 3.2.3: value-dependent; this RR must be there (and
			 * is marked) ... */
			struct wrr *e = rr_find(w, rr.owner, rr.type, rd, (uint16_t)rdlen);
			if (!e)
				return DNS_R_NXRRSET;
			e->mark = true;
		} else {
			return DNS_R_FORMERR;
		}
	}
	/* ... and the RRsets they name hold no other RR: every RR of them
	 * marked.  Duplicates mark the same RR, so they count once. */
	struct rd a = rd_make(msg, len);
	a.pos = start;
	for (unsigned i = 0; i < count; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&a, &rr) != ATL_OK)
			return DNS_R_FORMERR;
		if (rr.class != DNS_C_IN)
			continue;
		struct wit it;
		wit_begin(w, rr.owner, &it);
		for (struct wrr *e; (e = wit_next(w, rr.owner, &it));)
			if (e->type == rr.type && !e->mark)
				return DNS_R_NXRRSET;
	}
	return DNS_R_NOERROR;
}

/* RFC 2136 3.4.1: check the whole update section before doing anything. */
static int prescan(const uint8_t *origin, const uint8_t *msg, size_t len, struct rd r,
		   unsigned count, uint8_t *rd, size_t rdcap, size_t *data)
{
	*data = 0;
	for (unsigned i = 0; i < count; i++) {
		struct dns_rr rr;
		int rdlen = 0;
		if (read_rr(&r, msg, len, &rr, rd, rdcap, &rdlen) != DNS_R_NOERROR)
			return DNS_R_FORMERR;
		if (!dns_name_is_sub(rr.owner, origin))
			return DNS_R_NOTZONE;
		if (rr.class == DNS_C_IN) {
			if (meta_type(rr.type) || !dns_rdata_valid(rr.type, rd, (size_t)rdlen))
				return DNS_R_FORMERR;
		} else if (rr.class == DNS_C_ANY) {
			if (rr.ttl || rdlen || (meta_type(rr.type) && rr.type != DNS_T_ANY))
				return DNS_R_FORMERR;
		} else if (rr.class == DNS_C_NONE) {
			if (rr.ttl || meta_type(rr.type))
				return DNS_R_FORMERR;
		} else {
			return DNS_R_FORMERR;
		}
		*data += dns_name_len(rr.owner) + (size_t)rdlen;
	}
	return DNS_R_NOERROR;
}

int dns_update_apply(struct dns_update *u, const uint8_t *msg, size_t len)
{
	const struct dns_zone *z = u->z;
	u->nz = NULL;
	u->diff = NULL;
	u->difflen = 0;
	u->err[0] = 0;
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	uint8_t zname[DNS_NAME_MAX];
	if (dns_name_read(&r, zname) != ATL_OK)
		return DNS_R_FORMERR;
	rd_skip(&r, 4);
	/* One rdata buffer for the whole message, from the region. */
	size_t rdcap = 65536 + 2 * DNS_NAME_MAX;
	uint8_t *rd = region_alloc(u->r, rdcap);
	if (!rd) {
		fmt_snprintf(u->err, sizeof u->err, "out of zone memory (zone-mem=)");
		return DNS_R_SERVFAIL;
	}
	struct work w;
	int rc;
	size_t upos, data = 0;
	/* The prerequisite section is read once to find the update one. */
	struct rd skip = r;
	for (unsigned i = 0; i < h.an; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&skip, &rr) != ATL_OK) {
			region_free(u->r, rd);
			return DNS_R_FORMERR;
		}
	}
	upos = skip.pos;
	rc = prescan(z->origin, msg, len, skip, h.ns, rd, rdcap, &data);
	if (rc != DNS_R_NOERROR) {
		region_free(u->r, rd);
		return rc;
	}
	/* Room for the added RRs and a new SOA. */
	if (work_init(&w, z, u->r, (size_t)h.ns + 1, data + 2 * DNS_NAME_MAX + 64) != ATL_OK) {
		region_free(u->r, rd);
		fmt_snprintf(u->err, sizeof u->err, "out of zone memory (zone-mem=)");
		return DNS_R_SERVFAIL;
	}
	rc = check_prereqs(&w, msg, len, &r, h.an, rd, rdcap);
	if (rc != DNS_R_NOERROR)
		goto out;
	r.pos = upos;
	for (unsigned i = 0; i < h.ns && rc == DNS_R_NOERROR; i++) {
		struct dns_rr rr;
		int rdlen = 0;
		read_rr(&r, msg, len, &rr, rd, rdcap, &rdlen);
		bool apex = dns_name_equal(rr.owner, z->origin);
		if (rr.class == DNS_C_IN) {
			if (update_add(&w, rr.owner, rr.type, rr.ttl, rd, (uint16_t)rdlen) !=
			    ATL_OK)
				rc = DNS_R_SERVFAIL;
		} else if (rr.class == DNS_C_ANY) {
			rrset_delete(&w, rr.owner, rr.type, apex);
		} else {
			update_delete_rr(&w, rr.owner, rr.type, rd, (uint16_t)rdlen);
		}
	}
	if (rc != DNS_R_NOERROR || !w.changed)
		goto out; /* RFC 2136 3.6: no change, no new serial */
	if (!w.soa_set) {
		/* RFC 2136 3.6: the serial goes up with every change. */
		struct wrr *old = apex_soa(&w);
		uint8_t soa[2 * DNS_NAME_MAX + 20];
		memcpy(soa, old->rd, old->rdlen);
		store_be32(soa + old->rdlen - 20, soa_serial(old->rd, old->rdlen) + 1);
		old->dead = true;
		if (work_add(&w, z->origin, DNS_T_SOA, old->ttl, soa, old->rdlen) != ATL_OK) {
			rc = DNS_R_SERVFAIL;
			goto out;
		}
	}
	region_free(u->r, rd);
	rd = NULL;
	int brc = work_finish(&w, &u->nz, &u->diff, &u->difflen, u->err, sizeof u->err);
	if (brc != ATL_OK)
		rc = brc == ATL_ENOMEM ? DNS_R_SERVFAIL : DNS_R_REFUSED;
out:
	if (rc == DNS_R_SERVFAIL && !u->err[0])
		fmt_snprintf(u->err, sizeof u->err, "out of zone memory (zone-mem=)");
	region_free(u->r, rd);
	work_free(&w);
	return rc;
}

size_t dns_update_response(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap)
{
	/* RFC 2136 3.8: the header and the zone section. */
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r) || (h.flags & DNS_F_QR))
		return 0;
	uint8_t zname[DNS_NAME_MAX];
	bool zone = h.qd == 1 && dns_name_read(&r, zname) == ATL_OK && rd_left(&r) >= 4 &&
		    rcode != DNS_R_FORMERR;
	struct wr w = wr_make(out, cap);
	struct dns_hdr rh = {
	    h.id, (uint16_t)(DNS_F_QR | (h.flags & 0x7800) | (rcode & 0xf)), zone ? 1 : 0, 0, 0, 0};
	dns_hdr_write(&w, &rh);
	if (zone) {
		dns_name_write(&w, zname, NULL);
		wr_be16(&w, rd_be16(&r));
		wr_be16(&w, rd_be16(&r));
	}
	return wr_ok(&w) ? w.pos : 0;
}

/* ---- differences ---------------------------------------------------------------- */

int dns_diff_parse(const uint8_t *diff, size_t len, struct dns_diff *d)
{
	struct rd r = rd_make(diff, len);
	memset(d, 0, sizeof *d);
	if (dns_name_read(&r, d->origin) != ATL_OK)
		return ATL_EINVAL;
	d->old_serial = rd_be32(&r);
	d->new_serial = rd_be32(&r);
	d->ndel = rd_be32(&r);
	d->nadd = rd_be32(&r);
	d->rrs = r.pos;
	/* Every RR well formed, the SOAs where they belong (a snapshot has
	 * one, first). */
	for (uint64_t i = 0; i < (uint64_t)d->ndel + d->nadd; i++) {
		struct dns_diff_rr rr;
		if (dns_diff_rr_next(diff, len, &r.pos, &rr) != ATL_OK)
			return ATL_EINVAL;
		bool soa_slot = i == 0 || i == d->ndel;
		if (soa_slot != (rr.type == DNS_T_SOA))
			return ATL_EINVAL;
		if (rr.type == DNS_T_SOA && soa_serial(rr.rdata, rr.rdlen) !=
						(i >= d->ndel ? d->new_serial : d->old_serial))
			return ATL_EINVAL;
	}
	if (!rd_ok(&r) || r.pos != len || !d->nadd || (!d->ndel && d->old_serial))
		return ATL_EINVAL;
	return ATL_OK;
}

int dns_diff_rr_next(const uint8_t *diff, size_t len, size_t *pos, struct dns_diff_rr *rr)
{
	struct rd r = rd_make(diff, len);
	r.pos = *pos;
	size_t o = r.pos;
	uint8_t name[DNS_NAME_MAX];
	/* Uncompressed names only: a pointer would point into the blob. */
	if (dns_name_read(&r, name) != ATL_OK || r.pos - o != dns_name_len(name))
		return ATL_EINVAL;
	rr->owner = diff + o;
	rr->type = rd_be16(&r);
	rr->ttl = rd_be32(&r);
	rr->rdlen = rd_be16(&r);
	rr->rdata = rd_take(&r, rr->rdlen);
	if (!rd_ok(&r) || !dns_rdata_valid(rr->type, rr->rdata, rr->rdlen) ||
	    (rr->type == DNS_T_SOA && rr->rdlen < 22))
		return ATL_EINVAL;
	*pos = r.pos;
	return ATL_OK;
}

/* A snapshot's zone, built from its RRs alone. */
static int snapshot_load(const struct dns_diff *d, const uint8_t *diff, size_t len,
			 struct region *rg, struct dns_zone **nz, char *err, size_t errcap)
{
	struct dns_zload zl;
	int rc = dns_zload_begin(&zl, rg, d->origin);
	size_t pos = d->rrs;
	for (uint32_t i = 0; rc == ATL_OK && i < d->nadd; i++) {
		struct dns_diff_rr rr;
		dns_diff_rr_next(diff, len, &pos, &rr);
		struct dns_zrec rec = {rr.owner, rr.type, DNS_C_IN, rr.ttl, rr.rdlen, rr.rdata};
		rc = dns_zload_add(&zl, &rec);
		if (rc != ATL_OK)
			dns_zload_abort(&zl);
	}
	if (rc == ATL_OK)
		rc = dns_zload_end(&zl, nz);
	if (rc != ATL_OK)
		fmt_snprintf(err, errcap, "%s", zl.err[0] ? zl.err : "out of zone memory");
	return rc;
}

int dns_zone_snapshot(const struct dns_zone *z, struct region *r, uint8_t **blob, size_t *len)
{
	size_t n = dns_name_len(z->origin) + 16;
	uint32_t count = 0;
	for (size_t i = 0; i < z->nnodes; i++)
		for (unsigned k = 0; k < z->nodes[i].nrrsets; k++) {
			const struct dns_rrset *s = &z->nodes[i].rrsets[k];
			const uint8_t *p = s->rdata;
			for (unsigned j = 0; j < s->count; j++) {
				n += dns_name_len(z->nodes[i].name) + 8 + load_be16(p);
				p += 2u + load_be16(p);
				count++;
			}
		}
	uint8_t *b = region_alloc(r, n);
	if (!b)
		return ATL_ENOMEM;
	struct wr o = wr_make(b, n);
	wr_bytes(&o, z->origin, dns_name_len(z->origin));
	wr_be32(&o, 0);
	wr_be32(&o, z->serial);
	wr_be32(&o, 0);
	wr_be32(&o, count);
	/* The SOA first, then the rest in the zone's order. */
	for (int soa = 1; soa >= 0; soa--)
		for (size_t i = 0; i < z->nnodes; i++)
			for (unsigned k = 0; k < z->nodes[i].nrrsets; k++) {
				const struct dns_rrset *s = &z->nodes[i].rrsets[k];
				if ((s->type == DNS_T_SOA && i == 0) != soa)
					continue;
				const uint8_t *p = s->rdata;
				for (unsigned j = 0; j < s->count; j++) {
					const uint8_t *nm = z->nodes[i].name;
					wr_bytes(&o, nm, dns_name_len(nm));
					wr_be16(&o, s->type);
					wr_be32(&o, s->ttl);
					wr_be16(&o, load_be16(p));
					wr_bytes(&o, p + 2, load_be16(p));
					p += 2u + load_be16(p);
				}
			}
	ASSERT(wr_ok(&o) && o.pos == n);
	*blob = b;
	*len = n;
	return ATL_OK;
}

int dns_diff_apply(const struct dns_zone *z, const uint8_t *diff, size_t len, struct region *rg,
		   struct dns_zone **nz, char *err, size_t errcap)
{
	struct dns_diff d;
	*nz = NULL;
	if (dns_diff_parse(diff, len, &d) != ATL_OK) {
		fmt_snprintf(err, errcap, "malformed difference");
		return ATL_EINVAL;
	}
	if (!dns_name_equal(d.origin, z->origin) || (d.ndel && d.old_serial != z->serial)) {
		fmt_snprintf(err, errcap, "serial %u does not follow %u", d.old_serial, z->serial);
		return ATL_ENOENT;
	}
	if (!d.ndel)
		return snapshot_load(&d, diff, len, rg, nz, err, errcap);
	struct work w;
	if (work_init(&w, z, rg, d.nadd, len) != ATL_OK) {
		fmt_snprintf(err, errcap, "out of zone memory (zone-mem=)");
		return ATL_ENOMEM;
	}
	size_t pos = d.rrs;
	int rc = ATL_OK;
	for (uint32_t i = 0; i < d.ndel + d.nadd && rc == ATL_OK; i++) {
		struct dns_diff_rr rr;
		dns_diff_rr_next(diff, len, &pos, &rr);
		if (i < d.ndel) {
			struct wrr *e = rr_find(&w, rr.owner, rr.type, rr.rdata, rr.rdlen);
			if (!e) {
				fmt_snprintf(err, errcap, "deletes an RR the zone does not have");
				rc = ATL_EINVAL;
			} else {
				e->dead = true;
			}
		} else if (!dns_name_is_sub(rr.owner, z->origin)) {
			fmt_snprintf(err, errcap, "adds an RR outside the zone");
			rc = ATL_EINVAL;
		} else {
			rc = work_add(&w, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen);
		}
	}
	uint8_t *dd = NULL;
	size_t dl;
	if (rc == ATL_OK) {
		rc = work_finish(&w, nz, &dd, &dl, err, errcap);
		region_free(rg, dd);
	}
	work_free(&w);
	return rc;
}
