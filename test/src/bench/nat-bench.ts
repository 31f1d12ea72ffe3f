/**
 * `npm run bench:nat` (root): link setup time per NAT pair (median of 5), and TCP throughput and RTT
 * over a direct (hole-punched) path against a TURN-relayed one, in the NAT lab (docs/bench.md "Across
 * NATs"). Prints a markdown table; `--json` prints the numbers.
 *
 * Setup time is from starting the second agent until both report the link up: it includes that
 * agent's start (Node, TUN, joining signaling), not only ICE. Throughput: one iperf3 TCP stream for
 * 5 s over the overlay; RTT: 50 pings 20 ms apart.
 */
import { parseArgs } from "node:util";
import { startSignaling, virtualIp } from "../lab/agents.js";
import { NatLab } from "../lab/nat/nat-lab.js";
import { runPair } from "../lab/nat/nat-pair.js";
import type { NatKind } from "../lab/nat/nat-rules.js";
import { parseIperfTcp, runIperf } from "./iperf.js";
import { measureRtt } from "./rtt.js";
import { median } from "./stats.js";

const PAIRS: Array<[NatKind, NatKind]> = [
  ["none", "none"],
  ["port-restricted", "port-restricted"],
  ["full-cone", "symmetric"],
  ["port-restricted", "symmetric"],
  ["symmetric", "symmetric"],
];
const RUNS = 5;

interface Row {
  pair: string;
  path: string;
  setupMs: number[];
  medianSetupMs: number | undefined;
  tcpMbps?: number;
  rttMs?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
  const nat = await NatLab.create({ sites: PAIRS.flatMap(([a, b]) => [{ kind: a }, { kind: b }]) });
  const rows: Row[] = [];
  try {
    const coturn = await nat.startTurn();
    const signalUrl = (await startSignaling(nat.lab)).url;
    for (const [i, [ka, kb]] of PAIRS.entries()) {
      const [a, b] = [nat.sites[2 * i]!.hosts[0]!, nat.sites[2 * i + 1]!.hosts[0]!];
      const row: Row = { pair: `${ka} <-> ${kb}`, path: "", setupMs: [], medianSetupMs: undefined };
      for (let run = 0; run < RUNS; run++) {
        const measureTraffic = run === 0 && (i === 1 || i === PAIRS.length - 1);
        const r = await runPair(nat, a, b, {
          network: `bench${i}x${run}`,
          signalUrl,
          coturn,
          ...(measureTraffic
            ? {
                whileUp: async () => {
                  const dst = virtualIp(nat.lab, b);
                  row.tcpMbps = parseIperfTcp(await runIperf(nat.lab, a, b, dst, { kind: "tcp", streams: 1 }, 5)).mbps;
                  row.rttMs = (await measureRtt(nat.lab, a, dst, 50, 0.02)).meanMs;
                },
              }
            : {}),
        });
        row.setupMs.push(r.setupMs);
        row.path = `${r.path} (${r.candidates.join("/")})`;
      }
      row.medianSetupMs = median(row.setupMs);
      rows.push(row);
      process.stderr.write(`${row.pair}: ${row.path}, setup ${row.setupMs.join(", ")} ms\n`);
    }
  } finally {
    await nat.destroy();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const fmt = (n: number | undefined, digits = 0) => (n === undefined ? "–" : n.toFixed(digits));
  process.stdout.write("| NAT pair | path | setup ms (median of 5) | TCP Mbit/s | RTT ms |\n|---|---|--:|--:|--:|\n");
  for (const r of rows) {
    process.stdout.write(
      `| ${r.pair} | ${r.path} | ${fmt(r.medianSetupMs)} | ${fmt(r.tcpMbps)} | ${fmt(r.rttMs, 2)} |\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:nat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
