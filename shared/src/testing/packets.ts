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
