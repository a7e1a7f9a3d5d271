/*
 * crash - a unikernel that fails on purpose, so tests/e2e/test_pvh.sh can
 * prove every failure is reported (with a backtrace of symbol names) and
 * ends with a failure status, never 0.
 *
 *   mode=null     write through a NULL pointer (default)
 *   mode=stack    unbounded recursion into the guard page under the stack
 *   mode=assert   a failed ASSERT (plat_abort)
 *   mode=smash    overwrite a stack canary (the stack protector)
 *   mode=ud       an invalid instruction
 *   mode=triple   a triple fault, which QEMU -no-reboot ends with status 0
 */
#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"

/* Keep each level a real frame so the backtrace shows them all. */
#define LEVEL __attribute__((noinline))

static volatile int *volatile null_ptr;
static volatile unsigned depth_seen, depth_max = 1u << 30;

LEVEL static void crash_level2(int v)
{
	*null_ptr = v;
	__asm__ volatile("" ::: "memory");
}

LEVEL static void crash_level1(int v)
{
	crash_level2(v + 1);
	__asm__ volatile("" ::: "memory");
}

LEVEL static unsigned crash_recurse(unsigned n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	depth_seen = n;
	return n < depth_max ? crash_recurse(n + 1) + pad[0] : n;
}

LEVEL static void crash_smash(const char *src, size_t n)
{
	char buf[16];
	/* Copy through a volatile pointer so the compiler cannot see the
	 * overflow coming and refuse to build it. */
	volatile char *volatile d = buf;
	for (size_t i = 0; i < n; i++)
		d[i] = src[i];
	con_printf("smashed: %c\n", buf[0]);
}

static int crash_main(const struct plat_start *s)
{
	const char *mode = args_get(s, "mode");
	if (!mode)
		mode = "null";
	con_printf("crash: mode=%s\n", mode);
	if (strcmp(mode, "null") == 0) {
		crash_level1(41);
	} else if (strcmp(mode, "stack") == 0) {
		con_printf("%u\n", crash_recurse(0));
	} else if (strcmp(mode, "assert") == 0) {
		ASSERT(s->argc == 12345);
	} else if (strcmp(mode, "smash") == 0) {
		static const char junk[64] = "0123456789abcdef0123456789abcdef0123456789abcdef";
		crash_smash(junk, sizeof junk);
	} else if (strcmp(mode, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(mode, "triple") == 0) {
		struct __attribute__((packed)) {
			uint16_t limit;
			uint64_t base;
		} empty = {0, 0};
		__asm__ volatile("lidt %0; int3" ::"m"(empty));
	}
	con_printf("crash: mode=%s did not crash\n", mode);
	return 0;
}

static const struct plat_arg_decl crash_args[] = {
    {"mode", "null, stack, assert, smash, ud or triple"},
};

const struct plat_app crash_app = {
    .name = "crash",
    .summary = "fails on purpose: tests the crash reports",
    .args = crash_args,
    .nargs = ARRAY_SIZE(crash_args),
    .main = crash_main,
};
