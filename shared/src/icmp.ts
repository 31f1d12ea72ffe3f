import { internetChecksum, ipv4Destination, ipv4HeaderChecksum, ipv4Source, newIpv4Packet } from "./ipv4.js";

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

export const IP_PROTOCOL_ICMP = 1;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIME_EXCEEDED = 11;

/** One ICMP echo (request or reply) to build or as read. */
export interface IcmpEcho {
  readonly source: number;
  readonly destination: number;
  readonly identifier: number;
  readonly sequence: number;
  /** Data bytes, or how many (filled with a repeating pattern). */
  readonly data: Uint8Array | number;
}

/** An ICMP echo request in IPv4, checksummed; a view `headroom` bytes into its buffer. */
export function buildEchoRequest(echo: IcmpEcho, headroom = 0): Uint8Array {
  return buildEcho(ICMP_ECHO_REQUEST, echo, headroom);
}

function buildEcho(type: number, echo: IcmpEcho, headroom: number, ttl = 64): Uint8Array {
  const dataLength = typeof echo.data === "number" ? echo.data : echo.data.length;
  const p = newIpv4Packet(
    { protocol: IP_PROTOCOL_ICMP, source: echo.source, destination: echo.destination, ttl },
    8 + dataLength,
    headroom,
  );
  p[20] = type;
  p[24] = echo.identifier >> 8;
  p[25] = echo.identifier & 0xff;
  p[26] = echo.sequence >> 8;
  p[27] = echo.sequence & 0xff;
  if (typeof echo.data === "number") for (let i = 0; i < dataLength; i++) p[28 + i] = i & 0xff;
  else p.set(echo.data, 28);
  const sum = internetChecksum(p, 20, p.length);
  p[22] = sum >> 8;
  p[23] = sum & 0xff;
  return p;
}

/** An echo as read: its data a view into the packet, with the packet's TTL. */
export type ReadEcho<K extends "echo-request" | "echo-reply"> = IcmpEcho & {
  readonly kind: K;
  readonly ttl: number;
  readonly data: Uint8Array;
};

/** What an ICMP message in a packet says, as far as a host originating probes cares. */
export type IcmpMessage =
  | ReadEcho<"echo-request">
  | ReadEcho<"echo-reply">
  | {
      readonly kind: "error";
      /** Who sent the error (a router, the overlay node that found no owner, or the target). */
      readonly from: number;
      readonly type: number;
      readonly code: number;
      /** The quoted packet's protocol, destination and its first 8 transport bytes. */
      readonly quoted: { readonly protocol: number; readonly source: number; readonly destination: number };
      /**
       * The 8 quoted transport bytes as four 16-bit words: for UDP the ports first; for an ICMP echo,
       * identifier and sequence are the last two.
       */
      readonly quotedWords: readonly [number, number, number, number];
    };

/**
 * Reads the ICMP message in `packet` (a checked IPv4 packet): echoes with a valid checksum, and
 * destination-unreachable or time-exceeded errors quoting at least 8 bytes of the original. Null
 * for anything else; never throws.
 */
export function parseIcmpPacket(packet: Uint8Array): IcmpMessage | null {
  if (packet.length < 20 || packet[9] !== IP_PROTOCOL_ICMP) return null;
  const headerLength = (packet[0]! & 0x0f) * 4;
  if (((packet[6]! & 0x3f) << 8) | packet[7]!) return null; // fragments: not whole messages
  const total = Math.min(packet.length, (packet[2]! << 8) | packet[3]!);
  if (total < headerLength + 8 || internetChecksum(packet, headerLength, total) !== 0) return null;
  const icmp = packet.subarray(headerLength, total);
  const type = icmp[0]!;
  const source = ipv4Source(packet);
  const destination = ipv4Destination(packet);
  if (type === ICMP_ECHO_REPLY || type === ICMP_ECHO_REQUEST) {
    const echo = {
      ttl: packet[8]!,
      source,
      destination,
      identifier: (icmp[4]! << 8) | icmp[5]!,
      sequence: (icmp[6]! << 8) | icmp[7]!,
      data: icmp.subarray(8),
    };
    return type === ICMP_ECHO_REPLY ? { kind: "echo-reply", ...echo } : { kind: "echo-request", ...echo };
  }
  if (type !== ICMP_DEST_UNREACHABLE && type !== ICMP_TIME_EXCEEDED) return null;
  const quoted = icmp.subarray(8);
  if (quoted.length < 20 || quoted[0]! >> 4 !== 4) return null;
  const quotedHeader = (quoted[0]! & 0x0f) * 4;
  if (quoted.length < quotedHeader + 8) return null;
  const w = quotedHeader;
  return {
    kind: "error",
    from: source,
    type,
    code: icmp[1]!,
    quoted: { protocol: quoted[9]!, source: ipv4Source(quoted), destination: ipv4Destination(quoted) },
    quotedWords: [0, 2, 4, 6].map((i) => (quoted[w + i]! << 8) | quoted[w + i + 1]!) as unknown as readonly [
      number,
      number,
      number,
      number,
    ],
  };
}

/**
 * The echo reply a host sends for `request` (a parsed echo request): addresses swapped, same
 * identifier, sequence and data. Null when the request is not one.
 */
export function echoReplyFor(request: IcmpMessage, headroom = 0): Uint8Array | null {
  if (request.kind !== "echo-request") return null;
  return buildEcho(ICMP_ECHO_REPLY, { ...request, source: request.destination, destination: request.source }, headroom);
}

/** A person's words for an ICMP error: "port unreachable", "host unreachable", "TTL exceeded"... */
export function describeIcmpError(type: number, code: number): string {
  if (type === ICMP_TIME_EXCEEDED) return "time to live exceeded";
  if (type !== ICMP_DEST_UNREACHABLE) return `ICMP type ${type} code ${code}`;
  const names = ["network unreachable", "host unreachable", "protocol unreachable", "port unreachable"];
  if (code === ICMP_FRAGMENTATION_NEEDED) return "fragmentation needed";
  if (code === 13) return "administratively prohibited";
  return names[code] ?? `destination unreachable (code ${code})`;
}
