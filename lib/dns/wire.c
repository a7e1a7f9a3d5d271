/*
 * wire.c - DNS messages: header, question, resource records, EDNS(0).
 */
#include "core/err.h"
#include "dns/dns.h"

void dns_hdr_read(struct rd *r, struct dns_hdr *h)
{
	h->id = rd_be16(r);
	h->flags = rd_be16(r);
	h->qd = rd_be16(r);
	h->an = rd_be16(r);
	h->ns = rd_be16(r);
	h->ar = rd_be16(r);
}

void dns_hdr_write(struct wr *w, const struct dns_hdr *h)
{
	wr_be16(w, h->id);
	wr_be16(w, h->flags);
	wr_be16(w, h->qd);
	wr_be16(w, h->an);
	wr_be16(w, h->ns);
	wr_be16(w, h->ar);
}

int dns_rr_read(struct rd *r, struct dns_rr *rr)
{
	if (dns_name_read(r, rr->owner) != ATL_OK)
		return ATL_EINVAL;
	rr->type = rd_be16(r);
	rr->class = rd_be16(r);
	rr->ttl = rd_be32(r);
	rr->rdlen = rd_be16(r);
	rr->rdoff = r->pos;
	rd_skip(r, rr->rdlen);
	return rd_ok(r) ? ATL_OK : ATL_EINVAL;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	struct rd r = rd_make(msg, len);
	memset(q, 0, sizeof *q);
	dns_hdr_read(&r, &q->h);
	if (!rd_ok(&r) || (q->h.flags & DNS_F_QR))
		return ATL_EINVAL;
	q->udp_size = DNS_UDP_MIN;
	q->qend = DNS_HDR_LEN;
	/* RFC 1035 4.1.2 allows several questions; no server answers more
	 * than one (RFC 9619), so anything else is malformed. */
	unsigned op = DNS_OPCODE(q->h.flags);
	if (q->h.qd != 1)
		return op == DNS_OP_QUERY ? DNS_R_FORMERR : DNS_R_NOTIMP;
	if (dns_name_read(&r, q->qname) != ATL_OK)
		return DNS_R_FORMERR;
	q->qtype = rd_be16(&r);
	q->qclass = rd_be16(&r);
	if (!rd_ok(&r))
		return DNS_R_FORMERR;
	q->qend = r.pos;
	/* Skip answer and authority; look for the OPT in additional. */
	unsigned skip = (unsigned)q->h.an + q->h.ns;
	struct dns_rr rr;
	for (unsigned i = 0; i < skip; i++)
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return DNS_R_FORMERR;
	for (unsigned i = 0; i < q->h.ar; i++) {
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return DNS_R_FORMERR;
		if (rr.type != DNS_T_OPT)
			continue;
		/* RFC 6891 6.1.1: one OPT, owned by the root. */
		if (q->edns || rr.owner[0])
			return DNS_R_FORMERR;
		q->edns = true;
		q->udp_size = rr.class < DNS_UDP_MIN ? DNS_UDP_MIN : rr.class;
		q->edns_version = (uint8_t)(rr.ttl >> 16);
		q->edns_flags = (uint16_t)rr.ttl;
		/* Options are TLV; a malformed list is a FORMERR. */
		struct rd o = rd_make(msg + rr.rdoff, rr.rdlen);
		while (rd_left(&o)) {
			rd_be16(&o);
			rd_skip(&o, rd_be16(&o));
		}
		if (!rd_ok(&o))
			return DNS_R_FORMERR;
	}
	if (op != DNS_OP_QUERY)
		return DNS_R_NOTIMP;
	if (q->edns && q->edns_version > 0)
		return DNS_R_BADVERS; /* RFC 6891 6.1.3 */
	return DNS_R_NOERROR;
}

int dns_rdata_uncompress(const uint8_t *msg, size_t msglen, const struct dns_rr *rr, uint8_t *out,
			 size_t cap)
{
	struct wr w = wr_make(out, cap);
	struct rd r = rd_make(msg, rr->rdoff + rr->rdlen);
	r.pos = rr->rdoff;
	uint8_t name[DNS_NAME_MAX];
	(void)msglen;
	/* RFC 3597 4: only the RFC 1035 types may be compressed, so only
	 * they are expanded; everything else is opaque here. */
	switch (rr->type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME: /* RFC 6672 2.5: tolerate compression on input */
		if (dns_name_read(&r, name) != ATL_OK)
			return ATL_EINVAL;
		wr_bytes(&w, name, dns_name_len(name));
		break;
	case DNS_T_MX:
		wr_be16(&w, rd_be16(&r));
		if (dns_name_read(&r, name) != ATL_OK)
			return ATL_EINVAL;
		wr_bytes(&w, name, dns_name_len(name));
		break;
	case DNS_T_SOA:
		for (int i = 0; i < 2; i++) {
			if (dns_name_read(&r, name) != ATL_OK)
				return ATL_EINVAL;
			wr_bytes(&w, name, dns_name_len(name));
		}
		{
			const uint8_t *t = rd_take(&r, 20);
			if (!t)
				return ATL_EINVAL;
			wr_bytes(&w, t, 20);
		}
		break;
	default:
		wr_bytes(&w, msg + rr->rdoff, rr->rdlen);
		r.pos = rr->rdoff + rr->rdlen;
		break;
	}
	if (!rd_ok(&r) || r.pos != rr->rdoff + rr->rdlen)
		return ATL_EINVAL;
	if (!wr_ok(&w))
		return ATL_EMSGSIZE;
	return (int)w.pos;
}
