import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { decodeTrace, encodeTrace } from "./trace-path.js";

/**
 * How long a trace waits for its answer before it is sent again (same id), until `traceTimeoutMs`.
 * While a ring forms, links open, close and replace each other under a trace in flight and take it
 * (or its answer) with them: in the fifty-agent lab such a lost trace cost the whole 5 s timeout
 * before `ipop route` could say the pair was routable. Answers there took a median 30-200 ms, but up
 * to 2-3 s in the first seconds while fifty agents set up their links on two busy cores, so some
 * resends duplicate a trace that is merely slow (docs/bench.md); a trace is small, and a second
 * answer is ignored.
 */
export const TRACE_RESEND_MS = 1_000;

/** A trace this node started and still waits for. */
interface PendingTrace {
  /** The virtual address traced towards. */
  readonly address: number;
  /** Its ring address. */
  readonly destination: number;
  /** When it is reported as incomplete. */
  readonly deadline: number;
}

/**
 * `ipop route`: traces the overlay path towards an address. A trace is routed like a message; every
 * transit hop adds itself (trace-path.ts), and the node where it ends answers with the whole path.
 * The first answer, or its absence after `traceTimeoutMs` (resent every {@link TRACE_RESEND_MS}
 * meanwhile), becomes a `trace-result` event.
 */
export class Traces {
  /** Traces this node started and still waits for, by id. */
  private readonly pending = new Map<number, PendingTrace>();
  private nextId = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly messenger: Messenger,
    /** This node's trace hop entry, encoded once. */
    private readonly selfHop: Uint8Array,
  ) {}

  /** Starts tracing the path towards `ip`; returns the id its `trace-result` event will carry. */
  start(now: number, ip: number): number {
    const id = this.nextId++;
    this.send(now, id, {
      address: ip,
      destination: this.ctx.rings.of(ip),
      deadline: now + this.ctx.timing.traceTimeoutMs,
    });
    return id;
  }

  /** Sends (or sends again) trace `id`, or answers it at once when a link reaches its destination. */
  private send(now: number, id: number, trace: PendingTrace): void {
    const { ctx } = this;
    const direct = ctx.links.byAddress.get(trace.address);
    if (direct !== undefined) {
      this.pending.delete(id);
      ctx.timers.clear("trace", id);
      ctx.actions.emit({ kind: "trace-result", id, path: [ctx.self, direct.peer], owner: true, complete: true });
      return;
    }
    this.pending.set(id, trace);
    ctx.timers.set("trace", id, Math.min(now + TRACE_RESEND_MS, trace.deadline));
    this.messenger.sendTrace(now, trace.destination, encodeTrace(id, this.selfHop));
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

  /** The answer to a trace of ours: the first one counts. */
  handleReply(id: number, path: readonly MemberInfo[], owner: boolean): void {
    if (!this.pending.delete(id)) return;
    this.ctx.timers.clear("trace", id);
    this.ctx.actions.emit({ kind: "trace-result", id, path, owner, complete: true });
  }

  /** A trace's timer came without an answer: send it again, or report it incomplete at its deadline. */
  handleTimer(now: number, id: number): void {
    const trace = this.pending.get(id);
    if (trace === undefined) return;
    if (now < trace.deadline) {
      this.send(now, id, trace);
      return;
    }
    this.pending.delete(id);
    this.ctx.actions.emit({ kind: "trace-result", id, path: [], owner: false, complete: false });
  }
}
