import type { LinkRole } from "./actions.js";
import { Counters } from "./counters.js";
import type { LinkEnvelope } from "./link-envelope.js";
import type { Sender } from "./node-trust.js";
import type { LinkKind } from "./overlay-message.js";
import type { MemberInfo } from "./signaling-protocol.js";

export type LinkState = "connecting" | "up" | "closed";
/** How a link's setup envelopes travel: through the signaling server, or routed over the overlay. */
export type LinkVia = "signaling" | "overlay";

/** Traffic counters of one direction of a link. */
export interface TrafficCounters {
  bytes: number;
  packets: number;
}

/** An `open` that lost a simultaneous-open race to our own attempt, kept in case ours fails. */
export interface DeferredOpen {
  /** Its checked sender: the seal is not checked twice (a second look would count as a replay). */
  readonly sender: Sender;
  readonly envelope: LinkEnvelope & { readonly kind: "open" };
  readonly via: LinkVia;
  readonly at: number;
}

/** The core's view of one link to one peer. */
export class LinkRecord {
  state: LinkState = "connecting";
  upAt: number | null = null;
  lastReceiveAt: number;
  /** Last time a packet travelled on this link either way: on-demand links are trimmed when idle. */
  lastDataAt: number;
  nextKeepaliveAt = 0;
  pingSeq = 0;
  rttMs: number | null = null;
  /** True once the offerer's first envelope (`open`) went out; later ones are `signal`. */
  openSent = false;
  /** Why this node keeps the link. */
  readonly kinds = new Set<LinkKind>();
  /** Why the peer keeps it, as it last told us. */
  remoteKinds: readonly LinkKind[] = [];
  /** The kinds last sent to the peer, to send only changes. */
  kindsSent = "";
  /** Since when neither side has needed the link; null while needed. */
  unneededSince: number | null = null;
  deferredOpen: DeferredOpen | null = null;
  /** When the peer's certificate expires (wall-clock ms): the link closes then unless it is renewed. */
  peerCertExpiresAt = Number.POSITIVE_INFINITY;
  readonly tx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly rx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly drops = new Counters();

  constructor(
    readonly id: number,
    readonly peer: MemberInfo,
    /** Peer's virtual address as a number, for the anti-spoofing check on every packet. */
    readonly peerAddress: number,
    /** Peer's ring address. */
    readonly ring: number,
    readonly role: LinkRole,
    readonly session: string,
    readonly via: LinkVia,
    readonly createdAt: number,
  ) {
    this.lastReceiveAt = createdAt;
    this.lastDataAt = createdAt;
  }
}

/** A link as `OverlayNode.status()` reports it. */
export interface LinkStatus {
  readonly linkId: number;
  readonly peer: MemberInfo;
  readonly state: LinkState;
  readonly role: LinkRole;
  /** Why this node keeps the link (near, shortcut, on-demand, bootstrap). */
  readonly kinds: readonly LinkKind[];
  /** Why the peer keeps it. */
  readonly remoteKinds: readonly LinkKind[];
  readonly upForMs: number | null;
  readonly rttMs: number | null;
  readonly tx: TrafficCounters;
  readonly rx: TrafficCounters;
  readonly drops: Record<string, number>;
}
