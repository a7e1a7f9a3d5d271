/*
 * addr.c - IPv4 address text: the helpers declared in stack.h.  Shared by
 * both stacks and by apps parsing their boot arguments.
 *
 * Only the strict dotted-quad form is accepted: four decimal parts 0-255
 * without leading zeros (inet_aton's octal and short forms are how
 * "010.1" ends up meaning something surprising).
 */
#include <stdbool.h>

#include "core/err.h"
#include "core/fmt.h"
#include "net/stack.h"

/* A decimal number up to max, no sign, no leading zero; advances *s. */
static bool parse_dec(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0, digits = 0;
	while (*p >= '0' && *p <= '9') {
		if (digits && v == 0)
			return false; /* leading zero */
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return false;
		p++;
		digits++;
	}
	if (!digits)
		return false;
	*s = p;
	*out = v;
	return true;
}

static bool parse_quad(const char **s, uint32_t *addr)
{
	uint32_t a = 0;
	for (unsigned i = 0; i < 4; i++) {
		unsigned part;
		if (i && *(*s)++ != '.')
			return false;
		if (!parse_dec(s, 255, &part))
			return false;
		a = a << 8 | part;
	}
	*addr = a;
	return true;
}

int ip4_parse(const char *s, uint32_t *addr)
{
	uint32_t a;
	if (!s || !parse_quad(&s, &a) || *s)
		return ATL_EINVAL;
	*addr = a;
	return ATL_OK;
}

int ip4_parse_prefix(const char *s, uint32_t *addr, unsigned *prefix)
{
	uint32_t a;
	unsigned len;
	if (!s || !parse_quad(&s, &a) || *s++ != '/' || !parse_dec(&s, 32, &len) || *s)
		return ATL_EINVAL;
	*addr = a;
	*prefix = len;
	return ATL_OK;
}

int ip4_parse_ep(const char *s, struct ip4_ep *ep)
{
	uint32_t a;
	unsigned port;
	if (!s || !parse_quad(&s, &a) || *s++ != ':' || !parse_dec(&s, 65535, &port) || *s)
		return ATL_EINVAL;
	ep->addr = a;
	ep->port = (uint16_t)port;
	return ATL_OK;
}

const char *ip4_fmt(uint32_t addr, char *buf)
{
	fmt_snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, addr >> 16 & 255, addr >> 8 & 255,
		     addr & 255);
	return buf;
}
