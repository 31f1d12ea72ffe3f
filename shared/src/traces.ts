import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { decodeTrace, encodeTrace } from "./trace-path.js";

/**
 * `ipop route`: traces the overlay path towards an address. A trace is routed like a message; every
 * transit hop adds itself (trace-path.ts), and the node where it ends answers with the whole path.
 * The answer, or its absence after `traceTimeoutMs`, becomes a `trace-result` event.
 */
export class Traces {
  /** Traces this node started and still waits for. */
  private readonly pending = new Set<number>();
  private nextId = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly messenger: Messenger,
    /** This node's trace hop entry, encoded once. */
    private readonly selfHop: Uint8Array,
  ) {}

  /** Starts tracing the path towards `ip`; returns the id its `trace-result` event will carry. */
  start(now: number, ip: number): number {
    const { ctx } = this;
    const id = this.nextId++;
    const direct = ctx.links.byAddress.get(ip);
    if (direct !== undefined) {
      ctx.actions.emit({ kind: "trace-result", id, path: [ctx.self, direct.peer], owner: true, complete: true });
      return id;
    }
    this.pending.add(id);
    ctx.timers.set("trace", id, now + ctx.timing.traceTimeoutMs);
    this.messenger.sendTrace(now, ctx.rings.of(ip), encodeTrace(id, this.selfHop));
    return id;
  }

  /** A trace ended here: answer its origin with the path, this node last. */
  arrived(now: number, payload: Uint8Array, source: number, exact: boolean): void {
    const trace = decodeTrace(payload);
    if (typeof trace === "string") {
      this.ctx.drops.add(`message-${trace}`);
      return;
    }
    const { self } = this.ctx;
    // A trace that never left its origin holds its origin already.
    const local = source === this.ctx.ring && trace.path.length === 1 && trace.path[0]!.nodeId === self.nodeId;
    const path = local ? trace.path : [...trace.path, self];
    this.messenger.sendRouted(now, source, { t: "trace-reply", id: trace.id, path, owner: exact });
  }

  /** The answer to a trace of ours. */
  handleReply(id: number, path: readonly MemberInfo[], owner: boolean): void {
    if (!this.pending.delete(id)) return;
    this.ctx.timers.clear("trace", id);
    this.ctx.actions.emit({ kind: "trace-result", id, path, owner, complete: true });
  }

  /** A trace's deadline came without an answer. */
  handleTimer(id: number): void {
    if (this.pending.delete(id)) {
      this.ctx.actions.emit({ kind: "trace-result", id, path: [], owner: false, complete: false });
    }
  }
}
