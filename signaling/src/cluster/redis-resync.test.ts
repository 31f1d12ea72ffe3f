/** `--redis` instances that lose Redis for a while (it restarts empty) find each other's members again. */
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, test } from "vitest";
import { silentLogger } from "../logger.js";
import { type SignalServer, startSignalServer } from "../server.js";
import { connectRedis } from "../store/redis-store.js";
import { startTestRedis, type TestRedis } from "../testing/redis-server.js";
import { member, TestClient } from "../testing/test-client.js";
import { newInstanceId } from "./redis-cluster.js";

let redis: TestRedis;
const servers: SignalServer[] = [];
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const client of clients) client.disconnect();
  await redis.stop();
});

async function startInstance(): Promise<SignalServer> {
  const client = await connectRedis(redis.url, silentLogger());
  clients.push(client);
  const server = await startSignalServer({ cluster: { redis: client, instance: newInstanceId() } });
  servers.push(server);
  return server;
}

test("after Redis restarts empty, each instance announces its members again; a later instance finds them", async () => {
  const a = await startInstance();
  const b = await startInstance();
  const one = await TestClient.joined(a.url, "net", member("one", "10.88.5.1"));
  const two = await TestClient.joined(b.url, "net", member("two", "10.88.5.2"));
  await one.expect("member-joined");
  await redis.restart();
  // Without the resync, the restarted Redis would not know of either member, and an instance started
  // now would not list them.
  const deadline = Date.now() + 30_000;
  let admin: Redis | undefined;
  while (admin === undefined) {
    // The new server's socket may exist a moment before it accepts.
    admin = await connectRedis(redis.url, silentLogger()).catch(() => undefined);
    assert.ok(admin !== undefined || Date.now() < deadline, "cannot reach the restarted Redis");
  }
  clients.push(admin);
  while ((await admin.hlen("ipop-signal:members:net")) < 2) {
    assert.ok(Date.now() < deadline, "the members were not announced again within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const c = await startInstance();
  assert.equal(c.stats().members, 2);
  const probe = await TestClient.connect(c.url);
  const welcome = await probe.join("net", member("three", "10.88.5.3"));
  assert.deepEqual(welcome.members.map((m) => m.nodeId).sort(), ["one", "two"]);
  probe.send("one", { hello: 1 });
  assert.deepEqual(await one.expect("member-joined"), {
    v: 1,
    t: "member-joined",
    member: member("three", "10.88.5.3"),
  });
  assert.deepEqual(await one.expect("message"), { v: 1, t: "message", from: "three", body: { hello: 1 } });
  for (const client of [one, two, probe]) await client.close();
}, 60_000);
