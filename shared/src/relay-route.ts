import type { LinkRecord, TrafficCounters } from "./link-record.js";
import type { RelayKeyPair, RelaySession } from "./relay-session.js";
import type { MemberInfo } from "./signaling-protocol.js";

/** A relayed path as the router sees it: a ring neighbour reached through another node. */
export interface RelayHop {
  readonly peer: MemberInfo;
  readonly ring: number;
}

/** A relayed path as `OverlayNode.status()` reports it. */
export interface RelayStatus {
  readonly peer: MemberInfo;
  /** The node in the middle; null while one is being looked for. */
  readonly via: MemberInfo | null;
  readonly state: "asking" | "hello" | "up";
  readonly role: "initiator" | "responder";
  readonly upForMs: number | null;
  readonly rttMs: number | null;
  readonly tx: TrafficCounters;
  readonly rx: TrafficCounters;
}

/** One relayed path to one peer, from the first question for a relay to its end. */
export interface RelayRoute extends RelayHop {
  readonly address: number;
  state: "asking" | "hello" | "up";
  role: "initiator" | "responder";
  via: LinkRecord | undefined;
  session: string;
  keys: RelayKeyPair | undefined;
  crypto: RelaySession | undefined;
  /** When the search for a relay started (the path was wanted, or its relay went away). */
  since: number;
  /** When the current step (asking, hello) started: it is retried after the link setup timeout. */
  stepAt: number;
  upAt: number | null;
  /** Last time this node's ring maintenance wanted the peer as a neighbour. */
  wantedAt: number;
  heardAt: number;
  pingSeq: number;
  pingAt: number;
  rttMs: number | null;
  readonly tx: TrafficCounters;
  readonly rx: TrafficCounters;
}

/** A fresh path to `peer`, still looking for a relay. */
export function newRoute(
  peer: MemberInfo,
  ring: number,
  address: number,
  role: RelayRoute["role"],
  now: number,
): RelayRoute {
  return {
    peer,
    ring,
    address,
    state: "asking",
    role,
    via: undefined,
    session: "",
    keys: undefined,
    crypto: undefined,
    since: now,
    stepAt: now,
    upAt: null,
    wantedAt: now,
    heardAt: now,
    pingSeq: 0,
    pingAt: 0,
    rttMs: null,
    tx: { bytes: 0, packets: 0 },
    rx: { bytes: 0, packets: 0 },
  };
}

/** The status of `route` at `now`. */
export function routeStatus(route: RelayRoute, now: number): RelayStatus {
  return {
    peer: route.peer,
    via: route.via?.peer ?? null,
    state: route.state,
    role: route.role,
    upForMs: route.upAt === null || route.state !== "up" ? null : now - route.upAt,
    rttMs: route.rttMs,
    tx: { ...route.tx },
    rx: { ...route.rx },
  };
}
