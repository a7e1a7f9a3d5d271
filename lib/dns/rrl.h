/*
 * rrl.h - DNS response rate limiting (the Vixie/Schryver design that BIND,
 * NSD and Knot ship): an authoritative server must not become a cheap
 * amplifier for queries with forged sources.
 *
 * Responses are counted in token buckets keyed by the client's /24 and
 * the kind of response (an answer for a name and type; NXDOMAIN, NODATA
 * or a referral per zone or cut; an error).  A bucket earns `rate`
 * responses a second; when it is empty the response is dropped, except
 * every `slip`-th one, which goes out truncated (TC, no records) so a real
 * client behind the forged address retries over TCP.  TCP is never
 * limited (the caller simply does not ask).
 *
 * Memory: a fixed table of buckets from the heap at start; when it is
 * full the stalest bucket of a few candidates is reused.  No clock of its
 * own: the caller passes the monotonic time.
 */
#ifndef ATOLL_DNS_RRL_H
#define ATOLL_DNS_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

#define DNS_RRL_ENTRIES 4096 /* buckets; 20 bytes each */

struct dns_rrl_entry {
	uint32_t prefix; /* the client's /24 */
	uint32_t name;	 /* hash of the lowercased name the class is keyed on */
	uint16_t qtype;	 /* answers only */
	uint8_t cls;	 /* enum dns_rrl_class; 0: a free slot */
	uint8_t slips;	 /* limited responses since the last one slipped */
	int32_t balance; /* tokens; negative: debt, capped at one second's rate */
	uint32_t sec;	 /* when the balance was last brought up to date */
};

enum dns_rrl_class {
	DNS_RRL_ANSWER = 1,
	DNS_RRL_NXDOMAIN,
	DNS_RRL_NODATA,
	DNS_RRL_REFERRAL,
	DNS_RRL_ERROR
};

struct dns_rrl {
	struct dns_rrl_entry *tab; /* NULL: limiting is off */
	uint32_t mask;		   /* entries - 1 */
	uint32_t rate;		   /* responses per second per bucket */
	uint32_t slip;		   /* 0: drop all limited; 1: truncate all; N: every Nth */
};

enum dns_rrl_verdict { DNS_RRL_SEND, DNS_RRL_DROP, DNS_RRL_SLIP };

/*
 * Set up limiting at rate responses a second per bucket (0: off, then no
 * memory is taken) with entries buckets (a power of two) from h.
 * ATL_ENOMEM if the heap is short; ATL_EINVAL for a bad entries count.
 */
int dns_rrl_init(struct dns_rrl *r, struct heap *h, unsigned entries, uint32_t rate, uint32_t slip);

/*
 * The verdict for a UDP response resp of *len bytes (as dns_answer made
 * it) to client addr (IPv4, host order) at monotonic time now_ns.  For
 * DNS_RRL_SLIP the response has been rewritten in place to its header and
 * question with TC set and *len updated; for DNS_RRL_DROP send nothing.
 */
enum dns_rrl_verdict dns_rrl_check(struct dns_rrl *r, uint32_t addr, uint8_t *resp, size_t *len,
				   uint64_t now_ns);

#endif
