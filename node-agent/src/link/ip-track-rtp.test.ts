import assert from "node:assert/strict";
import { describe, test } from "vitest";
import {
  decodeTrackReport,
  encodeTrackReport,
  IP_TRACK_PAYLOAD_TYPE,
  offersIpTrack,
  parseRtpPacket,
  RTP_HEADER_BYTES,
  writeRtpHeader,
} from "./ip-track-rtp.js";

function packet(frame: Uint8Array, seq = 7, nowMs = 1234.5, ssrc = 0xdeadbeef): Uint8Array {
  const p = new Uint8Array(RTP_HEADER_BYTES + frame.length);
  writeRtpHeader(p, seq, nowMs, ssrc);
  p.set(frame, RTP_HEADER_BYTES);
  return p;
}

describe("RTP packets of the IP track", () => {
  test("a written packet reads back: sequence (16 bits), timestamp (0.1 ms), the frame as a view", () => {
    const frame = Uint8Array.of(1, 1, 9, 8, 7);
    const p = packet(frame, 0x1_0005, 1234.56);
    const r = parseRtpPacket(p);
    assert.ok(typeof r !== "string");
    assert.equal(r.seq, 5);
    assert.equal(r.timestamp, 12345);
    assert.deepEqual([...r.frame], [...frame]);
    assert.equal(r.frame.buffer, p.buffer, "a view, not a copy");
    assert.equal(p[1], IP_TRACK_PAYLOAD_TYPE);
    assert.deepEqual([...p.subarray(8, 12)], [0xde, 0xad, 0xbe, 0xef]);
  });

  test("an empty frame is a probe: header only", () => {
    const r = parseRtpPacket(packet(new Uint8Array(0)));
    assert.ok(typeof r !== "string");
    assert.equal(r.frame.length, 0);
  });

  test("CSRCs, a header extension and padding are skipped", () => {
    // V=2, P=1, X=1, CC=1; then CSRC (4), extension header (4) with one word (4), payload 3, padding 2.
    const p = Uint8Array.of(0xb1, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...[9, 9, 9, 9], 0xbe, 0xde, 0, 1, ...[5, 5, 5, 5]);
    const withPayload = Uint8Array.of(...p, 1, 2, 3, 0, 2);
    const r = parseRtpPacket(withPayload);
    assert.ok(typeof r !== "string");
    assert.deepEqual([...r.frame], [1, 2, 3]);
  });

  test("bad input is a drop reason, never a throw", () => {
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), "track-not-rtp"],
      [new Uint8Array(11), "track-not-rtp"],
      [Uint8Array.of(0x40, 96, ...new Array(10).fill(0)), "track-not-rtp"], // version 1
      [Uint8Array.of(0x80, 200, ...new Array(10).fill(0)), "track-rtcp"], // sender report
      [Uint8Array.of(0x80, 201 & 0x7f, ...new Array(10).fill(0)), "track-rtcp"],
      [Uint8Array.of(0x80, 97, ...new Array(10).fill(0)), "track-bad-payload-type"],
      [Uint8Array.of(0x8f, 96, ...new Array(10).fill(0)), "track-bad-rtp-length"], // 15 CSRCs claimed
      [Uint8Array.of(0x90, 96, ...new Array(10).fill(0), 0xbe, 0xde), "track-bad-rtp-length"], // cut extension
      [Uint8Array.of(0x90, 96, ...new Array(10).fill(0), 0xbe, 0xde, 0xff, 0xff), "track-bad-rtp-length"],
      [Uint8Array.of(0xa0, 96, ...new Array(10).fill(0), 1, 0), "track-bad-rtp-length"], // padding 0
      [Uint8Array.of(0xa0, 96, ...new Array(10).fill(0), 1, 9), "track-bad-rtp-length"], // padding > packet
    ];
    for (const [input, reason] of cases) assert.equal(parseRtpPacket(input), reason, `${[...input.subarray(0, 2)]}`);
    // Random bytes: a verdict every time.
    let seed = 42;
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(i % 64);
      for (let k = 0; k < bytes.length; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[k] = seed >>> 24;
      }
      const r = parseRtpPacket(bytes);
      if (typeof r !== "string") assert.ok(r.frame.length <= bytes.length);
    }
  });

  test("reports round-trip, and anything else is not a report", () => {
    assert.equal(decodeTrackReport(encodeTrackReport(0xfffffffe)), 0xfffffffe);
    assert.equal(decodeTrackReport(encodeTrackReport(-1)), 0xffffffff);
    assert.equal(decodeTrackReport(Uint8Array.of(0xff, 1, 0, 0, 0)), undefined);
    assert.equal(decodeTrackReport(Uint8Array.of(0xff, 2, 0, 0, 0, 1)), undefined);
    assert.equal(decodeTrackReport(Uint8Array.of(1, 1, 0, 0, 0, 1)), undefined);
  });
});

describe("offersIpTrack", () => {
  const section = (mid: string, rtpmap: string) =>
    `v=0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:${mid}\r\n${rtpmap}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n`;
  test("our mid with our codec on payload type 96", () => {
    assert.equal(offersIpTrack(section("ipop-ip", "a=rtpmap:96 ipop-ip/90000")), true);
    assert.equal(offersIpTrack(section("ipop-ip", "a=rtpmap:97 VP8/90000\r\na=rtpmap:96 ipop-ip/90000")), true);
  });
  test("a stranger's video, our mid without our codec, or no video at all", () => {
    assert.equal(offersIpTrack(section("video", "a=rtpmap:96 ipop-ip/90000")), false);
    assert.equal(offersIpTrack(section("ipop-ip-2", "a=rtpmap:96 ipop-ip/90000")), false);
    assert.equal(offersIpTrack(section("ipop-ip", "a=rtpmap:96 VP8/90000")), false);
    assert.equal(offersIpTrack("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"), false);
  });
});
