/**
 * The medians a run reports: the object `--json` prints and bench.json starts with. Every number is the
 * median over repetitions (null when no repetition produced it), so one disturbed repetition of three
 * does not move it.
 */
import type { RepSample } from "./measures.js";
import type { BenchRun, MachineInfo, RunSettings, SystemRun } from "./results.js";
import { medianOf } from "./stats.js";
import type { LinkSetupSample } from "./systems/system.js";

/** One system's medians. Units are in the names; loss is a fraction 0..1. */
export interface SystemSummary {
  name: string;
  tcpMbps: number | null;
  tcp4Mbps: number | null;
  /** One TCP stream with random underlay loss (settings.lossPermille); null when not measured. */
  tcpLossMbps: number | null;
  udp64Pps: number | null;
  udp64Loss: number | null;
  udp1400Pps: number | null;
  udp1400Loss: number | null;
  /**
   * Packets per second the sender actually got out, by size. Below the offered rate when the path pushed
   * back (a tunnel device's full queue blocks the sending socket) or the sender lacked CPU.
   */
  udp64SentPps: number | null;
  udp1400SentPps: number | null;
  rttMs: number | null;
  rttP99Ms: number | null;
  /** Daemons' user+system CPU seconds per Gbit received in the TCP tests; null without daemons. */
  cpuSecPerGbit: number | null;
  /** The whole machine's busy CPU seconds per Gbit in the TCP tests (iperf3 and kernel included). */
  hostCpuSecPerGbit: number | null;
  /** Largest daemon VmHWM, MiB; null without daemons. */
  rssMb: number | null;
  /** Repetitions that produced a sample. */
  reps: number;
  errors: string[];
}

/** IPOP's start-up timings for one backend, medians in ms. */
export interface IpopTimings {
  /** Both agents started at once -> first ping reply h1 -> h2. */
  upToFirstPingMs: number | null;
  /** Both agents started at once -> h1 logs up the link that carried that reply. */
  upToLinkUpMs: number | null;
  /** The core's own figure for that link: opening it -> up (ICE, DTLS, data channels). */
  upCoreSetupMs: number | null;
  /** h2's agent restarted -> first ping reply through the new link: the data path works again. */
  linkSetupMs: number | null;
  /** h2's agent restarted -> h1 logs up the link that carried that reply. */
  linkSetupLinkUpMs: number | null;
  /** h2's agent restarted -> h1 logs its first link up for h2 (which may be replaced at once). */
  linkFirstLinkUpMs: number | null;
  /** The core's own figure for the carrying link after a restart. */
  linkCoreSetupMs: number | null;
  /** Most links h1 logged up for h2 before the first reply, over the restarts (more than 1: churn). */
  linkUpsMax: number | null;
  linkSamples: number;
  /** Restarts after which no ping got through within 30 s (not in the medians). */
  linkFailures: number;
}

/** IPOP's timings: the headline backend's at the top level, every backend's in `backends`. */
export interface IpopSummary extends IpopTimings {
  backend: string;
  backends: Record<string, IpopTimings>;
}

/** The summary object. */
export interface BenchSummary {
  systems: SystemSummary[];
  ipop: IpopSummary | null;
  machine: MachineInfo;
  settings: RunSettings;
  startedAt: string;
  durationS: number;
}

/** Rounds to `digits` significant digits, keeping null. */
function sig(v: number | undefined, digits = 4): number | null {
  if (v === undefined || !Number.isFinite(v)) return null;
  if (v === 0) return 0;
  return Number(v.toPrecision(digits));
}

const gbit = (bytes: number) => (bytes * 8) / 1e9;

/** Gbit received by the TCP tests of one sample. */
function tcpGbit(s: RepSample): number {
  return gbit((s.tcp1?.bytes ?? 0) + (s.tcp4?.bytes ?? 0));
}

/** Medians of one system's samples. */
export function summarizeSystem(run: SystemRun): SystemSummary {
  const m = (f: (s: RepSample) => number | undefined, digits?: number) => sig(medianOf(run.samples.map(f)), digits);
  const perGbit = (f: (s: RepSample) => number | undefined) => (s: RepSample) => {
    const g = tcpGbit(s);
    const cpu = f(s);
    return g > 0 && cpu !== undefined ? cpu / g : undefined;
  };
  return {
    name: run.name,
    tcpMbps: m((s) => s.tcp1?.mbps),
    tcp4Mbps: m((s) => s.tcp4?.mbps),
    tcpLossMbps: m((s) => s.tcpLoss?.mbps),
    udp64Pps: m((s) => s.udp64?.pps, 3),
    udp64Loss: m((s) => s.udp64?.loss, 3),
    udp1400Pps: m((s) => s.udp1400?.pps, 3),
    udp1400Loss: m((s) => s.udp1400?.loss, 3),
    udp64SentPps: m((s) => (s.udp64 ? s.udp64.sent / s.udp64.seconds : undefined), 3),
    udp1400SentPps: m((s) => (s.udp1400 ? s.udp1400.sent / s.udp1400.seconds : undefined), 3),
    rttMs: m((s) => s.rtt?.meanMs, 3),
    rttP99Ms: m((s) => s.rtt?.p99Ms, 3),
    cpuSecPerGbit: m(
      perGbit((s) => (s.daemons > 0 ? s.tcpCpu?.daemonSec : undefined)),
      3,
    ),
    hostCpuSecPerGbit: m(
      perGbit((s) => s.tcpCpu?.hostSec),
      3,
    ),
    rssMb: m((s) => (s.peakRssKb === undefined ? undefined : s.peakRssKb / 1024), 3),
    reps: run.samples.length,
    errors: [
      ...run.errors,
      ...run.samples.flatMap((s) => s.errors),
      ...run.linkSetupFailures.map((f) => `link setup ${f}`),
    ],
  };
}

/** IPOP timings of one IPOP system's run. */
export function ipopTimings(run: SystemRun): IpopTimings {
  const setup = (k: string) => sig(medianOf(run.samples.map((s) => s.setupTimings[k])));
  const link = run.linkSetup;
  const med = (f: (l: LinkSetupSample) => number | undefined) => sig(medianOf(link.map(f)));
  return {
    upToFirstPingMs: setup("upToFirstPingMs"),
    upToLinkUpMs: setup("upToLinkUpMs"),
    upCoreSetupMs: setup("coreSetupMs"),
    linkSetupMs: med((l) => l.restartToFirstPingMs),
    linkSetupLinkUpMs: med((l) => l.restartToLinkUpMs),
    linkFirstLinkUpMs: med((l) => l.restartToFirstLinkUpMs),
    linkCoreSetupMs: med((l) => l.coreSetupMs),
    linkUpsMax: link.length > 0 ? Math.max(...link.map((l) => l.linksUp)) : null,
    linkSamples: link.length,
    linkFailures: run.linkSetupFailures.length,
  };
}

/** The whole summary. The top-level IPOP timings are ipop-ndc's (the default backend) when it ran. */
export function summarize(run: BenchRun): BenchSummary {
  const ipopRuns = run.systems.filter((s) => s.name.startsWith("ipop-"));
  const backends = Object.fromEntries(ipopRuns.map((s) => [s.name.slice("ipop-".length), ipopTimings(s)]));
  const headline = ipopRuns.find((s) => s.name === "ipop-ndc") ?? ipopRuns[0];
  const backend = headline?.name.slice("ipop-".length);
  return {
    systems: run.systems.map(summarizeSystem),
    ipop: backend ? { backend, ...backends[backend]!, backends } : null,
    machine: run.machine,
    settings: run.settings,
    startedAt: run.startedAt,
    durationS: run.durationS,
  };
}
