/*
 * libc.c - the freestanding C runtime of the pvh target: string
 * functions, the fortified (_chk) variants and the few other symbols that
 * Debian's static libbearssl.a and libz.a expect from a libc, and the
 * stack protector's canary.
 *
 * memcpy and memset are "rep movsb"/"rep stosb": short, fast on CPUs with
 * ERMS, and immune to the compiler turning a byte loop back into a call
 * to the very function being defined.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "pvh.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n); /* no overlap, or dst below src */
	/* dst overlaps the tail of src: copy backwards. */
	void *d = (char *)dst + n - 1;
	const void *s = (const char *)src + n - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *found = NULL;
	for (;; s++) {
		if (*s == (char)c)
			found = s;
		if (!*s)
			return (char *)found;
	}
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;
	while (s[n] && strchr(accept, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;
	while (s[n] && !strchr(reject, s[n]))
		n++;
	return n;
}

/* ---- glibc's fortified variants, called by Debian's -D_FORTIFY_SOURCE=2
 * objects when the destination size is known at compile time. ---- */

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		plat_abort("__memcpy_chk: buffer overflow");
	return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		plat_abort("__memmove_chk: buffer overflow");
	return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (n > dstlen)
		plat_abort("__memset_chk: buffer overflow");
	return memset(dst, c, n);
}

/* ---- errno and time, which the libraries reference but atoll's uses of
 * them never reach with a meaningful answer expected. ---- */

int *__errno_location(void);
int *__errno_location(void)
{
	/* One CPU, no threads: one errno. */
	static int err;
	return &err;
}

long time(long *t);
long time(long *t)
{
	long s = (long)(plat_clock_wall() / 1000000000ull);
	if (t)
		*t = s;
	return s;
}

/* zlib's default allocator calls these.  The heap belongs to the
 * application, so there is no malloc: users of zlib set zalloc/zfree to
 * their own arena (see tests/pvh/kat.c), and a library that falls back on
 * malloc gets NULL, which zlib reports as Z_MEM_ERROR. */
void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t m);
void *malloc(size_t n)
{
	return NULL;
}
void *calloc(size_t n, size_t m)
{
	return NULL;
}
void free(void *p)
{
}

/* ---- Stack protector: gcc reads the canary at %fs:0x28; boot.S points
 * FS at pvh_tls. ---- */

struct pvh_tls {
	uint64_t unused[5];
	uint64_t canary; /* offset 0x28 */
};
struct pvh_tls pvh_tls;

void pvh_canary_set(uint64_t v)
{
	/* A zero low byte stops string copies from overwriting the canary
	 * with a string that ends in a matching NUL. */
	pvh_tls.canary = v & ~(uint64_t)0xff;
}

_Noreturn void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	/* Start from the caller's frame: its return address may be the very
	 * thing that was overwritten, and the backtrace stops at garbage. */
	uint64_t *fp = __builtin_frame_address(0);
	crash("stack smashing detected", (uint64_t)(uintptr_t)__builtin_return_address(0) - 1,
	      fp[0], 0, false);
}

/* ---- RDRAND ---- */

bool cpu_has_rdrand(void)
{
	return (cpuid(1, 0).c >> 30) & 1;
}

bool rdrand64(uint64_t *v)
{
	/* Intel's guidance: a few retries cover transient underflow. */
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		uint64_t r;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
		if (ok) {
			*v = r;
			return true;
		}
	}
	return false;
}
