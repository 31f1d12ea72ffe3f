#include "checksum.h"

#include <string.h>

uint64_t csum_add(uint64_t sum, const uint8_t *data, size_t len) {
  // Four bytes at a time into a 64-bit accumulator: carries pile up in the high half and are
  // folded once at the end, which is what makes the one's-complement sum order-independent.
  while (len >= 4) {
    uint32_t word;
    memcpy(&word, data, 4);
    sum += __builtin_bswap32(word);
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    sum += get_be16(data);
    data += 2;
    len -= 2;
  }
  if (len == 1) sum += (uint64_t)data[0] << 8;
  return sum;
}

uint16_t csum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

uint64_t csum_pseudo_ipv4(const uint8_t *ip, uint8_t protocol, uint32_t l4_len) {
  uint64_t sum = csum_add(0, ip + 12, 8);
  return sum + protocol + l4_len;
}

void ipv4_fix_header_checksum(uint8_t *ip) {
  size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
  ip[10] = ip[11] = 0;
  put_be16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}
