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

/** A link's setup and liveness. Written only by `LinkLifecycle`. */
export class LinkLife {
  state: LinkState = "connecting";
  upAt: number | null = null;
  nextKeepaliveAt = 0;
  pingSeq = 0;
  /**
   * When the last pong arrived. A link that heard nothing but answers to its own pings is silent
   * otherwise and keeps pinging; one that heard anything else lately needs no ping (`LinkLifecycle`).
   */
  pongAt = Number.NEGATIVE_INFINITY;
  /** When the last ping went out: a busy link still pings now and then to keep its RTT current. */
  pingedAt = Number.NEGATIVE_INFINITY;
  rttMs: number | null = null;
  /** True once the offerer's first envelope (`open`) went out; later ones are `signal`. */
  openSent = false;
  deferredOpen: DeferredOpen | null = null;
  /** When the peer's certificate expires (wall-clock ms): the link closes then unless it is renewed. */
  peerCertExpiresAt = Number.POSITIVE_INFINITY;

  constructor(
    /** What the offerer opened the link for, as its `open` tells the answerer. */
    readonly openedFor: LinkKind,
  ) {}
}

/** What travelled on a link. Written only by `Router`. */
export class LinkTraffic {
  readonly tx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly rx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly drops = new Counters();
  /** Last time any frame arrived: a link silent for too long is dead. */
  lastReceiveAt: number;
  /** Last time a packet travelled on this link either way: on-demand links are trimmed when idle. */
  lastDataAt: number;

  constructor(createdAt: number) {
    this.lastReceiveAt = createdAt;
    this.lastDataAt = createdAt;
  }
}

/** Why each side keeps a link. Written only by `Neighbourhood`. */
export class LinkPurpose {
  /** Why this node keeps the link. */
  readonly kinds = new Set<LinkKind>();
  /** Why the peer keeps it, as it last told us. */
  remoteKinds: readonly LinkKind[] = [];
  /** The kinds last sent to the peer, to send only changes. */
  kindsSent = "";
  /** Since when neither side has needed the link; null while needed. */
  unneededSince: number | null = null;
  /**
   * Ring addresses of the peer's own up links, as its last `neighbours` message listed them: greedy
   * routing looks one hop past this link with them (see `LinkTable.closestTo`).
   */
  peerLinks: readonly number[] = [];
  /** Our own link list as last sent to the peer (ring addresses joined), to send only changes. */
  linksSent = "";
  /** Our near neighbours as last sent to the peer (node ids joined), to send only changes. */
  membersSent = "";
  /** When they were last sent: unchanged lists still go out now and then, before the peer forgets them. */
  membersSentAt = Number.NEGATIVE_INFINITY;
}

/**
 * The core's view of one link to one peer: who is at the other end, plus one state object per part
 * of the node that keeps state about the link. Every part reads all of it; each writes only its own.
 */
export class LinkRecord {
  readonly life: LinkLife;
  readonly traffic: LinkTraffic;
  readonly purpose = new LinkPurpose();

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
    openedFor: LinkKind,
  ) {
    this.life = new LinkLife(openedFor);
    this.traffic = new LinkTraffic(createdAt);
  }

  /** When the peer last showed it is alive: a frame from it, or the link coming up. */
  heardAt(): number {
    const upAt = this.life.upAt;
    return upAt !== null && upAt > this.traffic.lastReceiveAt ? upAt : this.traffic.lastReceiveAt;
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

/** The status of `link` at `now`. */
export function linkStatus(link: LinkRecord, now: number): LinkStatus {
  const { life, traffic, purpose } = link;
  return {
    linkId: link.id,
    peer: link.peer,
    state: life.state,
    role: link.role,
    kinds: [...purpose.kinds].sort(),
    remoteKinds: [...purpose.remoteKinds].sort(),
    upForMs: life.upAt === null ? null : now - life.upAt,
    rttMs: life.rttMs,
    tx: { ...traffic.tx },
    rx: { ...traffic.rx },
    drops: traffic.drops.toJSON(),
  };
}
