import assert from "node:assert/strict";
import { SignalCloseCode } from "@ipop/shared";
import fc from "fast-check";
import { test } from "vitest";
import { startSignalServer } from "./server.js";
import { httpGet, member, TestClient, waitFor } from "./testing/test-client.js";

/** Close codes a client may see from this server, whatever it sends. */
const EXPECTED_CLOSE_CODES = new Set<number>([...Object.values(SignalCloseCode), 1000, 1005, 1006, 1007, 1009]);

/** Frames that look more or less like protocol messages, so the fuzzer gets past JSON.parse often. */
const nearlyValid = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.jsonValue()),
    t: fc.oneof(fc.constantFrom("join", "send", "leave", "welcome", "__proto__", "constructor"), fc.string()),
    network: fc.oneof(fc.constantFrom("fuzz", "fuzz-2"), fc.string(), fc.jsonValue()),
    member: fc.oneof(
      fc.record({
        nodeId: fc.oneof(fc.constantFrom("f1", "f2", "victim"), fc.string()),
        name: fc.oneof(fc.constant("n"), fc.string()),
        ip: fc.oneof(fc.constant("10.88.0.1"), fc.string()),
      }),
      fc.jsonValue(),
    ),
    to: fc.oneof(fc.constantFrom("f1", "f2", "victim"), fc.string(), fc.jsonValue()),
    ref: fc.oneof(fc.nat(), fc.double(), fc.jsonValue()),
    body: fc.jsonValue({ maxDepth: 6 }),
  },
  { requiredKeys: [] },
);

const frame = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }).map((text) => ({ text, binary: false })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ text: JSON.stringify(value) ?? "null", binary: false })),
  nearlyValid.map((value) => ({ text: JSON.stringify(value), binary: false })),
  nearlyValid.map((value) => ({ text: JSON.stringify(value), binary: true })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ text: Buffer.from(bytes).toString("latin1"), binary: true })),
);

test("random frames never break the server; every reply it sends is a valid protocol message", async () => {
  const server = await startSignalServer({ port: 0, limits: { joinTimeoutMs: 2000 } });
  try {
    // A bystander in the target network: whatever the fuzzer does, it must only see well-formed messages.
    const victim = await TestClient.joined(server.url, "fuzz", member("victim"));
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 15 }), async (frames) => {
        const client = await TestClient.connect(server.url);
        for (const { text, binary } of frames) {
          if (binary) client.sendRaw(Buffer.from(text, "latin1"), true);
          else client.sendRaw(text);
        }
        // A join from a well-behaved client still gets through in between.
        const check = await TestClient.joined(server.url, "fuzz-check", member("checker"));
        await check.close();
        await client.close();
        assert.deepEqual(client.invalidFrames, [], "the server sent a frame that does not parse");
        const { code } = await client.closed;
        assert.ok(EXPECTED_CLOSE_CODES.has(code), `unexpected close code ${code}`);
      }),
      { numRuns: 150 },
    );

    await waitFor(() => server.stats().connections <= 1, "fuzz connections closed");
    const health = await httpGet(server.url, "/healthz");
    assert.equal(health.status, 200);
    // The victim may have been replaced by a fuzzed join with its id; either way it saw only valid frames.
    assert.deepEqual(victim.invalidFrames, []);

    const a = await TestClient.joined(server.url, "after", member("after-a"));
    const b = await TestClient.joined(server.url, "after", member("after-b"));
    await a.expect("member-joined");
    a.send("after-b", { ok: true });
    assert.deepEqual((await b.expect("message")).body, { ok: true });
    await Promise.all([a.close(), b.close(), victim.close()]);
    await waitFor(() => server.stats().connections === 0, "all closed");
    assert.deepEqual(server.stats(), { connections: 0, networks: 0, members: 0 });
  } finally {
    await server.close();
  }
});
