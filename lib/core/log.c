/*
 * log.c - leveled log lines with the time and the logging function.
 */
#include "core/log.h"

#include <string.h>

#include "core/fmt.h"
#include "core/loop.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_msg(const struct loop *l, enum log_level lvl, const char *func, const char *fmt, ...)
{
	if (l && lvl > l->log_level)
		return;
	char line[512];
	uint64_t t = plat_clock_monotonic();
	int n = fmt_snprintf(
	    line, sizeof line, "[%5llu.%06llu] %-5s %s: ", (unsigned long long)(t / 1000000000ull),
	    (unsigned long long)(t % 1000000000ull / 1000), level_names[lvl], func);
	if (n < 0 || (size_t)n >= sizeof line)
		n = (int)sizeof line - 1;
	va_list ap;
	va_start(ap, fmt);
	int m = fmt_vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	plat_console_write(line, len);
}

int log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}
