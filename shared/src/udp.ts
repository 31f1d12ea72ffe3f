/**
 * UDP datagrams (RFC 768) inside IPv4, for hosts that originate and read their own (the console's
 * virtual host: UDP probes, the throughput test). Reads never throw: a datagram that is short, cut or
 * has a wrong checksum parses to null.
 */
import { internetChecksum, ipv4Destination, ipv4Source, newIpv4Packet, pseudoHeaderSum } from "./ipv4.js";

export const IP_PROTOCOL_UDP = 17;
const UDP_HEADER_BYTES = 8;

/** A UDP datagram read from a packet; `payload` is a view into it. */
export interface UdpDatagram {
  readonly source: number;
  readonly destination: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
}

/** An IPv4 packet carrying one UDP datagram, checksummed; a view `headroom` bytes into its buffer. */
export function buildUdpPacket(
  datagram: Omit<UdpDatagram, "payload"> & { readonly payload: Uint8Array | number },
  headroom = 0,
): Uint8Array {
  const payloadLength = typeof datagram.payload === "number" ? datagram.payload : datagram.payload.length;
  const length = UDP_HEADER_BYTES + payloadLength;
  const p = newIpv4Packet(
    { protocol: IP_PROTOCOL_UDP, source: datagram.source, destination: datagram.destination },
    length,
    headroom,
  );
  p[20] = datagram.sourcePort >> 8;
  p[21] = datagram.sourcePort & 0xff;
  p[22] = datagram.destinationPort >> 8;
  p[23] = datagram.destinationPort & 0xff;
  p[24] = length >> 8;
  p[25] = length & 0xff;
  if (typeof datagram.payload !== "number") p.set(datagram.payload, 28);
  // A computed zero is sent as 0xffff: zero means "no checksum" in UDP over IPv4.
  const sum = internetChecksum(p, 20, p.length, pseudoHeaderSum(p, IP_PROTOCOL_UDP, length)) || 0xffff;
  p[26] = sum >> 8;
  p[27] = sum & 0xff;
  return p;
}

/** The UDP datagram in `packet` (a checked IPv4 packet), or null when it is not a whole, valid one. */
export function parseUdpPacket(packet: Uint8Array): UdpDatagram | null {
  if (packet.length < 20 || packet[9] !== IP_PROTOCOL_UDP) return null;
  const headerLength = (packet[0]! & 0x0f) * 4;
  const fragment = ((packet[6]! & 0x3f) << 8) | packet[7]!;
  if (fragment !== 0) return null; // a fragment holds only part of the datagram
  const total = Math.min(packet.length, (packet[2]! << 8) | packet[3]!);
  if (total < headerLength + UDP_HEADER_BYTES) return null;
  const udp = packet.subarray(headerLength, total);
  const length = (udp[4]! << 8) | udp[5]!;
  if (length < UDP_HEADER_BYTES || length > udp.length) return null;
  const checksum = (udp[6]! << 8) | udp[7]!;
  if (checksum !== 0 && headerLength === 20) {
    if (internetChecksum(packet, 20, 20 + length, pseudoHeaderSum(packet, IP_PROTOCOL_UDP, length)) !== 0) return null;
  }
  return {
    source: ipv4Source(packet),
    destination: ipv4Destination(packet),
    sourcePort: (udp[0]! << 8) | udp[1]!,
    destinationPort: (udp[2]! << 8) | udp[3]!,
    payload: udp.subarray(UDP_HEADER_BYTES, length),
  };
}
