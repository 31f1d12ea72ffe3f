import {
  type ClientMessage,
  errorMessage,
  parseClientMessage,
  type ServerMessage,
  SignalCloseCode,
  type SignalErrorCode,
} from "@ipop/shared";
import type { WebSocket } from "ws";
import { answerIssue, answerPublish, type CaMember, type CaReply } from "./ca-requests.js";
import { FrameOutbox } from "./frame-outbox.js";
import type { SignalLogger } from "./logger.js";
import type { MemberPeer } from "./member-peer.js";
import { TokenBucket } from "./rate-limiter.js";
import type { SessionContext } from "./session-context.js";
import { Membership, type MembershipConnection } from "./session-membership.js";
import { type FrameSink, type OutgoingMessage, outgoing, rawDataToBuffer } from "./wire.js";

export type { SessionContext } from "./session-context.js";

/**
 * One WebSocket connection: its limits (join timer, token bucket, invalid-message streak, liveness), the
 * checks every frame passes, and the one way out (`end`). What it does in a network (join, relay, leave)
 * is its {@link Membership} (session-membership.ts); how its frames reach the socket is its
 * {@link FrameOutbox} (frame-outbox.ts). Every event handler is guarded: whatever a client sends, the
 * worst outcome is that this one connection is closed.
 */
export class Session implements CaMember, MemberPeer, MembershipConnection {
  /** A session is always a local member. */
  readonly remoteInstance = undefined;
  /** Set once the connection is on its way out; nothing is sent or handled after that. */
  private closing = false;
  private joinTimer: NodeJS.Timeout | undefined;
  private readonly outbox: FrameOutbox;
  private readonly membership: Membership;
  private readonly messages: TokenBucket;
  private readonly strikes: TokenBucket;
  private invalidStreak = 0;
  private answeredPing = true;
  private readonly log: SignalLogger;

  /**
   * @param heartbeatSlice - which slice of the ping interval the server pings this session in (the
   *   server spreads its sessions' pings over the interval).
   * @param socket - the socket under `ws` (the one its upgrade came on), where frames are written.
   * @throws {@link CompressionError} when the connection negotiated compression (see {@link FrameOutbox}).
   */
  constructor(
    private readonly ws: WebSocket,
    socket: FrameSink,
    private readonly ctx: SessionContext,
    log: SignalLogger,
    readonly heartbeatSlice = 0,
  ) {
    const { limits } = ctx;
    const now = ctx.now();
    this.messages = new TokenBucket(limits.burstMessages, limits.messagesPerSecond, now);
    // Strikes recover one per second: an occasional overshoot is forgiven, a sustained one is not.
    this.strikes = new TokenBucket(limits.rateLimitStrikes, 1, now);
    this.log = log;
    this.outbox = new FrameOutbox(ws, socket, limits.maxBufferedBytes);
    // The session is its membership's connection itself: an adapter object of closures would cost some
    // 650 bytes per member (measured with the load test's settled heap at 10,000 members).
    this.membership = new Membership(ctx, this, log);
  }

  /** Attaches the socket's event handlers and starts the join timer. Call once. */
  start(): void {
    this.ws.binaryType = "nodebuffer";
    this.ws.on("message", (data, isBinary) => this.guard(() => this.onMessage(rawDataToBuffer(data), isBinary)));
    this.ws.on("pong", () => {
      this.answeredPing = true;
    });
    this.ws.on("error", (err) => this.log.debug({ err: err.message }, "socket error"));
    this.ws.on("close", (code) => {
      try {
        this.guard(() => this.onSocketClose(code));
      } finally {
        // Whatever happened above, the server must forget this session or it would leak.
        this.ctx.onClosed(this);
      }
    });
    this.startJoinTimer();
    this.log.debug({}, "connected");
  }

  /**
   * Liveness tick, called by the server every ping interval: terminates the connection if the previous ping
   * went unanswered (a crashed host or a dead NAT mapping), otherwise sends a new ping.
   */
  heartbeat(): void {
    if (this.closing) return;
    if (!this.answeredPing) {
      this.log.info(this.logFields(), "no pong, terminating");
      this.end("terminate");
      return;
    }
    this.answeredPing = false;
    this.guard(() => this.ws.ping());
  }

  /** Closes the connection with `code` (e.g. 1001 at shutdown). Idempotent. */
  close(code: number, reason: string): void {
    this.end({ code, reason });
  }

  /** Ends the connection at once, without a close handshake. */
  terminate(): void {
    this.end("terminate");
  }

  /**
   * Queues an already-encoded server message. A peer that stops reading is terminated once its queue passes
   * `maxBufferedBytes`, so it cannot make the server hold an unbounded backlog (frame-outbox.ts).
   */
  deliver(message: OutgoingMessage): void {
    if (this.closing) return;
    if (this.outbox.write(message) !== "stalled") return;
    this.log.warn({ ...this.logFields(), buffered: this.outbox.bufferedAmount }, "peer is not reading, terminating");
    this.end("terminate");
  }

  /**
   * Ends the connection with {@link SignalCloseCode.revoked} if the current revocation list revokes
   * this member's certificate. Returns whether it did.
   */
  dropIfRevoked(): boolean {
    return this.membership.dropIfRevoked();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    // Every frame costs a token, valid or not, so invalid traffic is rate-limited too.
    const allowed = this.messages.take(this.ctx.now());
    if (isBinary) {
      if (allowed) this.refuse("bad-message", "binary frames are not accepted; send JSON text frames", undefined, true);
      else this.rateLimited(undefined);
      return;
    }
    if (data.length > this.ctx.limits.maxMessageBytes) {
      // ws's maxPayload closes the socket first; this stays in case the two limits are ever configured apart.
      this.refuse("too-large", `message exceeds ${this.ctx.limits.maxMessageBytes} bytes`, undefined, true);
      return;
    }
    const parsed = parseClientMessage(data.toString("utf8"));
    if (!allowed) {
      this.rateLimited(parsed.ok && parsed.value.t === "send" ? parsed.value.ref : undefined);
      return;
    }
    if (!parsed.ok) {
      this.refuse(parsed.code, parsed.message, undefined, true);
      return;
    }
    this.dispatch(parsed.value);
  }

  private dispatch(message: ClientMessage): void {
    switch (message.t) {
      case "join":
        this.membership.join(message.network, message.member, message.credential);
        return;
      case "send":
        this.membership.relay(message.to, message.body, message.ref);
        return;
      case "leave":
        this.membership.leave();
        return;
      case "enroll":
      case "renew":
        answerIssue(this.ctx, this.caReply(), message);
        return;
      case "publish-revocations":
        answerPublish(this.ctx, this.caReply(), message.network, message.list);
        return;
    }
  }

  private onSocketClose(code: number): void {
    const wasClosing = this.closing;
    this.end("already-closed");
    this.log.debug({ code, byServer: wasClosing }, "disconnected");
  }

  /** The one way out of the open states: frees the membership, stops timers, closes the socket. Idempotent. */
  end(how: { code: number; reason: string } | "terminate" | "already-closed"): void {
    if (this.closing) return;
    this.closing = true;
    this.stopJoinTimer();
    this.membership.end(closeReason(how));
    try {
      if (how === "terminate") this.ws.terminate();
      else if (how !== "already-closed") this.ws.close(how.code, how.reason);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, "close failed, terminating");
      this.ws.terminate();
    }
  }

  /** How a CA request (ca-requests.ts) answers through this connection. */
  caReply(): CaReply {
    return { send: (m) => this.send(m), refuse: (code, message) => this.refuse(code, message), log: this.log };
  }

  /** {@link MembershipConnection.peer}: what the registry holds for this member. */
  get peer(): MemberPeer {
    return this;
  }

  /** {@link MembershipConnection.accepted}. */
  accepted(): void {
    this.invalidStreak = 0;
  }

  /** Answers with an `error`; `invalid` counts it, and too long a streak of invalid messages closes. */
  refuse(code: SignalErrorCode, message: string, ref?: number, invalid = false): void {
    this.ctx.metrics.refused(code);
    this.send(ref === undefined ? { v: 1, t: "error", code, message } : { v: 1, t: "error", code, message, ref });
    this.log.debug({ ...this.logFields(), code }, "refused a message");
    if (!invalid) return;
    this.invalidStreak++;
    if (this.invalidStreak >= this.ctx.limits.maxInvalidMessages) {
      this.log.info({ ...this.logFields(), invalid: this.invalidStreak }, "too many invalid messages, closing");
      this.end({ code: SignalCloseCode.protocolError, reason: "too many invalid messages" });
    }
  }

  private rateLimited(ref: number | undefined): void {
    if (!this.strikes.take(this.ctx.now())) {
      this.ctx.metrics.refused("rate-limited");
      this.log.info(this.logFields(), "persistently over the rate limit, closing");
      this.end({ code: SignalCloseCode.rateLimited, reason: "rate limit exceeded" });
      return;
    }
    const message = `over the limit of ${this.ctx.limits.messagesPerSecond} messages per second; message dropped`;
    this.refuse("rate-limited", message, ref);
  }

  private send(message: ServerMessage): void {
    const encoded = outgoing(message);
    if (encoded !== undefined) this.deliver(encoded);
  }

  /** {@link MembershipConnection.startJoinTimer}: the connection must join within the join timeout. */
  startJoinTimer(): void {
    this.stopJoinTimer();
    this.joinTimer = setTimeout(
      () =>
        this.guard(() => {
          this.log.info({}, "no join in time, closing");
          this.end({ code: SignalCloseCode.joinTimeout, reason: "join timeout" });
        }),
      this.ctx.limits.joinTimeoutMs,
    );
  }

  /** {@link MembershipConnection.stopJoinTimer}. */
  stopJoinTimer(): void {
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
  }

  private logFields(): Record<string, unknown> {
    return this.membership.logFields();
  }

  /**
   * Runs an event handler so that nothing it throws escapes into ws or the timer queue (where it would crash
   * the process). A bug here costs this connection, not the server.
   */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ ...this.logFields(), err: errorMessage(err) }, "internal error, dropping the connection");
      try {
        this.end("terminate");
      } catch {
        // Nothing more can be done for this connection; the server itself stays up.
      }
    }
  }
}

function closeReason(how: { code: number; reason: string } | "terminate" | "already-closed"): string {
  if (how === "terminate") return "terminated";
  if (how === "already-closed") return "disconnected";
  return how.reason;
}
