#include "pvh.h"
unsigned pvh_want_net, pvh_want_blk;
void virtio_probe(char **argv, int argc, const struct plat_app *app) {}
uint64_t vnet_ready(uint64_t interest) { return 0; }
bool vrng_present(void) { return false; }
void vrng_read(void *buf, size_t len) {}
int plat_net_acquire(const char *name, plat_handle_t *h, struct plat_net_info *info) { return PLAT_ENOENT; }
int plat_net_recv(plat_handle_t h, struct plat_frame *frames, unsigned n) { return PLAT_EINVAL; }
int plat_net_send(plat_handle_t h, const struct plat_frame *frames, unsigned n) { return PLAT_EINVAL; }
int plat_block_acquire(const char *name, plat_handle_t *h, struct plat_block_info *info) { return PLAT_ENOENT; }
int plat_block_read(plat_handle_t h, uint64_t offset, void *buf, size_t len) { return PLAT_EINVAL; }
int plat_block_write(plat_handle_t h, uint64_t offset, const void *buf, size_t len) { return PLAT_EINVAL; }
int plat_block_flush(plat_handle_t h) { return PLAT_EINVAL; }
