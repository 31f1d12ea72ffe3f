import assert from "node:assert/strict";
import { test } from "vitest";
import { linkUpBefore, linkUpEntries } from "./ipop-log.js";

const up = (time: number, ip: string, setupMs: number, linkId: number) =>
  JSON.stringify({ level: 30, time, peer: { nodeId: "n", name: "h", ip }, linkId, setupMs, msg: "link up" });

// What h1 logged after h2 restarted: a first link replaced at once, the carrying one 20 s later.
const LINES = [
  "not json, e.g. a native library's warning about link up",
  up(1000, "10.88.0.2", 1005, 1),
  JSON.stringify({ level: 30, time: 1006, msg: "link down", peer: { ip: "10.88.0.2" } }),
  up(1500, "10.88.0.3", 7, 2),
  up(21000, "10.88.0.2", 15, 3),
  '{"msg":"link up","time":"yesterday","peer":{"ip":"10.88.0.2"}}',
];

test("only well-formed link up lines count", () => {
  assert.deepEqual(
    linkUpEntries(LINES).map((e) => [e.time, e.peerIp, e.setupMs]),
    [
      [1000, "10.88.0.2", 1005],
      [1500, "10.88.0.3", 7],
      [21000, "10.88.0.2", 15],
    ],
  );
});

test("the link up when the first reply came is the last one before it, not the first", () => {
  assert.equal(linkUpBefore(LINES, "10.88.0.2", 0, 21_010)?.setupMs, 15);
  assert.equal(linkUpBefore(LINES, "10.88.0.2", 0, 5_000)?.time, 1000);
  assert.equal(linkUpBefore(LINES, "10.88.0.2", 1001, 5_000), undefined);
});
