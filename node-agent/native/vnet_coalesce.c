#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "vnet.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08
// Open super-packets at once; a batch with more interleaved flows writes the oldest early.
#define MAX_GROUPS 8

// One super-packet being built: segments of one TCP flow, in sequence, linked through `next`.
typedef struct {
  int first, last, segments;
  uint32_t next_seq;
  size_t mss, total;
  int closed;  // a short or PSH segment ended it
} group_t;

typedef struct {
  int fd, vnet;
  int *coalesce_off;
  uint8_t *staging, *scratch;
  const int32_t *lens;
  size_t offsets[VNET_MAX_BATCH];
  int next[VNET_MAX_BATCH];
  group_t groups[MAX_GROUPS];
  int ngroups;
  size_t refused;
  vnet_stats_t *stats;
} batch_t;

static uint8_t *packet(batch_t *b, int i) { return b->staging + b->offsets[i]; }

// Writes `len` bytes at `buf` (header included); false when the kernel refused them.
static int write_all(int fd, const uint8_t *buf, size_t len, int *err) {
  ssize_t n;
  do n = write(fd, buf, len);
  while (n < 0 && errno == EINTR);
  *err = n < 0 ? errno : 0;
  return n >= 0;
}

static void write_single(batch_t *b, int i) {
  uint8_t *p = packet(b, i);
  size_t len = (size_t)b->lens[i];
  int err;
  if (b->vnet) {
    memset(p - VNET_HDR_LEN, 0, VNET_HDR_LEN);
    p -= VNET_HDR_LEN;
    len += VNET_HDR_LEN;
  }
  if (!write_all(b->fd, p, len, &err)) {
    b->refused++;
    b->stats->write_errors++;
  }
}

static void write_group(batch_t *b, const group_t *g) {
  if (g->segments == 1) {
    write_single(b, g->first);
    return;
  }
  const uint8_t *head = packet(b, g->first);
  size_t ihl = (size_t)(head[0] & 0x0f) * 4, hl = ihl + (size_t)(head[ihl + 12] >> 4) * 4;
  uint8_t *out = b->scratch + VNET_HDR_LEN;
  memcpy(out, head, hl);
  size_t at = hl;
  uint8_t psh = 0;
  for (int i = g->first; i >= 0; i = b->next[i]) {
    const uint8_t *p = packet(b, i);
    size_t payload = (size_t)b->lens[i] - hl;
    memcpy(out + at, p + hl, payload);
    at += payload;
    psh |= p[ihl + 13] & TCP_PSH;
  }
  put_be16(out + 2, (uint16_t)at);
  ipv4_fix_header_checksum(out);
  out[ihl + 13] |= psh;
  // A partial checksum, as the kernel's own TSO packets carry: the kernel treats it as verified
  // (each segment's checksum was checked before it joined) and finishes it if the packet leaves.
  put_be16(out + ihl + 16, csum_fold(csum_pseudo_ipv4(out, 6, (uint32_t)(at - ihl))));
  struct virtio_net_hdr hdr = {
      .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
      .hdr_len = (uint16_t)hl,
      .gso_size = (uint16_t)g->mss,
      .csum_start = (uint16_t)ihl,
      .csum_offset = 16,
  };
  memcpy(b->scratch, &hdr, VNET_HDR_LEN);
  int err;
  if (write_all(b->fd, b->scratch, VNET_HDR_LEN + at, &err)) {
    b->stats->coalesced_writes++;
    b->stats->coalesced_segments += (uint64_t)g->segments;
    return;
  }
  if (err == EINVAL) {
    // This kernel will not take super-packets from us: write the segments as they came, and stop
    // coalescing for good.
    b->stats->gso_write_rejected++;
    *b->coalesce_off = 1;
    for (int i = g->first; i >= 0; i = b->next[i]) write_single(b, i);
    return;
  }
  b->refused += (size_t)g->segments;
  b->stats->write_errors += (uint64_t)g->segments;
}

static void remove_group(batch_t *b, int k) {
  memmove(&b->groups[k], &b->groups[k + 1], (size_t)(b->ngroups - k - 1) * sizeof(group_t));
  b->ngroups--;
}

// The IPv4 header length when `p` is a TCP segment the coalescer may look at: no IP options, not a
// fragment, lengths consistent. 0 otherwise.
static size_t tcp_segment(const uint8_t *p, size_t len) {
  if (len < 40 || p[0] != 0x45 || p[9] != 6 || get_be16(p + 2) != len) return 0;
  if (get_be16(p + 6) & 0x3fff) return 0;  // MF or a fragment offset
  size_t thl = (size_t)(p[20 + 12] >> 4) * 4;
  return thl >= 20 && 20 + thl <= len ? 20 : 0;
}

static int same_flow(const uint8_t *a, const uint8_t *b) {
  return memcmp(a + 12, b + 12, 8) == 0 && memcmp(a + 20, b + 20, 4) == 0;
}

// Whether `p` may follow the group's segments in one super-packet: the next bytes in sequence, and
// headers the receiver's segmentation would reproduce (Linux's GRO asks the same).
static int fits(batch_t *b, const group_t *g, const uint8_t *p, size_t payload) {
  const uint8_t *h = packet(b, g->first);
  size_t thl = (size_t)(h[32] >> 4) * 4;
  return !g->closed && get_be32(p + 24) == g->next_seq && payload <= g->mss && g->total + payload <= VNET_MAX_PACKET &&
         p[1] == h[1] && p[8] == h[8] && (p[6] & 0x40) == (h[6] & 0x40) && (size_t)(p[32] >> 4) * 4 == thl &&
         memcmp(p + 28, h + 28, 4) == 0 &&       // acknowledgment number
         memcmp(p + 34, h + 34, 2) == 0 &&       // window
         memcmp(p + 40, h + 40, thl - 20) == 0;  // options
}

static void append(batch_t *b, group_t *g, int i, size_t payload) {
  const uint8_t *p = packet(b, i);
  b->next[g->last] = i;
  g->last = i;
  g->segments++;
  g->total += payload;
  g->next_seq += (uint32_t)payload;
  if (payload < g->mss || (p[33] & TCP_PSH)) g->closed = 1;
}

static void start_group(batch_t *b, int i, size_t hl, size_t payload) {
  if (b->ngroups == MAX_GROUPS) {
    write_group(b, &b->groups[0]);
    remove_group(b, 0);
  }
  const uint8_t *p = packet(b, i);
  group_t *g = &b->groups[b->ngroups++];
  g->first = g->last = i;
  g->segments = 1;
  g->mss = payload;
  g->total = hl + payload;
  g->next_seq = get_be32(p + 24) + (uint32_t)payload;
  g->closed = (p[33] & TCP_PSH) != 0;
}

static void handle(batch_t *b, int i) {
  uint8_t *p = packet(b, i);
  size_t len = (size_t)b->lens[i];
  if (tcp_segment(p, len) == 0) {
    write_single(b, i);
    return;
  }
  size_t hl = 20 + (size_t)(p[32] >> 4) * 4, payload = len - hl;
  uint8_t flags = p[33];
  // Only plain data segments merge, and only with a valid checksum: the super-packet's is left to
  // the kernel, which would otherwise never see a corrupt segment's.
  int mergeable = payload > 0 && (flags & ~TCP_PSH) == TCP_ACK &&
                  csum_fold(csum_add(csum_pseudo_ipv4(p, 6, (uint32_t)(len - 20)), p + 20, len - 20)) == 0xffff;
  int k = 0;
  while (k < b->ngroups && !same_flow(packet(b, b->groups[k].first), p)) k++;
  if (k < b->ngroups) {
    if (mergeable && fits(b, &b->groups[k], p, payload)) {
      append(b, &b->groups[k], i, payload);
      return;
    }
    // The flow's earlier segments go first, so the kernel sees them in order.
    write_group(b, &b->groups[k]);
    remove_group(b, k);
  }
  if (mergeable) start_group(b, i, hl, payload);
  else write_single(b, i);
}

size_t vnet_write_batch(int fd, int vnet, int *coalesce_off, uint8_t *staging, const int32_t *lens, size_t count,
                        uint8_t *scratch, vnet_stats_t *stats) {
  batch_t b = {.fd = fd, .vnet = vnet, .coalesce_off = coalesce_off, .staging = staging, .scratch = scratch,
               .lens = lens, .stats = stats};
  if (count > VNET_MAX_BATCH) count = VNET_MAX_BATCH;
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    b.offsets[i] = at + VNET_HDR_LEN;
    b.next[i] = -1;
    at += VNET_HDR_LEN + (size_t)lens[i];
  }
  int coalesce = vnet && !*coalesce_off;
  for (size_t i = 0; i < count; i++) {
    if (coalesce) handle(&b, (int)i);
    else write_single(&b, (int)i);
  }
  for (int k = 0; k < b.ngroups; k++) write_group(&b, &b.groups[k]);
  return b.refused;
}
