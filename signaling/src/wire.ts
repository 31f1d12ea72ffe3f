import type { ServerMessage } from "@ipop/shared";
import type { RawData } from "ws";

/**
 * Serializes a server message, or returns `undefined` when it cannot be serialized. That happens for a
 * forwarded `body` nested thousands of levels deep: `JSON.parse` accepts it, but `JSON.stringify` recurses
 * and throws a RangeError, which must not escape into the socket's event handler.
 */
export function encodeServerMessage(message: ServerMessage): string | undefined {
  try {
    return JSON.stringify(message);
  } catch {
    return undefined;
  }
}

/** The bytes of a received frame as one Buffer, whatever `binaryType` the socket delivers. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Where a session writes its frames: the raw socket of its WebSocket. */
export interface FrameSink {
  write(frame: Buffer): boolean;
}

/**
 * A server message encoded once for any number of recipients: its JSON text (what goes through Redis
 * to another instance) and, built on first use, its WebSocket frame. A notice to a ring neighbourhood
 * goes to 16 members: framing it once, rather than once per socket, leaves each recipient one write
 * of a shared buffer.
 */
export class OutgoingMessage {
  private framed: Buffer | undefined;

  constructor(readonly text: string) {}

  /**
   * The message as one final, unmasked text frame (RFC 6455 section 5.2: a server's frames are not
   * masked). The buffer is shared by every recipient and must not be changed.
   */
  frame(): Buffer {
    if (this.framed !== undefined) return this.framed;
    const length = Buffer.byteLength(this.text);
    const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + length);
    frame[0] = 0x81; // FIN + text
    if (length < 126) frame[1] = length;
    else if (length < 65_536) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    frame.write(this.text, header, "utf8");
    this.framed = frame;
    return frame;
  }
}

/** Encodes `message` for one or more recipients; undefined when it cannot be serialized. */
export function outgoing(message: ServerMessage): OutgoingMessage | undefined {
  const text = encodeServerMessage(message);
  return text === undefined ? undefined : new OutgoingMessage(text);
}
