import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseServerMessage } from "@ipop/shared";
import { afterAll, beforeAll, describe, test } from "vitest";
import { TurnError } from "./errors.js";
import { parseCliArgs } from "./options.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { member, TestClient } from "./testing/test-client.js";
import { loadTurnIssuer, TurnCredentialIssuer } from "./turn-grants.js";

describe("TURN REST credentials", () => {
  test("username EXPIRY:NAME, password base64(HMAC-SHA1(secret, username)), as coturn checks them", () => {
    // Vector from: echo -n "1700000000:h1" | openssl dgst -sha1 -hmac s3cret -binary | base64
    const issuer = new TurnCredentialIssuer("s3cret", ["turn:198.51.100.1:3478?transport=udp"], 3600);
    const grant = issuer.grant("h1", (1_700_000_000 - 3600) * 1000);
    assert.deepEqual(grant.servers, [
      { urls: "stun:198.51.100.1:3478" },
      {
        urls: "turn:198.51.100.1:3478?transport=udp",
        username: "1700000000:h1",
        credential: "g90uZrbkWhuoIOVkG5P2sBnwjHI=",
      },
    ]);
    assert.equal(grant.expires, 1_700_000_000);
    assert.equal(grant.renewInMs, 1_800_000);
  });

  test("the secret file must be private and hold one word; errors never show it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipop-turn-secret-"));
    try {
      const file = join(dir, "secret");
      writeFileSync(file, "very-secret-word\n", { mode: 0o600 });
      const issuer = await loadTurnIssuer({ secretFile: file, urls: ["turn:t:3478"], ttlSeconds: 600 });
      assert.equal(issuer.grant("n", 0).servers.length, 2);
      chmodSync(file, 0o644);
      await assert.rejects(loadTurnIssuer({ secretFile: file, urls: [], ttlSeconds: 600 }), TurnError);
      writeFileSync(file, "two words\n", { mode: 0o600 });
      chmodSync(file, 0o600);
      await assert.rejects(
        loadTurnIssuer({ secretFile: file, urls: [], ttlSeconds: 600 }),
        (e: unknown) => e instanceof TurnError && !e.message.includes("two words"),
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("the flags come as a pair, and a URL with credentials in it is refused", () => {
    const run = parseCliArgs(["--turn-url", "turn:t.example:3478", "--turn-secret-file", "/s", "--turn-ttl", "2h"]);
    assert.equal(run.kind, "run");
    if (run.kind === "run")
      assert.deepEqual(run.turn, { secretFile: "/s", urls: ["turn:t.example:3478"], ttlSeconds: 7200 });
    assert.throws(() => parseCliArgs(["--turn-url", "turn:t:3478"]), /--turn-secret-file/);
    assert.throws(() => parseCliArgs(["--turn-secret-file", "/s"]), /--turn-url/);
    assert.throws(
      () => parseCliArgs(["--turn-url", "turn:u:hunter22@t:3478", "--turn-secret-file", "/s"]),
      (e: unknown) => e instanceof Error && !e.message.includes("hunter22"),
    );
  });
});

describe("a server with --turn-url", () => {
  let server: SignalServer;
  beforeAll(async () => {
    server = await startSignalServer({
      host: "127.0.0.1",
      port: 0,
      turn: new TurnCredentialIssuer("s3cret", ["turn:198.51.100.1:3478"], 60),
    });
  });
  afterAll(() => server.close());

  test("hands a member TURN credentials right after its welcome, under its own name", async () => {
    const client = await TestClient.connect(server.url);
    await client.join("net-t", member("node-t", "10.88.0.9"));
    const m = await client.expect("ice-servers");
    const turn = m.servers.find((s) => s.urls.startsWith("turn:"));
    assert.ok(turn?.username?.endsWith(`:${member("node-t", "10.88.0.9").name}`));
    assert.ok(m.expires > Date.now() / 1000);
    await client.close();
  });
});

describe("the ice-servers message", () => {
  test("parses, and refuses user info in URLs, too many servers and bad expiries", () => {
    const ok = parseServerMessage(
      JSON.stringify({
        v: 1,
        t: "ice-servers",
        servers: [{ urls: "turn:h:3478", username: "1:a", credential: "x" }],
        expires: 1,
      }),
    );
    assert.equal(ok.ok, true);
    for (const bad of [
      { servers: [{ urls: "turn:u:p@h:3478" }], expires: 1 },
      { servers: Array.from({ length: 9 }, () => ({ urls: "stun:h" })), expires: 1 },
      { servers: [], expires: -1 },
      { servers: "stun:h", expires: 1 },
    ]) {
      assert.equal(parseServerMessage(JSON.stringify({ v: 1, t: "ice-servers", ...bad })).ok, false);
    }
  });
});
