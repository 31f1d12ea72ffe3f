import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { answerDnsQuery, type DnsDropReason, type DnsNameTable } from "./dns-answer.js";
import { SourceRateLimit } from "./rate-limit.js";

/** The port resolvers ask; the agent serves it on its virtual IP. */
export const DNS_PORT = 53;

export interface DnsServerOptions {
  /** Address to bind: the node's virtual IP (configured on the TUN device before this starts). */
  readonly host: string;
  /** {@link DNS_PORT}; tests pass 0 for an ephemeral port. */
  readonly port: number;
  /** `NETWORK.ipop`, lower case. */
  readonly zone: string;
  readonly lookup: DnsNameTable;
  /** Called for every datagram that gets no answer (counted as host drops `dns-REASON`). */
  readonly onDrop: (reason: DnsDropReason) => void;
  readonly logger?: Logger;
}

/**
 * Answers DNS for `NAME.NETWORK.ipop` over UDP (dns-answer.ts decides what), after a per-source
 * rate limit (rate-limit.ts). No TCP: every answer is one A record, far under 512 bytes.
 */
export class DnsServer {
  private readonly limit = new SourceRateLimit();

  private constructor(
    private readonly socket: Socket,
    private readonly options: DnsServerOptions,
  ) {
    socket.on("message", (message, from) => this.handle(message, from.address, from.port));
    // A send error (host unreachable, buffer full) loses one answer; the resolver asks again.
    socket.on("error", (error) => options.logger?.warn({ err: error.message }, "dns socket error"));
  }

  /** Binds the socket; rejects when the address or port cannot be had (EADDRINUSE, EACCES). */
  static listen(options: DnsServerOptions): Promise<DnsServer> {
    const socket = createSocket({ type: "udp4" });
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port, options.host, () => {
        socket.off("error", reject);
        resolve(new DnsServer(socket, options));
      });
    });
  }

  /** The bound address and port. */
  get address(): { readonly host: string; readonly port: number } {
    const { address, port } = this.socket.address();
    return { host: address, port };
  }

  private handle(message: Buffer, host: string, port: number): void {
    if (!this.limit.allow(host, performance.now())) {
      this.options.onDrop("rate-limited");
      return;
    }
    const verdict = answerDnsQuery(message, this.options.zone, this.options.lookup);
    if (verdict.kind === "drop") {
      this.options.onDrop(verdict.reason);
      return;
    }
    this.socket.send(verdict.response, port, host);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
