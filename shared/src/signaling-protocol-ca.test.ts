/** The CA parts of the signaling protocol: join credentials, enroll, renew and revocation messages. */
import assert from "node:assert/strict";
import { test } from "vitest";
import { parseClientMessage, parseServerMessage } from "./signaling-protocol.js";

const member = { nodeId: "n1", name: "host7", ip: "10.88.0.7" };
const credential = { cert: "-----BEGIN IPOP CERTIFICATE-----\n...", time: 1_780_000_000_000, sig: "abc_-9" };

function client(value: unknown) {
  return parseClientMessage(JSON.stringify(value));
}

function refused(value: unknown, pattern: RegExp): void {
  const result = client(value);
  assert.equal(result.ok, false, JSON.stringify(value));
  if (!result.ok) {
    assert.equal(result.code, "bad-message");
    assert.match(result.message, pattern);
  }
}

test("join keeps a credential of the right shape, and only its fields", () => {
  const result = client({ v: 1, t: "join", network: "lab", member, credential: { ...credential, extra: 1 } });
  assert.deepEqual(result, { ok: true, value: { v: 1, t: "join", network: "lab", member, credential } });
  const without = client({ v: 1, t: "join", network: "lab", member });
  assert.ok(without.ok && !("credential" in without.value));
});

test("join credentials of the wrong shape are refused", () => {
  for (const bad of [
    "text",
    { ...credential, cert: "" },
    { ...credential, cert: "x".repeat(9000) },
    { ...credential, time: -1 },
    { ...credential, time: 1.5 },
    { ...credential, time: "1" },
    { ...credential, sig: "not base64url!" },
    { ...credential, sig: "A".repeat(200) },
    { cert: credential.cert, time: credential.time },
  ]) {
    refused({ v: 1, t: "join", network: "lab", member, credential: bad }, /credential/);
  }
});

test("enroll, renew and publish-revocations parse, and their bad forms are refused", () => {
  const enroll = {
    v: 1,
    t: "enroll",
    network: "lab",
    token: "ipop-token-v1.a.b",
    publicKey: "AAAA",
    name: "vm1",
    proof: "sig",
  };
  assert.deepEqual(client({ ...enroll, extra: true }), { ok: true, value: enroll });
  refused({ ...enroll, name: "bad name" }, /enroll.name/);
  refused({ ...enroll, token: "" }, /enroll.token/);
  refused({ ...enroll, token: "x".repeat(9000) }, /enroll.token/);
  refused({ ...enroll, publicKey: "a+b" }, /publicKey/);
  refused({ ...enroll, proof: undefined }, /proof/);
  refused({ ...enroll, network: "-" }, /network/);

  const renew = { v: 1, t: "renew", network: "lab", ...credential };
  assert.deepEqual(client(renew), { ok: true, value: renew });
  refused({ ...renew, sig: 5 }, /renew: sig/);

  const publish = { v: 1, t: "publish-revocations", network: "lab", list: "-----BEGIN IPOP REVOCATION LIST-----" };
  assert.deepEqual(client(publish), { ok: true, value: publish });
  refused({ ...publish, list: 7 }, /list/);
});

test("server messages: enrolled, revocations, published, and an error's reason", () => {
  const server = (value: unknown) => parseServerMessage(JSON.stringify(value));
  const enrolled = { v: 1, t: "enrolled", cert: "C", ca: "A" };
  assert.deepEqual(server(enrolled), { ok: true, value: enrolled });
  assert.equal(server({ ...enrolled, ca: 1 }).ok, false);
  const revocations = { v: 1, t: "revocations", network: "lab", list: "L" };
  assert.deepEqual(server(revocations), { ok: true, value: revocations });
  assert.equal(server({ ...revocations, list: "" }).ok, false);
  const published = { v: 1, t: "published", network: "lab", serial: 4, notified: 2, disconnected: 1 };
  assert.deepEqual(server(published), { ok: true, value: published });
  assert.equal(server({ ...published, serial: "4" }).ok, false);
  const error = { v: 1, t: "error", code: "unauthorized", message: "m", reason: "IPOP_CERT_EXPIRED" };
  assert.deepEqual(server(error), { ok: true, value: error });
  assert.deepEqual(server({ ...error, reason: 5 }), {
    ok: true,
    value: { v: 1, t: "error", code: "unauthorized", message: "m" },
  });
});
