/**
 * Where the bench's 1400-byte UDP datagrams are lost through IPOP: two agents (ndc) in a namespace
 * lab, one iperf3 UDP test from h1 to h2 at the bench's offered rate, and the counters of every place
 * a datagram can be dropped, read before and after. Run as root, under the lab lock:
 *
 *   flock /tmp/ipop-lab.lock node test/dist/bench/udp-drops.js [--seconds S] [--reps N]
 *
 * Prints one JSON line per repetition, each count the difference over the test:
 * - `iperfSent`, `iperfReceived`: what iperf3 sent on h1 and received on h2;
 * - `tunRead`, `tunQueueDrops`: packets h1's kernel queued to the agent's TUN, and those it dropped
 *   because the agent did not read them in time (`tx_packets`, `tx_dropped` of h1's device);
 * - `sendBackpressure`: packets h1's agent dropped because the link's data channel was over its
 *   high-water mark (`ipop status`);
 * - `tunWritten`: packets h2's agent wrote to its TUN (`rx_packets` of h2's device);
 * - `socketDrops`: datagrams h2's kernel dropped at a full socket receive buffer (`RcvbufErrors`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentStatus } from "../lab/agents.js";
import { Lab } from "../lab/netns.js";
import { parseIperfUdp, runIperf } from "./iperf.js";
import { DEFAULT_UDP1400_PPS } from "./options.js";
import { ipopSystem } from "./systems/ipop.js";

const { values } = parseArgs({ options: { seconds: { type: "string" }, reps: { type: "string" } } });
const seconds = Number(values.seconds ?? 4);
const reps = Number(values.reps ?? 2);

interface Counters {
  tunRead: number;
  tunQueueDrops: number;
  sendBackpressure: number;
  tunWritten: number;
  socketDrops: number;
}

async function deviceCount(lab: Lab, host: string, name: string): Promise<number> {
  return Number((await lab.execOk(host, ["cat", `/sys/class/net/ipop0/statistics/${name}`])).stdout.trim());
}

/** `RcvbufErrors` from the `Udp:` lines of /proc/net/snmp in `host`'s namespace. */
async function rcvbufErrors(lab: Lab, host: string): Promise<number> {
  const lines = (await lab.execOk(host, ["cat", "/proc/net/snmp"])).stdout
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const counts = lines[1]?.split(/\s+/) ?? [];
  return Number(counts[names.indexOf("RcvbufErrors")]);
}

async function counters(lab: Lab): Promise<Counters> {
  const sender = await agentStatus(lab, "h1");
  return {
    tunRead: await deviceCount(lab, "h1", "tx_packets"),
    tunQueueDrops: await deviceCount(lab, "h1", "tx_dropped"),
    sendBackpressure: sender.drops["send-backpressure"] ?? 0,
    tunWritten: await deviceCount(lab, "h2", "rx_packets"),
    socketDrops: await rcvbufErrors(lab, "h2"),
  };
}

const lab = await Lab.create({ hosts: 2, prefix: "ipopbench" });
try {
  for (let rep = 0; rep < reps; rep++) {
    const workDir = mkdtempSync(join(tmpdir(), "ipop-bench-"));
    const run = await ipopSystem("ndc").setup(lab, { workDir, cpuProfDir: undefined, log: () => {} });
    try {
      const before = await counters(lab);
      const test = { kind: "udp", packetBytes: 1400, pps: DEFAULT_UDP1400_PPS } as const;
      const udp = parseIperfUdp(await runIperf(lab, "h1", "h2", run.addressOf("h2"), test, seconds));
      const after = await counters(lab);
      const delta = Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Counters]]),
      ) as unknown as Counters;
      console.log(JSON.stringify({ iperfSent: udp.sent, iperfReceived: udp.received, ...delta }));
    } finally {
      await run.teardown();
      rmSync(workDir, { recursive: true, force: true });
    }
  }
} finally {
  await lab.destroy();
}
