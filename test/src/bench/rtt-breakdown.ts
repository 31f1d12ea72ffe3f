/**
 * Where one ping's time goes through two IPOP agents (ndc), stage by stage: both agents run with
 * `IPOP_RTT_TRACE` (CLOCK_MONOTONIC stamps at each point of the packet path, node-agent/src/trace/),
 * ping sends `--count` echoes `--interval` s apart from h1 to h2, and the stamps are lined up with
 * ping's own round trips (rtt-stages.ts). With `--load tcp` an iperf3 TCP stream runs h1 -> h2 for
 * the whole time, for the p99 under a bulk flow. Run as root, under the lab lock:
 *
 *   flock /tmp/ipop-lab.lock node test/dist/bench/rtt-breakdown.js [--count N] [--interval S] [--load idle|tcp]
 *     [--warmup SECONDS] [--reps N]
 *
 * Prints a Markdown table per repetition: each stage's mean, median and p99 in ms and its share of
 * the mean round trip. Tracing costs a few microseconds per stamped ping (the agents search every
 * packet for echoes only when it is on), so the round trip it reports runs a little above the bench's.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BenchError } from "../errors.js";
import { Lab } from "../lab/netns.js";
import { IPERF_PORT } from "./iperf.js";
import { breakdown, formatBreakdown, parsePingBySeq, parseTrace } from "./rtt-stages.js";
import { ipopSystem } from "./systems/ipop.js";

const { values } = parseArgs({
  options: {
    count: { type: "string" },
    interval: { type: "string" },
    load: { type: "string" },
    reps: { type: "string" },
    warmup: { type: "string" },
  },
});
const count = Number(values.count ?? 1000);
const intervalS = Number(values.interval ?? 0.01);
const load = values.load ?? "idle";
const reps = Number(values.reps ?? 1);
/** Seconds of iperf3 TCP before the pings: the agents' JavaScript then runs optimized, as in a long-lived agent. */
const warmupS = Number(values.warmup ?? 0);
if (load !== "idle" && load !== "tcp") throw new BenchError("BENCH_USAGE", `--load is idle or tcp, not ${load}`);
/** How long the agents keep stamps before writing them (rtt-trace.ts flushes every second). */
const TRACE_FLUSH_WAIT_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Empties the trace files, so only the measured pings are in them. */
function truncateTraces(dir: string): void {
  for (const f of readdirSync(dir)) writeFileSync(join(dir, f), "");
}

function readTraces(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith("rtt-trace-"))
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

/** One iperf3 TCP stream h1 -> h2 for `seconds`. */
async function tcpWarmup(lab: Lab, dst: string, seconds: number): Promise<void> {
  const server = lab.spawn("h2", ["iperf3", "-s", "-1", "-B", dst, "-p", String(IPERF_PORT), "--forceflush"], {
    label: "h2 iperf3",
  });
  try {
    await server.waitForLine(/Server listening/, { timeoutMs: 10_000 });
    await lab.exec("h1", ["iperf3", "-c", dst, "-p", String(IPERF_PORT), "-t", String(seconds)], {
      timeoutMs: seconds * 1000 + 30_000,
    });
  } finally {
    await server.stop("SIGKILL", 2_000);
  }
}

const lab = await Lab.create({ hosts: 2, prefix: "ipoprtt" });
try {
  for (let rep = 0; rep < reps; rep++) {
    const workDir = mkdtempSync(join(tmpdir(), "ipop-rtt-"));
    const traceDir = mkdtempSync(join(tmpdir(), "ipop-rtt-trace-"));
    process.env.IPOP_RTT_TRACE = traceDir;
    const run = await ipopSystem("ndc").setup(lab, { workDir, cpuProfDir: undefined, log: () => {} });
    delete process.env.IPOP_RTT_TRACE;
    try {
      const dst = run.addressOf("h2");
      if (warmupS > 0) await tcpWarmup(lab, dst, warmupS);
      await sleep(TRACE_FLUSH_WAIT_MS);
      truncateTraces(traceDir);
      const seconds = Math.ceil(count * intervalS) + 3;
      const server =
        load === "tcp"
          ? lab.spawn("h2", ["iperf3", "-s", "-1", "-B", dst, "-p", String(IPERF_PORT), "--forceflush"], {
              label: "h2 iperf3",
            })
          : undefined;
      await server?.waitForLine(/Server listening/, { timeoutMs: 10_000 });
      const client =
        load === "tcp"
          ? lab.exec("h1", ["iperf3", "-c", dst, "-p", String(IPERF_PORT), "-t", String(seconds)], {
              timeoutMs: seconds * 1000 + 30_000,
            })
          : undefined;
      if (client !== undefined) await sleep(1000);
      const ping = await lab.exec("h1", ["ping", "-n", "-c", String(count), "-i", String(intervalS), "-W", "1", dst], {
        timeoutMs: (count * intervalS + 15) * 1000,
      });
      await client?.catch(() => undefined);
      await server?.stop("SIGKILL", 2_000);
      await sleep(TRACE_FLUSH_WAIT_MS);
      const [a = "", b = ""] = readTraces(traceDir);
      const result = breakdown(parseTrace(a), parseTrace(b), parsePingBySeq(ping.stdout));
      const loadAvg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
      console.log(
        `\n## rep ${rep + 1}: ${count} pings ${intervalS} s apart, load ${load}, warm-up ${warmupS} s; ` +
          `${new Date().toISOString()}, load average ${loadAvg}`,
      );
      console.log(formatBreakdown(result));
    } finally {
      await run.teardown();
      rmSync(workDir, { recursive: true, force: true });
      rmSync(traceDir, { recursive: true, force: true });
    }
  }
} finally {
  await lab.destroy();
}
