// Creating the TUN device, with the virtio-net header and offloads when the kernel grants them.
#include "tun_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vnet.h"

// Turns the virtio-net header and offloads on, as far as the kernel and device allow. Returns the
// offload bits in force (OFFLOAD_*), 0 when the device stays plain.
int enable_offloads(int fd) {
  int size = (int)VNET_HDR_LEN;
  if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) return 0;
  unsigned int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  // UDP segmentation offload came with Linux 6.2; older kernels refuse the bits with EINVAL.
  if (ioctl(fd, TUNSETOFFLOAD, tso | TUN_F_USO4 | TUN_F_USO6) == 0) return OFFLOAD_VNET | OFFLOAD_TSO | OFFLOAD_USO;
  if (ioctl(fd, TUNSETOFFLOAD, tso) == 0) return OFFLOAD_VNET | OFFLOAD_TSO;
  // The header stays (the device was made with it), but the kernel sends plain, checksummed packets.
  ioctl(fd, TUNSETOFFLOAD, 0);
  return OFFLOAD_VNET;
}

int open_device(const char *name, size_t len, int vnet, struct ifreq *ifr, int *err) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  memcpy(ifr->ifr_name, name, len < IFNAMSIZ ? len : IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, ifr) < 0) {
    *err = errno;
    close(fd);
    return -1;
  }
  return fd;
}
