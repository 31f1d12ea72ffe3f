import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { test } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { CompressionError } from "./errors.js";
import { assertNoCompression, FrameOutbox } from "./frame-outbox.js";
import { startSignalServer } from "./server.js";
import { OutgoingMessage } from "./wire.js";

interface Accepted {
  readonly http: Server;
  /** The server side of the connection and the socket its upgrade came on. */
  readonly ws: WebSocket;
  readonly socket: Socket;
  /** The client side. */
  readonly client: WebSocket;
}

/** A real WebSocket connection on loopback, to a bare ws server with or without compression. */
async function accept(perMessageDeflate: boolean): Promise<Accepted> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate });
  const http = createServer();
  const accepted = new Promise<{ ws: WebSocket; socket: Socket }>((resolve) => {
    http.on("upgrade", (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => resolve({ ws, socket: socket as Socket })),
    );
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  // A ws client offers permessage-deflate by default.
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => client.once("open", resolve).once("error", reject));
  return { http, client, ...(await accepted) };
}

async function shut(c: Accepted): Promise<void> {
  c.client.terminate();
  c.ws.terminate();
  c.http.closeAllConnections();
  await new Promise((resolve) => c.http.close(resolve));
}

test("a connection that negotiated compression gets no outbox: its raw frames would corrupt the stream", async () => {
  const c = await accept(true);
  try {
    assert.equal(c.ws.extensions, "permessage-deflate", "the fixture negotiated compression");
    assert.throws(
      () => new FrameOutbox(c.ws, c.socket, 1024),
      (err: unknown) => err instanceof CompressionError && err.code === "ERR_SIGNAL_COMPRESSION",
    );
  } finally {
    await shut(c);
  }
});

test("without compression the outbox writes whole frames the client reads, and stops once closed", async () => {
  const c = await accept(false);
  try {
    const outbox = new FrameOutbox(c.ws, c.socket, 1024);
    const received = new Promise<string>((resolve) => c.client.once("message", (data) => resolve(String(data))));
    assert.equal(outbox.write(new OutgoingMessage('{"v":1,"t":"hello"}')), "written");
    assert.equal(await received, '{"v":1,"t":"hello"}');
    c.ws.close(1000);
    assert.equal(outbox.write(new OutgoingMessage("late")), "not-open");
  } finally {
    await shut(c);
  }
});

test("a WebSocket server with compression enabled is refused at startup", () => {
  const compressing = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  assert.throws(() => assertNoCompression(compressing), CompressionError);
  assertNoCompression(new WebSocketServer({ noServer: true, perMessageDeflate: false }));
});

test("the signaling server declines a client's offer of compression", async () => {
  const server = await startSignalServer();
  const client = new WebSocket(server.url, { perMessageDeflate: true });
  try {
    await new Promise((resolve, reject) => client.once("open", resolve).once("error", reject));
    assert.equal(client.extensions, "", "no extension negotiated");
  } finally {
    client.terminate();
    await server.close();
  }
});
