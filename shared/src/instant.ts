/**
 * When an event happened, as the host read its clocks for it (once per event or per batch of
 * packets). The core never reads a clock itself: it runs the same on virtual time in tests and the
 * simulator as on real time in the agent and the browser.
 */
export interface Instant {
  /** Monotonic milliseconds (`performance.now()`): timers, RTTs, idle times. */
  readonly mono: number;
  /** Wall-clock milliseconds since the Unix epoch (`Date.now()`): certificate validity and seals. */
  readonly wall: number;
}
