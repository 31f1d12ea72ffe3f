/**
 * The JSON printed by `ipop status --json` (version 1), as the lab reads it. Parsing checks the shape,
 * so a drift in the agent's output fails loudly here instead of as a confusing timeout later.
 */

import type { AgentStatus } from "@ipop/agent";
import { LabError } from "../errors.js";

export type { AgentStatus, PeerStatus } from "@ipop/agent";

type Json = Record<string, unknown>;

/**
 * Parses and checks the output of `ipop status --json`.
 * @throws LabError AGENT_STATUS_FAILED naming the first field that does not match the contract
 */
export function parseAgentStatus(text: string): AgentStatus {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(`is not JSON: ${text.slice(0, 200)}`);
  }
  const root = obj(value, "status");
  if (root.version !== 1) throw bad(`has version ${String(root.version)}, expected 1`);
  const node = obj(root.node, "node");
  for (const k of ["id", "name", "ip", "network", "dev", "webrtc"]) str(node[k], `node.${k}`);
  num(node.prefix, "node.prefix");
  num(node.mtu, "node.mtu");
  num(node.uptimeMs, "node.uptimeMs");
  const identity = obj(root.identity, "identity");
  str(identity.keyId, "identity.keyId");
  str(identity.notAfter, "identity.notAfter");
  const sig = obj(root.signaling, "signaling");
  str(sig.url, "signaling.url");
  oneOf(sig.state, ["connected", "connecting", "disconnected"], "signaling.state");
  num(sig.reconnects, "signaling.reconnects");
  num(sig.members, "signaling.members");
  const overlay = obj(root.overlay, "overlay");
  str(overlay.ring, "overlay.ring");
  num(overlay.known, "overlay.known");
  num(overlay.sizeEstimate, "overlay.sizeEstimate");
  if (!Array.isArray(root.peers)) throw bad("peers is not an array");
  for (const [i, p] of root.peers.entries()) checkPeer(p, `peers[${i}]`);
  obj(root.drops, "drops");
  if (root.relayed !== undefined) {
    if (!Array.isArray(root.relayed)) throw bad("relayed is not an array");
    for (const [i, r] of root.relayed.entries()) checkRelayed(r, `relayed[${i}]`);
  }
  return root as unknown as AgentStatus;
}

function checkPeer(value: unknown, at: string): void {
  const p = obj(value, at);
  for (const k of ["id", "name", "ip", "role"]) str(p[k], `${at}.${k}`);
  oneOf(p.state, ["connecting", "up"], `${at}.state`);
  oneOf(p.role, ["offerer", "answerer"], `${at}.role`);
  for (const side of ["kinds", "remoteKinds"]) {
    const kinds = p[side];
    if (!Array.isArray(kinds)) throw bad(`field ${at}.${side} is not an array`);
    for (const [i, kind] of kinds.entries()) {
      oneOf(kind, ["bootstrap", "near", "shortcut", "on-demand", "relay"], `${at}.${side}[${i}]`);
    }
  }
  oneOf(p.candidateType, ["host", "srflx", "prflx", "relay", null], `${at}.candidateType`);
  if (p.pathReason !== null) str(p.pathReason, `${at}.pathReason`);
  if (p.remoteAddress !== null) str(p.remoteAddress, `${at}.remoteAddress`);
  if (p.rttMs !== null) num(p.rttMs, `${at}.rttMs`);
  if (p.upForMs !== null) num(p.upForMs, `${at}.upForMs`);
  for (const dir of ["tx", "rx"]) {
    const c = obj(p[dir], `${at}.${dir}`);
    num(c.bytes, `${at}.${dir}.bytes`);
    num(c.packets, `${at}.${dir}.packets`);
  }
  obj(p.drops, `${at}.drops`);
}

function checkRelayed(value: unknown, at: string): void {
  const r = obj(value, at);
  for (const k of ["id", "name", "ip"]) str(r[k], `${at}.${k}`);
  oneOf(r.state, ["asking", "hello", "up"], `${at}.state`);
  if (r.via !== null) for (const k of ["id", "name", "ip"]) str(obj(r.via, `${at}.via`)[k], `${at}.via.${k}`);
  if (r.rttMs !== null) num(r.rttMs, `${at}.rttMs`);
}

function bad(what: string): LabError {
  return new LabError("AGENT_STATUS_FAILED", `ipop status --json output ${what}`);
}
function obj(v: unknown, at: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(`field ${at} is not an object`);
  return v as Json;
}
function str(v: unknown, at: string): void {
  if (typeof v !== "string") throw bad(`field ${at} is not a string`);
}
function num(v: unknown, at: string): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`field ${at} is not a number`);
}
function oneOf(v: unknown, allowed: readonly unknown[], at: string): void {
  if (!allowed.includes(v)) throw bad(`field ${at} is ${JSON.stringify(v)}, not one of ${JSON.stringify(allowed)}`);
}

/**
 * The address part of a status `remoteAddress` ("172.31.250.2:5000", "[fe80::1%eth0]:5000", "172.31.250.2"),
 * without port, brackets or IPv6 zone.
 */
export function addressHost(remote: string): string {
  let host = remote;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(remote);
  if (bracket) host = bracket[1]!;
  else if (/^[^:]+:\d+$/.test(remote)) host = remote.slice(0, remote.lastIndexOf(":"));
  return host.replace(/%.*$/, "").toLowerCase();
}
