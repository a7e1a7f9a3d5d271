/*
 * test_core.c - unit tests of lib/core: readers/writers, formatting,
 * memory, boot arguments, timers and fibers (over the fake platform).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "core/args.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"
#include "fakeplat.h"
#include "test.h"

TEST(reader_reads_big_endian_and_stops_at_end)
{
	const uint8_t bytes[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
	struct rd r = rd_make(bytes, sizeof bytes);
	CHECK_EQ(rd_u8(&r), 0x12);
	CHECK_EQ(rd_be16(&r), 0x3456);
	CHECK_EQ(rd_be32(&r), 0x789abcde); /* exactly the 4 bytes left */
	CHECK(rd_ok(&r));
	CHECK_EQ(rd_left(&r), 0);
	struct rd r2 = rd_make(bytes, sizeof bytes);
	rd_skip(&r2, 4);
	CHECK_EQ(rd_be32(&r2), 0); /* 3 left: sticky error, zero */
	CHECK(!rd_ok(&r2));
	CHECK_EQ(rd_left(&r2), 0);
	CHECK_EQ(rd_u8(&r2), 0); /* still failing after the error */
	CHECK(rd_take(&r2, 0) == NULL);
}

TEST(reader_sub_and_huge_lengths)
{
	const uint8_t bytes[] = {1, 2, 3, 4};
	struct rd r = rd_make(bytes, sizeof bytes);
	struct rd s = rd_sub(&r, 3);
	CHECK(rd_ok(&s));
	CHECK_EQ(rd_left(&s), 3);
	CHECK_EQ(rd_u8(&r), 4);
	struct rd r3 = rd_make(bytes, sizeof bytes);
	CHECK(rd_take(&r3, SIZE_MAX) == NULL); /* no wrap-around */
	CHECK(!rd_ok(&r3));
	struct rd r4 = rd_make(bytes, sizeof bytes);
	struct rd bad = rd_sub(&r4, 5);
	CHECK(!rd_ok(&bad) && !rd_ok(&r4));
	struct rd r5 = rd_make(bytes, sizeof bytes);
	CHECK_EQ(rd_peek_at(&r5, 3), 4);
	CHECK(rd_ok(&r5));
	rd_peek_at(&r5, 4);
	CHECK(!rd_ok(&r5));
}

TEST(writer_sticky_overflow_and_patch)
{
	uint8_t buf[6];
	struct wr w = wr_make(buf, sizeof buf);
	wr_be16(&w, 0xbeef);
	wr_be32(&w, 0x01020304);
	CHECK(wr_ok(&w));
	CHECK_EQ(w.pos, 6);
	wr_be16_at(&w, 0, 0xcafe);
	CHECK_EQ(buf[0], 0xca);
	CHECK_EQ(buf[5], 0x04);
	wr_u8(&w, 1);
	CHECK(!wr_ok(&w));
	CHECK_EQ(w.pos, 6);
	struct wr w2 = wr_make(buf, sizeof buf);
	wr_be16_at(&w2, 0, 1); /* nothing written there yet */
	CHECK(!wr_ok(&w2));
}

TEST(fmt_formats_like_printf)
{
	char b[128];
	fmt_snprintf(b, sizeof b, "%d|%5d|%-5d|%05d|%u|%x|%X|%08llx", -42, 7, 7, -3, 3000000000u,
		     0xbeef, 0xbeef, 0x1234ull);
	CHECK(strcmp(b, "-42|    7|7    |-0003|3000000000|beef|BEEF|00001234") == 0);
	fmt_snprintf(b, sizeof b, "%s|%.3s|%6s|%-4s|%c|%%|%zu|%lld", "abc", "abcdef", "ab", "x",
		     'Z', (size_t)99, -9223372036854775807ll - 1);
	CHECK(strcmp(b, "abc|abc|    ab|x   |Z|%|99|-9223372036854775808") == 0);
	fmt_snprintf(b, sizeof b, "%02x:%02x %hhu %p %s", 0xa, 0xff, (unsigned char)44,
		     (void *)0x10, (char *)NULL);
	CHECK(strcmp(b, "0a:ff 44 0x10 (null)") == 0);
	/* Truncation still returns the full length and terminates. */
	CHECK_EQ(fmt_snprintf(b, 4, "%s", "abcdefgh"), 8);
	CHECK(strcmp(b, "abc") == 0);
	CHECK_EQ(fmt_snprintf(NULL, 0, "%d", 12345), 5);
}

TEST(heap_arena_pool_report_and_refuse)
{
	static uint8_t mem[4096] __attribute__((aligned(16)));
	struct heap h;
	heap_init(&h, mem, sizeof mem);
	void *a = heap_alloc(&h, 10, 64);
	CHECK(a != NULL && ((uintptr_t)a & 63) == 0);
	CHECK(heap_alloc(&h, 5000, 8) == NULL);
	CHECK_EQ(h.fails, 1);
	CHECK(heap_alloc(&h, SIZE_MAX, 8) == NULL);

	struct arena ar;
	CHECK_EQ(arena_init(&ar, &h, 256), ATL_OK);
	CHECK(arena_alloc(&ar, 100) != NULL);
	CHECK(arena_alloc(&ar, 100) != NULL);
	CHECK(arena_alloc(&ar, 100) == NULL); /* 112 + 112 + 112 > 256 */
	CHECK_EQ(ar.fails, 1);
	CHECK_EQ(ar.hwm, 224);
	arena_reset(&ar);
	CHECK(arena_alloc(&ar, 16) != NULL);
	CHECK_EQ(ar.hwm, 224);

	struct pool p;
	CHECK_EQ(pool_init(&p, &h, "test", 40, 3), ATL_OK);
	void *o[4];
	for (int i = 0; i < 3; i++)
		o[i] = pool_get(&p);
	CHECK(o[0] && o[1] && o[2] && o[0] != o[1]);
	CHECK(pool_get(&p) == NULL);
	CHECK_EQ(p.fails, 1);
	pool_put(&p, o[1]);
	o[3] = pool_get(&p);
	CHECK(o[3] == o[1]);
	CHECK_EQ(p.hwm, 3);
	CHECK_EQ(pool_init(&p, &h, "huge", 1 << 20, 1 << 20), ATL_ENOMEM);
}

static char *words_[8];
static struct plat_start make_start(int argc, ...)
{
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		words_[i] = va_arg(ap, char *);
	va_end(ap);
	struct plat_start s = {0};
	s.argc = argc;
	s.argv = words_;
	return s;
}

TEST(args_lookup_and_numbers)
{
	struct plat_start s = make_start(5, "ipv4=10.0.0.1/24", "quiet", "status=3",
					 "service.ipv4=10.9.9.9/8", "status=4");
	CHECK(strcmp(args_get(&s, "ipv4"), "10.0.0.1/24") == 0);
	CHECK(strcmp(args_get(&s, "quiet"), "") == 0);
	CHECK(args_get(&s, "ipv") == NULL);
	CHECK(strcmp(args_get(&s, "status"), "4") == 0); /* last wins */
	CHECK(strcmp(args_get_dev(&s, "service", "ipv4"), "10.9.9.9/8") == 0);
	CHECK(strcmp(args_get_dev(&s, "other", "ipv4"), "10.0.0.1/24") == 0);
	uint64_t v;
	CHECK(args_parse_u64("8M", &v) == ATL_OK && v == 8u << 20);
	CHECK(args_parse_u64("0x10", &v) == ATL_OK && v == 16);
	CHECK(args_parse_u64("18446744073709551615", &v) == ATL_OK && v == UINT64_MAX);
	CHECK_EQ(args_parse_u64("18446744073709551616", &v), ATL_EINVAL);
	CHECK_EQ(args_parse_u64("17179869184G", &v), ATL_EINVAL);
	CHECK_EQ(args_parse_u64("", &v), ATL_EINVAL);
	CHECK_EQ(args_parse_u64("12x", &v), ATL_EINVAL);
	CHECK_EQ(args_parse_u64("-1", &v), ATL_EINVAL);
}

TEST(args_unknown_words_are_reported)
{
	static const struct plat_device_decl devs[] = {{"service", PLAT_DEV_NET, "net"}};
	static const struct plat_arg_decl args[] = {{"ipv4", "addr"}};
	static const struct plat_app app = {"t", "t", devs, 1, args, 1, NULL};
	struct plat_start s = make_start(4, "ipv4=1.2.3.4/8", "service.ipv4=1.2.3.4/8", "bogus=1",
					 "virtio_mmio.device=512@0xfeb00e00:12");
	s.app = &app;
	CHECK_EQ(args_report_unknown(&s), 2);
	CHECK(strstr(fake_console(), "'bogus=1'") != NULL);
	CHECK(strstr(fake_console(), "'virtio_mmio.device") != NULL);
}

/* ---- loop, timers, fibers ---- */

static uint8_t heap_mem[1 << 20] __attribute__((aligned(16)));

static void setup(struct loop *l, struct heap *h)
{
	heap_init(h, heap_mem, sizeof heap_mem);
	fake_set_time(1000);
	loop_init(l, h, NULL);
}

struct fired {
	struct timer t;
	int *log;
	int *n;
	int id;
};

static void on_fire(struct loop *l, struct timer *t)
{
	struct fired *f = CONTAINER_OF(t, struct fired, t);
	f->log[(*f->n)++] = f->id;
}

TEST(timers_fire_in_deadline_order_and_cancel)
{
	struct loop l;
	struct heap h;
	setup(&l, &h);
	int log[8], n = 0;
	struct fired f[4];
	uint64_t when[4] = {5000, 3000, 3000, 9000};
	for (int i = 0; i < 4; i++) {
		f[i] = (struct fired){.log = log, .n = &n, .id = i};
		timer_init(&f[i].t, on_fire);
		timer_arm(&l, &f[i].t, when[i]);
	}
	timer_cancel(&l, &f[3].t);
	timer_arm(&l, &f[0].t, 4000);	/* re-arm moves it */
	CHECK_EQ(loop_run(&l), ATL_OK); /* ends when nothing is left */
	CHECK_EQ(n, 3);
	CHECK_EQ(log[0], 1);
	CHECK_EQ(log[1], 2);
	CHECK_EQ(log[2], 0);
	CHECK_EQ(fake_time(), 4000); /* virtual time jumped, never past 9000 */
	CHECK_EQ(counters_get(&l, "loop", "timers_fired"), 3);
}

struct pingpong {
	struct loop *l;
	struct waitq q;
	int trace[16];
	int n;
	int wait_rc;
	uint64_t woke_at;
};

static void waiter(void *arg)
{
	struct pingpong *p = arg;
	p->trace[p->n++] = 1;
	p->wait_rc = fiber_wait(p->l, &p->q, DEADLINE_NEVER);
	p->trace[p->n++] = 3;
	p->wait_rc += 10 * fiber_wait(p->l, &p->q, p->l->now + 500);
	p->woke_at = fake_time();
	p->trace[p->n++] = 5;
}

static void waker(void *arg)
{
	struct pingpong *p = arg;
	p->trace[p->n++] = 2;
	fiber_sleep(p->l, 2000);
	waitq_wake_one(p->l, &p->q);
	p->trace[p->n++] = 4;
}

TEST(fibers_wait_wake_sleep_and_time_out)
{
	struct loop l;
	struct heap h;
	setup(&l, &h);
	struct pingpong p = {.l = &l};
	CHECK(fiber_spawn(&l, "waiter", waiter, &p, 0) != NULL);
	CHECK(fiber_spawn(&l, "waker", waker, &p, 0) != NULL);
	CHECK_EQ(loop_run(&l), ATL_OK);
	int want[] = {1, 2, 4, 3, 5};
	CHECK_EQ(p.n, 5);
	CHECK_MEM(p.trace, want, sizeof want);
	CHECK_EQ(p.wait_rc, ATL_OK + 10 * ATL_ETIMEDOUT);
	CHECK_EQ(p.woke_at, 2500);
	CHECK_EQ(l.nfibers, 0);
}

static void counter_fiber(void *arg)
{
	int *n = arg;
	for (int i = 0; i < 1000; i++) {
		(*n)++;
		fiber_yield(CONTAINER_OF(n, struct pingpong, n)->l);
	}
}

TEST(fiber_stacks_are_reused_and_exhaustion_refused)
{
	struct loop l;
	struct heap h;
	setup(&l, &h);
	struct pingpong p = {.l = &l};
	for (int round = 0; round < 3; round++) {
		CHECK(fiber_spawn(&l, "count", counter_fiber, &p.n, 8192) != NULL);
		CHECK_EQ(loop_run(&l), ATL_OK);
	}
	CHECK_EQ(p.n, 3000);
	size_t used = h.used;
	CHECK(fiber_spawn(&l, "again", counter_fiber, &p.n, 8192) != NULL);
	CHECK_EQ(h.used, used); /* the finished fiber's stack was reused */
	CHECK(fiber_spawn(&l, "huge", counter_fiber, &p.n, 2u << 20) == NULL);
	CHECK_EQ(loop_run(&l), ATL_OK);
}

static void stop_soon(void *arg)
{
	struct loop *l = arg;
	fiber_sleep(l, 50000);
	fake_request_stop();
	fiber_sleep(l, 60000);
}

TEST(stop_request_ends_the_loop)
{
	struct loop l;
	struct heap h;
	setup(&l, &h);
	fiber_spawn(&l, "stopper", stop_soon, &l, 0);
	CHECK_EQ(loop_run(&l), ATL_ESTOPPED);
	CHECK_EQ(fake_time(), 50000);
}

TEST(region_allocates_frees_and_coalesces)
{
	static uint8_t mem[4096] __attribute__((aligned(16)));
	struct region r;
	region_init_mem(&r, mem, sizeof mem);
	CHECK_EQ(region_largest_free(&r), 4096 - 16);
	uint8_t *a = region_alloc(&r, 100); /* 112 + 16 */
	uint8_t *b = region_alloc(&r, 1000);
	uint8_t *c = region_alloc(&r, 100);
	CHECK(a && b && c);
	CHECK(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0);
	CHECK(b >= a + 112 && c >= b + 1008);
	CHECK_EQ(region_block_size(a), 112);
	CHECK(region_alloc(&r, 4000) == NULL);
	CHECK_EQ(r.fails, 1);
	/* Freeing b then a merges them into one block that fits 1100. */
	region_free(&r, b);
	region_free(&r, a);
	uint8_t *d = region_alloc(&r, 1100);
	CHECK(d == a);
	region_free(&r, d);
	region_free(&r, c);
	CHECK_EQ(r.used, 0);
	CHECK_EQ(region_largest_free(&r), 4096 - 16);
	/* The largest block, shrunk after use, gives its tail back. */
	size_t n;
	uint8_t *e = region_alloc_largest(&r, &n);
	CHECK(e && n == 4096 - 16);
	CHECK(region_alloc(&r, 16) == NULL);
	region_shrink(&r, e, 500);
	CHECK_EQ(region_block_size(e), 512);
	CHECK(region_alloc(&r, 3000) != NULL);
	region_free(&r, NULL);
}

TEST(region_top_blocks_leave_the_free_space_below_whole)
{
	static uint8_t mem[4096] __attribute__((aligned(16)));
	struct region r;
	region_init_mem(&r, mem, sizeof mem);
	uint8_t *top = region_alloc_top(&r, 1000); /* 1008 + 16, at the end */
	CHECK(top == mem + 4096 - 1008);
	CHECK_EQ(region_largest_free(&r), 4096 - 1024 - 16);
	/* A long-lived block below, shrunk; freeing the top block then
	 * leaves one free block above it, not two. */
	size_t n;
	uint8_t *z = region_alloc_largest(&r, &n);
	CHECK(z == mem + 16 && n == 4096 - 1024 - 16);
	region_shrink(&r, z, 200);
	region_free(&r, top);
	CHECK_EQ(region_largest_free(&r), 4096 - 208 - 16 - 16);
	CHECK(region_alloc_top(&r, 5000) == NULL);
	CHECK_EQ(r.fails, 1);
	region_free(&r, z);
	CHECK_EQ(r.used, 0);
}

TEST_MAIN(TEST_ENTRY(reader_reads_big_endian_and_stops_at_end),
	  TEST_ENTRY(reader_sub_and_huge_lengths), TEST_ENTRY(writer_sticky_overflow_and_patch),
	  TEST_ENTRY(fmt_formats_like_printf), TEST_ENTRY(heap_arena_pool_report_and_refuse),
	  TEST_ENTRY(region_allocates_frees_and_coalesces),
	  TEST_ENTRY(region_top_blocks_leave_the_free_space_below_whole),
	  TEST_ENTRY(args_lookup_and_numbers), TEST_ENTRY(args_unknown_words_are_reported),
	  TEST_ENTRY(timers_fire_in_deadline_order_and_cancel),
	  TEST_ENTRY(fibers_wait_wake_sleep_and_time_out),
	  TEST_ENTRY(fiber_stacks_are_reused_and_exhaustion_refused),
	  TEST_ENTRY(stop_request_ends_the_loop))
