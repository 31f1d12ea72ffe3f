/**
 * Certificate times are wall-clock seconds since the Unix epoch. The core never reads a clock: the
 * host passes the time in, e.g. `Math.floor(Date.now() / 1000)`.
 */

/** A certificate time as people read it: `2026-11-01T00:00:00Z` (UTC, no milliseconds). */
export function formatCertificateTime(seconds: number): string {
  // Formatting a given instant; this reads no clock.
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

/** Wall-clock milliseconds (as `Date.now()` gives) to certificate seconds, rounded down. */
export function certificateSecondsOf(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}
