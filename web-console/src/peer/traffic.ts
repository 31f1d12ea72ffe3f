import { readSinkMessage, SINK_HEADER_BYTES, THROUGHPUT_SINK_PORT, writeSinkHeader } from "@ipop/shared";
import {
  ConsoleError,
  type PingOptions,
  type PingProbe,
  type PingReply,
  type ThroughputResult,
  type UdpProbeResult,
} from "../api.js";
import { checkCount } from "./inputs.js";
import type { VirtualHost } from "./virtual-host.js";

/** ICMP echo from the page's virtual host, like `ping -c COUNT -s SIZE -i INTERVAL`. */
export async function ping(host: VirtualHost, ip: string, address: number, options: PingOptions): Promise<PingReply[]> {
  const count = checkCount("count", options.count, 4, 1, 1000);
  const size = checkCount("size", options.size, 56, 0, 1372);
  const intervalMs = checkCount("intervalMs", options.intervalMs, 1000, 10, 60_000);
  const timeoutMs = checkCount("timeoutMs", options.timeoutMs, 2000, 10, 60_000);
  const probes: Promise<PingProbe>[] = [];
  for (let seq = 1; seq <= count; seq++) {
    if (seq > 1) await sleep(intervalMs);
    probes.push(
      host.echo(address, seq, size, timeoutMs).then((outcome): PingProbe => {
        const probe: PingProbe =
          outcome.kind === "echo-reply"
            ? { outcome: "reply", seq, rttMs: round(outcome.rttMs), ttl: outcome.ttl }
            : outcome.kind === "icmp-error"
              ? { outcome: "unreachable", seq, from: outcome.from, detail: outcome.detail }
              : { outcome: "timeout", seq };
        options.onProbe?.(probe);
        return probe;
      }),
    );
  }
  const done = await Promise.all(probes);
  const replies = done.flatMap((p) => (p.outcome === "reply" ? [{ seq: p.seq, rttMs: p.rttMs, ttl: p.ttl }] : []));
  const unreachable = done.find((p) => p.outcome === "unreachable");
  if (replies.length === 0 && unreachable?.outcome === "unreachable")
    throw new ConsoleError("unreachable", `${ip}: ${unreachable.detail} (ICMP from ${unreachable.from})`);
  return replies;
}

/** One UDP datagram to ip:port; a reply, an ICMP error (port unreachable: the kernel answered) or nothing. */
export async function udpProbe(
  host: VirtualHost,
  address: number,
  port: number,
  payload: Uint8Array,
  timeoutMs: number,
): Promise<UdpProbeResult> {
  const outcome = await host.probeUdp(address, port, payload, timeoutMs);
  switch (outcome.kind) {
    case "udp-reply":
      return { outcome: "reply", rttMs: round(outcome.rttMs), bytes: outcome.bytes };
    case "icmp-error":
      return outcome.portUnreachable
        ? { outcome: "port-unreachable", rttMs: round(outcome.rttMs), from: outcome.from }
        : { outcome: "unreachable", rttMs: round(outcome.rttMs), from: outcome.from, detail: outcome.detail };
    default:
      return { outcome: "timeout" };
  }
}

/** UDP payload bytes per datagram: 20 + 8 + 1372 = the overlay MTU of 1400. */
const THROUGHPUT_PAYLOAD = 1372;
/** Datagrams handed to the core per task; the link drops beyond its high-water mark, which we watch. */
const BURST = 32;

/**
 * A throughput test against a node's sink (shared/src/throughput-sink.ts): UDP datagrams to port 9
 * of `address` for `seconds`, as fast as the link takes them (backing off while it drops for
 * backpressure), with an echo request every 250 ms for the round trip under load; then asks the
 * sink how much arrived. The rate is what the sink confirmed, not what left.
 */
export async function throughput(
  host: VirtualHost,
  ip: string,
  address: number,
  seconds: number,
  backpressureDrops: () => number,
): Promise<ThroughputResult> {
  const test = crypto.getRandomValues(new Uint32Array(1))[0]!;
  let report: { bytes: number } | undefined;
  const listener = host.listenUdp((payload) => {
    const message = readSinkMessage(payload);
    if (message?.kind === "report" && message.test === test && (report === undefined || message.bytes >= report.bytes))
      report = { bytes: message.bytes };
  });
  try {
    const payload = new Uint8Array(THROUGHPUT_PAYLOAD);
    writeSinkHeader(payload, "data", test);
    const rtts: number[] = [];
    const pings: Promise<void>[] = [];
    let bytesSent = 0;
    let seq = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    let nextPing = start;
    while (performance.now() < end) {
      if (performance.now() >= nextPing) {
        nextPing += 250;
        pings.push(
          host.echo(address, ++seq, 56, 2000).then((o) => {
            if (o.kind === "echo-reply") rtts.push(o.rttMs);
          }),
        );
      }
      const dropsBefore = backpressureDrops();
      for (let i = 0; i < BURST; i++) host.sendUdp(address, listener.port, THROUGHPUT_SINK_PORT, payload);
      const dropped = backpressureDrops() - dropsBefore;
      bytesSent += (BURST - Math.min(BURST, dropped)) * THROUGHPUT_PAYLOAD;
      await (dropped > 0 ? sleep(2) : yieldTask());
    }
    const elapsed = (performance.now() - start) / 1000;
    await Promise.all(pings);
    const request = new Uint8Array(SINK_HEADER_BYTES);
    writeSinkHeader(request, "report-request", test);
    // Datagrams still in flight would miss an early report: ask after a pause, and again.
    for (let attempt = 0; attempt < 6; attempt++) {
      await sleep(attempt === 0 ? 300 : 400);
      host.sendUdp(address, listener.port, THROUGHPUT_SINK_PORT, request);
      await sleep(100);
      if (report !== undefined && attempt >= 1) break;
    }
    if (report === undefined)
      throw new ConsoleError(
        "timeout",
        `${ip} did not report what it received: is it an agent with the throughput sink?`,
      );
    const rttMs = rtts.length === 0 ? 0 : round(rtts.reduce((a, b) => a + b, 0) / rtts.length);
    return {
      seconds: round(elapsed),
      bytesSent,
      bytesReceived: report.bytes,
      mbitPerSec: round((report.bytes * 8) / elapsed / 1e6),
      rttMs,
    };
  } finally {
    listener.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Yields to the event loop without setTimeout's 4 ms clamp (link messages must get their turn). */
function yieldTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}
