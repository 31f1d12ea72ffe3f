/**
 * The signaling client over an in-memory socket: what it does with each thing a server (or a socket)
 * can do to it, without a server. signaling-failover, signaling-heartbeat and signal-tls tests run it
 * against the real server over `ws`.
 */
import assert from "node:assert/strict";
import { SIGNAL_PROTOCOL_VERSION } from "@ipop/shared";
import { member } from "@ipop/shared/testing";
import { test } from "vitest";
import type { SignalSocket, SignalSocketHandlers, SignalSocketOpener } from "./host/signal-socket.js";
import { SignalingClient, type SignalingEvents } from "./signaling-client.js";

/** One in-memory connection: the test plays the server through `handlers`. */
class MemorySocket implements SignalSocket {
  isOpen = false;
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: string | undefined;
  constructor(readonly handlers: SignalSocketHandlers) {}
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(_code: number, reason: string): void {
    this.closedWith = reason;
    this.isOpen = false;
    queueMicrotask(() => this.handlers.onClose(1000, reason));
  }
  terminate(): void {
    this.close(1006, "terminated");
  }
  open(): void {
    this.isOpen = true;
    this.handlers.onOpen();
  }
  serverSays(message: Record<string, unknown>): void {
    this.handlers.onText(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, ...message }));
  }
}

/** A client whose every connection is a {@link MemorySocket}, and a record of what it reported. */
function clientWith(opener?: SignalSocketOpener) {
  const sockets: MemorySocket[] = [];
  const seen = { welcomes: 0, downs: 0, refused: [] as Array<[string, string]> };
  const events: SignalingEvents = {
    onWelcome: () => seen.welcomes++,
    onMemberJoined: () => {},
    onMemberLeft: () => {},
    onMessage: () => {},
    onRevocations: () => {},
    onIceServers: () => {},
    onDown: () => seen.downs++,
    onRefused: (message, code) => seen.refused.push([message, code]),
  };
  const client = new SignalingClient(
    {
      url: "ws://signal.test:7000",
      openSocket:
        opener ??
        ((_url, handlers) => {
          const socket = new MemorySocket(handlers);
          sockets.push(socket);
          return socket;
        }),
      network: "lab",
      self: member(1, "a".repeat(32)),
      credential: () => ({ cert: "unchecked", time: 0, sig: "AAAA" }),
      initialBackoffMs: 1,
      maxBackoffMs: 1,
    },
    events,
  );
  return { client, sockets, seen };
}

const welcome = {
  t: "welcome",
  network: "lab",
  members: [],
  limits: { maxMessageBytes: 1, messagesPerSecond: 1, maxMembers: 1 },
};

test("it joins on open, sends only once welcomed, and leaves without reporting a loss", async () => {
  const { client, sockets, seen } = clientWith();
  client.start();
  const socket = sockets[0]!;
  assert.equal(client.send("b".repeat(32), {}), false, "not open yet");
  socket.open();
  assert.equal(socket.sent[0]?.t, "join");
  assert.equal(client.send("b".repeat(32), {}), false, "not joined yet");
  socket.serverSays(welcome);
  assert.equal(client.state, "connected");
  assert.equal(client.send("b".repeat(32), { x: 1 }), true);
  await client.close();
  assert.deepEqual(
    socket.sent.map((m) => m.t),
    ["join", "send", "leave"],
  );
  assert.equal(socket.closedWith, "leaving");
  assert.equal(seen.downs, 0, "a close we asked for is no loss");
  assert.equal(sockets.length, 1, "no reconnect after close");
});

test("binary and malformed messages are counted and dropped; a lost joined connection is reported and replaced", async () => {
  const { client, sockets, seen } = clientWith();
  client.start();
  sockets[0]!.open();
  sockets[0]!.handlers.onInvalid();
  sockets[0]!.handlers.onText("{not json");
  sockets[0]!.serverSays({ t: "welcome" });
  assert.equal(client.invalidMessages, 3);
  assert.equal(seen.welcomes, 0);
  sockets[0]!.serverSays(welcome);
  sockets[0]!.handlers.onClose(1006, "");
  assert.equal(seen.downs, 1);
  assert.equal(client.state, "disconnected");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sockets.length, 2, "a new connection after the backoff");
  assert.equal(client.reconnects, 1);
  await client.close();
});

test("a refused join stops the client for good; so does a URL that cannot be opened", async () => {
  const { client, sockets, seen } = clientWith();
  client.start();
  sockets[0]!.open();
  sockets[0]!.serverSays({ t: "error", code: "address-in-use", message: "10.88.0.1 is taken" });
  assert.deepEqual(seen.refused, [["10.88.0.1 is taken", "address-in-use"]]);
  assert.equal(sockets[0]!.closedWith, "refused");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sockets.length, 1, "no retry after a refusal");

  const bad = clientWith(() => {
    throw new SyntaxError("Invalid URL");
  });
  bad.client.start();
  assert.deepEqual(bad.seen.refused, [["cannot open a WebSocket to ws://signal.test:7000", "bad-url"]]);
  assert.equal(bad.client.state, "disconnected");
});

test("an error reply after joining is counted, not fatal", () => {
  const { client, sockets, seen } = clientWith();
  client.start();
  sockets[0]!.open();
  sockets[0]!.serverSays(welcome);
  sockets[0]!.serverSays({ t: "error", code: "unauthorized", message: "not yours" });
  assert.equal(client.errorReplies, 1);
  assert.deepEqual(seen.refused, []);
  assert.equal(client.connected, true);
});
