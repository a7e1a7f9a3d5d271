/*
 * tar.c - members of a POSIX ustar archive (IEEE 1003.1-1988 / POSIX.1-2001
 * ustar format), for zones delivered on a block device.
 */
#include "core/err.h"
#include "dns/tar.h"

#define TAR_BLOCK 512

/* An octal field; spaces and NULs end it.  false if malformed. */
static bool octal(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	bool any = false;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v << 3 | (uint64_t)(p[i] - '0');
		any = true;
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != 0)
			return false;
	*out = v;
	return any;
}

int dns_tar_next(struct rd *r, struct dns_tar_member *m)
{
	for (;;) {
		const uint8_t *h = rd_take(r, TAR_BLOCK);
		if (!h)
			return ATL_ENOENT; /* the end of the device */
		bool zero = true;
		for (unsigned i = 0; i < TAR_BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero)
			return ATL_ENOENT; /* the end-of-archive marker */
		/* The checksum: the header's bytes summed with the field
		 * itself taken as spaces. */
		uint64_t sum, want = 0;
		if (!octal(h + 148, 8, &sum))
			return ATL_EINVAL;
		for (unsigned i = 0; i < TAR_BLOCK; i++)
			want += i >= 148 && i < 156 ? ' ' : h[i];
		uint64_t size;
		if (sum != want || !octal(h + 124, 12, &size) || size > rd_left(r))
			return ATL_EINVAL;
		/* prefix "/" name, both NUL-padded (ustar only has a prefix). */
		size_t o = 0;
		if (!memcmp(h + 257, "ustar", 5)) {
			for (unsigned i = 0; i < 155 && h[345 + i]; i++)
				m->name[o++] = (char)h[345 + i];
			if (o)
				m->name[o++] = '/';
		}
		for (unsigned i = 0; i < 100 && h[i]; i++)
			m->name[o++] = (char)h[i];
		m->name[o] = 0;
		m->data = rd_take(r, (size_t)size);
		m->len = (size_t)size;
		rd_skip(r, (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
		if (!m->data)
			return ATL_EINVAL;
		char type = (char)h[156];
		if (type == '0' || type == 0)
			return ATL_OK; /* a regular file; skip everything else */
	}
}
