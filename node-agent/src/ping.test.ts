import assert from "node:assert/strict";
import { test } from "vitest";
import { formatPingReply, formatPingSummary, type PingReply, pingSucceeded, runPings } from "./ping.js";

const h1 = { name: "h1", ip: "10.88.0.1" };
const h3 = { name: "h3", ip: "10.88.0.3" };
const h7 = { name: "h7", ip: "10.88.0.7" };
const relayed: PingReply = {
  ip: "10.88.0.7",
  name: "h7",
  answered: true,
  owner: true,
  direct: false,
  rttMs: 1.8,
  path: [h1, h3, h7],
};
const direct: PingReply = { ...relayed, direct: true, rttMs: 0.9, path: [h1, h7] };
const lost: PingReply = { ...relayed, answered: false, owner: false, rttMs: null, path: [] };

test("each reply says its path and RTT; losses and unowned addresses say what happened", () => {
  assert.equal(formatPingReply(1, relayed), "reply from h7 (10.88.0.7) via h3 -> h7: 1.8 ms");
  assert.equal(formatPingReply(2, direct), "reply from h7 (10.88.0.7) direct: 0.90 ms");
  assert.equal(formatPingReply(3, { ...direct, rttMs: 12.34 }), "reply from h7 (10.88.0.7) direct: 12.3 ms");
  assert.equal(formatPingReply(4, lost), "no reply from h7 (10.88.0.7) (seq 4): timed out");
  assert.equal(
    formatPingReply(5, { ...relayed, ip: "10.88.0.99", name: null, owner: false, path: [h1, h3] }),
    "no node owns 10.88.0.99 (seq 5); the closest node, h3 (10.88.0.3), answered",
  );
});

test("pings run count times, or until a direct reply with --until-direct, and sum up", async () => {
  const sleeps: number[] = [];
  const sequence = [lost, relayed, relayed, direct, direct];
  const seen: number[] = [];
  const plan = { count: 5, untilDirect: true, intervalMs: 200 };
  const report = await runPings(
    "h7",
    plan,
    async () => sequence.shift()!,
    (seq) => seen.push(seq),
    async (ms) => {
      sleeps.push(ms);
    },
  );
  assert.deepEqual(seen, [1, 2, 3, 4], "stopped at the first direct reply");
  assert.deepEqual(sleeps, [200, 200, 200]);
  assert.deepEqual(report, {
    version: 1,
    target: "h7",
    ip: "10.88.0.7",
    name: "h7",
    sent: 4,
    received: 3,
    direct: true,
    rttMs: { min: 0.9, avg: 1.5, max: 1.8 },
    replies: [
      { seq: 1, answered: false, owner: false, direct: false, rttMs: null, path: [] },
      { seq: 2, answered: true, owner: true, direct: false, rttMs: 1.8, path: [h1, h3, h7] },
      { seq: 3, answered: true, owner: true, direct: false, rttMs: 1.8, path: [h1, h3, h7] },
      { seq: 4, answered: true, owner: true, direct: true, rttMs: 0.9, path: [h1, h7] },
    ],
  });
  assert.ok(pingSucceeded(report, true));
  assert.equal(
    formatPingSummary(report, true),
    "--- h7 (10.88.0.7): 4 sent, 3 received, 25% lost, rtt min/avg/max 0.90/1.5/1.8 ms, direct link",
  );

  const never = await runPings(
    "h7",
    { ...plan, count: 3 },
    async () => relayed,
    () => {},
    async () => {},
  );
  assert.equal(never.sent, 3);
  assert.ok(!pingSucceeded(never, true) && pingSucceeded(never, false));
  assert.match(formatPingSummary(never, true), /through other nodes\nno direct link after 3 pings$/);

  const silent = await runPings(
    "10.88.0.9",
    { count: 2, untilDirect: false, intervalMs: 1 },
    async () => ({ ...lost, ip: "10.88.0.9", name: null }),
    () => {},
    async () => {},
  );
  assert.ok(!pingSucceeded(silent, false));
  assert.equal(silent.rttMs, null);
  assert.equal(formatPingSummary(silent, false), "--- 10.88.0.9: 2 sent, 0 received, 100% lost");
});
