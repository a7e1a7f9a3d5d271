/*
 * secondary.h - the DNS server as a secondary (zones transferred in from
 * primaries, RFC 1034 4.3.5, RFC 1995, RFC 5936) and NOTIFY both ways
 * (RFC 1996).  See secondary.c; dns.c calls these few entry points.
 */
#ifndef ATOLL_APPS_DNS_SECONDARY_H
#define ATOLL_APPS_DNS_SECONDARY_H

#include "srv.h"

/*
 * Read primary= and notify= and set up (no I/O yet).  ATL_EINVAL (logged)
 * for a malformed argument, ATL_ENOMEM for a heap too small.  d->sec stays
 * NULL when neither argument is given: then nothing below does anything.
 */
int dns_sec_init(struct dns_srv *d, struct heap *h);
/* Zones this server is a secondary for (they are not loaded from files). */
unsigned dns_sec_nzones(const struct dns_srv *d);
bool dns_sec_is_secondary(const struct dns_srv *d, const uint8_t *origin);
/* Open the socket and start the fibers: refresh per zone, NOTIFY out (and
 * a NOTIFY now for every zone served, as at any start of a primary). */
int dns_sec_start(struct dns_srv *d);

/*
 * Look at a message that arrived on port 53 before the answering core
 * does: a NOTIFY is handled here (answered, and a refresh started), and a
 * query for a secondary zone that is not loaded or has expired gets
 * SERVFAIL.  Returns true when handled; *n is then the length of the
 * response in out (0: send nothing).
 */
bool dns_sec_intercept(struct dns_srv *d, const struct ip4_ep *from, const uint8_t *msg, size_t len,
		       uint8_t *out, size_t cap, size_t *n);

/* A zone changed (dns_srv_zone_changed): NOTIFY its secondaries. */
void dns_sec_zone_changed(struct dns_srv *d, const struct dns_zone *z);

/* At exit: one line per secondary zone with the serial it ended on. */
void dns_sec_report(struct dns_srv *d);

#endif
