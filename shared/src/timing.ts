/**
 * Timers of the overlay node, in milliseconds.
 *
 * Why these values: a keepalive every 2 s costs ~7 bytes/s per link and, with a link declared dead
 * after 8 s of silence (4 missed keepalives), a crashed peer is noticed in well under 10 s while a
 * congested-but-alive link (keepalives ride the reliable channel behind queued data) is not torn down
 * by a single late pong. WebRTC setup on a LAN takes tens of milliseconds, through STUN/TURN a few
 * seconds; 20 s before giving up covers slow ICE without leaving a dead attempt around for long.
 */
export interface Timing {
  readonly keepaliveIntervalMs: number;
  readonly linkDeadAfterMs: number;
  readonly linkSetupTimeoutMs: number;
  /** First retry delay after a failed link; doubles per failure up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export const DEFAULT_TIMING: Timing = {
  keepaliveIntervalMs: 2_000,
  linkDeadAfterMs: 8_000,
  linkSetupTimeoutMs: 20_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
};
