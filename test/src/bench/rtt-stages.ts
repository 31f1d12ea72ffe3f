/**
 * One ping's round trip split into the stages of two IPOP agents' packet path, from the agents' RTT
 * traces (`IPOP_RTT_TRACE`, node-agent/src/trace/rtt-trace.ts: CLOCK_MONOTONIC stamps, one clock for
 * every process on the host) and ping's own round trip per sequence number. Pure: parsing and
 * arithmetic only; rtt-breakdown.ts runs the agents.
 */
import { mean, percentile } from "./stats.js";

/** One stamp of one agent's trace. */
export interface TraceStamp {
  readonly point: string;
  readonly type: number;
  readonly id: number;
  readonly seq: number;
  readonly ns: number;
}

/** The stamps in a trace file's text; lines that do not parse are skipped. */
export function parseTrace(text: string): TraceStamp[] {
  const out: TraceStamp[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-z-]+) (\d+) (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (m === null) continue;
    out.push({ point: m[1]!, type: Number(m[2]), id: Number(m[3]), seq: Number(m[4]), ns: Number(m[5]) });
  }
  return out;
}

/** Round trip in ms by ICMP sequence number, from iputils ping's output. */
export function parsePingBySeq(output: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of output.matchAll(/icmp_seq=(\d+) .*time[=<]([\d.]+) ms/g)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

/** Which agent and which packet of the echo a stage's ends are stamped on. */
type End = readonly ["sender" | "peer", "request" | "reply", string];

/** A stage between two stamps, and what it covers. */
export interface StageDef {
  readonly name: string;
  readonly from: End;
  readonly to: End;
}

/** The stages of one direction: `a` hands the packet to `b`. */
function direction(packet: "request" | "reply", a: "sender" | "peer", b: "sender" | "peer"): StageDef[] {
  return [
    { name: `${packet}: core + batcher (${a})`, from: [a, packet, "tun-read"], to: [a, packet, "link-send"] },
    { name: `${packet}: link send call (${a})`, from: [a, packet, "link-send"], to: [a, packet, "link-sent"] },
    {
      name: `${packet}: UDP + libdatachannel threads -> JS (${b})`,
      from: [a, packet, "link-sent"],
      to: [b, packet, "link-receive"],
    },
    { name: `${packet}: core (${b})`, from: [b, packet, "link-receive"], to: [b, packet, "deliver"] },
    {
      name: `${packet}: staged until the TUN write (${b})`,
      from: [b, packet, "deliver"],
      to: [b, packet, "tun-write"],
    },
    { name: `${packet}: TUN write call (${b})`, from: [b, packet, "tun-write"], to: [b, packet, "tun-written"] },
  ];
}

/**
 * The stages between the sender agent's TUN read of the request and its TUN write of the reply, in
 * order; together they cover that span exactly. What lies outside it (ping's send, the kernel's
 * routing into the sender's TUN and its read wake-up, and the reply's way from the TUN write to ping)
 * is the last stage, "outside", computed from ping's own round trip.
 */
export const STAGES: readonly StageDef[] = [
  ...direction("request", "sender", "peer"),
  {
    name: "peer kernel answers + TUN read wake-up (peer)",
    from: ["peer", "request", "tun-written"],
    to: ["peer", "reply", "tun-read"],
  },
  ...direction("reply", "peer", "sender"),
];

export const OUTSIDE_STAGE = "ping -> sender's TUN read, and TUN write -> ping (kernel, wake-ups)";

/** Mean, median and p99 of one stage in ms, and its share of the mean round trip. */
export interface StageSummary {
  readonly name: string;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly share: number;
}

/** The breakdown of the pings whose every stamp was found. */
export interface RttBreakdown {
  /** Pings ping answered, and those whose whole path the traces covered. */
  readonly replies: number;
  readonly traced: number;
  readonly rtt: StageSummary;
  readonly stages: readonly StageSummary[];
}

const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;

/** The identifier ping used: the one most requests read from a TUN carry. */
function pingIdentifier(stamps: readonly TraceStamp[]): number | undefined {
  const counts = new Map<number, number>();
  for (const s of stamps) {
    if (s.point === "tun-read" && s.type === ECHO_REQUEST) counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [id, n] of counts) if (best === undefined || n > counts.get(best)!) best = id;
  return best;
}

/** Indexes one agent's stamps of identifier `id`: the first stamp of each (type, seq, point). */
function indexStamps(stamps: readonly TraceStamp[], id: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of stamps) {
    if (s.id !== id) continue;
    const key = `${s.type} ${s.seq} ${s.point}`;
    if (!out.has(key)) out.set(key, s.ns);
  }
  return out;
}

function summarize(name: string, valuesMs: readonly number[], rttMeanMs: number): StageSummary {
  const m = mean(valuesMs) ?? Number.NaN;
  return {
    name,
    meanMs: m,
    p50Ms: percentile(valuesMs, 50) ?? Number.NaN,
    p99Ms: percentile(valuesMs, 99) ?? Number.NaN,
    share: m / rttMeanMs,
  };
}

/**
 * Splits each ping's round trip (`rttBySeq`, from ping) into {@link STAGES} and the outside stage,
 * from the two agents' stamps; the agent that read the requests from its TUN is the sender. Pings
 * with a stamp missing (lost, or outside the traces' window) are left out.
 */
export function breakdown(
  traceA: readonly TraceStamp[],
  traceB: readonly TraceStamp[],
  rttBySeq: ReadonlyMap<number, number>,
): RttBreakdown {
  const id = pingIdentifier(traceA) ?? pingIdentifier(traceB);
  const senderIsA = id !== undefined && pingIdentifier(traceA) === id;
  const sender = indexStamps(senderIsA ? traceA : traceB, id ?? -1);
  const peer = indexStamps(senderIsA ? traceB : traceA, id ?? -1);
  const at = (end: End, seq: number): number | undefined =>
    (end[0] === "sender" ? sender : peer).get(`${end[1] === "request" ? ECHO_REQUEST : ECHO_REPLY} ${seq} ${end[2]}`);
  const perStage: number[][] = STAGES.map(() => []);
  const outside: number[] = [];
  const rtts: number[] = [];
  for (const [seq, rttMs] of rttBySeq) {
    const spans: number[] = [];
    for (const stage of STAGES) {
      const from = at(stage.from, seq);
      const to = at(stage.to, seq);
      if (from === undefined || to === undefined) break;
      spans.push((to - from) / 1e6);
    }
    if (spans.length !== STAGES.length) continue;
    for (let i = 0; i < spans.length; i++) perStage[i]!.push(spans[i]!);
    const inside = spans.reduce((a, b) => a + b, 0);
    outside.push(rttMs - inside);
    rtts.push(rttMs);
  }
  const rttMean = mean(rtts) ?? Number.NaN;
  return {
    replies: rttBySeq.size,
    traced: rtts.length,
    rtt: summarize("ping round trip", rtts, rttMean),
    stages: [
      ...STAGES.map((s, i) => summarize(s.name, perStage[i]!, rttMean)),
      summarize(OUTSIDE_STAGE, outside, rttMean),
    ],
  };
}

/** The breakdown as a Markdown table (ms), for the terminal and docs/bench.md. */
export function formatBreakdown(b: RttBreakdown): string {
  const row = (s: StageSummary) =>
    `| ${s.name} | ${s.meanMs.toFixed(3)} | ${s.p50Ms.toFixed(3)} | ${s.p99Ms.toFixed(3)} | ${(s.share * 100).toFixed(0)}% |`;
  return [
    `pings answered ${b.replies}, traced end to end ${b.traced}`,
    "| stage | mean ms | p50 ms | p99 ms | share of mean |",
    "|---|--:|--:|--:|--:|",
    ...b.stages.map(row),
    row(b.rtt),
  ].join("\n");
}
