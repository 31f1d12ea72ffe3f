import {
  type Certificate,
  type ClientMessage,
  errorMessage,
  type JoinCredential,
  type MemberInfo,
  parseClientMessage,
  type ServerMessage,
  SignalCloseCode,
  type SignalErrorCode,
} from "@ipop/shared";
import { WebSocket } from "ws";
import type { Authority } from "./authority.js";
import { answerIssue, answerPublish, type CaMember, type CaReply, refuseByAuthority } from "./ca-requests.js";
import type { SignalServerLimits } from "./limits.js";
import type { SignalLogger } from "./logger.js";
import { broadcast, type ClusterAnnouncer, type MemberPeer } from "./member-peer.js";
import type { SessionMetrics } from "./metrics.js";
import { claimRefusal, enterNetwork, type NetworkEntry } from "./network-entry.js";
import type { NetworkRegistry } from "./network-registry.js";
import { TokenBucket } from "./rate-limiter.js";
import type { TurnCredentialIssuer } from "./turn-grants.js";
import { type FrameSink, type OutgoingMessage, outgoing, rawDataToBuffer } from "./wire.js";

/** What a session needs from the server that owns it. */
export interface SessionContext {
  readonly limits: SignalServerLimits;
  readonly registry: NetworkRegistry<MemberPeer>;
  /** With `--redis`: tells the other instances of joins and leaves here. */
  readonly cluster?: ClusterAnnouncer;
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch: certificates, tokens and proofs carry wall-clock times. */
  wallNow(): number;
  /** The CA side (`--ca`): present, joins need a credential and enroll, renew and revocations work. */
  readonly authority?: Authority;
  /** True once the server is shutting down: departures are then not announced to the others, who leave too. */
  isShuttingDown(): boolean;
  /** Called exactly once, when the socket has closed, so the server can forget the session. */
  onClosed(session: Session): void;
  /** Counts joins, relayed messages and refusals for `GET /metrics`. */
  readonly metrics: SessionMetrics;
  /** Hands members TURN servers with time-limited credentials (`--turn-url`), when configured. */
  readonly turn?: TurnCredentialIssuer;
}

type State =
  | { readonly kind: "waiting" }
  | {
      readonly kind: "joined";
      readonly network: string;
      readonly member: MemberInfo;
      /** The member's verified certificate, when the server has a CA. */
      readonly cert?: Certificate;
    }
  | {
      /** With `--redis`: the join waits for Redis to admit it (cluster/redis-cluster.ts). */
      readonly kind: "admitting";
      readonly network: string;
      readonly member: MemberInfo;
      /** Withdraws the claim when the connection ends or leaves first. */
      cancel: () => void;
    }
  | { readonly kind: "closing" };

/**
 * One WebSocket connection: its protocol state (waiting for join, joined, closing) and its limits (join timer,
 * token bucket, invalid-message streak, liveness, outgoing buffer). Every event handler is guarded: whatever a
 * client sends, the worst outcome is that this one connection is closed.
 */
export class Session implements CaMember, MemberPeer {
  /** A session is always a local member. */
  readonly remoteInstance = undefined;
  private state: State = { kind: "waiting" };
  private joinTimer: NodeJS.Timeout | undefined;
  /** Sends fresh TURN credentials before the last ones expire, while joined. */
  private iceTimer: NodeJS.Timeout | undefined;
  private readonly messages: TokenBucket;
  private readonly strikes: TokenBucket;
  private invalidStreak = 0;
  private answeredPing = true;
  private readonly log: SignalLogger;

  /**
   * @param heartbeatSlice - which slice of the ping interval the server pings this session in (the
   *   server spreads its sessions' pings over the interval).
   * @param socket - the socket under `ws` (the one its upgrade came on), where frames are written.
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: FrameSink,
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
    this.armJoinTimer();
    this.log.debug({}, "connected");
  }

  /**
   * Liveness tick, called by the server every ping interval: terminates the connection if the previous ping
   * went unanswered (a crashed host or a dead NAT mapping), otherwise sends a new ping.
   */
  heartbeat(): void {
    if (this.state.kind === "closing") return;
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
   * `maxBufferedBytes`, so it cannot make the server hold an unbounded backlog. The check is on what is already
   * queued, so one message of any allowed size always gets through to a reader that keeps up.
   */
  deliver(message: OutgoingMessage): void {
    if (this.state.kind === "closing" || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) {
      this.log.warn({ ...this.logFields(), buffered: this.ws.bufferedAmount }, "peer is not reading, terminating");
      this.end("terminate");
      return;
    }
    // The frame, built once per message, goes straight to the socket ws writes to: one write of a
    // shared buffer per recipient instead of framing and encoding it again for each. Safe to mix with
    // ws's own writes (pings, the close frame): without compression ws writes each frame whole and at
    // once, never queued, so frames cannot interleave.
    this.socket.write(message.frame());
  }

  /**
   * Ends the connection with {@link SignalCloseCode.revoked} if the current revocation list revokes
   * this member's certificate. Returns whether it did.
   */
  dropIfRevoked(): boolean {
    const { authority } = this.ctx;
    if (this.state.kind !== "joined" || this.state.cert === undefined || authority === undefined) return false;
    if (!authority.isRevoked(this.state.cert)) return false;
    this.log.info({ ...this.logFields(), name: this.state.cert.name }, "certificate revoked, disconnecting");
    this.end({ code: SignalCloseCode.revoked, reason: "certificate revoked" });
    return true;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state.kind === "closing") return;
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
        this.onJoin(message.network, message.member, message.credential);
        return;
      case "send":
        this.onSend(message.to, message.body, message.ref);
        return;
      case "leave":
        this.onLeave();
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

  private onJoin(network: string, member: MemberInfo, credential: JoinCredential | undefined): void {
    if (this.state.kind === "joined" || this.state.kind === "admitting") {
      const where = this.state.network;
      this.refuse("already-joined", `already joined network ${where}; leave first`, undefined, true);
      return;
    }
    const { authority, cluster } = this.ctx;
    let cert: Certificate | undefined;
    if (authority !== undefined) {
      const admitted = authority.admitJoin(network, member, credential, this.ctx.wallNow());
      if (!admitted.ok) {
        refuseByAuthority(this.caReply(), admitted, { network, nodeId: member.nodeId, ip: member.ip }, "join refused");
        if (admitted.closeCode !== undefined) this.end({ code: admitted.closeCode, reason: admitted.code });
        return;
      }
      cert = admitted.cert;
    }
    this.invalidStreak = 0;
    if (cluster === undefined) {
      this.enter(network, member, cert);
      return;
    }
    // With several instances, Redis decides: two instances admitting clashing joins at once must not
    // both let them in. The member is admitted when its claim's event comes back, in event order.
    const admitting: State = { kind: "admitting", network, member, cancel: () => undefined };
    this.state = admitting;
    admitting.cancel = cluster.claim(network, member, (verdict) =>
      this.guard(() => {
        if (this.state !== admitting) return;
        this.state = { kind: "waiting" };
        if (verdict.ok) {
          if (!this.enter(network, member, cert)) cluster.left(network, member.nodeId);
          return;
        }
        if (verdict.reason === "unavailable") {
          this.log.warn({ network, nodeId: member.nodeId }, "join not admitted: Redis did not answer");
          this.end({ code: SignalCloseCode.tryAgainLater, reason: "membership store unavailable" });
          return;
        }
        this.refuseEntry(network, member, claimRefusal(network, member, verdict, this.ctx.limits.maxMembers));
      }),
    );
  }

  /** Joins `network` in the registry and tells the newcomer and its neighbourhood; false if refused. */
  private enter(network: string, member: MemberInfo, cert: Certificate | undefined): boolean {
    const { limits, registry, authority } = this.ctx;
    const entry = enterNetwork(registry, limits, network, member, this);
    if (!entry.ok) {
      this.refuseEntry(network, member, entry);
      return false;
    }
    this.clearJoinTimer();
    this.state = cert === undefined ? { kind: "joined", network, member } : { kind: "joined", network, member, cert };
    if (cert !== undefined) authority?.memberJoined(cert);
    if (entry.replaced !== undefined) {
      this.log.info({ network, nodeId: member.nodeId }, "node id rejoined; replacing its old connection");
      entry.replaced.peer.close(SignalCloseCode.replaced, "replaced by a newer connection");
    }
    this.ctx.metrics.joined(network);
    this.deliver(entry.welcome);
    const list = authority?.revocationList();
    if (list !== undefined) this.sendBounded({ v: 1, t: "revocations", network, list });
    this.grantIceServers();
    // Only the neighbourhood hears of the join: they are the members it concerns (they may link to it), and
    // telling 10,000 members of every join would cost the server O(N) messages per join.
    if (entry.replaced !== undefined) broadcast(entry.neighbours, { v: 1, t: "member-left", nodeId: member.nodeId });
    broadcast(entry.neighbours, { v: 1, t: "member-joined", member });
    this.log.info({ network, nodeId: member.nodeId, name: member.name, ip: member.ip }, "joined");
    return true;
  }

  /** Tells the client why it cannot join and closes the connection with the matching code. */
  private refuseEntry(network: string, member: MemberInfo, refusal: NetworkEntry & { ok: false }): void {
    this.refuse(refusal.code, refusal.message);
    const holder = refusal.holder?.nodeId;
    this.log.info(
      { network, nodeId: member.nodeId, ip: member.ip, ...(holder === undefined ? {} : { holder }) },
      `join refused: ${refusal.closeReason}`,
    );
    this.end({ code: refusal.closeCode, reason: refusal.closeReason });
  }

  private onSend(to: string, body: unknown, ref: number | undefined): void {
    if (this.state.kind !== "joined") {
      this.refuse("not-joined", "join a network before sending", ref, true);
      return;
    }
    this.invalidStreak = 0;
    const { network, member } = this.state;
    const target = this.ctx.registry.lookup(network, to);
    if (target === undefined) {
      // Not counted as invalid: the peer may simply have left a moment ago.
      this.refuse("unknown-peer", `no member ${to} in network ${network}`, ref);
      return;
    }
    const message = outgoing({ v: 1, t: "message", from: member.nodeId, body });
    if (message === undefined) {
      this.refuse("bad-message", "send.body is nested too deeply to forward", ref, true);
      return;
    }
    // Re-encoding can grow a body (1e20 becomes 100000000000000000000); the receiver must still accept it.
    if (Buffer.byteLength(message.text) > this.ctx.limits.maxMessageBytes) {
      this.refuse("too-large", `forwarded message would exceed ${this.ctx.limits.maxMessageBytes} bytes`, ref, true);
      return;
    }
    target.deliver(message);
    this.ctx.metrics.relayed(network);
  }

  private onLeave(): void {
    if (this.state.kind === "admitting") {
      this.state.cancel();
      this.state = { kind: "waiting" };
      return;
    }
    if (this.state.kind !== "joined") {
      this.refuse("not-joined", "not in a network", undefined, true);
      return;
    }
    this.invalidStreak = 0;
    const { network, member, cert } = this.state;
    this.state = { kind: "waiting" };
    this.departed(network, member.nodeId, "leave", cert);
    // Back to waiting: an idle connection must not outlive the join timeout just by having joined once.
    this.armJoinTimer();
  }

  private onSocketClose(code: number): void {
    const wasClosing = this.state.kind === "closing";
    this.end("already-closed");
    this.log.debug({ code, byServer: wasClosing }, "disconnected");
  }

  /** The one way out of the open states: frees the membership, stops timers, closes the socket. Idempotent. */
  private end(how: { code: number; reason: string } | "terminate" | "already-closed"): void {
    const previous = this.state;
    if (previous.kind === "closing") return;
    this.state = { kind: "closing" };
    this.clearJoinTimer();
    if (previous.kind === "admitting") previous.cancel();
    if (previous.kind === "joined") {
      this.departed(previous.network, previous.member.nodeId, closeReason(how), previous.cert);
    }
    try {
      if (how === "terminate") this.ws.terminate();
      else if (how !== "already-closed") this.ws.close(how.code, how.reason);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, "close failed, terminating");
      this.ws.terminate();
    }
  }

  /** Removes this session's membership and tells the rest of the network, unless it was already replaced. */
  private departed(network: string, nodeId: string, reason: string, cert: Certificate | undefined): void {
    const left = this.ctx.registry.leave(network, nodeId, this);
    if (left === undefined) return;
    if (cert !== undefined) this.ctx.authority?.memberLeft(cert, this.ctx.wallNow());
    this.ctx.cluster?.left(network, nodeId);
    this.log.info({ network, nodeId, reason }, "left");
    if (this.ctx.isShuttingDown()) return;
    // The departed member's ring neighbourhood: the members that were told of it and may hold it in their lists.
    broadcast(
      left.neighbours.map((m) => m.peer),
      { v: 1, t: "member-left", nodeId },
    );
  }

  /** How a CA request (ca-requests.ts) answers through this connection. */
  private caReply(): CaReply {
    return { send: (m) => this.send(m), refuse: (code, message) => this.refuse(code, message), log: this.log };
  }

  /** Sends a message unless it is over the message limit (a list loaded from a file may be); logs when not. */
  private sendBounded(message: ServerMessage): void {
    const encoded = outgoing(message);
    if (encoded === undefined || Buffer.byteLength(encoded.text) > this.ctx.limits.maxMessageBytes) {
      this.log.warn({ ...this.logFields(), t: message.t }, "message over the size limit, not sent");
      return;
    }
    this.deliver(encoded);
  }

  private refuse(code: SignalErrorCode, message: string, ref?: number, invalid = false): void {
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

  private armJoinTimer(): void {
    this.clearJoinTimer();
    this.joinTimer = setTimeout(
      () =>
        this.guard(() => {
          this.log.info({}, "no join in time, closing");
          this.end({ code: SignalCloseCode.joinTimeout, reason: "join timeout" });
        }),
      this.ctx.limits.joinTimeoutMs,
    );
  }

  private clearJoinTimer(): void {
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    // Every way out of "joined" passes here (leave, end): no more credentials once not a member.
    if (this.iceTimer !== undefined) clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
  }

  /** Sends the member TURN servers with fresh credentials, and again halfway through their life. */
  private grantIceServers(): void {
    const turn = this.ctx.turn;
    if (turn === undefined || this.state.kind !== "joined") return;
    const grant = turn.grant(this.state.member.name, this.ctx.wallNow());
    this.sendBounded({ v: 1, t: "ice-servers", servers: grant.servers, expires: grant.expires });
    this.iceTimer = setTimeout(() => this.guard(() => this.grantIceServers()), grant.renewInMs);
  }

  private logFields(): Record<string, unknown> {
    return this.state.kind === "joined" ? { network: this.state.network, nodeId: this.state.member.nodeId } : {};
  }

  /**
   * Runs an event handler so that nothing it throws escapes into ws or the timer queue (where it would crash
   * the process). A bug here costs this connection, not the server.
   */
  private guard(fn: () => void): void {
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
