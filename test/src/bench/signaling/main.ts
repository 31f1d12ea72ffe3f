/**
 * `npm run bench -- --signaling`: the signaling server's load test (docs/signaling.md, "Scaling").
 * Starts `ipop-signal` as a child process on 127.0.0.1 (so its memory is its own) and drives it with
 * raw WebSocket members from this process. Progress goes to stderr, the report to stdout.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BenchError } from "../../errors.js";
import { requireBuilt, SIGNAL_CLI } from "../../lab/paths.js";
import { type LoadOptions, parseLoadArgs } from "./load-options.js";
import { type CpuTime, describe, describeSettled, type LoadResult, runSignalingLoad } from "./load-run.js";
import { inspectorUrlIn, ServerInspector } from "./server-inspector.js";
import { readSettledMemory } from "./settled-memory.js";

const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(`[signal-load +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);

/** Runs the load test with `argv` (the arguments after the script); resolves with the exit status. */
export async function runSignalingBench(argv: readonly string[]): Promise<number> {
  const options = parseLoadArgs(argv);
  if (options.help) {
    const { LOAD_USAGE } = await import("./load-options.js");
    console.log(LOAD_USAGE);
    return 0;
  }
  checkFileLimit(options.members);
  const server = await startServer(options);
  // The hard stop: whatever hangs, the server is killed and the process exits.
  const deadline = setTimeout(() => {
    log(`still running after ${options.maxSeconds} s: stopping`);
    server.child.kill("SIGKILL");
    process.exit(3);
  }, options.maxSeconds * 1000);
  deadline.unref();
  const cpuBefore = process.cpuUsage();
  const serverCpuBefore = cpuSeconds(server.pid);
  let result: LoadResult;
  let serverCpu: number | undefined;
  let inspector: ServerInspector | undefined;
  try {
    inspector = await ServerInspector.connect(server.inspectorUrl);
    result = await runSignalingLoad({
      url: server.url,
      network: "load",
      members: options.members,
      rate: options.rate,
      holdSeconds: options.holdSeconds,
      churnSeconds: options.churnSeconds,
      maxInFlight: Math.max(100, options.rate * 2),
      serverRss: () => rssBytes(server.pid),
      serverCpu: () => cpuTime(server.pid),
      serverMembers: () => healthMembers(server.url),
      serverSettled: (when) =>
        readSettledMemory(
          inspector,
          () => rssBytes(server.pid),
          options.heapSnapshotDir === undefined ? undefined : join(options.heapSnapshotDir, `${when}.heapsnapshot`),
        ),
      // The last churned members' close handshakes, and the server's timers of them, are over by then.
      settleSeconds: 3,
      log,
    });
    serverCpu = cpuSeconds(server.pid, serverCpuBefore ?? 0);
  } finally {
    inspector?.close();
    server.child.kill("SIGTERM");
    clearTimeout(deadline);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const clientCpu = (cpu.user + cpu.system) / 1e6;
  const report = {
    settings: options,
    ...result,
    clientCpuSeconds: clientCpu,
    clientRssBytes: process.memoryUsage().rss,
    serverCpuSeconds: serverCpu,
    wallSeconds: (Date.now() - t0) / 1000,
  };
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`signaling load: ${options.members} members, ${options.rate} joins/s offered`);
  console.log(`  ramp:  ${describe(result.ramp)}`);
  if (result.churn !== undefined) console.log(`  churn: ${describe(result.churn)}`);
  console.log(`  held members (server's count): ${result.heldMembers}; members the server dropped: ${result.lost}`);
  console.log(
    `  server RSS: baseline ${mib(result.serverRssBaseline)}, holding ${mib(result.serverRssHeld)}, peak ${mib(result.serverRssPeak)}; ` +
      `${(result.bytesPerMember / 1024).toFixed(1)} KiB per member`,
  );
  if (result.churnRss !== undefined) {
    console.log(`  server RSS through the churn: min ${mib(result.churnRss.min)}, max ${mib(result.churnRss.max)}`);
  }
  console.log(`  settled (forced GC) before the churn: ${describeSettled(result.settledBeforeChurn)}`);
  const after = result.settledAfterChurn;
  if (after !== undefined && result.churn !== undefined) {
    const grown = after.rssBytes - result.settledBeforeChurn.rssBytes;
    const heapGrown =
      after.heap === undefined || result.settledBeforeChurn.heap === undefined
        ? undefined
        : after.heap.heapUsed - result.settledBeforeChurn.heap.heapUsed;
    const perJoin = (b: number) => `${(b / Math.max(1, result.churn?.joins ?? 0)).toFixed(1)} B per churned join`;
    console.log(
      `  settled after the churn: ${describeSettled(after)}; RSS ${grown >= 0 ? "+" : ""}${mib(grown)} (${perJoin(grown)})` +
        (heapGrown === undefined ? "" : `, heap ${heapGrown >= 0 ? "+" : ""}${mib(heapGrown)} (${perJoin(heapGrown)})`),
    );
  }
  console.log(
    `  CPU: server ${serverCpu?.toFixed(1) ?? "?"} s, load client ${clientCpu.toFixed(1)} s (client RSS ${mib(report.clientRssBytes)}); ` +
      `notices heard ${result.notices}; wall ${report.wallSeconds.toFixed(0)} s`,
  );
  if (options.json) console.log(JSON.stringify(report));
  const failed = result.ramp.failed + (result.churn?.failed ?? 0);
  const ok = failed === 0 && result.lost === 0 && result.heldMembers === options.members;
  if (!ok) log(`FAILED: ${failed} joins failed, ${result.lost} members dropped, server held ${result.heldMembers}`);
  return ok ? 0 : 1;
}

interface ChildServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** The server's inspector on loopback, through which the test forces a collection before reading memory. */
  readonly inspectorUrl: string;
}

async function startServer(options: LoadOptions): Promise<ChildServer> {
  // Room for the churn: a replaced member's connection lingers for its close handshake while its
  // successor connects, and a second of joins may be in flight.
  const cap = String(options.members + 2 * options.rate + 100);
  const args = [
    // Port 0: the kernel picks a free loopback port, printed on stderr.
    "--inspect=127.0.0.1:0",
    ...(options.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.cpuProfDir]),
    requireBuilt(SIGNAL_CLI),
    ...["--listen", "127.0.0.1:0", "--max-members", cap, "--max-connections", cap, "--log-level", "warn"],
    ...(options.welcomeMembers === undefined ? [] : ["--welcome-members", String(options.welcomeMembers)]),
  ];
  // The server holds a socket per member: raise its open-file limit as far as the hard limit allows.
  const script = 'ulimit -n "$(ulimit -H -n)" 2>/dev/null; exec "$0" "$@"';
  const child = spawn("sh", ["-c", script, process.execPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid === undefined) throw new BenchError("BENCH_SETUP_FAILED", "could not start ipop-signal");
  const lines = createInterface({ input: child.stdout! });
  const errorLines = createInterface({ input: child.stderr! });
  let inspectorUrl: string | undefined;
  let url: string | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError("BENCH_TIMEOUT", "ipop-signal did not listen within 10 s")),
      10_000,
    );
    child.once("exit", (code) => reject(new BenchError("BENCH_SETUP_FAILED", `ipop-signal exited with ${code}`)));
    // Ready once both addresses are known: they come on two pipes, in either order.
    const ready = () => {
      if (url === undefined || inspectorUrl === undefined) return;
      clearTimeout(timer);
      resolve();
    };
    // The server's warnings still reach the terminal; the inspector's address is picked out on the way.
    errorLines.on("line", (line) => {
      inspectorUrl ??= inspectorUrlIn(line);
      process.stderr.write(`${line}\n`);
      ready();
    });
    lines.on("line", (line) => {
      url ??= /^listening on (ws:\/\/\S+)$/.exec(line)?.[1];
      ready();
    });
  });
  if (url === undefined || inspectorUrl === undefined) throw new BenchError("BENCH_SETUP_FAILED", "no server address");
  log(`ipop-signal (pid ${pid}) at ${url}, inspector ${inspectorUrl}`);
  return { child, pid, url, inspectorUrl };
}

/**
 * This process holds a socket per member and Node cannot raise its own open-file limit: refuse a run
 * that cannot fit, saying what to do, rather than fail halfway with EMFILE.
 */
function checkFileLimit(members: number): void {
  const soft = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
  const needed = members + 256;
  if (Number.isFinite(soft) && soft < needed) {
    throw new BenchError(
      "BENCH_SETUP_FAILED",
      `${members} members need about ${needed} open files, but ulimit -n is ${soft}: run \`ulimit -n ${needed}\` first`,
    );
  }
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** utime and stime of `pid` in seconds, or undefined once it is gone. */
function cpuTime(pid: number): CpuTime | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return undefined;
  }
}

/** utime + stime of `pid` in seconds (minus `since`), or undefined once it is gone. */
function cpuSeconds(pid: number, since = 0): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100 - since;
  } catch {
    return undefined;
  }
}

async function healthMembers(wsUrl: string): Promise<number> {
  const response = await fetch(`${wsUrl.replace(/^ws/, "http")}/healthz`);
  const body = (await response.json()) as { members?: number };
  return body.members ?? -1;
}
