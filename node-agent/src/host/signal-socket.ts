/**
 * The one thing the signaling client needs of a WebSocket, so that the same client runs over the
 * `ws` package in the agent (TLS with a private CA, heartbeat pings) and over the browser's own
 * WebSocket in the console page. Implementations: node-agent/src/ws-signal-socket.ts and
 * web-console/src/peer/browser-signal-socket.ts.
 */

/** What a {@link SignalSocket} reports. Each is called on the event loop, never inside a method call. */
export interface SignalSocketHandlers {
  /** The connection is open: the client may send. */
  onOpen(): void;
  /** One text message from the server. */
  onText(text: string): void;
  /** One message that cannot be a server message (binary): the client counts it as invalid. */
  onInvalid(): void;
  /** Anything came back (a pong, a ping): the connection is alive. */
  onAlive(): void;
  /**
   * The connection failed. `reason` is for a log line; `lasting` is true when retrying the same
   * server cannot help (a TLS certificate that does not verify), so the reason is worth saying loudly.
   */
  onError(reason: string, lasting: boolean): void;
  /** The connection is gone (after an error, a close from either end, or terminate()). Called once. */
  onClose(code: number, reason: string): void;
}

/** One WebSocket connection to the signaling server. */
export interface SignalSocket {
  /** True while messages can be sent. */
  readonly isOpen: boolean;
  /** Sends one text message; only while {@link isOpen}. */
  send(text: string): void;
  /** Closes with the closing handshake; `onClose` follows. */
  close(code: number, reason: string): void;
  /** Drops the connection at once, without waiting for the server; `onClose` follows. */
  terminate(): void;
  /**
   * Sends a liveness probe that the server answers (a WebSocket ping), reported by `onAlive`.
   * Absent where the transport has none (a browser cannot send pings): the client then keeps no
   * heartbeat.
   */
  ping?(): void;
}

/**
 * Opens a connection to `url` that reports to `handlers`.
 * @throws when the URL cannot be opened at all (malformed): retrying cannot fix that.
 */
export type SignalSocketOpener = (url: string, handlers: SignalSocketHandlers) => SignalSocket;
