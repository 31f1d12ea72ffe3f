import assert from "node:assert/strict";
import { MAX_SIGNAL_MESSAGE_BYTES } from "@ipop/shared";
import { afterAll, beforeAll, test } from "vitest";
import { DEFAULT_LIMITS } from "./limits.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { httpGet, member, TestClient, waitFor } from "./testing/test-client.js";

let server: SignalServer;
beforeAll(async () => {
  server = await startSignalServer({ host: "127.0.0.1", port: 0, consoleDir: false });
});
afterAll(() => server.close());

test("the handle reports the real port and a ws:// url", () => {
  assert.notEqual(server.port, 0);
  assert.equal(server.url, `ws://127.0.0.1:${server.port}`);
});

test("join, welcome, member-joined and member-left with three clients", async () => {
  const a = await TestClient.connect(server.url);
  const welcomeA = await a.join("net-1", member("node-a", "10.88.0.1"));
  assert.deepEqual(welcomeA, {
    v: 1,
    t: "welcome",
    network: "net-1",
    members: [],
    limits: {
      maxMessageBytes: MAX_SIGNAL_MESSAGE_BYTES,
      messagesPerSecond: DEFAULT_LIMITS.messagesPerSecond,
      maxMembers: DEFAULT_LIMITS.maxMembers,
    },
  });

  const b = await TestClient.connect(server.url);
  const welcomeB = await b.join("net-1", member("node-b", "10.88.0.2"));
  assert.deepEqual(welcomeB.members, [member("node-a", "10.88.0.1")]);
  assert.deepEqual(await a.next(), { v: 1, t: "member-joined", member: member("node-b", "10.88.0.2") });

  const c = await TestClient.connect(server.url);
  const welcomeC = await c.join("net-1", member("node-c", "10.88.0.3"));
  // Listed in ring order around the joiner, not in order of arrival.
  assert.deepEqual(welcomeC.members.map((m) => m.nodeId).sort(), ["node-a", "node-b"]);
  for (const other of [a, b]) {
    assert.deepEqual(await other.next(), { v: 1, t: "member-joined", member: member("node-c", "10.88.0.3") });
  }
  assert.deepEqual(server.stats(), { connections: 3, networks: 1, members: 3 });

  // A disconnect is a departure.
  await c.close();
  for (const other of [a, b]) assert.deepEqual(await other.next(), { v: 1, t: "member-left", nodeId: "node-c" });

  // So is an explicit leave; the connection stays usable and can join again.
  b.sendJson({ v: 1, t: "leave" });
  assert.deepEqual(await a.next(), { v: 1, t: "member-left", nodeId: "node-b" });
  const again = await b.join("net-1", member("node-b", "10.88.0.2"));
  assert.deepEqual(again.members, [member("node-a", "10.88.0.1")]);
  assert.equal((await a.expect("member-joined")).member.nodeId, "node-b");

  // Joins elsewhere are not announced here, and nothing is sent to the joining node itself.
  const d = await TestClient.joined(server.url, "net-2", member("node-d"));
  await a.sync();
  await d.sync();
  assert.deepEqual(a.pending, []);
  assert.deepEqual(d.pending, []);

  for (const client of [a, b, d]) await client.close();
  assert.deepEqual(a.invalidFrames, []);
});

test("empty networks are deleted and per-connection state is freed on close", async () => {
  const clients = await Promise.all(
    ["x1", "x2", "x3"].map((id, i) => TestClient.joined(server.url, `net-${id}`, member(id, `10.88.1.${i + 1}`))),
  );
  assert.equal(server.stats().networks >= 3, true);
  await Promise.all(clients.map((c) => c.close()));
  await waitFor(() => server.stats().connections === 0);
  assert.deepEqual(server.stats(), { connections: 0, networks: 0, members: 0 });
});

test("send is forwarded as message with the body untouched", async () => {
  const a = await TestClient.joined(server.url, "fwd", member("alice", "10.88.0.1"));
  const b = await TestClient.joined(server.url, "fwd", member("bob", "10.88.0.2"));
  await a.expect("member-joined");
  const body = {
    sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n",
    nested: [1, -2.5, 1e-7, null, true, false, { deeper: ["ü", "😀", "\u2028", '"quoted"', "\\"] }],
    empty: {},
    emptyList: [],
    big: Number.MAX_SAFE_INTEGER,
    sig: "A".repeat(100),
  };
  a.send("bob", body, 42);
  assert.deepEqual(await b.next(), { v: 1, t: "message", from: "alice", body });
  // Scalars are bodies too.
  for (const scalar of [0, "text", null, false]) {
    b.send("alice", scalar);
    assert.deepEqual(await a.next(), { v: 1, t: "message", from: "bob", body: scalar });
  }
  // The sender gets no acknowledgement.
  await a.sync();
  assert.deepEqual(a.pending, []);
  await a.close();
  await b.close();
});

test("send to an unknown node or to a member of another network answers unknown-peer with the ref", async () => {
  const a = await TestClient.joined(server.url, "red", member("red-1"));
  const other = await TestClient.joined(server.url, "blue", member("blue-1"));

  a.send("ghost", { x: 1 }, 7);
  const unknown = await a.expect("error");
  assert.equal(unknown.code, "unknown-peer");
  assert.equal(unknown.ref, 7);

  a.send("blue-1", { secret: true }, 8);
  const crossNetwork = await a.expect("error");
  assert.equal(crossNetwork.code, "unknown-peer");
  assert.equal(crossNetwork.ref, 8);

  a.send("ghost", "no ref");
  const noRef = await a.expect("error");
  assert.equal(noRef.code, "unknown-peer");
  assert.equal(noRef.ref, undefined);

  await other.sync();
  assert.deepEqual(other.pending, [], "nothing may cross networks");
  await a.close();
  await other.close();
});

test("send and leave before join answer not-joined; a second join answers already-joined", async () => {
  const c = await TestClient.connect(server.url);
  c.send("anyone", { x: 1 }, 3);
  assert.deepEqual(await c.next(), {
    v: 1,
    t: "error",
    code: "not-joined",
    message: "join a network before sending",
    ref: 3,
  });
  c.sendJson({ v: 1, t: "leave" });
  assert.equal((await c.expect("error")).code, "not-joined");

  await c.join("solo", member("solo-1"));
  c.sendJson({ v: 1, t: "join", network: "other", member: member("solo-2") });
  assert.equal((await c.expect("error")).code, "already-joined");
  // Still a member of the first network.
  assert.deepEqual(server.stats().members >= 1, true);
  await c.sync();
  await c.close();
});

test("GET /healthz reports counts; other paths are 404 (this server serves no console)", async () => {
  const a = await TestClient.joined(server.url, "health", member("h-1"));
  const health = await httpGet(server.url, "/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: "ok", ...server.stats() });
  const stats = health.body as { connections: number; members: number; networks: number };
  assert.ok(stats.connections >= 1 && stats.members >= 1 && stats.networks >= 1);

  assert.equal((await httpGet(server.url, "/healthz?verbose=1")).status, 200);
  assert.equal((await httpGet(server.url, "/")).status, 404);
  assert.equal((await httpGet(server.url, "/index.html")).status, 404);
  assert.equal((await httpGet(server.url, "/healthz", "POST")).status, 405);
  await a.close();
});
