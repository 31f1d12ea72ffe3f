import assert from "node:assert/strict";
import { describe, test } from "vitest";
import {
  FALLBACK_UNACKED,
  PROBE_INTERVAL_MS,
  REPORT_EVERY_PACKETS,
  REPORT_INTERVAL_MS,
  ReceiveTracker,
  SendTracker,
  STALE_AFTER_MS,
} from "./ip-track-flow.js";
import { RTP_TICKS_PER_MS } from "./ip-track-rtp.js";

/** Sends `n` packets the way NdcIpTrack does; returns the last sequence number taken. */
function sendMany(s: SendTracker, n: number, nowMs = 0): number {
  let last = -1;
  for (let i = 0; i < n; i++) {
    assert.equal(s.decide(nowMs), "track");
    last = s.takeSeq();
  }
  return last;
}

describe("SendTracker", () => {
  test("stays on the track while the receiver reports", () => {
    const s = new SendTracker();
    for (let round = 0; round < 20; round++) {
      const last = sendMany(s, FALLBACK_UNACKED - 1);
      s.handleReport(last);
      assert.equal(s.unreported, 0);
    }
    assert.equal(s.fallbacks, 0);
  });

  test("leaves the track before the rollover counter can desync, probes once a second, comes back on a report", () => {
    const s = new SendTracker();
    sendMany(s, FALLBACK_UNACKED);
    // Nothing reported: the next frame goes on the channel, with a probe.
    assert.equal(s.decide(100), "probe");
    const probe = s.takeSeq();
    assert.equal(s.fallbacks, 1);
    assert.equal(s.onTrack, false);
    assert.equal(s.decide(100 + PROBE_INTERVAL_MS - 1), "channel");
    assert.equal(s.decide(100 + PROBE_INTERVAL_MS), "probe");
    const probe2 = s.takeSeq();
    // Every packet the sender ever put out since the last report stays within the receiver's guess.
    assert.ok(s.unreported < 32_768);
    // A report that covers the first probe only is progress, but not enough to come back.
    s.handleReport(probe);
    assert.equal(s.onTrack, false);
    s.handleReport(probe2);
    assert.equal(s.onTrack, true);
    assert.equal(s.decide(5000), "track");
  });

  test("a refused packet gives its number back; reports from the future or the past are ignored", () => {
    const s = new SendTracker();
    sendMany(s, 10);
    s.takeSeq();
    s.untakeSeq();
    assert.equal(s.unreported, 10);
    s.handleReport(500); // never sent
    assert.equal(s.unreported, 10);
    s.handleReport(4);
    assert.equal(s.unreported, 5);
    s.handleReport(2); // older than what was reported
    assert.equal(s.unreported, 5);
  });
});

describe("ReceiveTracker", () => {
  const ts = (ms: number) => Math.floor(ms * RTP_TICKS_PER_MS) >>> 0;

  test("counts gaps and late packets across the 16-bit wrap", () => {
    const r = new ReceiveTracker();
    for (const seq of [65_530, 65_531, 65_535, 2, 65_534, 3]) r.receive(seq, ts(0), 0);
    // 65532-65534 and 0-1 skipped (5), then 65534 came late.
    assert.equal(r.gaps, 5);
    assert.equal(r.late, 1);
  });

  test("reports on the first packet, then every REPORT_EVERY_PACKETS or after a pause", () => {
    const r = new ReceiveTracker();
    assert.equal(r.receive(0, ts(0), 0).report, 0);
    let reports = 0;
    for (let seq = 1; seq <= 3 * REPORT_EVERY_PACKETS; seq++) {
      const v = r.receive(seq, ts(0), 1);
      if (v.report !== undefined) {
        reports++;
        assert.equal(v.report, seq);
      }
    }
    assert.equal(reports, 3);
    // The extended number keeps counting past 65535: the report carries the rollover too.
    const later = r.receive((3 * REPORT_EVERY_PACKETS + 1) & 0xffff, ts(1), 1 + REPORT_INTERVAL_MS);
    assert.equal(later.report, 3 * REPORT_EVERY_PACKETS + 1);
  });

  test("a packet that waited more than STALE_AFTER_MS beyond the least-delayed one is stale", () => {
    const r = new ReceiveTracker();
    // The sender's clock is 5 s ahead of ours: only differences count.
    const offset = 5000;
    assert.equal(r.receive(0, ts(offset + 100), 100.3).fresh, true);
    assert.equal(r.receive(1, ts(offset + 101), 101 + STALE_AFTER_MS - 1).fresh, true);
    assert.equal(r.receive(2, ts(offset + 102), 102 + STALE_AFTER_MS + 2).fresh, false);
    assert.equal(r.stale, 1);
    // Timestamps wrap at 2^32 ticks (119 hours) without confusing it.
    const wrapAt = 2 ** 32 / RTP_TICKS_PER_MS;
    const r2 = new ReceiveTracker();
    assert.equal(r2.receive(0, ts(wrapAt - 1), 10).fresh, true);
    assert.equal(r2.receive(1, ts(wrapAt + 1), 12).fresh, true);
    assert.equal(r2.receive(2, ts(wrapAt + 2), 13 + STALE_AFTER_MS + 1).fresh, false);
  });
});
