import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import {
  BATCH_LENGTH_BYTES,
  batchedFrameEnd,
  classifyFrame,
  encodeDataFrame,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  FrameType,
  MAX_BATCH_FRAME_BYTES,
  MAX_FRAME_BYTES,
} from "./frame.js";
import { DEFAULT_BATCH_BYTES, FrameBatcher } from "./frame-batcher.js";

interface Sent {
  linkId: number;
  message: Uint8Array;
  frames: number;
}

function batcher(maxBytes?: number): { b: FrameBatcher; sent: Sent[] } {
  const sent: Sent[] = [];
  // The message is borrowed: keep a copy, as a link's send() does.
  const b = new FrameBatcher(
    (linkId, message, frames) => sent.push({ linkId, message: message.slice(), frames }),
    maxBytes,
  );
  return { b, sent };
}

/** The frames inside a message as a receiver reads them: the message itself unless it is a batch. */
function unpack(message: Uint8Array): Uint8Array[] {
  const type = classifyFrame(message);
  if (type !== FrameType.batch) return [message];
  const frames: Uint8Array[] = [];
  for (let offset = FRAME_HEADER_BYTES; offset < message.length; ) {
    const end = batchedFrameEnd(message, offset);
    frames.push(message.slice(offset + BATCH_LENGTH_BYTES, end));
    offset = end;
  }
  return frames;
}

const frameArb = fc.uint8Array({ minLength: 3, maxLength: MAX_FRAME_BYTES }).map((bytes) => {
  bytes[0] = FRAME_VERSION;
  bytes[1] = FrameType.data;
  return bytes;
});

test("batches carry every frame of a turn, in order, per link, within the size limit", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), frameArb), { maxLength: 40 }),
      fc.integer({ min: 64, max: 3 * DEFAULT_BATCH_BYTES }),
      (adds, maxBytes) => {
        const { b, sent } = batcher(maxBytes);
        for (const [linkId, frame] of adds) b.add(linkId, frame);
        b.flush();
        for (const linkId of [1, 2, 3]) {
          const expected = adds.filter(([l]) => l === linkId).map(([, f]) => f);
          const messages = sent.filter((s) => s.linkId === linkId);
          const got = messages.flatMap((s) => unpack(s.message));
          assert.deepEqual(got, expected);
          for (const s of messages) {
            assert.equal(unpack(s.message).length, s.frames);
            // Only a lone frame may exceed the limit, and then it travels unbatched.
            if (s.message.length > maxBytes) assert.equal(s.frames, 1);
            if (s.frames > 1) assert.equal(classifyFrame(s.message), FrameType.batch);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("a lone frame goes out unchanged and nothing waits past flush", () => {
  const { b, sent } = batcher();
  const frame = encodeDataFrame(new Uint8Array([0x45, 1, 2]));
  b.add(7, frame);
  assert.equal(sent.length, 0);
  b.flush();
  assert.deepEqual(sent, [{ linkId: 7, message: frame, frames: 1 }]);
  b.flush();
  assert.equal(sent.length, 1);
});

test("frames beyond the limit go in a second message at once, without waiting for flush", () => {
  const { b, sent } = batcher(100);
  const frame = encodeDataFrame(new Uint8Array(40).fill(0x45));
  b.add(1, frame);
  b.add(1, frame);
  assert.equal(sent.length, 0);
  b.add(1, frame); // 2 + 3 * 44 > 100
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.frames, 2);
  b.flush();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.message, frame);
});

test("a forgotten link's queued frames are discarded", () => {
  const { b, sent } = batcher();
  b.add(1, encodeDataFrame(new Uint8Array([0x45])));
  b.add(2, encodeDataFrame(new Uint8Array([0x45])));
  b.forget(1);
  b.flush();
  assert.deepEqual(
    sent.map((s) => s.linkId),
    [2],
  );
});

test("batch frames whose lengths do not tile them exactly are refused", () => {
  const batch = (...bytes: number[]) => new Uint8Array([FRAME_VERSION, FrameType.batch, ...bytes]);
  assert.equal(classifyFrame(batch()), "short-frame");
  assert.equal(classifyFrame(batch(0, 3, 1, 1, 0x45)), FrameType.batch);
  assert.equal(classifyFrame(batch(0, 3, 1, 1, 0x45, 0, 1, 9)), FrameType.batch);
  assert.equal(classifyFrame(batch(0, 4, 1, 1, 0x45)), "bad-frame-length", "runs past the end");
  assert.equal(classifyFrame(batch(0, 3, 1, 1, 0x45, 0)), "bad-frame-length", "half a length prefix");
  assert.equal(classifyFrame(batch(0, 0, 0, 1, 9)), "bad-frame-length", "an empty frame");
  const big = new Uint8Array(MAX_BATCH_FRAME_BYTES + 1);
  big.set([FRAME_VERSION, FrameType.batch]);
  assert.equal(classifyFrame(big), "oversized-frame");
});

test("classifyFrame accepts a batch only if walking it stays inside it", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
      const frame = new Uint8Array([FRAME_VERSION, FrameType.batch, ...tail]);
      if (classifyFrame(frame) !== FrameType.batch) return;
      let offset = FRAME_HEADER_BYTES;
      while (offset < frame.length) {
        const end = batchedFrameEnd(frame, offset);
        assert.ok(end > offset + BATCH_LENGTH_BYTES && end <= frame.length);
        offset = end;
      }
      assert.equal(offset, frame.length);
    }),
    { numRuns: 1000 },
  );
});

test("batches never exceed what receivers accept, whatever limit the host asks for", () => {
  const { b, sent } = batcher(1 << 20);
  const frame = encodeDataFrame(new Uint8Array(MAX_FRAME_BYTES - FRAME_HEADER_BYTES).fill(0x45));
  for (let i = 0; i < 20; i++) b.add(1, frame);
  b.flush();
  assert.ok(sent.length > 1);
  for (const s of sent) {
    assert.ok(s.message.length <= MAX_BATCH_FRAME_BYTES);
    assert.equal(classifyFrame(s.message), FrameType.batch);
  }
});
