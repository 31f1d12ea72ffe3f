import assert from "node:assert/strict";
import type { RelayStatus } from "@ipop/shared";
import { test } from "vitest";
import { type AgentStatus, formatStatus, relayedPeers } from "./status.js";

const member = (n: number) => ({ nodeId: `node${n}`, name: `h${n}`, ip: `10.88.0.${n}` });

function relay(n: number, via: number | null, state: RelayStatus["state"] = "up"): RelayStatus {
  return {
    peer: member(n),
    via: via === null ? null : member(via),
    state,
    role: "initiator",
    upForMs: state === "up" ? 1234.6 : null,
    rttMs: state === "up" ? 1.23456 : null,
    tx: { bytes: 2048, packets: 2 },
    rx: { bytes: 100, packets: 1 },
  };
}

const base: AgentStatus = {
  version: 1,
  node: {
    id: "node2",
    name: "h2",
    ip: "10.88.0.2",
    prefix: 16,
    network: "lab",
    dev: "ipop0",
    mtu: 1400,
    webrtc: "ndc",
    uptimeMs: 1,
  },
  identity: {
    keyId: "k",
    notAfter: "2027-01-01T00:00:00Z",
    groups: [],
    ca: { name: "ca", keyId: "c" },
    revocationSerial: null,
  },
  signaling: { url: "ws://x", state: "connected", reconnects: 0, members: 5 },
  overlay: { ring: "000000000001", known: 5, sizeEstimate: 6 },
  peers: [],
  drops: {},
};

test("relayed paths are listed by address, with their relay, and only the asked-for one with a target", () => {
  const rows = relayedPeers([relay(12, 1), relay(3, 1), relay(7, null, "asking")]);
  assert.deepEqual(
    rows.map((r) => [r.name, r.via?.name ?? null, r.state]),
    [
      ["h3", "h1", "up"],
      ["h7", null, "asking"],
      ["h12", "h1", "up"],
    ],
  );
  assert.equal(rows[0]!.rttMs, 1.235);
  assert.equal(rows[0]!.upForMs, 1235);
  assert.deepEqual(
    relayedPeers([relay(12, 1), relay(3, 1)], "10.88.0.12").map((r) => r.name),
    ["h12"],
  );
});

test("ipop status prints relayed neighbours under their own heading, and nothing when there are none", () => {
  const text = formatStatus({ ...base, relayed: relayedPeers([relay(3, 1)]) });
  assert.match(text, /relayed \(no direct link\):/);
  assert.match(text, /h3\s+10\.88\.0\.3\s+up\s+via h1 10\.88\.0\.1\s+1\.2 ms\s+2\.0K\/2\s+100B\/1/);
  assert.doesNotMatch(formatStatus(base), /relayed/);
});
