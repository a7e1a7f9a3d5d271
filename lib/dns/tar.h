/*
 * tar.h - read the members of a POSIX ustar archive held in memory.
 */
#ifndef ATOLL_DNS_TAR_H
#define ATOLL_DNS_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define DNS_TAR_NAME_MAX 1023

struct dns_tar_member {
	char name[DNS_TAR_NAME_MAX + 1]; /* ustar prefix/name, a GNU long name or a pax path */
	const uint8_t *data;		 /* points into the archive */
	size_t len;
	uint64_t mtime; /* seconds since 1970 (pax mtime's fraction dropped) */
};

/* The next regular file of the archive at r (other member types are
 * skipped).  Names longer than ustar's 100 + 155 bytes come from GNU tar's
 * long-name members ('L', what Debian's `tar cf` writes) or from pax
 * extended headers ('x': path and mtime; global 'g' headers are
 * ignored).  ATL_ENOENT at the end of the archive; ATL_EINVAL for a bad
 * header (checksum, size, a pax record), a member running past the end
 * or a name longer than DNS_TAR_NAME_MAX. */
int dns_tar_next(struct rd *r, struct dns_tar_member *m);

#endif
