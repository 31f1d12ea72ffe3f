/**
 * What a bench run collected, before summarizing: every repetition's raw sample, so the JSON file
 * keeps the spread behind each median.
 */
import type { RepSample } from "./measures.js";
import type { ProfileTop } from "./profile.js";
import type { LinkSetupSample } from "./systems/system.js";

/** One system's raw results. */
export interface SystemRun {
  name: string;
  description: string;
  /** One per repetition that got the system up. */
  samples: RepSample[];
  /** IPOP: link setup after agent restarts (measured in the last repetition). */
  linkSetup: LinkSetupSample[];
  /** IPOP: restarts whose new link never carried a ping within the limit. */
  linkSetupFailures: string[];
  /** Failures outside single measurements (setup, teardown, link setup). */
  errors: string[];
}

/** The machine the run happened on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  kernel: string;
  node: string;
  memTotalMb: number;
  /** 1, 5 and 15 minute load averages when the run started and ended. */
  loadavg: { start: number[]; end: number[] };
  /** Versions of the Debian packages the compared systems and tools come from. */
  packages: Record<string, string | null>;
}

/** The settings a run used. */
export interface RunSettings {
  reps: number;
  seconds: number;
  pings: number;
  pingIntervalMs: number;
  linkSamples: number;
  udp64Pps: number;
  udp1400Pps: number;
  /** Underlay loss of the lossy TCP test, per mille of UDP packets (0: not measured). */
  lossPermille: number;
  mtu: number;
  quick: boolean;
}

/** A whole bench run. */
export interface BenchRun {
  startedAt: string;
  durationS: number;
  settings: RunSettings;
  machine: MachineInfo;
  systems: SystemRun[];
  /** With --cpu-prof: the hottest functions of each IPOP agent profile. */
  profiles: ProfileTop[];
}
