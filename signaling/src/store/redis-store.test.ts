import assert from "node:assert/strict";
import { afterAll, beforeAll, test } from "vitest";
import { silentLogger } from "../logger.js";
import { startTestRedis, type TestRedis } from "../testing/redis-server.js";
import { connectRedis, RedisStateStore, type RemoteStateChange } from "./redis-store.js";
import { stateStoreCompliance } from "./store-compliance.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis.stop());

let instances = 0;
const open = async () =>
  new RedisStateStore(await connectRedis(redis.url, silentLogger()), `i${++instances}`, silentLogger());

stateStoreCompliance("redis", {
  async fresh() {
    // One Redis for the file: empty it, as a fresh place.
    const admin = await connectRedis(redis.url, silentLogger());
    await admin.flushall();
    await admin.quit();
    const opened = [await open()];
    return {
      store: opened[0]!,
      reopen: async () => {
        const store = await open();
        opened.push(store);
        return store;
      },
      async cleanup() {
        for (const store of opened) await store.close();
      },
    };
  },
});

test("redis: another instance hears of every change, in order; an instance does not hear its own", async () => {
  const a = await open();
  const b = await open();
  const heardByB: RemoteStateChange[] = [];
  const heardByA: RemoteStateChange[] = [];
  await b.watch((change) => heardByB.push(change));
  await a.watch((change) => heardByA.push(change));
  const lease = { address: 7, holder: "h", name: "n", certExpiresAt: 10, heldUntil: Number.POSITIVE_INFINITY };
  a.putLease("lab", lease);
  a.deleteLease("lab", 7);
  a.putRevocationList("lab", "list");
  await a.flush();
  const deadline = Date.now() + 5000;
  while (heardByB.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(heardByB, [
    { kind: "lease", network: "lab", lease },
    { kind: "drop", network: "lab", address: 7 },
    { kind: "revocations", network: "lab", text: "list" },
  ]);
  assert.deepEqual(heardByA, []);
  await a.close();
  await b.close();
});

test("redis: an unreachable Redis is a StoreError at start", async () => {
  await assert.rejects(connectRedis("/nonexistent/redis.sock", silentLogger()), /cannot connect/);
});
