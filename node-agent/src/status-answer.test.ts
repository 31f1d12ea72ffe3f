import assert from "node:assert/strict";
import { parseStatusReport } from "@ipop/shared";
import { test } from "vitest";
import type { AgentStatus } from "./status.js";
import { statusReportOf } from "./status-answer.js";

const status: AgentStatus = {
  version: 1,
  node: {
    id: "a-1",
    name: "h1",
    ip: "10.88.0.1",
    prefix: 16,
    network: "lab",
    dev: "ipop0",
    mtu: 1400,
    webrtc: "ndc",
    uptimeMs: 5000,
  },
  identity: {
    keyId: "k",
    notAfter: "2026-12-01T00:00:00Z",
    groups: [],
    ca: { name: "ca", keyId: "c" },
    revocationSerial: null,
  },
  signaling: { url: "ws://x", state: "connected", reconnects: 0, members: 2 },
  overlay: { ring: "000000000001", known: 2, sizeEstimate: 3 },
  peers: [
    {
      id: "b-1",
      name: "h2",
      ip: "10.88.0.2",
      state: "up",
      role: "offerer",
      kinds: ["near"],
      remoteKinds: ["near"],
      candidateType: "prflx",
      pathReason: null,
      remoteAddress: "172.31.250.4",
      rttMs: 0.7,
      upForMs: 2000,
      tx: { bytes: 100, packets: 2 },
      rx: { bytes: 300, packets: 3 },
      drops: { "send-backpressure": 2, "no-route": 1 },
    },
    {
      id: "c-1",
      name: "h3",
      ip: "10.88.0.3",
      state: "connecting",
      role: "answerer",
      kinds: [],
      remoteKinds: [],
      candidateType: null,
      pathReason: null,
      remoteAddress: null,
      rttMs: null,
      upForMs: null,
      tx: { bytes: 0, packets: 0 },
      rx: { bytes: 0, packets: 0 },
      drops: {},
    },
  ],
  drops: { "tun-write": 1 },
  multicast: { sent: 4 },
};

test("an agent's status report lists its up links with traffic each way and passes the console's checks", () => {
  const report = statusReportOf(status, 1_780_000_010_000);
  assert.deepEqual(parseStatusReport(report), report);
  assert.equal(report.role, "agent");
  assert.deepEqual(report.peers, [
    {
      nodeId: "b-1",
      name: "h2",
      ip: "10.88.0.2",
      kinds: ["near"],
      path: "prflx",
      rttMs: 0.7,
      bytesIn: 300,
      bytesOut: 100,
      packetsIn: 3,
      packetsOut: 2,
      drops: 3,
      upSinceMs: 1_780_000_008_000,
    },
  ]);
  assert.deepEqual(report.counters, { "tun-write": 1, sent: 4 });
});
