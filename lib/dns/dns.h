/*
 * dns.h - the DNS wire format, record data, master files, the zone store
 * and the authoritative answering core.
 *
 * Everything here is a pure function of its inputs: no I/O, no clock, no
 * globals.  Memory comes from the caller: arenas for zone data, caller
 * buffers for names and messages.
 *
 * Names are kept in wire form, uncompressed: a sequence of length-prefixed
 * labels ending with the zero-length root label, at most DNS_NAME_MAX
 * bytes (RFC 1035 3.1).  A "uint8_t name[DNS_NAME_MAX]" buffer always fits
 * one.  Comparisons are case-insensitive for ASCII (RFC 4343); the case of
 * stored names is preserved.
 *
 * Errors: ATL_EINVAL for malformed input, ATL_EMSGSIZE when an output
 * buffer is too small, ATL_ENOMEM when an arena is exhausted.
 */
#ifndef ATOLL_DNS_DNS_H
#define ATOLL_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/mem.h"

#define DNS_NAME_MAX  255 /* RFC 1035 3.1: whole name in wire form */
#define DNS_LABEL_MAX 63
#define DNS_HDR_LEN   12
#define DNS_UDP_MIN   512  /* RFC 1035 4.2.1 */
#define DNS_EDNS_SIZE 1232 /* our advertised EDNS UDP size (DNS flag day 2020) */
#define DNS_MSG_MAX   65535

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_HINFO = 13,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_DS = 43,
	DNS_T_SSHFP = 44,
	DNS_T_RRSIG = 46,
	DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48,
	DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51,
	DNS_T_TLSA = 52,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_TSIG = 250,
	DNS_T_IXFR = 251,
	DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
	DNS_T_CAA = 257,
};

#define DNS_C_IN   1
#define DNS_C_NONE 254 /* RFC 2136 2.4, 2.5.4 */
#define DNS_C_ANY  255

enum dns_rcode {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
	DNS_R_YXDOMAIN = 6,
	DNS_R_YXRRSET = 7, /* RFC 2136 2.2 */
	DNS_R_NXRRSET = 8,
	DNS_R_NOTAUTH = 9,
	DNS_R_NOTZONE = 10,
	DNS_R_BADVERS = 16, /* extended: RFC 6891 6.1.3 */
};

/* TSIG errors (RFC 8945 3): in the TSIG RR, the header says NOTAUTH. */
#define DNS_TSIG_BADSIG	 16
#define DNS_TSIG_BADKEY	 17
#define DNS_TSIG_BADTIME 18

/* Header flag bits (RFC 1035 4.1.1, RFC 4035 3.2). */
#define DNS_F_QR      0x8000
#define DNS_F_AA      0x0400
#define DNS_F_TC      0x0200
#define DNS_F_RD      0x0100
#define DNS_F_RA      0x0080
#define DNS_F_AD      0x0020
#define DNS_F_CD      0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f)  ((f)&0xf)
#define DNS_OP_QUERY  0
#define DNS_OP_NOTIFY 4
#define DNS_OP_UPDATE 5
#define DNS_EDNS_DO   0x8000

/* ---- names (name.c) ------------------------------------------------------ */

/* Length of a valid wire name, root label included. */
size_t dns_name_len(const uint8_t *name);
unsigned dns_name_labels(const uint8_t *name); /* root excluded */
/* Case-insensitive equality of two wire names. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);
/* RFC 4034 6.1 canonical order: <0, 0, >0. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);
/* RFC 4034 6.3 order of two RRs of a class: owner (canonical), type,
 * then rdata as unsigned octets, a shorter rdata first on a tie. */
int dns_rr_cmp(const uint8_t *owner_a, uint16_t type_a, const uint8_t *rd_a, size_t rdlen_a,
	       const uint8_t *owner_b, uint16_t type_b, const uint8_t *rd_b, size_t rdlen_b);
/* The offset of each label of name (leftmost first); returns the count.
 * With it, dns_name_cmp_offsets compares many names against one. */
unsigned dns_name_offsets(const uint8_t *name, uint8_t off[128]);
int dns_name_cmp_offsets(const uint8_t *a, const uint8_t *b, const uint8_t *ob, unsigned nb);
/* True when name is sub at or below parent. */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);
/* Pointer to the suffix of name with its first n labels removed. */
const uint8_t *dns_name_skip(const uint8_t *name, unsigned n);
void dns_name_lower(uint8_t *name);

/*
 * Text to wire (RFC 1035 5.1): labels separated by dots, \X and \DDD
 * escapes, a trailing dot for an absolute name, "@" for origin.  A relative
 * name gets origin appended (ATL_EINVAL if origin is NULL).
 */
int dns_name_from_text(const char *s, size_t n, const uint8_t *origin, uint8_t *out);
/* Wire to presentation text, absolute (trailing dot), escaping as needed.
 * Returns the text length, or ATL_EMSGSIZE if cap is too small. */
int dns_name_to_text(const uint8_t *name, char *buf, size_t cap);

/*
 * Read a possibly compressed name at r's position; r spans the whole
 * message (pointers are offsets into it).  Decompression is strict
 * (RFC 1035 4.1.4, RFC 9267): every pointer must point before the start
 * of the labels that led to it (so no loops and no forward pointers),
 * labels above 63 bytes and the 0x40/0x80 label types are rejected, and
 * the result is at most 255 bytes.  r moves past the name as it appears
 * in place.  ATL_EINVAL (and r's error set) on any violation.
 */
int dns_name_read(struct rd *r, uint8_t *out);

/* Names written so far in a message, for compression on output. */
#define DNS_CMP_MAX 64
struct dns_cmp {
	unsigned n;
	uint16_t off[DNS_CMP_MAX];
	uint8_t len[DNS_CMP_MAX]; /* the length of the name at off, expanded */
};
/* Write name at w's position; with c, reuse a suffix already in the
 * message (w's data from offset 0 is the message). */
void dns_name_write(struct wr *w, const uint8_t *name, struct dns_cmp *c);

/* ---- messages (wire.c) --------------------------------------------------- */

struct dns_hdr {
	uint16_t id, flags, qd, an, ns, ar;
};

void dns_hdr_read(struct rd *r, struct dns_hdr *h);
void dns_hdr_write(struct wr *w, const struct dns_hdr *h);

/* One resource record as read from a message; rdata points into it. */
struct dns_rr {
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdoff; /* offset of rdata in the message */
};
/* Read one RR; r spans the whole message.  ATL_EINVAL if malformed. */
int dns_rr_read(struct rd *r, struct dns_rr *rr);

/* A query as the answering core sees it. */
struct dns_query {
	struct dns_hdr h;
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	size_t qend; /* offset just past the question */
	bool edns;
	uint8_t edns_version;
	uint16_t edns_flags; /* DO bit */
	uint16_t udp_size;   /* the requester's, at least 512 */
};

/*
 * Parse a query message.  Returns DNS_R_NOERROR, or the rcode the reply
 * should carry (FORMERR, NOTIMP, BADVERS), or ATL_EINVAL when no reply
 * is possible (shorter than a header, or QR set: never answer a response).
 */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);

/* The canonical (uncompressed) form of an RR's rdata from a message:
 * names in the rdata of the RFC 3597 well-known types are expanded.
 * Returns the length written to out, or ATL_EINVAL / ATL_EMSGSIZE. */
int dns_rdata_uncompress(const uint8_t *msg, size_t msglen, const struct dns_rr *rr, uint8_t *out,
			 size_t cap);

/* ---- record data (rdata.c) ----------------------------------------------- */

/* A token of presentation text: raw (escapes still in it); quoted tokens
 * exclude their quotes. */
struct dns_tok {
	const char *s;
	uint16_t n;
	bool quoted;
};

/* "A", "TYPE65534" ... -> number; ATL_EINVAL if unknown. */
int dns_type_from_text(const char *s, size_t n);
/* Mnemonic into buf ("TYPE<n>" for unknown types); returns buf. */
const char *dns_type_name(uint16_t type, char *buf, size_t cap);
/* Whether names in this type's rdata may be compressed (RFC 3597 4). */
bool dns_type_compressible(uint16_t type);

/*
 * Presentation rdata to wire (RFC 1035 5.1 and each type's RFC), or the
 * RFC 3597 generic form "\# <len> <hex>" for any type.  origin completes
 * relative names.  Returns the rdata length, or ATL_EINVAL with *why set
 * to a short reason.
 */
int dns_rdata_from_text(uint16_t type, const struct dns_tok *t, unsigned nt, const uint8_t *origin,
			uint8_t *out, size_t cap, const char **why);
/* Wire rdata (uncompressed) to presentation text; unknown types and
 * malformed rdata in RFC 3597 form.  Returns the length or ATL_EMSGSIZE. */
int dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t len, char *buf, size_t cap);
/* Check that wire rdata is well formed for its type (any for unknown). */
bool dns_rdata_valid(uint16_t type, const uint8_t *rd, size_t len);

/* ---- master files (zonefile.c) -------------------------------------------- */

/* One record as the parser hands it over: all names absolute. */
struct dns_zrec {
	const uint8_t *owner;
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

#define DNS_ZPARSE_TOKENS  512
#define DNS_ZPARSE_SCRATCH (DNS_ZPARSE_TOKENS * sizeof(struct dns_tok) + 65536)

struct dns_zparse {
	/* Required: called for each record; a non-zero return stops the
	 * parse and is returned. */
	int (*record)(void *ctx, const struct dns_zrec *rec);
	/* Optional: $INCLUDE file lookup (no filesystem is assumed).  Sets
	 * *data and *len to the file's text; ATL_ENOENT if there is none. */
	int (*include)(void *ctx, const char *file, const char **data, size_t *len);
	void *ctx;	   /* for record */
	void *include_ctx; /* for include */
	/* Optional: where the record callback leaves its reason for a
	 * refusal (it is then quoted in err). */
	const char *record_err;
	uint32_t default_ttl; /* before any $TTL or explicit TTL */
	/* Required: DNS_ZPARSE_SCRATCH bytes of working memory (tokens and
	 * rdata), so the parser's stack frames stay small. */
	uint8_t *scratch;
	/* Filled on error: "<file>:<line>: <reason>". */
	char err[256];
};

/*
 * Parse master-file text (RFC 1035 5, RFC 2308 4 $TTL, RFC 3597 \#).
 * file names the text in errors; origin is the initial $ORIGIN (may be
 * NULL: then relative names before a $ORIGIN are errors).  Returns ATL_OK,
 * ATL_EINVAL (p->err says where and why) or the record callback's value.
 */
int dns_zonefile_parse(struct dns_zparse *p, const char *file, const char *text, size_t len,
		       const uint8_t *origin);

/* ---- the zone store (zone.c) ----------------------------------------------- */

struct dns_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	const uint8_t *rdata; /* count times: be16 length, bytes */
};

#define DNS_NODE_DELEG 0x1 /* NS below the apex: a zone cut */
#define DNS_NODE_DNAME 0x2
#define DNS_NODE_CNAME 0x4
/* Only NSEC3 (and RRSIG) here: RFC 5155 7.2.8 says to answer as if the
 * name did not exist. */
#define DNS_NODE_HIDDEN 0x8

struct dns_node {
	const uint8_t *name; /* wire, case as loaded */
	struct dns_rrset *rrsets;
	uint16_t nrrsets; /* 0: an empty non-terminal */
	uint16_t flags;
};

struct dns_zone {
	const uint8_t *origin;
	unsigned labels; /* of the origin */
	uint32_t serial;
	struct dns_node *nodes; /* canonical order; nodes[0] is the apex */
	size_t nnodes;
	/* Exact lookups: open addressing on a hash of the lowercased name,
	 * node index + 1 per slot (0: empty), a power of two of slots. */
	uint32_t *hash;
	size_t hmask;
	size_t bytes; /* arena bytes the zone uses */
	/* For zones built in a region (dns_zload_begin): the block holding
	 * the zone, this struct included; NULL for arena-built zones. */
	void *mem;
	/* The server's: readers that may still use this version (transfers
	 * in progress), and whether a newer version has replaced it. */
	unsigned refs;
	bool retired;
	bool journaled; /* the server's: differs from its master file */
};

/* Loads records into a zone.  All memory comes from the arena given to
 * dns_zload_init (records while loading, then the built zone). */
struct dns_zload {
	struct arena *a;
	const uint8_t *origin;
	size_t mark;   /* arena use before the load: rolled back on failure */
	uint8_t *recs; /* records appended contiguously */
	size_t nrecs, recbytes, reccap;
	/* dns_zload_begin: the region block the zone is built in. */
	struct region *r;
	struct arena own;
	struct dns_zone *z;
	char err[256];
};

/* Start loading zone origin into arena a; takes its free space. */
int dns_zload_init(struct dns_zload *zl, struct arena *a, const uint8_t *origin);
/* Add one record (a dns_zparse record callback when ctx is zl). */
int dns_zload_add(void *zl, const struct dns_zrec *rec);
/*
 * Check and build: SOA at the apex, NS at the apex, no CNAME beside other
 * data, no data outside the zone (RFC 1034 3.6.2, RFC 2181 10.1, RFC 1035
 * 5.2).  On success *z is filled and the arena keeps just the zone; on
 * failure zl->err says why and the arena is rolled back to before init
 * (ATL_ENOMEM when it ran out of room, ATL_EINVAL when a check failed).
 */
int dns_zload_finish(struct dns_zload *zl, struct dns_zone *z);

/*
 * The same in one block of region r, so that the zone can be freed and
 * replaced while running: dns_zload_begin takes the region's largest
 * free block, dns_zload_add adds records, dns_zload_end checks and builds
 * the zone at the block's start (the struct dns_zone included, z->mem set)
 * and gives the rest back; on failure (zl->err says why) or with
 * dns_zload_abort the whole block is given back.  This is how a zone
 * transferred in or changed by an update is built from a list of records.
 */
int dns_zload_begin(struct dns_zload *zl, struct region *r, const uint8_t *origin);
int dns_zload_end(struct dns_zload *zl, struct dns_zone **z);
void dns_zload_abort(struct dns_zload *zl);
/* Free a region-built zone (its one block). */
void dns_zone_free(struct region *r, struct dns_zone *z);

/* Parse text and build a zone in one step; err gets the reason. */
int dns_zone_load_text(struct arena *a, const uint8_t *origin, const char *file, const char *text,
		       size_t len,
		       int (*include)(void *ctx, const char *file, const char **data, size_t *len),
		       void *ctx, struct dns_zone *z, char *err, size_t errcap);

/* The same into one block of region r (*z points into it). */
int dns_zone_load_text_region(struct region *r, const uint8_t *origin, const char *file,
			      const char *text, size_t len,
			      int (*include)(void *ctx, const char *file, const char **data,
					     size_t *len),
			      void *ctx, struct dns_zone **z, char *err, size_t errcap);

/* The SOA rdata of a zone (uncompressed wire) and its length. */
const uint8_t *dns_zone_soa(const struct dns_zone *z, size_t *len);

/* Exact lookup; NULL if the name has no node (not even an empty
 * non-terminal). */
const struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name);
const struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type);

/* ---- answering (answer.c) ---------------------------------------------------- */

#define DNS_ZONES_MAX 64
struct dns_zones {
	unsigned n;
	struct dns_zone *z[DNS_ZONES_MAX];
};

/* The zone holding name (the one with the longest origin), or NULL. */
const struct dns_zone *dns_zones_find(const struct dns_zones *zs, const uint8_t *name);

enum dns_transport { DNS_UDP, DNS_TCP };

/*
 * Answer one query message authoritatively (RFC 1034 4.3.2, RFC 4592,
 * RFC 6672, RFC 6891).  The response goes to out (cap bytes; at least 512;
 * over UDP it is further limited by the requester's EDNS size, and TC is
 * set when the answer does not fit).  Returns the response length, or 0
 * when the message must not be answered (a response, or too short to
 * carry an ID).
 */
size_t dns_answer(const struct dns_zones *zs, const uint8_t *msg, size_t len, enum dns_transport tr,
		  uint8_t *out, size_t cap);

/* The same, keeping reserve bytes free below the size limit (for a TSIG
 * RR the caller appends). */
size_t dns_answer_reserve(const struct dns_zones *zs, const uint8_t *msg, size_t len,
			  enum dns_transport tr, uint8_t *out, size_t cap, size_t reserve);

/*
 * A response cache (what PowerDNS calls a packet cache) in front of
 * dns_answer: a plain query (opcode QUERY, one uncompressed question,
 * nothing but an OPT in the additional section) whose answer was built
 * whole - nothing truncated, nothing left out - keeps the bytes after
 * its question, keyed by the name (case folded), type and class.  The
 * next such query is answered by copying them behind its own header and
 * question; what the request changes in a response (the ID, RD and CD,
 * the OPT and its DO bit, the size limit) is applied after the copy, so
 * a response from the cache is byte for byte the one dns_answer makes.
 * A response whose bytes carry the requester's case beyond the question
 * (a name synthesized from a DNAME, RFC 6672) is served only to the same
 * case.  A response that would not fit the requester's size takes the
 * full path (which truncates it).
 *
 * Memory: fixed slots of DNS_CACHE_SLOT bytes from the heap at start,
 * two ways per set, the least recently used of the two replaced.  Not
 * for signed requests: the caller checks for a TSIG itself (the parser
 * here takes any other additional record as a reason to pass).
 *
 * The cache knows nothing of zone versions: every change of the zone set
 * (update, transfer in, journal replay, reload) must dns_cache_flush.
 */
#define DNS_CACHE_SLOT 512

struct dns_cache {
	uint8_t *slots;	  /* NULL: the cache is off */
	uint32_t mask;	  /* sets - 1 (two slots a set) */
	uint32_t gen;	  /* entries of another generation are stale */
	uint64_t stat[3]; /* enum dns_cache_stat */
};
enum dns_cache_stat { DNS_CACHE_HITS, DNS_CACHE_MISSES, DNS_CACHE_STORED };

/* bytes of h (rounded down to a power of two of sets; 0: off).
 * ATL_ENOMEM when the heap is short, ATL_EINVAL below one set. */
int dns_cache_init(struct dns_cache *c, struct heap *h, size_t bytes);
/* Forget every entry (in O(1): a new generation). */
void dns_cache_flush(struct dns_cache *c);
/*
 * dns_answer through cache c, for a plain query.  False, with nothing
 * done, when the cache is off or msg is not a plain query (a TSIG, an
 * UPDATE, a malformed message...): the caller answers it its own way.
 * Otherwise *n is the response length (0: none), as from dns_answer.
 */
bool dns_answer_cached(struct dns_cache *c, const struct dns_zones *zs, const uint8_t *msg,
		       size_t len, enum dns_transport tr, uint8_t *out, size_t cap, size_t *n);

/* ---- zone transfers out (axfr.c) ------------------------------------------------ */

struct dns_axfr {
	const struct dns_zone *z;
	uint16_t id, qclass;
	uint16_t qtype; /* AXFR, or IXFR (answered in full or as the SOA) */
	uint32_t client_serial;
	bool edns, started, done, up_to_date;
	bool have_client_serial; /* an IXFR that carried the client's SOA */
	uint8_t qname[DNS_NAME_MAX];
	size_t node; /* position: node, RRset, RR and its rdata offset */
	unsigned rrset, rr;
	size_t off;
	/* An incremental IXFR (dns_ixfr_begin): the difference being sent. */
	bool incremental, need_diff;
	const uint8_t *diff;
	size_t difflen, dpos;
};

/*
 * Start an AXFR (RFC 5936) or IXFR (RFC 1995: the whole zone in AXFR
 * form, or the SOA alone when the client's serial is not older than
 * ours) for a query message: DNS_R_NOERROR and x set up; DNS_R_NOTAUTH when the name is not the apex of a zone we serve;
 * ATL_EINVAL when msg is not a well-formed AXFR query.  Access control is
 * the caller's.  The zone must stay unchanged until the transfer ends.
 */
int dns_axfr_start(const struct dns_zones *zs, const uint8_t *msg, size_t len, struct dns_axfr *x);
/* The next message of the transfer into out (as many RRs as fit in cap),
 * or 0 when the transfer is complete (or an RR cannot fit at all). */
size_t dns_axfr_next(struct dns_axfr *x, uint8_t *out, size_t cap);

/*
 * An IXFR as differences (RFC 1995 4) instead of the whole zone, for a
 * caller that holds every difference from x->client_serial to x->z's
 * serial: after dns_axfr_start (not up_to_date), dns_ixfr_begin; then,
 * whenever x->need_diff is set, dns_ixfr_feed with the next difference
 * (a dns_diff blob that must stay until the next feed) or with NULL after
 * the last; and dns_axfr_next as for an AXFR.
 */
void dns_ixfr_begin(struct dns_axfr *x);
void dns_ixfr_feed(struct dns_axfr *x, const uint8_t *diff, size_t len);

/* ---- dynamic update and zone differences (update.c) --------------------------- */

/*
 * A difference between two versions of a zone, as journaled and sent in
 * an incremental transfer: one blob,
 *
 *   origin (wire)  old-serial:32  new-serial:32  ndel:32  nadd:32
 *   ndel RRs, the old SOA first; nadd RRs, the new SOA first
 *
 * each RR as owner (wire, uncompressed) type:16 TTL:32 rdlength:16 rdata
 * (uncompressed, class IN implied); integers big-endian.  That is the
 * order of one step of an RFC 1995 IXFR response.
 */
struct dns_diff {
	uint8_t origin[DNS_NAME_MAX];
	uint32_t old_serial, new_serial;
	uint32_t ndel, nadd;
	size_t rrs; /* offset of the first RR */
};

struct dns_diff_rr {
	const uint8_t *owner;
	uint16_t type, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
};

/* Check a whole blob (every RR well formed, SOAs in place and matching
 * the serials); ATL_EINVAL if it is not. */
int dns_diff_parse(const uint8_t *diff, size_t len, struct dns_diff *d);
/* The RR at *pos, moving *pos past it. */
int dns_diff_rr_next(const uint8_t *diff, size_t len, size_t *pos, struct dns_diff_rr *rr);
/*
 * Apply a difference to version z, giving the next version *nz in region
 * rg (a snapshot gives its own zone, whatever z's serial).  ATL_ENOENT
 * when it does not start at z's serial (or is another zone's); ATL_EINVAL
 * when it does not fit z or the result fails the zone checks;
 * ATL_ENOMEM.  err says why.
 */
int dns_diff_apply(const struct dns_zone *z, const uint8_t *diff, size_t len, struct region *rg,
		   struct dns_zone **nz, char *err, size_t errcap);

/* The whole zone as a snapshot (a block of r in *blob); ATL_ENOMEM. */
int dns_zone_snapshot(const struct dns_zone *z, struct region *r, uint8_t **blob, size_t *len);

/*
 * The zone an UPDATE message names (RFC 2136 3.1.1): DNS_R_NOERROR and
 * *z; DNS_R_FORMERR (not one zone of type SOA); DNS_R_NOTAUTH (not a zone
 * we serve; zname says which); ATL_EINVAL (no header).
 */
int dns_update_zone(const struct dns_zones *zs, const uint8_t *msg, size_t len,
		    const struct dns_zone **z, uint8_t *zname);

struct dns_update {
	const struct dns_zone *z; /* in: the current version */
	struct region *r;	  /* in: where the new version is built */
	struct dns_zone *nz;	  /* out: the new version, NULL if nothing changed */
	uint8_t *diff;		  /* out: the difference (a block of r) */
	size_t difflen;
	char err[160]; /* out: why, for a refusal the log should explain */
};

/*
 * Check the prerequisites (RFC 2136 3.2) and apply the update section
 * (3.4) of msg to u->z, an update whose zone dns_update_zone found and
 * whose sender the caller has authorised.  Returns the rcode: NOERROR
 * (u->nz and u->diff set when something changed; the serial is raised by
 * one unless the update set a newer SOA, 3.6), FORMERR, NOTZONE, NXDOMAIN,
 * YXDOMAIN, NXRRSET, YXRRSET, REFUSED (the result fails the zone checks)
 * or SERVFAIL (no memory).  On any error nothing is left allocated.
 */
int dns_update_apply(struct dns_update *u, const uint8_t *msg, size_t len);
/* The response: header and zone section (RFC 2136 3.8), unsigned. */
size_t dns_update_response(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap);

/* ---- the journal's records (journal.c) ------------------------------------------ */

/*
 * The journal is a block device cut into two equal areas, one of them
 * active, each written front to back.  An area's first block holds its
 * header; records follow, each starting on a block boundary:
 *
 *   header:  "atoll-journal-2\0" (16)  generation:64  epoch:64
 *            SHA-256 of the 32 bytes before (32)
 *   record:  "ATJR" (4)  generation:64  sequence:32  length:32
 *            difference (length bytes, dns_diff)  SHA-256 of all before it (32)
 *            zeros to the next block boundary
 *
 * The active area is the one whose header is valid with the higher epoch.
 * The generation is random per area and epoch, so blocks left over from
 * earlier use never look like records; sequence numbers count from 0
 * without gaps.  A record whose checksum fails (torn by a crash
 * mid-write) ends the area: the next record overwrites it.  When the
 * active area is full, the server writes a snapshot of every changed zone
 * (a difference with no deletions) into the other area and only then its
 * header with the next epoch: a crash before that leaves the old area
 * active and whole.
 */
#define DNS_JOURNAL_HDR	  64
#define DNS_JOURNAL_RHEAD 20 /* magic, generation, sequence, length */
#define DNS_JOURNAL_RTAIL 32

/* Bytes a record of a difference of len bytes takes, before padding. */
static inline size_t dns_journal_record_len(size_t len)
{
	return DNS_JOURNAL_RHEAD + len + DNS_JOURNAL_RTAIL;
}
void dns_journal_header_encode(uint8_t out[DNS_JOURNAL_HDR], uint64_t gen, uint64_t epoch);
/* ATL_OK, *gen and *epoch, or ATL_ENOENT when buf holds no valid header. */
int dns_journal_header_decode(const uint8_t *buf, size_t len, uint64_t *gen, uint64_t *epoch);
/* Write a record into out (cap at least dns_journal_record_len(len)). */
void dns_journal_record_encode(uint8_t *out, uint64_t gen, uint32_t seq, const uint8_t *diff,
			       size_t len);
/* The record's difference length from its first DNS_JOURNAL_RHEAD bytes;
 * ATL_ENOENT when they are not the head of record seq of journal gen. */
int dns_journal_record_peek(const uint8_t *head, uint64_t gen, uint32_t seq, size_t *len);
/* Check a whole record (dns_journal_record_len bytes): ATL_OK, or
 * ATL_EINVAL when the checksum fails (a torn write). */
int dns_journal_record_check(const uint8_t *rec, size_t reclen);

/* ---- TSIG (tsig.c) ------------------------------------------------------------ */

/* HMAC algorithms (RFC 8945 6), all from BearSSL. */
enum dns_tsig_alg {
	DNS_TSIG_HMAC_SHA1 = 1,
	DNS_TSIG_HMAC_SHA224,
	DNS_TSIG_HMAC_SHA256,
	DNS_TSIG_HMAC_SHA384,
	DNS_TSIG_HMAC_SHA512,
};

#define DNS_TSIG_SECRET_MAX 128
#define DNS_TSIG_MAC_MAX    64
#define DNS_TSIG_KEYS_MAX   32
#define DNS_TSIG_FUDGE	    300 /* seconds; RFC 8945 10 recommends 300 */
/* Room a response keeps free for its TSIG RR (names of up to 255 bytes
 * echoed from a request with an unknown key). */
#define DNS_TSIG_RESERVE 640

struct dns_tsig_key {
	uint8_t name[DNS_NAME_MAX]; /* wire, lowercase */
	uint8_t alg;		    /* enum dns_tsig_alg */
	uint8_t secret_len;
	uint8_t secret[DNS_TSIG_SECRET_MAX];
};

struct dns_tsig_keys {
	unsigned n;
	struct dns_tsig_key k[DNS_TSIG_KEYS_MAX];
};

/*
 * Keys in the syntax of BIND's key files, which nsupdate -k reads and
 * tsig-keygen writes:
 *
 *   key "name" { algorithm hmac-sha256; secret "base64"; };
 *
 * any number of them; comments with #, // or slash-star.  Appends to ks;
 * ATL_EINVAL with err saying where and why.
 */
int dns_tsig_keys_parse(struct dns_tsig_keys *ks, const char *text, size_t len, char *err,
			size_t errcap);
const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_keys *ks, const uint8_t *name);

/* One request's TSIG and, for its responses, the signing state. */
struct dns_tsig {
	const struct dns_tsig_key *key; /* the key that verified, or NULL */
	uint16_t error;			/* 0 or DNS_TSIG_BAD* for the response */
	uint16_t orig_id;
	uint16_t fudge;
	uint64_t time;				       /* the request's time signed */
	uint8_t name[DNS_NAME_MAX], alg[DNS_NAME_MAX]; /* as the request had them */
	uint8_t mac[DNS_TSIG_MAC_MAX];		       /* the request's MAC, then the last sent */
	size_t maclen;
	size_t off;	    /* where the request's TSIG RR starts */
	unsigned nsigned;   /* responses signed so far */
	unsigned nverified; /* a client's: responses verified so far */
};

/*
 * Find and check the TSIG of a request (RFC 8945 5.2) at time now
 * (seconds since 1970).  ATL_ENOENT: the message has none.
 * DNS_R_NOERROR: valid, t->key set.  DNS_R_FORMERR: malformed, or not
 * the last record.  DNS_R_NOTAUTH: t->error says BADKEY, BADSIG or
 * BADTIME (the MAC is checked before the time, so BADTIME means the key
 * was right).  Until it returns NOERROR the message must not be acted on.
 */
int dns_tsig_verify(const struct dns_tsig_keys *ks, const uint8_t *msg, size_t len, uint64_t now,
		    struct dns_tsig *t);

/*
 * Append a TSIG RR to the response msg[0..len) and count it in ARCOUNT.
 * RFC 8945 5.3: the first response is signed over the request's MAC and
 * all TSIG variables; each later message of the same transfer over the
 * previous MAC and the timers only (5.3.1: we sign every message).  With
 * t->error BADKEY or BADSIG the RR carries no MAC (5.3.2).  Returns the new
 * length, or 0 if the RR does not fit in cap.  With a zeroed t and only
 * t->key set it signs a request (no previous MAC), as a client does; then
 * t->mac holds the request's MAC for checking the response.
 */
size_t dns_tsig_sign(struct dns_tsig *t, uint8_t *msg, size_t len, size_t cap, uint64_t now);
/*
 * A client's check of a response to the request it signed with t
 * (dns_tsig_sign on a zeroed t with t->key set), and of each later message
 * of a transfer, in order (RFC 8945 5.3, 5.3.1; every message must be
 * signed).  DNS_R_NOERROR, and t moves on to this message's MAC;
 * ATL_ENOENT: unsigned; DNS_R_FORMERR; DNS_R_NOTAUTH with t->error the
 * server's TSIG error, or BADKEY (another key), BADSIG, BADTIME.  A
 * response must not be used unless this returns NOERROR.
 */
int dns_tsig_verify_response(struct dns_tsig *t, const uint8_t *msg, size_t len, uint64_t now);
/* The bytes dns_tsig_sign will add for t. */
size_t dns_tsig_size(const struct dns_tsig *t);

/*
 * The error response to a request whose TSIG failed (or that is otherwise
 * refused before being read): the request's header and question with QR
 * and rcode set, and, when t is given, the TSIG RR (dns_tsig_sign).
 * Returns its length, or 0 when the request has no usable header.
 */
size_t dns_tsig_error_response(struct dns_tsig *t, const uint8_t *msg, size_t len, uint16_t rcode,
			       uint8_t *out, size_t cap, uint64_t now);

#endif
