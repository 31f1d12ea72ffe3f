import {
  buildEchoRequest,
  buildUdpPacket,
  describeIcmpError,
  echoReplyFor,
  formatIpv4Address,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_UDP,
  PACKET_HEADROOM,
  parseIcmpPacket,
  parseUdpPacket,
} from "@ipop/shared";

/** What became of one probe (an echo request or a UDP datagram). */
export type ProbeOutcome =
  | { readonly kind: "echo-reply"; readonly rttMs: number; readonly ttl: number }
  | { readonly kind: "udp-reply"; readonly rttMs: number; readonly bytes: number }
  | {
      readonly kind: "icmp-error";
      readonly rttMs: number;
      readonly from: string;
      /** ICMP destination unreachable, code 3: the target's kernel has nothing on the port. */
      readonly portUnreachable: boolean;
      readonly detail: string;
    }
  | { readonly kind: "timeout" };

interface Waiter {
  readonly sentAt: number;
  readonly resolve: (outcome: ProbeOutcome) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Counters the page reports as its own (status()). */
export interface VirtualHostCounters {
  echoAnswered: number;
  unmatched: number;
  notForUs: number;
}

/**
 * The page's IP stack in place of a TUN device: it answers ICMP echo requests to its own address
 * (so `ping` from an agent's shell gets replies from the page) and matches what comes back to the
 * probes the page sent: echo replies by identifier and sequence, UDP replies by our source port,
 * ICMP errors by the probe they quote. Everything else is counted and dropped. Sink reports
 * (throughput tests) go to `onUdp` listeners by port.
 */
export class VirtualHost {
  readonly counters: VirtualHostCounters = { echoAnswered: 0, unmatched: 0, notForUs: 0 };
  private readonly echoes = new Map<string, Waiter>();
  private readonly udp = new Map<number, Waiter>();
  private readonly udpListeners = new Map<number, (payload: Uint8Array) => void>();
  /** Our ICMP identifier: one per page, so replies to another tab's pings are not ours. */
  readonly identifier = Math.floor(Math.random() * 0xffff);
  private nextPort = 49152 + Math.floor(Math.random() * 8000);

  constructor(
    private readonly self: number,
    /** Hands a packet to the overlay core as a host packet (it has `PACKET_HEADROOM` in front). */
    private readonly inject: (packet: Uint8Array) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A packet the core delivered to this host. */
  deliver(packet: Uint8Array): void {
    if (packet[9] === IP_PROTOCOL_ICMP) return this.icmp(packet);
    if (packet[9] === IP_PROTOCOL_UDP) {
      const datagram = parseUdpPacket(packet);
      if (datagram === null || datagram.destination !== this.self) return void this.counters.notForUs++;
      const listener = this.udpListeners.get(datagram.destinationPort);
      if (listener !== undefined) return listener(datagram.payload);
      const waiter = this.take(this.udp, datagram.destinationPort);
      if (waiter === undefined) return void this.counters.unmatched++;
      return waiter.resolve({ kind: "udp-reply", rttMs: this.now() - waiter.sentAt, bytes: datagram.payload.length });
    }
    this.counters.notForUs++; // TCP and the rest: the page runs no services
  }

  /** Sends one echo request of `size` data bytes; resolves with its reply, error or timeout. */
  echo(destination: number, sequence: number, size: number, timeoutMs: number): Promise<ProbeOutcome> {
    const key = `${this.identifier}:${sequence & 0xffff}`;
    const result = this.wait(this.echoes, key, timeoutMs);
    this.inject(
      buildEchoRequest(
        { source: this.self, destination, identifier: this.identifier, sequence: sequence & 0xffff, data: size },
        PACKET_HEADROOM,
      ),
    );
    return result;
  }

  /** Sends one UDP datagram from a fresh port; resolves with a reply, an ICMP error or a timeout. */
  probeUdp(destination: number, port: number, payload: Uint8Array, timeoutMs: number): Promise<ProbeOutcome> {
    const sourcePort = this.freePort();
    const result = this.wait(this.udp, sourcePort, timeoutMs);
    this.sendUdp(destination, sourcePort, port, payload);
    return result;
  }

  sendUdp(destination: number, sourcePort: number, port: number, payload: Uint8Array | number): void {
    this.inject(
      buildUdpPacket({ source: this.self, destination, sourcePort, destinationPort: port, payload }, PACKET_HEADROOM),
    );
  }

  /** Takes UDP datagrams to `port` until the returned function is called. */
  listenUdp(listener: (payload: Uint8Array) => void): { readonly port: number; readonly close: () => void } {
    const port = this.freePort();
    this.udpListeners.set(port, listener);
    return { port, close: () => this.udpListeners.delete(port) };
  }

  private icmp(packet: Uint8Array): void {
    const message = parseIcmpPacket(packet);
    if (message === null) return void this.counters.unmatched++;
    if (message.kind === "echo-request") {
      if (message.destination !== this.self) return void this.counters.notForUs++;
      const reply = echoReplyFor(message, PACKET_HEADROOM);
      if (reply !== null) {
        this.counters.echoAnswered++;
        this.inject(reply);
      }
      return;
    }
    if (message.kind === "echo-reply") {
      const waiter = this.take(this.echoes, `${message.identifier}:${message.sequence}`);
      if (waiter === undefined) return void this.counters.unmatched++;
      return waiter.resolve({ kind: "echo-reply", rttMs: this.now() - waiter.sentAt, ttl: message.ttl });
    }
    const [sourcePort, , echoId, echoSequence] = message.quotedWords;
    const waiter =
      message.quoted.protocol === IP_PROTOCOL_UDP
        ? this.take(this.udp, sourcePort)
        : message.quoted.protocol === IP_PROTOCOL_ICMP
          ? this.take(this.echoes, `${echoId}:${echoSequence}`)
          : undefined;
    if (waiter === undefined || message.quoted.source !== this.self) return void this.counters.unmatched++;
    const portUnreachable = message.type === 3 && message.code === 3;
    waiter.resolve({
      kind: "icmp-error",
      rttMs: this.now() - waiter.sentAt,
      from: formatIpv4Address(message.from),
      portUnreachable,
      detail: describeIcmpError(message.type, message.code),
    });
  }

  private wait<K>(table: Map<K, Waiter>, key: K, timeoutMs: number): Promise<ProbeOutcome> {
    return new Promise((resolve) => {
      table.get(key)?.resolve({ kind: "timeout" });
      const timer = setTimeout(() => {
        if (table.get(key)?.timer === timer) table.delete(key);
        resolve({ kind: "timeout" });
      }, timeoutMs);
      table.set(key, { sentAt: this.now(), resolve, timer });
    });
  }

  private take<K>(table: Map<K, Waiter>, key: K): Waiter | undefined {
    const waiter = table.get(key);
    if (waiter === undefined) return undefined;
    table.delete(key);
    clearTimeout(waiter.timer);
    return waiter;
  }

  private freePort(): number {
    for (;;) {
      const port = this.nextPort;
      this.nextPort = port >= 65535 ? 49152 : port + 1;
      if (!this.udp.has(port) && !this.udpListeners.has(port)) return port;
    }
  }
}
