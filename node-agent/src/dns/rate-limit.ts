/**
 * Per-source token buckets: each source may send {@link DNS_RATE_PER_S} queries a second on
 * average, in bursts of up to {@link DNS_BURST}. A resolver asks for a name once per TTL (plus an
 * AAAA), so a well-behaved host stays far below; a flood from one source costs the agent little.
 */
export const DNS_RATE_PER_S = 50;
export const DNS_BURST = 100;
/** Sources tracked at once; past this, idle (refilled) buckets are forgotten, and new sources refused. */
export const DNS_MAX_SOURCES = 1024;

interface Bucket {
  tokens: number;
  at: number;
}

/** Pure: time (monotonic ms) comes in with every call. */
export class SourceRateLimit {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerS = DNS_RATE_PER_S,
    private readonly burst = DNS_BURST,
    private readonly maxSources = DNS_MAX_SOURCES,
  ) {}

  /** Takes one token for `source`; false when it has none left (the query is dropped). */
  allow(source: string, nowMs: number): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxSources && !this.forgetIdle(nowMs)) return false;
      bucket = { tokens: this.burst, at: nowMs };
      this.buckets.set(source, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.at) * this.ratePerS) / 1000);
    bucket.at = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets sources whose bucket has refilled; true if any room was made. */
  private forgetIdle(nowMs: number): boolean {
    for (const [source, bucket] of this.buckets) {
      if (bucket.tokens + ((nowMs - bucket.at) * this.ratePerS) / 1000 >= this.burst) this.buckets.delete(source);
    }
    return this.buckets.size < this.maxSources;
  }
}
