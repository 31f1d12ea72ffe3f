import {
  type Certificate,
  type JoinCredential,
  type MemberInfo,
  type ServerMessage,
  SignalCloseCode,
  type SignalErrorCode,
} from "@ipop/shared";
import { type CaReply, refuseByAuthority } from "./ca-requests.js";
import type { SignalLogger } from "./logger.js";
import { broadcast, type MemberPeer } from "./member-peer.js";
import { claimRefusal, enterNetwork, type NetworkEntry } from "./network-entry.js";
import type { Session } from "./session.js";
import type { SessionContext } from "./session-context.js";
import { type OutgoingMessage, outgoing } from "./wire.js";

type MembershipState =
  | { readonly kind: "waiting" }
  | {
      /** With `--redis`: the join waits for Redis to admit it (cluster/redis-cluster.ts). */
      readonly kind: "admitting";
      readonly network: string;
      readonly member: MemberInfo;
      /** Withdraws the claim when the connection ends or leaves first. */
      cancel: () => void;
    }
  | {
      readonly kind: "joined";
      readonly network: string;
      readonly member: MemberInfo;
      /** The member's verified certificate, when the server has a CA. */
      readonly cert?: Certificate;
    };

/** What a {@link Membership} needs from the connection it belongs to: the {@link Session} itself (session.ts). */
export interface MembershipConnection {
  /** The connection as the registry holds it. */
  readonly peer: MemberPeer;
  /** Sends an encoded message on this connection. */
  deliver(message: OutgoingMessage): void;
  /** Answers with an `error`; `invalid` counts it towards the invalid-message limit. */
  refuse(code: SignalErrorCode, message: string, ref?: number, invalid?: boolean): void;
  /** A valid request arrived: the streak of invalid ones starts over. */
  accepted(): void;
  /** Closes the connection with `code`. */
  end(close: { readonly code: number; readonly reason: string }): void;
  /** How a CA refusal answers through this connection. */
  caReply(): CaReply;
  /** Joined: the connection no longer has to join in time. */
  stopJoinTimer(): void;
  /** Left: the connection must join again in time. */
  startJoinTimer(): void;
  /** Runs a callback so that nothing it throws escapes (it costs the connection, not the server). */
  guard(fn: () => void): void;
}

/**
 * One connection's place in a network: the join path (the CA's check, Redis's claim with `--redis`,
 * the registry's entry, the welcome and the neighbourhood's notices), the relay of `send`, `leave`,
 * and what a departure tells the others. The connection itself (framing, limits, liveness, closing)
 * is the {@link MembershipConnection}.
 */
export class Membership {
  private state: MembershipState = { kind: "waiting" };
  /** Sends fresh TURN credentials before the last ones expire, while joined. */
  private iceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: SessionContext,
    private readonly conn: MembershipConnection,
    private readonly log: SignalLogger,
  ) {}

  /** `join`: admits the member (perhaps later, with `--redis`) or refuses it. */
  join(network: string, member: MemberInfo, credential: JoinCredential | undefined): void {
    if (this.state.kind === "joined" || this.state.kind === "admitting") {
      const where = this.state.network;
      this.conn.refuse("already-joined", `already joined network ${where}; leave first`, undefined, true);
      return;
    }
    const { authority, cluster } = this.ctx;
    let cert: Certificate | undefined;
    if (authority !== undefined) {
      const admitted = authority.admitJoin(network, member, credential, this.ctx.wallNow());
      if (!admitted.ok) {
        const refused = { network, nodeId: member.nodeId, ip: member.ip };
        refuseByAuthority(this.conn.caReply(), admitted, refused, "join refused");
        if (admitted.closeCode !== undefined) this.conn.end({ code: admitted.closeCode, reason: admitted.code });
        return;
      }
      cert = admitted.cert;
    }
    this.conn.accepted();
    if (cluster === undefined) {
      this.enter(network, member, cert);
      return;
    }
    // With several instances, Redis decides: two instances admitting clashing joins at once must not
    // both let them in. The member is admitted when its claim's event comes back, in event order.
    const admitting: MembershipState = { kind: "admitting", network, member, cancel: () => undefined };
    this.state = admitting;
    admitting.cancel = cluster.claim(network, member, (verdict) =>
      this.conn.guard(() => {
        if (this.state !== admitting) return;
        this.state = { kind: "waiting" };
        if (verdict.ok) {
          if (!this.enter(network, member, cert)) cluster.left(network, member.nodeId);
          return;
        }
        if (verdict.reason === "unavailable") {
          this.log.warn({ network, nodeId: member.nodeId }, "join not admitted: Redis did not answer");
          this.conn.end({ code: SignalCloseCode.tryAgainLater, reason: "membership store unavailable" });
          return;
        }
        this.refuseEntry(network, member, claimRefusal(network, member, verdict, this.ctx.limits.maxMembers));
      }),
    );
  }

  /** `send`: relays `body` to the member `to` of this connection's network. */
  relay(to: string, body: unknown, ref: number | undefined): void {
    if (this.state.kind !== "joined") {
      this.conn.refuse("not-joined", "join a network before sending", ref, true);
      return;
    }
    this.conn.accepted();
    const { network, member } = this.state;
    const target = this.ctx.registry.lookup(network, to);
    if (target === undefined) {
      // Not counted as invalid: the peer may simply have left a moment ago.
      this.conn.refuse("unknown-peer", `no member ${to} in network ${network}`, ref);
      return;
    }
    const message = outgoing({ v: 1, t: "message", from: member.nodeId, body });
    if (message === undefined) {
      this.conn.refuse("bad-message", "send.body is nested too deeply to forward", ref, true);
      return;
    }
    // Re-encoding can grow a body (1e20 becomes 100000000000000000000); the receiver must still accept it.
    const limit = this.ctx.limits.maxMessageBytes;
    if (Buffer.byteLength(message.text) > limit) {
      this.conn.refuse("too-large", `forwarded message would exceed ${limit} bytes`, ref, true);
      return;
    }
    target.deliver(message);
    this.ctx.metrics.relayed(network);
  }

  /** `leave`: out of the network (or its pending claim withdrawn), back to waiting for a join. */
  leave(): void {
    if (this.state.kind === "admitting") {
      this.state.cancel();
      this.state = { kind: "waiting" };
      return;
    }
    if (this.state.kind !== "joined") {
      this.conn.refuse("not-joined", "not in a network", undefined, true);
      return;
    }
    this.conn.accepted();
    const { network, member, cert } = this.state;
    this.state = { kind: "waiting" };
    this.clearIceTimer();
    this.departed(network, member.nodeId, "leave", cert);
    // Back to waiting: an idle connection must not outlive the join timeout just by having joined once.
    this.conn.startJoinTimer();
  }

  /** The connection is ending: withdraws a pending claim or leaves the network, saying `reason`. */
  end(reason: string): void {
    const previous = this.state;
    this.state = { kind: "waiting" };
    this.clearIceTimer();
    if (previous.kind === "admitting") previous.cancel();
    if (previous.kind === "joined") this.departed(previous.network, previous.member.nodeId, reason, previous.cert);
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
    this.conn.end({ code: SignalCloseCode.revoked, reason: "certificate revoked" });
    return true;
  }

  /** The network and node id, for log lines, while joined. */
  logFields(): Record<string, unknown> {
    return this.state.kind === "joined" ? { network: this.state.network, nodeId: this.state.member.nodeId } : {};
  }

  /** Joins `network` in the registry and tells the newcomer and its neighbourhood; false if refused. */
  private enter(network: string, member: MemberInfo, cert: Certificate | undefined): boolean {
    const { limits, registry, authority } = this.ctx;
    const entry = enterNetwork(registry, limits, network, member, this.conn.peer);
    if (!entry.ok) {
      this.refuseEntry(network, member, entry);
      return false;
    }
    this.conn.stopJoinTimer();
    this.state = cert === undefined ? { kind: "joined", network, member } : { kind: "joined", network, member, cert };
    if (cert !== undefined) authority?.memberJoined(cert);
    if (entry.replaced !== undefined) {
      this.log.info({ network, nodeId: member.nodeId }, "node id rejoined; replacing its old connection");
      entry.replaced.peer.close(SignalCloseCode.replaced, "replaced by a newer connection");
    }
    this.ctx.metrics.joined(network);
    this.conn.deliver(entry.welcome);
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
    this.conn.refuse(refusal.code, refusal.message);
    const holder = refusal.holder?.nodeId;
    this.log.info(
      { network, nodeId: member.nodeId, ip: member.ip, ...(holder === undefined ? {} : { holder }) },
      `join refused: ${refusal.closeReason}`,
    );
    this.conn.end({ code: refusal.closeCode, reason: refusal.closeReason });
  }

  /** Removes this membership from the registry and tells the rest of the network, unless it was already replaced. */
  private departed(network: string, nodeId: string, reason: string, cert: Certificate | undefined): void {
    const left = this.ctx.registry.leave(network, nodeId, this.conn.peer);
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

  /** Sends the member TURN servers with fresh credentials, and again halfway through their life. */
  private grantIceServers(): void {
    const turn = this.ctx.turn;
    if (turn === undefined || this.state.kind !== "joined") return;
    const grant = turn.grant(this.state.member.name, this.ctx.wallNow());
    this.sendBounded({ v: 1, t: "ice-servers", servers: grant.servers, expires: grant.expires });
    this.iceTimer = setTimeout(() => this.conn.guard(() => this.grantIceServers()), grant.renewInMs);
  }

  private clearIceTimer(): void {
    if (this.iceTimer !== undefined) clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
  }

  /** Sends a message unless it is over the message limit (a list loaded from a file may be); logs when not. */
  private sendBounded(message: ServerMessage): void {
    const encoded = outgoing(message);
    if (encoded === undefined || Buffer.byteLength(encoded.text) > this.ctx.limits.maxMessageBytes) {
      this.log.warn({ ...this.logFields(), t: message.t }, "message over the size limit, not sent");
      return;
    }
    this.conn.deliver(encoded);
  }
}
