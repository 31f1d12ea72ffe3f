import assert from "node:assert/strict";
import { test } from "vitest";
import type { AgentStatus } from "./status.js";
import { formatBytes, renderStatusTable } from "./status-table.js";

test("formatBytes picks a binary unit", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(12_595), "12.3 KiB");
  assert.equal(formatBytes(4 * 1024 * 1024), "4.0 MiB");
});

test("renderStatusTable lines up peers under their host and notes hosts without status", () => {
  const counter = { bytes: 2048, packets: 2 };
  const status: AgentStatus = {
    version: 1,
    node: {
      id: "a",
      name: "h1",
      ip: "10.88.0.1",
      prefix: 16,
      network: "n",
      dev: "ipop0",
      mtu: 1400,
      webrtc: "ndc",
      uptimeMs: 1,
    },
    identity: {
      keyId: "9d0c4e1fa2b7c3d85e6f7a8b9c0d1e2f",
      notAfter: "2027-11-25T08:00:00Z",
      groups: [],
      ca: { name: "lab", keyId: "0b5e2f6c1a9d4e7f8c3b2a1d0e9f8c7b" },
      revocationSerial: null,
    },
    signaling: { url: "ws://x", state: "connected", reconnects: 0, members: 2 },
    overlay: { ring: "00000000abcd", known: 2, sizeEstimate: 3 },
    peers: ["h2", "h3"].map((name, i) => ({
      id: name,
      name,
      ip: `10.88.0.${i + 2}`,
      state: "up" as const,
      role: "offerer" as const,
      kinds: ["near" as const],
      remoteKinds: [],
      candidateType: "host" as const,
      pathReason: null,
      remoteAddress: null,
      rttMs: 0.25,
      upForMs: 1000,
      tx: counter,
      rx: counter,
      drops: {},
    })),
    drops: {},
  };
  const lines = renderStatusTable([
    { host: "h1", status },
    { host: "h2", error: "agent not running" },
  ]).split("\n");
  assert.match(lines[0]!, /^HOST\s+IP\s+SIGNALING\s+PEER\s+PEER IP\s+STATE\s+CAND\s+RTT\s+TX\s+RX$/);
  assert.match(
    lines[1]!,
    /^h1\s+10\.88\.0\.1\s+connected\s+h2\s+10\.88\.0\.2\s+up\s+host\s+0\.3 ms\s+2\.0 KiB\s+2\.0 KiB$/,
  );
  assert.match(lines[2]!, /^\s+h3\s+10\.88\.0\.3/);
  assert.equal(lines[1]!.indexOf("h2"), lines[2]!.indexOf("h3"), "peer column aligned");
  assert.equal(lines.at(-1), "h2: agent not running");
});
