/*
 * fakeplat.h - a platform for unit tests and fuzz targets: a clock the
 * test sets, network devices whose frames the test injects and collects,
 * RAM block devices, deterministic entropy.  plat_wait never sleeps: it
 * advances the fake clock to the deadline (or to a pending frame).
 */
#ifndef ATOLL_FAKEPLAT_H
#define ATOLL_FAKEPLAT_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define FAKE_NET_MAX   6
#define FAKE_QUEUE     256
#define FAKE_FRAME_MAX 9216
/* Devices with offloads: a 10-byte virtio-net header before frames of up
 * to 64 KiB (platform.h), scattered over and gathered from slots. */
#define FAKE_VNET_HDR	   10
#define FAKE_BIG_FRAME_MAX (14 + 65535)

void fake_reset(void);
void fake_set_time(uint64_t ns);
uint64_t fake_time(void);
void fake_request_stop(void);

/* Declare a network device the code under test may acquire. */
void fake_net_add(const char *name, const uint8_t mac[6], uint16_t mtu);
/* The same with offloads (PLAT_NET_OFF_*): frames in and out carry the
 * header, and fake_net_take/inject see it. */
void fake_net_add_offload(const char *name, const uint8_t mac[6], uint16_t mtu, uint32_t offloads);
/* Queue a frame for the device's next plat_net_recv. */
void fake_net_inject(const char *name, const void *frame, size_t len);
/* Take the oldest frame the code sent on the device; returns its length,
 * or -1 if none. */
int fake_net_take(const char *name, void *buf, size_t cap);
unsigned fake_net_sent_count(const char *name);

/* Console output collected since the last fake_reset (NUL-terminated). */
const char *fake_console(void);

#endif
