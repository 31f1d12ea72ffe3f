import assert from "node:assert/strict";
import { test } from "vitest";
import { parseStatusReport, type StatusReport } from "./status-report.js";

const report: StatusReport = {
  nodeId: "a-1",
  name: "alpha",
  ip: "10.88.0.1",
  role: "agent",
  peers: [
    {
      nodeId: "b-1",
      name: "beta",
      ip: "10.88.0.2",
      kinds: ["near"],
      path: "host",
      rttMs: 0.8,
      bytesIn: 10,
      bytesOut: 20,
      packetsIn: 1,
      packetsOut: 2,
      drops: 0,
      upSinceMs: 1_780_000_000_000,
    },
  ],
  counters: { "no-route": 3 },
  atMs: 1_780_000_000_500,
};

test("a well-formed report parses to itself", () => {
  assert.deepEqual(parseStatusReport(structuredClone(report)), report);
});

test("reports with a wrong field are refused with a reason, never thrown on", () => {
  const broken: unknown[] = [
    null,
    [],
    { ...report, name: "" },
    { ...report, peers: "x" },
    { ...report, peers: [{ ...report.peers[0], path: "carrier-pigeon" }] },
    { ...report, peers: [{ ...report.peers[0], bytesIn: -1 }] },
    { ...report, peers: [{ ...report.peers[0], rttMs: "fast" }] },
    { ...report, counters: { x: Number.NaN } },
    { ...report, peers: Array.from({ length: 129 }, () => report.peers[0]) },
  ];
  for (const value of broken)
    assert.equal(typeof parseStatusReport(value), "string", JSON.stringify(value)?.slice(0, 80));
});
