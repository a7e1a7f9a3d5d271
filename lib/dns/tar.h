/*
 * tar.h - read the members of a POSIX ustar archive held in memory.
 */
#ifndef ATOLL_DNS_TAR_H
#define ATOLL_DNS_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct dns_tar_member {
	char name[257];	     /* prefix/name */
	const uint8_t *data; /* points into the archive */
	size_t len;
};

/* The next regular file of the archive at r (other member types are
 * skipped).  ATL_ENOENT at the end of the archive; ATL_EINVAL for a bad
 * header (checksum, size) or a member running past the end. */
int dns_tar_next(struct rd *r, struct dns_tar_member *m);

#endif
