/*
 * zone.c - the in-memory zone store: load, check, build, look up.
 *
 * A built zone is one contiguous block in its arena:
 *
 *   [nodes, canonical order][hash table][rrsets, by node][owner names][rdata]
 *
 * Nodes are in RFC 4034 6.1 canonical order (for transfers and proofs);
 * lookups are exact-match, through a hash table of node indexes at under
 * half load, so the closest encloser and the wildcard of any name are found
 * with a handful of probes.  Empty non-terminals have nodes of their
 * own (RFC 4592 2.2.2), so "does this name exist" is one search.
 *
 * While loading, records are appended to the arena's free space; the
 * zone is built after them, then moved down over them and its pointers
 * relocated.  A failed load leaves the arena as it was.  The loading
 * records are what sets the peak memory of a load, so they are kept
 * small: owners without the origin (every owner ends with it), 4-byte
 * alignment, and the sort works on 32-bit offsets.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "dns/dns.h"

/* A loading record, 4-byte aligned in the arena.  The owner is stored
 * relative to the origin, as a wire name of its own labels (the apex is
 * the root name): names that share a suffix sort as their prefixes do
 * (RFC 4034 6.1 compares from the rightmost label). */
struct lrec {
	uint32_t ttl;
	uint16_t type; /* 0: an empty non-terminal marker */
	uint16_t rdlen;
	uint8_t ownerlen; /* of the relative owner, its root label included */
	uint8_t data[];	  /* relative owner, then rdata */
};

#define LREC_HDR offsetof(struct lrec, data)

static size_t lrec_size(const struct lrec *r)
{
	return (LREC_HDR + r->ownerlen + r->rdlen + 3) & ~(size_t)3;
}

/* The full owner name of r into out. */
static void lrec_owner(const struct dns_zload *zl, const struct lrec *r, uint8_t *out)
{
	memcpy(out, r->data, r->ownerlen - 1u);
	memcpy(out + r->ownerlen - 1, zl->origin, dns_name_len(zl->origin));
}

static uint8_t *region_lo(struct arena *a)
{
	return a->base + a->used;
}

/* Loading records are packed 4-byte aligned (arena_alloc's 16 would add a
 * third to a typical record); dns_zload_finish realigns the arena. */
static void *arena_alloc4(struct arena *a, size_t size)
{
	if (size > a->size - a->used) {
		a->fails++;
		return NULL;
	}
	void *p = a->base + a->used;
	a->used += size;
	if (a->used > a->hwm)
		a->hwm = a->used;
	return p;
}

static const uint8_t apex_rel[1] = {0}; /* the apex, relative to the origin */

int dns_zload_init(struct dns_zload *zl, struct arena *a, const uint8_t *origin)
{
	memset(zl, 0, sizeof *zl);
	zl->a = a;
	zl->mark = a->used;
	zl->recs = region_lo(a);
	/* The origin is the first thing in the region; it moves with it. */
	uint8_t *o = arena_alloc(a, dns_name_len(origin));
	if (!o)
		return ATL_ENOMEM;
	memcpy(o, origin, dns_name_len(origin));
	zl->origin = o;
	zl->recs = region_lo(a);
	return ATL_OK;
}

static int zload_push(struct dns_zload *zl, const uint8_t *owner, uint16_t type, uint32_t ttl,
		      const uint8_t *rd, uint16_t rdlen)
{
	/* The owner is at or below the origin (checked by the caller). */
	size_t ol = dns_name_len(owner) - dns_name_len(zl->origin) + 1;
	size_t size = (LREC_HDR + ol + rdlen + 3) & ~(size_t)3;
	struct lrec *r = arena_alloc4(zl->a, size);
	if (!r) {
		fmt_snprintf(zl->err, sizeof zl->err, "out of memory loading the zone (--mem)");
		return ATL_ENOMEM;
	}
	r->ttl = ttl;
	r->type = type;
	r->rdlen = rdlen;
	r->ownerlen = (uint8_t)ol;
	memcpy(r->data, owner, ol - 1);
	r->data[ol - 1] = 0;
	if (rdlen)
		memcpy(r->data + ol, rd, rdlen);
	zl->nrecs++;
	zl->recbytes += size;
	return ATL_OK;
}

int dns_zload_add(void *ctx, const struct dns_zrec *rec)
{
	struct dns_zload *zl = ctx;
	char t[1024];
	if (!dns_name_is_sub(rec->owner, zl->origin)) {
		dns_name_to_text(rec->owner, t, sizeof t);
		fmt_snprintf(zl->err, sizeof zl->err, "out-of-zone data: %s", t);
		return ATL_EINVAL;
	}
	if (rec->type == 0 || rec->class != DNS_C_IN)
		return ATL_EINVAL;
	if (!dns_rdata_valid(rec->type, rec->rdata, rec->rdlen)) {
		fmt_snprintf(zl->err, sizeof zl->err, "malformed rdata");
		return ATL_EINVAL;
	}
	int rc = zload_push(zl, rec->owner, rec->type, rec->ttl, rec->rdata, rec->rdlen);
	if (rc != ATL_OK)
		return rc;
	/* Empty non-terminals: every name between the owner and the apex
	 * exists (RFC 4592 2.2.2).  Markers repeat; the build merges them. */
	unsigned below = dns_name_labels(rec->owner) - dns_name_labels(zl->origin);
	for (unsigned i = 1; i < below; i++) {
		rc = zload_push(zl, dns_name_skip(rec->owner, i), 0, 0, NULL, 0);
		if (rc != ATL_OK)
			return rc;
	}
	return ATL_OK;
}

/* Sort order: owner (canonical), type, rdata (RFC 4034 6.3). */
static int lrec_cmp(const struct lrec *a, const struct lrec *b)
{
	return dns_rr_cmp(a->data, a->type, a->data + a->ownerlen, a->rdlen, b->data, b->type,
			  b->data + b->ownerlen, b->rdlen);
}

/* Bottom-up merge sort of record offsets from base (stable; no
 * recursion, O(n log n) always). */
static void lrec_sort(const uint8_t *base, uint32_t *v, uint32_t *tmp, size_t n)
{
#define AT(o) ((const struct lrec *)(base + (o)))
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = lrec_cmp(AT(v[j]), AT(v[i])) < 0 ? v[j++] : v[i++];
			while (i < mid)
				tmp[k++] = v[i++];
			while (j < hi)
				tmp[k++] = v[j++];
		}
		memcpy(v, tmp, n * sizeof *v);
	}
#undef AT
}

/* name: relative to the origin (a loading record's), or NULL. */
static int zfail(struct dns_zload *zl, const char *why, const uint8_t *name)
{
	char t[1024];
	if (!zl->err[0]) {
		if (name) {
			uint8_t full[2 * DNS_NAME_MAX];
			size_t rl = dns_name_len(name) - 1;
			memcpy(full, name, rl);
			memcpy(full + rl, zl->origin, dns_name_len(zl->origin));
			dns_name_to_text(full, t, sizeof t);
			fmt_snprintf(zl->err, sizeof zl->err, "%s: %s", why, t);
		} else {
			fmt_snprintf(zl->err, sizeof zl->err, "%s", why);
		}
	}
	zl->a->used = zl->mark;
	return ATL_EINVAL;
}

/* A hash of the wire name with bit 5 of every byte set, eight bytes at a
 * time: names that differ only in case (RFC 4343) hash alike; the few
 * other bytes it folds together only cost a probe.  Built and looked up
 * on the same machine, so byte order does not matter. */
static size_t name_hash(const uint8_t *name)
{
	size_t n = dns_name_len(name), i = 0;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (;; i += 8) {
		uint64_t v = 0;
		memcpy(&v, name + i, n - i < 8 ? n - i : 8);
		h = (h ^ (v | 0x2020202020202020ull)) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		if (n - i <= 8)
			break;
	}
	return (size_t)(h ^ h >> 29);
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

int dns_zload_finish(struct dns_zload *zl, struct dns_zone *z)
{
	struct arena *a = zl->a;
	size_t n = zl->nrecs;
	if (!n)
		return zfail(zl, "empty zone: no SOA record at the apex", apex_rel);
	size_t recbytes = a->used - (size_t)(zl->recs - a->base);
	if (recbytes > UINT32_MAX)
		return zfail(zl, "zone too large (4 GiB of records)", NULL);
	size_t aligned = (a->used + 15) & ~(size_t)15;
	if (aligned > a->size)
		return zfail(zl, "out of memory loading the zone (--mem)", NULL) ? ATL_ENOMEM : 0;
	a->used = aligned;
	/* The sort's second array sits at the top of the free space: it is
	 * dead once sorted, so the zone may be built over it. */
	uint32_t *off = arena_alloc(a, n * sizeof *off);
	if (!off || a->size - a->used < n * sizeof(uint32_t))
		return zfail(zl, "out of memory loading the zone (--mem)", NULL) ? ATL_ENOMEM : 0;
	uint32_t *tmp = (uint32_t *)(a->base + ((a->size - n * sizeof(uint32_t)) & ~(size_t)3));
	if (a->size > a->hwm)
		a->hwm = a->size;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		off[i] = (uint32_t)o;
		o += lrec_size((const struct lrec *)(zl->recs + o));
	}
	lrec_sort(zl->recs, off, tmp, n);
	/* From here on v(i) is the i-th record in canonical order. */
#define v(i) ((const struct lrec *)(zl->recs + off[i]))

	/* Pass 1: count nodes, RRsets, bytes; check the zone's rules. */
	size_t nnodes = 0, nrrsets = 0, namebytes = 0, rdbytes = 0;
	unsigned soa = 0;
	bool apex_ns = false;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		unsigned types = 0, cnames = 0, dnames = 0, other = 0;
		while (j < n && dns_name_equal(v(j)->data, v(i)->data)) {
			const struct lrec *r = v(j);
			bool dup = j > i && r->type == v(j - 1)->type && !lrec_cmp(r, v(j - 1));
			if (r->type && !dup) {
				if (j == i || r->type != v(j - 1)->type)
					types++;
				rdbytes += 2u + r->rdlen;
				if (r->type == DNS_T_CNAME)
					cnames++;
				else if (r->type == DNS_T_DNAME)
					dnames++;
				else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC)
					other++;
				if (r->type == DNS_T_SOA)
					soa++;
			}
			j++;
		}
		const uint8_t *name = v(i)->data;
		bool apex = !name[0];
		if (apex) {
			for (size_t k = i; k < j; k++)
				apex_ns |= v(k)->type == DNS_T_NS;
		} else {
			for (size_t k = i; k < j; k++)
				if (v(k)->type == DNS_T_SOA)
					return zfail(zl, "SOA record not at the zone apex", name);
		}
		/* RFC 1034 3.6.2, RFC 2181 10.1: a CNAME stands alone. */
		if (cnames > 1)
			return zfail(zl, "more than one CNAME record", name);
		if (cnames && (other || dnames))
			return zfail(zl, "CNAME next to other data", name);
		if (dnames > 1) /* RFC 6672 2.4 */
			return zfail(zl, "more than one DNAME record", name);
		nnodes++;
		nrrsets += types;
		namebytes += v(i)->ownerlen - 1u + dns_name_len(zl->origin);
		i = j;
	}
	if (soa != 1)
		return zfail(
		    zl, soa ? "more than one SOA record at the apex" : "no SOA record at the apex",
		    apex_rel);
	if (!apex_ns)
		return zfail(zl, "no NS records at the apex", apex_rel);

	/* Pass 2: build just past the loading records (so the memory
	 * touched is records + zone, not the whole arena). */
	size_t hslots = 16;
	while (hslots < 2 * nnodes)
		hslots *= 2;
	size_t hbytes = align16(hslots * sizeof(uint32_t));
	size_t zsize = align16(nnodes * sizeof(struct dns_node)) + hbytes +
		       align16(nrrsets * sizeof(struct dns_rrset)) + align16(namebytes) + rdbytes;
	if (a->size - a->used < align16(zsize))
		return zfail(zl, "out of memory building the zone (--mem)", NULL) ? ATL_ENOMEM : 0;
	uint8_t *top = a->base + a->used;
	if (a->used + align16(zsize) > a->hwm)
		a->hwm = a->used + align16(zsize);
	struct dns_node *nodes = (struct dns_node *)top;
	uint32_t *hash = (uint32_t *)(top + align16(nnodes * sizeof(struct dns_node)));
	struct dns_rrset *sets = (struct dns_rrset *)((uint8_t *)hash + hbytes);
	uint8_t *names = (uint8_t *)sets + align16(nrrsets * sizeof(struct dns_rrset));
	uint8_t *rdp = names + align16(namebytes);
	size_t ni = 0, si = 0;
	for (size_t i = 0; i < n;) {
		struct dns_node *nd = &nodes[ni++];
		lrec_owner(zl, v(i), names);
		nd->name = names;
		names += dns_name_len(names);
		nd->rrsets = &sets[si];
		nd->nrrsets = 0;
		nd->flags = 0;
		bool apex = ni == 1;
		size_t j = i;
		while (j < n && dns_name_equal(v(j)->data, v(i)->data)) {
			const struct lrec *r = v(j);
			bool dup = j > i && r->type == v(j - 1)->type && !lrec_cmp(r, v(j - 1));
			if (!r->type || dup) {
				j++;
				continue;
			}
			if (!nd->nrrsets || nd->rrsets[nd->nrrsets - 1].type != r->type) {
				struct dns_rrset *s = &sets[si++];
				s->type = r->type;
				s->count = 0;
				s->ttl = r->ttl;
				s->rdata = rdp;
				nd->nrrsets++;
				if (r->type == DNS_T_NS && !apex)
					nd->flags |= DNS_NODE_DELEG;
				if (r->type == DNS_T_DNAME)
					nd->flags |= DNS_NODE_DNAME;
				if (r->type == DNS_T_CNAME)
					nd->flags |= DNS_NODE_CNAME;
			}
			struct dns_rrset *s = &nd->rrsets[nd->nrrsets - 1];
			s->count++;
			store_be16(rdp, r->rdlen);
			memcpy(rdp + 2, r->data + r->ownerlen, r->rdlen);
			rdp += 2u + r->rdlen;
			j++;
		}
		bool hidden = nd->nrrsets > 0, has_nsec3 = false;
		for (unsigned k = 0; k < nd->nrrsets; k++) {
			uint16_t t = nd->rrsets[k].type;
			hidden &= t == DNS_T_NSEC3 || t == DNS_T_RRSIG;
			has_nsec3 |= t == DNS_T_NSEC3;
		}
		if (hidden && has_nsec3 && !apex)
			nd->flags |= DNS_NODE_HIDDEN;
		i = j;
	}

#undef v
	memset(hash, 0, hbytes);
	for (size_t i = 0; i < nnodes; i++) {
		size_t h = name_hash(nodes[i].name) & (hslots - 1);
		while (hash[h])
			h = (h + 1) & (hslots - 1);
		hash[h] = (uint32_t)(i + 1);
	}

	/* Move the zone down over the loading records, origin kept first. */
	uint8_t *dst = zl->recs;
	ptrdiff_t delta = dst - top;
	memmove(dst, top, zsize);
	nodes = (struct dns_node *)dst;
	for (size_t i = 0; i < nnodes; i++) {
		nodes[i].name += delta;
		nodes[i].rrsets = (struct dns_rrset *)((uint8_t *)nodes[i].rrsets + delta);
		for (unsigned k = 0; k < nodes[i].nrrsets; k++)
			nodes[i].rrsets[k].rdata += delta;
	}
	a->used = (size_t)(dst - a->base) + align16(zsize);
	if (a->used > a->hwm)
		a->hwm = a->used;
	memset(z, 0, sizeof *z);
	z->origin = zl->origin;
	z->labels = dns_name_labels(zl->origin);
	z->nodes = nodes;
	z->nnodes = nnodes;
	z->hash = (uint32_t *)((uint8_t *)hash + delta);
	z->hmask = hslots - 1;
	z->bytes = a->used - zl->mark;
	const struct dns_rrset *s = dns_node_rrset(&nodes[0], DNS_T_SOA);
	const uint8_t *rd = s->rdata + 2;
	size_t rl = load_be16(s->rdata);
	z->serial = load_be32(rd + rl - 20);
	return ATL_OK;
}

const struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type)
{
	for (unsigned i = 0; i < n->nrrsets; i++)
		if (n->rrsets[i].type == type)
			return &n->rrsets[i];
	return NULL;
}

const struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name)
{
	size_t h = name_hash(name) & z->hmask;
	for (uint32_t v; (v = z->hash[h]) != 0; h = (h + 1) & z->hmask)
		if (dns_name_equal(z->nodes[v - 1].name, name))
			return &z->nodes[v - 1];
	return NULL;
}

/* Parse text into a started load; the parser's scratch is the top of
 * the arena's free space, given back before the zone is built. */
static int zload_text(struct dns_zload *zl, const char *file, const char *text, size_t len,
		      int (*include)(void *ctx, const char *file, const char **data, size_t *len),
		      void *ctx, char *err, size_t errcap)
{
	struct arena *a = zl->a;
	struct dns_zparse p;
	memset(&p, 0, sizeof p);
	p.record = dns_zload_add;
	p.ctx = zl;
	p.include = include;
	p.include_ctx = ctx;
	p.record_err = zl->err;
	size_t scratch = (DNS_ZPARSE_SCRATCH + 15) & ~(size_t)15;
	if (a->size - a->used < scratch) {
		fmt_snprintf(err, errcap, "%s: out of memory (--mem)", file);
		a->used = zl->mark;
		return ATL_ENOMEM;
	}
	size_t size = a->size;
	a->size = (a->size - scratch) & ~(size_t)15;
	p.scratch = a->base + a->size;
	int rc = dns_zonefile_parse(&p, file, text, len, zl->origin);
	a->size = size;
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s", p.err[0] ? p.err : zl->err);
		a->used = zl->mark;
		return ATL_EINVAL;
	}
	return ATL_OK;
}

int dns_zone_load_text(struct arena *a, const uint8_t *origin, const char *file, const char *text,
		       size_t len,
		       int (*include)(void *ctx, const char *file, const char **data, size_t *len),
		       void *ctx, struct dns_zone *z, char *err, size_t errcap)
{
	struct dns_zload zl;
	int rc = dns_zload_init(&zl, a, origin);
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s: out of memory (--mem)", file);
		return rc;
	}
	rc = zload_text(&zl, file, text, len, include, ctx, err, errcap);
	if (rc != ATL_OK)
		return rc;
	rc = dns_zload_finish(&zl, z);
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s: %s", file, zl.err);
		return rc;
	}
	return ATL_OK;
}

int dns_zload_begin(struct dns_zload *zl, struct region *r, const uint8_t *origin)
{
	size_t size;
	void *block = region_alloc_largest(r, &size);
	struct arena own = {.base = block, .size = size};
	struct dns_zone *z = block ? arena_alloc(&own, sizeof *z) : NULL;
	if (!z || dns_zload_init(zl, &own, origin) != ATL_OK) {
		region_free(r, block);
		memset(zl, 0, sizeof *zl);
		fmt_snprintf(zl->err, sizeof zl->err, "out of memory for zone data (zone-mem=)");
		return ATL_ENOMEM;
	}
	/* dns_zload_init cleared zl: the arena is zl's own from here on. */
	zl->own = own;
	zl->a = &zl->own;
	zl->r = r;
	zl->z = z;
	return ATL_OK;
}

void dns_zload_abort(struct dns_zload *zl)
{
	if (zl->r && zl->own.base)
		region_free(zl->r, zl->own.base);
	zl->own.base = NULL;
}

int dns_zload_end(struct dns_zload *zl, struct dns_zone **out)
{
	int rc = dns_zload_finish(zl, zl->z);
	if (rc != ATL_OK) {
		dns_zload_abort(zl);
		return rc;
	}
	region_shrink(zl->r, zl->own.base, zl->own.used);
	zl->z->mem = zl->own.base;
	zl->z->bytes = zl->own.used;
	zl->own.base = NULL;
	*out = zl->z;
	return ATL_OK;
}

void dns_zone_free(struct region *r, struct dns_zone *z)
{
	if (z && z->mem)
		region_free(r, z->mem);
}

int dns_zone_load_text_region(struct region *r, const uint8_t *origin, const char *file,
			      const char *text, size_t len,
			      int (*include)(void *ctx, const char *file, const char **data,
					     size_t *len),
			      void *ctx, struct dns_zone **z, char *err, size_t errcap)
{
	struct dns_zload zl;
	int rc = dns_zload_begin(&zl, r, origin);
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s: %s", file, zl.err);
		return rc;
	}
	rc = zload_text(&zl, file, text, len, include, ctx, err, errcap);
	if (rc != ATL_OK) {
		dns_zload_abort(&zl);
		return rc;
	}
	rc = dns_zload_end(&zl, z);
	if (rc != ATL_OK) {
		fmt_snprintf(err, errcap, "%s: %s", file, zl.err);
		return rc;
	}
	return ATL_OK;
}

const uint8_t *dns_zone_soa(const struct dns_zone *z, size_t *len)
{
	const struct dns_rrset *s = dns_node_rrset(&z->nodes[0], DNS_T_SOA);
	*len = load_be16(s->rdata);
	return s->rdata + 2;
}
