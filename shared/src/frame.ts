/**
 * The frames peers exchange over a link. Every frame starts with a version byte and a type byte:
 *
 *   data     [1][0x01][IPv4 packet]                   a packet for the peer itself (unreliable channel)
 *   ping     [1][0x02][seq u32][sentAt f64]           keepalive (reliable channel)
 *   pong     [1][0x03][seq u32][echoed sentAt f64]
 *   routed   [1][0x04][ttl][kind][src ring 6][dst ring 6][payload]
 *            a packet (kind 0, unreliable channel), an overlay message (kind 1, reliable channel),
 *            a trace (kind 2, reliable; trace-path.ts) or an overlay ping (kind 3, reliable; a trace
 *            payload, pings.ts) travelling over several hops towards the node closest to `dst` on
 *            the ring; transit hops read only this header. Kind 4 is a flood (unreliable): a
 *            broadcast or multicast packet, `dst` being the end of the ring range the receiver
 *            passes it on to (flood.ts)
 *   message  [1][0x05][UTF-8 JSON]                    an overlay message for the peer itself (reliable)
 *   batch    [1][0x06]([length u16][frame])+           several data-channel frames (data or routed
 *            packets) in one message, packed by frame-batcher.ts with `writeBatch`. Never nested.
 *
 * Two bytes is all a direct data frame costs, and the sender writes headers into headroom reserved in
 * front of the packet (`PACKET_HEADROOM`), so framing copies nothing. A frame of unknown version or type, or of the wrong size, is
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
/** Header of a routed frame: version, type, ttl, kind and two 48-bit ring addresses. */
export const ROUTED_HEADER_BYTES = 16;
/** Bytes hosts reserve in front of every packet they hand the core: room for the largest header. */
export const PACKET_HEADROOM = ROUTED_HEADER_BYTES;
export const MAX_FRAME_BYTES = ROUTED_HEADER_BYTES + MAX_DATA_PAYLOAD_BYTES;
/** Largest batch frame a receiver accepts: werift's maxMessageSize, the smallest of our stacks. */
export const MAX_BATCH_FRAME_BYTES = 65536;
/** Bytes of the big-endian length in front of each frame inside a batch. */
export const BATCH_LENGTH_BYTES = 2;

export const FrameType = {
  data: 0x01,
  ping: 0x02,
  pong: 0x03,
  routed: 0x04,
  message: 0x05,
  batch: 0x06,
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
  const type = frame[1]!;
  if (frame.length > (type === FrameType.batch ? MAX_BATCH_FRAME_BYTES : MAX_FRAME_BYTES)) return "oversized-frame";
  if (frame[0] !== FRAME_VERSION) return "bad-frame-version";
  switch (type) {
    case FrameType.data:
      return frame.length > FRAME_HEADER_BYTES ? FrameType.data : "short-frame";
    case FrameType.ping:
    case FrameType.pong:
      return frame.length === PING_BYTES ? type : "bad-frame-length";
    case FrameType.routed:
      if (frame.length <= ROUTED_HEADER_BYTES) return "short-frame";
      return frame[3]! <= RoutedKind.relay ? type : "unknown-frame-type";
    case FrameType.message:
      return frame.length > FRAME_HEADER_BYTES ? type : "short-frame";
    case FrameType.batch:
      if (frame.length === FRAME_HEADER_BYTES) return "short-frame";
      return batchTiles(frame) ? type : "bad-frame-length";
    default:
      return "unknown-frame-type";
  }
}

/**
 * Whether a batch's length prefixes tile it exactly, each naming a non-empty frame, so a reader
 * walking them with `batchedFrameEnd` never leaves the batch.
 */
function batchTiles(batch: Uint8Array): boolean {
  let offset = FRAME_HEADER_BYTES;
  while (offset < batch.length) {
    const end = batchedFrameEnd(batch, offset);
    if (end <= offset + BATCH_LENGTH_BYTES || end > batch.length) return false;
    offset = end;
  }
  return true;
}

/**
 * Where the inner frame whose length prefix starts at `offset` of a batch ends; the frame itself is
 * `batch.subarray(offset + BATCH_LENGTH_BYTES, end)`. Only for batches `classifyFrame` accepted
 * (elsewhere the result may lie past the end).
 */
export function batchedFrameEnd(batch: Uint8Array, offset: number): number {
  if (offset + BATCH_LENGTH_BYTES > batch.length) return -1;
  return offset + BATCH_LENGTH_BYTES + ((batch[offset]! << 8) | batch[offset + 1]!);
}

/**
 * Writes `frames` as one batch frame at the start of `out`, which must hold `batchBytes(frames)`;
 * returns the batch, a view of `out`. Each frame must be non-empty and shorter than 64 KiB.
 */
export function writeBatch(out: Uint8Array, frames: readonly Uint8Array[]): Uint8Array {
  out[0] = FRAME_VERSION;
  out[1] = FrameType.batch;
  let offset = FRAME_HEADER_BYTES;
  for (const frame of frames) {
    out[offset] = frame.length >>> 8;
    out[offset + 1] = frame.length & 0xff;
    out.set(frame, offset + BATCH_LENGTH_BYTES);
    offset += BATCH_LENGTH_BYTES + frame.length;
  }
  return out.subarray(0, offset);
}

/** Size of the batch frame holding `frames`. */
export function batchBytes(frames: readonly Uint8Array[]): number {
  let bytes = FRAME_HEADER_BYTES;
  for (const frame of frames) bytes += BATCH_LENGTH_BYTES + frame.length;
  return bytes;
}

/** A new batch frame holding `frames`, for callers without a buffer of their own. */
export function encodeBatch(frames: readonly Uint8Array[]): Uint8Array {
  return writeBatch(new Uint8Array(batchBytes(frames)), frames);
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

/** What a routed frame carries. */
export const RoutedKind = {
  packet: 0,
  message: 1,
  trace: 2,
  /** `ipop ping`: a trace payload whose end answers with a `ping-reply` (pings.ts). */
  ping: 3,
  /** A broadcast or multicast packet; the header's destination is the end of the receiver's ring range. */
  flood: 4,
  /**
   * A frame sealed end to end between two nodes that reach each other only through a relay
   * (relay-session.ts); the relay passes it on to the destination's own link, never greedily.
   */
  relay: 5,
} as const;
export type RoutedKind = (typeof RoutedKind)[keyof typeof RoutedKind];

/** The fields of a routed frame's header. */
export interface RoutedHeader {
  readonly ttl: number;
  readonly kind: RoutedKind;
  readonly source: number;
  readonly destination: number;
}

/**
 * Writes a routed header into the first `ROUTED_HEADER_BYTES` of `frame` (headroom in front of the
 * payload). Returns the same buffer.
 */
export function writeRoutedHeader(frame: Uint8Array, header: RoutedHeader): Uint8Array {
  frame[0] = FRAME_VERSION;
  frame[1] = FrameType.routed;
  frame[2] = header.ttl;
  frame[3] = header.kind;
  writeRing(frame, 4, header.source);
  writeRing(frame, 10, header.destination);
  return frame;
}

export function routedTtl(frame: Uint8Array): number {
  return frame[2]!;
}

/**
 * Counts one hop against a routed frame's TTL, in place. False, leaving the frame as it was, when
 * the TTL is spent: the frame must be dropped.
 */
export function takeRoutedHop(frame: Uint8Array): boolean {
  const ttl = frame[2]!;
  if (ttl <= 1) return false;
  frame[2] = ttl - 1;
  return true;
}

export function routedKind(frame: Uint8Array): RoutedKind {
  return frame[3] as RoutedKind;
}

export function routedSource(frame: Uint8Array): number {
  return readRing(frame, 4);
}

export function routedDestination(frame: Uint8Array): number {
  return readRing(frame, 10);
}

/** The payload of a routed frame that `classifyFrame` accepted; a view. */
export function routedPayload(frame: Uint8Array): Uint8Array {
  return frame.subarray(ROUTED_HEADER_BYTES);
}

function writeRing(frame: Uint8Array, offset: number, ring: number): void {
  const high = Math.floor(ring / 2 ** 24);
  const low = ring % 2 ** 24;
  frame[offset] = high >>> 16;
  frame[offset + 1] = (high >>> 8) & 0xff;
  frame[offset + 2] = high & 0xff;
  frame[offset + 3] = low >>> 16;
  frame[offset + 4] = (low >>> 8) & 0xff;
  frame[offset + 5] = low & 0xff;
}

function readRing(frame: Uint8Array, offset: number): number {
  const high = (frame[offset]! << 16) | (frame[offset + 1]! << 8) | frame[offset + 2]!;
  const low = (frame[offset + 3]! << 16) | (frame[offset + 4]! << 8) | frame[offset + 5]!;
  return high * 2 ** 24 + low;
}

/** A routed frame of `kind` from ring address `source` with `payload` after its header (a copy). */
export function encodeRoutedFrame(
  ttl: number,
  source: number,
  kind: RoutedKind,
  destination: number,
  payload: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(ROUTED_HEADER_BYTES + payload.length);
  frame.set(payload, ROUTED_HEADER_BYTES);
  return writeRoutedHeader(frame, { ttl, kind, source, destination });
}

/** A frame of `type` with `payload` after the 2-byte header (for message frames). */
export function encodeFrame(type: FrameType, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  frame[0] = FRAME_VERSION;
  frame[1] = type;
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}
