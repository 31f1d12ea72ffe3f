/**
 * The RTT trace: with `IPOP_RTT_TRACE=DIR` the agent stamps every ICMP echo it handles at each point
 * of its packet path with CLOCK_MONOTONIC (`process.hrtime`, the same clock in every process on the
 * host), so two agents' traces line up and one ping's time splits hop by hop
 * (test/src/bench/rtt-breakdown.ts reads them). Off, nothing here is loaded: the agent is wired
 * without the wrappers below.
 *
 * Each stamp is a line `POINT TYPE ID SEQ NS` in `DIR/rtt-trace-PID.txt`, written once a second and
 * at exit, so writing does not sit on the path it measures.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { LinkEvents, PeerLink, PeerLinkFactory } from "../link/peer-link.js";
import { forEachStagedPacket, type LinuxTun } from "../tun/linux-tun.js";
import type { TunDevice } from "../tun/tun-device.js";
import { type EchoKey, echoKeyOf, forEachEchoInFrame } from "./echo-key.js";

/**
 * Where on the path a stamp is taken, in the order a packet passes them:
 * - `tun-read`: the TUN read callback hands the packet to the core;
 * - `link-send` / `link-sent`: just before and after the link's `send` (the data channel's
 *   `sendMessageBinary`, which runs SCTP, DTLS and `sendto` inline);
 * - `link-receive`: the link's message callback, on Node's main thread;
 * - `deliver`: the core hands the packet to the TUN device, which stages it;
 * - `tun-write` / `tun-written`: just before and after the batch write to the kernel.
 */
export type RttTracePoint =
  | "tun-read"
  | "link-send"
  | "link-sent"
  | "link-receive"
  | "deliver"
  | "tun-write"
  | "tun-written";

/** How often the stamps gathered go to the file. */
const FLUSH_INTERVAL_MS = 1000;

/** Gathers stamps and writes them to one file per process. */
export class RttTrace {
  readonly path: string;
  #lines: string[] = [];

  private constructor(dir: string) {
    this.path = join(dir, `rtt-trace-${process.pid}.txt`);
    const flush = () => this.flush();
    setInterval(flush, FLUSH_INTERVAL_MS).unref();
    process.on("exit", flush);
  }

  /** Starts a trace into `dir`, which must exist and be writable. */
  static open(dir: string): RttTrace {
    const trace = new RttTrace(dir);
    appendFileSync(trace.path, "");
    return trace;
  }

  /** The monotonic clock in nanoseconds; a stamp's time is taken before the bytes are searched. */
  now(): number {
    return Number(process.hrtime.bigint());
  }

  mark(point: RttTracePoint, ns: number, key: EchoKey): void {
    this.#lines.push(`${point} ${key.type} ${key.id} ${key.seq} ${ns}\n`);
  }

  /** Stamps the echo in an IP packet, if it is one. */
  packet(point: RttTracePoint, packet: Uint8Array): void {
    const ns = this.now();
    const key = echoKeyOf(packet);
    if (key !== undefined) this.mark(point, ns, key);
  }

  /** Stamps every echo in a link message (a frame or a batch). */
  frames(point: RttTracePoint, message: Uint8Array): void {
    const ns = this.now();
    forEachEchoInFrame(message, (key) => this.mark(point, ns, key));
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    appendFileSync(this.path, this.#lines.join(""));
    this.#lines = [];
  }
}

/** `factory` with its links' data sends and received messages stamped. */
export function traceLinks(factory: PeerLinkFactory, trace: RttTrace): PeerLinkFactory {
  return {
    backend: factory.backend,
    create(options, events): PeerLink {
      const traced: LinkEvents = {
        onSignal: (signal) => events.onSignal(signal),
        onOpen: () => events.onOpen(),
        onMessage: (channel, message) => {
          trace.frames("link-receive", message);
          events.onMessage(channel, message);
        },
        onClose: (reason) => events.onClose(reason),
      };
      const link = factory.create(options, traced);
      return {
        backend: link.backend,
        role: link.role,
        handleSignal: (signal) => link.handleSignal(signal),
        send: (channel, message) => {
          if (channel !== "data") return link.send(channel, message);
          trace.frames("link-send", message);
          const sent = link.send(channel, message);
          trace.frames("link-sent", message);
          return sent;
        },
        // The IP track's path too, so a traced agent keeps the path it would take untraced.
        ...(link.sendDatagram === undefined
          ? {}
          : {
              sendDatagram: (frame: Uint8Array) => {
                trace.frames("link-send", frame);
                const verdict = link.sendDatagram!(frame);
                trace.frames("link-sent", frame);
                return verdict;
              },
              datagramsReady: () => link.datagramsReady?.() === true,
            }),
        stats: () => link.stats(),
        close: () => link.close(),
      };
    },
  };
}

/** `tun` with its reads, the packets handed to it and its batch writes stamped. */
export function traceTun(tun: LinuxTun, trace: RttTrace): TunDevice {
  tun.writeTrace = (written, staging, lens, count) => {
    const ns = trace.now();
    const point = written ? "tun-written" : "tun-write";
    forEachStagedPacket(staging, lens, count, (packet) => {
      const key = echoKeyOf(packet);
      if (key !== undefined) trace.mark(point, ns, key);
    });
  };
  return {
    name: tun.name,
    mtu: tun.mtu,
    headroom: tun.headroom,
    get writeDrops() {
      return tun.writeDrops;
    },
    start: (onPacket, onError, onBatchEnd) =>
      tun.start(
        (packet) => {
          trace.packet("tun-read", packet);
          onPacket(packet);
        },
        onError,
        onBatchEnd,
      ),
    write: (packet) => {
      trace.packet("deliver", packet);
      return tun.write(packet);
    },
    close: () => tun.close(),
    offloadReport: () => tun.offloadReport(),
  };
}

/** The agent's links and TUN device, traced into a new trace in `dir`. */
export function tracedPath(
  dir: string,
  links: PeerLinkFactory,
  tun: LinuxTun,
): { links: PeerLinkFactory; tun: TunDevice } {
  const trace = RttTrace.open(dir);
  return { links: traceLinks(links, trace), tun: traceTun(tun, trace) };
}
