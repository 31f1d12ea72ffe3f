import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, test } from "vitest";
import { judgeMapping } from "./netcheck.js";
import {
  ALLOCATE_REQUEST,
  BINDING_REQUEST,
  BINDING_SUCCESS,
  decodeResponse,
  encodeRequest,
  MAGIC_COOKIE,
} from "./stun-message.js";

const ID = Uint8Array.from({ length: 12 }, (_, i) => i + 1);

/** A Binding success response as RFC 5769 section 2.2 builds one (XOR-MAPPED-ADDRESS 192.0.2.1:32853). */
function bindingSuccess(): Uint8Array {
  const out = new Uint8Array(20 + 12 + 12);
  const v = new DataView(out.buffer);
  v.setUint16(0, BINDING_SUCCESS);
  v.setUint16(2, 24);
  v.setUint32(4, MAGIC_COOKIE);
  out.set(ID, 8);
  // XOR-MAPPED-ADDRESS, IPv4
  v.setUint16(20, 0x0020);
  v.setUint16(22, 8);
  v.setUint8(25, 1);
  v.setUint16(26, 32853 ^ (MAGIC_COOKIE >>> 16));
  v.setUint32(28, ((192 << 24) | (0 << 16) | (2 << 8) | 1) ^ MAGIC_COOKIE);
  // OTHER-ADDRESS 198.51.100.2:3479 (not XORed)
  v.setUint16(32, 0x802c);
  v.setUint16(34, 8);
  v.setUint8(37, 1);
  v.setUint16(38, 3479);
  out.set([198, 51, 100, 2], 40);
  return out;
}

describe("STUN messages", () => {
  test("a Binding request is a bare header; CHANGE-REQUEST and REQUESTED-TRANSPORT when asked", () => {
    const plain = encodeRequest(BINDING_REQUEST, ID);
    assert.equal(plain.length, 20);
    assert.deepEqual([...plain.subarray(0, 8)], [0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
    const change = encodeRequest(BINDING_REQUEST, ID, { ip: true, port: true });
    assert.deepEqual([...change.subarray(20)], [0, 3, 0, 4, 0, 0, 0, 6]);
    const allocate = encodeRequest(ALLOCATE_REQUEST, ID);
    assert.deepEqual([...allocate.subarray(20)], [0, 0x19, 0, 4, 17, 0, 0, 0]);
  });

  test("decodes the mapped and the other address", () => {
    const r = decodeResponse(bindingSuccess());
    assert.ok(r.ok);
    assert.deepEqual(r.value.mapped, { ip: "192.0.2.1", port: 32853 });
    assert.deepEqual(r.value.otherAddress, { ip: "198.51.100.2", port: 3479 });
    assert.deepEqual([...r.value.transactionId], [...ID]);
  });

  test("malformed input is a verdict, never an exception", () => {
    const good = bindingSuccess();
    assert.deepEqual(decodeResponse(good.subarray(0, 10)), { ok: false, reason: "too-short" });
    const notStun = good.slice();
    notStun[4] = 0;
    assert.deepEqual(decodeResponse(notStun), { ok: false, reason: "not-stun" });
    const overlong = good.slice();
    new DataView(overlong.buffer).setUint16(2, 400);
    assert.deepEqual(decodeResponse(overlong), { ok: false, reason: "bad-length" });
    const badAttr = good.slice();
    new DataView(badAttr.buffer).setUint16(22, 60);
    assert.deepEqual(decodeResponse(badAttr), { ok: false, reason: "bad-attribute" });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeResponse(bytes);
      }),
    );
  });
});

describe("judgeMapping", () => {
  const to = (ip: string, port: number) => ({ ip, port });
  test("one public port for every destination is endpoint-independent; one per destination is symmetric", () => {
    const m = to("203.0.113.5", 4000);
    assert.equal(
      judgeMapping([
        { to: to("198.51.100.1", 3478), mapped: m },
        { to: to("198.51.100.2", 3478), mapped: m },
      ]),
      "endpoint-independent",
    );
    assert.equal(
      judgeMapping([
        { to: to("198.51.100.1", 3478), mapped: m },
        { to: to("198.51.100.2", 3478), mapped: to("203.0.113.5", 4001) },
      ]),
      "address-and-port-dependent",
    );
    assert.equal(
      judgeMapping([
        { to: to("198.51.100.1", 3478), mapped: m },
        { to: to("198.51.100.2", 3478), mapped: to("203.0.113.5", 4001) },
        { to: to("198.51.100.2", 3479), mapped: to("203.0.113.5", 4001) },
      ]),
      "address-dependent",
    );
    assert.equal(judgeMapping([{ to: to("198.51.100.1", 3478), mapped: m }]), "unknown");
  });
});
