import { RoutedKind } from "./frame.js";
import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { decodeTrace, encodeTrace } from "./trace-path.js";

/**
 * `ipop ping`: an overlay-level echo that says which way it went. A ping is a trace payload
 * (trace-path.ts) routed as its own kind: transit hops append themselves without decoding it, and the
 * node where it ends answers with a `ping-reply` holding the path and whether the ping came straight
 * over a link from its origin. The answer, or its absence after `pingTimeoutMs`, becomes a
 * `ping-result` event with the round trip measured on the times the events came in with.
 *
 * A ping that has no direct link to take counts towards the conversation that earns one (the
 * on-demand links of `Neighbourhood`), as any packet routed over several hops does: pinging fast
 * enough (`onDemandPackets` within `onDemandWindowMs`) brings a direct link up, which is what
 * `ipop ping --until-direct` waits for.
 */
export class Pings {
  /** Pings this node sent and still waits for: id -> when sent. */
  private readonly pending = new Map<number, number>();
  private nextId = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly messenger: Messenger,
    /** This node's hop entry, encoded once (trace-path.ts). */
    private readonly selfHop: Uint8Array,
    /** Counts a packet exchanged with `address` over several hops (Neighbourhood.countConversation). */
    private readonly conversation: (now: number, address: number, ring: number) => void,
  ) {}

  /** Sends a ping towards `ip`; returns the id its `ping-result` event will carry. */
  start(now: number, ip: number): number {
    const { ctx } = this;
    const id = this.nextId++;
    const ring = ctx.rings.of(ip);
    this.pending.set(id, now);
    ctx.timers.set("ping", id, now + ctx.timing.pingTimeoutMs);
    if (ring !== ctx.ring && !ctx.links.byRing.has(ring)) this.conversation(now, ip, ring);
    this.messenger.sendTrace(now, ring, encodeTrace(id, this.selfHop), RoutedKind.ping);
    return id;
  }

  /** A ping ended here: answer its origin with the path, this node last, and how it came. */
  arrived(now: number, payload: Uint8Array, source: number, exact: boolean): void {
    const ping = decodeTrace(payload);
    if (typeof ping === "string") {
      this.ctx.drops.add("message-bad-ping");
      return;
    }
    const { self, ring, links } = this.ctx;
    // A ping that never left its origin holds its origin already.
    const local = source === ring && ping.path.length === 1 && ping.path[0]!.nodeId === self.nodeId;
    const path = local ? ping.path : [...ping.path, self];
    // No transit hop added itself, and the origin is a peer of ours: it came over that link.
    const direct = !local && ping.path.length === 1 && links.byRing.get(source)?.peer.nodeId === ping.path[0]!.nodeId;
    this.messenger.sendRouted(now, source, { t: "ping-reply", id: ping.id, path, owner: exact, direct });
  }

  /** The answer to a ping of ours. */
  handleReply(now: number, id: number, path: readonly MemberInfo[], owner: boolean, direct: boolean): void {
    const sentAt = this.pending.get(id);
    if (sentAt === undefined) return;
    this.pending.delete(id);
    this.ctx.timers.clear("ping", id);
    this.ctx.actions.emit({ kind: "ping-result", id, complete: true, rttMs: now - sentAt, path, owner, direct });
  }

  /** A ping's deadline came without an answer. */
  handleTimer(id: number): void {
    if (this.pending.delete(id)) {
      this.ctx.actions.emit({
        kind: "ping-result",
        id,
        complete: false,
        rttMs: null,
        path: [],
        owner: false,
        direct: false,
      });
    }
  }
}
