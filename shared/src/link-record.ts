import type { LinkRole } from "./actions.js";
import { Counters } from "./counters.js";
import type { MemberInfo } from "./signaling-protocol.js";

export type LinkState = "connecting" | "up" | "closed";

/** Traffic counters of one direction of a link. */
export interface TrafficCounters {
  bytes: number;
  packets: number;
}

/** The core's view of one link to one peer. */
export class LinkRecord {
  state: LinkState = "connecting";
  upAt: number | null = null;
  lastReceiveAt: number;
  nextKeepaliveAt = 0;
  pingSeq = 0;
  rttMs: number | null = null;
  /** True once the offerer's first envelope (`open`) went out; later ones are `signal`. */
  openSent = false;
  readonly tx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly rx: TrafficCounters = { bytes: 0, packets: 0 };
  readonly drops = new Counters();

  constructor(
    readonly id: number,
    readonly peer: MemberInfo,
    /** Peer's virtual address as a number, for the anti-spoofing check on every packet. */
    readonly peerAddress: number,
    readonly role: LinkRole,
    readonly session: string,
    readonly createdAt: number,
  ) {
    this.lastReceiveAt = createdAt;
  }
}

/** A link as `OverlayNode.status()` reports it. */
export interface LinkStatus {
  readonly linkId: number;
  readonly peer: MemberInfo;
  readonly state: LinkState;
  readonly role: LinkRole;
  readonly upForMs: number | null;
  readonly rttMs: number | null;
  readonly tx: TrafficCounters;
  readonly rx: TrafficCounters;
  readonly drops: Record<string, number>;
}
