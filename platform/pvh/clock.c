/*
 * clock.c - time from the TSC.
 *
 * Monotonic time is TSC ticks since entry scaled to nanoseconds.  The
 * TSC's frequency comes, in order of preference, from the KVM paravirtual
 * clock, from the hypervisor's CPUID leaf 0x40000010 or the CPU's leaf
 * 0x15, and otherwise from counting it against PIT channel 0 (1.193182
 * MHz) for a few milliseconds, which is the only source under QEMU's
 * software emulation.  The local APIC timer is calibrated against the TSC
 * in the same window.  Wall time is the paravirtual clock's or the CMOS
 * RTC's reading at boot plus monotonic time.
 */
#include <string.h>

#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"

#define PIT_HZ			 1193182u
#define PIT_CAL_TICKS		 2386u /* 2 ms: 1 tick in 2386, 0.04% */
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

static bool kvm_clock(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	if (r.b != 0x4b4d564b || r.c != 0x564b4d56 || r.d != 0x4d) /* "KVMKVMKVM\0\0\0" */
		return false;
	if (!(cpuid(0x40000001, 0).a & KVM_FEATURE_CLOCKSOURCE2))
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

/* Counts TSC ticks (and APIC timer counts) across PIT_CAL_TICKS of the
 * PIT; 0 if the PIT does not count (Firecracker has none without KVM's). */
static uint64_t pit_calibrate(uint64_t *apic_counts, uint64_t *ns)
{
	outb(0x43, 0x30); /* channel 0, lo/hi, mode 0, binary */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	uint16_t start = pit_read();
	uint64_t t0 = rdtsc();
	uint32_t a0 = apic_timer_count();
	for (uint32_t spins = 0;; spins++) {
		uint16_t now = pit_read();
		if ((uint16_t)(start - now) >= PIT_CAL_TICKS) {
			uint64_t t1 = rdtsc();
			*apic_counts = a0 - apic_timer_count();
			*ns = (uint64_t)(uint16_t)(start - now) * 1000000000u / PIT_HZ;
			return t1 - t0;
		}
		if (spins > 10000000)
			return 0;
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
	uint64_t apic_counts = 0, apic_ns = 0;
	if (!kvm_clock()) {
		tsc_hz = cpuid_tsc_hz();
		src = "cpuid";
		if (!tsc_hz) {
			uint64_t ticks = pit_calibrate(&apic_counts, &apic_ns);
			if (ticks && apic_ns)
				tsc_hz = ticks * 1000000000u / apic_ns;
			src = "pit";
		}
		if (!tsc_hz) {
			tsc_hz = 1000000000u;
			src = "none found: assuming 1 GHz";
		}
		wall_at_boot = rtc_read_ns();
	}
	ns_per_tick_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz);
	if (!apic_ns) {
		/* Calibrate the APIC timer against the now-known TSC: 1 ms. */
		uint32_t a0 = apic_timer_count();
		uint64_t t0 = rdtsc(), end = t0 + tsc_hz / 1000;
		while (rdtsc() < end)
			cpu_relax();
		apic_counts = a0 - apic_timer_count();
		apic_ns = tsc_to_ns(rdtsc() - t0);
	}
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
