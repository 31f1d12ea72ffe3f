// Internet checksum helpers (RFC 1071) for the offload paths: summing is split from folding so a
// pseudo-header, a header and a payload held in different places can be summed into one total.
#ifndef IPOP_CHECKSUM_H
#define IPOP_CHECKSUM_H
#include <stddef.h>
#include <stdint.h>

// Adds `len` bytes, read as big-endian 16-bit words (an odd last byte padded with zero), to `sum`.
uint64_t csum_add(uint64_t sum, const uint8_t *data, size_t len);

// Folds a running sum to 16 bits (not complemented).
uint16_t csum_fold(uint64_t sum);

// The IPv4 pseudo-header's share of a TCP or UDP checksum: addresses, protocol and L4 length.
uint64_t csum_pseudo_ipv4(const uint8_t *ip, uint8_t protocol, uint32_t l4_len);

// Recomputes the header checksum of the IPv4 header at `ip` (its IHL gives the length).
void ipv4_fix_header_checksum(uint8_t *ip);

static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t get_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
#endif
