/*
 * journal.c - the update journal on the block device "journal": written
 * before an update is acknowledged, replayed at start-up, read back for
 * incremental zone transfers.  The record layout is lib/dns's (dns.h);
 * this file does the I/O and keeps an index of the records in memory.
 */
#include "core/err.h"
#include "core/fmt.h"
#include "srv.h"

static uint32_t origin_hash(const uint8_t *name)
{
	uint8_t low[DNS_NAME_MAX];
	memcpy(low, name, dns_name_len(name));
	dns_name_lower(low);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < dns_name_len(low); i++)
		h = (h ^ low[i]) * 16777619u;
	return h;
}

static uint64_t round_block(const struct dns_journal *j, uint64_t n)
{
	return (n + j->bs - 1) / j->bs * j->bs;
}

static void index_add(struct dns_journal *j, uint64_t off, const uint8_t *diff, size_t len)
{
	struct dns_diff df;
	if (j->nidx >= DNS_JOURNAL_INDEX || dns_diff_parse(diff, len, &df) != ATL_OK)
		return; /* older differences then go out as whole zones */
	j->idx[j->nidx++] = (struct dns_jentry){off, (uint32_t)len, origin_hash(df.origin),
						df.old_serial, df.new_serial};
}

/* Read the record at off (whose difference is len bytes) into a region
 * block; NULL if it cannot be read or fails its checksum. */
static uint8_t *record_read(struct dns_srv *d, uint64_t off, size_t len, int *why)
{
	struct dns_journal *j = &d->j;
	size_t total = (size_t)round_block(j, dns_journal_record_len(len));
	*why = ATL_EINVAL;
	if (off + total > j->cap)
		return NULL;
	uint8_t *b = region_alloc(&d->zr, total);
	if (!b) {
		*why = ATL_ENOMEM;
		return NULL;
	}
	if (plat_block_read(j->h, off, b, total) != PLAT_OK) {
		*why = ATL_EIO;
		region_free(&d->zr, b);
		return NULL;
	}
	if (dns_journal_record_check(b, dns_journal_record_len(len)) != ATL_OK) {
		region_free(&d->zr, b);
		return NULL;
	}
	return b;
}

static void replay_one(struct dns_srv *d, uint64_t off, const uint8_t *diff, size_t len)
{
	struct dns_diff df;
	char zt[1024], err[160];
	if (dns_diff_parse(diff, len, &df) != ATL_OK) {
		LOG_ERROR(d->loop, "journal: record %u is malformed; skipped", d->j.seq);
		return;
	}
	dns_name_to_text(df.origin, zt, sizeof zt);
	struct dns_zone *z = dns_srv_zone(d, df.origin), *nz;
	if (!z) {
		LOG_WARN(d->loop, "journal: record %u for %s, a zone not served; skipped", d->j.seq,
			 zt);
		return;
	}
	int rc = dns_diff_apply(z, diff, len, &d->zr, &nz, err, sizeof err);
	if (rc == ATL_ENOENT) {
		/* Not on this zone's line of serials (the zone file moved on):
		 * not applied, and not offered for IXFR either. */
		LOG_INFO(d->loop, "journal: %s %u -> %u: %s; skipped", zt, df.old_serial,
			 df.new_serial, err);
		return;
	}
	if (rc != ATL_OK) {
		LOG_ERROR(d->loop, "journal: %s %u -> %u cannot be applied: %s", zt, df.old_serial,
			  df.new_serial, err);
		return;
	}
	dns_srv_replace_zone(d, nz);
	index_add(&d->j, off, diff, len);
	LOG_INFO(d->loop, "journal: %s serial %u -> %u replayed", zt, df.old_serial, df.new_serial);
}

static int start_new(struct dns_srv *d)
{
	struct dns_journal *j = &d->j;
	uint8_t *b = region_alloc(&d->zr, j->bs);
	if (!b)
		return ATL_ENOMEM;
	memset(b, 0, j->bs);
	plat_entropy(&j->gen, sizeof j->gen);
	dns_journal_header_encode(b, j->gen);
	int rc = plat_block_write(j->h, 0, b, j->bs) == PLAT_OK && plat_block_flush(j->h) == PLAT_OK
		     ? ATL_OK
		     : ATL_EIO;
	region_free(&d->zr, b);
	j->seq = 0;
	j->end = j->bs;
	return rc;
}

int dns_srv_journal_open(struct dns_srv *d, struct heap *h)
{
	struct dns_journal *j = &d->j;
	struct plat_block_info info;
	memset(j, 0, sizeof *j);
	if (plat_block_acquire("journal", &j->h, &info) != PLAT_OK) {
		LOG_WARN(d->loop, "no journal device: updates are kept in memory only (lost on "
				  "restart) and IXFR sends whole zones");
		return ATL_OK;
	}
	j->bs = info.block_size;
	j->cap = info.capacity;
	j->idx = heap_alloc(h, DNS_JOURNAL_INDEX * sizeof *j->idx, 16);
	if (!j->idx || j->bs < DNS_JOURNAL_HDR || j->cap < 2 * (uint64_t)j->bs) {
		LOG_ERROR(d->loop, "journal: %s",
			  j->idx ? "the device is too small (two blocks at least)"
				 : "heap too small for its index");
		return ATL_ENOMEM;
	}
	uint8_t *b = region_alloc(&d->zr, j->bs);
	if (!b)
		return ATL_ENOMEM;
	if (plat_block_read(j->h, 0, b, j->bs) != PLAT_OK) {
		region_free(&d->zr, b);
		LOG_ERROR(d->loop, "journal: cannot read the device");
		return ATL_EIO;
	}
	int rc = dns_journal_header_decode(b, j->bs, &j->gen);
	j->on = true;
	if (rc != ATL_OK) {
		region_free(&d->zr, b);
		LOG_INFO(d->loop, "journal: none on the device yet: a new one (%llu bytes)",
			 (unsigned long long)j->cap);
		return start_new(d);
	}
	j->end = j->bs;
	for (;;) {
		size_t len;
		if (j->end + j->bs > j->cap || plat_block_read(j->h, j->end, b, j->bs) != PLAT_OK ||
		    dns_journal_record_peek(b, j->gen, j->seq, &len) != ATL_OK)
			break;
		int why;
		uint8_t *rec = record_read(d, j->end, len, &why);
		if (!rec) {
			if (why == ATL_EINVAL)
				LOG_WARN(d->loop,
					 "journal: record %u is torn (a crash while "
					 "writing it, before it was acknowledged); ignored",
					 j->seq);
			else
				LOG_ERROR(d->loop, "journal: record %u cannot be read: %s", j->seq,
					  atl_strerror(why));
			break;
		}
		replay_one(d, j->end, rec + DNS_JOURNAL_RHEAD, len);
		region_free(&d->zr, rec);
		j->end += round_block(j, dns_journal_record_len(len));
		j->seq++;
	}
	region_free(&d->zr, b);
	LOG_INFO(d->loop, "journal: %u records, %llu of %llu bytes used", j->seq,
		 (unsigned long long)j->end, (unsigned long long)j->cap);
	return ATL_OK;
}

int dns_srv_journal_append(struct dns_srv *d, const uint8_t *diff, size_t len)
{
	struct dns_journal *j = &d->j;
	if (!j->on)
		return ATL_OK;
	size_t total = (size_t)round_block(j, dns_journal_record_len(len));
	if (len > UINT32_MAX || j->end + total > j->cap) {
		LOG_ERROR(d->loop,
			  "journal full (%llu of %llu bytes): updates are refused until "
			  "the server starts with a larger or empty journal device",
			  (unsigned long long)j->end, (unsigned long long)j->cap);
		return ATL_ENOMEM;
	}
	uint8_t *b = region_alloc(&d->zr, total);
	if (!b)
		return ATL_ENOMEM;
	memset(b, 0, total);
	dns_journal_record_encode(b, j->gen, j->seq, diff, len);
	/* The record, then a flush: durable before the answer goes out. */
	int rc =
	    plat_block_write(j->h, j->end, b, total) == PLAT_OK && plat_block_flush(j->h) == PLAT_OK
		? ATL_OK
		: ATL_EIO;
	region_free(&d->zr, b);
	if (rc != ATL_OK) {
		LOG_ERROR(d->loop, "journal: write at %llu failed", (unsigned long long)j->end);
		return rc;
	}
	index_add(j, j->end, diff, len);
	j->end += total;
	j->seq++;
	return ATL_OK;
}

/* The index entry continuing zone zh's line from serial s, from i on. */
static const struct dns_jentry *chain_next(const struct dns_journal *j, uint32_t zh, uint32_t s)
{
	/* The latest record from s: after a restart that dropped a torn
	 * record the line may have been written again. */
	const struct dns_jentry *e = NULL;
	for (unsigned i = 0; i < j->nidx; i++)
		if (j->idx[i].zhash == zh && j->idx[i].old == s)
			e = &j->idx[i];
	return e;
}

bool dns_srv_journal_chain(struct dns_srv *d, const struct dns_zone *z, uint32_t from)
{
	const struct dns_journal *j = &d->j;
	uint32_t zh = origin_hash(z->origin), s = from;
	if (!j->on)
		return false;
	for (unsigned n = 0; n <= j->nidx; n++) {
		if (s == z->serial)
			return true;
		const struct dns_jentry *e = chain_next(j, zh, s);
		if (!e)
			return false;
		s = e->new;
	}
	return false;
}

void *dns_srv_journal_next(struct dns_srv *d, const struct dns_zone *z, uint32_t *serial,
			   const uint8_t **diff, size_t *len)
{
	const struct dns_jentry *e = chain_next(&d->j, origin_hash(z->origin), *serial);
	int why;
	uint8_t *rec = e ? record_read(d, e->off, e->len, &why) : NULL;
	struct dns_diff df;
	if (rec && (dns_diff_parse(rec + DNS_JOURNAL_RHEAD, e->len, &df) != ATL_OK ||
		    !dns_name_equal(df.origin, z->origin))) {
		region_free(&d->zr, rec); /* another zone's, by a hash collision */
		rec = NULL;
	}
	if (!rec)
		return NULL;
	*diff = rec + DNS_JOURNAL_RHEAD;
	*len = e->len;
	*serial = e->new;
	return rec;
}
