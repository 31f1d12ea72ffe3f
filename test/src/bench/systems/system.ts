/**
 * The contract every benchmarked system implements: given the two-host lab, make host h1 reach host h2
 * over the system, say at which addresses, and which processes do the work.
 */
import type { Lab } from "../../lab/netns.js";

/**
 * MTU of every overlay's tunnel device. One value for all (WireGuard's default is 1420, Nebula's 1300,
 * IPOP's 1400) so that every system moves the same packets per Gbit and CPU per Gbit compares work per
 * packet, not packet sizes. 1400 + any of their headers still fits the underlay's 1500.
 */
export const OVERLAY_MTU = 1400;

/** What a system needs from the bench while it starts. */
export interface SetupContext {
  /** A private (0700) scratch directory for keys, certificates and configs; removed after teardown. */
  workDir: string;
  /** When set, IPOP agents write V8 CPU profiles (`node --cpu-prof`) into this directory. */
  cpuProfDir: string | undefined;
  /** Progress messages for the operator (stderr). */
  log: (message: string) => void;
}

/** One sample of IPOP's link setup after an agent restart, all from starting the new agent. */
export interface LinkSetupSample {
  /** To the first ping reply from h1 through the new link: when the data path works again. */
  restartToFirstPingMs: number;
  /** To h1 logging "link up" for the link that carried that reply (h1's status shows it up). */
  restartToLinkUpMs: number | undefined;
  /** To h1 logging the first "link up" for h2, which may be replaced before it carries anything. */
  restartToFirstLinkUpMs: number | undefined;
  /** Links h1 logged up for h2 until the first reply; more than one means the link churned. */
  linksUp: number;
  /** The core's own count for the carrying link, opening to up (ICE, DTLS, channels), as h1 logged it. */
  coreSetupMs: number | undefined;
}

/** What {@link RunningSystem.linkSetup} measured. */
export interface LinkSetupResult {
  samples: LinkSetupSample[];
  /** One message per restart whose new link never carried a ping; the next restart still runs. */
  failures: string[];
}

/** A system that is up between h1 and h2 and carries traffic. */
export interface RunningSystem {
  /** Address of `host` on this system (the tunnel address; the underlay address for the raw veth). */
  addressOf(host: string): string;
  /** Processes that carry the traffic (the daemons of both hosts); empty when the kernel alone does. */
  pids(): number[];
  /** Timings measured while setting up, by name (IPOP: upToFirstPingMs, upToLinkUpMs, coreSetupMs, linksUp). */
  readonly setupTimings: Readonly<Record<string, number>>;
  /** IPOP only: restarts h2's agent `samples` times and times each new link. */
  linkSetup?(samples: number): Promise<LinkSetupResult>;
  /** Stops the daemons and removes their devices; the lab stays. */
  teardown(): Promise<void>;
}

/** A benchmarked system. */
export interface BenchSystem {
  /** Name in tables, JSON and `--systems`, e.g. "ipop-ndc". */
  readonly name: string;
  /** One line for the report. */
  readonly description: string;
  /** Commands it runs, mapped to the Debian packages that provide them; the bench installs what is missing. */
  readonly needs: Readonly<Record<string, string>>;
  /**
   * Brings the system up between the lab's hosts h1 and h2 and returns once a ping gets through.
   * @throws on failure, after undoing what it started
   */
  setup(lab: Lab, ctx: SetupContext): Promise<RunningSystem>;
}
