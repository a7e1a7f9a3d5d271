/*
 * clock.c - time from the TSC.
 *
 * Monotonic time is TSC ticks since entry scaled to nanoseconds.  The
 * TSC's frequency comes, in order of preference, from the KVM paravirtual
 * clock, from the hypervisor's CPUID leaf 0x40000010 or the CPU's leaf
 * 0x15, and otherwise from counting it against PIT channel 0 (1.193182
 * MHz), which is the only source under QEMU's software emulation.  The
 * PIT starts counting at entry (clock_start) and clock_init reads it: the
 * window is the boot work in between (a few ms under TCG), topped up by a
 * busy wait only where that was shorter than 2 ms.  The local APIC timer
 * is calibrated against the TSC likewise, from lapic_init on, at least
 * 1 ms.  Wall time is the paravirtual clock's or the CMOS
 * RTC's reading at boot plus monotonic time.
 */
#include <string.h>

#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"

#define PIT_HZ			 1193182u
#define PIT_CAL_TICKS		 2386u /* 2 ms at least: 1 tick in 2386, 0.04% */
#define PIT_READBACK_CH0	 0xe2  /* read-back: status (not count) of channel 0 */
#define PIT_STATUS_OUT		 0x80  /* mode 0: the count reached zero */
#define MSR_KVM_WALL_CLOCK_NEW	 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

uint64_t pvh_boot_tsc;
static uint64_t tsc_hz;
static uint64_t ns_per_tick_q32; /* nanoseconds per tick, 32.32 fixed point */
static uint64_t wall_at_boot;	 /* ns since the epoch at monotonic 0 */
static const char *clock_src;

/* The KVM paravirtual clock's shared records (KVM's ABI). */
struct pvclock_vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));
struct pvclock_wall_clock {
	uint32_t version, sec, nsec;
} __attribute__((packed));
static struct pvclock_vcpu_time_info pvti __attribute__((aligned(64)));
static struct pvclock_wall_clock pvwall;

static bool kvm_clock_present(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	if (r.b != 0x4b4d564b || r.c != 0x564b4d56 || r.d != 0x4d) /* "KVMKVMKVM\0\0\0" */
		return false;
	return cpuid(0x40000001, 0).a & KVM_FEATURE_CLOCKSOURCE2;
}

static bool kvm_clock(void)
{
	if (!kvm_clock_present())
		return false;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&pvti | 1);
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uintptr_t)&pvwall);
	barrier();
	if (!pvti.tsc_to_system_mul)
		return false;
	/* system time = ((tsc - stamp) << shift) * mul >> 32, so one tick is
	 * 2^shift * mul / 2^32 ns. */
	unsigned __int128 hz = (unsigned __int128)1000000000u << 32;
	hz /= pvti.tsc_to_system_mul;
	if (pvti.tsc_shift < 0)
		hz <<= -pvti.tsc_shift;
	else
		hz >>= pvti.tsc_shift;
	tsc_hz = (uint64_t)hz;
	/* The wall clock record is the host's time at guest system time 0. */
	uint64_t sys = pvti.system_time; /* close enough to "now" at boot */
	wall_at_boot = (uint64_t)pvwall.sec * 1000000000u + pvwall.nsec + sys;
	return true;
}

static uint64_t cpuid_tsc_hz(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	if (r.a >= 0x40000010 && r.a < 0x40010000) {
		uint32_t khz = cpuid(0x40000010, 0).a;
		if (khz)
			return (uint64_t)khz * 1000;
	}
	if (cpuid(0, 0).a >= 0x15) {
		r = cpuid(0x15, 0);
		if (r.a && r.b && r.c)
			return (uint64_t)r.c * r.b / r.a;
	}
	return 0;
}

static uint16_t pit_read(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	return (uint16_t)(lo | inb(0x40) << 8);
}

/* The PIT count and the TSC at one tick edge: waits for the count to
 * change (under 1 us), so both ends of the window are aligned to a tick. */
static bool pit_edge(uint16_t *count, uint64_t *tsc)
{
	uint16_t c0 = pit_read();
	for (uint32_t spins = 0; spins < 20000; spins++) { /* a tick is 838 ns */
		uint16_t c = pit_read();
		if (c != c0) {
			*tsc = rdtsc();
			*count = c;
			return true;
		}
	}
	return false; /* no PIT (Firecracker has none without KVM's) */
}

static struct {
	uint16_t count;
	uint64_t tsc;
	bool ok;
} pit_start;

static void pit_restart(void)
{
	outb(0x43, 0x30); /* channel 0, lo/hi, mode 0 (one count-down), binary */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	/* Twice: under TCG the first run of this code is translated between
	 * the PIT read and the TSC read, which would shorten the window by
	 * tens of microseconds. */
	pit_edge(&pit_start.count, &pit_start.tsc);
	pit_start.ok = pit_edge(&pit_start.count, &pit_start.tsc);
}

void clock_start(void)
{
	if (!kvm_clock_present() && !cpuid_tsc_hz())
		pit_restart(); /* the PIT will be needed */
}

/* TSC ticks across at least PIT_CAL_TICKS of the PIT since clock_start,
 * and the nanoseconds that was; 0 if the PIT does not count. */
static uint64_t pit_calibrate(uint64_t *ns)
{
	/* Mode 0 raises OUT when the count reaches zero, after 55 ms: a
	 * longer boot wrapped the count, so measure afresh. */
	outb(0x43, PIT_READBACK_CH0);
	if (!pit_start.ok || (inb(0x40) & PIT_STATUS_OUT))
		pit_restart();
	if (!pit_start.ok)
		return 0;
	for (;;) {
		uint16_t now;
		uint64_t t1;
		if (!pit_edge(&now, &t1))
			return 0;
		uint16_t ticks = (uint16_t)(pit_start.count - now);
		if (ticks >= PIT_CAL_TICKS) {
			*ns = (uint64_t)ticks * 1000000000u / PIT_HZ;
			return t1 - pit_start.tsc;
		}
	}
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 15);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static uint64_t rtc_read_ns(void)
{
	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		cpu_relax(); /* an update is in progress */
	uint8_t b = cmos(0x0b);
	if (b == 0xff)
		return 0; /* no RTC */
	bool bin = b & 4;
	unsigned s = bcd(cmos(0x00), bin), mi = bcd(cmos(0x02), bin);
	uint8_t hr = cmos(0x04);
	unsigned h = bcd(hr & 0x7f, bin);
	if (!(b & 2) && (hr & 0x80))
		h = (h % 12) + 12; /* 12-hour mode, PM */
	unsigned d = bcd(cmos(0x07), bin), mo = bcd(cmos(0x08), bin), y = bcd(cmos(0x09), bin);
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	int64_t days = days_from_civil(2000 + y, mo, d);
	return (uint64_t)(days * 86400 + h * 3600 + mi * 60 + s) * 1000000000u;
}

void clock_init(void)
{
	const char *src = "kvm-clock";
	if (!kvm_clock()) {
		tsc_hz = cpuid_tsc_hz();
		src = "cpuid";
		if (!tsc_hz) {
			uint64_t ns = 0, ticks = pit_calibrate(&ns);
			if (ticks && ns)
				tsc_hz = ticks * 1000000000u / ns;
			src = "pit";
		}
		if (!tsc_hz) {
			tsc_hz = 1000000000u;
			src = "none found: assuming 1 GHz";
		}
		wall_at_boot = rtc_read_ns();
	}
	ns_per_tick_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz);
	/* The APIC timer has counted down since lapic_init: against the TSC,
	 * over at least 1 ms. */
	uint64_t end = apic_timer_start_tsc + tsc_hz / 1000;
	while (rdtsc() < end)
		cpu_relax();
	uint32_t a1 = apic_timer_count();
	uint64_t t1 = rdtsc();
	uint64_t apic_ns = tsc_to_ns(t1 - apic_timer_start_tsc);
	uint64_t apic_counts = (uint32_t)(apic_timer_start_count - a1);
	apic_timer_calibrated(apic_ns ? apic_counts * 1000000000u / apic_ns : 0);
	uint64_t now = plat_clock_monotonic();
	if (wall_at_boot > now)
		wall_at_boot -= now;
	clock_src = src;
}

/* Each console byte is a trip to the VMM: the boot summary is one line. */
void clock_describe(char *buf, size_t len)
{
	fmt_snprintf(buf, len, "TSC %llu.%03llu MHz (%s)", (unsigned long long)(tsc_hz / 1000000),
		     (unsigned long long)(tsc_hz / 1000 % 1000), clock_src);
}

uint64_t clock_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
}

uint64_t plat_clock_monotonic(void)
{
	return tsc_to_ns(rdtsc() - pvh_boot_tsc);
}

uint64_t plat_clock_wall(void)
{
	return wall_at_boot + plat_clock_monotonic();
}
