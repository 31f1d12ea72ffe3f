import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { RTP_HEADER_BYTES, rttSummary, StreamCounter, threadCpuSeconds, writeRtpHeader } from "./rtp-bench-parts.js";

describe("RTP bench parts", () => {
  test("an RTP header is version 2, the declared payload type, and the low 16 bits of the sequence", () => {
    const packet = Buffer.alloc(RTP_HEADER_BYTES + 4);
    writeRtpHeader(packet, 0x1_0005, 0xdeadbeef);
    assert.equal(packet[0], 0x80);
    assert.equal(packet[1], 96);
    assert.equal(packet.readUInt16BE(2), 5);
    assert.equal(packet.readUInt32BE(8), 0xdeadbeef);
  });

  test("a stream counter counts packets, bytes and the ones that came behind a higher number", () => {
    const counter = new StreamCounter();
    for (const seq of [0, 1, 3, 2, 4, 4]) counter.add(seq, 100);
    assert.equal(counter.packets, 6);
    assert.equal(counter.bytes, 600);
    assert.equal(counter.late, 1); // 2 after 3; a repeat of the highest is not late
  });

  test("RTT summary: mean, median and 99th percentile of unsorted samples", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
    const s = rttSummary(samples);
    assert.equal(s.n, 100);
    assert.equal(s.meanMs, 50.5);
    assert.equal(s.p50Ms, 51);
    assert.equal(s.p99Ms, 100);
    assert.deepEqual(rttSummary([]), { n: 0, meanMs: 0, p50Ms: 0, p99Ms: 0 });
  });

  test("thread CPU counters list this process's main thread", () => {
    const threads = threadCpuSeconds();
    assert.ok(threads.has(process.pid));
    assert.ok([...threads.values()].every((t) => t.seconds >= 0 && Number.isFinite(t.seconds)));
  });
});
