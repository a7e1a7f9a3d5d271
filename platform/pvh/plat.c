/*
 * plat.c - entry from boot.S, the start record, and the platform calls
 * that are not about a device: wait, stop, entropy, exit and abort.
 */
#include <string.h>

#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"

#define PVH_MAGIC	0x336ec578u
#define MAX_ARGS	64
#define CMDLINE_MAX	2048
#define MEMMAP_MAX	32
#define DEBUG_EXIT_PORT 0x501 /* QEMU's isa-debug-exit at its default iobase */
#define EXIT_ABORT	70

/* The start record of the PVH boot protocol (Xen's hvm_start_info). */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

/* The start record lives in RAM the heap may reuse: keep copies. */
static char cmdline[CMDLINE_MAX];
static char *argv[MAX_ARGS + 1];
static struct pvh_memmap_entry memmap[MEMMAP_MAX];
static struct plat_start start;
static volatile bool stop_requested;

/* Where boot spends its time: the TSC at the end of each stage, printed
 * (one line) when the command line has the platform word
 * atoll.boot-stages (bench/pvh.sh reads it). */
enum boot_stage {
	ST_CONSOLE, /* PIT started, canary, serial, GDT/IDT */
	ST_PAGING,  /* memory map, W^X page tables, local APIC */
	ST_ACPI,
	ST_APIC, /* IO APICs */
	ST_CLOCK,
	ST_VIRTIO,
	ST_BUTTON,
	ST_ENTROPY, /* the final canary */
	ST_COUNT
};
static const char *const stage_names[ST_COUNT] = {"console", "paging", "acpi",	 "ioapic",
						  "clock",   "virtio", "button", "entropy"};
static uint64_t stage_tsc[ST_COUNT];

static void stage_done(enum boot_stage s)
{
	stage_tsc[s] = rdtsc();
}

static void stages_print(void)
{
	char line[256];
	size_t n = 0;
	n += (size_t)fmt_snprintf(line, sizeof line, "atoll: boot stages, us since entry:");
	for (int i = 0; i < ST_COUNT && n < sizeof line; i++)
		n += (size_t)fmt_snprintf(
		    line + n, sizeof line - n, " %s %llu", stage_names[i],
		    (unsigned long long)(tsc_to_ns(stage_tsc[i] - pvh_boot_tsc) / 1000));
	kprintf("%s\n", line);
}

static int split_words(char *s, char **out, int max)
{
	int n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			*s++ = '\0';
		if (!*s || n == max)
			return n;
		out[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n')
			s++;
	}
}

/* VMM words: the platform's, not the app's.  Each is acted on here and
 * left out of the app's argv (so the app does not report it as unknown,
 * which would cost a console line per word on every boot). */
static bool vmm_word(const char *w)
{
	return strncmp(w, "virtio_mmio.device=", 19) == 0 || strcmp(w, "acpi=off") == 0 ||
	       strcmp(w, "atoll.boot-stages") == 0;
}

static bool word_present(char **words, int n, const char *w)
{
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return true;
	return false;
}

static uint64_t early_entropy(void)
{
	uint64_t v;
	if (cpu_has_rdrand() && rdrand64(&v))
		return v;
	/* Only until the devices are up (see pvh_main). */
	v = rdtsc();
	return v * 0x9e3779b97f4a7c15ull ^ (v >> 29);
}

/* pvh_main cannot be stack-protected: it changes the canary, and it never
 * returns through a check. */
_Noreturn void pvh_main(uint32_t start_info) __attribute__((no_stack_protector));
void pvh_main(uint32_t start_info)
{
	pvh_boot_tsc = rdtsc();
	clock_start();
	pvh_canary_set(early_entropy());
	serial_init();
	trap_init();
	stage_done(ST_CONSOLE);

	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)start_info;
	if (!si || si->magic != PVH_MAGIC)
		crash("not started through the PVH boot protocol (bad start record magic)", 0, 0, 0,
		      false);
	if (si->cmdline_paddr) {
		const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = strnlen(c, CMDLINE_MAX - 1);
		memcpy(cmdline, c, n);
	}
	unsigned nmap = 0;
	if (si->version >= 1 && si->memmap_paddr) {
		nmap = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
		memcpy(memmap, (const void *)(uintptr_t)si->memmap_paddr, nmap * sizeof memmap[0]);
	}
	if (!nmap)
		crash("the start record has no memory map (PVH start info version 0)", 0, 0, 0,
		      false);
	uint64_t rsdp = si->rsdp_paddr; /* si is not mapped after mm_paging_init */
	int nwords = split_words(cmdline, argv, MAX_ARGS);
	argv[nwords] = NULL;
	/* acpi=off, as on Linux: the tables are not read at all. */
	bool use_acpi = !word_present(argv, nwords, "acpi=off");

	mm_init(memmap, nmap);
	mm_paging_init();
	lapic_init();
	stage_done(ST_PAGING);
	if (use_acpi)
		acpi_init(rsdp);
	stage_done(ST_ACPI);
	struct ioapic_desc io[4];
	ioapic_init(io, acpi_ioapics(io, 4));
	stage_done(ST_APIC);
	clock_init();
	stage_done(ST_CLOCK);
	virtio_probe(argv, nwords, plat_app_linked);
	stage_done(ST_VIRTIO);
	if (use_acpi)
		acpi_power_button_init();
	stage_done(ST_BUTTON);
	bool show_stages = word_present(argv, nwords, "atoll.boot-stages");
	int argc = 0;
	for (int i = 0; i < nwords; i++)
		if (!vmm_word(argv[i]))
			argv[argc++] = argv[i];
	argv[argc] = NULL;

	/* The devices are up, so the entropy source is final.  No function
	 * that checked the old canary is still on the stack. */
	if (cpu_has_rdrand() || vrng_present()) {
		uint64_t canary;
		plat_entropy(&canary, sizeof canary);
		pvh_canary_set(canary);
	}
	stage_done(ST_ENTROPY);

	start.app = plat_app_linked;
	start.argc = argc;
	start.argv = argv;
	mm_take_heap(&start.heap, &start.heap_size);
	char clk[48];
	clock_describe(clk, sizeof clk);
	kprintf("atoll: %s: %llu KiB RAM, heap %zu KiB at %p, %s, ready after %llu us\n",
		plat_app_linked->name, (unsigned long long)(mm_ram_total() / 1024),
		start.heap_size / 1024, start.heap, clk,
		(unsigned long long)(plat_clock_monotonic() / 1000));
	if (show_stages)
		stages_print();
	plat_exit(plat_app_linked->main(&start));
}

/* ---- Waiting ------------------------------------------------------------- */

void pvh_idle(uint64_t deadline)
{
	uint64_t now = plat_clock_monotonic();
	if (deadline <= now)
		return;
	apic_timer_arm(deadline == UINT64_MAX ? 0 : deadline - now);
	idle_hlt();
}

void plat_wait(uint64_t deadline, uint64_t *interest)
{
	uint64_t want = *interest;
	for (;;) {
		uint64_t ready = vnet_ready(want);
		/* Checked with interrupts off, and pvh_idle's "sti; hlt" takes
		 * an interrupt only once halted: a press is never missed. */
		if (ready || stop_requested || plat_clock_monotonic() >= deadline) {
			*interest = ready;
			return;
		}
		pvh_idle(deadline);
	}
}

void pvh_stop_request(void)
{
	stop_requested = true;
}

bool plat_stop_requested(void)
{
	return stop_requested;
}

/* ---- Entropy ------------------------------------------------------------- */

void plat_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;
	if (cpu_has_rdrand()) {
		while (len) {
			uint64_t v;
			if (!rdrand64(&v))
				plat_abort("plat_entropy: RDRAND keeps failing");
			size_t n = len < 8 ? len : 8;
			memcpy(p, &v, n);
			p += n;
			len -= n;
		}
		return;
	}
	if (vrng_present()) {
		vrng_read(buf, len);
		return;
	}
	plat_abort("plat_entropy: no entropy source: the CPU has no RDRAND and there is no "
		   "virtio-rng device (tools/atoll adds one)");
}

/* ---- Exit ---------------------------------------------------------------- */

_Noreturn void pvh_poweroff(int status)
{
	/* QEMU's isa-debug-exit ends QEMU with status (status << 1) | 1; on
	 * a VMM without it the write goes nowhere. */
	outw(DEBUG_EXIT_PORT, (uint16_t)status);
	/* Still here: no isa-debug-exit.  ACPI S5 is a clean power-off (the
	 * status is only on the console, above); the VMM exits with 0. */
	if (acpi_has_s5()) {
		kprintf("atoll: no isa-debug-exit: ACPI S5 power-off\n");
		acpi_poweroff();
	}
	/* Firecracker stops the VM on a keyboard-controller reset (its only
	 * way out); QEMU, started with -no-reboot, exits too. */
	outb(0x64, 0xfe);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void plat_exit(int status)
{
	kprintf("atoll: exit status %d\n", status);
	pvh_poweroff(status);
}

void plat_abort(const char *msg)
{
	kprintf("plat_abort: %s\n", msg);
	/* From our caller's frame: this one is of no interest. */
	uint64_t *fp = __builtin_frame_address(0);
	backtrace_print((uintptr_t)__builtin_return_address(0) - 1, fp[0]);
	kprintf("atoll: exit status %d\n", EXIT_ABORT);
	pvh_poweroff(EXIT_ABORT);
}
