/*
 * fmt.c - a small vsnprintf of our own, so that every target formats the
 * same way and the pvh image needs no libc stdio.  See fmt.h.
 */
#include <string.h>

#include "core/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* what the whole output would take */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero;
	int width, prec; /* prec < 0: none */
};

/* n bytes at once: what fits is copied, the rest only counted. */
static void put_n(struct out *o, const char *s, size_t n)
{
	size_t room = o->size > o->len + 1 ? o->size - o->len - 1 : 0;
	memcpy(o->buf + o->len, s, n < room ? n : room);
	o->len += n;
}

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	if (!s)
		s = "(null)";
	int n = 0;
	/* the precision first: "%.*s" may name bytes with no NUL after them */
	while ((sp->prec < 0 || n < sp->prec) && s[n])
		n++;
	if (!sp->left)
		put_pad(o, ' ', sp->width - n);
	put_n(o, s, (size_t)n);
	if (sp->left)
		put_pad(o, ' ', sp->width - n);
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
		    const struct spec *sp, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int ndigits = n < sp->prec ? sp->prec : n;
	int plen = 0;
	while (prefix[plen])
		plen++;
	int total = ndigits + (neg ? 1 : 0) + plen;
	bool zero = sp->zero && !sp->left && sp->prec < 0;
	if (!sp->left && !zero)
		put_pad(o, ' ', sp->width - total);
	if (neg)
		put(o, '-');
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	if (zero)
		put_pad(o, '0', sp->width - total);
	put_pad(o, '0', ndigits - n);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		put_pad(o, ' ', sp->width - total);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			size_t run = 1;
			while (p[run] && p[run] != '%')
				run++;
			put_n(&o, p, run);
			p += run - 1;
			continue;
		}
		struct spec sp = {false, false, 0, -1};
		for (;; p++) {
			if (p[1] == '-')
				sp.left = true;
			else if (p[1] == '0')
				sp.zero = true;
			else if (p[1] != '+' && p[1] != ' ' && p[1] != '#')
				break;
		}
		p++;
		if (*p == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				sp.width = sp.width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			sp.prec = 0;
			if (*p == '*') {
				sp.prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					sp.prec = sp.prec * 10 + (*p++ - '0');
			}
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t / intmax */
		for (;; p++) {
			if (*p == 'h')
				lng--;
			else if (*p == 'l')
				lng++;
			else if (*p == 'z' || *p == 'j' || *p == 't')
				lng = 2;
			else
				break;
		}
		uint64_t u;
		int64_t s;
		switch (*p) {
		case 'd':
		case 'i':
			if (lng >= 2)
				s = va_arg(ap, long long);
			else if (lng == 1)
				s = va_arg(ap, long);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
			put_num(&o, u, s < 0, 10, false, &sp, "");
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			put_num(&o, u, false,
				*p == 'u'   ? 10
				: *p == 'o' ? 8
					    : 16,
				*p == 'X', &sp, "");
			break;
		case 'p':
			put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp, "0x");
			break;
		case 'c': {
			char c[2] = {(char)va_arg(ap, int), 0};
			put_str(&o, c, &sp);
			break;
		}
		case 's':
			put_str(&o, va_arg(ap, const char *), &sp);
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--; /* a lone '%' at the end */
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void con_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	plat_console_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
