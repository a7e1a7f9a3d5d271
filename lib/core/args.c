/*
 * args.c - key=value boot arguments: see args.h.
 */
#include "core/args.h"

#include <string.h>

#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"

/* If word is "key" or "key=...", the value ("" for a bare key). */
static const char *word_value(const char *word, const char *key, size_t klen)
{
	if (strncmp(word, key, klen) != 0)
		return NULL;
	if (word[klen] == '=')
		return word + klen + 1;
	if (word[klen] == '\0')
		return word + klen;
	return NULL;
}

const char *args_get(const struct plat_start *s, const char *key)
{
	if (!s)
		return NULL;
	size_t klen = strlen(key);
	const char *found = NULL;
	for (int i = 0; i < s->argc; i++) {
		const char *v = word_value(s->argv[i], key, klen);
		if (v)
			found = v;
	}
	return found;
}

const char *args_get_dev(const struct plat_start *s, const char *dev, const char *key)
{
	char full[96];
	int n = fmt_snprintf(full, sizeof full, "%s.%s", dev, key);
	const char *v = (n > 0 && (size_t)n < sizeof full) ? args_get(s, full) : NULL;
	return v ? v : args_get(s, key);
}

int args_parse_u64(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	unsigned base = 10;
	const char *p = v;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *digits = p;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (n > (UINT64_MAX - d) / base)
			return ATL_EINVAL;
		n = n * base + d;
	}
	if (p == digits)
		return ATL_EINVAL;
	unsigned shift = 0;
	if (base == 10 && (*p == 'K' || *p == 'k'))
		shift = 10;
	else if (base == 10 && (*p == 'M' || *p == 'm'))
		shift = 20;
	else if (base == 10 && (*p == 'G' || *p == 'g'))
		shift = 30;
	if (shift) {
		if (n > (UINT64_MAX >> shift))
			return ATL_EINVAL;
		n <<= shift;
		p++;
	}
	if (*p != '\0')
		return ATL_EINVAL;
	*out = n;
	return ATL_OK;
}

int args_get_u64(struct loop *l, const char *key, uint64_t def, uint64_t max, uint64_t *out)
{
	const char *v = args_get(l->start, key);
	if (!v) {
		*out = def;
		return ATL_OK;
	}
	uint64_t n;
	if (args_parse_u64(v, &n) != ATL_OK || n > max) {
		LOG_ERROR(l, "%s=%s: expected a number up to %llu", key, v,
			  (unsigned long long)max);
		return ATL_EINVAL;
	}
	*out = n;
	return ATL_OK;
}

static bool key_declared(const struct plat_app *app, const char *key, size_t klen)
{
	static const char *const common[] = {"log", "stack", "listen"};
	for (unsigned i = 0; i < ARRAY_SIZE(common); i++)
		if (strlen(common[i]) == klen && strncmp(common[i], key, klen) == 0)
			return true;
	for (unsigned i = 0; i < app->nargs; i++)
		if (strlen(app->args[i].key) == klen && strncmp(app->args[i].key, key, klen) == 0)
			return true;
	return false;
}

int args_report_unknown(const struct plat_start *s)
{
	int unknown = 0;
	for (int i = 0; i < s->argc; i++) {
		const char *w = s->argv[i];
		size_t klen = strcspn(w, "=");
		const char *key = w;
		/* "<device>.key" where <device> is one the app declares. */
		const char *dot = memchr(w, '.', klen);
		if (dot) {
			bool dev = false;
			size_t dlen = (size_t)(dot - w);
			for (unsigned d = 0; d < s->app->ndevices; d++)
				if (strlen(s->app->devices[d].name) == dlen &&
				    strncmp(s->app->devices[d].name, w, dlen) == 0)
					dev = true;
			if (dev) {
				key = dot + 1;
				klen -= dlen + 1;
			}
		}
		if (!key_declared(s->app, key, klen)) {
			con_printf("%s: ignoring unknown boot argument '%s' (see --help)\n",
				   s->app->name, w);
			unknown++;
		}
	}
	return unknown;
}
