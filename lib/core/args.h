/*
 * args.h - key=value boot arguments.
 *
 * The same words arrive on every target: after the hosted options on a
 * Linux command line, or on the kernel command line of a VM.  A key may be
 * prefixed with a device name ("service.ipv4=") where an app has several.
 * The last occurrence of a key wins.
 */
#ifndef ATOLL_CORE_ARGS_H
#define ATOLL_CORE_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

struct loop;

/* Value of key, or NULL.  A word "key" with no '=' gives "". */
const char *args_get(const struct plat_start *s, const char *key);
/* Value of "<dev>.<key>", else of "<key>", else NULL. */
const char *args_get_dev(const struct plat_start *s, const char *dev, const char *key);

/* Parse an unsigned decimal (or 0x hex) with an optional K/M/G suffix.
 * ATL_EINVAL on anything else or on overflow. */
int args_parse_u64(const char *v, uint64_t *out);
/* args_get + args_parse_u64; *out = def when absent; ATL_EINVAL (logged)
 * when present but malformed or above max. */
int args_get_u64(struct loop *l, const char *key, uint64_t def, uint64_t max, uint64_t *out);

/* Report on the console (and ignore) every word the app did not declare,
 * either as "key", "key=..." or "<device>.key=...".  Returns how many. */
int args_report_unknown(const struct plat_start *s);

#endif
