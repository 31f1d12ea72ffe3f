/**
 * `npm run bench:relay`: what an overlay relay costs. Three agents (h1, h2, h3) in the namespace lab;
 * h1 -> h2 is measured first over their direct link, then with UDP between h1 and h2 blocked on the
 * underlay (as two symmetric NATs would), so the path goes through h3 as an overlay relay, sealed
 * end to end. Per path: ping RTT (idle) and one iperf3 TCP stream, medians over repetitions; and, in
 * this process, what sealing and opening one 1400-byte packet costs. Needs root; see docs/bench.md.
 *   --reps N      repetitions per path (default 3)
 *   --seconds S   length of each iperf3 test (default 5)
 *   --json        print the result as one JSON object on the last line of stdout
 */
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { type HmacSha256, RelayBody, RelaySession, relayKeyPair } from "@ipop/shared";
import { BenchError, codedMessage } from "../errors.js";
import { agentStatus, type Overlay, startOverlay, stopOverlay, virtualIp } from "../lab/agents.js";
import { Lab } from "../lab/netns.js";
import { ping } from "../lab/ping.js";
import { UdpBlocks } from "../lab/udp-blocks.js";
import { BASE_NEEDS, ensureCommands } from "./deps.js";
import { parseIperfTcp, runIperf } from "./iperf.js";
import { loadAverage } from "./machine.js";
import { measureRtt } from "./rtt.js";
import { median } from "./stats.js";

const log = (line: string) => process.stderr.write(`[bench:relay] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The path changes within this (a dead direct link is noticed after 8 s, the relay then found at once). */
const PATH_TIMEOUT_MS = 60_000;

interface PathResult {
  tcpMbps: number | undefined;
  rttMs: number | undefined;
  tcpRuns: number[];
  rttRuns: number[];
}

async function measurePath(lab: Lab, reps: number, seconds: number): Promise<PathResult> {
  const dst = virtualIp(lab, "h2");
  const tcpRuns: number[] = [];
  const rttRuns: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const rtt = await measureRtt(lab, "h1", dst, 100, 0.02);
    if (rtt.meanMs !== undefined) rttRuns.push(rtt.meanMs);
    tcpRuns.push(parseIperfTcp(await runIperf(lab, "h1", "h2", dst, { kind: "tcp", streams: 1 }, seconds)).mbps);
    log(`  rep ${rep + 1}: ${tcpRuns.at(-1)!.toFixed(0)} Mbit/s, ${rtt.meanMs?.toFixed(2) ?? "-"} ms`);
  }
  return { tcpMbps: median(tcpRuns), rttMs: median(rttRuns), tcpRuns, rttRuns };
}

/** Waits until h1's status says how it reaches h2: over a direct link, or relayed. */
async function waitForPath(lab: Lab, relayed: boolean): Promise<void> {
  const ip = virtualIp(lab, "h2");
  const deadline = Date.now() + PATH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // The agent may not listen on its control socket yet: ask again.
    const s = await agentStatus(lab, "h1").catch(() => undefined);
    if (s === undefined) {
      await sleep(500);
      continue;
    }
    const direct = s.peers.some((p) => p.ip === ip && p.state === "up");
    const viaRelay = (s.relayed ?? []).some((r) => r.ip === ip && r.state === "up");
    if (relayed ? viaRelay && !direct : direct) {
      if ((await ping(lab, "h1", ip, { count: 1, waitS: 2 })).received === 1) return;
    }
    await sleep(500);
  }
  throw new BenchError("BENCH_TIMEOUT", `h1 -> h2 not ${relayed ? "relayed" : "direct"} within ${PATH_TIMEOUT_MS} ms`);
}

/** node:crypto's HMAC, as the agent passes it to the core. */
const nativeHmac: HmacSha256 = (key) => (data) => createHmac("sha256", key).update(data).digest();

/**
 * Microseconds to seal and open one 1400-byte packet (median of 5 batches of 2000), with the
 * agent's HMAC (node:crypto) or, without `hmac`, the core's pure-JavaScript default.
 */
function sealCostUs(hmac?: HmacSha256): number {
  const a = relayKeyPair(crypto.getRandomValues(new Uint8Array(32)));
  const b = relayKeyPair(crypto.getRandomValues(new Uint8Array(32)));
  const context = {
    session: "x.1",
    initiator: "a",
    responder: "b",
    initiatorKey: a.publicKey,
    responderKey: b.publicKey,
  };
  const sender = RelaySession.derive(a, b.publicKey, true, context, hmac)!;
  const receiver = RelaySession.derive(b, a.publicKey, false, context, hmac)!;
  const packet = new Uint8Array(1416);
  const batches: number[] = [];
  for (let batch = 0; batch < 6; batch++) {
    const start = performance.now();
    for (let i = 0; i < 2000; i++) receiver.open(sender.seal(32, 1, 2, RelayBody.frame, packet).subarray(16));
    if (batch > 0) batches.push(((performance.now() - start) * 1000) / 2000);
  }
  return median(batches)!;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { reps: { type: "string" }, seconds: { type: "string" }, json: { type: "boolean" } },
  });
  const reps = Number(values.reps ?? 3);
  const seconds = Number(values.seconds ?? 5);
  if (process.getuid?.() !== 0) throw new BenchError("BENCH_NOT_ROOT", "the relay bench needs root (namespaces)");
  ensureCommands(BASE_NEEDS, log);
  const load = loadAverage();
  const lab = await Lab.create({ hosts: 3, prefix: "ipopbench" });
  let overlay: Overlay | undefined;
  try {
    overlay = await startOverlay(lab, { network: "relaybench" });
    await waitForPath(lab, false);
    log("direct h1 -> h2");
    const direct = await measurePath(lab, reps, seconds);
    await new UdpBlocks(lab).block("h1", "h2");
    await waitForPath(lab, true);
    log("relayed h1 -> h3 -> h2");
    const relayed = await measurePath(lab, reps, seconds);
    const sealUs = { agent: sealCostUs(nativeHmac), pureJs: sealCostUs() };
    const result = { reps, seconds, loadAverage: load, direct, relayed, sealOpenUsPer1400B: sealUs };
    const f = (v: number | undefined, d: number) => (v === undefined ? "-" : v.toFixed(d));
    console.log("| path | TCP 1 stream, Mbit/s | ping RTT, ms |\n|---|---|---|");
    console.log(`| direct h1 -> h2 | ${f(direct.tcpMbps, 0)} | ${f(direct.rttMs, 2)} |`);
    console.log(`| overlay relay h1 -> h3 -> h2 | ${f(relayed.tcpMbps, 0)} | ${f(relayed.rttMs, 2)} |`);
    console.log(
      `seal + open of one 1400-byte packet: ${sealUs.agent.toFixed(1)} us with node:crypto's HMAC (the agent's), ` +
        `${sealUs.pureJs.toFixed(1)} us with @noble/hashes (the browser's); load average ${load.join(" ")}`,
    );
    if (values.json) console.log(JSON.stringify(result));
    return 0;
  } finally {
    if (overlay) await stopOverlay(overlay).catch((e: unknown) => log(`stop: ${codedMessage(e)}`));
    await lab.destroy().catch((e: unknown) => log(`lab teardown: ${codedMessage(e)}`));
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(codedMessage(e));
    process.exit(1);
  },
);
