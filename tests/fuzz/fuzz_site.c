/*
 * fuzz_site.c - libFuzzer target for the tar reader (lib/dns/tar.c: ustar,
 * GNU long names, pax headers) and the web unikernel's site index
 * (apps/web/site.c: member names, web.conf, precompressed twins).
 *
 * The input is an archive.  Every member dns_tar_next returns must lie
 * inside the input with a NUL-terminated name; a site that loads must
 * find each of its files by its own path, and a twin must be the file's
 * path with ".gz" / ".br" added.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../apps/web/site.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_make(data, size);
	struct dns_tar_member m;
	unsigned members = 0;
	int rc;
	while ((rc = dns_tar_next(&r, &m)) == ATL_OK) {
		if (m.data < data || m.len > size || m.data + m.len > data + size)
			abort();
		if (memchr(m.name, 0, sizeof m.name) == NULL)
			abort();
		if (++members > size / 512)
			abort(); /* every member takes a header block at least */
	}
	if (rc != ATL_ENOENT && rc != ATL_EINVAL)
		abort();

	static uint8_t mem[8 << 20];
	struct heap h;
	heap_init(&h, mem, sizeof mem);
	struct loop l;
	memset(&l, 0, sizeof l);
	l.log_level = LOG_ERROR;
	l.heap = &h;
	struct web_site site;
	if (web_site_load(&l, &h, data, size, &site) != ATL_OK)
		return 0;
	for (unsigned i = 0; i < site.n; i++) {
		const struct web_file *f = &site.files[i];
		if (web_site_find(&site, f->path) != f || !f->type || f->elen == 0 ||
		    f->elen >= sizeof f->etag)
			abort();
		size_t pl = strlen(f->path);
		if (f->gz && (strncmp(f->gz->path, f->path, pl) || strcmp(f->gz->path + pl, ".gz")))
			abort();
		if (f->br && (strncmp(f->br->path, f->path, pl) || strcmp(f->br->path + pl, ".br")))
			abort();
	}
	return 0;
}
