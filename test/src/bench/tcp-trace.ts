/**
 * Reading a TCP stream's per-interval trace (`iperf3 -J -i 0.1`) and counting its stalls.
 */
import { BenchError } from "../errors.js";
import { median } from "./stats.js";

/** Bits per second of each interval in `iperf3 -J` output, in order. */
export function intervalRates(json: string): number[] {
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch {
    throw new BenchError("BENCH_PARSE", `iperf3 printed no JSON: ${json.trim().slice(0, 300)}`);
  }
  const intervals = (root as { intervals?: unknown }).intervals;
  if (!Array.isArray(intervals)) throw new BenchError("BENCH_PARSE", "iperf3 JSON has no intervals");
  return intervals.map((i) => {
    const bps = (i as { sum?: { bits_per_second?: unknown } }).sum?.bits_per_second;
    return typeof bps === "number" ? bps : 0;
  });
}

/** The trace's median rate and how many intervals fell below `share` of it (a stall). */
export function countStalls(rates: readonly number[], share: number): { median: number; stalls: number } {
  const mid = median(rates) ?? 0;
  return { median: mid, stalls: rates.filter((r) => r < mid * share).length };
}
