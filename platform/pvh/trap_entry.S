/*
 * trap_entry.S - the first instructions of every exception and interrupt.
 *
 * Each vector's stub pushes a zero where the CPU pushes no error code, so
 * that trap.c sees one frame layout (struct trap_frame), then the vector
 * number.  All of them run on IST stacks (see trap.c): an exception from a
 * stack overflow has a stack to report on, and Debian's libraries, built
 * with the red zone, are never overwritten by an interrupt.  The FPU/SSE
 * state is saved too, because trap.c is compiled with SSE like the rest.
 */
	.text
	.macro	stub vec
	.globl	trap_stub_\vec
trap_stub_\vec:
	.if (\vec == 8 || \vec == 10 || \vec == 11 || \vec == 12 || \vec == 13 || \vec == 14 || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
	.endm

	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub	\v
	.endr
	.irp	v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,255
	stub	\v
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	movq	%rsp, %rbx
	andq	$-16, %rsp
	subq	$512, %rsp
	fxsave	(%rsp)
	call	trap_dispatch
	fxrstor	(%rsp)
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp /* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
