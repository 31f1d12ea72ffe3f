import { percentile } from "../stats.js";
import { type JoinTiming, joinTextFor, LoadMember, loadTarget } from "./load-member.js";
import type { SettledMemory } from "./settled-memory.js";

/** Settings of one {@link runSignalingLoad}. */
export interface LoadSettings {
  /** `ws://127.0.0.1:PORT` of the server under test. */
  readonly url: string;
  /** The network every member joins. */
  readonly network: string;
  /** Members to bring up and hold. */
  readonly members: number;
  /** Joins per second offered, in the ramp and in the churn. */
  readonly rate: number;
  /** Seconds to hold all members connected before the churn. */
  readonly holdSeconds: number;
  /** Seconds of churn at full size: each join replaces the oldest member (one leave, one join). */
  readonly churnSeconds: number;
  /** Joins allowed in flight at once; beyond it the schedule slips (and the achieved rate shows it). */
  readonly maxInFlight: number;
  /** The server's resident memory in bytes, now. */
  serverRss(): number;
  /** The server's CPU time so far (user and system seconds), if it can be read. */
  serverCpu(): CpuTime | undefined;
  /** The server's member count, as it reports it (GET /healthz). */
  serverMembers(): Promise<number>;
  /** The server's memory once settled (a forced collection where possible), before and after the churn. */
  serverSettled(when: "before-churn" | "after-churn"): Promise<SettledMemory>;
  /** Seconds to wait after the churn before {@link serverSettled}: the last close handshakes finish. */
  readonly settleSeconds: number;
  /** Progress lines. */
  log(line: string): void;
}

/** CPU seconds spent, split into user and system (kernel) time. */
export interface CpuTime {
  readonly user: number;
  readonly system: number;
}

/** Latency percentiles of one phase, in milliseconds. */
export interface PhaseResult {
  readonly joins: number;
  readonly failed: number;
  readonly seconds: number;
  /** Joins completed per second over the phase. */
  readonly achievedRate: number;
  readonly joinP50Ms: number | undefined;
  readonly joinP99Ms: number | undefined;
  readonly connectP50Ms: number | undefined;
  readonly connectP99Ms: number | undefined;
  /** The TCP handshake alone (part of the connect). */
  readonly tcpP50Ms: number | undefined;
  readonly tcpP99Ms: number | undefined;
  /** Largest welcome seen, in members. */
  readonly maxListed: number;
  readonly firstError: string | undefined;
  /** The server's CPU over the phase, when it could be read. */
  readonly serverCpu: CpuTime | undefined;
  /** This process's (the load client's) CPU over the phase. */
  readonly clientCpu: CpuTime;
}

/** What {@link runSignalingLoad} measured. */
export interface LoadResult {
  readonly ramp: PhaseResult;
  readonly churn: PhaseResult | undefined;
  /** Members the server counted while all were held. */
  readonly heldMembers: number;
  readonly serverRssBaseline: number;
  readonly serverRssHeld: number;
  readonly serverRssPeak: number;
  /** (held RSS - baseline RSS) / members. */
  readonly bytesPerMember: number;
  /** The server's RSS through the churn: least and most of the samples taken every 250 ms. */
  readonly churnRss: { readonly min: number; readonly max: number } | undefined;
  /** Settled memory holding all members, before the churn and after it (same member count). */
  readonly settledBeforeChurn: SettledMemory;
  readonly settledAfterChurn: SettledMemory | undefined;
  /** Notices (member-joined/left) all members heard in total. */
  readonly notices: number;
  /** Members the server dropped while they should have stayed. */
  readonly lost: number;
}

const TICK_MS = 5;

/**
 * Drives a signaling server: ramps up to `members` joins at `rate` per second, holds them, then churns
 * at full size (every join replaces the oldest member) for `churnSeconds`. Bounded in members, in time
 * (the caller's deadline) and in joins in flight; every member is closed before it returns.
 */
export async function runSignalingLoad(settings: LoadSettings): Promise<LoadResult> {
  const now = () => performance.now();
  const live: LoadMember[] = [];
  const target = loadTarget(settings.url);
  let nextIndex = 0;
  let peak = settings.serverRss();
  const baseline = peak;
  // Set during the churn only: a leak per churned connection shows as a range that keeps rising.
  let churnSampling: { min: number; max: number } | undefined;
  const samplePeak = () => {
    const rss = settings.serverRss();
    peak = Math.max(peak, rss);
    if (churnSampling !== undefined) {
      churnSampling = { min: Math.min(churnSampling.min, rss), max: Math.max(churnSampling.max, rss) };
    }
  };
  const sampler = setInterval(samplePeak, 250);
  // A member counts as live from its first try; one whose join fails is closed and forgotten (the
  // failure is counted by the phase), so "lost" means only members the server dropped after a welcome.
  const admit = (member: LoadMember): LoadMember => {
    live.push(member);
    member.onJoinFailed = () => {
      const at = live.indexOf(member);
      if (at >= 0) live.splice(at, 1);
      member.close();
    };
    return member;
  };
  try {
    settings.log(`ramp: ${settings.members} members at ${settings.rate} joins/s`);
    const ramp = await paced(settings, settings.members, now, () => {
      return admit(new LoadMember(target, joinTextFor(settings.network, nextIndex++)));
    });
    settings.log(`ramp done: ${describe(ramp)}`);
    await sleep(settings.holdSeconds * 1000);
    const heldMembers = await settings.serverMembers();
    const held = settings.serverRss();
    samplePeak();
    settings.log(`holding ${heldMembers} members; server RSS ${(held / 2 ** 20).toFixed(1)} MiB`);
    const settledBeforeChurn = await settings.serverSettled("before-churn");
    settings.log(`settled before the churn: ${describeSettled(settledBeforeChurn)}`);
    let churn: PhaseResult | undefined;
    let settledAfterChurn: SettledMemory | undefined;
    let churnRss: { min: number; max: number } | undefined;
    if (settings.churnSeconds > 0) {
      const joins = Math.round(settings.churnSeconds * settings.rate);
      settings.log(`churn: ${joins} joins at ${settings.rate}/s, each replacing the oldest member`);
      const rss = settings.serverRss();
      churnSampling = { min: rss, max: rss };
      churn = await paced(settings, joins, now, () => {
        live.shift()?.close();
        return admit(new LoadMember(target, joinTextFor(settings.network, nextIndex++)));
      });
      samplePeak();
      churnRss = churnSampling;
      churnSampling = undefined;
      settings.log(`churn done: ${describe(churn)}`);
      await sleep(settings.settleSeconds * 1000);
      settledAfterChurn = await settings.serverSettled("after-churn");
      settings.log(`settled after the churn: ${describeSettled(settledAfterChurn)}`);
    }
    samplePeak();
    let notices = 0;
    let lost = 0;
    for (const member of live) {
      notices += member.notices;
      if (member.lost !== undefined) lost++;
    }
    return {
      ramp,
      churn,
      heldMembers,
      serverRssBaseline: baseline,
      serverRssHeld: held,
      serverRssPeak: peak,
      bytesPerMember: (held - baseline) / Math.max(1, heldMembers),
      churnRss,
      settledBeforeChurn,
      settledAfterChurn,
      notices,
      lost,
    };
  } finally {
    clearInterval(sampler);
    for (const member of live) member.close();
  }
}

/** Starts `count` joins on a schedule of `rate` per second and waits for all of them to settle. */
async function paced(
  settings: LoadSettings,
  count: number,
  now: () => number,
  next: () => LoadMember,
): Promise<PhaseResult> {
  const timings: JoinTiming[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let started = 0;
  let inFlight = 0;
  const settled: Promise<void>[] = [];
  const t0 = now();
  const serverBefore = settings.serverCpu();
  const clientBefore = process.cpuUsage();
  while (started < count) {
    // Catch up to the schedule: the joins due by now, as far as the in-flight bound allows.
    const due = Math.min(count, Math.floor(((now() - t0) / 1000) * settings.rate) + 1);
    while (started < due && inFlight < settings.maxInFlight) {
      started++;
      inFlight++;
      settled.push(
        next()
          .join(now)
          .then(
            (timing) => {
              timings.push(timing);
            },
            (err: unknown) => {
              failed++;
              firstError ??= err instanceof Error ? err.message : String(err);
            },
          )
          .finally(() => {
            inFlight--;
          }),
      );
    }
    await sleep(TICK_MS);
  }
  await Promise.all(settled);
  const seconds = (now() - t0) / 1000;
  const serverAfter = settings.serverCpu();
  const client = process.cpuUsage(clientBefore);
  const joinMs = timings.map((t) => t.joinMs);
  const connectMs = timings.map((t) => t.connectMs);
  const tcpMs = timings.map((t) => t.tcpMs);
  return {
    joins: timings.length,
    failed,
    seconds,
    achievedRate: timings.length / seconds,
    joinP50Ms: percentile(joinMs, 50),
    joinP99Ms: percentile(joinMs, 99),
    connectP50Ms: percentile(connectMs, 50),
    connectP99Ms: percentile(connectMs, 99),
    tcpP50Ms: percentile(tcpMs, 50),
    tcpP99Ms: percentile(tcpMs, 99),
    maxListed: timings.reduce((max, t) => Math.max(max, t.listed), 0),
    firstError,
    serverCpu:
      serverBefore === undefined || serverAfter === undefined
        ? undefined
        : { user: serverAfter.user - serverBefore.user, system: serverAfter.system - serverBefore.system },
    clientCpu: { user: client.user / 1e6, system: client.system / 1e6 },
  };
}

/** One line about a phase. */
export function describe(phase: PhaseResult): string {
  const ms = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(1)} ms`);
  return (
    `${phase.joins} joins (${phase.failed} failed) in ${phase.seconds.toFixed(1)} s = ${phase.achievedRate.toFixed(0)}/s; ` +
    `join p50 ${ms(phase.joinP50Ms)} p99 ${ms(phase.joinP99Ms)}; connect p50 ${ms(phase.connectP50Ms)} p99 ${ms(phase.connectP99Ms)} ` +
    `(TCP p50 ${ms(phase.tcpP50Ms)} p99 ${ms(phase.tcpP99Ms)})` +
    `; CPU ${cpu(phase.serverCpu, phase.joins)} server, ${cpu(phase.clientCpu, phase.joins)} client` +
    (phase.firstError === undefined ? "" : `; first error: ${phase.firstError}`)
  );
}

/** "RSS 160.2 MiB, heap 40.1 MiB used (external 3.0 MiB)". */
export function describeSettled(memory: SettledMemory): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const heap = memory.heap;
  return `RSS ${mib(memory.rssBytes)}${heap === undefined ? "" : `, heap ${mib(heap.heapUsed)} used (external ${mib(heap.external)})`}`;
}

/** "4.2 s (sys 2.1 s; 0.31 ms/join)". */
function cpu(time: CpuTime | undefined, joins: number): string {
  if (time === undefined) return "?";
  const total = time.user + time.system;
  const perJoin = joins > 0 ? `; ${((total * 1000) / joins).toFixed(2)} ms/join` : "";
  return `${total.toFixed(1)} s (sys ${time.system.toFixed(1)} s${perJoin})`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
