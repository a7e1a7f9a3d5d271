/*
 * cpu.h - x86-64 instructions C cannot express: port and MMIO access,
 * MSRs, CPUID, the TSC and interrupt control.
 */
#ifndef ATOLL_PVH_CPU_H
#define ATOLL_PVH_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Device registers: volatile accesses of exactly the named width, which
 * virtio and the APICs require. */
static inline uint8_t mmio_r8(uintptr_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_r16(uintptr_t a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t mmio_r32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}
static inline void mmio_w8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_w16(uintptr_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void mmio_w32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

struct cpuid_regs {
	uint32_t a, b, c, d;
};
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
			 : "a"(leaf), "c"(sub));
	return r;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}
/* Orders a store before a later load (x86 reorders only that pair). */
static inline void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* Interrupts are off except inside idle_hlt, so the interrupted code is
 * always this instruction pair: "sti; hlt" takes an interrupt only once
 * the hlt has begun, so a wake-up cannot slip in between the caller's last
 * check and the sleep. */
static inline void idle_hlt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#endif
