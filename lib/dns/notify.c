/*
 * notify.c - the small messages of a secondary's life: NOTIFY (RFC 1996)
 * both ways, the SOA query of the refresh check (RFC 1034 4.3.5) and the
 * AXFR/IXFR request, and the checks on the answers to them; and the one
 * dynamic update a client here sends (a TXT record added or deleted, RFC
 * 2136 2.5.1/2.5.4: an ACME dns-01 challenge).
 */
#include <string.h>

#include "core/err.h"
#include "dns/xfr.h"

int dns_soa_parse(const uint8_t *rd, size_t len, struct dns_soa *soa)
{
	if (!dns_rdata_valid(DNS_T_SOA, rd, len) || len < 20)
		return ATL_EINVAL;
	const uint8_t *p = rd + len - 20;
	soa->serial = load_be32(p);
	soa->refresh = load_be32(p + 4);
	soa->retry = load_be32(p + 8);
	soa->expire = load_be32(p + 12);
	soa->minimum = load_be32(p + 16);
	return ATL_OK;
}

void dns_zone_soa_fields(const struct dns_zone *z, struct dns_soa *soa)
{
	const struct dns_rrset *s = dns_node_rrset(&z->nodes[0], DNS_T_SOA);
	/* A built zone always has its SOA (dns_zload_finish checks it). */
	ASSERT(s && s->count == 1);
	int rc = dns_soa_parse(s->rdata + 2, load_be16(s->rdata), soa);
	ASSERT(rc == ATL_OK);
}

int dns_serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	/* RFC 1982 3.2: a < b when (b - a) mod 2^32 is in (0, 2^31). */
	return b - a < 0x80000000u ? -1 : 1;
}

/* Header and the question <name> <type> IN. */
static void put_question(struct wr *w, struct dns_cmp *c, uint16_t id, uint16_t flags,
			 const uint8_t *name, uint16_t type, uint16_t an, uint16_t ns)
{
	struct dns_hdr h = {id, flags, 1, an, ns, 0};
	dns_hdr_write(w, &h);
	dns_name_write(w, name, c);
	wr_be16(w, type);
	wr_be16(w, DNS_C_IN);
}

/* The zone's SOA as an RR (owner compressed against the question). */
static void put_soa(struct wr *w, struct dns_cmp *c, const struct dns_zone *z)
{
	const struct dns_rrset *s = dns_node_rrset(&z->nodes[0], DNS_T_SOA);
	dns_name_write(w, z->origin, c);
	wr_be16(w, DNS_T_SOA);
	wr_be16(w, DNS_C_IN);
	wr_be32(w, s->ttl);
	wr_be16(w, load_be16(s->rdata));
	wr_bytes(w, s->rdata + 2, load_be16(s->rdata));
}

size_t dns_notify_build(const struct dns_zone *z, uint16_t id, uint8_t *out, size_t cap)
{
	struct wr w = wr_make(out, cap);
	struct dns_cmp c = {0};
	put_question(&w, &c, id, (uint16_t)(DNS_OP_NOTIFY << 11) | DNS_F_AA, z->origin, DNS_T_SOA,
		     1, 0);
	put_soa(&w, &c, z);
	return wr_ok(&w) ? w.pos : 0;
}

size_t dns_soa_query_build(const uint8_t *origin, uint16_t id, uint8_t *out, size_t cap)
{
	struct wr w = wr_make(out, cap);
	put_question(&w, NULL, id, 0, origin, DNS_T_SOA, 0, 0);
	return wr_ok(&w) ? w.pos : 0;
}

size_t dns_xfr_query_build(const uint8_t *origin, uint16_t qtype, const struct dns_zone *have,
			   uint16_t id, uint8_t *out, size_t cap)
{
	struct wr w = wr_make(out, cap);
	struct dns_cmp c = {0};
	/* RFC 1995 3: IXFR carries the client's SOA in the authority
	 * section; without a version to start from only AXFR makes sense. */
	bool ixfr = qtype == DNS_T_IXFR && have;
	put_question(&w, &c, id, 0, origin, ixfr ? DNS_T_IXFR : DNS_T_AXFR, 0, ixfr ? 1 : 0);
	if (ixfr)
		put_soa(&w, &c, have);
	return wr_ok(&w) ? w.pos : 0;
}

/* The common checks on a response to our query (id, name, type): QR,
 * the opcode, one question equal to ours.  Leaves r after the question. */
static int response_check(struct rd *r, struct dns_hdr *h, uint16_t id, unsigned op,
			  const uint8_t *name, uint16_t type)
{
	dns_hdr_read(r, h);
	if (!rd_ok(r) || !(h->flags & DNS_F_QR) || h->id != id || DNS_OPCODE(h->flags) != op)
		return ATL_EINVAL;
	/* RFC 1035 7.3: the question must be ours.  A server may leave it
	 * out of an error response; then the rcode is all there is. */
	if (h->qd == 0 && DNS_RCODE(h->flags) != DNS_R_NOERROR)
		return ATL_OK;
	if (h->qd != 1)
		return ATL_EINVAL;
	uint8_t qname[DNS_NAME_MAX];
	if (dns_name_read(r, qname) != ATL_OK)
		return ATL_EINVAL;
	uint16_t qtype = rd_be16(r), qclass = rd_be16(r);
	if (!rd_ok(r) || !dns_name_equal(qname, name) || qtype != type || qclass != DNS_C_IN)
		return ATL_EINVAL;
	return ATL_OK;
}

int dns_soa_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin,
			   struct dns_soa *soa)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	if (response_check(&r, &h, id, DNS_OP_QUERY, origin, DNS_T_SOA) != ATL_OK)
		return ATL_EINVAL;
	if (DNS_RCODE(h.flags) != DNS_R_NOERROR)
		return DNS_RCODE(h.flags);
	if (!(h.flags & DNS_F_AA) || (h.flags & DNS_F_TC))
		return ATL_EINVAL;
	for (unsigned i = 0; i < h.an; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return ATL_EINVAL;
		if (rr.type != DNS_T_SOA || rr.class != DNS_C_IN ||
		    !dns_name_equal(rr.owner, origin))
			continue;
		uint8_t rd[2 * DNS_NAME_MAX + 20];
		int n = dns_rdata_uncompress(msg, len, &rr, rd, sizeof rd);
		if (n < 0)
			return ATL_EINVAL;
		return dns_soa_parse(rd, (size_t)n, soa);
	}
	return ATL_EINVAL;
}

/* The rcode of a response to our message of opcode op about zone origin
 * (its SOA in the question), or ATL_EINVAL when it is not one. */
static int zone_response_rcode(const uint8_t *msg, size_t len, uint16_t id, unsigned op,
			       const uint8_t *origin)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	if (response_check(&r, &h, id, op, origin, DNS_T_SOA) != ATL_OK)
		return ATL_EINVAL;
	return DNS_RCODE(h.flags);
}

int dns_notify_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin)
{
	return zone_response_rcode(msg, len, id, DNS_OP_NOTIFY, origin);
}

size_t dns_update_txt_build(const uint8_t *origin, const uint8_t *owner, const char *txt,
			    uint32_t ttl, bool add, uint16_t id, uint8_t *out, size_t cap)
{
	size_t tl = strlen(txt);
	if (tl > 255 || !dns_name_is_sub(owner, origin))
		return 0;
	struct wr w = wr_make(out, cap);
	struct dns_cmp c = {0};
	/* RFC 2136 2.3: the zone section is the question; 2.4: no
	 * prerequisites; 2.5: one update RR */
	put_question(&w, &c, id, (uint16_t)(DNS_OP_UPDATE << 11), origin, DNS_T_SOA, 0, 1);
	dns_name_write(&w, owner, &c);
	wr_be16(&w, DNS_T_TXT);
	/* 2.5.1 adds in the zone's class; 2.5.4 deletes one RR with class
	 * NONE and TTL 0 */
	wr_be16(&w, add ? DNS_C_IN : DNS_C_NONE);
	wr_be32(&w, add ? ttl : 0);
	wr_be16(&w, (uint16_t)(tl + 1));
	wr_u8(&w, (uint8_t)tl);
	wr_bytes(&w, txt, tl);
	return wr_ok(&w) ? w.pos : 0;
}

int dns_update_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin)
{
	return zone_response_rcode(msg, len, id, DNS_OP_UPDATE, origin);
}

int dns_notify_parse(const uint8_t *msg, size_t len, struct dns_notify *n)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	memset(n, 0, sizeof *n);
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r) || (h.flags & DNS_F_QR) || DNS_OPCODE(h.flags) != DNS_OP_NOTIFY)
		return ATL_EINVAL;
	n->id = h.id;
	if (h.qd != 1 || dns_name_read(&r, n->zone) != ATL_OK)
		return DNS_R_FORMERR;
	uint16_t qtype = rd_be16(&r), qclass = rd_be16(&r);
	if (!rd_ok(&r))
		return DNS_R_FORMERR;
	/* RFC 1996 3.7: only QTYPE SOA is defined. */
	if (qtype != DNS_T_SOA || qclass != DNS_C_IN)
		return DNS_R_NOTIMP;
	/* RFC 1996 3.7: the answer section may hold the new SOA, a hint the
	 * secondary may use; a malformed one makes the message malformed. */
	for (unsigned i = 0; i < h.an; i++) {
		struct dns_rr rr;
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return DNS_R_FORMERR;
		if (rr.type != DNS_T_SOA || !dns_name_equal(rr.owner, n->zone) || n->has_serial)
			continue;
		uint8_t rd[2 * DNS_NAME_MAX + 20];
		struct dns_soa soa;
		int len2 = dns_rdata_uncompress(msg, len, &rr, rd, sizeof rd);
		if (len2 < 0 || dns_soa_parse(rd, (size_t)len2, &soa) != ATL_OK)
			return DNS_R_FORMERR;
		n->has_serial = true;
		n->serial = soa.serial;
	}
	return DNS_R_NOERROR;
}

size_t dns_notify_answer(const uint8_t *msg, size_t len, uint8_t rcode, uint8_t *out, size_t cap)
{
	struct rd r = rd_make(msg, len);
	struct dns_hdr h;
	dns_hdr_read(&r, &h);
	if (!rd_ok(&r))
		return 0;
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype = 0, qclass = 0;
	bool q = h.qd == 1 && dns_name_read(&r, qname) == ATL_OK;
	if (q) {
		qtype = rd_be16(&r);
		qclass = rd_be16(&r);
		q = rd_ok(&r);
	}
	if (!q && rcode == DNS_R_NOERROR)
		return 0;
	struct wr w = wr_make(out, cap);
	/* RFC 1996 4.7: the same ID, opcode and question; QR and AA. */
	uint16_t flags = DNS_F_QR | DNS_F_AA | (uint16_t)(DNS_OP_NOTIFY << 11) | (rcode & 0xf);
	struct dns_hdr rh = {h.id, flags, (uint16_t)(q ? 1 : 0), 0, 0, 0};
	dns_hdr_write(&w, &rh);
	if (q) {
		dns_name_write(&w, qname, NULL);
		wr_be16(&w, qtype);
		wr_be16(&w, qclass);
	}
	return wr_ok(&w) ? w.pos : 0;
}
