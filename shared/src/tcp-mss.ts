/**
 * TCP MSS clamping: lowers the maximum segment size a TCP SYN (or SYN-ACK) announces, so neither end
 * sends segments that do not fit the overlay MTU, whatever MTU its own interface has.
 *
 * Works in place on an IPv4 packet, allocates nothing and never throws: anything it cannot read with
 * certainty (not TCP, not the first fragment, a truncated header or option list) is left as it is,
 * because the TCP at the far end judges malformed segments better than a router can.
 */

/** IPv4 plus TCP headers without options: what an MSS leaves of the MTU (RFC 879). */
export const TCP_IPV4_HEADER_BYTES = 40;

const TCP_PROTOCOL = 6;
const TCP_MIN_HEADER_BYTES = 20;
const TCP_FLAG_SYN = 0x02;
const OPTION_END = 0;
const OPTION_NOP = 1;
const OPTION_MSS = 2;
const OPTION_MSS_LENGTH = 4;

/** The MSS that fills but does not exceed `mtu` with IPv4 and TCP headers without options. */
export function mssForMtu(mtu: number): number {
  return mtu - TCP_IPV4_HEADER_BYTES;
}

/**
 * If `p` is an IPv4 TCP segment with SYN set whose MSS option announces more than `maxMss`, writes
 * `maxMss` there, updates the TCP checksum incrementally (RFC 1624) and returns true. Returns false
 * and changes nothing otherwise. `maxMss` must be an integer from 0 to 65535.
 */
export function clampTcpMss(p: Uint8Array, maxMss: number): boolean {
  if (p.length < 20 || p[0]! >> 4 !== 4 || p[9] !== TCP_PROTOCOL) return false;
  const ipHeader = (p[0]! & 0x0f) * 4;
  const total = (p[2]! << 8) | p[3]!;
  if (ipHeader < 20 || total > p.length) return false;
  // Only the first fragment carries the TCP header.
  if ((((p[6]! & 0x1f) << 8) | p[7]!) !== 0) return false;
  const tcp = ipHeader;
  if (tcp + TCP_MIN_HEADER_BYTES > total) return false;
  if ((p[tcp + 13]! & TCP_FLAG_SYN) === 0) return false;
  const tcpHeader = (p[tcp + 12]! >> 4) * 4;
  if (tcpHeader < TCP_MIN_HEADER_BYTES || tcp + tcpHeader > total) return false;
  const end = tcp + tcpHeader;
  for (let i = tcp + TCP_MIN_HEADER_BYTES; i < end; ) {
    const kind = p[i]!;
    if (kind === OPTION_END) return false;
    if (kind === OPTION_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const length = p[i + 1]!;
    if (length < 2 || i + length > end) return false;
    if (kind === OPTION_MSS) {
      if (length !== OPTION_MSS_LENGTH) return false;
      const at = i + 2;
      const mss = (p[at]! << 8) | p[at + 1]!;
      if (mss <= maxMss) return false;
      const checksumAt = tcp + 16;
      const checksum = (p[checksumAt]! << 8) | p[checksumAt + 1]!;
      // The checksum sums 16-bit words from the TCP header's start (4-byte aligned in the packet);
      // a value at an odd offset straddles two words, where it adds in with its bytes swapped.
      const odd = ((at - tcp) & 1) === 1;
      const updated = odd
        ? adjustChecksum(checksum, swapBytes(mss), swapBytes(maxMss))
        : adjustChecksum(checksum, mss, maxMss);
      p[at] = maxMss >> 8;
      p[at + 1] = maxMss & 0xff;
      p[checksumAt] = updated >> 8;
      p[checksumAt + 1] = updated & 0xff;
      return true;
    }
    i += length;
  }
  return false;
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changed from `old` to `next`. */
export function adjustChecksum(checksum: number, old: number, next: number): number {
  let sum = (~checksum & 0xffff) + (~old & 0xffff) + next;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function swapBytes(value: number): number {
  return ((value & 0xff) << 8) | (value >> 8);
}
