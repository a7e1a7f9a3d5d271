#include "core/err.h"

#include "core/fmt.h"
#include "platform.h"

const char *atl_strerror(int err)
{
	switch (err) {
	case ATL_OK:
		return "ok";
	case ATL_EAGAIN:
		return "try again";
	case ATL_EINVAL:
		return "invalid argument or input";
	case ATL_ENOENT:
		return "not found";
	case ATL_EIO:
		return "device error";
	case ATL_EUNSPEC:
		return "unspecified platform error";
	case ATL_ENOMEM:
		return "out of memory";
	case ATL_ETIMEDOUT:
		return "timed out";
	case ATL_EMSGSIZE:
		return "message too long";
	case ATL_EADDRINUSE:
		return "address in use";
	case ATL_EHOSTUNREACH:
		return "host unreachable";
	case ATL_ESTOPPED:
		return "stopping";
	case ATL_ENOTSUP:
		return "not supported here";
	case ATL_ECONNREFUSED:
		return "connection refused";
	case ATL_ECONNRESET:
		return "connection reset by peer";
	case ATL_ENOTCONN:
		return "not connected";
	default:
		return "unknown error";
	}
}

void atl_assert_fail(const char *file, int line, const char *expr)
{
	char msg[256];
	fmt_snprintf(msg, sizeof msg, "assertion failed at %s:%d: %s", file, line, expr);
	plat_abort(msg);
}
