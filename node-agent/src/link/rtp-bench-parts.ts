/**
 * The pieces of ndc-rtp-bench.ts that are not about WebRTC: RTP packets the bench builds and reads,
 * the CPU and thread counters it samples, pacing, and RTT statistics. A benchmark tool only; nothing
 * in the agent imports this.
 */
import { readdirSync, readFileSync } from "node:fs";

/** RFC 3550 fixed header: V=2, no padding, no extension, no CSRC. */
export const RTP_HEADER_BYTES = 12;
/** A dynamic payload type (96-127), declared in the SDP; below 64 or above 95 after masking, so
 *  libdatachannel's RTP/RTCP demultiplexer (RFC 5761) reads it as RTP. */
export const RTP_PAYLOAD_TYPE = 96;
/** Where the bench's own 32-bit sequence number sits in every payload (after the RTP header on a
 *  track, at the start of a data-channel message), so both paths count loss the same way. */
export const SEQ_BYTES = 4;

/**
 * Writes an RTP header into `packet[0..12)`. The 16-bit RTP sequence number must grow by one per
 * packet: libsrtp's sender derives the packet index (rollover counter) from it, and the receiver's
 * replay window (1024 packets in libdatachannel) rejects repeats.
 */
export function writeRtpHeader(packet: Buffer, seq: number, ssrc: number): void {
  packet[0] = 0x80;
  packet[1] = RTP_PAYLOAD_TYPE;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(seq >>> 0, 4); // timestamp: any value; nothing plays this stream
  packet.writeUInt32BE(ssrc >>> 0, 8);
}

/** Counts what a receiver saw of a numbered stream: packets, bytes, and packets that came late. */
export class StreamCounter {
  packets = 0;
  bytes = 0;
  /** Packets whose sequence number is below one already seen (reordered or duplicated). */
  late = 0;
  private highest = -1;

  /** Count one packet of `bytes` bytes carrying sequence number `seq`. */
  add(seq: number, bytes: number): void {
    this.packets++;
    this.bytes += bytes;
    if (seq < this.highest) this.late++;
    else this.highest = seq;
  }
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of each thread of this process, keyed by thread id. */
export function threadCpuSeconds(): Map<number, { name: string; seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // The name is in parentheses and may hold spaces; the numbered fields follow the last ')'.
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      // Fields 14 and 15 of stat(5) (utime, stime) are at 11 and 12 after the name.
      const ticks = Number(fields[11]) + Number(fields[12]);
      threads.set(Number(tid), { name, seconds: ticks / CLOCK_TICKS_PER_S });
    } catch {
      // The thread ended between readdir and read; it no longer counts.
    }
  }
  return threads;
}

/** A snapshot of the whole process's CPU and of each of its threads. */
export interface CpuSnapshot {
  usage: NodeJS.CpuUsage;
  threads: Map<number, { name: string; seconds: number }>;
}

/** Take a snapshot now. */
export function cpuSnapshot(): CpuSnapshot {
  return { usage: process.cpuUsage(), threads: threadCpuSeconds() };
}

/** CPU used since `from`: the process's total (all threads, from getrusage) and the share of
 *  Node's main thread (its thread id is the process id), from /proc at 10 ms resolution. */
export function cpuSince(from: CpuSnapshot): { seconds: number; mainThreadShare: number } {
  const used = process.cpuUsage(from.usage);
  const seconds = (used.user + used.system) / 1e6;
  const now = threadCpuSeconds();
  let all = 0;
  let main = 0;
  for (const [tid, { seconds: s }] of now) {
    const delta = s - (from.threads.get(tid)?.seconds ?? 0);
    all += delta;
    if (tid === process.pid) main = delta;
  }
  return { seconds, mainThreadShare: all > 0 ? +(main / all).toFixed(2) : 0 };
}

/** The host's UDP receive-buffer overflows (`RcvbufErrors` in /proc/net/snmp; this network
 *  namespace, every socket): where a receiver that cannot keep up loses datagrams first. */
export function udpRcvbufErrors(): number {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf("RcvbufErrors")] ?? 0);
}

/**
 * Sends at a fixed offered rate from a 1 ms timer: each tick sends what the rate owes since the
 * start (so a late tick catches up in one burst, as an agent's TUN read hands over a batch).
 * `send` returns false when the stack refused the packet; that packet counts as not sent.
 */
export function pacedSender(
  mbitPerS: number,
  packetBytes: number,
  send: () => boolean,
): { stop: () => number; refused: () => number } {
  const packetsPerMs = (mbitPerS * 1e6) / 8 / packetBytes / 1000;
  const started = performance.now();
  let owed = 0;
  let sent = 0;
  let refused = 0;
  const tick = setInterval(() => {
    const due = Math.floor((performance.now() - started) * packetsPerMs);
    for (; owed < due; owed++) {
      if (send()) sent++;
      else refused++;
    }
  }, 1);
  return {
    stop: () => {
      clearInterval(tick);
      return sent;
    },
    refused: () => refused,
  };
}

/** Mean and 99th percentile of round-trip times in milliseconds, 3 decimals. */
export function rttSummary(samples: number[]): { n: number; meanMs: number; p50Ms: number; p99Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, meanMs: +mean.toFixed(3), p50Ms: +at(0.5).toFixed(3), p99Ms: +at(0.99).toFixed(3) };
}
