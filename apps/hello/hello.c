/*
 * hello - the smallest unikernel: prints its boot arguments and exits with
 * the status given as status=N.  Every target's first test boots it.
 */
#include "core/args.h"
#include "core/fmt.h"
#include "core/loop.h"

static int hello_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);
	struct loop l;
	loop_init(&l, &heap, s);

	con_printf("hello from atoll: %d boot argument%s, %zu KiB of heap\n", s->argc,
		   s->argc == 1 ? "" : "s", s->heap_size / 1024);
	for (int i = 0; i < s->argc; i++)
		con_printf("  arg[%d] = \"%s\"\n", i, s->argv[i]);
	args_report_unknown(s);

	uint64_t status;
	if (args_get_u64(&l, "status", 0, 255, &status) != 0)
		return 2;
	return (int)status;
}

static const struct plat_arg_decl hello_args[] = {
    {"status", "exit status to end with (0-255, default 0)"},
};

const struct plat_app hello_app = {
    .name = "hello",
    .summary = "prints its boot arguments and exits with status=N",
    .devices = NULL,
    .ndevices = 0,
    .args = hello_args,
    .nargs = 1,
    .main = hello_main,
};
