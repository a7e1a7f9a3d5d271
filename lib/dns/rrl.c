/*
 * rrl.c - response rate limiting: token buckets per (client /24, kind of
 * response) in a fixed table.  See rrl.h for the design.
 */
#include "dns/rrl.h"

#include "core/err.h"
#include "dns/dns.h"

#define RRL_PROBES 4 /* slots tried for a key before the stalest is reused */

int dns_rrl_init(struct dns_rrl *r, struct heap *h, unsigned entries, uint32_t rate, uint32_t slip)
{
	memset(r, 0, sizeof *r);
	if (!rate)
		return ATL_OK;
	if (entries < RRL_PROBES || (entries & (entries - 1)))
		return ATL_EINVAL;
	r->tab = heap_alloc(h, entries * sizeof *r->tab, 16);
	if (!r->tab)
		return ATL_ENOMEM;
	r->mask = entries - 1;
	/* The balance is an int32_t that may go one second's rate below 0. */
	r->rate = rate > 0x3fffffff ? 0x3fffffff : rate;
	r->slip = slip;
	return ATL_OK;
}

/* FNV-1a over the lowercased wire name: names differing in case share a
 * bucket (RFC 4343), as they share an answer. */
static uint32_t name_hash(const uint8_t *name)
{
	uint32_t h = 2166136261u;
	size_t n = dns_name_len(name);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/*
 * The bucket key of a response: answers by query name and type (many
 * names answered are many buckets, as with a real client); NXDOMAIN and
 * NODATA by the zone (the SOA owner in authority), so random names under
 * one zone share one bucket; referrals by the cut (the NS owner); errors
 * by the client alone.  The response is ours, so it is well formed; a
 * part that does not parse falls back to the query name.
 */
static void classify(const uint8_t *resp, size_t len, uint8_t *cls, uint32_t *name, uint16_t *qtype)
{
	struct rd r = rd_make(resp, len);
	struct dns_hdr h;
	uint8_t qname[DNS_NAME_MAX];
	dns_hdr_read(&r, &h);
	unsigned rcode = DNS_RCODE(h.flags);
	*qtype = 0;
	*name = 0;
	if ((rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) || h.qd != 1 ||
	    dns_name_read(&r, qname) != ATL_OK) {
		*cls = DNS_RRL_ERROR;
		return;
	}
	uint16_t qt = rd_be16(&r);
	rd_skip(&r, 2);
	*name = name_hash(qname);
	if (rcode == DNS_R_NOERROR && (h.an || (h.flags & DNS_F_TC))) {
		*cls = DNS_RRL_ANSWER;
		*qtype = qt;
		return;
	}
	if (rcode == DNS_R_NXDOMAIN)
		*cls = DNS_RRL_NXDOMAIN;
	else
		*cls = (h.flags & DNS_F_AA) ? DNS_RRL_NODATA : DNS_RRL_REFERRAL;
	struct dns_rr rr;
	for (unsigned i = 0; i < h.an; i++)
		if (dns_rr_read(&r, &rr) != ATL_OK)
			return;
	if (h.ns && dns_rr_read(&r, &rr) == ATL_OK)
		*name = name_hash(rr.owner);
}

static struct dns_rrl_entry *bucket(struct dns_rrl *r, uint32_t prefix, uint8_t cls, uint32_t name,
				    uint16_t qtype, uint32_t sec)
{
	uint32_t h = (name ^ prefix * 2654435761u ^ ((uint32_t)qtype << 8 | cls)) * 2246822519u;
	h ^= h >> 15;
	struct dns_rrl_entry *victim = NULL;
	for (unsigned i = 0; i < RRL_PROBES; i++) {
		struct dns_rrl_entry *e = &r->tab[(h + i) & r->mask];
		if (e->cls == cls && e->prefix == prefix && e->name == name && e->qtype == qtype)
			return e;
		if (!victim || !e->cls || (victim->cls && (int32_t)(e->sec - victim->sec) < 0))
			victim = e;
	}
	/* A new bucket starts full. */
	*victim = (struct dns_rrl_entry){prefix, name, qtype, cls, 0, (int32_t)r->rate, sec};
	return victim;
}

/* The header and question alone, TC set: "ask again over TCP". */
static size_t slip(uint8_t *resp, size_t len)
{
	struct rd r = rd_make(resp, len);
	struct dns_hdr h;
	uint8_t qname[DNS_NAME_MAX];
	dns_hdr_read(&r, &h);
	size_t end = DNS_HDR_LEN;
	if (h.qd == 1 && dns_name_read(&r, qname) == ATL_OK) {
		rd_skip(&r, 4);
		if (rd_ok(&r))
			end = len - rd_left(&r);
	}
	store_be16(resp + 2, (uint16_t)(h.flags | DNS_F_TC));
	store_be16(resp + 4, end > DNS_HDR_LEN ? 1 : 0);
	memset(resp + 6, 0, 6);
	return end;
}

enum dns_rrl_verdict dns_rrl_check(struct dns_rrl *r, uint32_t addr, uint8_t *resp, size_t *len,
				   uint64_t now_ns)
{
	if (!r->tab || *len < DNS_HDR_LEN)
		return DNS_RRL_SEND;
	uint8_t cls;
	uint32_t name;
	uint16_t qtype;
	classify(resp, *len, &cls, &name, &qtype);
	uint32_t sec = (uint32_t)(now_ns / 1000000000u);
	struct dns_rrl_entry *e = bucket(r, addr & 0xffffff00u, cls, name, qtype, sec);
	/* Earn rate tokens per whole second since the last update, up to a
	 * full bucket. */
	uint32_t elapsed = sec - e->sec;
	if (elapsed) {
		int64_t b = (int64_t)e->balance + (int64_t)elapsed * r->rate;
		e->balance = b > (int64_t)r->rate ? (int32_t)r->rate : (int32_t)b;
		e->sec = sec;
	}
	if (--e->balance >= 0)
		return DNS_RRL_SEND;
	/* A steady flood stays limited: the debt reaches one second's worth. */
	if (e->balance < -(int32_t)r->rate)
		e->balance = -(int32_t)r->rate;
	if (r->slip && ++e->slips >= r->slip) {
		e->slips = 0;
		*len = slip(resp, *len);
		return DNS_RRL_SLIP;
	}
	return DNS_RRL_DROP;
}
