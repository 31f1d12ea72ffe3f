/**
 * One UDP socket asking STUN servers: requests by transaction id, retransmitted (RFC 5389 section
 * 7.2.1, shortened: netcheck wants an answer in about a second) until an answer or the deadline.
 * Datagrams that are not an answer to a request in flight are counted, never thrown.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { decodeResponse, encodeRequest, type StunResponse } from "./stun-message.js";

/** A request's outcome: the response and its round trip, or nothing within the deadline. */
export type StunAnswer = { readonly response: StunResponse; readonly rttMs: number; readonly from: string } | undefined;

const RETRANSMIT_MS = [0, 250, 500];
const DEFAULT_TIMEOUT_MS = 1200;

interface Pending {
  readonly resolve: (answer: StunAnswer) => void;
  readonly sentAt: number;
}

/** A STUN client on one local port (all its requests share the NAT mapping of that port). */
export class StunClient {
  readonly #socket: Socket;
  readonly #pending = new Map<string, Pending>();
  /** Datagrams that were malformed or answered nothing we asked. */
  ignored = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("message", (message, rinfo) => {
      const decoded = decodeResponse(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
      const key = decoded.ok ? Buffer.from(decoded.value.transactionId).toString("hex") : "";
      const pending = this.#pending.get(key);
      if (!decoded.ok || pending === undefined) {
        this.ignored++;
        return;
      }
      this.#pending.delete(key);
      pending.resolve({
        response: decoded.value,
        rttMs: performance.now() - pending.sentAt,
        from: `${rinfo.address}:${rinfo.port}`,
      });
    });
    // A send error (no route) is the same as no answer: the deadline reports it.
    socket.on("error", () => {});
  }

  /** Opens the socket on an ephemeral IPv4 port. */
  static open(): Promise<StunClient> {
    const socket = createSocket("udp4");
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, () => {
        socket.off("error", reject);
        resolve(new StunClient(socket));
      });
    });
  }

  /** The local port (for telling "no NAT" from a NAT that kept the port). */
  get port(): number {
    return this.#socket.address().port;
  }

  /**
   * Sends a request of `type` to `host:port` and waits up to `timeoutMs` for its answer (the round
   * trip counts from the first send, as a user would feel it).
   */
  request(
    type: number,
    host: string,
    port: number,
    options: { change?: { ip: boolean; port: boolean }; timeoutMs?: number } = {},
  ): Promise<StunAnswer> {
    const id = new Uint8Array(randomBytes(12));
    const key = Buffer.from(id).toString("hex");
    const message = encodeRequest(type, id, options.change);
    return new Promise<StunAnswer>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const finish = (answer: StunAnswer) => {
        for (const t of timers) clearTimeout(t);
        this.#pending.delete(key);
        resolve(answer);
      };
      this.#pending.set(key, { resolve: finish, sentAt: performance.now() });
      for (const delay of RETRANSMIT_MS) {
        timers.push(setTimeout(() => this.#socket.send(message, port, host, () => {}), delay));
      }
      timers.push(setTimeout(() => finish(undefined), options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    });
  }

  close(): void {
    for (const pending of this.#pending.values()) pending.resolve(undefined);
    this.#pending.clear();
    this.#socket.close();
  }
}
