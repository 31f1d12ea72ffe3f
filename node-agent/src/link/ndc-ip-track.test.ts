/**
 * NdcIpTrack against an in-memory fake of the narrow part of node-datachannel's Track it uses:
 * what it sends, what it delivers, and that bad input on the track is counted, never thrown.
 * (ip-track.test.ts runs it over real connections.)
 */
import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { FALLBACK_UNACKED } from "./ip-track-flow.js";
import { decodeTrackReport, MAX_TRACK_FRAME_BYTES, RTP_HEADER_BYTES, writeRtpHeader } from "./ip-track-rtp.js";
import { NdcIpTrack, type TrackPort } from "./ndc-ip-track.js";

/** Records what is sent; `incoming` plays a packet the stack handed over. */
class FakeTrack implements TrackPort {
  readonly sent: Buffer[] = [];
  accept = true;
  closed = false;
  #open: () => void = () => {};
  #message: (msg: Buffer) => void = () => {};
  onOpen(cb: () => void): void {
    this.#open = cb;
  }
  onClosed(_cb: () => void): void {}
  onMessage(cb: (msg: Buffer) => void): void {
    this.#message = cb;
  }
  sendMessageBinary(buffer: Buffer): boolean {
    if (this.closed) throw new Error("Track is closed");
    if (this.accept) this.sent.push(Buffer.from(buffer));
    return this.accept;
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.#open();
  }
  incoming(bytes: Uint8Array): void {
    this.#message(Buffer.from(bytes));
  }
}

function setup() {
  const fake = new FakeTrack();
  const delivered: Uint8Array[] = [];
  const reports: number[] = [];
  const track = new NdcIpTrack(fake, 0x01020304, {
    deliver: (frame) => delivered.push(frame.slice()),
    sendReport: (r) => {
      const seq = decodeTrackReport(r);
      assert.ok(seq !== undefined);
      reports.push(seq);
      return true;
    },
  });
  return { fake, track, delivered, reports };
}

function rtp(seq: number, frame: Uint8Array, nowMs = performance.now()): Uint8Array {
  const p = new Uint8Array(RTP_HEADER_BYTES + frame.length);
  writeRtpHeader(p, seq, nowMs, 0xabcdef);
  p.set(frame, RTP_HEADER_BYTES);
  return p;
}

describe("NdcIpTrack", () => {
  test("carries nothing until the peer said it reads the track and the track opened", () => {
    const { fake, track } = setup();
    const frame = new Uint8Array(100).fill(1);
    assert.equal(track.send(frame), "no-path");
    track.enable();
    assert.equal(track.send(frame), "no-path");
    fake.open();
    assert.equal(track.send(frame), "sent");
    assert.equal(fake.sent.length, 1);
    assert.deepEqual([...fake.sent[0]!.subarray(RTP_HEADER_BYTES)], [...frame]);
    assert.equal(fake.sent[0]!.readUInt16BE(2), 0);
    assert.equal(fake.sent[0]!.readUInt32BE(8), 0x01020304);
    assert.equal(track.send(new Uint8Array(MAX_TRACK_FRAME_BYTES + 1)), "no-path");
  });

  test("a packet the stack refuses is a counted drop and does not use up a sequence number", () => {
    const { fake, track } = setup();
    track.enable();
    fake.open();
    fake.accept = false;
    assert.equal(track.send(new Uint8Array(10)), "dropped");
    fake.accept = true;
    assert.equal(track.send(new Uint8Array(10)), "sent");
    assert.equal(fake.sent[0]!.readUInt16BE(2), 0);
    assert.equal(track.stats().drops["track-send-failed"], 1);
    fake.close();
    assert.equal(track.send(new Uint8Array(10)), "dropped", "a closed track throws; the caller sees a drop");
  });

  test("delivers frames, reports, and answers probes without delivering them", () => {
    const { fake, track, delivered, reports } = setup();
    track.enable();
    fake.incoming(rtp(0, Uint8Array.of(1, 1, 5)));
    fake.incoming(rtp(1, new Uint8Array(0)));
    assert.deepEqual(
      delivered.map((f) => [...f]),
      [[1, 1, 5]],
    );
    assert.deepEqual(reports, [0]);
    assert.equal(track.stats().received, 1);
  });

  test("bad input on the track is counted by reason, never thrown, never delivered", () => {
    const { fake, track, delivered } = setup();
    track.enable();
    fake.incoming(new Uint8Array(0));
    fake.incoming(Uint8Array.of(0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)); // RTCP sender report
    fake.incoming(Uint8Array.of(0x80, 97, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)); // VP8, not ours
    fake.incoming(Uint8Array.of(0x8f, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)); // CSRCs beyond the end
    fake.incoming(rtp(5, Uint8Array.of(1, 1), performance.now() - 10_000)); // sets the delay floor
    fake.incoming(rtp(6, Uint8Array.of(1, 1), performance.now() - 10_000 - 500)); // waited 500 ms more
    assert.equal(delivered.length, 1);
    assert.deepEqual(track.stats().drops, {
      "track-not-rtp": 1,
      "track-rtcp": 1,
      "track-bad-payload-type": 1,
      "track-bad-rtp-length": 1,
      "track-stale": 1,
    });
  });

  test("falls back to the channel when reports stop, and comes back when a probe is answered", () => {
    const { fake, track } = setup();
    track.enable();
    fake.open();
    const frame = new Uint8Array(20);
    for (let i = 0; i < FALLBACK_UNACKED; i++) assert.equal(track.send(frame), "sent");
    assert.equal(track.send(frame), "no-path");
    const probe = fake.sent.at(-1)!;
    assert.equal(probe.length, RTP_HEADER_BYTES, "a probe carries no frame");
    assert.equal(track.stats().carrying, false);
    track.handleReport(probe.readUInt16BE(2));
    assert.equal(track.stats().carrying, true);
    assert.equal(track.send(frame), "sent");
    assert.deepEqual({ fallbacks: track.stats().fallbacks, probes: track.stats().probes }, { fallbacks: 1, probes: 1 });
  });
});
