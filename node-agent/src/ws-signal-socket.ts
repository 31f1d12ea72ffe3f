/**
 * The agent's {@link SignalSocket}: the `ws` package, which can check a `wss://` server against a
 * private CA and send WebSocket pings (the signaling client's heartbeat).
 */
import { errorMessage } from "@ipop/shared";
import WebSocket from "ws";
import type { SignalSocket, SignalSocketOpener } from "./host/signal-socket.js";
import { describeConnectFailure } from "./signal-tls.js";

/** Largest message accepted from the server (its membership lists are the big ones). */
const MAX_PAYLOAD_BYTES = 256 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Opens `ws` connections; for a `wss://` URL the server's certificate must come from `ca` (PEM) when
 * given, else from Node's store.
 */
export function openWsSignalSocket(ca?: string): SignalSocketOpener {
  return (url, handlers) => {
    const socket = new WebSocket(url, {
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_PAYLOAD_BYTES,
      ...(ca === undefined ? {} : { ca }),
    });
    socket.on("open", () => handlers.onOpen());
    socket.on("pong", () => handlers.onAlive());
    socket.on("ping", () => handlers.onAlive());
    socket.on("message", (data, isBinary) => {
      if (isBinary) handlers.onInvalid();
      else handlers.onText(data.toString());
    });
    socket.on("error", (error) => {
      const reason = describeConnectFailure(error, ca !== undefined);
      handlers.onError(reason, reason !== errorMessage(error));
    });
    socket.on("close", (code, reason) => handlers.onClose(code, reason.toString()));
    const signalSocket: SignalSocket = {
      get isOpen() {
        return socket.readyState === WebSocket.OPEN;
      },
      send: (text) => socket.send(text),
      close: (code, reason) => socket.close(code, reason),
      terminate: () => socket.terminate(),
      ping: () => socket.ping(),
    };
    return signalSocket;
  };
}
