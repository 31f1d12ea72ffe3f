#ifndef IPOP_TUN_OPEN_H
#define IPOP_TUN_OPEN_H
#include <linux/if.h>
#include <stddef.h>

// Offload bits reported to JS (linux-tun.ts reads the same values).
#define OFFLOAD_VNET 1
#define OFFLOAD_TSO 2
#define OFFLOAD_USO 4

// Opens /dev/net/tun (non-blocking) and attaches it to device `name` (`len` bytes), with the
// virtio-net header when `vnet`. Returns the fd and fills `ifr` (the actual name), or -1 with *err.
int open_device(const char *name, size_t len, int vnet, struct ifreq *ifr, int *err);

// Turns the virtio-net header and offloads on, as far as the kernel and device allow. Returns the
// offload bits in force (OFFLOAD_*), 0 when the device stays plain.
int enable_offloads(int fd);
#endif
