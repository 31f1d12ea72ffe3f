import type { LinkTransportStats } from "@ipop/agent/link";
import type { LinkStatus, StatusPathKind, StatusPeerRow } from "@ipop/shared";

/** One row of the page's peer table (and of its status report) for a link of its core. */
export function peerRowOf(link: LinkStatus, path: StatusPathKind, wallMs: number): StatusPeerRow {
  return {
    nodeId: link.peer.nodeId,
    name: link.peer.name,
    ip: link.peer.ip,
    kinds: link.kinds,
    path,
    ...(link.rttMs === null ? {} : { rttMs: Math.round(link.rttMs * 1000) / 1000 }),
    bytesIn: link.rx.bytes,
    bytesOut: link.tx.bytes,
    packetsIn: link.rx.packets,
    packetsOut: link.tx.packets,
    drops: Object.values(link.drops).reduce((sum, n) => sum + n, 0),
    upSinceMs: Math.round(wallMs - (link.upForMs ?? 0)),
  };
}

/** One word for the selected pair: relayed if either end relays, reflexive if either is, else host. */
export function pathKind(stats: LinkTransportStats | undefined): StatusPathKind {
  const types = [stats?.localCandidateType, stats?.remoteCandidateType];
  for (const kind of ["relay", "srflx", "prflx"] as const) if (types.includes(kind)) return kind;
  return types[0] === undefined && types[1] === undefined ? "unknown" : "host";
}
