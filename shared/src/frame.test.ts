import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import {
  classifyFrame,
  dataPayload,
  decodePing,
  encodeDataFrame,
  encodePing,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  FrameType,
  MAX_DATA_PAYLOAD_BYTES,
  MAX_FRAME_BYTES,
} from "./frame.js";

test("data frames round trip any payload up to the limit", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_DATA_PAYLOAD_BYTES }), (payload) => {
      const frame = encodeDataFrame(payload);
      assert.equal(classifyFrame(frame), FrameType.data);
      assert.deepEqual(dataPayload(frame), payload);
    }),
    { numRuns: 200 },
  );
});

test("ping and pong round trip", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(FrameType.ping, FrameType.pong),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.double({ noNaN: true }),
      (type, seq, sentAt) => {
        const frame = encodePing(type, { seq, sentAt });
        assert.equal(classifyFrame(frame), type);
        assert.deepEqual(decodePing(frame), { seq, sentAt: Object.is(sentAt, -0) ? -0 : sentAt });
      },
    ),
  );
});

test("classifyFrame never throws and refuses what it cannot read", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const verdict = classifyFrame(bytes);
      if (typeof verdict === "number") {
        assert.equal(bytes[0], FRAME_VERSION);
        assert.ok(Object.values(FrameType).includes(verdict));
      }
    }),
  );
});

test("short, oversized, unknown-version and unknown-type frames are named", () => {
  assert.equal(classifyFrame(new Uint8Array(0)), "short-frame");
  assert.equal(classifyFrame(new Uint8Array([FRAME_VERSION])), "short-frame");
  assert.equal(classifyFrame(new Uint8Array([FRAME_VERSION, FrameType.data])), "short-frame");
  assert.equal(classifyFrame(new Uint8Array(MAX_FRAME_BYTES + 1).fill(1)), "oversized-frame");
  assert.equal(classifyFrame(new Uint8Array([2, FrameType.data, 0x45])), "bad-frame-version");
  assert.equal(classifyFrame(new Uint8Array([FRAME_VERSION, 0x7f, 0])), "unknown-frame-type");
  assert.equal(
    classifyFrame(new Uint8Array(FRAME_HEADER_BYTES + 3).fill(FrameType.ping, 1, 2).fill(1, 0, 1)),
    "bad-frame-length",
  );
});
