/*
 * site.h - the web unikernel's site: the files of a POSIX tar archive (or
 * the built-in one-page site), indexed by path, with what a response
 * needs of each (type, entity-tag, last modification, precompressed
 * twins, Cache-Control) worked out once at start.
 *
 * The archive stays where it was read (the heap); a struct web_file
 * points into it.  Nothing here changes after web_site_load.
 */
#ifndef ATOLL_APPS_WEB_SITE_H
#define ATOLL_APPS_WEB_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

#define WEB_ETAG_MAX 40

struct web_file {
	const char *path; /* the member's name without "./": "a/b.html" */
	const uint8_t *data;
	size_t len;
	uint64_t mtime;		 /* seconds since 1970 */
	char etag[WEB_ETAG_MAX]; /* "\"<mtime hex>-<len hex>\"", quotes included */
	size_t elen;
	const char *type;	   /* Content-Type */
	const char *cache;	   /* Cache-Control from web.conf, or NULL */
	const struct web_file *gz; /* path.gz, when the archive has it */
	const struct web_file *br; /* path.br */
	bool has_twin;		   /* a .gz or .br twin exists: answers carry Vary */
};

struct web_site {
	struct web_file *files;
	unsigned n;
	unsigned *slots;  /* open-addressing hash of files by path; UINT32_MAX: empty */
	unsigned nslots;  /* a power of two */
	unsigned skipped; /* members not served (bad names) */
};

/*
 * Index the archive ar[0..len) into site, with memory from the heap.
 * web.conf at the archive's root is read (lines "cache-control <prefix>
 * <value>", '#' comments; a bad line is reported with its number and
 * skipped) and not served.  ATL_EINVAL for a malformed archive, with a
 * message; ATL_ENOMEM.
 */
int web_site_load(struct loop *l, struct heap *h, const uint8_t *ar, size_t len,
		  struct web_site *site);

/* The file at path (as http_path_clean gives it, no leading '/'), or NULL. */
const struct web_file *web_site_find(const struct web_site *site, const char *path);

/* The Content-Type for a file name, by its extension. */
const char *web_mime_type(const char *path);

#endif
