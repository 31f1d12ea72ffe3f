import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { MemberInfo } from "@ipop/shared";
import { type SignalServer, startSignalServer } from "@ipop/signaling";
import { pino } from "pino";
import { afterAll, beforeAll, test } from "vitest";
import { SignalingClient } from "./signaling-client.js";
import { openWsSignalSocket } from "./ws-signal-socket.js";

/**
 * A TCP relay between the client and the server whose connections can be frozen: nothing passes
 * either way any more, yet neither end sees a close. That is what a client's TCP connection looks
 * like after its host's address changed.
 */
function freezableProxy(target: number): Promise<{ server: Server; port: number; freezeAll: () => void }> {
  const pairs: Array<[Socket, Socket]> = [];
  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    pairs.push([client, upstream]);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        freezeAll: () => {
          for (const [a, b] of pairs.splice(0)) {
            a.unpipe(b);
            b.unpipe(a);
            a.pause();
            b.pause();
          }
        },
      }),
    ),
  );
}

let signal: SignalServer;
beforeAll(async () => {
  signal = await startSignalServer({});
});
afterAll(() => signal.close());

const self: MemberInfo = { nodeId: "b".repeat(32), name: "h2", ip: "10.88.0.2" };
const credential = () => ({ cert: "unchecked", time: Date.now(), sig: "AAAA" });

test("a connection that goes silent is noticed within a heartbeat or two and replaced by a new one", async () => {
  const port = Number(new URL(signal.url).port);
  const proxy = await freezableProxy(port);
  let welcomes = 0;
  let downs = 0;
  const client = new SignalingClient(
    {
      url: `ws://127.0.0.1:${proxy.port}`,
      openSocket: openWsSignalSocket(),
      network: "lab",
      self,
      credential,
      logger: pino({ level: "silent" }),
      heartbeatMs: 200,
      initialBackoffMs: 10,
    },
    {
      onWelcome: () => {
        welcomes++;
      },
      onMemberJoined: () => {},
      onIceServers: () => {},
      onMemberLeft: () => {},
      onMessage: () => {},
      onRevocations: () => {},
      onDown: () => {
        downs++;
      },
      onRefused: (message) => assert.fail(message),
    },
  );
  const until = async (what: () => boolean, label: string) => {
    const deadline = Date.now() + 10_000;
    while (!what()) {
      if (Date.now() > deadline) assert.fail(label);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  client.start();
  try {
    await until(() => welcomes === 1, "no first welcome");
    proxy.freezeAll();
    await until(() => downs === 1, "the silent connection was never given up");
    await until(() => welcomes === 2 && client.state === "connected", "no new connection");
  } finally {
    await client.close();
    proxy.server.close();
  }
});
