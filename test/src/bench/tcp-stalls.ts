/**
 * How often one TCP stream through IPOP stalls at a lossy underlay: two agents (ndc) in a namespace
 * lab, nftables dropping `--loss` per mille of underlay UDP datagrams, one iperf3 TCP stream from h1
 * to h2 reporting every 100 ms. A stall is a 100 ms interval that moved less than a fifth of the
 * stream's median interval: what an SCTP retransmission timeout (libdatachannel's floor is 200 ms)
 * looks like from inside, where fast retransmit would only dent one interval. Run as root, under the
 * lab lock (`--loss 0` for the clean baseline):
 *
 *   flock /tmp/ipop-lab.lock node test/dist/bench/tcp-stalls.js [--seconds S] [--reps N] [--loss N]
 *
 * Prints one JSON line per repetition: `mbps` (iperf3's receiver), `medianIntervalMbps`, `stalls`
 * (count of stalled intervals), `intervals` and `retransmits` (the inner TCP's, from the sender).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BenchError } from "../errors.js";
import { Lab } from "../lab/netns.js";
import { IPERF_PORT, parseIperfTcp } from "./iperf.js";
import { ipopSystem } from "./systems/ipop.js";
import { countStalls, intervalRates } from "./tcp-trace.js";
import { addUnderlayLoss } from "./underlay-loss.js";

const { values } = parseArgs({
  options: { seconds: { type: "string" }, reps: { type: "string" }, loss: { type: "string" } },
});
const seconds = Number(values.seconds ?? 4);
const reps = Number(values.reps ?? 2);
const lossPermille = Number(values.loss ?? 10);
/** An interval below this share of the median counts as a stall. */
const STALL_SHARE = 0.2;

async function tcpTrace(lab: Lab, serverAddr: string): Promise<string> {
  const port = String(IPERF_PORT);
  const srv = lab.spawn("h2", ["iperf3", "-s", "-1", "-B", serverAddr, "-p", port, "--forceflush"], {
    label: "h2 iperf3 server",
  });
  try {
    await srv.waitForLine(/Server listening/, { timeoutMs: 10_000 });
    const argv = [
      "iperf3",
      "-c",
      serverAddr,
      "-p",
      port,
      "-J",
      "-i",
      "0.1",
      "-t",
      String(seconds),
      "--connect-timeout",
      "5000",
    ];
    const r = await lab.exec("h1", argv, { timeoutMs: seconds * 1000 + 40_000 });
    if (!r.stdout.trim().startsWith("{")) {
      throw new BenchError("BENCH_TOOL_FAILED", `iperf3 client: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
    return r.stdout;
  } finally {
    await srv.stop("SIGKILL", 2_000);
  }
}

const lab = await Lab.create({ hosts: 2, prefix: "ipopbench" });
try {
  for (let rep = 0; rep < reps; rep++) {
    const workDir = mkdtempSync(join(tmpdir(), "ipop-bench-"));
    const run = await ipopSystem("ndc").setup(lab, { workDir, cpuProfDir: undefined, log: () => {} });
    // --loss 0 traces a clean underlay, the same stream's baseline.
    const removeLoss = lossPermille > 0 ? await addUnderlayLoss(lab, lossPermille) : async () => {};
    try {
      const json = await tcpTrace(lab, run.addressOf("h2"));
      const rates = intervalRates(json);
      const { median, stalls } = countStalls(rates, STALL_SHARE);
      const tcp = parseIperfTcp(json);
      console.log(
        JSON.stringify({
          mbps: Math.round(tcp.mbps),
          medianIntervalMbps: Math.round(median / 1e6),
          stalls,
          intervals: rates.length,
          retransmits: tcp.retransmits,
        }),
      );
    } finally {
      await removeLoss();
      await run.teardown();
      rmSync(workDir, { recursive: true, force: true });
    }
  }
} finally {
  await lab.destroy();
}
