/**
 * Remembers, for ring addresses that recently sent us routed frames, which link they came in on, so
 * answers retrace the request's path. This is what lets a node that has only one link so far (a new
 * node, or a node whose ring neighbours have not linked to it yet) get answers: greedy routing alone
 * would deliver them to whichever node is closest to its address, which is not yet itself.
 */
export class RouteCache {
  private readonly entries = new Map<number, { linkId: number; expiresAt: number }>();

  constructor(
    private readonly capacity = 4096,
    private readonly ttlMs = 30_000,
  ) {}

  /**
   * A routed frame from `ring` came in on `linkId`. The first way learned stands until it expires
   * (refreshed only by frames on that same link) or its link is forgotten: a source whose frames
   * reach this node along several paths (its traces to many nodes, say) would otherwise flip the
   * entry to whichever came last, and two nodes that each last heard it through the other send its
   * answers back and forth until the hop limit. In the fifty-agent lab such pairs kept every answer
   * to a few nodes from arriving for a minute (docs/bench.md). Kept first, an entry only points at a
   * node that heard from the source earlier, so the ways back cannot form a loop (until links close).
   */
  learn(now: number, ring: number, linkId: number): void {
    const entry = this.entries.get(ring);
    if (entry !== undefined && entry.expiresAt >= now) {
      if (entry.linkId === linkId) entry.expiresAt = now + this.ttlMs;
      return;
    }
    // An expired entry is learned afresh, at the young end of the age order.
    if (entry !== undefined) this.entries.delete(ring);
    // Insertion order is age order: evict the oldest when full.
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(ring, { linkId, expiresAt: now + this.ttlMs });
  }

  lookup(now: number, ring: number): number | undefined {
    const entry = this.entries.get(ring);
    if (entry === undefined) return undefined;
    if (entry.expiresAt < now) {
      this.entries.delete(ring);
      return undefined;
    }
    return entry.linkId;
  }

  forgetLink(linkId: number): void {
    for (const [ring, entry] of this.entries) if (entry.linkId === linkId) this.entries.delete(ring);
  }
}
