/*
 * xfr.h - the secondary's side of DNS: NOTIFY (RFC 1996), SOA queries for
 * the refresh check (RFC 1034 4.3.5) and zone transfers in, AXFR
 * (RFC 5936) and IXFR (RFC 1995).
 *
 * Pure functions like the rest of lib/dns: messages in, messages or zones
 * out; no I/O, no clock.  The caller (apps/dns/secondary.c) owns the
 * sockets, the timers and the choice of IDs.
 *
 * Errors: ATL_EINVAL for a message that is malformed or does not answer
 * what was asked (the reason in an err string where there is one),
 * ATL_EMSGSIZE when an output buffer or a transfer limit is exceeded,
 * ATL_ENOMEM when an arena is exhausted.
 */
#ifndef ATOLL_DNS_XFR_H
#define ATOLL_DNS_XFR_H

#include "dns/dns.h"

/* ---- SOA fields and serial arithmetic ---------------------------------------- */

struct dns_soa {
	uint32_t serial, refresh, retry, expire, minimum;
};

/* The five numbers at the end of SOA rdata (uncompressed); ATL_EINVAL if
 * the rdata is not a well-formed SOA. */
int dns_soa_parse(const uint8_t *rd, size_t len, struct dns_soa *soa);
/* The numbers of a built zone's apex SOA. */
void dns_zone_soa_fields(const struct dns_zone *z, struct dns_soa *soa);

/* RFC 1982 3.2: <0 if a precedes b, 0 if equal, >0 if a follows b; the
 * undefined case (exactly half the space apart) counts as "follows", so
 * that a transfer is never refused on it. */
int dns_serial_cmp(uint32_t a, uint32_t b);

/* ---- requests we send ----------------------------------------------------------- */

/*
 * A NOTIFY for zone z (RFC 1996 3.7: opcode NOTIFY, AA, the question
 * <origin> SOA IN, and the current SOA in the answer section as a hint).
 * Returns the message length, or 0 if cap is too small.
 */
size_t dns_notify_build(const struct dns_zone *z, uint16_t id, uint8_t *out, size_t cap);

/* A query for the SOA of origin (RD clear), for the refresh check. */
size_t dns_soa_query_build(const uint8_t *origin, uint16_t id, uint8_t *out, size_t cap);

/*
 * A transfer request: AXFR, or IXFR (RFC 1995 3) with the SOA of have
 * (the version we hold) in the authority section.  have may be NULL for
 * AXFR.  Returns the length or 0.
 */
size_t dns_xfr_query_build(const uint8_t *origin, uint16_t qtype, const struct dns_zone *have,
			   uint16_t id, uint8_t *out, size_t cap);

/* ---- responses to what we sent ---------------------------------------------------- */

/*
 * Check a response to our SOA query (id, origin): QR set, opcode QUERY,
 * the same question, and an SOA owned by origin in the answer section.
 * Returns ATL_OK with *soa filled; the rcode (> 0) the server gave
 * instead of an answer; or ATL_EINVAL (not a response to that query,
 * malformed, or no SOA).  A response without AA is ATL_EINVAL: a server
 * that is not authoritative cannot be a primary (RFC 1996 3.11).
 */
int dns_soa_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin,
			   struct dns_soa *soa);

/* A response to our NOTIFY (id, origin): its rcode (>= 0), or ATL_EINVAL
 * when it is not one. */
int dns_notify_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin);

/*
 * A dynamic update of zone origin (RFC 2136) with one change: the TXT
 * record <owner> TXT "<txt>" added with ttl, or (add false) deleted.  txt
 * is at most 255 bytes; owner must be in the zone.  Returns the length or
 * 0.  The answer's rcode (>= 0), or ATL_EINVAL when msg is not one, from
 * dns_update_response_parse.
 */
size_t dns_update_txt_build(const uint8_t *origin, const uint8_t *owner, const char *txt,
			    uint32_t ttl, bool add, uint16_t id, uint8_t *out, size_t cap);
int dns_update_response_parse(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *origin);

/* ---- NOTIFY received ------------------------------------------------------------------ */

struct dns_notify {
	uint16_t id;
	uint8_t zone[DNS_NAME_MAX];
	bool has_serial; /* the answer section carried the zone's SOA */
	uint32_t serial;
};

/*
 * Parse a NOTIFY request (RFC 1996 3.7): opcode NOTIFY, QR clear, one
 * question of type SOA class IN.  Returns DNS_R_NOERROR with n filled, the
 * rcode to answer with (FORMERR, NOTIMP for another QTYPE), or ATL_EINVAL
 * when no answer is possible (not a NOTIFY request, or no ID).
 */
int dns_notify_parse(const uint8_t *msg, size_t len, struct dns_notify *n);

/*
 * The answer to a NOTIFY request (RFC 1996 4.7): the same ID and question,
 * QR and AA set, opcode NOTIFY, the given rcode, nothing else.  Returns the
 * length, or 0 when msg has no question to echo and rcode is NOERROR.
 */
size_t dns_notify_answer(const uint8_t *msg, size_t len, uint8_t rcode, uint8_t *out, size_t cap);

/* ---- transfers in ---------------------------------------------------------------------- */

/* Limits on what a primary may send (a hostile one must not exhaust us). */
struct dns_xfrin_limits {
	size_t max_rrs;	  /* RRs in the whole transfer */
	size_t max_bytes; /* message bytes in the whole transfer */
};

enum dns_xfrin_state {
	DNS_XFRIN_FIRST,    /* nothing yet: the opening SOA is due */
	DNS_XFRIN_SECOND,   /* one SOA seen (IXFR: which form follows?) */
	DNS_XFRIN_AXFR,	    /* whole zone: records until the closing SOA */
	DNS_XFRIN_IXFR_DEL, /* incremental: deletions of one step */
	DNS_XFRIN_IXFR_ADD, /* incremental: additions of one step */
	DNS_XFRIN_DONE,
};

/*
 * One transfer in progress.  For AXFR (and an IXFR answered in AXFR form,
 * RFC 1995 4) the records go straight into a dns_zload in one block of the
 * zone region (dns_zload_begin: it takes the largest free block, so run
 * one transfer at a time); for an incremental IXFR the differences are
 * kept in scratch and applied to the version we hold when the transfer
 * ends.  Nothing is installed: the caller gets a checked zone from
 * dns_xfrin_finish, or an error with the region and scratch as they
 * were.
 */
struct dns_xfrin {
	const struct dns_zone *have; /* the version we hold (IXFR), or NULL */
	struct region *zr;
	struct arena *scratch;
	size_t scratch_mark;
	struct dns_xfrin_limits lim;
	uint8_t origin[DNS_NAME_MAX];
	uint16_t id, qtype;
	enum dns_xfrin_state state;
	bool loading; /* zl is initialised */
	bool up_to_date;
	bool incremental; /* the answer was differences (not AXFR form) */
	uint32_t new_serial, step_serial;
	size_t msgs, rrs, bytes;
	/* The opening SOA, kept until we know where it goes. */
	uint32_t soa_ttl;
	uint16_t soa_len;
	uint8_t soa_rd[2 * DNS_NAME_MAX + 20];
	/* Incremental differences: records appended in scratch. */
	uint8_t *diffs;
	size_t ndiffs;
	struct dns_zload zl;
	char err[256];
	uint8_t rd[DNS_MSG_MAX]; /* one RR's rdata, uncompressed (off the fiber's stack) */
};

/*
 * Start receiving the answer to a transfer request (origin, qtype AXFR or
 * IXFR, id).  have is the version we hold (required for IXFR: the
 * differences apply to it; it must stay unchanged until the transfer ends).
 * The new zone is built in a block of zr; scratch holds IXFR differences.
 */
void dns_xfrin_init(struct dns_xfrin *x, const uint8_t *origin, uint16_t qtype, uint16_t id,
		    const struct dns_zone *have, struct region *zr, struct arena *scratch,
		    const struct dns_xfrin_limits *lim);

/*
 * Feed one response message.  Returns ATL_EAGAIN when more messages are
 * due, ATL_OK when the transfer is complete (then call dns_xfrin_finish),
 * a positive rcode when the server refused (NOTIMP, REFUSED, NOTAUTH,
 * SERVFAIL...: for IXFR the caller may retry with AXFR), ATL_EINVAL
 * (x->err says why), ATL_EMSGSIZE past a limit, ATL_ENOMEM.  After
 * anything but ATL_EAGAIN the transfer is over; call dns_xfrin_abort on
 * errors.
 */
int dns_xfrin_msg(struct dns_xfrin *x, const uint8_t *msg, size_t len);

/*
 * Build and check the new zone (the zone checks of dns_zload_finish).
 * ATL_OK with *z pointing to it (one block of zr, freed with
 * dns_zone_free; scratch is given back); ATL_ENOENT when the server said
 * we are up to date (nothing to install); or an error with x->err set and
 * zr and scratch as they were.
 */
int dns_xfrin_finish(struct dns_xfrin *x, struct dns_zone **z);

/* Give back what an unfinished transfer holds in zr and scratch. */
void dns_xfrin_abort(struct dns_xfrin *x);

#endif
