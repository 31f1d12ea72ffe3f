/**
 * Remembers, for ring addresses that recently sent us routed frames, which link they came in on, so
 * answers retrace the request's path. This is what lets a node that has only one link so far (a new
 * node, or a node whose ring neighbours have not linked to it yet) get answers: greedy routing alone
 * would deliver them to whichever node is closest to its address, which is not yet itself.
 *
 * A source's frames may reach this node along several paths (its traces to many nodes, say). Which
 * one is kept: the way whose frames arrived with the most hops left (the shortest way seen), and a
 * frame on another link replaces it only with strictly more. Each node forwards a frame with one hop
 * fewer than it had, so the node a way back points at has always seen the source's frames with more
 * hops left than the pointing node: following ways back, hops left only grow, and they cannot form a
 * loop (until an entry expires or its link closes and is learned afresh). Keeping whichever way came
 * last instead made two nodes that each last heard a source through the other send its answers back
 * and forth until the hop limit; in the fifty-agent lab that kept answers to a few nodes from
 * arriving for a minute (docs/bench.md).
 */
export class RouteCache {
  private readonly entries = new Map<number, { linkId: number; hopsLeft: number; expiresAt: number }>();

  constructor(
    private readonly capacity = 4096,
    private readonly ttlMs = 30_000,
  ) {}

  /** A routed frame from `ring` came in on `linkId` with `hopsLeft` (its TTL on arrival). */
  learn(now: number, ring: number, linkId: number, hopsLeft: number): void {
    const entry = this.entries.get(ring);
    if (entry !== undefined && entry.expiresAt >= now) {
      if (entry.linkId === linkId) {
        // Frames on the way kept keep it fresh, and say how short it is now.
        entry.expiresAt = now + this.ttlMs;
        if (hopsLeft > entry.hopsLeft) entry.hopsLeft = hopsLeft;
      } else if (hopsLeft > entry.hopsLeft) {
        entry.linkId = linkId;
        entry.hopsLeft = hopsLeft;
        entry.expiresAt = now + this.ttlMs;
      }
      return;
    }
    // An expired entry is learned afresh, at the young end of the age order.
    if (entry !== undefined) this.entries.delete(ring);
    // Insertion order is age order: evict the oldest when full.
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(ring, { linkId, hopsLeft, expiresAt: now + this.ttlMs });
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
