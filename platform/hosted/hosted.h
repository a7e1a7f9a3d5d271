/*
 * hosted.h - the inside of the hosted target (an ordinary Linux process).
 *
 * Only platform/hosted/ includes this header.  The hosted target is one
 * node per process, so its state (the handle table, the clock origin, the
 * stop flag) lives in file-level variables here: a signal handler needs
 * one anyway, and nothing above platform.h can see them.
 *
 * Start-up order (main.c): parse the command line, open every device and
 * pcap file, enter the sandbox, then call the app.  After the sandbox no
 * new file can be opened, so everything the app may acquire exists by then.
 */
#ifndef ATOLL_PLATFORM_HOSTED_H
#define ATOLL_PLATFORM_HOSTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

struct loop;
struct stack;
struct stack_ops;

/* Exit statuses of the hosted runner itself (the app chooses its own). */
#define HOSTED_EXIT_USAGE 2  /* bad command line */
#define HOSTED_EXIT_SETUP 1  /* a device, the heap or the sandbox failed */
#define HOSTED_EXIT_ABORT 70 /* plat_abort: EX_SOFTWARE of sysexits.h */

/* ---- Handles (plat.c) ----------------------------------------------------- */

enum hosted_kind { HOSTED_FREE, HOSTED_NET, HOSTED_BLOCK, HOSTED_SOCKET };

struct hosted_handle {
	enum hosted_kind kind;
	int fd;
	const char *name; /* device name from the command line (net, block) */
	union {
		struct {
			struct plat_net_info info;
			int pcap_fd; /* -1: not recorded */
		} net;
		struct plat_block_info block;
	} u;
};

/* Claim a free handle for fd.  PLAT_EUNSPEC when all PLAT_HANDLE_MAX are
 * taken (the fd is left open: the caller owns it until this succeeds). */
int hosted_handle_new(enum hosted_kind kind, int fd, const char *name, plat_handle_t *h);
/* The handle h if it is in use and of this kind, else NULL. */
struct hosted_handle *hosted_handle_get(plat_handle_t h, enum hosted_kind kind);
/* The handle of the device called name, of this kind, else NULL. */
struct hosted_handle *hosted_handle_find(const char *name, enum hosted_kind kind, plat_handle_t *h);

/* For the socket stack: make a host socket waitable through plat_wait.
 * PLAT_OK, or PLAT_EUNSPEC when the table is full. */
int hosted_handle_add_fd(int fd, plat_handle_t *h);
/* Close the fd behind a socket handle and free the handle. */
void hosted_handle_close(plat_handle_t h);

/* Clock origin, signal mask and handlers; called once before anything. */
void hosted_runtime_init(void);
/* Write all of buf to fd, retrying short writes; false on error. */
bool hosted_write_all(int fd, const void *buf, size_t len);

/* ---- Devices (net.c, block.c) --------------------------------------------- */

/* Attach network device name to the TAP interface spec names, "<tap>" or
 * "<tap>,offload" (virtio-net headers, checksum offload and TSO/GRO; see
 * net.c), created if it does not exist.  On failure prints why on stderr
 * and returns false. */
bool hosted_net_open(const char *name, const char *spec);
/* Record every frame of network device name to a new pcap file at path. */
bool hosted_pcap_open(const char *name, const char *path);
bool hosted_block_open(const char *name, const char *path);

/* ---- Sandbox (sandbox.c) -------------------------------------------------- */

struct hosted_sandbox_policy {
	/* Also allow the host UDP socket calls (--stack=socket); when running
	 * as root, CAP_NET_BIND_SERVICE is then kept across the uid change. */
	bool sockets;
};

/* Drop root to nobody, set no_new_privs and install the seccomp filter
 * built from the open handles.  On failure prints why and returns false. */
bool hosted_sandbox_enter(const struct hosted_sandbox_policy *p);

/* ---- Socket stack (sockstack.c), called by lib/net/stack.c ---------------- */

extern const struct stack_ops hosted_socket_stack_ops;
int hosted_socket_stack_open(struct loop *l, struct stack **out);

#endif
