#include <string.h>

#include "checksum.h"
#include "vnet.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

// Finishes a partial checksum (NEEDS_CSUM): the field holds the pseudo-header sum, and the sum of
// everything from csum_start, that field included, is the checksum.
static int complete_checksum(const struct virtio_net_hdr *hdr, uint8_t *pkt, size_t len) {
  size_t start = hdr->csum_start, field = start + hdr->csum_offset;
  if (start >= len || field + 2 > len) return 0;
  uint16_t sum = (uint16_t)~csum_fold(csum_add(0, pkt + start, len - start));
  // In UDP a zero checksum means "none"; a computed zero is sent as all ones.
  if (sum == 0 && len >= 20 && (pkt[0] >> 4) == 4 && pkt[9] == 17) sum = 0xffff;
  put_be16(pkt + field, sum);
  return 1;
}

// The IPv4 header length of a well-formed IPv4 packet of `len` bytes carrying `protocol`, else 0.
static size_t ipv4_header(const uint8_t *pkt, size_t len, uint8_t protocol) {
  if (len < 20 || (pkt[0] >> 4) != 4 || pkt[9] != protocol) return 0;
  size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return 0;
  // A GSO packet's total length covers it all.
  if (get_be16(pkt + 2) != len) return 0;
  return ihl;
}

static int split(const struct virtio_net_hdr *hdr, const uint8_t *pkt, size_t len, int tcp, uint8_t *out,
                 size_t slot_size, size_t max_slots, int32_t *lens, vnet_stats_t *stats) {
  size_t ihl = ipv4_header(pkt, len, tcp ? 6 : 17);
  if (ihl == 0) return SPLIT_BAD;
  size_t l4hl = 8;
  if (tcp) {
    if (ihl + 20 > len) return SPLIT_BAD;
    l4hl = (size_t)(pkt[ihl + 12] >> 4) * 4;
    if (l4hl < 20) return SPLIT_BAD;
  }
  size_t hl = ihl + l4hl, mss = hdr->gso_size;
  if (hl > len || mss == 0 || hl + mss > slot_size) return SPLIT_BAD;
  size_t payload = len - hl;
  size_t segments = payload == 0 ? 1 : (payload + mss - 1) / mss;
  if (segments > max_slots) return SPLIT_NEED_ROOM;
  uint16_t id = get_be16(pkt + 4);
  uint32_t seq = tcp ? get_be32(pkt + ihl + 4) : 0;
  uint8_t flags = tcp ? pkt[ihl + 13] : 0;
  size_t offset = 0;
  for (size_t i = 0; i < segments; i++) {
    size_t chunk = payload - offset < mss ? payload - offset : mss;
    uint8_t *seg = out + i * slot_size;
    memcpy(seg, pkt, hl);
    memcpy(seg + hl, pkt + hl + offset, chunk);
    put_be16(seg + 2, (uint16_t)(hl + chunk));
    put_be16(seg + 4, (uint16_t)(id + i));
    ipv4_fix_header_checksum(seg);
    uint8_t *l4 = seg + ihl;
    size_t field;
    if (tcp) {
      put_be32(l4 + 4, seq + (uint32_t)offset);
      uint8_t f = flags;
      if (i + 1 < segments) f &= (uint8_t)~(TCP_FIN | TCP_PSH);  // they belong to the last byte
      if (i > 0) f &= (uint8_t)~TCP_CWR;                          // it belongs to the first
      l4[13] = f;
      field = 16;
    } else {
      put_be16(l4 + 4, (uint16_t)(8 + chunk));
      field = 6;
    }
    l4[field] = l4[field + 1] = 0;
    uint64_t sum = csum_pseudo_ipv4(seg, tcp ? 6 : 17, (uint32_t)(l4hl + chunk));
    uint16_t check = (uint16_t)~csum_fold(csum_add(sum, l4, l4hl + chunk));
    if (!tcp && check == 0) check = 0xffff;
    put_be16(l4 + field, check);
    lens[i] = (int32_t)(hl + chunk);
    offset += chunk;
  }
  stats->gso_reads++;
  stats->gso_segments += segments;
  return (int)segments;
}

int vnet_split(const struct virtio_net_hdr *hdr, uint8_t *pkt, size_t len, uint8_t *out, size_t slot_size,
               size_t max_slots, int32_t *lens, vnet_stats_t *stats) {
  switch (hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
      if (max_slots < 1) return SPLIT_NEED_ROOM;
      if (len > slot_size) return SPLIT_BAD;
      if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!complete_checksum(hdr, pkt, len)) return SPLIT_BAD;
        stats->csum_completed++;
      }
      memcpy(out, pkt, len);
      lens[0] = (int32_t)len;
      return 1;
    case VIRTIO_NET_HDR_GSO_TCPV4:
      return split(hdr, pkt, len, 1, out, slot_size, max_slots, lens, stats);
    case VIRTIO_NET_HDR_GSO_UDP_L4:
      return split(hdr, pkt, len, 0, out, slot_size, max_slots, lens, stats);
    default:
      // IPv6 (the device has it switched off) and legacy UFO: nothing the overlay carries.
      return SPLIT_BAD;
  }
}
