import { parseArgs } from "node:util";
import { BenchError } from "../../errors.js";

export const LOAD_USAGE = `Usage: npm run bench -- --signaling [options]   (no root needed; 127.0.0.1 only)
Starts ipop-signal as a child process and drives it from this process with raw WebSocket members:
ramps up to --members joins at --rate per second, holds them, then churns at full size (each join
replaces the oldest member) for --churn-seconds. Reports join latency p50/p99, achieved rates, and the
server's RSS and memory per member; its RSS through the churn (min/max), and its RSS and heap after a
forced collection (through its loopback inspector) before and after the churn, so a leak per churned
connection shows. Stops by itself after --max-seconds whatever happens.
  --members N          members to hold (default 10000, at most 18000: file descriptors and ports)
  --rate N             joins per second offered (default 1000, at most 5000)
  --hold-seconds S     seconds to hold all members before the churn (default 5)
  --churn-seconds S    seconds of churn at full size (default 10, at most 600; 0 for none; raise
                       --max-seconds past about 40 + S)
  --welcome-members N  the server's --welcome-members (default: the server's)
  --max-seconds S      hard stop for the whole run (default 180)
  --cpu-prof DIR       run the server under node --cpu-prof, writing its profile to DIR
  --heap-snapshots DIR write the server's heap snapshots before and after the churn to DIR
                       (before-churn.heapsnapshot, after-churn.heapsnapshot; 29 MB each at 2,000
                       members; the server's RSS after a snapshot is no longer comparable)
  --json               print the result as one JSON object on the last line of stdout
  --help`;

/** Parsed options of the signaling load test. */
export interface LoadOptions {
  readonly members: number;
  readonly rate: number;
  readonly holdSeconds: number;
  readonly churnSeconds: number;
  readonly welcomeMembers: number | undefined;
  readonly maxSeconds: number;
  /** Where the server's CPU profile goes (`--cpu-prof`), if wanted. */
  readonly cpuProfDir: string | undefined;
  /** Where the server's heap snapshots go (`--heap-snapshots`), if wanted. */
  readonly heapSnapshotDir: string | undefined;
  readonly json: boolean;
  readonly help: boolean;
}

/**
 * Parses the load test's arguments (after `--signaling`).
 * @throws BenchError BENCH_USAGE naming the bad option.
 */
export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        signaling: { type: "boolean" },
        members: { type: "string" },
        rate: { type: "string" },
        "hold-seconds": { type: "string" },
        "churn-seconds": { type: "string" },
        "welcome-members": { type: "string" },
        "max-seconds": { type: "string" },
        "cpu-prof": { type: "string" },
        "heap-snapshots": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new BenchError("BENCH_USAGE", (e as Error).message);
  }
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = v[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) {
      throw new BenchError("BENCH_USAGE", `--${key} must be an integer from ${min} to ${max}, got ${String(raw)}`);
    }
    return n;
  };
  const welcome = v["welcome-members"] === undefined ? undefined : int("welcome-members", 16, 1, 1000);
  return {
    members: int("members", 10_000, 1, 18_000),
    rate: int("rate", 1000, 1, 5000),
    holdSeconds: int("hold-seconds", 5, 0, 600),
    churnSeconds: int("churn-seconds", 10, 0, 600),
    welcomeMembers: welcome,
    maxSeconds: int("max-seconds", 180, 10, 3600),
    cpuProfDir: typeof v["cpu-prof"] === "string" ? v["cpu-prof"] : undefined,
    heapSnapshotDir: typeof v["heap-snapshots"] === "string" ? v["heap-snapshots"] : undefined,
    json: v.json === true,
    help: v.help === true,
  };
}
