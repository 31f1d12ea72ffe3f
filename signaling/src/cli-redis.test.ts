/**
 * `ipop-signal --redis` as real processes: killing one instance (SIGKILL, no goodbye) loses no member for
 * good: its members reconnect to another instance, and the others hear that the dead instance's members
 * left once its key expires (about 15-20 s).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, test } from "vitest";
import { startTestRedis, type TestRedis } from "./testing/redis-server.js";
import { member, TestClient } from "./testing/test-client.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
let redis: TestRedis;
const children: ChildProcess[] = [];
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await redis.stop();
});

/** Starts an instance on a free port and resolves with its URL once it listens. */
async function startInstance(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "--listen", "127.0.0.1:0", "--redis", redis.url, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`ipop-signal exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening on (ws:\/\/\S+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
  });
  return { child, url };
}

test("killing an instance: its member rejoins another, the relay works again, the others hear of it", async () => {
  const first = await startInstance();
  const second = await startInstance();
  const one = member("one", "10.88.7.1");
  const two = member("two", "10.88.7.2");
  const three = member("three", "10.88.7.3");
  const c1 = await TestClient.joined(first.url, "net", one);
  const c2 = await TestClient.connect(second.url);
  assert.deepEqual((await c2.join("net", two)).members, [one], "the second instance lists the first's member");
  assert.deepEqual(await c1.expect("member-joined"), { v: 1, t: "member-joined", member: two });
  const c3 = await TestClient.joined(first.url, "net", three);
  await c2.expect("member-joined");

  first.child.kill("SIGKILL");
  await once(first.child, "exit");
  await c1.closed;
  await c3.closed;

  // `one` fails over to the second instance (an agent does this by itself with --signal URL1,URL2).
  const back = await TestClient.connect(second.url);
  const welcome = await back.join("net", one);
  assert.ok(welcome.members.some((m) => m.nodeId === "two"));
  back.send("two", { offer: 1 });
  const relayed = await c2.next();
  // `two` hears that `one` came back (a replacement: left, then joined) before the relayed envelope.
  assert.deepEqual(relayed, { v: 1, t: "member-left", nodeId: "one" });
  assert.deepEqual(await c2.next(), { v: 1, t: "member-joined", member: one });
  assert.deepEqual(await c2.next(), { v: 1, t: "message", from: "one", body: { offer: 1 } });

  // `three` did not come back: once the dead instance's key expires, `two` hears that it left.
  assert.deepEqual(await c2.next(30_000), { v: 1, t: "member-left", nodeId: "three" });
  await back.close();
  await c2.close();
}, 60_000);
