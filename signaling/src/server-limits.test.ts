import assert from "node:assert/strict";
import { SignalCloseCode } from "@ipop/shared";
import { test } from "vitest";
import type { SignalServerLimits } from "./limits.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { member, TestClient, waitFor } from "./testing/test-client.js";

/** Runs `body` against a fresh server with `limits`, and always closes it. */
async function withServer(
  limits: Partial<SignalServerLimits>,
  body: (server: SignalServer) => Promise<void>,
): Promise<void> {
  const server = await startSignalServer({ host: "127.0.0.1", port: 0, limits });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test("malformed JSON and a wrong version are answered with errors, and the connection stays usable", () =>
  withServer({}, async (server) => {
    const c = await TestClient.connect(server.url);
    c.sendRaw("{not json");
    assert.equal((await c.expect("error")).code, "bad-json");
    c.sendJson({ v: 2, t: "join", network: "n", member: member("a") });
    assert.equal((await c.expect("error")).code, "bad-version");
    c.sendJson([1, 2, 3]);
    assert.equal((await c.expect("error")).code, "bad-message");
    c.sendJson({ v: 1, t: "join", network: "bad name!", member: member("a") });
    assert.equal((await c.expect("error")).code, "bad-message");
    c.sendJson({ v: 1, t: "dance" });
    assert.equal((await c.expect("error")).code, "bad-message");
    await c.join("n", member("a"));
    await c.close();
  }));

test("a binary frame is answered with bad-message", () =>
  withServer({}, async (server) => {
    const c = await TestClient.joined(server.url, "n", member("a"));
    c.sendRaw(new TextEncoder().encode(JSON.stringify({ v: 1, t: "leave" })), true);
    const error = await c.expect("error");
    assert.equal(error.code, "bad-message");
    assert.match(error.message, /binary/);
    await c.sync(); // still joined: the binary frame was not acted on
    await c.close();
  }));

test("a frame over maxMessageBytes closes the connection with 1009; one just under it passes", () =>
  withServer({ maxMessageBytes: 1024 }, async (server) => {
    const a = await TestClient.joined(server.url, "n", member("a"));
    const b = await TestClient.joined(server.url, "n", member("b"));
    await a.expect("member-joined");
    // The forwarded `message` is what must fit: it is a few bytes longer than the `send` it comes from.
    const forwarded = JSON.stringify({ v: 1, t: "message", from: "a", body: "" });
    const fits = "x".repeat(1024 - forwarded.length);
    a.send("b", fits);
    assert.equal((await b.expect("message")).body, fits);
    a.send("b", `${fits}y`); // the send itself fits: it is 5 bytes shorter than its forward
    assert.equal((await a.expect("error")).code, "too-large");
    await b.sync();
    assert.deepEqual(b.pending, [], "a forward one byte too long is refused, not sent");
    a.sendRaw(JSON.stringify({ v: 1, t: "send", to: "b", body: "x".repeat(1024) }));
    assert.equal((await a.closedWithin()).code, 1009);
    assert.deepEqual(await b.next(), { v: 1, t: "member-left", nodeId: "a" });
    await b.close();
  }));

test("a forward that re-encoding would push over the limit is refused with too-large, not sent", () =>
  withServer({ maxMessageBytes: 1024 }, async (server) => {
    const a = await TestClient.joined(server.url, "n", member("a"));
    const b = await TestClient.joined(server.url, "n", member("b"));
    await a.expect("member-joined");
    // "1e20" is 4 bytes on the wire but JSON.stringify writes it as 21 digits.
    const text = `{"v":1,"t":"send","to":"b","ref":5,"body":[${Array(150).fill("1e20").join(",")}]}`;
    assert.ok(text.length < 1024);
    a.sendRaw(text);
    const error = await a.expect("error");
    assert.equal(error.code, "too-large");
    assert.equal(error.ref, 5);
    await b.sync();
    assert.deepEqual(b.pending, []);
    await a.close();
    await b.close();
  }));

test("a body nested too deeply to re-encode is refused without harming the server", () =>
  withServer({}, async (server) => {
    const a = await TestClient.joined(server.url, "n", member("a"));
    const b = await TestClient.joined(server.url, "n", member("b"));
    await a.expect("member-joined");
    const depth = 30_000;
    a.sendRaw(`{"v":1,"t":"send","to":"b","ref":9,"body":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    const error = await a.expect("error");
    assert.equal(error.code, "bad-message");
    assert.equal(error.ref, 9);
    a.send("b", "still works");
    assert.equal((await b.expect("message")).body, "still works");
    await a.close();
    await b.close();
  }));

test("too many consecutive invalid messages close the connection with 4000", () =>
  withServer({ maxInvalidMessages: 3 }, async (server) => {
    const c = await TestClient.connect(server.url);
    c.sendRaw("x");
    c.sendRaw("x");
    // A valid message in between resets the streak.
    c.sendJson({ v: 1, t: "join", network: "n", member: member("a") });
    assert.equal((await c.expect("error")).code, "bad-json");
    assert.equal((await c.expect("error")).code, "bad-json");
    await c.expect("welcome");
    c.sendRaw("x");
    c.sendRaw("x");
    c.sendRaw("x");
    for (let i = 0; i < 3; i++) assert.equal((await c.expect("error")).code, "bad-json");
    assert.deepEqual(await c.closedWithin(), {
      code: SignalCloseCode.protocolError,
      reason: "too many invalid messages",
    });
  }));

test("protocol misuse before join counts as invalid too", () =>
  withServer({ maxInvalidMessages: 3 }, async (server) => {
    const c = await TestClient.connect(server.url);
    for (let i = 0; i < 5; i++) c.send("x", 1, i);
    assert.equal((await c.closedWithin()).code, SignalCloseCode.protocolError);
  }));

test("exceeding the rate gives rate-limited errors, persisting gets the connection closed with 4001", () =>
  withServer({ messagesPerSecond: 0.1, burstMessages: 3, rateLimitStrikes: 4 }, async (server) => {
    const c = await TestClient.joined(server.url, "n", member("a")); // the join took one token
    for (let ref = 1; ref <= 20; ref++) c.send("ghost", null, ref);
    const first = await c.expect("error");
    const second = await c.expect("error");
    assert.deepEqual([first.code, first.ref, second.code, second.ref], ["unknown-peer", 1, "unknown-peer", 2]);
    const limited = await c.expect("error");
    assert.equal(limited.code, "rate-limited");
    assert.equal(limited.ref, 3, "a dropped send is identified by its ref");
    const closed = await c.closedWithin();
    assert.equal(closed.code, SignalCloseCode.rateLimited);
    assert.ok(c.pending.every((m) => m.t === "error" && m.code === "rate-limited"));
  }));

test("a join beyond maxMembers gets network-full and close 4002; members see nothing", () =>
  withServer({ maxMembers: 2 }, async (server) => {
    const a = await TestClient.joined(server.url, "n", member("a"));
    const b = await TestClient.joined(server.url, "n", member("b"));
    await a.expect("member-joined");
    const c = await TestClient.connect(server.url);
    c.sendJson({ v: 1, t: "join", network: "n", member: member("c") });
    assert.equal((await c.expect("error")).code, "network-full");
    assert.equal((await c.closedWithin()).code, SignalCloseCode.networkFull);
    // Other networks are unaffected.
    const d = await TestClient.joined(server.url, "elsewhere", member("c"));
    await a.sync();
    await b.sync();
    assert.deepEqual([...a.pending, ...b.pending], []);
    // A node rejoining under its own id is a replacement, not a new member, so a full network lets it in.
    const b2 = await TestClient.joined(server.url, "n", member("b"));
    assert.equal((await b.closedWithin()).code, SignalCloseCode.replaced);
    await Promise.all([a.close(), b2.close(), d.close()]);
  }));

test("a join whose welcome would exceed maxMessageBytes is refused as network-full", () =>
  withServer({ maxMessageBytes: 1024 }, async (server) => {
    const longName = (i: number) => `${"n".repeat(60)}${i}`;
    const clients: TestClient[] = [];
    let refused: TestClient | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const c = await TestClient.connect(server.url);
      c.sendJson({
        v: 1,
        t: "join",
        network: "big",
        member: member(`${"x".repeat(60)}${i}`, `10.88.0.${i + 1}`, longName(i)),
      });
      const reply = await c.next();
      if (reply.t === "welcome") clients.push(c);
      else {
        assert.equal(reply.t === "error" && reply.code, "network-full");
        refused = c;
      }
    }
    assert.ok(refused !== undefined, "some join must have been refused");
    assert.ok(clients.length >= 3, "the first few members fit");
    assert.equal((await refused.closedWithin()).code, SignalCloseCode.networkFull);
    assert.equal(server.stats().members, clients.length);
    for (const c of clients) assert.deepEqual(c.invalidFrames, []);
    await Promise.all(clients.map((c) => c.close()));
  }));

test("a connection that does not join in time is closed with 4004; joined ones are not", () =>
  withServer({ joinTimeoutMs: 150 }, async (server) => {
    const joined = await TestClient.joined(server.url, "n", member("a"));
    const idle = await TestClient.connect(server.url);
    assert.deepEqual(await idle.closedWithin(), { code: SignalCloseCode.joinTimeout, reason: "join timeout" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await joined.sync();
    // After a leave the timer runs again.
    joined.sendJson({ v: 1, t: "leave" });
    assert.equal((await joined.closedWithin()).code, SignalCloseCode.joinTimeout);
  }));

test("a duplicate node id replaces the old connection (4003); others see member-left then member-joined", () =>
  withServer({}, async (server) => {
    const old = await TestClient.joined(server.url, "n", member("dup", "10.88.0.1", "first"));
    const b = await TestClient.joined(server.url, "n", member("b", "10.88.0.2"));
    await old.expect("member-joined");

    const fresh = await TestClient.connect(server.url);
    const welcome = await fresh.join("n", member("dup", "10.88.0.9", "second"));
    assert.deepEqual(welcome.members, [member("b", "10.88.0.2")]);
    assert.deepEqual(await old.closedWithin(), {
      code: SignalCloseCode.replaced,
      reason: "replaced by a newer connection",
    });
    assert.deepEqual(await b.next(), { v: 1, t: "member-left", nodeId: "dup" });
    assert.deepEqual(await b.next(), { v: 1, t: "member-joined", member: member("dup", "10.88.0.9", "second") });

    // The old connection's close must not remove the new holder of the id.
    await waitFor(() => server.stats().connections === 2, "old connection gone");
    assert.deepEqual(server.stats(), { connections: 2, networks: 1, members: 2 });
    b.send("dup", "to the new one");
    assert.deepEqual(await fresh.next(), { v: 1, t: "message", from: "b", body: "to the new one" });
    await b.sync();
    assert.deepEqual(b.pending, []);
    await Promise.all([fresh.close(), b.close()]);
  }));

test("connections beyond maxConnections are refused with HTTP 503", () =>
  withServer({ maxConnections: 2 }, async (server) => {
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    await assert.rejects(TestClient.connect(server.url), /503/);
    await a.close();
    await waitFor(() => server.stats().connections === 1, "slot freed");
    const c = await TestClient.connect(server.url);
    await Promise.all([b.close(), c.close()]);
  }));

test("a connection that stops answering pings is terminated and its departure announced", () =>
  withServer({ pingIntervalMs: 50 }, async (server) => {
    const alive = await TestClient.joined(server.url, "n", member("alive"));
    const dead = await TestClient.connect(server.url, { autoPong: false });
    await dead.join("n", member("dead"));
    await alive.expect("member-joined");
    assert.deepEqual(await alive.next(), { v: 1, t: "member-left", nodeId: "dead" });
    assert.equal((await dead.closedWithin()).code, 1006);
    await alive.sync();
    await alive.close();
  }));

test("a member that stops reading is terminated once its backlog passes maxBufferedBytes", () =>
  withServer({ maxBufferedBytes: 64 * 1024, messagesPerSecond: 100_000, burstMessages: 100_000 }, async (server) => {
    const sender = await TestClient.joined(server.url, "n", member("sender"));
    const stalled = await TestClient.joined(server.url, "n", member("stalled"));
    await sender.expect("member-joined");
    stalled.ws.pause();
    const chunk = "z".repeat(60_000);
    // Kernel socket buffers absorb a few MB first; keep sending until the server gives up on the reader.
    for (let i = 0; i < 2000 && server.stats().members === 2; i++) {
      sender.send("stalled", chunk);
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => server.stats().members === 1, "stalled member removed", 10_000);
    let seen = await sender.next();
    while (seen.t === "error" && seen.code === "unknown-peer") seen = await sender.next();
    assert.deepEqual(seen, { v: 1, t: "member-left", nodeId: "stalled" });
    stalled.ws.terminate();
    await sender.close();
  }));

test("close() sends 1001 to every client and frees the port", async () => {
  const server = await startSignalServer({ port: 0 });
  const a = await TestClient.joined(server.url, "n", member("a"));
  const b = await TestClient.connect(server.url);
  await server.close();
  assert.equal((await a.closedWithin()).code, SignalCloseCode.serverShutdown);
  assert.equal((await b.closedWithin()).code, SignalCloseCode.serverShutdown);
  await assert.rejects(TestClient.connect(server.url));
  await server.close(); // idempotent
});
