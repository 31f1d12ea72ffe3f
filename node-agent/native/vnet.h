// TUN offloads with the virtio-net header (IFF_VNET_HDR): what the kernel puts in front of every
// packet it hands us, and what we put in front of every packet we write.
//
// Read side: with TSO/USO enabled the kernel hands the agent TCP and UDP "super-packets" of up to
// 64 KiB plus a header saying how to cut them (gso_size) and, for any packet, that the L4 checksum
// is still to be finished (NEEDS_CSUM). The overlay carries ordinary packets (a peer may be an older
// agent or a browser, and SCTP cuts every message into path-MTU chunks anyway), so vnet_split cuts
// super-packets into MTU-sized segments with complete checksums, the way the NIC would.
// Write side: vnet_write_batch coalesces consecutive TCP segments of one flow into one super-packet
// (receive offload done in user space), so the receiving kernel runs its TCP receive path once per
// 64 KiB instead of once per segment.
#ifndef IPOP_VNET_H
#define IPOP_VNET_H
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define VNET_HDR_LEN ((size_t)sizeof(struct virtio_net_hdr))
// Largest IPv4 packet (its total length is 16 bits); the kernel's GSO packets on a TUN stay within it.
#define VNET_MAX_PACKET 65535u
// Most packets one vnet_write_batch call takes.
#define VNET_MAX_BATCH 256

typedef struct {
  uint64_t gso_reads;          // super-packets read
  uint64_t gso_segments;       // segments cut from them
  uint64_t csum_completed;     // packets whose checksum the agent finished
  uint64_t read_drops;         // packets read that could not be handled (malformed, unsupported GSO)
  uint64_t coalesced_writes;   // super-packets written
  uint64_t coalesced_segments; // segments merged into them
  uint64_t write_errors;       // packets the kernel refused on write (full queue, ...)
  uint64_t gso_write_rejected; // super-packets the kernel refused as such (coalescing then stops)
} vnet_stats_t;

// vnet_split results below zero.
#define SPLIT_NEED_ROOM (-1) // more output slots are needed than were offered: deliver, then retry
#define SPLIT_BAD (-2)       // malformed or unsupported: drop

// Turns one packet read with its virtio-net header into ordinary packets with complete checksums,
// written one per slot of `slot_size` bytes from `out`; their lengths go to `lens`. Returns the
// number of packets, or SPLIT_NEED_ROOM / SPLIT_BAD. `pkt` may be modified (checksum completion)
// only when the result is positive.
int vnet_split(const struct virtio_net_hdr *hdr, uint8_t *pkt, size_t len, uint8_t *out, size_t slot_size,
               size_t max_slots, int32_t *lens, vnet_stats_t *stats);

// Writes `count` packets to a TUN fd. `staging` holds them back to back, each preceded by
// VNET_HDR_LEN spare bytes (for its header); `lens` gives the packet lengths. With `vnet`, TCP
// segments are coalesced into super-packets (unless *coalesce_off), using `scratch` (VNET_HDR_LEN +
// VNET_MAX_PACKET bytes); a kernel that rejects a super-packet turns *coalesce_off on. Without
// `vnet`, each packet is written plain. Returns the number of packets the kernel refused.
size_t vnet_write_batch(int fd, int vnet, int *coalesce_off, uint8_t *staging, const int32_t *lens, size_t count,
                        uint8_t *scratch, vnet_stats_t *stats);
#endif
