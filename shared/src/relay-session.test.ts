import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "vitest";
import { ROUTED_HEADER_BYTES, RoutedKind, routedDestination, routedKind, routedSource } from "./frame.js";
import { RELAY_OVERHEAD_BYTES, RelayBody, RelaySession, relayChannel, relayKeyPair } from "./relay-session.js";
import { seededRandom } from "./testing/random.js";

function bytes(seed: number, length = 32): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** Both ends of one session, derived as the handshake does. */
function pair() {
  const a = relayKeyPair(bytes(1));
  const b = relayKeyPair(bytes(2));
  const context = {
    session: "a.1",
    initiator: "a",
    responder: "b",
    initiatorKey: a.publicKey,
    responderKey: b.publicKey,
  };
  const initiator = RelaySession.derive(a, b.publicKey, true, context)!;
  const responder = RelaySession.derive(b, a.publicKey, false, context)!;
  return { initiator, responder, a, b, context };
}

test("a sealed frame opens at the other end, with its header, body and overhead as documented", () => {
  const { initiator, responder } = pair();
  const body = bytes(3, 100);
  const frame = initiator.seal(32, 11, 22, RelayBody.frame, body);
  assert.equal(frame.length, body.length + RELAY_OVERHEAD_BYTES);
  assert.equal(routedKind(frame), RoutedKind.relay);
  assert.equal(routedSource(frame), 11);
  assert.equal(routedDestination(frame), 22);
  const opened = responder.open(frame.subarray(ROUTED_HEADER_BYTES));
  assert.ok(typeof opened !== "string", String(opened));
  assert.equal(opened.type, RelayBody.frame);
  assert.deepEqual(opened.body, body);
  // And the other way round, under the other direction's key.
  const back = responder.seal(32, 22, 11, RelayBody.ping, bytes(4, 4));
  const openedBack = initiator.open(back.subarray(ROUTED_HEADER_BYTES));
  assert.ok(typeof openedBack !== "string" && openedBack.type === RelayBody.ping);
});

test("a changed byte anywhere in counter, type, body or tag is refused; the header's TTL is not covered", () => {
  const { initiator, responder } = pair();
  const frame = initiator.seal(32, 11, 22, RelayBody.frame, bytes(5, 60));
  for (let i = ROUTED_HEADER_BYTES; i < frame.length; i++) {
    const forged = frame.slice();
    forged[i]! ^= 0x01;
    assert.equal(responder.open(forged.subarray(ROUTED_HEADER_BYTES)), "relay-bad-tag", `byte ${i}`);
  }
  const hop = frame.slice();
  hop[2] = 7; // a relay counting the hop changes only the TTL
  assert.ok(typeof responder.open(hop.subarray(ROUTED_HEADER_BYTES)) !== "string");
});

test("a replayed frame is refused, a frame sealed for the other direction too, and so is a short one", () => {
  const { initiator, responder } = pair();
  const frame = initiator.seal(32, 11, 22, RelayBody.frame, bytes(6, 40));
  assert.ok(typeof responder.open(frame.subarray(ROUTED_HEADER_BYTES)) !== "string");
  assert.equal(responder.open(frame.subarray(ROUTED_HEADER_BYTES)), "relay-replay");
  // The initiator's own frame reflected back at it does not verify under the receive key.
  const own = initiator.seal(32, 11, 22, RelayBody.frame, bytes(7, 40));
  assert.equal(initiator.open(own.subarray(ROUTED_HEADER_BYTES)), "relay-bad-tag");
  assert.equal(responder.open(new Uint8Array(10)), "relay-short");
});

test("a third party with its own keys (the relay) cannot make a frame the ends accept", () => {
  const { responder, a, context } = pair();
  const relay = relayKeyPair(bytes(9));
  // The relay substitutes its own key for the responder's: it shares no secret with the initiator's session.
  const forger = RelaySession.derive(relay, a.publicKey, true, context)!;
  const forged = forger.seal(32, 11, 22, RelayBody.frame, bytes(8, 40));
  assert.equal(responder.open(forged.subarray(ROUTED_HEADER_BYTES)), "relay-bad-tag");
});

test("a host's native HMAC-SHA256 and the pure-JavaScript default seal alike (the two ends may differ)", () => {
  const { a, b, context } = pair();
  const native = (key: Uint8Array) => (data: Uint8Array) => createHmac("sha256", key).update(data).digest();
  const sender = RelaySession.derive(a, b.publicKey, true, context, native)!;
  const receiver = RelaySession.derive(b, a.publicKey, false, context)!;
  const body = bytes(11, 1400);
  const opened = receiver.open(sender.seal(32, 1, 2, RelayBody.frame, body).subarray(ROUTED_HEADER_BYTES));
  assert.ok(typeof opened !== "string", String(opened));
  assert.deepEqual(opened.body, body);
});

test("an all-zero (low-order) peer key derives no session", () => {
  assert.equal(RelaySession.derive(relayKeyPair(bytes(1)), new Uint8Array(32), true, pair().context), null);
});

test("relays pass packets on the data channel and everything else on the reliable one", () => {
  const { initiator } = pair();
  const packetFrame = new Uint8Array(ROUTED_HEADER_BYTES + 20);
  packetFrame[3] = RoutedKind.packet;
  const messageFrame = packetFrame.slice();
  messageFrame[3] = RoutedKind.message;
  assert.equal(relayChannel(initiator.seal(32, 1, 2, RelayBody.frame, packetFrame)), "data");
  assert.equal(relayChannel(initiator.seal(32, 1, 2, RelayBody.frame, messageFrame)), "control");
  assert.equal(relayChannel(initiator.seal(32, 1, 2, RelayBody.ping, new Uint8Array(4))), "control");
});
