import { ipv4HeaderChecksum } from "./ipv4.js";

/**
 * IPv4 fragmentation as a router does it (RFC 791 section 3.2, RFC 1812 5.2.6): splits a packet
 * that passed `checkIpv4Packet` and has DF clear into fragments of at most `mtu` bytes.
 *
 * This is the slow path, taken only for packets over the overlay MTU without DF: each fragment is
 * a fresh buffer with `headroom` spare bytes in front of it, so the core can frame it like any
 * packet from the host.
 */

const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const OFFSET_MASK = 0x1fff;
/** IP options whose type has this bit set are copied into every fragment; others stay in the first. */
const OPTION_COPIED = 0x80;
const OPTION_END = 0;
const OPTION_NOP = 1;

/**
 * The fragments of `packet`, in order, each at most `mtu` bytes; null when it must not or cannot
 * be fragmented (DF set, an option list that does not parse, an MTU too small for its header plus
 * 8 bytes of data). A packet that already fits comes back as the only element, unchanged.
 */
export function fragmentIpv4(packet: Uint8Array, mtu: number, headroom: number): Uint8Array[] | null {
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = (packet[2]! << 8) | packet[3]!;
  if (totalLength <= mtu) return [packet];
  const flagsAndOffset = (packet[6]! << 8) | packet[7]!;
  if ((flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0) return null;
  const laterOptions = copiedOptions(packet, headerLength);
  if (laterOptions === null) return null;
  const laterHeaderLength = 20 + laterOptions.length;
  // Every fragment but the last carries a multiple of 8 data bytes (offsets count 8-byte units).
  const firstData = (mtu - headerLength) & ~7;
  const laterData = (mtu - laterHeaderLength) & ~7;
  if (firstData <= 0 || laterData <= 0) return null;
  const baseOffset = flagsAndOffset & OFFSET_MASK;
  // A fragment of a fragment keeps its place in the original and, if last, the original's MF.
  const moreAfterLast = (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0;
  const dataLength = totalLength - headerLength;
  const fragments: Uint8Array[] = [];
  for (let position = 0; position < dataLength; ) {
    const first = position === 0;
    const header = first ? headerLength : laterHeaderLength;
    const size = Math.min(first ? firstData : laterData, dataLength - position);
    const last = position + size === dataLength;
    const fragment = new Uint8Array(headroom + header + size).subarray(headroom);
    fragment.set(packet.subarray(0, 20));
    if (first) fragment.set(packet.subarray(20, headerLength), 20);
    else fragment.set(laterOptions, 20);
    fragment[0] = 0x40 | (header >> 2);
    fragment[2] = (header + size) >> 8;
    fragment[3] = (header + size) & 0xff;
    const fields = (last && !moreAfterLast ? 0 : FLAG_MORE_FRAGMENTS) | (baseOffset + (position >> 3));
    fragment[6] = fields >> 8;
    fragment[7] = fields & 0xff;
    fragment[10] = 0;
    fragment[11] = 0;
    const sum = ipv4HeaderChecksum(fragment, header);
    fragment[10] = sum >> 8;
    fragment[11] = sum & 0xff;
    fragment.set(packet.subarray(headerLength + position, headerLength + position + size), header);
    fragments.push(fragment);
    position += size;
  }
  return fragments;
}

/**
 * The options of the header that go into every fragment, padded with end-of-options to a multiple
 * of 4 bytes; null when the option list runs past the header or has a bad length.
 */
function copiedOptions(packet: Uint8Array, headerLength: number): Uint8Array | null {
  const kept: number[] = [];
  for (let i = 20; i < headerLength; ) {
    const type = packet[i]!;
    if (type === OPTION_END) break;
    if (type === OPTION_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= headerLength) return null;
    const length = packet[i + 1]!;
    if (length < 2 || i + length > headerLength) return null;
    if ((type & OPTION_COPIED) !== 0) for (let j = i; j < i + length; j++) kept.push(packet[j]!);
    i += length;
  }
  while (kept.length % 4 !== 0) kept.push(OPTION_END);
  return new Uint8Array(kept);
}
