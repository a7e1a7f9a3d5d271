/*
 * apic.c - the local APIC (one-shot timer for plat_wait's deadlines, end
 * of interrupt) and the IO APIC (routing virtio-mmio interrupt lines).
 *
 * The legacy 8259 PICs, where present, are masked: the firmware leaves
 * them delivering the PIT's tick at vector 8, which would look like a
 * double fault.  PCI devices use MSI-X and need no IO APIC at all.
 */
#include "cpu.h"
#include "pvh.h"

#define MSR_APIC_BASE	 0x1b
#define APIC_BASE_ENABLE (1u << 11)

#define LAPIC_ID	 0x20
#define LAPIC_TPR	 0x80
#define LAPIC_EOI	 0xb0
#define LAPIC_SVR	 0xf0
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_LVT_LINT0	 0x350
#define LAPIC_LVT_LINT1	 0x360
#define LAPIC_LVT_ERROR	 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	 0x390
#define LAPIC_TIMER_DIV	 0x3e0
#define LVT_MASKED	 (1u << 16)

#define IOAPIC_DEFAULT 0xfec00000u /* the MP specification's default */
#define IOAPIC_REGSEL  0x00
#define IOAPIC_WIN     0x10

#define IOAPIC_MAX 4

static uintptr_t lapic;
/* microvm with ACPI has two: GSIs 0-23 and, for its virtio-mmio devices,
 * 24-47. */
static struct ioapic {
	uintptr_t base;
	unsigned gsi_base, count;
} ioapics[IOAPIC_MAX];
static unsigned nioapic;
static uint64_t lapic_hz; /* timer counts per second, after the divider */

static uint32_t lapic_r(unsigned reg)
{
	return mmio_r32(lapic + reg);
}
static void lapic_w(unsigned reg, uint32_t v)
{
	mmio_w32(lapic + reg, v);
}

static void timer_irq(void *arg)
{
}

uint64_t apic_timer_start_tsc;
uint32_t apic_timer_start_count;

void lapic_init(void)
{
	outb(0x21, 0xff); /* mask both 8259s */
	outb(0xa1, 0xff);

	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic = (uintptr_t)(base & 0xffffff000ull);
	mm_map_mmio(lapic, 4096);
	lapic_w(LAPIC_SVR, 0x100 | 0xff); /* enabled, spurious vector 255 */
	lapic_w(LAPIC_TPR, 0);
	lapic_w(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_w(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_w(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_w(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	/* Free-running and masked until calibrated by clock.c. */
	lapic_w(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_w(LAPIC_TIMER_INIT, 0xffffffffu);
	apic_timer_start_count = apic_timer_count();
	apic_timer_start_tsc = rdtsc();
}

void ioapic_init(const struct ioapic_desc *io, unsigned n)
{

	/* From the ACPI MADT where there is one, else the MP specification's
	 * default, which microvm with acpi=off and Firecracker both use. */
	static const struct ioapic_desc fallback = {IOAPIC_DEFAULT, 0};
	if (n == 0) {
		io = &fallback;
		n = 1;
	}
	for (unsigned i = 0; i < n && nioapic < IOAPIC_MAX; i++) {
		struct ioapic *a = &ioapics[nioapic++];
		a->base = (uintptr_t)io[i].addr;
		a->gsi_base = io[i].gsi_base;
		mm_map_mmio(a->base, 4096);
		mmio_w32(a->base + IOAPIC_REGSEL, 0x01); /* version: bits 16-23 max entry */
		a->count = ((mmio_r32(a->base + IOAPIC_WIN) >> 16) & 0xff) + 1;
	}
}

uint32_t apic_timer_count(void)
{
	return lapic_r(LAPIC_TIMER_CUR);
}

void apic_timer_calibrated(uint64_t hz)
{
	lapic_hz = hz ? hz : 1;
	int vec = irq_alloc(timer_irq, NULL);
	lapic_w(LAPIC_TIMER_INIT, 0);
	lapic_w(LAPIC_LVT_TIMER, (uint32_t)vec); /* one-shot */
}

uint32_t apic_id(void)
{
	return lapic_r(LAPIC_ID) >> 24;
}

void apic_eoi(void)
{
	lapic_w(LAPIC_EOI, 0);
}

void apic_timer_arm(uint64_t ns)
{
	if (ns == 0) {
		lapic_w(LAPIC_TIMER_INIT, 0);
		return;
	}
	/* A longer wait than the counter holds just wakes early: plat_wait
	 * checks the time and sleeps again. */
	unsigned __int128 c = (unsigned __int128)ns * lapic_hz / 1000000000u;
	uint32_t count = c > 0xffffffffu ? 0xffffffffu : c == 0 ? 1 : (uint32_t)c;
	lapic_w(LAPIC_TIMER_INIT, count);
}

void ioapic_route_mode(unsigned gsi, int vector, bool level, bool active_low)
{
	const struct ioapic *a = NULL;
	for (unsigned i = 0; i < nioapic; i++)
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].count)
			a = &ioapics[i];
	if (!a) {
		kprintf("atoll: no IO APIC has interrupt line %u\n", gsi);
		return;
	}
	unsigned pin = gsi - a->gsi_base;
	uint32_t lo = (uint32_t)vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0);
	mmio_w32(a->base + IOAPIC_REGSEL, 0x10 + 2 * pin + 1);
	mmio_w32(a->base + IOAPIC_WIN, apic_id() << 24);
	mmio_w32(a->base + IOAPIC_REGSEL, 0x10 + 2 * pin);
	mmio_w32(a->base + IOAPIC_WIN, lo);
}

void ioapic_route(unsigned gsi, int vector)
{
	/* Level-triggered: a virtio-mmio line stays high until the driver
	 * acknowledges the device, which its interrupt handler does. */
	ioapic_route_mode(gsi, vector, true, false);
}
