import assert from "node:assert/strict";
import { test } from "vitest";
import { type AgentStatus, addressHost, type PeerStatus, parseAgentStatus } from "./status.js";

const peer: PeerStatus = {
  id: "p2",
  name: "h2",
  ip: "10.88.0.2",
  state: "up",
  role: "offerer",
  kinds: ["near"],
  remoteKinds: ["near", "shortcut"],
  candidateType: "host",
  pathReason: null,
  remoteAddress: "172.31.250.2:40000",
  rttMs: 0.8,
  upForMs: 5000,
  tx: { bytes: 100, packets: 1 },
  rx: { bytes: 200, packets: 2 },
  drops: {},
};
const status: AgentStatus = {
  version: 1,
  node: {
    id: "p1",
    name: "h1",
    ip: "10.88.0.1",
    prefix: 16,
    network: "lab",
    dev: "ipop0",
    mtu: 1400,
    webrtc: "ndc",
    uptimeMs: 1000,
  },
  identity: {
    keyId: "9d0c4e1fa2b7c3d85e6f7a8b9c0d1e2f",
    notAfter: "2027-11-25T08:00:00Z",
    groups: [],
    ca: { name: "lab", keyId: "0b5e2f6c1a9d4e7f8c3b2a1d0e9f8c7b" },
    revocationSerial: null,
  },
  signaling: { url: "ws://172.31.250.253:7070", state: "connected", reconnects: 0, members: 1 },
  overlay: { ring: "0123456789ab", known: 1, sizeEstimate: 2 },
  peers: [peer],
  drops: {},
};

test("parseAgentStatus accepts the version 1 contract", () => {
  assert.deepEqual(parseAgentStatus(JSON.stringify(status)), status);
});

test("parseAgentStatus names the field that breaks the contract", () => {
  const broken = { ...status, peers: [{ ...peer, state: "UP" }] };
  assert.throws(() => parseAgentStatus(JSON.stringify(broken)), /peers\[0\]\.state/);
  assert.throws(() => parseAgentStatus("agent not running"), { code: "AGENT_STATUS_FAILED" });
  assert.throws(() => parseAgentStatus(JSON.stringify({ ...status, version: 2 })), /version 2/);
});

test("addressHost strips port, brackets and zone", () => {
  assert.equal(addressHost("172.31.250.2:5000"), "172.31.250.2");
  assert.equal(addressHost("172.31.250.2"), "172.31.250.2");
  assert.equal(addressHost("[fe80::1%eth0]:5000"), "fe80::1");
  assert.equal(addressHost("FE80::1"), "fe80::1");
});
