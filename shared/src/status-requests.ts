import { parseIpv4Address } from "./ipv4.js";
import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import { type NodeTrust, refusalReason } from "./node-trust.js";
import type { MemberInfo } from "./signaling-protocol.js";

/** The group a requester's certificate must carry for a node to answer its status requests. */
export const DEFAULT_OPERATOR_GROUP = "ops";
/** Requests asked of this node that its host has not answered yet; more are refused as busy. */
const MAX_UNANSWERED = 64;
/** Requests this node sent and still waits for; the oldest is forgotten beyond this. */
const MAX_OUTSTANDING = 256;

/** Who asked for this node's status, as its certificate says (the host decides nothing more). */
export interface StatusRequester {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  readonly groups: readonly string[];
}

/**
 * Remote status (the console's view of the whole overlay): a node asks another, over the overlay,
 * for its peer table and counters. The request is a `status-request` routed to the target's ring
 * address; it carries a link envelope sealed by the requester's node key for the target's node id
 * (the same seal as link setup: certificate, freshness, replay cache), so nobody can ask in another
 * member's name or replay an old request. The target answers only when the requester's certificate
 * carries the operator group; otherwise, and for a seal that does not hold, it answers with a refusal.
 *
 * The core knows no transport facts (candidate pairs, byte counts the WebRTC stack keeps), so the
 * report itself is the host's: an accepted request becomes a `status-asked` event, and the host
 * answers with `answer()`. Replies are routed back to the address the requester's certificate owns.
 */
export class StatusRequests {
  /** Requests asked of us, by handle: where and under which id to answer. */
  private readonly unanswered = new Map<number, { readonly ring: number; readonly id: number }>();
  private readonly outstanding = new Set<number>();
  private nextHandle = 1;
  private nextId = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly trust: NodeTrust,
    private readonly messenger: Messenger,
    private readonly operatorGroup: string,
  ) {}

  /** Asks the node `target` (at virtual address `ip`) for its status; returns the id of the result event. */
  ask(now: number, ip: number, target: string): number {
    const id = this.nextId++;
    this.outstanding.add(id);
    if (this.outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.outstanding.values().next().value;
      if (oldest !== undefined) this.outstanding.delete(oldest);
    }
    const sealed = this.trust.seal(this.ctx.clock.wallMs, target, { status: id });
    this.messenger.sendRouted(now, this.ctx.rings.of(ip), { t: "status-request", id, from: this.ctx.self, sealed });
    return id;
  }

  /** A status request ended here. */
  arrived(now: number, id: number, from: MemberInfo, sealed: unknown, exact: boolean): void {
    const address = parseIpv4Address(from.ip);
    if (address === null) return this.ctx.drops.add("message-bad-status");
    const replyTo = this.ctx.rings.of(address);
    const refuse = (reason: string): void => {
      this.ctx.drops.add(`status-refused-${reason.split(":")[0]}`);
      this.messenger.sendRouted(now, replyTo, { t: "status-reply", id, refused: reason });
    };
    if (!exact && from.nodeId === this.ctx.self.nodeId)
      return refuse("no-route: this node has no link to send it on yet");
    if (!exact) return refuse("no-such-node: nobody owns that address");
    const opened = this.trust.open(this.ctx.clock.wallMs, sealed, "deliver");
    if (!opened.ok) return refuse(`${refusalReason(opened)}: ${opened.message}`);
    const sender = opened.value;
    if (sender.from !== from.nodeId || !sender.owns(address)) {
      return refuse(`sender-mismatch: the seal is not ${from.name}'s at ${from.ip}`);
    }
    const envelope = sender.envelope as { status?: unknown } | null;
    if (typeof envelope !== "object" || envelope === null || envelope.status !== id) {
      return refuse("bad-request: the seal is for another request");
    }
    if (!sender.groups.includes(this.operatorGroup)) {
      return refuse(`not-operator: ${sender.name}'s certificate lacks the group "${this.operatorGroup}"`);
    }
    if (this.unanswered.size >= MAX_UNANSWERED) return refuse("busy: too many status requests at once");
    const handle = this.nextHandle++;
    this.unanswered.set(handle, { ring: replyTo, id });
    const requester: StatusRequester = { nodeId: sender.from, name: sender.name, ip: from.ip, groups: sender.groups };
    this.ctx.actions.emit({ kind: "status-asked", handle, requester });
  }

  /** The host's report for the request `handle` (a JSON value); false when no such request waits. */
  answer(now: number, handle: number, report: unknown): boolean {
    const request = this.unanswered.get(handle);
    if (request === undefined) return false;
    this.unanswered.delete(handle);
    this.messenger.sendRouted(now, request.ring, { t: "status-reply", id: request.id, report });
    return true;
  }

  /** The answer to a request of ours: a report, or why it was refused. */
  handleReply(id: number, report: unknown, refused: string | undefined): void {
    if (!this.outstanding.delete(id)) return;
    this.ctx.actions.emit(
      refused === undefined ? { kind: "status-result", id, report } : { kind: "status-result", id, refused },
    );
  }
}
