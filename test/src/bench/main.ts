/**
 * `npm run bench`: IPOP side by side with the raw veth, wireguard-go and Nebula, all between the same
 * two network namespaces, measured with iperf3 and ping. Prints a table, writes bench.json, report.md
 * and chart.svg under results/, and with --json prints the summary as the last line of stdout.
 * Progress goes to stderr. Needs root. See docs/bench.md for the method. `--signaling` runs the
 * signaling server's load test instead (signaling/main.ts).
 */
import { join } from "node:path";
import { BenchError, codedMessage } from "../errors.js";
import { Lab } from "../lab/netns.js";
import { REPO_ROOT } from "../lab/paths.js";
import { BASE_NEEDS, ensureCommands } from "./deps.js";
import { loadAverage, machineInfo } from "./machine.js";
import { parseBenchArgs, USAGE } from "./options.js";
import { summarizeProfiles } from "./profile.js";
import { renderSummaryText } from "./report/table.js";
import { defaultOutDir, writeReport } from "./report/write.js";
import type { BenchRun } from "./results.js";
import { runSystems } from "./run.js";
import { runSignalingBench } from "./signaling/main.js";
import { summarize } from "./summary.js";
import { ALL_SYSTEMS, selectSystems } from "./systems/index.js";
import { OVERLAY_MTU } from "./systems/system.js";

const PING_INTERVAL_MS = 10;
const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);

async function main(): Promise<number> {
  // The signaling server's load test is a bench of its own: no lab, no root (docs/signaling.md).
  if (process.argv.includes("--signaling")) return runSignalingBench(process.argv.slice(2));
  const options = parseBenchArgs(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    throw new BenchError("BENCH_NOT_ROOT", "the bench needs root: it builds network namespaces and TUN devices");
  }
  const systems = options.systems ? selectSystems(options.systems) : [...ALL_SYSTEMS];
  const startLoad = loadAverage();
  const startedAt = new Date();
  const outDir = options.outDir ?? defaultOutDir(REPO_ROOT, startedAt);
  const cpuProfDir = options.cpuProf ? join(outDir, "cpuprof") : undefined;
  log(`systems ${systems.map((s) => s.name).join(", ")}; ${options.reps} rep(s); load average ${startLoad.join(" ")}`);
  ensureCommands(Object.assign({}, BASE_NEEDS, ...systems.map((s) => s.needs)), log);

  const lab = await Lab.create({ hosts: 2, prefix: "ipopbench" });
  let runs: BenchRun["systems"];
  try {
    runs = await runSystems(lab, systems, {
      reps: options.reps,
      seconds: options.seconds,
      pings: options.pings,
      linkSamples: options.linkSamples,
      udp64Pps: options.udp64Pps,
      udp1400Pps: options.udp1400Pps,
      lossPermille: options.lossPermille,
      cpuProfDir,
      log,
    });
  } finally {
    await lab.destroy().catch((e: unknown) => log(`lab teardown: ${codedMessage(e)}`));
  }

  const run: BenchRun = {
    startedAt: startedAt.toISOString(),
    durationS: (Date.now() - t0) / 1000,
    settings: {
      reps: options.reps,
      seconds: options.seconds,
      pings: options.pings,
      pingIntervalMs: PING_INTERVAL_MS,
      linkSamples: options.linkSamples,
      udp64Pps: options.udp64Pps,
      udp1400Pps: options.udp1400Pps,
      lossPermille: options.lossPermille,
      mtu: OVERLAY_MTU,
      quick: options.quick,
    },
    machine: machineInfo(startLoad),
    systems: runs,
    profiles: cpuProfDir ? summarizeProfiles(cpuProfDir) : [],
  };
  const summary = summarize(run);
  const files = writeReport(outDir, summary, run);
  console.log(renderSummaryText(summary));
  console.log(`\nwrote ${files.join(", ")}`);
  if (options.json) console.log(JSON.stringify(summary));
  // A system that never produced a sample is a failed run; single failed measurements are only reported.
  const empty = summary.systems.filter((s) => s.reps === 0).map((s) => s.name);
  if (empty.length > 0) log(`no results for ${empty.join(", ")}`);
  return empty.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const usage = e instanceof BenchError && e.code === "BENCH_USAGE";
    process.stderr.write(`bench: ${codedMessage(e)}\n${usage ? `${USAGE}\n` : ""}`);
    process.exitCode = usage ? 64 : 1;
  },
);
