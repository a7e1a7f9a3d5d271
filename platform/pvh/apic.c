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

static uintptr_t lapic, ioapic;
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

/* The IO APIC's address: from the ACPI MADT where the VMM gives one
 * (rsdp is the start record's), else the architectural default that
 * microvm with acpi=off and Firecracker both use. */
/* ACPI tables sit in memory the page tables leave out (reserved or ACPI
 * areas of the memory map): map each before reading it. */
static const uint8_t *acpi_table(uint64_t paddr)
{
	mm_map_mmio(paddr, 8);
	uint32_t len = *(const uint32_t *)(uintptr_t)(paddr + 4);
	mm_map_mmio(paddr, len < 36 ? 36 : len);
	return (const uint8_t *)(uintptr_t)paddr;
}

static uint64_t ioapic_find(uint64_t rsdp)
{
	if (!rsdp)
		return IOAPIC_DEFAULT;
	mm_map_mmio(rsdp, 36);
	const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
	uint64_t sdt;
	unsigned entsz;
	if (r[15] >= 2 && *(const uint64_t *)(r + 24)) {
		sdt = *(const uint64_t *)(r + 24); /* XSDT */
		entsz = 8;
	} else {
		sdt = *(const uint32_t *)(r + 16); /* RSDT */
		entsz = 4;
	}
	const uint8_t *t = acpi_table(sdt);
	uint32_t len = *(const uint32_t *)(t + 4);
	for (uint32_t off = 36; off + entsz <= len; off += entsz) {
		uint64_t p =
		    entsz == 8 ? *(const uint64_t *)(t + off) : *(const uint32_t *)(t + off);
		const uint8_t *h = acpi_table(p);
		if (h[0] != 'A' || h[1] != 'P' || h[2] != 'I' || h[3] != 'C')
			continue;
		uint32_t mlen = *(const uint32_t *)(h + 4);
		for (uint32_t e = 44; e + 2 <= mlen && h[e + 1] >= 2; e += h[e + 1])
			if (h[e] == 1 && h[e + 1] >= 12)
				return *(const uint32_t *)(h + e + 4);
	}
	return IOAPIC_DEFAULT;
}

void apic_init(uint64_t rsdp)
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

	ioapic = (uintptr_t)ioapic_find(rsdp);
	mm_map_mmio(ioapic, 4096);
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

void ioapic_route(unsigned gsi, int vector)
{
	/* Level-triggered: a virtio-mmio line stays high until the driver
	 * acknowledges the device, which its interrupt handler does. */
	uint32_t lo = (uint32_t)vector | 1u << 15;
	mmio_w32(ioapic + IOAPIC_REGSEL, 0x10 + 2 * gsi + 1);
	mmio_w32(ioapic + IOAPIC_WIN, apic_id() << 24);
	mmio_w32(ioapic + IOAPIC_REGSEL, 0x10 + 2 * gsi);
	mmio_w32(ioapic + IOAPIC_WIN, lo);
}
