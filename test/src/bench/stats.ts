/**
 * The few statistics the benchmark reports. Repetitions are few (3 by default) and the machine is
 * shared, so medians, not means, summarize repetitions: one disturbed run does not move them.
 */

/** Arithmetic mean; undefined for no values. */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Median (mean of the two middle values for an even count); undefined for no values. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The `p`-th percentile (0 < p <= 100) by the nearest-rank method: the smallest value such that at
 * least p% of the values are less or equal. Nearest-rank never invents a value that was not measured,
 * which matters for a tail like p99 of a few hundred pings.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.max(0, rank - 1)]!;
}

/** Median of the values that are defined; undefined when none is. */
export function medianOf(values: readonly (number | undefined | null)[]): number | undefined {
  return median(values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
}
