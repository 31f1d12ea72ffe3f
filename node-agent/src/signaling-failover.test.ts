/** Several `--signal` URLs: the client moves to the next server when its server goes away. */
import assert from "node:assert/strict";
import type { MemberInfo } from "@ipop/shared";
import { type SignalServer, startSignalServer } from "@ipop/signaling";
import { pino } from "pino";
import { afterAll, test } from "vitest";
import { SignalingClient, signalUrls } from "./signaling-client.js";
import { openWsSignalSocket } from "./ws-signal-socket.js";

const self: MemberInfo = { nodeId: "b".repeat(32), name: "h2", ip: "10.88.0.2" };
const credential = () => ({ cert: "unchecked", time: Date.now(), sig: "AAAA" });
const servers: SignalServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

async function until(what: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!what()) {
    if (Date.now() > deadline) assert.fail(label);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("signalUrls splits a comma list and drops empty parts", () => {
  assert.deepEqual(signalUrls("ws://a:1"), ["ws://a:1"]);
  assert.deepEqual(signalUrls(" ws://a:1, ws://b:2 ,"), ["ws://a:1", "ws://b:2"]);
});

test("the client joins the first server, and the second once the first is gone", async () => {
  const first = await startSignalServer();
  const second = await startSignalServer();
  servers.push(first, second);
  let welcomes = 0;
  let downs = 0;
  const client = new SignalingClient(
    {
      url: `${first.url},${second.url}`,
      openSocket: openWsSignalSocket(),
      network: "lab",
      self,
      credential,
      logger: pino({ level: "silent" }),
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    },
    {
      onWelcome: () => welcomes++,
      onMemberJoined: () => {},
      onIceServers: () => {},
      onMemberLeft: () => {},
      onMessage: () => {},
      onRevocations: () => {},
      onDown: () => downs++,
      onRefused: (message) => assert.fail(message),
    },
  );
  client.start();
  try {
    await until(() => welcomes === 1, "no welcome from the first server");
    assert.equal(client.url, first.url);
    assert.equal(first.stats().members, 1);
    await first.close();
    await until(() => welcomes === 2, "no welcome from the second server");
    assert.equal(downs, 1);
    assert.equal(client.url, second.url);
    assert.equal(second.stats().members, 1);
  } finally {
    await client.close();
  }
});
