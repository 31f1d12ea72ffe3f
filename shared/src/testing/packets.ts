import { PACKET_HEADROOM } from "../frame.js";
import { ipv4HeaderChecksum, parseIpv4Address } from "../ipv4.js";

/** Builds a valid IPv4/UDP-ish packet for tests: 20-byte header, protocol 17, `payload` bytes after it. */
export function makeIpv4Packet(
  src: string,
  dst: string,
  payload: Uint8Array = new Uint8Array(8),
  protocol = 17,
): Uint8Array {
  const packet = new Uint8Array(20 + payload.length);
  packet[0] = 0x45;
  packet[2] = packet.length >> 8;
  packet[3] = packet.length & 0xff;
  packet[8] = 64;
  packet[9] = protocol;
  writeAddress(packet, 12, src);
  writeAddress(packet, 16, dst);
  const sum = ipv4HeaderChecksum(packet, 20);
  packet[10] = sum >> 8;
  packet[11] = sum & 0xff;
  packet.set(payload, 20);
  return packet;
}

/** A copy of the packet with `PACKET_HEADROOM` bytes in front of it, as hosts hand packets to the core. */
export function withHeadroom(packet: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(PACKET_HEADROOM + packet.length);
  buffer.set(packet, PACKET_HEADROOM);
  return buffer.subarray(PACKET_HEADROOM);
}

function writeAddress(packet: Uint8Array, offset: number, text: string): void {
  const value = parseIpv4Address(text);
  if (value === null) throw new Error(`bad test address ${text}`);
  packet[offset] = value >>> 24;
  packet[offset + 1] = (value >>> 16) & 0xff;
  packet[offset + 2] = (value >>> 8) & 0xff;
  packet[offset + 3] = value & 0xff;
}

/**
 * An IPv4 TCP segment from `src` to `dst` with SYN set, the given option bytes (padded with NOPs to
 * a multiple of 4) and payload, its TCP checksum computed by `tcpChecksum` below.
 */
export function makeTcpSyn(
  src: string,
  dst: string,
  options: readonly number[],
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const padded = [...options];
  while (padded.length % 4 !== 0) padded.push(1);
  const segment = new Uint8Array(20 + padded.length + payload.length);
  segment[0] = 0x30; // source port 12345
  segment[1] = 0x39;
  segment[2] = 0x00; // destination port 80
  segment[3] = 0x50;
  segment[7] = 7; // sequence number
  segment[12] = ((20 + padded.length) / 4) << 4;
  segment[13] = 0x02; // SYN
  segment[14] = 0xff; // window
  segment[15] = 0xff;
  segment.set(padded, 20);
  segment.set(payload, 20 + padded.length);
  const packet = makeIpv4Packet(src, dst, segment, 6);
  const sum = tcpChecksum(packet);
  packet[36] = sum >> 8;
  packet[37] = sum & 0xff;
  return packet;
}

/**
 * The TCP checksum a segment should carry, computed slowly and from scratch (pseudo-header, then
 * the segment with its checksum field taken as zero), as a reference for code that updates it.
 */
export function tcpChecksum(packet: Uint8Array): number {
  const ipHeader = (packet[0]! & 0x0f) * 4;
  const total = (packet[2]! << 8) | packet[3]!;
  const bytes: number[] = [...packet.subarray(12, 20), 0, 6, (total - ipHeader) >> 8, (total - ipHeader) & 0xff];
  for (let i = ipHeader; i < total; i++) bytes.push(i === ipHeader + 16 || i === ipHeader + 17 ? 0 : packet[i]!);
  if (bytes.length % 2 === 1) bytes.push(0);
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += bytes[i]! * 256 + bytes[i + 1]!;
    sum = (sum % 65536) + Math.floor(sum / 65536);
  }
  return 0xffff - sum;
}
