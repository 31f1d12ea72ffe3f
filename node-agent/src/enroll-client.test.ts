import assert from "node:assert/strict";
import {
  createRevocationList,
  createToken,
  formatCertificate,
  generateKeyPair,
  nodeIdOf,
  parseCertificate,
  selfSignCa,
} from "@ipop/shared";
import { startSignalServer } from "@ipop/signaling";
import { test } from "vitest";
import { WebSocketServer } from "ws";
import { enroll, publishRevocations, renew } from "./enroll-client.js";
import { CaServiceError } from "./errors.js";

const NOW_MS = Date.now();
const NOW = Math.floor(NOW_MS / 1000);

function makeCa(fill: number) {
  const keys = generateKeyPair(new Uint8Array(32).fill(fill));
  const text = selfSignCa({ network: "lab", notBefore: NOW - 3600, notAfter: NOW + 86_400 }, keys.seed);
  const parsed = parseCertificate(text);
  assert.ok(parsed.ok);
  return { ca: parsed.value, text, seed: keys.seed };
}

const { ca, seed: caSeed } = makeCa(1);
const token = (pool = "10.88.200.0/24") =>
  createToken({ id: "ab".repeat(16), pool, prefixLength: 16, notAfter: NOW + 3600 }, ca, caSeed);

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp, serverCode?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CaServiceError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    if (serverCode !== undefined) assert.equal(error.serverCode, serverCode);
    return true;
  });
}

test("enroll, renew and publish against a real server", async () => {
  const server = await startSignalServer({ authority: { ca, caKey: caSeed } });
  try {
    const node = generateKeyPair(new Uint8Array(32).fill(7));
    const issued = await enroll({ url: server.url, token: token(), seed: node.seed, name: "vm1" });
    assert.equal(issued.cert.ip, "10.88.200.1/16");
    assert.equal(issued.cert.nodeId, nodeIdOf(node.publicKey));
    assert.equal(issued.ca.nodeId, ca.nodeId);
    assert.equal(issued.caText, formatCertificate(ca));

    const renewed = await renew({
      url: server.url,
      certText: issued.certText,
      seed: node.seed,
      ca,
      nowMs: NOW_MS + 1000,
    });
    assert.equal(renewed.cert.ip, issued.cert.ip);

    const list = createRevocationList({ serial: 1, issuedAt: NOW, entries: [{ name: "vm9", at: NOW }] }, ca, caSeed);
    const published = await publishRevocations({ url: server.url, network: "lab", list });
    assert.deepEqual(published, { v: 1, t: "published", network: "lab", serial: 1, notified: 0, disconnected: 0 });

    // Refusals carry the server's code and reason.
    await rejectsWith(
      enroll({
        url: server.url,
        token: token("10.88.201.0/30"),
        seed: generateKeyPair(new Uint8Array(32).fill(8)).seed,
        name: "vm9",
      }),
      "IPOP_CA_REFUSED",
      /revoked/,
      "revoked",
    );
    await rejectsWith(publishRevocations({ url: server.url, network: "lab", list }), "IPOP_CA_REFUSED", /serial/);
    await rejectsWith(
      enroll({ url: server.url, token: "nonsense", seed: node.seed, name: "x" }),
      "IPOP_CA_BAD_REQUEST",
      /token/,
    );
  } finally {
    await server.close();
  }
});

test("timeouts and unreachable servers are clear errors", async () => {
  const silent = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => silent.once("listening", resolve));
  const { port } = silent.address() as { port: number };
  try {
    await rejectsWith(
      enroll({ url: `ws://127.0.0.1:${port}`, token: token(), seed: caSeed, name: "vm1", timeoutMs: 200 }),
      "IPOP_CA_TIMEOUT",
      /no answer/,
    );
  } finally {
    for (const client of silent.clients) client.terminate();
    await new Promise((resolve) => silent.close(resolve));
  }
  await rejectsWith(
    publishRevocations({ url: `ws://127.0.0.1:${port}`, network: "lab", list: "x", timeoutMs: 2000 }),
    "IPOP_CA_UNREACHABLE",
    /cannot reach/,
  );
});

test("an answer whose CA is not the token's is refused", async () => {
  // A fake server answering every enroll with the rogue CA and a certificate from it.
  const rogue = makeCa(9);
  const fake = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => fake.once("listening", resolve));
  const { port } = fake.address() as { port: number };
  fake.on("connection", (ws) => {
    ws.on("message", () => ws.send(JSON.stringify({ v: 1, t: "enrolled", cert: rogue.text, ca: rogue.text })));
  });
  try {
    await rejectsWith(
      enroll({ url: `ws://127.0.0.1:${port}`, token: token(), seed: caSeed, name: "vm1" }),
      "IPOP_CA_BAD_ANSWER",
      /not trusting it/,
    );
  } finally {
    for (const client of fake.clients) client.terminate();
    await new Promise((resolve) => fake.close(resolve));
  }
});
