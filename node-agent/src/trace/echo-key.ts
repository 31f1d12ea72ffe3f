/**
 * Finds ICMP echo requests and replies in what the agent handles (an IP packet, a link frame or a
 * batch of frames), so a trace can follow one ping through both agents by its identifier and
 * sequence number. Reads only; never throws on bad bytes (a frame it does not understand has no
 * echo in it).
 */
import { BATCH_LENGTH_BYTES, FRAME_HEADER_BYTES, FRAME_VERSION, FrameType, ROUTED_HEADER_BYTES } from "@ipop/shared";

/** ICMP types of an echo request and its reply. */
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;

/** One echo: its ICMP type (8 request, 0 reply), identifier and sequence number. */
export interface EchoKey {
  readonly type: number;
  readonly id: number;
  readonly seq: number;
}

/** The echo `packet` (an IPv4 packet from `offset`) carries, or undefined when it is not one. */
export function echoKeyOf(packet: Uint8Array, offset = 0): EchoKey | undefined {
  if (packet.length < offset + 20) return undefined;
  const first = packet[offset]!;
  if (first >> 4 !== 4 || packet[offset + 9] !== 1) return undefined;
  // A later fragment has no ICMP header at its front.
  if ((((packet[offset + 6]! & 0x1f) << 8) | packet[offset + 7]!) !== 0) return undefined;
  const icmp = offset + (first & 0x0f) * 4;
  if (packet.length < icmp + 8) return undefined;
  const type = packet[icmp]!;
  if (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) return undefined;
  return {
    type,
    id: (packet[icmp + 4]! << 8) | packet[icmp + 5]!,
    seq: (packet[icmp + 6]! << 8) | packet[icmp + 7]!,
  };
}

/** Routed frames whose payload is an IP packet (kind 0, `RoutedKind.packet`). */
const ROUTED_PACKET_KIND = 0;

/**
 * Calls `found` for every echo in `message`, a frame as it travels on a link's data channel: a data
 * frame, a routed packet, or a batch of those.
 */
export function forEachEchoInFrame(message: Uint8Array, found: (key: EchoKey) => void): void {
  echoInFrame(message, 0, message.length, found, true);
}

function echoInFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  found: (key: EchoKey) => void,
  batchAllowed: boolean,
): void {
  if (end - start < FRAME_HEADER_BYTES || bytes[start] !== FRAME_VERSION) return;
  const frame = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  switch (bytes[start + 1]) {
    case FrameType.data: {
      const key = echoKeyOf(frame, FRAME_HEADER_BYTES);
      if (key !== undefined) found(key);
      return;
    }
    case FrameType.routed: {
      if (frame.length <= ROUTED_HEADER_BYTES || frame[3] !== ROUTED_PACKET_KIND) return;
      const key = echoKeyOf(frame, ROUTED_HEADER_BYTES);
      if (key !== undefined) found(key);
      return;
    }
    case FrameType.batch: {
      if (!batchAllowed) return;
      for (let at = start + FRAME_HEADER_BYTES; at + BATCH_LENGTH_BYTES <= end; ) {
        const inner = at + BATCH_LENGTH_BYTES + ((bytes[at]! << 8) | bytes[at + 1]!);
        if (inner > end) return;
        echoInFrame(bytes, at + BATCH_LENGTH_BYTES, inner, found, false);
        at = inner;
      }
      return;
    }
  }
}
