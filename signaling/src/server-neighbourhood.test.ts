import assert from "node:assert/strict";
import type { ServerMessage } from "@ipop/shared";
import { parseIpv4Address, ringAddress } from "@ipop/shared";
import { afterAll, beforeAll, test } from "vitest";
import { type SignalServer, startSignalServer } from "./server.js";
import { member, TestClient } from "./testing/test-client.js";

// A network larger than the welcome: only the ring neighbourhood is listed and told.
const WELCOME = 2;
const NETWORK = "hood";

let server: SignalServer;
beforeAll(async () => {
  server = await startSignalServer({ limits: { welcomeMembers: WELCOME } });
});
afterAll(() => server.close());

const ringOf = (ip: string) => ringAddress(NETWORK, parseIpv4Address(ip)!);

let nextRef = 1;

/** Everything the server sent `client` up to a round trip through it (the answer to a send to nobody). */
async function drain(client: TestClient): Promise<ServerMessage[]> {
  const ref = nextRef++;
  client.send("nobody-has-this-id", null, ref);
  const got: ServerMessage[] = [];
  for (;;) {
    const message = await client.next();
    if (message.t === "error" && message.ref === ref) return got;
    got.push(message);
  }
}

/** The first successor and the first predecessor of `ip` on the ring among `others`: worked out by hand here. */
function successorAndPredecessor(ip: string, others: readonly string[]): string[] {
  const self = ringOf(ip);
  const sorted = [...others].sort((a, b) => ringOf(a) - ringOf(b));
  const after = sorted.find((o) => ringOf(o) >= self) ?? sorted[0]!;
  const before = [...sorted].reverse().find((o) => ringOf(o) < self) ?? sorted[sorted.length - 1]!;
  return [after, before];
}

test("welcome lists the ring neighbours; only they hear of the join and of the leave", async () => {
  const ips = ["10.88.0.1", "10.88.0.2", "10.88.0.3", "10.88.0.4", "10.88.0.5", "10.88.0.6"];
  const clients = new Map<string, TestClient>();
  for (const ip of ips) {
    clients.set(ip, await TestClient.joined(server.url, NETWORK, member(`n${ip.split(".")[3]}`, ip)));
  }
  for (const client of clients.values()) await drain(client);

  const joinerIp = "10.88.0.77";
  const joiner = await TestClient.connect(server.url);
  const welcome = await joiner.join(NETWORK, member("n77", joinerIp));
  const expected = successorAndPredecessor(joinerIp, ips);
  assert.deepEqual(
    welcome.members.map((m) => m.ip),
    expected,
  );

  for (const [ip, client] of clients) {
    const heard = (await drain(client)).filter((m) => m.t === "member-joined").length;
    assert.equal(heard, expected.includes(ip) ? 1 : 0, `${ip} hears of the join only if it is a neighbour`);
  }

  await joiner.close();
  for (const [ip, client] of clients) {
    if (expected.includes(ip)) {
      assert.deepEqual(await client.next(), { v: 1, t: "member-left", nodeId: "n77" });
    } else {
      assert.deepEqual(await drain(client), [], `${ip} is not told of the leave`);
    }
  }
  for (const client of clients.values()) await client.close();
});

test("a send reaches any member, listed in the welcome or not", async () => {
  const ips = ["10.88.2.1", "10.88.2.2", "10.88.2.3", "10.88.2.4", "10.88.2.5"];
  const clients: TestClient[] = [];
  for (const [i, ip] of ips.entries()) clients.push(await TestClient.joined(server.url, "far", member(`f${i}`, ip)));
  const last = clients[clients.length - 1]!;
  for (let i = 0; i < clients.length - 1; i++) {
    const target = clients[i]!;
    await drain(target);
    last.send(`f${i}`, { hello: i });
    const body = { hello: i };
    assert.deepEqual(await target.expect("message"), { v: 1, t: "message", from: `f${ips.length - 1}`, body });
  }
  for (const client of clients) await client.close();
});
