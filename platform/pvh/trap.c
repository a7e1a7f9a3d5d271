/*
 * trap.c - the GDT and TSS, the IDT, crash reports for exceptions and
 * dispatch of device and timer interrupts.
 *
 * An exception is always fatal in a unikernel: it prints what happened,
 * where (with symbol names from the table the build embeds in the image,
 * so even the stripped image names its functions), and a backtrace from
 * the frame-pointer chain, then exits with status 70, never 0.
 */
#include <string.h>

#include "core/fmt.h"
#include "cpu.h"
#include "pvh.h"

#define EXIT_CRASH   70 /* EX_SOFTWARE, as on the hosted target */
#define IRQ_FIRST    32
#define IRQ_COUNT    16
#define VEC_SPURIOUS 255

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};

/* IST1: exceptions; IST2: interrupts; IST3: double fault, NMI, machine
 * check (which may strike while IST1 is in use). */
#define IST_STACK 16384
static uint8_t ist_stacks[3][IST_STACK] __attribute__((aligned(16)));
static struct tss tss;
static uint64_t gdt[5];
static struct idt_gate idt[256];

static struct {
	void (*fn)(void *arg);
	void *arg;
} irq_handlers[IRQ_COUNT];

static void set_gate(unsigned vec, void (*stub)(void), unsigned ist)
{
	uint64_t a = (uintptr_t)stub;
	idt[vec] = (struct idt_gate){
	    (uint16_t)a, 0x08, (uint8_t)ist, 0x8e, (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0};
}

/* One stub per vector in trap_entry.S; the lists name them once. */
/* clang-format off */
#define STUB(v) extern void trap_stub_##v(void);
#define EXC(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) \
	X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) \
	X(29) X(30) X(31)
#define IRQ(X) X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) \
	X(45) X(46) X(47)
EXC(STUB)
IRQ(STUB)
STUB(255)
/* clang-format on */

void trap_init(void)
{
	for (int i = 0; i < 3; i++)
		tss.ist[i] = (uintptr_t)(ist_stacks[i] + IST_STACK);
	tss.iomap_base = sizeof tss; /* no I/O bitmap */
	uint64_t base = (uintptr_t)&tss, limit = sizeof tss - 1;
	gdt[1] = 0x00af9a000000ffffull; /* 64-bit code, as in boot.S */
	gdt[2] = 0x00cf92000000ffffull; /* data */
	gdt[3] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[4] = base >> 32;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gp = {sizeof gdt - 1, (uintptr_t)gdt}, ip = {sizeof idt - 1, (uintptr_t)idt};
	/* The selectors keep the values boot.S gave them, so the segment
	 * registers need no reload. */
	__asm__ volatile("lgdt %0; ltr %w1" ::"m"(gp), "r"(0x18) : "memory");

#define GATE_EXC(v) set_gate(v, trap_stub_##v, (v == 2 || v == 8 || v == 18) ? 3 : 1);
#define GATE_IRQ(v) set_gate(v, trap_stub_##v, 2);
	EXC(GATE_EXC)
	IRQ(GATE_IRQ)
	set_gate(VEC_SPURIOUS, trap_stub_255, 2);
	__asm__ volatile("lidt %0" ::"m"(ip) : "memory");
}

int irq_alloc(void (*fn)(void *arg), void *arg)
{
	for (int i = 0; i < IRQ_COUNT; i++) {
		if (!irq_handlers[i].fn) {
			irq_handlers[i].fn = fn;
			irq_handlers[i].arg = arg;
			return IRQ_FIRST + i;
		}
	}
	return -1;
}

/* ---- Symbols and backtraces ------------------------------------------------ */

/* Written by mksyms.sh: a count, then (address, name offset) pairs sorted
 * by address, then the names. */
struct sym {
	uint32_t addr, name;
};
extern const char __syms_start[], __syms_end[], __text_start[], __text_end[];
extern char boot_stack_guard[];

static const char *sym_lookup(uint64_t pc, uint64_t *off)
{
	if ((size_t)(__syms_end - __syms_start) < 8 || pc < (uintptr_t)__text_start ||
	    pc >= (uintptr_t)__text_end)
		return NULL;
	uint32_t n;
	memcpy(&n, __syms_start, 4);
	const struct sym *tab = (const struct sym *)(__syms_start + 8);
	const char *names = (const char *)(tab + n);
	unsigned lo = 0, hi = n; /* find the last entry with addr <= pc */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (tab[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	*off = pc - tab[lo - 1].addr;
	return names + tab[lo - 1].name;
}

static void print_pc(unsigned i, uint64_t pc)
{
	uint64_t off;
	const char *name = sym_lookup(pc, &off);
	if (name)
		kprintf("  #%-2u 0x%llx %s+0x%llx\n", i, (unsigned long long)pc, name,
			(unsigned long long)off);
	else
		kprintf("  #%-2u 0x%llx ?\n", i, (unsigned long long)pc);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	kprintf("backtrace:\n");
	print_pc(0, rip);
	/* Frame pointers chain each frame to its caller's, which sits higher
	 * on the same stack.  Stop at a zero (boot.S clears rbp), at anything
	 * unaligned or going down, and before reading an unmapped page. */
	uint64_t last = 0;
	unsigned repeats = 0, i = 1;
	for (unsigned n = 0; n < 256 && i < 32 && rbp; n++) {
		if ((rbp & 7) || rbp < 4096 || rbp >= (uintptr_t)__text_start + (1ull << 40))
			break;
		uint64_t next = ((uint64_t *)(uintptr_t)rbp)[0];
		uint64_t ret = ((uint64_t *)(uintptr_t)rbp)[1];
		/* Code without frame pointers (Debian's libraries) or a smashed
		 * stack leave no trustworthy chain past this point. */
		if (ret <= (uintptr_t)__text_start || ret > (uintptr_t)__text_end)
			break;
		if (ret == last) {
			repeats++; /* deep recursion: one line for all of it */
		} else {
			if (repeats)
				kprintf("      (the frame above %u more times)\n", repeats);
			repeats = 0;
			/* The return address points after the call: name the call. */
			print_pc(i++, ret - 1);
			last = ret;
		}
		if (next <= rbp)
			break;
		rbp = next;
	}
	if (repeats)
		kprintf("      (the frame above %u more times)\n", repeats);
}

_Noreturn void crash(const char *what, uint64_t rip, uint64_t rbp, uint64_t addr, bool has_addr)
{
	static bool crashing;
	if (crashing) {
		kprintf("atoll: crashed again while reporting a crash: %s\n", what);
		pvh_poweroff(EXIT_CRASH);
	}
	crashing = true;
	if (has_addr)
		kprintf("atoll: %s at address 0x%llx\n", what, (unsigned long long)addr);
	else
		kprintf("atoll: %s\n", what);
	if (rip)
		backtrace_print(rip, rbp);
	kprintf("atoll: exit status %d\n", EXIT_CRASH);
	pvh_poweroff(EXIT_CRASH);
}

static const char *const exc_names[32] = {"divide error",
					  "debug",
					  "NMI",
					  "breakpoint",
					  "overflow",
					  "bound range exceeded",
					  "invalid opcode",
					  "device not available",
					  "double fault",
					  "coprocessor overrun",
					  "invalid TSS",
					  "segment not present",
					  "stack fault",
					  "general protection fault",
					  "page fault",
					  "reserved",
					  "x87 floating-point error",
					  "alignment check",
					  "machine check",
					  "SIMD floating-point error",
					  "virtualization exception",
					  "control protection"};

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= IRQ_FIRST && f->vector < IRQ_FIRST + IRQ_COUNT) {
		unsigned i = (unsigned)f->vector - IRQ_FIRST;
		if (irq_handlers[i].fn)
			irq_handlers[i].fn(irq_handlers[i].arg);
		apic_eoi();
		return;
	}
	if (f->vector == VEC_SPURIOUS)
		return; /* no EOI for a spurious interrupt */

	const char *name =
	    f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "exception";
	char what[160];
	if (f->vector == 14) {
		uint64_t addr = read_cr2();
		const char *kind = f->error & 16  ? "instruction fetch"
				   : f->error & 2 ? "write"
						  : "read";
		const char *why = f->error & 1 ? "protection violation" : "page not present";
		if (addr < 4096)
			why = "NULL pointer dereference";
		else if (addr >= (uintptr_t)boot_stack_guard &&
			 addr < (uintptr_t)boot_stack_guard + 4096)
			why = "stack overflow into the guard page";
		fmt_snprintf(what, sizeof what, "page fault (%s, %s) at rip 0x%llx", kind, why,
			     (unsigned long long)f->rip);
		kprintf("atoll: registers rsp 0x%llx rbp 0x%llx rax 0x%llx rdi 0x%llx rsi 0x%llx\n",
			(unsigned long long)f->rsp, (unsigned long long)f->rbp,
			(unsigned long long)f->rax, (unsigned long long)f->rdi,
			(unsigned long long)f->rsi);
		crash(what, f->rip, f->rbp, addr, true);
	}
	fmt_snprintf(what, sizeof what, "%s (vector %llu, error 0x%llx)", name,
		     (unsigned long long)f->vector, (unsigned long long)f->error);
	kprintf("atoll: registers rsp 0x%llx rbp 0x%llx rax 0x%llx rdi 0x%llx rsi 0x%llx\n",
		(unsigned long long)f->rsp, (unsigned long long)f->rbp, (unsigned long long)f->rax,
		(unsigned long long)f->rdi, (unsigned long long)f->rsi);
	crash(what, f->rip, f->rbp, f->rip, true);
}
