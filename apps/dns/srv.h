/*
 * srv.h - what the files of the DNS server app share: the server state,
 * the zone set and how a zone is replaced while running.
 *
 * The app is cooperative fibers over one loop: code between two blocking
 * calls runs alone, so the zone set needs no locks.  A zone version lives
 * in one block of d->zr (lib/core/mem.h region).  Answering a UDP or TCP
 * query reads the current version without blocking; a zone transfer out
 * blocks on TCP while it reads a version, so it holds a reference
 * (dns_srv_zone_hold/release) and a replaced version is freed only when
 * the last reader lets go.
 */
#ifndef ATOLL_APPS_DNS_SRV_H
#define ATOLL_APPS_DNS_SRV_H

#include "core/loop.h"
#include "dns/dns.h"
#include "dns/rrl.h"
#include "net/stack.h"
#include "net/tcp.h"

#define DNS_PORT	   53
#define DNS_BUF		   65535
#define DNS_TCP_SLOTS	   16	 /* connections served at once */
#define DNS_TCP_QUERY_MAX  16384 /* a longer message (an update) closes the connection */
#define DNS_TCP_ANSWER_MAX 16384 /* a longer answer is sent truncated (TC) */
#define DNS_TCP_IDLE_NS	   (10ull * 1000000000) /* RFC 7766 6.2.3 */
#define DNS_CACHE_DEFAULT  (256 * 1024)		/* dns-cache=: 512 responses */

struct dns_srv;

/* One TCP connection's state and buffers (from the heap, reused). */
struct dns_tcp_slot {
	struct dns_srv *d;
	struct tcp_conn *c;
	struct ip4_ep peer;
	struct dns_axfr x;
	uint8_t in[DNS_TCP_QUERY_MAX];
	uint8_t out[2 + DNS_TCP_ANSWER_MAX];
};

enum dns_stat {
	DNS_S_QUERIES,
	DNS_S_ANSWERED,
	DNS_S_DROPPED,
	DNS_S_SEND_FAILED,
	DNS_S_TCP_CONNS,
	DNS_S_TCP_QUERIES,
	DNS_S_TCP_REFUSED, /* no free slot */
	DNS_S_AXFR_OUT,
	DNS_S_TSIG_BAD,	      /* requests whose TSIG failed (BADKEY, BADSIG, BADTIME) */
	DNS_S_UPDATES,	      /* updates applied */
	DNS_S_UPDATE_REFUSED, /* updates refused: no key, key not allowed */
	DNS_S_UPDATE_FAILED,  /* prerequisites or checks failed, or no room */
	DNS_S_RRL_DROPPED,    /* UDP responses dropped by rate limiting */
	DNS_S_RRL_SLIPPED,    /* sent truncated instead (rrl-slip=) */
	DNS_S_COUNT
};

/* One journal record that the current versions descend through. */
struct dns_jentry {
	uint64_t off;	   /* of the record on the device */
	uint32_t len;	   /* of its difference */
	uint32_t zhash;	   /* of the zone's origin */
	uint32_t old, new; /* serials */
};

#define DNS_JOURNAL_INDEX 1024 /* records remembered for IXFR */

struct dns_journal {
	bool on;
	plat_handle_t h;
	uint32_t bs;
	uint64_t cap;	     /* device bytes */
	uint64_t asize;	     /* bytes of each of the two areas */
	uint64_t base, end;  /* the active area; where its next record goes */
	uint64_t gen, epoch; /* the active area's */
	uint32_t seq;
	struct dns_jentry *idx;
	unsigned nidx;
};

struct dns_srv {
	struct loop *loop;
	struct stack *st;
	struct udp_sock *sock;
	struct tcp_listener *ls;
	struct dns_zones zones;
	/* Zone data: every zone version is one block of it. */
	struct region zr;
	bool running;	     /* past start-up: changes are announced */
	struct dns_sec *sec; /* secondary.c: NULL without primary= or notify= */
	uint8_t *in, *out;
	struct dns_tcp_slot *slots;
	/* axfr-allow=: who may transfer zones (none by default): addresses,
	 * and TSIG keys (key:<name>) */
	bool axfr_any;
	unsigned naxfr, naxfr_keys;
	uint32_t axfr_allow[16];
	uint8_t axfr_keys[8][DNS_NAME_MAX];
	/* update-allow=: which key may update which zone */
	unsigned nupd;
	struct {
		uint8_t key[DNS_NAME_MAX];
		uint8_t zone[DNS_NAME_MAX]; /* the root: every zone */
	} upd[16];
	struct dns_journal j;
	/* TSIG keys, from the zones archive's "keys" member */
	struct dns_tsig_keys keys;
	struct dns_rrl rrl; /* rrl=, rrl-slip=: UDP response rate limiting */
	/* dns-cache=: responses to plain queries; flushed on every zone
	 * change (dns_srv_replace_zone) */
	struct dns_cache cache;
	uint64_t stat[DNS_S_COUNT];
	struct counter_group group;
	struct counter_group cache_group; /* dns.cache.hits, .misses, .stored */
};

/*
 * Install z (built with dns_zload_begin/end in d->zr) as the current
 * version of its zone, or as a new zone.  The version it replaces is
 * freed now, or when its last reader releases it.  Then, once the server
 * runs, dns_srv_zone_changed is called.  ATL_ENOMEM (z is freed) when
 * there are already DNS_ZONES_MAX zones.
 */
int dns_srv_replace_zone(struct dns_srv *d, struct dns_zone *z);

/* Whether TSIG key k (NULL: unsigned) may update zone (update-allow=). */
bool dns_srv_update_allowed(const struct dns_srv *d, const struct dns_tsig_key *k,
			    const uint8_t *zone);

/* Answer an UPDATE request (update.c); t is its verified TSIG or NULL.
 * Returns the response length (unsigned: the caller signs it). */
size_t dns_srv_update(struct dns_srv *d, const uint8_t *msg, size_t len, struct dns_tsig *t,
		      uint8_t *out, size_t cap);

/*
 * The journal (journal.c) on the block device "journal": open it, or
 * start a new one, and replay it over the zones loaded (journal-less
 * when there is no such device).  ATL_EIO when it cannot be read.
 */
int dns_srv_journal_open(struct dns_srv *d, struct heap *h);
/* Write a difference and flush it to the device: only then may the
 * update be acknowledged.  ATL_ENOMEM when the journal is full, ATL_EIO.
 * ATL_OK without doing anything when there is no journal. */
int dns_srv_journal_append(struct dns_srv *d, const uint8_t *diff, size_t len);
/* For an IXFR: whether the journal holds every difference of z from
 * serial from to z's; then the next one after *serial (read into a
 * block of d->zr that the caller frees; NULL on a read error). */
bool dns_srv_journal_chain(struct dns_srv *d, const struct dns_zone *z, uint32_t from);
void *dns_srv_journal_next(struct dns_srv *d, const struct dns_zone *z, uint32_t *serial,
			   const uint8_t **diff, size_t *len);

/* Wall-clock seconds, for TSIG. */
uint64_t dns_srv_now(void);

/* A reader that blocks while using z (a transfer out) holds it. */
void dns_srv_zone_hold(struct dns_zone *z);
void dns_srv_zone_release(struct dns_srv *d, struct dns_zone *z);

/* The current version of the zone with this origin, or NULL. */
struct dns_zone *dns_srv_zone(struct dns_srv *d, const uint8_t *origin);

/*
 * Called after every change of a zone while running (an update, a
 * transfer in, a reload): where NOTIFY (RFC 1996) to the zone's
 * secondaries is sent from.
 */
void dns_srv_zone_changed(struct dns_srv *d, const struct dns_zone *z);

/*
 * The server's main: dns_app.main is dns_serve(s, NULL, NULL).  started,
 * if not NULL, is called once the server runs (in its loop, before the
 * first turn): the simulation uses it to change zones from a fiber.
 */
int dns_serve(const struct plat_start *s, void (*started)(struct dns_srv *d, void *arg), void *arg);

#endif
