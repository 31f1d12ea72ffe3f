import assert from "node:assert/strict";
import { test } from "vitest";
import { CLOSE_FRAME, FrameReader, OPCODE_CLOSE, OPCODE_PING, textFrame } from "./raw-frames.js";

/** An unmasked frame as a server sends it. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const header =
    n < 126
      ? Buffer.from([0x80 | opcode, n])
      : n < 65536
        ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(n)]);
  return Buffer.concat([header, payload]);
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Undoes a client frame's mask: what the server reads. */
function unmask(frame: Buffer): { opcode: number; payload: Buffer } {
  const short = frame[1]! & 0x7f;
  const at = short === 126 ? 4 : short === 127 ? 10 : 2;
  assert.ok((frame[1]! & 0x80) !== 0, "client frames are masked");
  const mask = frame.subarray(at, at + 4);
  const payload = Buffer.from(frame.subarray(at + 4));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return { opcode: frame[0]! & 0x0f, payload };
}

test("client frames carry their payload masked, at every length class", () => {
  for (const length of [0, 5, 125, 126, 300, 65_535, 65_536]) {
    const text = "x".repeat(length);
    const { opcode, payload } = unmask(textFrame(text));
    assert.equal(opcode, 1);
    assert.equal(payload.toString(), text);
  }
  assert.deepEqual(unmask(CLOSE_FRAME), { opcode: OPCODE_CLOSE, payload: Buffer.from([0x03, 0xe8]) });
});

test("the frame reader finds every frame however the stream is split, keeping only what it is asked to", () => {
  const frames = [
    serverFrame(1, Buffer.from('{"t":"welcome"}')),
    serverFrame(1, Buffer.alloc(200, 0x61)),
    serverFrame(OPCODE_PING, Buffer.alloc(0)),
    serverFrame(1, Buffer.alloc(70_000, 0x62)),
    serverFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8])),
  ];
  const stream = Buffer.concat(frames);
  for (const size of [1, 2, 3, 7, 100, 1000, stream.length]) {
    const seen: Array<[number, number | undefined]> = [];
    let first: string | undefined;
    const reader = new FrameReader(
      (opcode) => seen.length === 0 || opcode !== 1,
      (opcode, payload) => {
        if (seen.length === 0) first = payload?.toString();
        seen.push([opcode, payload?.length]);
      },
    );
    for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
    assert.equal(first, '{"t":"welcome"}', `chunks of ${size}`);
    assert.deepEqual(
      seen,
      [
        [1, 15],
        [1, undefined],
        [OPCODE_PING, 0],
        [1, undefined],
        [OPCODE_CLOSE, 2],
      ],
      `chunks of ${size}`,
    );
  }
});
