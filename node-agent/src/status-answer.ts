import {
  type Certificate,
  formatCertificateTime,
  type LinkStatus,
  type StatusPeerRow,
  type StatusReport,
} from "@ipop/shared";
import type { LinkTransportStats } from "./link/peer-link.js";
import { pairType, relayReason } from "./peer-path.js";
import type { AgentStatus, PeerStatus } from "./status.js";
import type { TunDevice } from "./tun/tun-device.js";

/**
 * The agent's answer to a remote status request (the console's view of another node): its status
 * as `ipop status --json` shows it, in the shared report shape. Links still connecting are left out.
 */
export function statusReportOf(status: AgentStatus, wallMs: number): StatusReport {
  const peers = status.peers
    .filter((p) => p.state === "up")
    .map(
      (p): StatusPeerRow => ({
        nodeId: p.id,
        name: p.name,
        ip: p.ip,
        kinds: p.kinds,
        path: p.candidateType ?? "unknown",
        ...(p.rttMs === null ? {} : { rttMs: p.rttMs }),
        bytesIn: p.rx.bytes,
        bytesOut: p.tx.bytes,
        packetsIn: p.rx.packets,
        packetsOut: p.tx.packets,
        drops: Object.values(p.drops).reduce((sum, n) => sum + n, 0),
        upSinceMs: Math.round(wallMs - (p.upForMs ?? 0)),
      }),
    );
  return {
    nodeId: status.node.id,
    name: status.node.name,
    ip: status.node.ip,
    role: "agent",
    peers,
    counters: { ...status.drops, ...status.multicast, ...status.adjusted },
    atMs: Math.round(wallMs),
  };
}

/** One row of `ipop status`: the core's view of a link, the transport's facts and the host's drops. */
export function peerStatusOf(
  l: LinkStatus,
  transport: LinkTransportStats | undefined,
  drops: Record<string, number>,
): PeerStatus {
  return {
    id: l.peer.nodeId,
    name: l.peer.name,
    ip: l.peer.ip,
    state: l.state === "up" ? "up" : "connecting",
    role: l.role,
    kinds: l.kinds,
    remoteKinds: l.remoteKinds,
    candidateType: pairType(transport),
    pathReason: relayReason(transport),
    remoteAddress: transport?.remoteAddress ?? null,
    rttMs: l.rttMs === null ? null : Math.round(l.rttMs * 1000) / 1000,
    upForMs: l.upForMs === null ? null : Math.round(l.upForMs),
    tx: l.tx,
    rx: l.rx,
    drops,
    ...(transport?.ipTrack === undefined ? {} : { ipTrack: transport.ipTrack }),
  };
}

/**
 * Adds the packets the TUN device took but the kernel refused when the batch was written (its queue
 * was full) to `tun-write`, where refusals at `write` itself are counted.
 */
export function withTunDrops(drops: Record<string, number>, tun: TunDevice): Record<string, number> {
  if (tun.writeDrops > 0) drops["tun-write"] = (drops["tun-write"] ?? 0) + tun.writeDrops;
  return drops;
}

/** The `identity` part of `ipop status`: the node's certificate, its CA and the revocation list held. */
export function identityStatusOf(
  cert: Certificate,
  ca: Certificate,
  revocationSerial: number,
): AgentStatus["identity"] {
  return {
    keyId: cert.nodeId,
    notAfter: formatCertificateTime(cert.notAfter),
    groups: cert.groups,
    ca: { name: ca.name, keyId: ca.nodeId },
    revocationSerial: revocationSerial < 0 ? null : revocationSerial,
  };
}
