import { internetChecksum, ipv4HeaderChecksum } from "./ipv4.js";

/** ICMP destination unreachable (RFC 792) and the codes the overlay sends. */
const ICMP_DEST_UNREACHABLE = 3;
const ICMP_HOST_UNREACHABLE = 1;
/** Fragmentation needed and DF set, with the next-hop MTU (RFC 1191). */
const ICMP_FRAGMENTATION_NEEDED = 4;

/**
 * An ICMP host-unreachable from `from` (the node that found no owner for the address) to the
 * sender of `original`, quoting its IP header and first 8 payload bytes as RFC 792 asks. Returns
 * null for packets that must never trigger ICMP errors (ICMP errors themselves, fragments after
 * the first: RFC 1122 3.2.2).
 */
export function hostUnreachable(original: Uint8Array, from: number): Uint8Array | null {
  return unreachable(original, from, ICMP_HOST_UNREACHABLE, 0);
}

/**
 * An ICMP fragmentation-needed (type 3 code 4) from `from` to the sender of `original`, naming
 * `mtu` as the next-hop MTU (RFC 1191), so the sender's kernel lowers its path MTU instead of
 * sending into a black hole. Null where RFC 1122 forbids an ICMP error, as for `hostUnreachable`.
 */
export function fragmentationNeeded(original: Uint8Array, from: number, mtu: number): Uint8Array | null {
  return unreachable(original, from, ICMP_FRAGMENTATION_NEEDED, mtu);
}

/** A destination-unreachable; `nextHopMtu` fills the low half of the second word (zero if unused). */
function unreachable(original: Uint8Array, from: number, code: number, nextHopMtu: number): Uint8Array | null {
  const headerLength = (original[0]! & 0x0f) * 4;
  const fragmentOffset = ((original[6]! & 0x1f) << 8) | original[7]!;
  if (fragmentOffset !== 0) return null;
  if (original[9] === 1) {
    const icmpType = original[headerLength];
    // Never answer an error with an error; echo requests and replies are fine.
    if (icmpType !== 0 && icmpType !== 8) return null;
  }
  const totalLength = (original[2]! << 8) | original[3]!;
  const quoted = Math.min(original.length, totalLength, headerLength + 8);
  const packet = new Uint8Array(20 + 8 + quoted);
  packet[0] = 0x45;
  packet[2] = packet.length >> 8;
  packet[3] = packet.length & 0xff;
  packet[8] = 64; // ttl
  packet[9] = 1; // ICMP
  packet[12] = from >>> 24;
  packet[13] = (from >>> 16) & 0xff;
  packet[14] = (from >>> 8) & 0xff;
  packet[15] = from & 0xff;
  packet.set(original.subarray(12, 16), 16); // back to the original source
  const ipSum = ipv4HeaderChecksum(packet, 20);
  packet[10] = ipSum >> 8;
  packet[11] = ipSum & 0xff;
  packet[20] = ICMP_DEST_UNREACHABLE;
  packet[21] = code;
  packet[26] = nextHopMtu >> 8;
  packet[27] = nextHopMtu & 0xff;
  packet.set(original.subarray(0, quoted), 28);
  const icmpSum = internetChecksum(packet, 20, packet.length);
  packet[22] = icmpSum >> 8;
  packet[23] = icmpSum & 0xff;
  return packet;
}
