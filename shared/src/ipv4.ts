/**
 * IPv4 header validation and field access, reading `Uint8Array`s in place.
 *
 * Nothing here allocates or throws on the packet path: `checkIpv4Packet` returns a drop reason or
 * `null`, and the accessors read fields of a packet that passed the check.
 */

/** Smallest IPv4 header (no options). */
export const IPV4_MIN_HEADER_BYTES = 20;
/** Largest IPv4 datagram the total-length field can describe. */
export const IPV4_MAX_PACKET_BYTES = 65535;

/** Why a packet was refused; used as a drop counter key. */
export type Ipv4DropReason =
  | "short-packet"
  | "not-ipv4"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-checksum"
  | "bad-fragment";

/**
 * Validates version, header length, total length against the buffer, header checksum and fragment
 * fields. Returns null for a packet fit to forward, otherwise why it must be dropped. Bytes past the
 * total length (link padding) are allowed; accessors below use the header's lengths.
 */
export function checkIpv4Packet(p: Uint8Array): Ipv4DropReason | null {
  if (p.length < IPV4_MIN_HEADER_BYTES) return "short-packet";
  const b0 = p[0]!;
  if (b0 >> 4 !== 4) return "not-ipv4";
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_BYTES || headerLength > p.length) return "bad-header-length";
  const totalLength = (p[2]! << 8) | p[3]!;
  if (totalLength < headerLength || totalLength > p.length) return "bad-total-length";
  if (ipv4HeaderChecksum(p, headerLength) !== 0) return "bad-checksum";
  const flagsAndOffset = (p[6]! << 8) | p[7]!;
  if (flagsAndOffset & 0x8000) return "bad-fragment"; // reserved flag must be zero (RFC 791)
  const dontFragment = (flagsAndOffset & 0x4000) !== 0;
  const moreFragments = (flagsAndOffset & 0x2000) !== 0;
  const offsetBytes = (flagsAndOffset & 0x1fff) * 8;
  if (dontFragment && (moreFragments || offsetBytes !== 0)) return "bad-fragment";
  if (offsetBytes + (totalLength - headerLength) > IPV4_MAX_PACKET_BYTES) return "bad-fragment";
  return null;
}

/**
 * Ones-complement sum over the header, folded and inverted. Zero for a header whose checksum field is
 * right; with the checksum field zeroed it is the value to store there.
 */
export function ipv4HeaderChecksum(p: Uint8Array, headerLength: number): number {
  return internetChecksum(p, 0, headerLength);
}

/** RFC 1071 Internet checksum of `p[start, end)`, with an odd trailing byte padded with zero. */
export function internetChecksum(p: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  if (i < end) sum += p[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Source address as an unsigned 32-bit number. */
export function ipv4Source(p: Uint8Array): number {
  return ((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0;
}

/** Destination address as an unsigned 32-bit number. */
export function ipv4Destination(p: Uint8Array): number {
  return ((p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!) >>> 0;
}

export function ipv4Protocol(p: Uint8Array): number {
  return p[9]!;
}

export function ipv4TotalLength(p: Uint8Array): number {
  return (p[2]! << 8) | p[3]!;
}

/** Parses a dotted quad into an unsigned 32-bit number; null when it is not one. */
export function parseIpv4Address(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4Address(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** An interface address with its prefix, e.g. 10.88.0.5/16. */
export interface Ipv4Interface {
  readonly address: number;
  readonly prefixLength: number;
}

/** Netmask for a prefix length, as an unsigned 32-bit number. */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function inSubnet(address: number, network: Ipv4Interface): boolean {
  const mask = prefixMask(network.prefixLength);
  return (address & mask) >>> 0 === (network.address & mask) >>> 0;
}

/**
 * Parses `A.B.C.D/N` as a host's address on a subnet. Refuses the network and broadcast addresses
 * of the subnet and prefixes that leave no room for two hosts, with a message saying why.
 */
export function parseIpv4Interface(text: string): Ipv4Interface | string {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return `"${text}" is not an address with a prefix length, like 10.88.0.5/16`;
  const address = parseIpv4Address(match[1]!);
  if (address === null) return `"${match[1]}" is not an IPv4 address`;
  const prefixLength = Number(match[2]);
  if (prefixLength < 1 || prefixLength > 30) return `prefix length /${prefixLength} must be between /1 and /30`;
  const hostBits = (address & ~prefixMask(prefixLength)) >>> 0;
  const allOnes = (0xffffffff >>> prefixLength) >>> 0;
  if (hostBits === 0) return `${match[1]} is the network address of /${prefixLength}; pick a host address`;
  if (hostBits === allOnes) return `${match[1]} is the broadcast address of /${prefixLength}; pick a host address`;
  return { address, prefixLength };
}

/** True for addresses a unicast overlay never carries: multicast, limited broadcast, the subnet's broadcast. */
export function isBroadcastOrMulticast(address: number, network: Ipv4Interface): boolean {
  if (address >>> 28 === 0xe || address === 0xffffffff) return true;
  const hostMask = (0xffffffff >>> network.prefixLength) >>> 0;
  return inSubnet(address, network) && (address & hostMask) >>> 0 === hostMask;
}

/** The header fields of a packet this node originates (no options, DF clear, not fragmented). */
export interface Ipv4HeaderFields {
  readonly protocol: number;
  readonly source: number;
  readonly destination: number;
  /** Default 64. */
  readonly ttl?: number;
  /** The identification field (default 0). */
  readonly id?: number;
}

/**
 * A new IPv4 packet with a 20-byte header and `payloadLength` zeroed payload bytes, its header
 * checksum set. The packet is a view `headroom` bytes into its buffer, so it can go straight to
 * `OverlayNode.handleHostPacket` (which wants `PACKET_HEADROOM` there). Throws RangeError for a
 * payload too large for one datagram: callers originate packets, they never parse them here.
 */
export function newIpv4Packet(fields: Ipv4HeaderFields, payloadLength: number, headroom = 0): Uint8Array {
  const total = IPV4_MIN_HEADER_BYTES + payloadLength;
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || total > IPV4_MAX_PACKET_BYTES)
    throw new RangeError(`an IPv4 payload of ${payloadLength} bytes does not fit one datagram`);
  const p = new Uint8Array(headroom + total).subarray(headroom);
  p[0] = 0x45;
  p[2] = total >> 8;
  p[3] = total & 0xff;
  const id = fields.id ?? 0;
  p[4] = (id >> 8) & 0xff;
  p[5] = id & 0xff;
  p[8] = fields.ttl ?? 64;
  p[9] = fields.protocol;
  writeAddress(p, 12, fields.source);
  writeAddress(p, 16, fields.destination);
  const sum = ipv4HeaderChecksum(p, IPV4_MIN_HEADER_BYTES);
  p[10] = sum >> 8;
  p[11] = sum & 0xff;
  return p;
}

function writeAddress(p: Uint8Array, at: number, address: number): void {
  p[at] = address >>> 24;
  p[at + 1] = (address >>> 16) & 0xff;
  p[at + 2] = (address >>> 8) & 0xff;
  p[at + 3] = address & 0xff;
}

/** The ones-complement sum (not inverted) of the TCP/UDP pseudo-header, as `internetChecksum`'s `initial`. */
export function pseudoHeaderSum(p: Uint8Array, protocol: number, length: number): number {
  let sum = protocol + length;
  for (let i = 12; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  return sum;
}
