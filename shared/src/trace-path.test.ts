import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { MAX_MEMBER_LIST, MAX_OVERLAY_MESSAGE_BYTES } from "./overlay-message.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { member } from "./testing/mini-net.js";
import { appendTraceHop, decodeTrace, encodeTrace, encodeTraceHop } from "./trace-path.js";
import { encodeUtf8 } from "./utf8.js";

const ID_CHARS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"];
const NAME_CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789.-_"];
const octet = fc.integer({ min: 0, max: 255 });
const memberInfo: fc.Arbitrary<MemberInfo> = fc
  .record({
    nodeId: fc.array(fc.constantFrom(...ID_CHARS), { minLength: 1, maxLength: 64 }).map((c) => c.join("")),
    name: fc
      .tuple(fc.constantFrom(..."abcxyz019"), fc.array(fc.constantFrom(...NAME_CHARS), { maxLength: 62 }))
      .map(([first, rest]) => first + rest.join("")),
    ip: fc.tuple(octet, octet, octet, octet).map((o) => o.join(".")),
  })
  .map((m) => ({ ...m })); // fast-check's records have no prototype; decoded ones do

/** A trace as it looks after `path.length - 1` transit hops. */
function traceThrough(id: number, path: readonly MemberInfo[]): Uint8Array | null {
  let payload: Uint8Array | null = encodeTrace(id, encodeTraceHop(path[0]!));
  for (const hop of path.slice(1)) {
    if (payload === null) return null;
    payload = appendTraceHop(payload, encodeTraceHop(hop));
  }
  return payload;
}

test("a trace round trips its id and every hop, in order", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(memberInfo, { minLength: 1, maxLength: 32 }),
      (id, path) => {
        const payload = traceThrough(id, path)!;
        assert.deepEqual(decodeTrace(payload), { id, path });
      },
    ),
    { numRuns: 200 },
  );
});

test("a trace is read where it lies in a larger buffer (a view past a routed header)", () => {
  const payload = traceThrough(0xdeadbeef, [member(1), member(2)])!;
  const buffer = new Uint8Array(16 + payload.length);
  buffer.fill(0xff, 0, 16);
  buffer.set(payload, 16);
  assert.deepEqual(decodeTrace(buffer.subarray(16)), { id: 0xdeadbeef, path: [member(1), member(2)] });
});

test("appendTraceHop leaves the original as it was and stops at the overlay message limit", () => {
  const hop = encodeTraceHop(member(2));
  const frame = encodeTrace(1, encodeTraceHop(member(1)));
  const before = frame.slice();
  const longer = appendTraceHop(frame, hop)!;
  assert.deepEqual(frame, before);
  assert.deepEqual(longer.subarray(0, frame.length), frame);
  assert.deepEqual(longer.subarray(frame.length), hop);

  const exact = new Uint8Array(MAX_OVERLAY_MESSAGE_BYTES - hop.length);
  assert.equal(appendTraceHop(exact, hop)?.length, MAX_OVERLAY_MESSAGE_BYTES);
  assert.equal(appendTraceHop(new Uint8Array(exact.length + 1), hop), null);
});

test("decodeTrace never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const result = decodeTrace(bytes);
      if (result !== "bad-trace") assert.ok(result.path.length >= 1);
    }),
    { numRuns: 2_000 },
  );
});

test("decodeTrace never throws on a valid trace with bytes flipped, cut or added", () => {
  fc.assert(
    fc.property(
      fc.array(memberInfo, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 8 }),
      (path, flips, cut, extra) => {
        const payload = traceThrough(5, path)!;
        for (const [at, value] of flips) payload[at % payload.length] = value;
        const mangled = new Uint8Array([...payload.subarray(0, payload.length - (cut % 4)), ...extra]);
        decodeTrace(mangled);
      },
    ),
    { numRuns: 1_000 },
  );
});

test("decodeTrace refuses truncated, oversized and malformed traces", () => {
  const payload = traceThrough(9, [member(1), member(2)])!;
  // Cut anywhere inside the last entry (cutting it all off leaves a good one-hop trace).
  for (let cut = 1; cut < encodeTraceHop(member(2)).length; cut++) {
    assert.equal(decodeTrace(payload.subarray(0, payload.length - cut)), "bad-trace", `cut ${cut}`);
  }
  // Only the id, or the id and half a length.
  assert.equal(decodeTrace(new Uint8Array(4)), "bad-trace");
  assert.equal(decodeTrace(new Uint8Array(5)), "bad-trace");
  assert.equal(decodeTrace(new Uint8Array(MAX_OVERLAY_MESSAGE_BYTES + 1)), "bad-trace");

  const entry = (text: string) => {
    const json = encodeUtf8(text);
    return new Uint8Array([json.length >> 8, json.length & 0xff, ...json]);
  };
  for (const text of ["{", "", "null", "[]", '"x"', '{"nodeId":"a","name":"h","ip":"10.88.0.300"}']) {
    assert.equal(decodeTrace(encodeTrace(1, entry(text))), "bad-trace", text);
  }
  // Invalid UTF-8 inside an entry.
  assert.equal(decodeTrace(encodeTrace(1, new Uint8Array([0, 2, 0xc3, 0x28]))), "bad-trace");
  // A length naming more than is there.
  const hop = encodeTraceHop(member(1));
  hop[1]! += 1;
  assert.equal(decodeTrace(encodeTrace(1, hop)), "bad-trace");
});

test("decodeTrace refuses a path longer than a member list may be", () => {
  const path = Array.from({ length: MAX_MEMBER_LIST + 1 }, (_, i) => member(i + 1));
  assert.equal(decodeTrace(traceThrough(1, path)!), "bad-trace");
  const decoded = decodeTrace(traceThrough(1, path.slice(0, MAX_MEMBER_LIST))!);
  assert.notEqual(decoded, "bad-trace");
});
