/**
 * The console's API: what the page's UI calls, and what scripts call as `window.ipop`.
 *
 * The UI (src/ui/) sees the overlay only through this interface; the peer (src/peer/) implements it
 * over the shared core, the browser's RTCPeerConnection and WebSocket. Every method that can fail
 * rejects with a {@link ConsoleError} whose `code` the UI maps to a message and whose `message` a
 * person can act on ("10.88.0.9: host unreachable (ICMP from 10.88.0.1)").
 */

/** How to join: a network, a join token, and the signaling server (defaults to the page's origin). */
export interface JoinRequest {
  readonly network: string;
  readonly token: string;
  /** ws:// or wss:// URL; when absent, the server that served the page. */
  readonly signalUrl?: string;
}

/** Who this page is in the overlay once joined. */
export interface SelfInfo {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  readonly network: string;
  /** The certificate's groups; `ops` lets this page read other nodes' status. */
  readonly groups: readonly string[];
  /** Certificate expiry, ms since the epoch. */
  readonly notAfterMs: number;
}

export type ConnectionState = "idle" | "joining" | "joined" | "reconnecting" | "left" | "failed";

/** How a link's packets travel, from the selected ICE candidate pair (the remote side's type). */
export type PathKind = "host" | "srflx" | "prflx" | "relay" | "unknown";

/** One row of a node's peer table. */
export interface PeerRow {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  /** Why the link is kept: bootstrap, near, shortcut, on-demand. */
  readonly kinds: readonly string[];
  readonly path: PathKind;
  /** Last measured round trip over the link, ms; undefined before the first measurement. */
  readonly rttMs?: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly drops: number;
  /** Link up since, ms since the epoch. */
  readonly upSinceMs: number;
}

/** A node's status as it reports it: its own view (local) or answered over the overlay (remote). */
export interface NodeReport {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  /** "agent" or "console". */
  readonly role: string;
  readonly peers: readonly PeerRow[];
  /** Named counters (drops by reason, packets, frames...). */
  readonly counters: Readonly<Record<string, number>>;
  /** When the node produced the report, ms since the epoch (its clock). */
  readonly atMs: number;
}

export interface PingOptions {
  readonly count?: number; // default 4, at most 1000
  readonly size?: number; // ICMP payload bytes, default 56, at most 1400
  readonly intervalMs?: number; // default 1000, at least 10
  readonly timeoutMs?: number; // per probe, default 2000
  /** Called for every probe's outcome as it happens (the UI's live view). */
  readonly onProbe?: (probe: PingProbe) => void;
  /** Stops the action early (the UI's Cancel); it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface PingReply {
  readonly seq: number;
  readonly rttMs: number;
  readonly ttl: number;
}

export type PingProbe =
  | ({ readonly outcome: "reply" } & PingReply)
  | { readonly outcome: "timeout"; readonly seq: number }
  | { readonly outcome: "unreachable"; readonly seq: number; readonly from: string; readonly detail: string };

export interface UdpProbeOptions {
  readonly payload?: Uint8Array | string;
  readonly timeoutMs?: number; // default 2000
  /** Stops the probe early; it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A UDP probe's answer: a reply datagram, an ICMP error from the target or a router, or nothing. */
export type UdpProbeResult =
  | { readonly outcome: "reply"; readonly rttMs: number; readonly bytes: number }
  | { readonly outcome: "port-unreachable"; readonly rttMs: number; readonly from: string }
  | { readonly outcome: "unreachable"; readonly rttMs: number; readonly from: string; readonly detail: string }
  | { readonly outcome: "timeout" };

export interface TraceHop {
  readonly hop: number;
  readonly name: string;
  readonly ip: string;
  /** Round trip from this page to the hop, ms. */
  readonly rttMs: number;
}

export interface TracerouteOptions {
  readonly timeoutMs?: number;
  /** Stops the trace early; it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface ThroughputOptions {
  readonly seconds?: number; // default 5, at most 30
  /** Stops the test early; it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface ThroughputResult {
  readonly seconds: number;
  readonly bytesSent: number;
  /** Bytes the target's sink confirmed it received. */
  readonly bytesReceived: number;
  readonly mbitPerSec: number;
  /** Mean round trip during the test, ms. */
  readonly rttMs: number;
}

/** What the UI listens to: connection state, links coming and going, and log lines. */
export type ConsoleEvent =
  | { readonly kind: "state"; readonly state: ConnectionState; readonly message: string }
  | { readonly kind: "link-up"; readonly peer: PeerRow }
  | { readonly kind: "link-down"; readonly nodeId: string; readonly name: string; readonly reason: string }
  | { readonly kind: "log"; readonly level: "info" | "warn" | "error"; readonly message: string };

export type ConsoleErrorCode =
  | "bad-input" // malformed IP, port, count, network name...
  | "not-joined"
  | "unknown-network"
  | "token-refused" // refused, expired, or already used
  | "signaling-down"
  | "unreachable" // no route, or ICMP unreachable
  | "timeout"
  | "refused"; // a status request the target refused (no operator group)

export class ConsoleError extends Error {
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ConsoleError";
  }
}

/** `window.ipop`. */
export interface ConsoleApi {
  join(request: JoinRequest): Promise<SelfInfo>;
  leave(): Promise<void>;
  self(): SelfInfo | undefined;
  state(): ConnectionState;
  /** Members this page knows (from signaling and the overlay), itself included. */
  members(): readonly { readonly nodeId: string; readonly name: string; readonly ip: string }[];
  /** This page's own peer table. */
  peers(): readonly PeerRow[];
  /** This page's report, or (with an IP) a remote node's, asked over the overlay. */
  status(ip?: string): Promise<NodeReport>;
  ping(ip: string, options?: PingOptions): Promise<PingReply[]>;
  udpProbe(ip: string, port: number, options?: UdpProbeOptions): Promise<UdpProbeResult>;
  traceroute(ip: string, options?: TracerouteOptions): Promise<TraceHop[]>;
  throughput(ip: string, options?: ThroughputOptions): Promise<ThroughputResult>;
  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: ConsoleEvent) => void): () => void;
}

declare global {
  interface Window {
    ipop: ConsoleApi;
  }
}
