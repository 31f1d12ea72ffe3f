/**
 * The bench's command line.
 */
import { parseArgs } from "node:util";
import { BenchError } from "../errors.js";
import { systemNames } from "./systems/index.js";

export const USAGE = `Usage: npm run bench -- [options]        (root; builds a namespace lab)
  --systems a,b       systems to run (default: all): ${systemNames().join(", ")}; "ipop" = all three IPOP backends
  --reps N            repetitions of every measurement, medians reported (default 3)
  --quick             smoke run: 1 repetition, 2 s tests, 50 pings, 2 link restarts
  --seconds S         length of each iperf3 test (default 5, --quick 2)
  --pings N           pings per RTT measurement, 10 ms apart (default 200, --quick 50)
  --link-samples N    IPOP agent restarts timed for link setup (default 5, --quick 2)
  --udp64-pps N       offered rate of the 64-byte UDP test, packets/s (default 200000)
  --udp1400-pps N     offered rate of the 1400-byte UDP test, packets/s (default 100000)
  --loss N            underlay loss of the lossy TCP test, per mille of UDP packets (default 10 = 1%; 0 skips it)
  --cpu-prof          run IPOP agents under node --cpu-prof; the report lists their top functions
  --out DIR           where to write bench.json, report.md, chart.svg (default results/bench-<timestamp>)
  --json              print the summary as one JSON object on the last line of stdout
  --help`;

/** Parsed options. */
export interface BenchOptions {
  systems: string[] | undefined;
  reps: number;
  quick: boolean;
  seconds: number;
  pings: number;
  linkSamples: number;
  udp64Pps: number;
  udp1400Pps: number;
  lossPermille: number;
  cpuProf: boolean;
  outDir: string | undefined;
  json: boolean;
  help: boolean;
}

/**
 * Default offered UDP rates. Both are above what any of the userspace overlays delivered here (so the
 * delivered rate is the system's capacity, not an echo of the offer) and far below what iperf3 and the
 * raw veth sustain (so the veth shows ~0 loss and the sender does not take a whole core from the daemons
 * it is measuring: with an unlimited `-b 0` sender, Nebula delivered 40% fewer packets than at 200k/s).
 */
export const DEFAULT_UDP64_PPS = 200_000;
export const DEFAULT_UDP1400_PPS = 100_000;
/** Underlay loss of the lossy TCP test: 1% of UDP packets, each way. */
export const DEFAULT_LOSS_PERMILLE = 10;

/**
 * Parses `argv` (without node and script).
 * @throws BenchError BENCH_USAGE with the reason; print {@link USAGE} with it
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        systems: { type: "string" },
        reps: { type: "string" },
        quick: { type: "boolean" },
        seconds: { type: "string" },
        pings: { type: "string" },
        "link-samples": { type: "string" },
        "udp64-pps": { type: "string" },
        "udp1400-pps": { type: "string" },
        loss: { type: "string" },
        "cpu-prof": { type: "boolean" },
        out: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new BenchError("BENCH_USAGE", (e as Error).message);
  }
  const quick = v.quick === true;
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = v[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new BenchError("BENCH_USAGE", `--${key} must be an integer in ${min}..${max}, got "${String(raw)}"`);
    }
    return n;
  };
  const systems =
    typeof v.systems === "string"
      ? v.systems
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  if (systems?.length === 0) throw new BenchError("BENCH_USAGE", "--systems needs at least one name");
  return {
    systems,
    reps: int("reps", quick ? 1 : 3, 1, 50),
    quick,
    seconds: int("seconds", quick ? 2 : 5, 1, 600),
    pings: int("pings", quick ? 50 : 200, 5, 100_000),
    linkSamples: int("link-samples", quick ? 2 : 5, 0, 100),
    udp64Pps: int("udp64-pps", DEFAULT_UDP64_PPS, 1, 10_000_000),
    udp1400Pps: int("udp1400-pps", DEFAULT_UDP1400_PPS, 1, 10_000_000),
    lossPermille: int("loss", DEFAULT_LOSS_PERMILLE, 0, 1000),
    cpuProf: v["cpu-prof"] === true,
    outDir: typeof v.out === "string" ? v.out : undefined,
    json: v.json === true,
    help: v.help === true,
  };
}
