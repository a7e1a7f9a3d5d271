/*
 * update.c - dynamic updates (RFC 2136) in the server: who may update
 * which zone, then journal, then install, then answer.
 *
 * Nothing here blocks between reading the current version and installing
 * the next one except the journal write, which is synchronous, so two
 * updates never interleave and every update sees the one before it.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "srv.h"

static const char *rcode_name(int rc)
{
	switch (rc) {
	case DNS_R_NOERROR:
		return "NOERROR";
	case DNS_R_FORMERR:
		return "FORMERR";
	case DNS_R_SERVFAIL:
		return "SERVFAIL";
	case DNS_R_NXDOMAIN:
		return "NXDOMAIN";
	case DNS_R_REFUSED:
		return "REFUSED";
	case DNS_R_YXDOMAIN:
		return "YXDOMAIN";
	case DNS_R_YXRRSET:
		return "YXRRSET";
	case DNS_R_NXRRSET:
		return "NXRRSET";
	case DNS_R_NOTAUTH:
		return "NOTAUTH";
	case DNS_R_NOTZONE:
		return "NOTZONE";
	default:
		return "?";
	}
}

size_t dns_srv_update(struct dns_srv *d, const uint8_t *msg, size_t len, struct dns_tsig *t,
		      uint8_t *out, size_t cap)
{
	const struct dns_zone *z;
	uint8_t zname[DNS_NAME_MAX];
	char zt[1024], kt[1024] = "none";
	int rc = dns_update_zone(&d->zones, msg, len, &z, zname);
	if (rc == ATL_EINVAL)
		return 0;
	dns_name_to_text(zname[0] || rc == DNS_R_NOERROR ? zname : (const uint8_t *)"", zt,
			 sizeof zt);
	if (t)
		dns_name_to_text(t->key->name, kt, sizeof kt);
	if (rc == DNS_R_NOERROR && !dns_srv_update_allowed(d, t ? t->key : NULL, z->origin)) {
		/* Like NSD and Knot: REFUSED, and nothing read further. */
		d->stat[DNS_S_UPDATE_REFUSED]++;
		LOG_WARN(d->loop, "update of %s with key %s: refused (update-allow=)", zt, kt);
		return dns_update_response(msg, len, DNS_R_REFUSED, out, cap);
	}
	if (rc != DNS_R_NOERROR) {
		d->stat[DNS_S_UPDATE_FAILED]++;
		LOG_INFO(d->loop, "update of %s: %s", zt, rcode_name(rc));
		return dns_update_response(msg, len, rc, out, cap);
	}
	struct dns_update u = {.z = z, .r = &d->zr};
	rc = dns_update_apply(&u, msg, len);
	if (rc == DNS_R_NOERROR && u.nz) {
		struct dns_diff df;
		dns_diff_parse(u.diff, u.difflen, &df);
		/* The journal first: an acknowledged update survives a crash. */
		int jrc = dns_srv_journal_append(d, u.diff, u.difflen);
		region_free(&d->zr, u.diff);
		if (jrc != ATL_OK) {
			dns_zone_free(&d->zr, u.nz);
			fmt_snprintf(u.err, sizeof u.err, "journal: %s", atl_strerror(jrc));
			rc = DNS_R_SERVFAIL;
		} else {
			u.nz->journaled = true;
			dns_srv_replace_zone(d, u.nz);
			d->stat[DNS_S_UPDATES]++;
			LOG_INFO(d->loop,
				 "update of %s with key %s: serial %u -> %u, %u RRs deleted, %u "
				 "added",
				 zt, kt, df.old_serial, df.new_serial, df.ndel - 1, df.nadd - 1);
		}
	} else if (rc == DNS_R_NOERROR) {
		LOG_INFO(d->loop, "update of %s with key %s: nothing changed", zt, kt);
	}
	if (rc != DNS_R_NOERROR) {
		d->stat[DNS_S_UPDATE_FAILED]++;
		LOG_INFO(d->loop, "update of %s with key %s: %s%s%s", zt, kt, rcode_name(rc),
			 u.err[0] ? ": " : "", u.err);
	}
	return dns_update_response(msg, len, rc, out, cap);
}
