/**
 * Two instances on one Redis (`--redis`) admitting clashing joins at the same instant: Redis decides,
 * so exactly one wins every round and the loser gets the documented refusal (docs/signaling.md).
 */
import assert from "node:assert/strict";
import { type MemberInfo, type ServerMessage, SignalCloseCode } from "@ipop/shared";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, test } from "vitest";
import { newInstanceId } from "./cluster/redis-cluster.js";
import { silentLogger } from "./logger.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { connectRedis } from "./store/redis-store.js";
import { startTestRedis, type TestRedis } from "./testing/redis-server.js";
import { TestClient, waitFor } from "./testing/test-client.js";

const ROUNDS = 40;
const NETWORK = "race";
let redis: TestRedis;
const instances: Array<{ server: SignalServer; client: Redis }> = [];
let a: SignalServer;
let b: SignalServer;

async function startInstance(): Promise<SignalServer> {
  const client = await connectRedis(redis.url, silentLogger());
  const server = await startSignalServer({ consoleDir: false, cluster: { redis: client, instance: newInstanceId() } });
  instances.push({ server, client });
  return server;
}

beforeAll(async () => {
  redis = await startTestRedis();
  a = await startInstance();
  b = await startInstance();
});
afterAll(async () => {
  for (const { server, client } of instances) {
    await server.close();
    await client.quit();
  }
  await redis.stop();
});

/** How one join of a race ended: the welcome, or the refusal and the close that followed it. */
type JoinEnd =
  | { readonly client: TestClient; readonly welcomed: true }
  | { readonly client: TestClient; readonly welcomed: false; readonly code: string; readonly close: number };

async function joinEnd(client: TestClient): Promise<JoinEnd> {
  const first = await client.next();
  if (first.t === "welcome") return { client, welcomed: true };
  assert.equal(first.t, "error", `a join is answered with a welcome or an error, got ${JSON.stringify(first)}`);
  return { client, welcomed: false, code: first.code, close: (await client.closedWithin()).code };
}

/**
 * Connects one client to each instance, then sends both joins in the same tick (which one goes out
 * first alternates with `round`).
 */
async function race(round: number, first: MemberInfo, second: MemberInfo): Promise<[JoinEnd, JoinEnd]> {
  const [c1, c2] = await Promise.all([TestClient.connect(a.url), TestClient.connect(b.url)]);
  sendJoins(round, [c1, first], [c2, second]);
  return Promise.all([joinEnd(c1), joinEnd(c2)]);
}

function sendJoins(round: number, ...joins: Array<[TestClient, MemberInfo]>): void {
  if (round % 2 === 1) joins.reverse();
  for (const [client, member] of joins) client.sendJson({ v: 1, t: "join", network: NETWORK, member });
}

/** The next relayed message, past the notices of the probe coming and going. */
async function nextMessage(client: TestClient): Promise<ServerMessage> {
  for (;;) {
    const message = await client.next();
    if (message.t !== "member-joined" && message.t !== "member-left") return message;
  }
}

const bothCount = (members: number) => a.stats().members === members && b.stats().members === members;

test("two node ids claiming one address on two instances at once: exactly one is admitted, every time", async () => {
  const wins = { a: 0, b: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const ip = `10.77.${round >> 8}.${(round & 0xff) + 1}`;
    const ends = await race(
      round,
      { nodeId: `left-${round}`, name: `left-${round}`, ip },
      { nodeId: `right-${round}`, name: `right-${round}`, ip },
    );
    const winners = ends.filter((end) => end.welcomed);
    assert.equal(winners.length, 1, `round ${round}: exactly one of two clashing joins is admitted`);
    const loser = ends.find((end) => !end.welcomed);
    assert.ok(loser !== undefined && !loser.welcomed);
    assert.equal(loser.code, "address-in-use", `round ${round}: the loser is told the address is in use`);
    assert.equal(loser.close, SignalCloseCode.addressInUse);
    if (winners[0] === ends[0]) wins.a++;
    else wins.b++;
    // Both instances hold the winner, and only it.
    await waitFor(() => bothCount(1), `round ${round}: both instances count the one winner`);
    await winners[0]!.client.close();
    await waitFor(() => bothCount(0), `round ${round}: both instances see the winner leave`);
  }
  // Not a timing assertion: it only shows the races were real races, decided either way.
  console.log(`address races won by instance a ${wins.a} times, by b ${wins.b} times`);
});

test("one node id joining two instances at once: exactly one connection stays, the other is replaced", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const member = { nodeId: `twin-${round}`, name: `twin-${round}`, ip: `10.78.${round >> 8}.${(round & 0xff) + 1}` };
    const [c1, c2] = await Promise.all([TestClient.connect(a.url), TestClient.connect(b.url)]);
    sendJoins(round, [c1, member], [c2, member]);
    // One of the two connections is closed as replaced (the later claim in Redis's order stays).
    const closed = await Promise.race([c1.closed.then(() => c1), c2.closed.then(() => c2)]);
    const survivor = closed === c1 ? c2 : c1;
    assert.equal((await closed.closed).code, SignalCloseCode.replaced, `round ${round}: the loser is replaced`);
    assert.equal((await survivor.expect("welcome")).t, "welcome");
    await waitFor(() => bothCount(1), `round ${round}: both instances count one member`);
    // Both instances route to the survivor: a message sent through each instance reaches it.
    for (const server of [a, b]) {
      const probe = await TestClient.joined(server.url, NETWORK, {
        nodeId: `probe-${round}`,
        name: "probe",
        ip: "10.79.0.1",
      });
      probe.send(member.nodeId, { round });
      assert.deepEqual(await nextMessage(survivor), { v: 1, t: "message", from: `probe-${round}`, body: { round } });
      await probe.close();
      await waitFor(() => bothCount(1), `round ${round}: the probe left both instances`);
    }
    await survivor.close();
    await waitFor(() => bothCount(0), `round ${round}: both instances see the survivor leave`);
  }
});

test("a node rejoining one instance while its old connection closes stays a member on every instance", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const member = { nodeId: `back-${round}`, name: `back-${round}`, ip: `10.80.${round >> 8}.${(round & 0xff) + 1}` };
    const old = await TestClient.joined(a.url, NETWORK, member);
    await waitFor(() => bothCount(1), `round ${round}: both instances count the first connection`);
    const again = await TestClient.connect(a.url);
    // The old connection's leave and the new connection's claim reach Redis in either order.
    again.sendJson({ v: 1, t: "join", network: NETWORK, member });
    old.ws.terminate();
    await again.expect("welcome");
    await old.closed;
    // Not a timing assertion: the leave of the old connection must not take the new one's record.
    await waitFor(() => bothCount(1), `round ${round}: both instances still count the node`);
    const redisClient = instances[0]!.client;
    assert.equal(
      await redisClient.hexists(`ipop-signal:members:${NETWORK}`, member.nodeId),
      1,
      `round ${round}: Redis holds it`,
    );
    await again.close();
    await waitFor(() => bothCount(0), `round ${round}: both instances see the node leave`);
  }
});
