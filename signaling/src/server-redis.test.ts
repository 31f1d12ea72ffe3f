/** Two instances on one Redis (`--redis`), in process: one network, shared leases and revocations. */
import assert from "node:assert/strict";
import { formatIpv4Address, parseCertificate, SignalCloseCode, signEnrollRequest } from "@ipop/shared";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, test } from "vitest";
import { newInstanceId } from "./cluster/redis-cluster.js";
import { silentLogger } from "./logger.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { connectRedis, RedisStateStore } from "./store/redis-store.js";
import { joinMessage, keysFor, makeCa, makeNode, memberOf, type TestCa } from "./testing/ca-fixtures.js";
import { startTestRedis, type TestRedis } from "./testing/redis-server.js";
import { TestClient, waitFor } from "./testing/test-client.js";

const clock = { now: Date.UTC(2026, 4, 1) };
let redis: TestRedis;
const ca: TestCa = makeCa(clock.now, { pools: ["10.88.0.0/16"] });
const instances: Array<{ server: SignalServer; store: RedisStateStore; client: Redis }> = [];

async function startInstance(): Promise<SignalServer> {
  const instance = newInstanceId();
  const store = new RedisStateStore(await connectRedis(redis.url, silentLogger()), instance, silentLogger());
  const client = await connectRedis(redis.url, silentLogger());
  const server = await startSignalServer({
    wallClock: () => clock.now,
    authority: { ca: ca.ca, caKey: ca.keys.seed },
    store,
    cluster: { redis: client, instance },
  });
  instances.push({ server, store, client });
  return server;
}

let a: SignalServer;
let b: SignalServer;
beforeAll(async () => {
  redis = await startTestRedis();
  a = await startInstance();
  b = await startInstance();
});
afterAll(async () => {
  for (const { server, store, client } of instances) {
    await server.close();
    await store.close();
    await client.quit();
  }
  await redis.stop();
});

test("members joined to different instances see each other and relay through Redis", async () => {
  const n1 = makeNode("r1", "10.88.9.1");
  const n2 = makeNode("r2", "10.88.9.2");
  const c1 = await TestClient.connect(a.url);
  c1.sendJson(joinMessage(n1, ca.certify(n1), clock.now));
  assert.deepEqual((await c1.expect("welcome")).members, []);
  await waitFor(() => b.stats().members === 1, "instance b mirrors the member of a");
  const c2 = await TestClient.connect(b.url);
  c2.sendJson(joinMessage(n2, ca.certify(n2), clock.now));
  assert.deepEqual((await c2.expect("welcome")).members, [memberOf(n1)]);
  assert.deepEqual(await c1.expect("member-joined"), { v: 1, t: "member-joined", member: memberOf(n2) });

  c1.send(n2.nodeId, { offer: "sdp" });
  assert.deepEqual(await c2.expect("message"), { v: 1, t: "message", from: n1.nodeId, body: { offer: "sdp" } });
  c2.send(n1.nodeId, { answer: "sdp" });
  assert.deepEqual(await c1.expect("message"), { v: 1, t: "message", from: n2.nodeId, body: { answer: "sdp" } });

  // A member moving to the other instance replaces its old connection there.
  const c1again = await TestClient.connect(b.url);
  c1again.sendJson(joinMessage(n1, ca.certify(n1), clock.now + 1));
  await c1again.expect("welcome");
  assert.equal((await c1.closedWithin()).code, SignalCloseCode.replaced);
  await waitFor(() => a.stats().members === 2 && b.stats().members === 2, "both instances count two members");

  await c2.close();
  assert.deepEqual(await c1again.expect("member-left"), { v: 1, t: "member-left", nodeId: n2.nodeId });
  await c1again.close();
  await waitFor(() => a.stats().members === 0 && b.stats().members === 0, "both instances see the leaves");
});

async function enrollAt(server: SignalServer, name: string): Promise<string> {
  const c = await TestClient.connect(server.url);
  c.sendJson(signEnrollRequest({ network: "lab", token: ca.token({ leaseSeconds: 3600 }), name }, keysFor(name).seed));
  const answer = await c.expect("enrolled");
  await c.close();
  const cert = parseCertificate(answer.cert);
  assert.ok(cert.ok);
  return formatIpv4Address(cert.value.address!.address);
}

test("a lease made on one instance is held on the other: no address is handed out twice", async () => {
  const before = b.leaseCount();
  const first = await enrollAt(a, "lease-1");
  await waitFor(() => b.leaseCount() === before + 1, "instance b mirrors the lease");
  const second = await enrollAt(b, "lease-2");
  assert.notEqual(second, first);
  assert.equal(await enrollAt(b, "lease-1"), first, "the same key gets its lease back on the other instance");
});

test("a revocation list published on one instance disconnects revoked members of the other", async () => {
  const bad = makeNode("bad", "10.88.9.66");
  const c = await TestClient.connect(b.url);
  c.sendJson(joinMessage(bad, ca.certify(bad), clock.now));
  await c.expect("welcome");
  const publisher = await TestClient.connect(a.url);
  publisher.sendJson({
    v: 1,
    t: "publish-revocations",
    network: "lab",
    list: ca.revocations(5, [{ nodeId: bad.keyId, at: 1 }]),
  });
  await publisher.expect("published");
  await publisher.close();
  assert.equal((await c.expect("revocations")).t, "revocations");
  assert.equal((await c.closedWithin()).code, SignalCloseCode.revoked);
  // A newcomer on b gets the list after its welcome.
  const good = makeNode("good", "10.88.9.67");
  const g = await TestClient.connect(b.url);
  g.sendJson(joinMessage(good, ca.certify(good), clock.now));
  await g.expect("welcome");
  assert.equal((await g.expect("revocations")).t, "revocations");
  await g.close();
});

test("an instance started later finds every lease and the revocation list in Redis", async () => {
  const held = b.leaseCount();
  assert.ok(held >= 2);
  const late = await startInstance();
  assert.equal(late.leaseCount(), held, "the leases of the other instances, read at start");
  const fresh = await enrollAt(late, "lease-3");
  const earlier = [await enrollAt(late, "lease-1"), await enrollAt(late, "lease-2")];
  assert.ok(!earlier.includes(fresh), `${fresh} was already leased`);
  // The list published on a (serial 5) is held: an older one is refused here.
  const c = await TestClient.connect(late.url);
  c.sendJson({ v: 1, t: "publish-revocations", network: "lab", list: ca.revocations(4, []) });
  assert.equal((await c.expect("error")).reason, "IPOP_CRL_STALE");
  await c.close();
});
