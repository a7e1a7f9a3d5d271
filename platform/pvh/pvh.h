/*
 * pvh.h - what the parts of the pvh target share.  Nothing above
 * platform.h includes this.
 */
#ifndef ATOLL_PVH_H
#define ATOLL_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

/* ---- console.c: 16550 UART at COM1 ---------------------------------------- */
void serial_init(void);
void serial_write(const char *buf, size_t len);
/* Formats straight to the serial port: usable before anything else is up
 * and from an exception handler. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- mm.c: memory map, page tables, boot-time allocation ------------------ */
struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type;
	uint32_t reserved;
};
/* Records free RAM (type 1 entries minus the image and the zero page). */
void mm_init(const struct pvh_memmap_entry *map, unsigned n);
/* Builds the final W^X page tables and switches to them. */
void mm_paging_init(void);
/* Zeroed memory from the smallest free region that fits; never freed.
 * Aborts if none fits: boot cannot go on without it. */
void *mm_alloc(size_t size, size_t align);
/* Identity-map a device's registers uncached, read/write, no-execute. */
void mm_map_mmio(uint64_t paddr, uint64_t size);
/* The largest remaining free region: the application's heap. */
void mm_take_heap(void **base, size_t *size);
uint64_t mm_ram_total(void);

/* ---- trap.c: GDT, TSS, IDT, exceptions, interrupts ------------------------- */
void trap_init(void);
/* Register fn(arg) to run (interrupts off) when vector fires.  Returns the
 * vector, or -1 when all are taken. */
int irq_alloc(void (*fn)(void *arg), void *arg);
_Noreturn void crash(const char *what, uint64_t rip, uint64_t rbp, uint64_t addr, bool has_addr);
void backtrace_print(uint64_t rip, uint64_t rbp);

/* ---- apic.c: local APIC (timer, EOI) and IO APIC --------------------------- */
struct ioapic_desc {
	uint64_t addr;
	unsigned gsi_base;
};
/* The local APIC, its timer counting down freely from here on (clock.c
 * calibrates it over the boot work that follows). */
void lapic_init(void);
/* The IO APICs from the ACPI MADT; none: the architectural default. */
void ioapic_init(const struct ioapic_desc *io, unsigned n);
/* The free-running count clock.c calibrates against, where and when it
 * started, and the result. */
uint32_t apic_timer_count(void);
extern uint64_t apic_timer_start_tsc;
extern uint32_t apic_timer_start_count;
void apic_timer_calibrated(uint64_t hz);
void apic_eoi(void);
uint32_t apic_id(void);
/* One-shot wake-up after ns nanoseconds (0: cancel). */
void apic_timer_arm(uint64_t ns);
/* Route IO APIC input gsi to vector, level-triggered active-high. */
void ioapic_route(unsigned gsi, int vector);
void ioapic_route_mode(unsigned gsi, int vector, bool level, bool active_low);

/* ---- acpi.c: MADT, power button, S5 ----------------------------------------- */
/* Reads the tables from rsdp (the start record's, or 0: scan the BIOS area). */
void acpi_init(uint64_t rsdp);
/* The IO APICs the MADT lists (up to max); 0 if it does not say. */
unsigned acpi_ioapics(struct ioapic_desc *out, unsigned max);
/* The virtio-mmio devices the DSDT lists (microvm with ACPI). */
void acpi_virtio_mmio_each(void (*fn)(uint64_t base, uint64_t size, unsigned gsi));
/* Enables the power button (the fixed-feature one, or a hardware-reduced
 * platform's Generic Event Device), whose press calls pvh_stop_request().
 * False where there is none.  Needs the IO APIC. */
bool acpi_power_button_init(void);
bool acpi_has_power_button(void);
bool acpi_has_s5(void);
/* Enters S5 (soft off) where the tables allow; returns if that failed. */
void acpi_poweroff(void);

/* ---- clock.c --------------------------------------------------------------- */
/* At entry: starts the PIT counting, so that calibrating the TSC against it
 * (clock_init) measures the boot work in between instead of busy-waiting. */
void clock_start(void);
void clock_init(void);
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t clock_tsc_hz(void);
/* "TSC 2100.000 MHz (pit)": the frequency and where it came from. */
void clock_describe(char *buf, size_t len);
extern uint64_t pvh_boot_tsc; /* TSC at entry, for the boot-time figure */

/* ---- pci.c ------------------------------------------------------------------- */
struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys;
};
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
/* Physical address of BAR n (mapped by the caller); 0 if none. */
uint64_t pci_bar(const struct pci_dev *d, unsigned n, uint64_t *size);
/* Calls fn for every function on the buses reachable from bus 0. */
void pci_scan(void (*fn)(const struct pci_dev *d, void *arg), void *arg);

/* ---- virtio.c, virtio_net.c, virtio_blk.c, virtio_rng.c -------------------- */
struct virtio_dev;
void virtio_probe(char **argv, int argc, const struct plat_app *app);
/* Called by virtio.c for each device found, in discovery order. */
void vnet_attach(struct virtio_dev *vd);
void vblk_attach(struct virtio_dev *vd);
void vrng_attach(struct virtio_dev *vd);
/* Devices of a kind the app still wants (so unused ones cost no memory). */
extern unsigned pvh_want_net, pvh_want_blk;

/* Handles: network devices 0 .. VNET_HANDLES-1, then block devices. */
#define VNET_HANDLES 16

/* Polled by plat_wait: the handles with input waiting. */
uint64_t vnet_ready(uint64_t interest);
bool vrng_present(void);
void vrng_read(void *buf, size_t len);

/* ---- plat.c ------------------------------------------------------------------ */
/* Sleep until an interrupt or until monotonic time reaches deadline. */
void pvh_idle(uint64_t deadline);
_Noreturn void pvh_poweroff(int status);
/* Makes plat_stop_requested() true (from an interrupt handler). */
void pvh_stop_request(void);

/* ---- libc.c ------------------------------------------------------------------ */
void pvh_canary_set(uint64_t v);
bool cpu_has_rdrand(void);
bool rdrand64(uint64_t *v);

#endif
