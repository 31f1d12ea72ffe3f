import { WebSocket, type WebSocketServer } from "ws";
import { CompressionError } from "./errors.js";
import type { FrameSink, OutgoingMessage } from "./wire.js";

/**
 * Checks at startup that the WebSocket server will never negotiate compression, which every
 * {@link FrameOutbox} relies on.
 * @throws {@link CompressionError} when permessage-deflate is enabled.
 */
export function assertNoCompression(wss: WebSocketServer): void {
  if (wss.options.perMessageDeflate) {
    throw new CompressionError(
      "the WebSocket server enables permessage-deflate, but sessions write raw frames past ws's sender; " +
        "keep perMessageDeflate: false",
    );
  }
}

/** What became of a message handed to {@link FrameOutbox.write}. */
export type FrameWrite = "written" | "not-open" | "stalled";

/**
 * Where one connection's server messages go: each message's frame, built once for all its recipients,
 * is written straight to the socket under ws, one write of a shared buffer per recipient instead of ws
 * framing and encoding it again for each. That is safe beside ws's own writes (pings, the close frame)
 * only while ws writes every frame whole and at once, never queued, which holds without compression:
 * with permessage-deflate ws queues frames behind the deflate stream and a raw frame could land
 * inside them. So the outbox refuses to exist on a connection that negotiated any extension.
 */
export class FrameOutbox {
  /**
   * @param ws - the connection; must have negotiated no extension
   * @param socket - the socket under `ws` (the one its upgrade came on), where frames are written
   * @param maxBufferedBytes - a peer with more than this queued is reported as stalled
   * @throws {@link CompressionError} when the connection negotiated an extension (compression).
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: FrameSink,
    private readonly maxBufferedBytes: number,
  ) {
    if (ws.extensions !== "") {
      throw new CompressionError(
        `the connection negotiated "${ws.extensions}", but its frames are written raw past ws's sender; ` +
          "the server must not enable WebSocket extensions",
      );
    }
  }

  /** Bytes queued on the connection and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Writes the message's frame, unless the connection is no longer open or the peer has stopped
   * reading (more than `maxBufferedBytes` already queued). The check is on what is already queued, so
   * one message of any allowed size always gets through to a reader that keeps up.
   */
  write(message: OutgoingMessage): FrameWrite {
    if (this.ws.readyState !== WebSocket.OPEN) return "not-open";
    if (this.ws.bufferedAmount > this.maxBufferedBytes) return "stalled";
    this.socket.write(message.frame());
    return "written";
  }
}
