/*
 * fiber_x86_64.S - the context switch under cooperative fibers.
 *
 * void fiber_switch(void **save_sp, void *new_sp)
 *   Saves the callee-saved registers of the System V AMD64 ABI, MXCSR and
 *   the x87 control word on the current stack, stores the stack pointer in
 *   *save_sp, and resumes the context whose stack pointer is new_sp.
 *
 * A new fiber's stack is laid out by fiber_spawn so that this routine
 * "returns" into fiber_start with r12 holding the struct fiber *.
 */
	.text
	.globl	fiber_switch
	.type	fiber_switch, @function
fiber_switch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	fiber_switch, .-fiber_switch

	.globl	fiber_start
	.type	fiber_start, @function
fiber_start:
	/* Entered by ret with %rsp 16-byte aligned: the call below pushes the
	 * return address as an ordinary call would.  fiber_main never returns. */
	movq	%r12, %rdi
	call	fiber_main@PLT
	ud2
	.size	fiber_start, .-fiber_start

	.section .note.GNU-stack,"",@progbits
