import { WebSocket } from "ws";

/** What one member's join cost, in milliseconds from the bench's monotonic clock. */
export interface JoinTiming {
  /** From starting the connection to the WebSocket being open (TCP + HTTP upgrade). */
  readonly connectMs: number;
  /** From sending `join` to receiving `welcome`: the server's join latency as a client sees it. */
  readonly joinMs: number;
  /** Members the welcome listed. */
  readonly listed: number;
}

/**
 * One simulated member: a raw WebSocket that joins with a pre-encoded `join` and then only counts what
 * it hears. It is as light as a client can be (no validation, no parsing beyond the welcome), so the
 * client side of the load test costs as little of the two cores as possible; the server does the full
 * work of a real join.
 */
export class LoadMember {
  private ws: WebSocket | undefined;
  private closedByUs = false;
  /** Server messages after the welcome: member-joined and member-left notices. */
  notices = 0;
  /** Set when the server closed the connection or it failed: the member is no longer in. */
  lost: string | undefined;
  /** Called once if the join fails (refused, closed or an error before the welcome). */
  onJoinFailed: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly joinText: string,
  ) {}

  /**
   * Connects and joins; resolves with the timing once the welcome arrives, rejects on an error, a refusal
   * or a close before it. Call once.
   */
  join(now: () => number): Promise<JoinTiming> {
    const started = now();
    const joined = new Promise<JoinTiming>((resolve, reject) => {
      // The server's frames are its own JSON: checking their UTF-8 would only spend the client's CPU.
      const ws = new WebSocket(this.url, { perMessageDeflate: false, skipUTF8Validation: true });
      this.ws = ws;
      let joinSentAt = 0;
      let connectMs = 0;
      let welcomed = false;
      ws.on("open", () => {
        connectMs = now() - started;
        joinSentAt = now();
        ws.send(this.joinText);
      });
      ws.on("message", (data: Buffer) => {
        if (welcomed) {
          this.notices++;
          return;
        }
        const text = data.toString();
        const reply = JSON.parse(text) as { t?: string; members?: unknown[]; code?: string };
        if (reply.t !== "welcome") {
          reject(new Error(`join answered with ${text.slice(0, 200)}`));
          ws.terminate();
          return;
        }
        welcomed = true;
        resolve({ connectMs, joinMs: now() - joinSentAt, listed: reply.members?.length ?? 0 });
      });
      ws.on("error", (err) => {
        this.lost ??= err.message;
        if (!welcomed) reject(err);
      });
      ws.on("close", (code) => {
        if (!this.closedByUs) this.lost ??= `closed by the server with ${code}`;
        if (!welcomed) reject(new Error(`closed with ${code} before the welcome`));
      });
    });
    joined.catch(() => this.onJoinFailed?.());
    return joined;
  }

  /** Leaves by closing the connection (the server announces the departure to the neighbourhood). */
  close(): void {
    this.closedByUs = true;
    // A close handshake, not a reset: the server then closes the TCP connection first and keeps its
    // TIME_WAIT, so churn does not use up the client's ephemeral ports on 127.0.0.1.
    this.ws?.close(1000);
  }
}

/** The `join` text of member `index` of `network`: a node id, a name and a distinct address in 10.0.0.0/8. */
export function joinTextFor(network: string, index: number): string {
  const ip = `10.${(index >>> 16) & 0xff}.${(index >>> 8) & 0xff}.${index & 0xff}`;
  const id = `load-${index.toString(16).padStart(8, "0")}`;
  return JSON.stringify({ v: 1, t: "join", network, member: { nodeId: id, name: id, ip } });
}
