/*
 * pvhcheck - exercises the pvh platform calls that hello and echo do not:
 * block read/write/flush, entropy, the wall clock, timed waits, and the
 * numbering of several network devices.  Prints one "check <name> ok" or
 * "check <name> FAILED ..." line each and exits with the number failed.
 *
 * The block test writes a pattern at 1 MiB (which the test script reads
 * back from the file on the host after exit), then reads back the first
 * 64 KiB the host prepared.
 */
#include <string.h>

#include "core/args.h"
#include "core/err.h"
#include "core/fmt.h"
#include "core/loop.h"

#define BLK_OFF (1u << 20)
#define BLK_LEN (192u * 1024) /* over several requests */

static int failed;

static void check(const char *name, bool ok, const char *detail)
{
	con_printf("check %s %s%s%s\n", name, ok ? "ok" : "FAILED", detail ? " " : "",
		   detail ? detail : "");
	if (!ok)
		failed++;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

static void check_block(struct heap *h)
{
	plat_handle_t b;
	struct plat_block_info bi;
	if (plat_block_acquire("disk", &b, &bi) != PLAT_OK) {
		con_printf("check block skipped: no disk\n");
		return;
	}
	char d[96];
	fmt_snprintf(d, sizeof d, "capacity %llu block %u", (unsigned long long)bi.capacity,
		     bi.block_size);
	check("block-info", bi.capacity >= BLK_OFF + BLK_LEN && bi.block_size >= 512, d);
	uint8_t *w = heap_alloc(h, BLK_LEN, 4096), *r = heap_alloc(h, BLK_LEN, 4096);
	if (!w || !r) {
		check("block-memory", false, NULL);
		return;
	}
	for (size_t i = 0; i < BLK_LEN; i++)
		w[i] = pattern(i);
	check("block-write", plat_block_write(b, BLK_OFF, w, BLK_LEN) == PLAT_OK, NULL);
	check("block-flush", plat_block_flush(b) == PLAT_OK, NULL);
	check("block-read", plat_block_read(b, BLK_OFF, r, BLK_LEN) == PLAT_OK, NULL);
	check("block-readback", memcmp(w, r, BLK_LEN) == 0, NULL);
	/* The host wrote byte i = i % 251 over the first 64 KiB. */
	bool host = plat_block_read(b, 0, r, 65536) == PLAT_OK;
	for (size_t i = 0; host && i < 65536; i++)
		host = r[i] == i % 251;
	check("block-host-data", host, NULL);
	check("block-unaligned-refused", plat_block_read(b, 1, r, 512) == PLAT_EINVAL, NULL);
	check("block-past-end-refused",
	      plat_block_read(b, bi.capacity, r, bi.block_size) == PLAT_EINVAL, NULL);
}

static void check_nets(const struct plat_start *s)
{
	static const char *const names[] = {"first", "second"};
	for (unsigned i = 0; i < 2; i++) {
		plat_handle_t h;
		struct plat_net_info ni;
		if (plat_net_acquire(names[i], &h, &ni) != PLAT_OK) {
			con_printf("net %s absent\n", names[i]);
			continue;
		}
		con_printf("net %s handle %u mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", names[i],
			   h, ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
			   ni.mtu);
	}
}

static int pvhcheck_main(const struct plat_start *s)
{
	struct heap heap;
	heap_init(&heap, s->heap, s->heap_size);

	uint8_t rnd[16];
	plat_entropy(rnd, sizeof rnd);
	char hex[40];
	for (unsigned i = 0; i < sizeof rnd; i++)
		fmt_snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	con_printf("entropy %s\n", hex);

	uint64_t wall = plat_clock_wall() / 1000000000u;
	char d[64];
	fmt_snprintf(d, sizeof d, "%llu", (unsigned long long)wall);
	/* After 2020-01-01 and before 2100: the RTC or pvclock was read. */
	check("wall-clock", wall > 1577836800u && wall < 4102444800u, d);

	uint64_t t0 = plat_clock_monotonic();
	uint64_t none = 0;
	plat_wait(t0 + 50 * NS_PER_MS, &none);
	uint64_t waited = plat_clock_monotonic() - t0;
	fmt_snprintf(d, sizeof d, "%llu us", (unsigned long long)(waited / 1000));
	check("wait-50ms", waited >= 50 * NS_PER_MS && waited < 1000 * NS_PER_MS, d);

	check_nets(s);
	check_block(&heap);
	con_printf("pvhcheck: %d failed\n", failed);
	return failed;
}

static const struct plat_device_decl pvhcheck_devices[] = {
    {"first", PLAT_DEV_NET, "a network device (only its numbering is checked)"},
    {"second", PLAT_DEV_NET, "another"},
    {"disk", PLAT_DEV_BLOCK, "a scratch disk of at least 2 MiB; its first 64 KiB hold i % 251"},
};

const struct plat_app pvhcheck_app = {
    .name = "pvhcheck",
    .summary = "checks the pvh platform's block, entropy, clock and wait calls",
    .devices = pvhcheck_devices,
    .ndevices = ARRAY_SIZE(pvhcheck_devices),
    .main = pvhcheck_main,
};
