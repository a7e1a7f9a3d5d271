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
	if (j->nidx >= DNS_JOURNAL_INDEX || dns_diff_parse(diff, len, &df) != ATL_OK || !df.ndel)
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
	if (off + total > j->base + j->asize)
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
	if (!df.ndel) {
		/* A snapshot: unless the master file has moved past it. */
		uint32_t ahead = z->serial - df.new_serial;
		if (ahead && ahead < 0x80000000u) {
			LOG_INFO(d->loop,
				 "journal: %s snapshot at serial %u is older than the "
				 "master file's %u; skipped",
				 zt, df.new_serial, z->serial);
			return;
		}
		if (dns_diff_apply(z, diff, len, &d->zr, &nz, err, sizeof err) != ATL_OK) {
			LOG_ERROR(d->loop, "journal: %s snapshot cannot be loaded: %s", zt, err);
			return;
		}
		nz->journaled = true;
		dns_srv_replace_zone(d, nz);
		LOG_INFO(d->loop, "journal: %s snapshot at serial %u loaded", zt, df.new_serial);
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
	nz->journaled = true;
	dns_srv_replace_zone(d, nz);
	index_add(&d->j, off, diff, len);
	LOG_INFO(d->loop, "journal: %s serial %u -> %u replayed", zt, df.old_serial, df.new_serial);
}

/* Write area's header (after its records: that is the commit). */
static int write_header(struct dns_srv *d, uint64_t base, uint64_t gen, uint64_t epoch)
{
	struct dns_journal *j = &d->j;
	uint8_t *b = region_alloc(&d->zr, j->bs);
	if (!b)
		return ATL_ENOMEM;
	memset(b, 0, j->bs);
	dns_journal_header_encode(b, gen, epoch);
	int rc =
	    plat_block_write(j->h, base, b, j->bs) == PLAT_OK && plat_block_flush(j->h) == PLAT_OK
		? ATL_OK
		: ATL_EIO;
	region_free(&d->zr, b);
	return rc;
}

static void activate(struct dns_journal *j, uint64_t base, uint64_t gen, uint64_t epoch)
{
	j->base = base;
	j->end = base + j->bs;
	j->gen = gen;
	j->epoch = epoch;
	j->seq = 0;
	j->nidx = 0;
}

/* The area's valid header, or ATL_ENOENT. */
static int read_header(struct dns_srv *d, uint8_t *b, uint64_t base, uint64_t *gen, uint64_t *epoch)
{
	if (plat_block_read(d->j.h, base, b, d->j.bs) != PLAT_OK)
		return ATL_EIO;
	return dns_journal_header_decode(b, d->j.bs, gen, epoch);
}

/* Replay the active area's records from its start. */
static void replay(struct dns_srv *d, uint8_t *b)
{
	struct dns_journal *j = &d->j;
	for (;;) {
		size_t len;
		if (j->end + j->bs > j->base + j->asize ||
		    plat_block_read(j->h, j->end, b, j->bs) != PLAT_OK ||
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
	j->asize = j->cap / j->bs / 2 * j->bs;
	j->idx = heap_alloc(h, DNS_JOURNAL_INDEX * sizeof *j->idx, 16);
	if (!j->idx || j->bs < DNS_JOURNAL_HDR || j->asize < 2 * (uint64_t)j->bs) {
		LOG_ERROR(d->loop, "journal: %s",
			  j->idx ? "the device is too small (four blocks at least)"
				 : "heap too small for its index");
		return ATL_ENOMEM;
	}
	uint8_t *b = region_alloc(&d->zr, j->bs);
	if (!b)
		return ATL_ENOMEM;
	uint64_t gen[2], epoch[2];
	int rc[2];
	for (int i = 0; i < 2; i++)
		rc[i] = read_header(d, b, i * j->asize, &gen[i], &epoch[i]);
	if (rc[0] == ATL_EIO || rc[1] == ATL_EIO) {
		region_free(&d->zr, b);
		LOG_ERROR(d->loop, "journal: cannot read the device");
		return ATL_EIO;
	}
	j->on = true;
	if (rc[0] != ATL_OK && rc[1] != ATL_OK) {
		region_free(&d->zr, b);
		LOG_INFO(d->loop, "journal: none on the device yet: a new one (%llu bytes)",
			 (unsigned long long)j->cap);
		uint64_t g;
		plat_entropy(&g, sizeof g);
		activate(j, 0, g, 1);
		return write_header(d, 0, g, 1);
	}
	int a = rc[1] == ATL_OK && (rc[0] != ATL_OK || epoch[1] > epoch[0]);
	activate(j, a * j->asize, gen[a], epoch[a]);
	replay(d, b);
	region_free(&d->zr, b);
	LOG_INFO(d->loop, "journal: %u records, %llu of %llu bytes used (area %d, epoch %llu)",
		 j->seq, (unsigned long long)(j->end - j->base), (unsigned long long)j->asize, a,
		 (unsigned long long)j->epoch);
	return ATL_OK;
}

/* Write one record at the active area's end and flush it. */
static int record_write(struct dns_srv *d, const uint8_t *diff, size_t len)
{
	struct dns_journal *j = &d->j;
	size_t total = (size_t)round_block(j, dns_journal_record_len(len));
	if (len > UINT32_MAX || j->end + total > j->base + j->asize)
		return ATL_ENOMEM;
	uint8_t *b = region_alloc(&d->zr, total);
	if (!b)
		return ATL_ENOMEM;
	memset(b, 0, total);
	dns_journal_record_encode(b, j->gen, j->seq, diff, len);
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

/*
 * The active area is full: a snapshot of every changed zone into the
 * other area, flushed, then its header with the next epoch, which makes
 * it the active one.  A crash before the header leaves the old area
 * active; IXFR history starts again after it.
 */
static int compact(struct dns_srv *d)
{
	struct dns_journal *j = &d->j;
	struct dns_journal old = *j;
	uint64_t g;
	plat_entropy(&g, sizeof g);
	activate(j, old.base ? 0 : j->asize, g, old.epoch + 1);
	int rc = ATL_OK;
	unsigned n = 0;
	for (unsigned i = 0; rc == ATL_OK && i < d->zones.n; i++) {
		const struct dns_zone *z = d->zones.z[i];
		uint8_t *blob;
		size_t len;
		if (!z->journaled)
			continue;
		rc = dns_zone_snapshot(z, &d->zr, &blob, &len);
		if (rc == ATL_OK) {
			rc = record_write(d, blob, len);
			region_free(&d->zr, blob);
		}
		n++;
	}
	if (rc == ATL_OK)
		rc = write_header(d, j->base, j->gen, j->epoch);
	if (rc != ATL_OK) {
		*j = old;
		j->nidx = old.nidx;
		LOG_ERROR(d->loop,
			  "journal: cannot compact (%s): the snapshots do not fit in "
			  "half the device",
			  atl_strerror(rc));
		return rc;
	}
	j->nidx = 0; /* the old area's records are no longer the history */
	LOG_INFO(d->loop,
		 "journal: compacted: %u zone snapshots in area %d (epoch %llu), %llu "
		 "of %llu bytes",
		 n, j->base ? 1 : 0, (unsigned long long)j->epoch,
		 (unsigned long long)(j->end - j->base), (unsigned long long)j->asize);
	return ATL_OK;
}

int dns_srv_journal_append(struct dns_srv *d, const uint8_t *diff, size_t len)
{
	struct dns_journal *j = &d->j;
	if (!j->on)
		return ATL_OK;
	int rc = record_write(d, diff, len);
	if (rc == ATL_ENOMEM && j->end > j->base + j->bs) {
		/* Full: the zones as they are now into the other area.  The
		 * update being journaled is not in them (it is not installed
		 * yet), so its record follows the snapshots. */
		if (compact(d) == ATL_OK)
			rc = record_write(d, diff, len);
	}
	if (rc == ATL_ENOMEM)
		LOG_ERROR(d->loop,
			  "journal full (%llu of %llu bytes, even after compaction): "
			  "updates are refused until the server starts with a larger "
			  "journal device",
			  (unsigned long long)(j->end - j->base), (unsigned long long)j->asize);
	return rc;
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
