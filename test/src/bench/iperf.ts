/**
 * iperf3 between two lab hosts, and reading its `-J` output. Every test gets a fresh one-off server
 * (`-s -1`), so a test that went wrong (a stalled UDP run, a client killed by its timeout) cannot leave
 * a busy server behind for the next one.
 */

import { BenchError } from "../errors.js";
import type { Lab } from "../lab/netns.js";

/** Port the iperf3 server listens on, on the system's overlay address of the server host. */
export const IPERF_PORT = 5201;
/** IPv4 + UDP header bytes: what a UDP payload grows by on its way into a tunnel. */
export const IPV4_UDP_HEADER_BYTES = 28;

/** One iperf3 test. */
export type IperfTest =
  | { kind: "tcp"; streams: number }
  /** `packetBytes` is the size of the IP packet entering the tunnel; `pps` the rate offered. */
  | { kind: "udp"; packetBytes: number; pps: number };

/** What a TCP test moved, as the receiver counted it. */
export interface TcpResult {
  bytes: number;
  seconds: number;
  mbps: number;
  /** Sender-side TCP retransmissions, when iperf3 reports them. */
  retransmits: number | undefined;
}

/** What a UDP test delivered. */
export interface UdpResult {
  sent: number;
  received: number;
  /** The sender's test duration, over which `pps` is computed. */
  seconds: number;
  /** Packets delivered per second. */
  pps: number;
  /** Fraction of sent packets that did not arrive, 0..1. */
  loss: number;
}

/** The iperf3 client argv for `test` (after `iperf3 -c ADDR -p PORT`). */
export function iperfClientArgs(test: IperfTest, seconds: number): string[] {
  const args = ["-t", String(seconds), "-J", "--connect-timeout", "5000"];
  if (test.kind === "tcp") {
    if (test.streams > 1) args.push("-P", String(test.streams));
    return args;
  }
  const payload = udpPayloadBytes(test.packetBytes);
  // -b counts payload bits; the offered packet rate is what we mean, so convert.
  const bitsPerSecond = Math.round(test.pps * payload * 8);
  // A 100 us pacing timer sends the offered rate in bursts a tenth the size of the default 1 ms one's
  // (10 instead of 100 packets at 100k pkt/s): bursts are what a receive buffer overflows on. On the raw
  // veth it cut the 1400-byte loss from 10.5% to 7.6% on a busy machine.
  args.push("-u", "-l", String(payload), "-b", String(bitsPerSecond), "--pacing-timer", "100");
  return args;
}

/** UDP payload that makes an IP packet of `packetBytes`. */
export function udpPayloadBytes(packetBytes: number): number {
  const payload = packetBytes - IPV4_UDP_HEADER_BYTES;
  if (!Number.isInteger(payload) || payload < 16) {
    throw new RangeError(`UDP packet size ${packetBytes} leaves no room for iperf3's 16-byte header`);
  }
  return payload;
}

type Json = Record<string, unknown>;

/**
 * Parses `iperf3 -J` output and returns its `end` section.
 * @throws BenchError BENCH_TOOL_FAILED when iperf3 reported an error, BENCH_PARSE when it is not iperf3 JSON
 */
function iperfEnd(text: string): Json {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new BenchError("BENCH_PARSE", `iperf3 printed no JSON: ${text.trim().slice(0, 300)}`);
  }
  if (!isObject(root)) throw new BenchError("BENCH_PARSE", "iperf3 JSON is not an object");
  if (typeof root.error === "string") throw new BenchError("BENCH_TOOL_FAILED", `iperf3: ${root.error}`);
  if (!isObject(root.end)) throw new BenchError("BENCH_PARSE", "iperf3 JSON has no end section");
  return root.end;
}

/** Reads a TCP test's result from `iperf3 -J` client output. */
export function parseIperfTcp(text: string): TcpResult {
  const end = iperfEnd(text);
  const received = section(end, "sum_received");
  const sent = isObject(end.sum_sent) ? end.sum_sent : undefined;
  const bytes = num(received, "bytes", "sum_received");
  const seconds = num(received, "seconds", "sum_received");
  return {
    bytes,
    seconds,
    mbps: seconds > 0 ? (bytes * 8) / seconds / 1e6 : 0,
    retransmits: sent && typeof sent.retransmits === "number" ? sent.retransmits : undefined,
  };
}

/**
 * Reads a UDP test's result from `iperf3 -J` client output. iperf3 3.x puts the receiver's counts in
 * `sum_received` (older versions only in `sum`); `packets` there is the highest sequence number seen,
 * so delivered = packets - lost_packets, and the loss is taken against what the sender sent.
 */
export function parseIperfUdp(text: string): UdpResult {
  const end = iperfEnd(text);
  const received = isObject(end.sum_received) ? end.sum_received : section(end, "sum");
  const sentSection = isObject(end.sum_sent) ? end.sum_sent : received;
  const sent = num(sentSection, "packets", "sum_sent");
  const seen = num(received, "packets", "sum_received");
  const lost = num(received, "lost_packets", "sum_received");
  const seconds = num(sentSection, "seconds", "sum_sent");
  const delivered = Math.max(0, seen - lost);
  return {
    sent,
    received: delivered,
    seconds,
    pps: seconds > 0 ? delivered / seconds : 0,
    loss: sent > 0 ? Math.min(1, Math.max(0, 1 - delivered / sent)) : 0,
  };
}

/**
 * Runs one iperf3 test from `client` to `server`, whose server listens on `serverAddr`.
 * @returns the client's JSON output
 * @throws BenchError BENCH_TOOL_FAILED when the server does not start or the client fails
 */
export async function runIperf(
  lab: Lab,
  client: string,
  server: string,
  serverAddr: string,
  test: IperfTest,
  seconds: number,
): Promise<string> {
  const port = String(IPERF_PORT);
  const srv = lab.spawn(server, ["iperf3", "-s", "-1", "-B", serverAddr, "-p", port, "--forceflush"], {
    label: `${server} iperf3 server`,
  });
  try {
    await srv.waitForLine(/Server listening/, { timeoutMs: 10_000 });
    const argv = ["iperf3", "-c", serverAddr, "-p", port, ...iperfClientArgs(test, seconds)];
    // Generous: the results travel back over the system under test, which may be saturated.
    const r = await lab.exec(client, argv, { timeoutMs: seconds * 1000 + 40_000 });
    if (r.code !== 0 && !r.stdout.trim().startsWith("{")) {
      throw new BenchError(
        "BENCH_TOOL_FAILED",
        `iperf3 client in ${client} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
      );
    }
    return r.stdout;
  } finally {
    await srv.stop("SIGKILL", 2_000);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function section(end: Json, key: string): Json {
  const s = end[key];
  if (!isObject(s)) throw new BenchError("BENCH_PARSE", `iperf3 JSON has no end.${key}`);
  return s;
}

function num(s: Json, key: string, where: string): number {
  const v = s[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new BenchError("BENCH_PARSE", `iperf3 JSON end.${where}.${key} is not a number`);
  }
  return v;
}
