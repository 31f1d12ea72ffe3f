import { type LinkKind, parseIpv4Address, type RelayStatus } from "@ipop/shared";
import type { CandidateType, IpTrackStats, WebRtcBackendName } from "./link/peer-link.js";
import type { SignalingState } from "./signaling-client.js";

/**
 * The answer to `ipop status --json`. Stable: fields are only ever added, and `version` changes if
 * one ever has to change meaning. Counters count since the agent started (per peer: since the link
 * came up).
 */
export interface AgentStatus {
  readonly version: 1;
  readonly node: {
    readonly id: string;
    readonly name: string;
    /** Virtual address, dotted quad. */
    readonly ip: string;
    readonly prefix: number;
    readonly network: string;
    /** TUN device name. */
    readonly dev: string;
    readonly mtu: number;
    readonly webrtc: WebRtcBackendName;
    readonly uptimeMs: number;
  };
  /** Who this node is to its peers: its certificate and the network's revocation list. */
  readonly identity: {
    /** The certificate's key id (32 hex digits); `node.id` is this, a dash and a per-run suffix. */
    readonly keyId: string;
    /** When the certificate expires, ISO 8601. */
    readonly notAfter: string;
    readonly groups: readonly string[];
    /** The CA: its name and key id. */
    readonly ca: { readonly name: string; readonly keyId: string };
    /** Serial of the revocation list held, or null when none was received. */
    readonly revocationSerial: number | null;
  };
  readonly signaling: {
    readonly url: string;
    readonly state: SignalingState;
    /** Connection attempts after the first. */
    readonly reconnects: number;
    /** Members the server currently lists besides this node. */
    readonly members: number;
  };
  readonly overlay: {
    /** This node's ring address (48 bits, hex), hashed from network and virtual IP. */
    readonly ring: string;
    /** Nodes known as link candidates. */
    readonly known: number;
    /** Network size as estimated from the spacing of ring neighbours. */
    readonly sizeEstimate: number;
  };
  readonly peers: readonly PeerStatus[];
  /** Packets and messages dropped by this node, by reason (see docs/status.md). */
  readonly drops: Record<string, number>;
  /**
   * Packets this node changed to fit the overlay MTU, by what it did (see docs/status.md). Absent
   * in the status of agents older than MTU handling.
   */
  readonly adjusted?: Record<string, number>;
  /** Broadcast and multicast floods: `sent`, `delivered`, `forwarded`. Absent from older agents. */
  readonly multicast?: Record<string, number>;
  /**
   * The TUN device's offloads and its counters (super-packets read and cut, segments merged into
   * super-packets on write); absent for a device without them and from older agents.
   */
  readonly tun?: {
    readonly offloads: Readonly<Record<string, boolean>>;
    readonly counters: Readonly<Record<string, number>>;
  };
  /**
   * Ring neighbours reached through another node because no direct link comes up (overlay relays,
   * docs/relays.md). Absent from older agents.
   */
  readonly relayed?: readonly RelayedPeerStatus[];
}

/** A peer reached through a relay: who, through whom, and how the path is doing. */
export interface RelayedPeerStatus {
  readonly id: string;
  readonly name: string;
  readonly ip: string;
  /** The node in the middle; null while one is being looked for. */
  readonly via: { readonly id: string; readonly name: string; readonly ip: string } | null;
  /** `asking` (looking for a relay), `hello` (handshake under way) or `up`. */
  readonly state: "asking" | "hello" | "up";
  /** Round trip of the sealed keepalive over the relay, in milliseconds; null until measured. */
  readonly rttMs: number | null;
  readonly upForMs: number | null;
  readonly tx: { readonly bytes: number; readonly packets: number };
  readonly rx: { readonly bytes: number; readonly packets: number };
}

/** The core's relayed paths as `ipop status` shows them; with `only`, the path to that address alone. */
export function relayedPeers(relays: readonly RelayStatus[], only?: string): RelayedPeerStatus[] {
  return relays
    .filter((r) => only === undefined || r.peer.ip === only)
    .map((r) => ({
      id: r.peer.nodeId,
      name: r.peer.name,
      ip: r.peer.ip,
      via: r.via === null ? null : { id: r.via.nodeId, name: r.via.name, ip: r.via.ip },
      state: r.state,
      rttMs: r.rttMs === null ? null : Math.round(r.rttMs * 1000) / 1000,
      upForMs: r.upForMs === null ? null : Math.round(r.upForMs),
      tx: r.tx,
      rx: r.rx,
    }))
    .sort((a, b) => compareIp(a.ip, b.ip));
}

/** Orders dotted-quad addresses numerically. */
export function compareIp(a: string, b: string): number {
  return (parseIpv4Address(a) ?? 0) - (parseIpv4Address(b) ?? 0);
}

export interface PeerStatus {
  readonly id: string;
  readonly name: string;
  readonly ip: string;
  /** `connecting` while WebRTC sets up, `up` when both channels are open. */
  readonly state: "connecting" | "up";
  /** Who offered: this node (`offerer`) or the peer (`answerer`). */
  readonly role: "offerer" | "answerer";
  /** Why this node keeps the link: `near` (ring neighbour), `shortcut`, `on-demand`, `bootstrap`. */
  readonly kinds: readonly LinkKind[];
  /** Why the peer keeps it. A link neither side needs is closed. */
  readonly remoteKinds: readonly LinkKind[];
  /** How the selected ICE candidate pair reaches the peer; null until known. */
  readonly candidateType: CandidateType | null;
  /**
   * Why the path is relayed, when `candidateType` is `relay`: "TURN only", "no UDP path" or "hole
   * punching failed (symmetric NAT)" (docs/nat.md); null otherwise.
   */
  readonly pathReason: string | null;
  readonly remoteAddress: string | null;
  /** Round trip of the overlay keepalive on this link, in milliseconds; null until measured. */
  readonly rttMs: number | null;
  readonly upForMs: number | null;
  readonly tx: { readonly bytes: number; readonly packets: number };
  readonly rx: { readonly bytes: number; readonly packets: number };
  readonly drops: Record<string, number>;
  /**
   * The link's IP track (ndc agents on both ends; ndc-ip-track.ts): whether data frames go on it
   * now, what it carried, its drops. Absent when the link has none (the data channel carries all).
   */
  readonly ipTrack?: IpTrackStats;
}

/**
 * Human-readable status, as `ipop status` prints it; `target` is the node the user asked about
 * (`ipop status h7`), whose link alone the agent listed.
 */
export function formatStatus(s: AgentStatus, target?: string): string {
  const lines = [
    `${s.node.name} ${s.node.ip}/${s.node.prefix} on ${s.node.dev} (mtu ${s.node.mtu}), network ${s.node.network}, node ${s.node.id}`,
    `ring ${s.overlay.ring}; ${s.peers.length} links, ${s.overlay.known} nodes known, about ${s.overlay.sizeEstimate} in the network`,
    `certificate ${s.identity.keyId} from CA ${s.identity.ca.name}, expires ${s.identity.notAfter}; revocation list ${s.identity.revocationSerial ?? "none"}`,
    `webrtc ${s.node.webrtc}; signaling ${s.signaling.url}: ${s.signaling.state} (${s.signaling.members} other members, ${s.signaling.reconnects} reconnects); up ${formatUptime(s.node.uptimeMs)}`,
  ];
  if (s.peers.length === 0) lines.push(target === undefined ? "no peers" : `no link to ${target}`);
  else {
    const rows = s.peers.map((p) => [
      p.name,
      p.ip,
      p.state,
      formatKinds(p.kinds, p.remoteKinds),
      (p.pathReason === null ? (p.candidateType ?? "-") : `${p.candidateType} (${p.pathReason})`) +
        (p.ipTrack?.carrying === true ? ", track" : ""),
      p.rttMs === null ? "-" : `${p.rttMs.toFixed(1)} ms`,
      `${formatBytes(p.tx.bytes)}/${p.tx.packets}`,
      `${formatBytes(p.rx.bytes)}/${p.rx.packets}`,
      formatDrops(p.drops),
    ]);
    lines.push(
      ...table(["PEER", "IP", "STATE", "KIND", "PATH", "RTT", "TX BYTES/PKTS", "RX BYTES/PKTS", "DROPS"], rows),
    );
  }
  const relayed = s.relayed ?? [];
  if (relayed.length > 0) {
    const rows = relayed.map((r) => [
      r.name,
      r.ip,
      r.state,
      r.via === null ? "-" : `via ${r.via.name} ${r.via.ip}`,
      r.rttMs === null ? "-" : `${r.rttMs.toFixed(1)} ms`,
      `${formatBytes(r.tx.bytes)}/${r.tx.packets}`,
      `${formatBytes(r.rx.bytes)}/${r.rx.packets}`,
    ]);
    lines.push("relayed (no direct link):");
    lines.push(...table(["PEER", "IP", "STATE", "PATH", "RTT", "TX BYTES/PKTS", "RX BYTES/PKTS"], rows));
  }
  lines.push(`drops: ${formatDrops(s.drops)}`);
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

/** Our reasons, then the peer's in parentheses when they differ: `near`, `-(shortcut)`. */
function formatKinds(local: readonly LinkKind[], remote: readonly LinkKind[]): string {
  const mine = local.length > 0 ? local.join(",") : "-";
  const theirs = remote.filter((k) => !local.includes(k));
  return theirs.length > 0 ? `${mine}(${theirs.join(",")})` : mine;
}

function formatDrops(drops: Record<string, number>): string {
  const entries = Object.entries(drops);
  return entries.length === 0 ? "none" : entries.map(([reason, n]) => `${reason}=${n}`).join(" ");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}K`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}M`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)}G`;
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** The overlay path towards an address, as `ipop route` shows it. */
export interface RouteResult {
  readonly ip: string;
  /** Nodes the trace passed, starting with this one. */
  readonly path: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
  /** The last node owns the address; false when nobody does. */
  readonly owner: boolean;
  /** False when the trace did not come back in time. */
  readonly complete: boolean;
}

/** `ipop route` output: the hops, or why there is no path. */
export function formatRoute(r: RouteResult): string {
  if (!r.complete) return `no answer tracing ${r.ip}: the overlay may still be forming; try again`;
  const hops = r.path.map((m) => `${m.name} (${m.ip})`).join(" -> ");
  if (!r.owner) return `no node owns ${r.ip}; the trace ended at the closest node: ${hops}`;
  const n = r.path.length - 1;
  return `${r.ip}: ${n} ${n === 1 ? "hop" : "hops"}: ${hops}`;
}
