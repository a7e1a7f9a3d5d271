/*
 * err.h - the one error convention above the platform.
 *
 * Recoverable errors are returned as these negative values; 0 is success
 * and positive values are counts where a call says so.  The first five
 * equal enum plat_result so platform errors pass through unchanged.
 * Programmer errors are not returned: they stop the unikernel through
 * ASSERT, which names the file and line.
 */
#ifndef ATOLL_CORE_ERR_H
#define ATOLL_CORE_ERR_H

enum atl_err {
	ATL_OK = 0,
	ATL_EAGAIN = -1,	/* nothing now; try again after waiting */
	ATL_EINVAL = -2,	/* bad argument or malformed input */
	ATL_ENOENT = -3,	/* no such device, key, name or entry */
	ATL_EIO = -4,		/* device failure */
	ATL_EUNSPEC = -5,	/* anything else from the platform */
	ATL_ENOMEM = -6,	/* a pool, arena or the heap is exhausted */
	ATL_ETIMEDOUT = -7,	/* the deadline passed first */
	ATL_EMSGSIZE = -8,	/* does not fit (datagram, buffer, MTU) */
	ATL_EADDRINUSE = -9,	/* port or address already bound */
	ATL_EHOSTUNREACH = -10, /* no route, or ARP gave up */
	ATL_ESTOPPED = -11,	/* the unikernel is stopping */
	ATL_ENOTSUP = -12,	/* not available on this target or build */
	ATL_ECONNREFUSED = -13, /* the peer refused the connection (RST to our SYN) */
	ATL_ECONNRESET = -14,	/* the peer reset the connection */
	ATL_ENOTCONN = -15,	/* not (or no longer) connected in that direction */
};

/* A short lowercase description, never NULL. */
const char *atl_strerror(int err);

_Noreturn void atl_assert_fail(const char *file, int line, const char *expr);

#define ASSERT(e) ((e) ? (void)0 : atl_assert_fail(__FILE__, __LINE__, #e))

#define ARRAY_SIZE(a)		      (sizeof(a) / sizeof((a)[0]))
#define CONTAINER_OF(p, type, member) ((type *)((char *)(p) - __builtin_offsetof(type, member)))

#endif
