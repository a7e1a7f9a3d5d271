/*
 * platform.h - the whole contract between a unikernel and its target.
 *
 * Everything above this header (lib/, apps/) is portable C that never
 * learns which target it runs on: an ordinary Linux process (hosted), a
 * PVH virtual machine (pvh) or one node of a simulation (sim).  A new
 * target is a new folder under platform/ implementing these calls.
 *
 * Rules that hold for every call:
 *  - Nothing waits for an event except plat_wait().  Block I/O is
 *    synchronous: it returns when the device has done the work.
 *  - Devices are named by the application's manifest and acquired once,
 *    by name, giving a small integer handle (0 .. PLAT_HANDLE_MAX-1).
 *  - The caller owns every buffer it passes; the platform never keeps a
 *    pointer past the return of a call.
 *  - Errors are the negative values of enum plat_result; 0 is success.
 *  - All times are nanoseconds.  Monotonic time starts near 0 at boot.
 *
 * On the sim target several nodes live in one process: the platform
 * switches its notion of "current node" before it runs a node, so these
 * calls always act on the calling node's own devices, clock and heap.
 */
#ifndef ATOLL_PLATFORM_H
#define ATOLL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum plat_result {
	PLAT_OK = 0,
	PLAT_EAGAIN = -1,  /* nothing to read / device busy: try after plat_wait */
	PLAT_EINVAL = -2,  /* bad handle, size or offset */
	PLAT_ENOENT = -3,  /* no device of that name and kind */
	PLAT_EIO = -4,	   /* the device failed; the data state is unknown */
	PLAT_EUNSPEC = -5, /* anything else */
};

#define PLAT_HANDLE_MAX 64 /* handles fit in the 64-bit ready set */
typedef unsigned plat_handle_t;

/* ---- Start record and application entry ------------------------------ */

struct plat_start;

enum plat_device_kind { PLAT_DEV_NET, PLAT_DEV_BLOCK };

struct plat_device_decl {
	const char *name; /* "service", "zones", ... */
	enum plat_device_kind kind;
	const char *help;
};

struct plat_arg_decl {
	const char *key; /* without "=": "ipv4", "status", ... */
	const char *help;
};

/* What an application declares about itself: used by --help, by the
 * hosted command-line checks and by the boot-argument parser. */
struct plat_app {
	const char *name;
	const char *summary;
	const struct plat_device_decl *devices;
	unsigned ndevices;
	const struct plat_arg_decl *args;
	unsigned nargs;
	/* Entry point.  The returned value is the exit status. */
	int (*main)(const struct plat_start *start);
};

struct plat_start {
	const struct plat_app *app;
	/* Boot arguments: the key=value words of the command line (hosted)
	 * or of the kernel command line (pvh), in order.  Owned by the
	 * platform, valid for the life of the unikernel. */
	int argc;
	char *const *argv;
	/* The one heap region.  Nothing else allocates.  Its contents are
	 * undefined (on pvh, firmware may leave data in it; zeroing all of
	 * it would touch every page of guest RAM): heap_alloc zeroes what it
	 * hands out. */
	void *heap;
	size_t heap_size;
};

/* Each target's entry code calls app->main with this filled in; a build
 * links exactly one application (except sim scenarios, which name their
 * applications explicitly). */
extern const struct plat_app *const plat_app_linked;

/* ---- Time -------------------------------------------------------------- */

uint64_t plat_clock_monotonic(void);
uint64_t plat_clock_wall(void); /* since 1970-01-01 UTC */

/* ---- The one blocking call --------------------------------------------- */

/*
 * Sleep until monotonic time reaches deadline, one of the handles in
 * *interest becomes ready, or a stop is requested, whichever is first.
 * On return *interest holds the handles that are ready (possibly none).
 * Readiness means "a read may return data"; writes never need a wait.
 */
void plat_wait(uint64_t deadline, uint64_t *interest);

/* True once the outside world asked the unikernel to stop (SIGTERM or
 * SIGINT on hosted, ACPI power button on pvh).  Sticky. */
bool plat_stop_requested(void);

/* ---- Console ------------------------------------------------------------ */

void plat_console_write(const char *buf, size_t len);

/* ---- Network devices ----------------------------------------------------- */

/* Offloads a network device may offer (plat_net_info.offloads).  With
 * any of them, every frame in both directions begins with a virtio-net
 * header (struct virtio_net_hdr, virtio 1.x 5.1.6, little-endian) of
 * vnet_hdr_len bytes: lib/net builds and reads it, targets pass it on. */
/* PLAT_NET_OFF_CSUM: partial checksums both ways (NEEDS_CSUM).
 * PLAT_NET_OFF_TSO4: TCPv4 frames of up to frame_max bytes both ways, cut
 * to gso_size segments below us. */
#define PLAT_NET_OFF_CSUM 0x1u
#define PLAT_NET_OFF_TSO4 0x2u

struct plat_net_info {
	uint8_t mac[6];
	uint16_t mtu;	       /* IP MTU: largest plain frame is mtu + 14 bytes */
	uint32_t offloads;     /* PLAT_NET_OFF_*; 0 on targets without them */
	uint16_t vnet_hdr_len; /* 0 when offloads is 0 */
	uint32_t frame_max;    /* with offloads: the largest frame, header included */
};

/* One slot for batched I/O.  On receive, cap is the buffer's size and len
 * is set to the bytes placed in it; on send, len is the bytes to send.
 * Without offloads a slot holds one whole frame and more is false.  With
 * offloads a frame may span consecutive slots (scatter/gather): every slot
 * but its last has more set (and, on receive, len == cap). */
struct plat_frame {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool more;
};

/* Acquiring the same device again gives the same handle. */
int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info);
/* Receive into up to n slots.  Returns how many slots were filled (>= 1),
 * or PLAT_EAGAIN when no frame is waiting, or another error.  A frame
 * longer than the slots left is dropped (and counted by the target), never
 * cut.  With offloads a frame after the call's first is only started
 * while the slots left hold frame_max bytes. */
int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned n);
/* Send the frames in n slots.  Returns how many slots were queued for
 * sending, always whole frames (a short count means the device is full
 * and the rest were not sent), or an error. */
int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned n);

/* ---- Block devices --------------------------------------------------------- */

struct plat_block_info {
	uint64_t capacity;   /* bytes */
	uint32_t block_size; /* bytes; offsets and lengths are multiples */
};

int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info);
/* Read or write len bytes (any number of whole blocks) at offset. */
int plat_block_read(plat_handle_t h, uint64_t offset, void *buf, size_t len);
int plat_block_write(plat_handle_t h, uint64_t offset, const void *buf, size_t len);
/* Returns once everything written before is on stable storage. */
int plat_block_flush(plat_handle_t h);

/* ---- Entropy, exit ----------------------------------------------------------- */

/* Fill buf with unpredictable bytes (deterministic per seed on sim). */
void plat_entropy(void *buf, size_t len);

/* End the unikernel with this status (0: clean stop). */
_Noreturn void plat_exit(int status);
/* End it at once with a failure status after printing msg and, where the
 * target can, where it happened. */
_Noreturn void plat_abort(const char *msg);

#endif
