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

/* The decimal number at p[0..n) up to a '.' or the end. */
static bool decimal(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > UINT64_MAX / 10 - 1)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return i > 0 && (i == n || p[i] == '.');
}

/* What a pax extended header ("<len> <key>=<value>\n" records, POSIX.1-2001)
 * says of the next member: its path and mtime. */
static int pax_records(const uint8_t *p, size_t n, char *name, bool *have_name, uint64_t *mtime,
		       bool *have_mtime)
{
	while (n > 0) {
		uint64_t rl = 0;
		size_t i = 0;
		for (; i < n && p[i] >= '0' && p[i] <= '9' && rl < n; i++)
			rl = rl * 10 + (uint64_t)(p[i] - '0');
		if (i == 0 || i >= n || p[i] != ' ' || rl > n || rl < i + 3 || p[rl - 1] != '\n')
			return ATL_EINVAL;
		const uint8_t *kv = p + i + 1, *end = p + rl - 1;
		const uint8_t *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return ATL_EINVAL;
		size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
		if (kl == 4 && !memcmp(kv, "path", 4)) {
			if (vl > DNS_TAR_NAME_MAX)
				return ATL_EINVAL;
			memcpy(name, eq + 1, vl);
			name[vl] = 0;
			*have_name = true;
		} else if (kl == 5 && !memcmp(kv, "mtime", 5)) {
			*have_mtime = decimal(eq + 1, vl, mtime);
		}
		p += rl;
		n -= (size_t)rl;
	}
	return ATL_OK;
}

int dns_tar_next(struct rd *r, struct dns_tar_member *m)
{
	bool have_name = false, have_mtime = false;
	uint64_t pax_mtime = 0;
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
		uint64_t size, mtime;
		if (sum != want || !octal(h + 124, 12, &size) || size > rd_left(r) ||
		    !octal(h + 136, 12, &mtime))
			return ATL_EINVAL;
		const uint8_t *data = rd_take(r, (size_t)size);
		rd_skip(r, (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
		if (!data)
			return ATL_EINVAL;
		char type = (char)h[156];
		if (type == 'L') {
			/* GNU long name: the data is the next member's name */
			size_t n = (size_t)size;
			while (n > 0 && data[n - 1] == 0)
				n--;
			if (n > DNS_TAR_NAME_MAX)
				return ATL_EINVAL;
			memcpy(m->name, data, n);
			m->name[n] = 0;
			have_name = true;
			continue;
		}
		if (type == 'x') {
			if (pax_records(data, (size_t)size, m->name, &have_name, &pax_mtime,
					&have_mtime) != ATL_OK)
				return ATL_EINVAL;
			continue;
		}
		if (!have_name) {
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
		}
		m->data = data;
		m->len = (size_t)size;
		m->mtime = have_mtime ? pax_mtime : mtime;
		if (type == '0' || type == 0)
			return ATL_OK; /* a regular file; skip everything else */
		have_name = have_mtime = false;
	}
}
