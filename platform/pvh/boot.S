/*
 * boot.S - PVH entry: 32-bit protected mode to 64-bit long mode to C.
 *
 * The VMM (QEMU -kernel, Firecracker, Cloud Hypervisor) finds our entry
 * point in the Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY and jumps to it with
 * paging off, flat 32-bit segments, interrupts off and %ebx holding the
 * physical address of the hvm_start_info record.  Nothing else may be
 * assumed: there is no stack, and on QEMU microvm %eax still holds the
 * multiboot magic, so the record's own magic is what C checks.
 *
 * Here we only do what C cannot: zero .bss, identity-map the first GiB
 * with 2 MiB pages (C replaces these tables with W^X ones at once), turn
 * on SSE (gcc -O2 and Debian's libraries use it everywhere), enter long
 * mode, point FS at the stack-protector block and call pvh_main.
 */
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define MSR_FS_BASE 0xc0000100

/* XEN_ELFNOTE_PHYS32_ENTRY (18): for an ELF64 image its payload is 8
 * bytes; the note sits in its own PT_NOTE segment (see link.ld). */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4
	.long	8
	.long	18
	.asciz	"Xen"
	.balign 4
	.quad	_start32
	.balign 4

	.section .text.boot, "ax", @progbits
	.code32
	.globl	_start32
	.type	_start32, @function
_start32:
	cld
	movl	%ebx, %esi /* the start record survives in esi */

	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb

	/* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB (P|RW|PS). */
	movl	$boot_pdpt, %eax
	orl	$3, %eax
	movl	%eax, boot_pml4
	movl	$boot_pd, %eax
	orl	$3, %eax
	movl	%eax, boot_pdpt
	movl	$boot_pd, %edi
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax
	movl	%eax, (%edi,%ecx,8)
	incl	%ecx
	cmpl	$512, %ecx
	jne	1b

	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl	%eax, %cr4
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl	%cr0, %eax
	andl	$~CR0_EM, %eax
	orl	$(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
	movl	%eax, %cr0

	lgdt	gdt_ptr
	ljmp	$0x08, $start64

	.code64
start64:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp /* ends every backtrace */

	fninit
	ldmxcsr	mxcsr_default

	/* gcc's stack protector reads the canary at %fs:0x28. */
	movl	$MSR_FS_BASE, %ecx
	movq	$pvh_tls, %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	wrmsr

	movl	%esi, %edi
	call	pvh_main
2:	cli
	hlt
	jmp	2b
	.size	_start32, .-_start32

	.section .rodata
	.balign 4
mxcsr_default:
	.long	0x1f80

/* The boot GDT: null, 64-bit code (0x08), data (0x10).  trap.c installs
 * the final one with a TSS. */
	.balign 8
gdt:
	.quad	0
	.quad	0x00af9a000000ffff
	.quad	0x00cf92000000ffff
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4096

/* The boot stack, with an unmapped guard page below it (mm.c leaves
 * boot_stack_guard out of the page tables) so an overflow faults. */
	.section .bss.stack, "aw", @nobits
	.balign 4096
	.globl	boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
	.skip	4096
boot_stack_bottom:
	.skip	32768
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
