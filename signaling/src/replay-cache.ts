/**
 * Join proofs already seen, so a proof copied off the wire cannot be replayed while it is still
 * fresh (a replay would replace the real node's connection). Entries are kept until the proof would
 * be stale anyway; the cache is bounded, dropping the oldest entries first, so a flood of joins
 * costs memory only up to `capacity`. (Evicting early only matters to a replay of a proof among the
 * `capacity` most recent joins within the skew window.)
 */
export class ReplayCache {
  /** Signature -> time (ms) after which the proof is stale and need not be remembered. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /**
   * Records `key` until `expiresAt`; returns false when it was already recorded and has not expired
   * (a replay).
   */
  remember(key: string, expiresAt: number, nowMs: number): boolean {
    const known = this.seen.get(key);
    if (known !== undefined && known > nowMs) return false;
    this.seen.delete(key);
    this.seen.set(key, expiresAt);
    if (this.seen.size > this.capacity) {
      // Maps iterate in insertion order: the first key is the oldest, the first to go stale.
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
