/**
 * The few WebSocket frames (RFC 6455) the load test's members send, built once, and a reader that
 * walks the server's frames without copying them. A load client that shares two cores with the server
 * must spend as little as it can per member: no HTTP client, no per-frame random mask, no JSON parsing
 * after the welcome.
 */

/** Client frames must be masked; the key need not be secret, so one fixed key serves every frame. */
const MASK = Buffer.from([0x1f, 0x2e, 0x3d, 0x4c]);
const OPCODE_TEXT = 0x1;
/** Opcodes of the server's frames that the reader reports. */
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** A masked client frame with the FIN bit set. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const header = 2 + extended + 4;
  const frame = Buffer.allocUnsafe(header + payload.length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = 0x80 | payload.length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  MASK.copy(frame, 2 + extended);
  for (let i = 0; i < payload.length; i++) frame[header + i] = payload[i]! ^ MASK[i & 3]!;
  return frame;
}

/** A masked text frame of `text`. */
export function textFrame(text: string): Buffer {
  return clientFrame(OPCODE_TEXT, Buffer.from(text));
}

/** The close frame with code 1000 (normal closure): the same bytes for every member. */
export const CLOSE_FRAME = clientFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));

/** The pong answering a ping with `payload` (the server's pings carry none, so it is usually shared). */
const EMPTY_PONG = clientFrame(OPCODE_PONG, Buffer.alloc(0));
export function pongFrame(payload: Buffer): Buffer {
  return payload.length === 0 ? EMPTY_PONG : clientFrame(OPCODE_PONG, payload);
}

/**
 * The upgrade request. The key is fixed: it only proves to the client that the server speaks
 * WebSocket, and this client does not check the answer's accept hash (only its status line).
 */
export function upgradeRequest(host: string, port: number): Buffer {
  return Buffer.from(
    `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
}

/**
 * Walks unmasked server frames across TCP chunks. Each complete frame is reported once as its opcode;
 * only frames the caller asks to keep (the welcome, control frames) have their payload gathered, every
 * other payload is skipped as it streams past. Fragmented messages are not expected from this server
 * and are reported frame by frame.
 */
export class FrameReader {
  /** Bytes of a header split across chunks. */
  private header: Buffer | undefined;
  /** Payload bytes still to skip or gather of the current frame. */
  private remaining = 0;
  private opcode = 0;
  private gathered: Buffer[] | undefined;

  /**
   * @param keep - whether to gather the payload of a frame with this opcode.
   * @param onFrame - called for each complete frame, with its payload when kept.
   */
  constructor(
    private readonly keep: (opcode: number) => boolean,
    private readonly onFrame: (opcode: number, payload: Buffer | undefined) => void,
  ) {}

  /** Feeds the next bytes; nothing of `chunk` is kept past the call, so it may be a reused buffer. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        // Copied: the chunk may be a read buffer that the next read overwrites.
        this.gathered?.push(Buffer.from(chunk.subarray(at, at + take)));
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.finish();
        continue;
      }
      // A header: 2 bytes, plus 2 or 8 of length (a server's frames are not masked).
      let bytes = chunk.subarray(at);
      if (this.header !== undefined) bytes = Buffer.concat([this.header, bytes]);
      const need = bytes.length < 2 ? 2 : 2 + ((bytes[1]! & 0x7f) === 126 ? 2 : (bytes[1]! & 0x7f) === 127 ? 8 : 0);
      if (bytes.length < need) {
        this.header = Buffer.from(bytes);
        return;
      }
      const fromHeader = this.header?.length ?? 0;
      this.header = undefined;
      const short = bytes[1]! & 0x7f;
      const length = short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
      this.opcode = bytes[0]! & 0x0f;
      this.gathered = this.keep(this.opcode) ? [] : undefined;
      this.remaining = length;
      at += need - fromHeader;
      if (length === 0) this.finish();
    }
  }

  private finish(): void {
    const payload = this.gathered === undefined ? undefined : Buffer.concat(this.gathered);
    this.gathered = undefined;
    this.onFrame(this.opcode, payload);
  }
}
