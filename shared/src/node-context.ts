import type { ActionQueue } from "./action-queue.js";
import type { Counters } from "./counters.js";
import type { Ipv4Interface } from "./ipv4.js";
import type { LinkTable } from "./link-table.js";
import type { RingAddresses } from "./ring-addresses.js";
import type { MemberInfo } from "./signaling-protocol.js";
import type { Timers } from "./timers.js";
import type { OverlayLimits, Timing } from "./timing.js";

/**
 * What every part of an overlay node shares: who the node is, its settings, and the structures all
 * parts read. Parts push actions, count drops and set their own deadlines; the link table is written
 * only by `LinkLifecycle`.
 */
export interface NodeContext {
  readonly self: MemberInfo;
  readonly network: string;
  /** This node's ring address. */
  readonly ring: number;
  readonly subnet: Ipv4Interface;
  readonly limits: OverlayLimits;
  readonly timing: Timing;
  readonly actions: ActionQueue;
  readonly links: LinkTable;
  readonly drops: Counters;
  readonly rings: RingAddresses;
  readonly timers: Timers;
  /** The wall clock of the event being handled, for certificates and seals. */
  readonly clock: EventClock;
}

/** Set by `OverlayNode` as each event comes in (its `Instant`); parts only read it. */
export class EventClock {
  wallMs = 0;
}
