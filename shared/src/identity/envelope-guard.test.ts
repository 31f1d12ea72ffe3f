import assert from "node:assert/strict";
import { test } from "vitest";
import type { IdentityErrorCode, IdentityResult } from "../errors.js";
import { makeTestCa, makeTestNode } from "../testing/identity.js";
import { certKeyIdOf, EnvelopeGuard, nodeIdFor } from "./envelope-guard.js";
import { sealEnvelope } from "./sealed-envelope.js";

const NOW_S = 1_780_000_000;
const testCa = makeTestCa("lab", NOW_S);
const alice = makeTestNode(testCa, "alice", "10.88.0.1/16", NOW_S, 1);
const bob = makeTestNode(testCa, "bob", "10.88.0.2/16", NOW_S, 2);
const aliceId = nodeIdFor(alice.cert, "00000001");
const bobId = nodeIdFor(bob.cert, "00000002");

function guards(clock = { ms: NOW_S * 1000 }, replayCapacity?: number) {
  const make = (c: typeof alice, nodeId: string) =>
    new EnvelopeGuard({
      network: "lab",
      ca: testCa.ca,
      nodeId,
      certText: c.certText,
      seed: c.keySeed,
      ...(replayCapacity === undefined ? {} : { replayCapacity }),
    });
  return { a: make(alice, aliceId), b: make(bob, bobId), clock };
}

function refused<T>(result: IdentityResult<T>, code: IdentityErrorCode): void {
  assert.equal(result.ok, false, "expected a refusal");
  if (!result.ok) assert.equal(result.code, code, result.message);
}

test("node ids are the certificate key id plus an incarnation", () => {
  assert.equal(certKeyIdOf(aliceId), alice.cert.nodeId);
  assert.equal(certKeyIdOf("not-a-node-id"), null);
  assert.throws(() => nodeIdFor(alice.cert, "XYZ"), RangeError);
});

test("a sealed envelope opens at its addressee with the sender's certified identity, once", () => {
  const { a, b, clock } = guards();
  const sealed = a.seal(clock.ms, bobId, { v: 1, kind: "signal", session: "x.1", payload: { sdp: "é ünïcode" } });
  const opened = b.open(clock.ms, structuredClone(sealed));
  assert.ok(opened.ok, opened.ok ? "" : opened.message);
  assert.equal(opened.value.from, aliceId);
  assert.equal(opened.value.name, "alice");
  assert.ok(opened.value.owns(alice.address.address));
  assert.ok(!opened.value.owns(bob.address.address));
  assert.deepEqual(opened.value.envelope, { v: 1, kind: "signal", session: "x.1", payload: { sdp: "é ünïcode" } });
  refused(b.open(clock.ms, structuredClone(sealed)), "IPOP_ENVELOPE_REPLAYED");
  // Forwarding (bouncing) checks the sender but neither the addressee nor replays.
  assert.ok(a.open(clock.ms, structuredClone(sealed), "forward").ok);
  refused(a.open(clock.ms, structuredClone(sealed)), "IPOP_ENVELOPE_MISADDRESSED");
});

test("stale, future, foreign-network, forged-sender and tampered envelopes are refused", () => {
  const { a, b, clock } = guards();
  const sealed = a.seal(clock.ms, bobId, { hello: 1 });
  clock.ms += 61_000;
  refused(b.open(clock.ms, sealed), "IPOP_ENVELOPE_STALE");
  clock.ms -= 122_000;
  refused(b.open(clock.ms, sealed), "IPOP_ENVELOPE_STALE");
  clock.ms += 61_000;
  const at = clock.ms;
  const fields = { network: "lab", from: aliceId, to: bobId, time: at, envelope: {} };
  refused(
    b.open(clock.ms, sealEnvelope({ ...fields, network: "other" }, alice.certText, alice.keySeed)),
    "IPOP_ENVELOPE_MISADDRESSED",
  );
  // Alice's key claiming Bob's node id.
  refused(
    b.open(clock.ms, sealEnvelope({ ...fields, from: bobId }, alice.certText, alice.keySeed)),
    "IPOP_ENVELOPE_SENDER_MISMATCH",
  );
  // Bob's certificate with Alice's signature.
  refused(b.open(clock.ms, sealEnvelope(fields, bob.certText, alice.keySeed)), "IPOP_ENVELOPE_BAD_SIGNATURE");
  const good = sealEnvelope(fields, alice.certText, alice.keySeed);
  const signed = Buffer.from(good.signed, "base64url").toString().replace('"envelope":{}', '"envelope":{"x":1}');
  refused(
    b.open(clock.ms, { ...good, signed: Buffer.from(signed).toString("base64url") }),
    "IPOP_ENVELOPE_BAD_SIGNATURE",
  );
});

test("garbage, unsigned, truncated and oversized certificates are refused without throwing", () => {
  const { a, b, clock } = guards();
  const good = a.seal(clock.ms, bobId, {});
  for (const raw of [null, 7, "x", [], { ...good, v: 2 }, { ...good, sig: "!!" }, { ...good, signed: 5 }]) {
    refused(b.open(clock.ms, raw), "IPOP_ENVELOPE_MALFORMED");
  }
  const { cert: _cert, ...unsigned } = good;
  refused(b.open(clock.ms, unsigned), "IPOP_ENVELOPE_NO_CERTIFICATE");
  refused(b.open(clock.ms, { ...good, cert: good.cert.slice(0, good.cert.length / 2) }), "IPOP_CERT_TRUNCATED");
  refused(b.open(clock.ms, { ...good, cert: "A".repeat(10_000) }), "IPOP_CERT_OVERSIZED");
});

test("certificates from another CA, expired or revoked are refused", () => {
  const { b, clock } = guards();
  const otherCa = makeTestCa("lab", NOW_S, 2);
  const mallory = makeTestNode(otherCa, "mallory", "10.88.0.9/16", NOW_S, 9);
  const malloryId = nodeIdFor(mallory.cert, "00000009");
  const fields = { network: "lab", from: malloryId, to: bobId, time: clock.ms, envelope: {} };
  refused(b.open(clock.ms, sealEnvelope(fields, mallory.certText, mallory.keySeed)), "IPOP_CERT_WRONG_CA");
  const aliceFields = { ...fields, from: aliceId };
  b.setRevoked(new Set(["alice"]));
  refused(b.open(clock.ms, sealEnvelope(aliceFields, alice.certText, alice.keySeed)), "IPOP_CERT_REVOKED");
  assert.ok(b.isRevoked(aliceId, "alice") && !b.isRevoked(bobId, "bob"));
  b.setRevoked(new Set([alice.cert.nodeId]));
  assert.ok(b.isRevoked(aliceId, "renamed"), "revoked by key id whatever the name");
  b.setRevoked(new Set());
  assert.ok(b.open(clock.ms, sealEnvelope(aliceFields, alice.certText, alice.keySeed)).ok);
  clock.ms += 2 * 86_400_000; // the test certificates live a day
  const late = { ...aliceFields, time: clock.ms };
  refused(b.open(clock.ms, sealEnvelope(late, alice.certText, alice.keySeed)), "IPOP_CERT_EXPIRED");
});

test("a full replay memory refuses rather than forgets, and frees up as entries go stale", () => {
  const { a, b, clock } = guards({ ms: NOW_S * 1000 }, 2);
  assert.ok(b.open(clock.ms, a.seal(clock.ms, bobId, { n: 1 })).ok);
  assert.ok(b.open(clock.ms, a.seal(clock.ms, bobId, { n: 2 })).ok);
  refused(b.open(clock.ms, a.seal(clock.ms, bobId, { n: 3 })), "IPOP_ENVELOPE_REPLAYED");
  clock.ms += 61_000;
  assert.ok(b.open(clock.ms, a.seal(clock.ms, bobId, { n: 4 })).ok);
});
