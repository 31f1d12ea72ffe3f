import { type ConsoleApi, ConsoleError, type NodeReport } from "../api.js";
import { withDeadline } from "./deadline.js";
import { edgeKey, type Topology, type TopologyEdge, type TopologyNode } from "./topology.js";

/** What the watcher knows about one member's own view. */
export type MemberView =
  | { readonly kind: "report"; readonly report: NodeReport }
  | { readonly kind: "refused"; readonly message: string }
  | { readonly kind: "failed"; readonly message: string };

/** Status requests in flight at once: enough to cover a small overlay per round, few enough to stay polite. */
const CONCURRENCY = 4;

/** How long one member may take to answer before the round goes on without it. */
const ANSWER_DEADLINE_MS = 5000;

/**
 * Members asked per round. A small overlay is asked whole each round; a large one in turns (the
 * members asked longest ago first), so a round stays a few seconds and the overlay is not flooded.
 */
const MEMBERS_PER_ROUND = 32;

/** Knobs for tests. */
export interface WatcherOptions {
  readonly answerDeadlineMs?: number;
  readonly membersPerRound?: number;
}

/**
 * Learns the whole overlay: the members the page knows, its own links, and every link the other members
 * report when asked `status(ip)` over the overlay. A member that refuses (the page's certificate lacks the
 * operator group) stays in the picture, marked, with only the links others report to it.
 */
export class TopologyWatcher {
  private readonly views = new Map<string, MemberView>();
  /** Round number in which each member was last asked. */
  private readonly askedIn = new Map<string, number>();
  private rounds = 0;
  private inflight: Promise<Topology> | undefined;
  private readonly answerDeadlineMs: number;
  private readonly membersPerRound: number;

  constructor(
    private readonly api: ConsoleApi,
    options: WatcherOptions = {},
  ) {
    this.answerDeadlineMs = options.answerDeadlineMs ?? ANSWER_DEADLINE_MS;
    this.membersPerRound = options.membersPerRound ?? MEMBERS_PER_ROUND;
  }

  /** The last answer of `nodeId`, if it was asked. */
  viewOf(nodeId: string): MemberView | undefined {
    return this.views.get(nodeId);
  }

  /**
   * Asks the other members for their status (all of them in a small overlay, the longest-unasked in a
   * large one) and returns the overlay as now known. One round at a time: a call during a round gets
   * that round's answer.
   */
  refresh(): Promise<Topology> {
    this.inflight ??= this.round().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async round(): Promise<Topology> {
    const self = this.api.self();
    const others = this.api.members().filter((m) => m.nodeId !== self?.nodeId);
    const wanted = new Set(others.map((m) => m.nodeId));
    for (const id of this.views.keys()) if (!wanted.has(id)) this.views.delete(id);
    for (const id of this.askedIn.keys()) if (!wanted.has(id)) this.askedIn.delete(id);
    const round = ++this.rounds;
    // Never asked first (-1), then the longest ago; sort is stable, so ties keep the members' order.
    const queue = [...others]
      .sort((a, b) => (this.askedIn.get(a.nodeId) ?? -1) - (this.askedIn.get(b.nodeId) ?? -1))
      .slice(0, this.membersPerRound);
    for (const member of queue) this.askedIn.set(member.nodeId, round);
    const worker = async (): Promise<void> => {
      for (let member = queue.shift(); member; member = queue.shift()) {
        this.views.set(member.nodeId, await this.ask(member.ip));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    return this.snapshot();
  }

  /** The overlay from what is known now, without asking anyone. */
  snapshot(): Topology {
    const self = this.api.self();
    const nodes = new Map<string, TopologyNode>();
    const edges = new Map<string, TopologyEdge>();
    if (self) nodes.set(self.nodeId, { nodeId: self.nodeId, name: self.name, ip: self.ip, self: true });
    for (const member of this.api.members()) {
      if (nodes.has(member.nodeId)) continue;
      const view = this.views.get(member.nodeId);
      nodes.set(member.nodeId, { ...member, refused: view?.kind === "refused" });
    }
    const addEdge = (a: string, b: string, rttMs: number | undefined): void => {
      const key = edgeKey(a, b);
      const known = edges.get(key);
      if (!known || known.rttMs === undefined) edges.set(key, rttMs === undefined ? { a, b } : { a, b, rttMs });
    };
    if (self) for (const peer of this.api.peers()) addEdge(self.nodeId, peer.nodeId, peer.rttMs);
    for (const [nodeId, view] of this.views) {
      if (view.kind !== "report") continue;
      for (const peer of view.report.peers) {
        // A member seen only in someone's table is still a member: the page learns the whole overlay.
        if (!nodes.has(peer.nodeId)) nodes.set(peer.nodeId, { nodeId: peer.nodeId, name: peer.name, ip: peer.ip });
        addEdge(nodeId, peer.nodeId, peer.rttMs);
      }
    }
    for (const peer of self ? this.api.peers() : []) {
      if (!nodes.has(peer.nodeId)) nodes.set(peer.nodeId, { nodeId: peer.nodeId, name: peer.name, ip: peer.ip });
    }
    return { nodes: [...nodes.values()], edges: [...edges.values()] };
  }

  private async ask(ip: string): Promise<MemberView> {
    try {
      return {
        kind: "report",
        report: await withDeadline(this.api.status(ip), this.answerDeadlineMs, `status of ${ip}`),
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ConsoleError && error.code === "refused") return { kind: "refused", message };
      return { kind: "failed", message };
    }
  }
}
