/*
 * sandbox.c - what a hosted unikernel may still do once the app runs.
 *
 * Every device and file is open before the app starts, so from then on the
 * process needs only a handful of system calls on file descriptors it
 * already holds.  Two steps take everything else away:
 *
 *  1. Running as root, become nobody (uid/gid 65534, no supplementary
 *     groups): open descriptors keep working, all capabilities go.
 *  2. no_new_privs and a seccomp filter (seccomp(2), and the kernel's
 *     Documentation/userspace-api/seccomp_filter.rst) that allows the calls
 *     below, each pinned to the descriptors it may touch, and kills the
 *     whole process (SIGSYS) on anything else.
 *
 * The filter is a classic BPF program over struct seccomp_data, built at
 * run time because the pinned descriptor numbers are only known then.
 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hosted.h"

/* nobody/nogroup on Debian and the kernel's overflow ids: fixed numbers,
 * so no NSS lookup (and no file read) is needed to find them. */
#define NOBODY_ID 65534

#define PROG_MAX 1024
#define FDS_MAX	 (2 * PLAT_HANDLE_MAX + 1)

struct prog {
	struct sock_filter insn[PROG_MAX];
	unsigned n;
	bool bad; /* too long, or a jump too far for the 8-bit offsets */
};

static void emit(struct prog *p, uint16_t code, unsigned jt, unsigned jf, uint32_t k)
{
	if (p->n == PROG_MAX || jt > 255 || jf > 255) {
		p->bad = true;
		return;
	}
	p->insn[p->n++] = (struct sock_filter)BPF_JUMP(code, k, (uint8_t)jt, (uint8_t)jf);
}

/* The low half of argument i.  System calls taking an int or unsigned
 * (descriptors, socket domain and type) use only these 32 bits: the
 * kernel truncates the register, so the high half cannot change them. */
static uint32_t arg_lo(unsigned i)
{
	return (uint32_t)(offsetof(struct seccomp_data, args) + 8 * i);
}

/* A rule is "if nr is this call: checks...; allow", skipped as a whole for
 * any other call.  Each check kills the process when it fails.  The
 * accumulator holds nr between rules: a rule loads arguments only after
 * its nr matched, and then it always returns. */
static unsigned rule_begin(struct prog *p, long nr)
{
	unsigned at = p->n;
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (uint32_t)nr); /* jf patched below */
	return at;
}

static void rule_end(struct prog *p, unsigned at)
{
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	unsigned skip = p->n - at - 1;
	if (p->bad || skip > 255)
		p->bad = true;
	else
		p->insn[at].jf = (uint8_t)skip;
}

static void emit_kill(struct prog *p)
{
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
}

/* Argument i must be one of vals. */
static void need_in(struct prog *p, unsigned i, const int *vals, unsigned k)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(i));
	for (unsigned j = 0; j < k; j++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, k - j, 0, (uint32_t)vals[j]);
	emit_kill(p);
}

/* Argument i must be none of vals, and at least min. */
static void need_not_in(struct prog *p, unsigned i, uint32_t min, const int *vals, unsigned k)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(i));
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 1, 0, min);
	emit_kill(p);
	for (unsigned j = 0; j < k; j++) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)vals[j]);
		emit_kill(p);
	}
}

/* (argument i & mask) must be one of vals. */
static void need_masked_in(struct prog *p, unsigned i, uint32_t mask, const int *vals, unsigned k)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(i));
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
	for (unsigned j = 0; j < k; j++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, k - j, 0, (uint32_t)vals[j]);
	emit_kill(p);
}

static void allow(struct prog *p, long nr)
{
	rule_end(p, rule_begin(p, nr));
}

static void allow_fd_in(struct prog *p, long nr, const int *fds, unsigned k)
{
	if (k == 0)
		return; /* no such descriptor: the call stays forbidden */
	unsigned at = rule_begin(p, nr);
	need_in(p, 0, fds, k);
	rule_end(p, at);
}

/* Host sockets are created after the sandbox, so their numbers are not
 * known here: allow any descriptor except stdio and the devices. */
static void allow_socket_fd(struct prog *p, long nr, const int *dev_fds, unsigned k)
{
	unsigned at = rule_begin(p, nr);
	need_not_in(p, 0, 3, dev_fds, k);
	rule_end(p, at);
}

struct fdset {
	int fd[FDS_MAX];
	unsigned n;
};

static void fdset_add(struct fdset *s, int fd)
{
	if (fd >= 0 && s->n < FDS_MAX)
		s->fd[s->n++] = fd;
}

static bool build_filter(struct prog *p, const struct hosted_sandbox_policy *pol)
{
#if defined(__x86_64__)
	struct fdset taps = {.n = 0}, blocks = {.n = 0}, vec_out = {.n = 0}, out = {.n = 0};
	struct fdset devs = {.n = 0};
	fdset_add(&vec_out, 1);
	fdset_add(&out, 1);
	for (plat_handle_t h = 0; h < PLAT_HANDLE_MAX; h++) {
		struct hosted_handle *n = hosted_handle_get(h, HOSTED_NET);
		struct hosted_handle *b = hosted_handle_get(h, HOSTED_BLOCK);
		if (n) {
			fdset_add(&taps, n->fd);
			fdset_add(&out, n->fd);
			fdset_add(&devs, n->fd);
			fdset_add(&vec_out, n->fd); /* frames gathered from slots */
			fdset_add(&vec_out, n->u.net.pcap_fd);
			fdset_add(&devs, n->u.net.pcap_fd);
		}
		if (b) {
			fdset_add(&blocks, b->fd);
			fdset_add(&devs, b->fd);
		}
	}

	/* Only x86_64 numbers are checked below, and x32 calls (the same arch
	 * value, nr | __X32_SYSCALL_BIT) are refused outright. */
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	emit_kill(p);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	emit_kill(p);

	/* The runtime: frames, console, pcap, blocks, the wait, time, exit. */
	allow_fd_in(p, SYS_readv, taps.fd, taps.n); /* frame + spill byte (net.c) */
	allow_fd_in(p, SYS_write, out.fd, out.n);
	/* frames and pcap records (net.c); the console for
	 * backtrace_symbols_fd(3) */
	allow_fd_in(p, SYS_writev, vec_out.fd, vec_out.n);
	allow_fd_in(p, SYS_pread64, blocks.fd, blocks.n);
	allow_fd_in(p, SYS_pwrite64, blocks.fd, blocks.n);
	allow_fd_in(p, SYS_fdatasync, blocks.fd, blocks.n);
	allow(p, SYS_ppoll);
	allow(p, SYS_clock_gettime); /* normally served by the vDSO */
	allow(p, SYS_getrandom);
	allow(p, SYS_rt_sigreturn); /* return from the SIGTERM/SIGINT handler */
	allow(p, SYS_exit_group);
	allow(p, SYS_exit);

	if (pol->sockets) {
		/* socket(AF_INET, SOCK_DGRAM or SOCK_STREAM [| SOCK_NONBLOCK |
		 * SOCK_CLOEXEC], 0, UDP or TCP): stack.h's UDP and TCP.  (A
		 * mismatched pair such as DGRAM + TCP passes here and is
		 * refused by the kernel.) */
		unsigned at = rule_begin(p, SYS_socket);
		static const int inet[] = {AF_INET};
		static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
		static const int protos[] = {0, IPPROTO_UDP, IPPROTO_TCP};
		need_in(p, 0, inet, 1);
		need_masked_in(p, 1, ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC), types, 2);
		need_in(p, 2, protos, 3);
		rule_end(p, at);
		allow_socket_fd(p, SYS_bind, devs.fd, devs.n);
		allow_socket_fd(p, SYS_sendto, devs.fd, devs.n);
		allow_socket_fd(p, SYS_recvfrom, devs.fd, devs.n);
		allow_socket_fd(p, SYS_close, devs.fd, devs.n);
		/* TCP (sockstack.c): the calls of a stream socket's life.
		 * setsockopt/getsockopt carry only TCP_NODELAY, SO_KEEPALIVE,
		 * SO_REUSEADDR and SO_ERROR, all harmless on our own sockets. */
		allow_socket_fd(p, SYS_listen, devs.fd, devs.n);
		allow_socket_fd(p, SYS_accept4, devs.fd, devs.n);
		allow_socket_fd(p, SYS_connect, devs.fd, devs.n);
		allow_socket_fd(p, SYS_shutdown, devs.fd, devs.n);
		allow_socket_fd(p, SYS_setsockopt, devs.fd, devs.n);
		allow_socket_fd(p, SYS_getsockopt, devs.fd, devs.n);
		allow_socket_fd(p, SYS_getpeername, devs.fd, devs.n); /* connected yet? */
	}
	emit_kill(p);
	return !p->bad;
#else
	(void)p;
	(void)pol;
	fprintf(stderr, "sandbox: no seccomp filter for this architecture yet; use --no-sandbox\n");
	return false;
#endif
}

/* Keep CAP_NET_BIND_SERVICE alone in the permitted and effective sets:
 * the socket stack binds privileged ports (echo's 7, DNS's 53) only after
 * the app has started, long after we stopped being root.  Nothing else
 * survives, and no_new_privs plus the filter rule out execve, so the
 * bounding and inheritable sets never matter again. */
static bool keep_bind_cap(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	return syscall(SYS_capset, &hdr, data) == 0;
}

static bool drop_root(bool keep_bind)
{
	uid_t ruid, euid, suid;
	if (getresuid(&ruid, &euid, &suid) != 0)
		return false;
	if (ruid != 0 && euid != 0 && suid != 0)
		return true; /* not privileged to begin with: nothing to drop */
	/* capabilities(7): leaving uid 0 clears the permitted set unless
	 * PR_SET_KEEPCAPS is on; keep_bind_cap then trims it to one. */
	if (keep_bind && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return false;
	if (setgroups(0, NULL) != 0 || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) != 0 ||
	    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) != 0)
		return false;
	if (keep_bind && (!keep_bind_cap() || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0))
		return false;
	/* Belt and braces: there must be no way back. */
	if (setresuid(0, 0, 0) == 0)
		return false;
	return true;
}

bool hosted_sandbox_enter(const struct hosted_sandbox_policy *pol)
{
	static struct prog p; /* 8 KiB: kept off the start-up stack */
	memset(&p, 0, sizeof p);
	if (!build_filter(&p, pol)) {
		fprintf(stderr, "sandbox: cannot build the seccomp filter\n");
		return false;
	}
	if (!drop_root(pol->sockets)) {
		fprintf(stderr, "sandbox: cannot drop root privileges to uid %d: %s\n", NOBODY_ID,
			strerror(errno));
		return false;
	}
	/* Required for an unprivileged process to install a filter, and makes
	 * execve unable to grant anything (prctl(2)). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "sandbox: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return false;
	}
	struct sock_fprog fprog = {(unsigned short)p.n, p.insn};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
		fprintf(stderr, "sandbox: seccomp: %s\n", strerror(errno));
		return false;
	}
	return true;
}
