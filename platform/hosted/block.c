/*
 * block.c - block devices backed by files (or host block devices).
 *
 * I/O is synchronous pread(2)/pwrite(2): the page cache makes it fast, and
 * plat_block_flush makes it durable with fdatasync(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

#define SECTOR_SIZE 512u

bool hosted_block_open(const char *name, const char *path)
{
	if (hosted_handle_find(name, HOSTED_BLOCK, NULL)) {
		fprintf(stderr, "--block:%s given twice\n", name);
		return false;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "--block:%s: %s: %s\n", name, path, strerror(errno));
		return false;
	}
	struct stat st;
	uint64_t size = 0;
	if (fstat(fd, &st) != 0) {
		fprintf(stderr, "--block:%s: %s: %s\n", name, path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		/* st_size is 0 for a block special file: ask the device. */
		if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
			fprintf(stderr, "--block:%s: %s: %s\n", name, path, strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		fprintf(stderr, "--block:%s: %s is neither a file nor a block device\n", name,
			path);
		goto fail;
	}
	plat_handle_t h;
	if (hosted_handle_new(HOSTED_BLOCK, fd, name, &h) != PLAT_OK) {
		fprintf(stderr, "--block:%s: too many devices\n", name);
		goto fail;
	}
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_BLOCK);
	/* A trailing partial block cannot be addressed: it is not part of
	 * the device (and is never touched). */
	hh->u.block.capacity = size - size % SECTOR_SIZE;
	hh->u.block.block_size = SECTOR_SIZE;
	return true;
fail:
	close(fd);
	return false;
}

int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info)
{
	struct hosted_handle *hh = hosted_handle_find(name, HOSTED_BLOCK, h);
	if (!hh)
		return PLAT_ENOENT;
	*info = hh->u.block;
	return PLAT_OK;
}

/* The handle if [offset, offset + len) is whole blocks inside the device. */
static struct hosted_handle *block_check(plat_handle_t h, uint64_t offset, size_t len)
{
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_BLOCK);
	if (!hh || offset % SECTOR_SIZE || len % SECTOR_SIZE)
		return NULL;
	uint64_t cap = hh->u.block.capacity;
	if (offset > cap || len > cap - offset)
		return NULL;
	return hh;
}

int plat_block_read(plat_handle_t h, uint64_t offset, void *buf, size_t len)
{
	struct hosted_handle *hh = block_check(h, offset, len);
	if (!hh)
		return PLAT_EINVAL;
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = pread(hh->fd, p, len, (off_t)offset);
		if (r < 0 && errno == EINTR)
			continue;
		/* 0 means the file shrank under us: as much a failure as EIO. */
		if (r <= 0)
			return PLAT_EIO;
		p += r;
		len -= (size_t)r;
		offset += (uint64_t)r;
	}
	return PLAT_OK;
}

int plat_block_write(plat_handle_t h, uint64_t offset, const void *buf, size_t len)
{
	struct hosted_handle *hh = block_check(h, offset, len);
	if (!hh)
		return PLAT_EINVAL;
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = pwrite(hh->fd, p, len, (off_t)offset);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PLAT_EIO;
		p += r;
		len -= (size_t)r;
		offset += (uint64_t)r;
	}
	return PLAT_OK;
}

int plat_block_flush(plat_handle_t h)
{
	struct hosted_handle *hh = hosted_handle_get(h, HOSTED_BLOCK);
	if (!hh)
		return PLAT_EINVAL;
	while (fdatasync(hh->fd) != 0)
		if (errno != EINTR)
			return PLAT_EIO;
	return PLAT_OK;
}
