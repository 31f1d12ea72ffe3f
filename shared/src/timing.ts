/**
 * Timers of the overlay node, in milliseconds.
 *
 * Why these values: a keepalive every 2 s costs ~7 bytes/s per link and, with a link declared dead
 * after 8 s of silence (4 missed keepalives), a crashed peer is noticed in well under 10 s while a
 * congested-but-alive link (keepalives ride the reliable channel behind queued data) is not torn down
 * by a single late pong. WebRTC setup on a LAN takes tens of milliseconds, through STUN/TURN a few
 * seconds; 10 s before giving up covers slow ICE, and bounds how long an offer routed into a link
 * whose peer died (not yet noticed) keeps a near-link slot waiting.
 * Maintenance (near links, shortcuts, trimming) runs every second and gossips neighbour lists every
 * 2 s, so a ring heals within a few seconds of a link failure being noticed.
 */
export interface Timing {
  readonly keepaliveIntervalMs: number;
  readonly linkDeadAfterMs: number;
  readonly linkSetupTimeoutMs: number;
  /** First retry delay after a failed link; doubles per failure up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** How often the node checks its near links, shortcuts and idle links. */
  readonly maintenanceIntervalMs: number;
  /** How often it tells its near neighbours who its near neighbours are. */
  readonly gossipIntervalMs: number;
  /** How long a node heard of only second hand stays a candidate without being heard of again. */
  readonly knownTtlMs: number;
  /** How long a link neither side needs lingers before it is closed (absorbs churn in the near set). */
  readonly unneededGraceMs: number;
  /** How long the first link through the signaling server is kept regardless of ring position. */
  readonly bootstrapHoldMs: number;
  /** An on-demand link without packets for this long loses its on-demand purpose. */
  readonly onDemandIdleMs: number;
  /** A traced route that has not answered by then is reported as incomplete. */
  readonly traceTimeoutMs: number;
  /** An overlay ping (`ipop ping`) without an answer by then is reported as lost. */
  readonly pingTimeoutMs: number;
  /** Pause in the search for shortcuts after a node refused one for having enough. */
  readonly shortcutBackoffMs: number;
}

export const DEFAULT_TIMING: Timing = {
  keepaliveIntervalMs: 2_000,
  linkDeadAfterMs: 8_000,
  linkSetupTimeoutMs: 10_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  maintenanceIntervalMs: 1_000,
  gossipIntervalMs: 2_000,
  knownTtlMs: 60_000,
  unneededGraceMs: 10_000,
  bootstrapHoldMs: 30_000,
  onDemandIdleMs: 60_000,
  traceTimeoutMs: 5_000,
  pingTimeoutMs: 5_000,
  shortcutBackoffMs: 15_000,
};

/**
 * Sizes of the overlay. On-demand: 10 packets within 5 s is a conversation (a TCP handshake plus a
 * few segments, or 2 s of a 5 pps stream), while a single ping per second, DNS lookups or ARP-like
 * chatter never reach it, so links are only built where they pay for their setup cost and keepalives.
 */
export interface OverlayLimits {
  /** Near links kept on each side of the ring. */
  readonly nearPerSide: number;
  /** Links this node opens at most; near links are always allowed, others stop at the cap. */
  readonly maxLinks: number;
  /** On-demand links at most. */
  readonly maxOnDemand: number;
  readonly onDemandPackets: number;
  readonly onDemandWindowMs: number;
  /** Hops a routed frame may take before it is dropped. */
  readonly maxHops: number;
  /**
   * The overlay MTU: the largest IP packet the node sends into the overlay. Larger host packets
   * are fragmented (DF clear) or answered with ICMP fragmentation-needed (DF set), and TCP SYNs in
   * both directions get their MSS clamped to fit. The agent passes its TUN device's MTU.
   */
  readonly mtu: number;
  /**
   * Broadcast and multicast packets (the subnet's broadcast address, 255.255.255.255, 224.0.0.0/4)
   * flood the ring to every member (flood.ts); false drops them as `broadcast` and refuses floods.
   */
  readonly multicast: boolean;
  /** Broadcast or multicast packets per second a node sends or passes on from one source address. */
  readonly multicastPerSecond: number;
}

export const DEFAULT_LIMITS: OverlayLimits = {
  nearPerSide: 2,
  maxLinks: 40,
  maxOnDemand: 8,
  onDemandPackets: 10,
  onDemandWindowMs: 5_000,
  maxHops: 32,
  mtu: 1400,
  multicast: true,
  multicastPerSecond: 50,
};

/** Smallest overlay MTU: the datagram every IPv4 host must accept (RFC 791). */
export const MIN_OVERLAY_MTU = 576;
