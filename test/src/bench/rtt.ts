/**
 * Round trips with iputils ping: many samples for mean and p99, and the instant of a first reply
 * (for "how long until the overlay carries traffic"). The lab's ping helper only reads the summary
 * line; here every reply's time is needed.
 */

import { BenchError } from "../errors.js";
import type { Lab } from "../lab/netns.js";
import { mean, percentile } from "./stats.js";

/** What a burst of pings measured. */
export interface RttResult {
  sent: number;
  received: number;
  meanMs: number | undefined;
  p99Ms: number | undefined;
}

/** Every reply's round trip in ms, in order, from ping's output. */
export function parsePingTimes(output: string): number[] {
  const times: number[] = [];
  for (const m of output.matchAll(/bytes from .* time[=<]([\d.]+) ms/g)) times.push(Number(m[1]));
  return times;
}

/** Wall-clock instant (epoch ms) of the first echo reply in `ping -D` output; undefined when none came. */
export function parseFirstReplyEpochMs(output: string): number | undefined {
  const m = /^\[(\d+(?:\.\d+)?)\] \d+ bytes from /m.exec(output);
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * Sends `count` pings `intervalS` apart from `from` to `dst` and summarizes every reply. Intervals under
 * 0.2 s need root, which the lab has anyway.
 */
export async function measureRtt(
  lab: Lab,
  from: string,
  dst: string,
  count: number,
  intervalS: number,
): Promise<RttResult> {
  const argv = ["ping", "-n", "-c", String(count), "-i", String(intervalS), "-W", "1", dst];
  const r = await lab.exec(from, argv, { timeoutMs: (count * intervalS + 15) * 1000 });
  const times = parsePingTimes(r.stdout);
  return { sent: count, received: times.length, meanMs: mean(times), p99Ms: percentile(times, 99) };
}

/**
 * Pings `dst` from `from` every 20 ms until the first reply and returns its wall-clock instant (epoch ms,
 * as stamped by `ping -D`, so the cost of starting ping does not count). Before the route exists (the
 * TUN device is not there yet) ping fails at once; then it is simply started again.
 * @throws BenchError BENCH_TIMEOUT when no reply came within `timeoutMs`
 */
export async function firstReplyAt(lab: Lab, from: string, dst: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const waitS = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const argv = ["ping", "-n", "-D", "-c", "1", "-i", "0.02", "-W", "1", "-w", String(waitS), dst];
    const r = await lab.exec(from, argv, { timeoutMs: waitS * 1000 + 5_000 });
    const at = parseFirstReplyEpochMs(r.stdout);
    if (at !== undefined) return at;
    last = (r.stderr || r.stdout).trim().split("\n").slice(-1)[0] ?? "";
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new BenchError("BENCH_TIMEOUT", `no ping reply from ${dst} in ${from} within ${timeoutMs} ms; last: ${last}`);
}
