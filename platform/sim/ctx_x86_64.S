/*
 * ctx_x86_64.S - switching between the simulator and its nodes.
 *
 * void sim_ctx_switch(void **save_sp, void *new_sp)
 *   Pushes the callee-saved registers of the System V AMD64 ABI, MXCSR
 *   and the x87 control word, stores the stack pointer in *save_sp and
 *   resumes the context saved at new_sp.  No signal mask is saved: unlike
 *   swapcontext(3) this makes no system call, which matters when a seed
 *   sweep switches millions of times.
 *
 * The platform keeps its own switch rather than borrowing lib/core's fiber
 * switch, because the platform sits below the libraries and must not
 * depend on them.  A node's first context is laid out by sched.c so that
 * the switch "returns" into sim_ctx_start with r12 holding the node.
 */
	.text
	.globl	sim_ctx_switch
	.type	sim_ctx_switch, @function
sim_ctx_switch:
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
	.size	sim_ctx_switch, .-sim_ctx_switch

	.globl	sim_ctx_start
	.type	sim_ctx_start, @function
sim_ctx_start:
	/* Entered by ret with %rsp 16-byte aligned, so the call leaves the
	 * callee the alignment the ABI promises.  A zero frame pointer
	 * ends frame-pointer backtraces here.  sim_node_entry never returns. */
	movq	%r12, %rdi
	xorl	%ebp, %ebp
	call	sim_node_entry
	ud2
	.size	sim_ctx_start, .-sim_ctx_start

	.section .note.GNU-stack,"",@progbits
