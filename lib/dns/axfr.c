/*
 * axfr.c - zone transfers out: AXFR (RFC 5936) as a sequence of messages,
 * and IXFR (RFC 1995) answered with the whole zone or, when the client is
 * up to date, with the SOA alone.
 */
#include "core/err.h"
#include "dns/dns.h"

/* The serial of the SOA an IXFR query carries in its authority section
 * (RFC 1995 3). */
static bool ixfr_client_serial(const uint8_t *msg, size_t len, const struct dns_query *q,
			       uint32_t *serial)
{
	struct rd r = rd_make(msg, len);
	r.pos = q->qend;
	struct dns_rr rr;
	for (unsigned i = 0; i < (unsigned)q->h.an + q->h.ns; i++) {
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return false;
		if (i < q->h.an || rr.type != DNS_T_SOA)
			continue;
		uint8_t rd[2 * DNS_NAME_MAX + 20];
		int n = dns_rdata_uncompress(msg, len, &rr, rd, sizeof rd);
		if (n < 20)
			return false;
		*serial = load_be32(rd + n - 20);
		return true;
	}
	return false;
}

int dns_axfr_start(const struct dns_zones *zs, const uint8_t *msg, size_t len, struct dns_axfr *x)
{
	struct dns_query q;
	memset(x, 0, sizeof *x);
	int rc = dns_query_parse(msg, len, &q);
	if (rc != DNS_R_NOERROR || (q.qtype != DNS_T_AXFR && q.qtype != DNS_T_IXFR))
		return ATL_EINVAL;
	x->qtype = q.qtype;
	x->id = q.h.id;
	memcpy(x->qname, q.qname, dns_name_len(q.qname));
	x->qclass = q.qclass;
	x->edns = q.edns;
	/* RFC 5936 2.2: only the apex of a zone we serve. */
	const struct dns_zone *z = dns_zones_find(zs, q.qname);
	if (!z || !dns_name_equal(z->origin, q.qname) || q.qclass != DNS_C_IN)
		return DNS_R_NOTAUTH;
	x->z = z;
	if (q.qtype == DNS_T_IXFR && ixfr_client_serial(msg, len, &q, &x->client_serial)) {
		/* RFC 1995 2: a client as new as we are gets our SOA alone;
		 * anyone else the whole zone in AXFR form (RFC 1995 4: we
		 * keep no history of differences yet). */
		uint32_t d = z->serial - x->client_serial;
		x->have_client_serial = true;
		x->up_to_date = d == 0 || d >= 0x80000000u; /* RFC 1982 */
	}
	return DNS_R_NOERROR;
}

void dns_ixfr_begin(struct dns_axfr *x)
{
	x->incremental = true;
	x->need_diff = true;
}

void dns_ixfr_feed(struct dns_axfr *x, const uint8_t *diff, size_t len)
{
	x->diff = diff;
	x->difflen = len;
	x->dpos = 0;
	if (diff) {
		struct dns_diff d;
		if (dns_diff_parse(diff, len, &d) == ATL_OK)
			x->dpos = d.rrs;
		else
			x->dpos = len; /* nothing usable: skipped */
	}
	x->need_diff = false;
}

/* One RR, all or nothing; false if it did not fit. */
static bool put(struct wr *w, struct dns_cmp *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
		const uint8_t *rd, size_t len)
{
	size_t mark = w->pos;
	unsigned cmark = c->n;
	dns_name_write(w, owner, c);
	wr_be16(w, type);
	wr_be16(w, DNS_C_IN);
	wr_be32(w, ttl);
	size_t lenpos = w->pos;
	wr_be16(w, 0);
	size_t start = w->pos;
	if (dns_type_compressible(type)) {
		/* Names as in the zone, compressed (RFC 5936 allows it). */
		if (type == DNS_T_MX)
			wr_bytes(w, rd, 2);
		const uint8_t *p = type == DNS_T_MX ? rd + 2 : rd;
		dns_name_write(w, p, c);
		if (type == DNS_T_SOA) {
			size_t n1 = dns_name_len(rd);
			dns_name_write(w, rd + n1, c);
			size_t n2 = dns_name_len(rd + n1);
			wr_bytes(w, rd + n1 + n2, len - n1 - n2);
		}
	} else {
		wr_bytes(w, rd, len);
	}
	if (!wr_ok(w)) {
		w->err = false;
		w->pos = mark;
		c->n = cmark;
		return false;
	}
	wr_be16_at(w, lenpos, (uint16_t)(w->pos - start));
	return true;
}

size_t dns_axfr_next(struct dns_axfr *x, uint8_t *out, size_t cap)
{
	if (x->done || !x->z)
		return 0;
	const struct dns_zone *z = x->z;
	const struct dns_rrset *soa = dns_node_rrset(&z->nodes[0], DNS_T_SOA);
	struct wr w = wr_make(out, cap);
	struct dns_cmp c = {0};
	wr_zero(&w, DNS_HDR_LEN);
	unsigned qd = 0, an = 0;
	if (!x->started) {
		/* RFC 5936 2.2.1: the first message echoes the question. */
		dns_name_write(&w, x->qname, &c);
		wr_be16(&w, x->qtype);
		wr_be16(&w, x->qclass);
		qd = 1;
		if (!put(&w, &c, z->origin, DNS_T_SOA, soa->ttl, soa->rdata + 2,
			 load_be16(soa->rdata)))
			return 0;
		an++;
		x->started = true;
		if (x->up_to_date) {
			x->done = true;
			goto send;
		}
	}
	if (x->incremental) {
		/* RFC 1995 4: the differences one after the other (each the
		 * old SOA, what went, the new SOA, what came), then our SOA. */
		if (x->need_diff)
			return an ? w.pos : 0; /* only after dns_ixfr_feed */
		while (x->diff && x->dpos < x->difflen) {
			struct dns_diff_rr rr;
			size_t pos = x->dpos;
			if (dns_diff_rr_next(x->diff, x->difflen, &pos, &rr) != ATL_OK)
				return 0;
			if (!put(&w, &c, rr.owner, rr.type, rr.ttl, rr.rdata, rr.rdlen)) {
				if (!an)
					return 0;
				goto send;
			}
			an++;
			x->dpos = pos;
		}
		if (x->diff) {
			x->need_diff = true;
			if (an)
				goto send;
			return 0;
		}
		x->node = z->nnodes; /* the end: our SOA */
	}
	/* Every RRset of every node, the apex SOA aside, then the SOA again
	 * (RFC 5936 2.2). */
	while (x->node < z->nnodes) {
		const struct dns_node *n = &z->nodes[x->node];
		if (x->rrset >= n->nrrsets) {
			x->node++;
			x->rrset = 0;
			x->rr = 0;
			x->off = 0;
			continue;
		}
		const struct dns_rrset *s = &n->rrsets[x->rrset];
		if (s == soa || x->rr >= s->count) {
			x->rrset++;
			x->rr = 0;
			x->off = 0;
			continue;
		}
		const uint8_t *p = s->rdata + x->off;
		size_t len = load_be16(p);
		if (!put(&w, &c, n->name, s->type, s->ttl, p + 2, len)) {
			if (!an)
				return 0; /* one RR larger than a message: give up */
			goto send;
		}
		an++;
		x->rr++;
		x->off += 2 + len;
	}
	if (!put(&w, &c, z->origin, DNS_T_SOA, soa->ttl, soa->rdata + 2, load_be16(soa->rdata))) {
		if (!an)
			return 0;
		goto send;
	}
	an++;
	x->done = true;
send:;
	struct dns_hdr h = {x->id, DNS_F_QR | DNS_F_AA, (uint16_t)qd, (uint16_t)an, 0, 0};
	struct wr hw = wr_make(out, DNS_HDR_LEN);
	dns_hdr_write(&hw, &h);
	return w.pos;
}
