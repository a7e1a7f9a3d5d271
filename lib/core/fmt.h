/*
 * fmt.h - formatted output without libc, identical on every target.
 *
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-' and '0', a width
 * and precision (also '*'), and the length modifiers hh h l ll z j t.
 * No floating point.  Output is always NUL-terminated when size > 0; the
 * return value is the length the full output would have had.
 */
#ifndef ATOLL_CORE_FMT_H
#define ATOLL_CORE_FMT_H

#include <stdarg.h>
#include <stddef.h>

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format to the console (lines longer than 512 bytes are cut). */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
