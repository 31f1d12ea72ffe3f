/**
 * A token bucket: holds up to `capacity` tokens, refills `ratePerSecond` tokens per second, and each event
 * takes one. Time is passed in (milliseconds, monotonic) so tests need no clock and no sleeps.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param capacity - tokens when full; also the longest burst allowed.
   * @param ratePerSecond - refill rate, the sustained event rate allowed.
   * @param now - the current time in ms; the bucket starts full.
   */
  constructor(
    private readonly capacity: number,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes one token if there is one. Returns whether the event is allowed. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens available at `now` (fractional while refilling). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    // A clock that steps backwards must not drain the bucket or mint tokens.
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
