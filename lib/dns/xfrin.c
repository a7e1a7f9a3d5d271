/*
 * xfrin.c - zone transfers in: the answer to our AXFR (RFC 5936) or IXFR
 * (RFC 1995) request, message by message, into a new zone.
 *
 * A transfer is a run of RRs that opens and closes with the zone's SOA.
 * An IXFR answer comes in one of three forms (RFC 1995 4), told apart by
 * its first two RRs:
 *
 *   SOA(new)                                     we are up to date
 *   SOA(new) <not an SOA> ... SOA(new)           the whole zone (AXFR form)
 *   SOA(new) SOA(ours) dels SOA(s1) adds         differences, one step per
 *            SOA(s1) dels SOA(s2) adds ... SOA(new)   pair of SOAs
 *
 * The whole zone goes straight into a dns_zload.  Differences are kept
 * aside and applied to the version we hold only once the closing SOA has
 * arrived: the last change to an RR wins, so an RR deleted by one step and
 * added back by a later one is present.  Either way the result passes the
 * same zone checks as a master file before anyone can serve it.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "dns/xfr.h"

/* One difference, in scratch, 16-byte aligned (records are contiguous). */
struct diff {
	uint32_t size; /* bytes to the next record */
	uint32_t seq;  /* order of arrival: the last change wins */
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
	uint8_t add; /* 0: delete */
	uint8_t ownerlen;
	uint8_t data[]; /* owner, then rdata (uncompressed) */
};

static int xfail(struct dns_xfrin *x, int rc, const char *why)
{
	if (!x->err[0])
		fmt_snprintf(x->err, sizeof x->err, "%s", why);
	return rc;
}

void dns_xfrin_init(struct dns_xfrin *x, const uint8_t *origin, uint16_t qtype, uint16_t id,
		    const struct dns_zone *have, struct region *zr, struct arena *scratch,
		    const struct dns_xfrin_limits *lim)
{
	memset(x, 0, sizeof *x);
	memcpy(x->origin, origin, dns_name_len(origin));
	x->qtype = qtype == DNS_T_IXFR && have ? DNS_T_IXFR : DNS_T_AXFR;
	x->id = id;
	x->have = have;
	x->zr = zr;
	x->scratch = scratch;
	x->scratch_mark = scratch ? scratch->used : 0;
	x->lim = *lim;
	x->state = DNS_XFRIN_FIRST;
}

void dns_xfrin_abort(struct dns_xfrin *x)
{
	if (x->loading)
		dns_zload_abort(&x->zl);
	x->loading = false;
	if (x->scratch)
		x->scratch->used = x->scratch_mark;
	x->diffs = NULL;
	x->ndiffs = 0;
}

/* Start the new zone with the opening SOA (AXFR form). */
static int load_start(struct dns_xfrin *x)
{
	if (dns_zload_begin(&x->zl, x->zr, x->origin) != ATL_OK)
		return xfail(x, ATL_ENOMEM, "out of memory for the transferred zone (zone-mem=)");
	x->loading = true;
	struct dns_zrec rec = {x->origin, DNS_T_SOA, DNS_C_IN, x->soa_ttl, x->soa_len, x->soa_rd};
	int rc = dns_zload_add(&x->zl, &rec);
	if (rc != ATL_OK)
		return xfail(x, rc, x->zl.err[0] ? x->zl.err : "bad SOA");
	return ATL_OK;
}

static int load_add(struct dns_xfrin *x, const struct dns_zrec *rec)
{
	int rc = dns_zload_add(&x->zl, rec);
	if (rc != ATL_OK) {
		char t[DNS_NAME_MAX * 4 + 2], why[300];
		dns_name_to_text(rec->owner, t, sizeof t);
		fmt_snprintf(why, sizeof why, "%s: %s", t,
			     x->zl.err[0] ? x->zl.err : "record refused (class or type)");
		return xfail(x, rc, why);
	}
	return ATL_OK;
}

static int diff_push(struct dns_xfrin *x, const struct dns_zrec *rec, bool add)
{
	if (!dns_name_is_sub(rec->owner, x->origin))
		return xfail(x, ATL_EINVAL, "a difference outside the zone");
	if (rec->class != DNS_C_IN || !dns_rdata_valid(rec->type, rec->rdata, rec->rdlen))
		return xfail(x, ATL_EINVAL, "a difference with a bad class or malformed rdata");
	size_t ol = dns_name_len(rec->owner);
	size_t size = (sizeof(struct diff) + ol + rec->rdlen + 15) & ~(size_t)15;
	if (!x->diffs)
		x->diffs = x->scratch->base + x->scratch->used;
	struct diff *d = arena_alloc(x->scratch, size);
	if (!d)
		return xfail(x, ATL_ENOMEM, "out of memory for the differences");
	d->size = (uint32_t)size;
	d->seq = (uint32_t)x->ndiffs++;
	d->ttl = rec->ttl;
	d->type = rec->type;
	d->rdlen = rec->rdlen;
	d->add = add;
	d->ownerlen = (uint8_t)ol;
	memcpy(d->data, rec->owner, ol);
	memcpy(d->data + ol, rec->rdata, rec->rdlen);
	return ATL_OK;
}

/* One RR of the answer section, in order. */
static int rr_in(struct dns_xfrin *x, const struct dns_zrec *rec)
{
	bool apex_soa = rec->type == DNS_T_SOA && dns_name_equal(rec->owner, x->origin);
	uint32_t serial = 0;
	if (apex_soa) {
		struct dns_soa soa;
		if (dns_soa_parse(rec->rdata, rec->rdlen, &soa) != ATL_OK)
			return xfail(x, ATL_EINVAL, "malformed SOA");
		serial = soa.serial;
	}
	switch (x->state) {
	case DNS_XFRIN_FIRST:
		/* RFC 5936 2.2: the first RR is the zone's SOA. */
		if (!apex_soa || rec->class != DNS_C_IN)
			return xfail(x, ATL_EINVAL,
				     "the transfer does not start with the zone's SOA");
		x->new_serial = serial;
		x->soa_ttl = rec->ttl;
		x->soa_len = rec->rdlen;
		memcpy(x->soa_rd, rec->rdata, rec->rdlen);
		if (x->qtype == DNS_T_AXFR) {
			x->state = DNS_XFRIN_AXFR;
			return load_start(x);
		}
		x->state = DNS_XFRIN_SECOND;
		return ATL_OK;
	case DNS_XFRIN_SECOND: {
		uint32_t have = x->have->serial;
		if (apex_soa && serial == have && dns_serial_cmp(x->new_serial, have) > 0) {
			/* RFC 1995 4: differences, starting from our version. */
			x->state = DNS_XFRIN_IXFR_DEL;
			x->step_serial = serial;
			x->incremental = true;
			return ATL_OK;
		}
		x->state = DNS_XFRIN_AXFR;
		int rc = load_start(x);
		if (rc != ATL_OK)
			return rc;
		return rr_in(x, rec);
	}
	case DNS_XFRIN_AXFR:
		if (apex_soa) {
			if (serial != x->new_serial)
				return xfail(x, ATL_EINVAL,
					     "the closing SOA differs from the opening one");
			x->state = DNS_XFRIN_DONE;
			return ATL_OK;
		}
		return load_add(x, rec);
	case DNS_XFRIN_IXFR_DEL:
		if (apex_soa) {
			x->state = DNS_XFRIN_IXFR_ADD;
			x->step_serial = serial;
			return ATL_OK;
		}
		return diff_push(x, rec, false);
	case DNS_XFRIN_IXFR_ADD:
		if (apex_soa) {
			if (serial == x->new_serial) {
				x->state = DNS_XFRIN_DONE;
				return ATL_OK;
			}
			/* The next step starts where this one ended. */
			if (serial != x->step_serial)
				return xfail(x, ATL_EINVAL, "IXFR steps do not follow each other");
			x->state = DNS_XFRIN_IXFR_DEL;
			return ATL_OK;
		}
		return diff_push(x, rec, true);
	case DNS_XFRIN_DONE:
		break;
	}
	return xfail(x, ATL_EINVAL, "records after the closing SOA");
}

int dns_xfrin_msg(struct dns_xfrin *x, const uint8_t *msg, size_t len)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r))
		return xfail(x, ATL_EINVAL, "a message shorter than a header");
	if (!(h.flags & DNS_F_QR) || h.id != x->id || DNS_OPCODE(h.flags) != DNS_OP_QUERY)
		return xfail(x, ATL_EINVAL, "not a response to our transfer request");
	x->msgs++;
	x->bytes += len;
	if (x->bytes > x->lim.max_bytes)
		return xfail(x, ATL_EMSGSIZE, "the transfer is larger than allowed");
	if (DNS_RCODE(h.flags) != DNS_R_NOERROR) {
		/* RFC 5936 2.2: an error ends the transfer. */
		fmt_snprintf(x->err, sizeof x->err, "the server answered rcode %u",
			     DNS_RCODE(h.flags));
		return DNS_RCODE(h.flags);
	}
	if (h.flags & DNS_F_TC)
		return xfail(x, ATL_EINVAL, "a truncated transfer message");
	/* RFC 5936 2.2.1: the first message echoes the question; later ones
	 * may, and then it must still be ours. */
	if (h.qd > 1 || (x->msgs == 1 && h.qd != 1))
		return xfail(x, ATL_EINVAL, "the question is missing or repeated");
	if (h.qd == 1) {
		uint8_t qname[DNS_NAME_MAX];
		if (dns_name_read(&r, qname) != ATL_OK)
			return xfail(x, ATL_EINVAL, "malformed question");
		uint16_t qtype = rd_be16(&r), qclass = rd_be16(&r);
		if (!rd_ok(&r) || !dns_name_equal(qname, x->origin) || qtype != x->qtype ||
		    qclass != DNS_C_IN)
			return xfail(x, ATL_EINVAL, "the question is not ours");
	}
	size_t before = x->rrs;
	for (unsigned i = 0; i < h.an; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return xfail(x, ATL_EINVAL, "a malformed record");
		if (++x->rrs > x->lim.max_rrs)
			return xfail(x, ATL_EMSGSIZE, "the transfer has more records than allowed");
		int n = dns_rdata_uncompress(msg, len, &rr, x->rd, sizeof x->rd);
		if (n < 0 || n > 0xffff)
			return xfail(x, ATL_EINVAL, "malformed rdata");
		struct dns_zrec rec = {rr.owner, rr.type, rr.class, rr.ttl, (uint16_t)n, x->rd};
		int rc = rr_in(x, &rec);
		if (rc != ATL_OK)
			return rc;
	}
	/* The authority and additional sections (a TSIG, an OPT) carry no
	 * zone data; they are not read here. */
	if (x->state == DNS_XFRIN_SECOND && before == 0 && x->rrs == 1) {
		/* RFC 1995 2: the SOA alone says we are up to date. */
		if (dns_serial_cmp(x->new_serial, x->have->serial) > 0)
			return xfail(x, ATL_EINVAL, "a newer SOA alone, without the changes");
		x->up_to_date = true;
		x->state = DNS_XFRIN_DONE;
	}
	return x->state == DNS_XFRIN_DONE ? ATL_OK : ATL_EAGAIN;
}

/* Key order for differences: the RR's (RFC 4034 6.3), then arrival. */
static int diff_cmp(const struct diff *a, const struct diff *b)
{
	int c = dns_rr_cmp(a->data, a->type, a->data + a->ownerlen, a->rdlen, b->data, b->type,
			   b->data + b->ownerlen, b->rdlen);
	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool same_rr(const struct diff *a, const struct diff *b)
{
	return a->type == b->type && a->rdlen == b->rdlen && dns_name_equal(a->data, b->data) &&
	       !memcmp(a->data + a->ownerlen, b->data + b->ownerlen, a->rdlen);
}

/* Bottom-up merge sort: no recursion, O(n log n) on any input. */
static void diff_sort(struct diff **v, struct diff **tmp, size_t n)
{
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = diff_cmp(v[j], v[i]) < 0 ? v[j++] : v[i++];
			while (i < mid)
				tmp[k++] = v[i++];
			while (j < hi)
				tmp[k++] = v[j++];
		}
		memcpy(v, tmp, n * sizeof *v);
	}
}

/* Whether any difference (of the n, sorted, last-per-key) touches the RR. */
static bool diff_find(struct diff **v, size_t n, const uint8_t *owner, uint16_t type,
		      const uint8_t *rd, uint16_t rdlen)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct diff *d = v[mid];
		int c = dns_name_cmp(d->data, owner);
		if (!c)
			c = d->type != type ? (d->type < type ? -1 : 1) : 0;
		if (!c)
			c = d->rdlen != rdlen ? (d->rdlen < rdlen ? -1 : 1) : 0;
		if (!c)
			c = memcmp(d->data + d->ownerlen, rd, rdlen);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The version we hold, with the differences applied, into a zload. */
static int apply_diffs(struct dns_xfrin *x)
{
	size_t n = x->ndiffs;
	struct diff **v = NULL;
	if (n) {
		v = arena_alloc(x->scratch, n * sizeof *v);
		struct diff **tmp = arena_alloc(x->scratch, n * sizeof *tmp);
		if (!v || !tmp)
			return xfail(x, ATL_ENOMEM, "out of memory for the differences");
		uint8_t *p = x->diffs;
		for (size_t i = 0; i < n; i++) {
			v[i] = (struct diff *)p;
			p += v[i]->size;
		}
		diff_sort(v, tmp, n);
		/* Keep the last change per RR (sorted by arrival within one). */
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (k && same_rr(v[k - 1], v[i]))
				v[k - 1] = v[i];
			else
				v[k++] = v[i];
		}
		n = k;
	}
	int rc = load_start(x);
	if (rc != ATL_OK)
		return rc;
	/* Every RR we hold that no difference touches, apex SOA aside. */
	const struct dns_zone *z = x->have;
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct dns_node *nd = &z->nodes[i];
		for (unsigned j = 0; j < nd->nrrsets; j++) {
			const struct dns_rrset *s = &nd->rrsets[j];
			if (i == 0 && s->type == DNS_T_SOA)
				continue;
			const uint8_t *p = s->rdata;
			for (unsigned k = 0; k < s->count; k++) {
				uint16_t len = load_be16(p);
				if (!diff_find(v, n, nd->name, s->type, p + 2, len)) {
					struct dns_zrec rec = {nd->name, s->type, DNS_C_IN,
							       s->ttl,	 len,	  p + 2};
					rc = load_add(x, &rec);
					if (rc != ATL_OK)
						return rc;
				}
				p += 2 + len;
			}
		}
	}
	/* Then what the differences leave added (with their own TTL). */
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->add)
			continue;
		struct dns_zrec rec = {v[i]->data, v[i]->type,	DNS_C_IN,
				       v[i]->ttl,  v[i]->rdlen, v[i]->data + v[i]->ownerlen};
		rc = load_add(x, &rec);
		if (rc != ATL_OK)
			return rc;
	}
	return ATL_OK;
}

int dns_xfrin_finish(struct dns_xfrin *x, struct dns_zone **z)
{
	if (x->state != DNS_XFRIN_DONE) {
		dns_xfrin_abort(x);
		return xfail(x, ATL_EINVAL, "the transfer ended before its closing SOA");
	}
	if (x->up_to_date) {
		dns_xfrin_abort(x);
		return ATL_ENOENT;
	}
	if (!x->loading) {
		int rc = apply_diffs(x);
		if (rc != ATL_OK) {
			dns_xfrin_abort(x);
			return rc;
		}
	}
	/* The differences are applied: scratch is free again before the
	 * build, which may move the zone (it needs no scratch). */
	if (x->scratch)
		x->scratch->used = x->scratch_mark;
	x->diffs = NULL;
	int rc = dns_zload_end(&x->zl, z);
	x->loading = false; /* end gave the block back itself on failure */
	if (rc != ATL_OK)
		return xfail(x, rc, x->zl.err[0] ? x->zl.err : "the zone fails its checks");
	return ATL_OK;
}
