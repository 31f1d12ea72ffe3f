/**
 * The frames peers exchange over a link. Every frame starts with a version byte and a type byte:
 *
 *   data  [1][0x01][IPv4 packet]                      on the unreliable data channel
 *   ping  [1][0x02][seq u32][sentAt f64]              on the reliable control channel
 *   pong  [1][0x03][seq u32][echoed sentAt f64]
 *
 * Two bytes is all a data frame costs, and the sender writes them into headroom reserved in front of
 * the packet, so framing copies nothing. A frame of unknown version or type, or of the wrong size, is
 * dropped and counted by the receiver; decoding never throws.
 */

export const FRAME_VERSION = 1;
/** Bytes in front of the payload of every frame. Hosts reserve this much headroom before packets. */
export const FRAME_HEADER_BYTES = 2;
/**
 * Largest IP packet a data frame carries. Above any MTU we configure (default 1400, the most a
 * 1500-byte underlay leaves after IP/UDP/DTLS/SCTP overhead), below every data channel's
 * maxMessageSize (64 KiB for werift).
 */
export const MAX_DATA_PAYLOAD_BYTES = 9000;
export const MAX_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_DATA_PAYLOAD_BYTES;

export const FrameType = {
  data: 0x01,
  ping: 0x02,
  pong: 0x03,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export type FrameDropReason =
  | "short-frame"
  | "oversized-frame"
  | "bad-frame-version"
  | "unknown-frame-type"
  | "bad-frame-length";

const PING_BYTES = FRAME_HEADER_BYTES + 4 + 8;

/** Checks the frame header and size; returns the frame type or why the frame must be dropped. */
export function classifyFrame(frame: Uint8Array): FrameType | FrameDropReason {
  if (frame.length < FRAME_HEADER_BYTES) return "short-frame";
  if (frame.length > MAX_FRAME_BYTES) return "oversized-frame";
  if (frame[0] !== FRAME_VERSION) return "bad-frame-version";
  const type = frame[1]!;
  switch (type) {
    case FrameType.data:
      return frame.length > FRAME_HEADER_BYTES ? FrameType.data : "short-frame";
    case FrameType.ping:
    case FrameType.pong:
      return frame.length === PING_BYTES ? type : "bad-frame-length";
    default:
      return "unknown-frame-type";
  }
}

/**
 * Writes the data frame header into the `FRAME_HEADER_BYTES` of headroom at the start of `frame`,
 * whose remainder is the packet. Returns the same buffer.
 */
export function writeDataHeader(frame: Uint8Array): Uint8Array {
  frame[0] = FRAME_VERSION;
  frame[1] = FrameType.data;
  return frame;
}

/** A data frame holding a copy of `packet`, for callers without headroom in front of their packet. */
export function encodeDataFrame(packet: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + packet.length);
  frame.set(packet, FRAME_HEADER_BYTES);
  return writeDataHeader(frame);
}

/** The packet inside a data frame that `classifyFrame` accepted; a view, not a copy. */
export function dataPayload(frame: Uint8Array): Uint8Array {
  return frame.subarray(FRAME_HEADER_BYTES);
}

export interface PingFields {
  readonly seq: number;
  readonly sentAt: number;
}

export function encodePing(type: typeof FrameType.ping | typeof FrameType.pong, fields: PingFields): Uint8Array {
  const frame = new Uint8Array(PING_BYTES);
  const view = new DataView(frame.buffer);
  frame[0] = FRAME_VERSION;
  frame[1] = type;
  view.setUint32(2, fields.seq >>> 0);
  view.setFloat64(6, fields.sentAt);
  return frame;
}

/** Reads a ping or pong frame that `classifyFrame` accepted. */
export function decodePing(frame: Uint8Array): PingFields {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { seq: view.getUint32(2), sentAt: view.getFloat64(6) };
}
