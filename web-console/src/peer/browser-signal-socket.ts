import type { SignalSocket, SignalSocketOpener } from "@ipop/agent/host";

/**
 * The page's {@link SignalSocket}: the browser's WebSocket. It cannot send pings, so the signaling
 * client keeps no heartbeat here (the browser notices a dead connection itself, later).
 */
export const openBrowserSignalSocket: SignalSocketOpener = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event) => {
    if (typeof event.data === "string") handlers.onText(event.data);
    else handlers.onInvalid();
  };
  // The browser tells a script nothing about why a connection failed (not even TLS problems).
  socket.onerror = () => handlers.onError("WebSocket error", false);
  socket.onclose = (event) => handlers.onClose(event.code, event.reason);
  const signalSocket: SignalSocket = {
    get isOpen() {
      return socket.readyState === WebSocket.OPEN;
    },
    send: (text) => socket.send(text),
    close: (code, reason) => socket.close(code, reason),
    // A browser has no abrupt close; the handshake is the best it can do.
    terminate: () => socket.close(),
  };
  return signalSocket;
};
