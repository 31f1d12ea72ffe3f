/**
 * Running iputils `ping` inside lab namespaces and reading its summary.
 */
import type { Lab } from "./netns.js";

/** The numbers of ping's summary line, plus the raw output for messages. */
export interface PingResult {
  transmitted: number;
  received: number;
  /** Echo requests that got no reply (transmitted - received). */
  lost: number;
  /** Average round trip in ms, when any reply came back. */
  avgRttMs: number | undefined;
  /** ping's exit code: 0 when at least one reply came back. */
  code: number | null;
  /** "N packets transmitted, ..." and the rtt line, joined; or the error output when there is none. */
  summary: string;
}

/** Options of {@link ping}. */
export interface PingOptions {
  /** -c, default 3 */
  count?: number;
  /** -i in seconds, default 0.2 */
  intervalS?: number;
  /** -W: seconds to wait for each reply, default 2 */
  waitS?: number;
  /** -I: the source address to send from */
  source?: string;
}

/**
 * Parses iputils ping output. Unknown or missing summary gives transmitted = received = 0.
 */
export function parsePing(output: string, code: number | null = null): PingResult {
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  const transmitted = Number(stats?.[1] ?? 0);
  const received = Number(stats?.[2] ?? 0);
  const lines = output.split("\n").filter((l) => /packets transmitted|^rtt /.test(l));
  return {
    transmitted,
    received,
    lost: transmitted - received,
    avgRttMs: rtt ? Number(rtt[1]) : undefined,
    code,
    summary: lines.join("; ") || output.trim().split("\n").slice(-2).join("; "),
  };
}

/** Runs `ping` from `host` to `dst` (-n, numeric) and parses the result. Never throws for loss. */
export async function ping(lab: Lab, host: string, dst: string, options: PingOptions = {}): Promise<PingResult> {
  const count = options.count ?? 3;
  const intervalS = options.intervalS ?? 0.2;
  const waitS = options.waitS ?? 2;
  const argv = ["ping", "-n", "-c", String(count), "-i", String(intervalS), "-W", String(waitS)];
  if (options.source !== undefined) argv.push("-I", options.source);
  argv.push(dst);
  const timeoutMs = (count * intervalS + waitS + 10) * 1000;
  const r = await lab.exec(host, argv, { timeoutMs });
  return parsePing(r.stdout + r.stderr, r.code);
}

/**
 * Pings until a run gets every reply, up to `attempts` runs; for links that are still coming up.
 * @returns the last run (check `lost === 0`)
 */
export async function pingUntilClean(
  lab: Lab,
  host: string,
  dst: string,
  attempts = 5,
  options: PingOptions = {},
): Promise<PingResult> {
  let last: PingResult | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await ping(lab, host, dst, options);
    if (last.transmitted > 0 && last.lost === 0) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  return last!;
}

/** One ordered pair for {@link pingPairs}: ping the address `to` from `from`'s namespace. */
export interface PingPair {
  from: string;
  to: string;
}

/** A pair of {@link pingPairs} that never got a reply, with the summary of its last ping. */
export interface PingFailure extends PingPair {
  summary: string;
}

/** Options of {@link pingPairs}. */
export interface PingPairsOptions {
  /** Rounds in all; each round retries only the pairs still without a reply. Default 4. */
  attempts?: number;
  /** Pings in flight at once. Default 12. */
  concurrency?: number;
  /** -W of each single ping, default 2. */
  waitS?: number;
  /** Pause between rounds, default 500 ms. */
  pauseMs?: number;
}

/**
 * Sends one echo request per pair (`ping -c 1`), several pairs at once, and retries the pairs that got
 * no reply. Suited to checking reachability across many pairs quickly.
 * @returns the pairs that never got a reply (empty when all answered)
 */
export async function pingPairs(
  lab: Lab,
  pairs: readonly PingPair[],
  options: PingPairsOptions = {},
): Promise<PingFailure[]> {
  const attempts = options.attempts ?? 4;
  const concurrency = Math.max(1, options.concurrency ?? 12);
  const waitS = options.waitS ?? 2;
  let pending = [...pairs];
  const last = new Map<PingPair, PingResult>();
  for (let round = 0; round < attempts && pending.length > 0; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 500));
    const failed: PingPair[] = [];
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const pair = pending[next++]!;
        const r = await ping(lab, pair.from, pair.to, { count: 1, waitS });
        last.set(pair, r);
        if (r.received < 1) failed.push(pair);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
    pending = failed;
  }
  return pending.map((p) => ({ from: p.from, to: p.to, summary: last.get(p)?.summary ?? "not run" }));
}

/**
 * Rounds of {@link pingPairs} (one ping per pair, 2 s apart) until one round has every pair answering
 * or `timeoutMs` has passed: for suites that wait for an overlay to converge.
 * @returns the pairs without a reply in the last round (empty once all answered)
 */
export async function pingUntilAllAnswer(
  lab: Lab,
  pairs: readonly PingPair[],
  timeoutMs: number,
): Promise<PingFailure[]> {
  const startedAt = Date.now();
  let failures = await pingPairs(lab, pairs, { attempts: 1 });
  while (failures.length > 0 && Date.now() - startedAt < timeoutMs) {
    await new Promise((r) => setTimeout(r, 2_000));
    failures = await pingPairs(lab, pairs, { attempts: 1 });
  }
  return failures;
}
