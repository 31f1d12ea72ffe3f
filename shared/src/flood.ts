import { clockwise } from "./ring.js";

/**
 * Broadcast over the ring by range partitioning. A node that holds a flood is responsible for the
 * ring range from its own address (exclusive: it has its copy) clockwise up to `end` (exclusive);
 * `end` equal to its own address means the whole ring, which is how the origin starts. It hands
 * each of its links inside that range the sub-range from the link's address up to the next such
 * link (the last one gets up to `end`). The sub-ranges are disjoint and lie inside the node's own,
 * so every node gets at most one copy and none outside the range; a node whose successor on the
 * ring is linked (near links) passes the flood on to every node of its range. Each node sends at
 * most one copy per link.
 */
export interface FloodHop<T> {
  readonly to: T;
  /** The end (exclusive) of the range the receiver is responsible for. */
  readonly end: number;
}

/**
 * Where a node at ring address `self`, responsible for (`self`, `end`), sends a flood: one hop per
 * link whose ring address (`ringOf`) lies strictly inside the range, ordered clockwise.
 */
export function floodHops<T>(
  self: number,
  end: number,
  links: Iterable<T>,
  ringOf: (link: T) => number,
): FloodHop<T>[] {
  // Clockwise offset of the range end from self; the whole ring when end is self.
  const span = end === self ? Number.POSITIVE_INFINITY : clockwise(self, end);
  const inRange: { link: T; offset: number; ring: number }[] = [];
  for (const link of links) {
    const ring = ringOf(link);
    const offset = clockwise(self, ring);
    if (offset > 0 && offset < span) inRange.push({ link, offset, ring });
  }
  inRange.sort((a, b) => a.offset - b.offset);
  const hops: FloodHop<T>[] = [];
  for (let i = 0; i < inRange.length; i++) {
    const next = inRange[i + 1];
    // Two links at one ring address (a restarted peer) would get empty ranges: skip the duplicate.
    if (next !== undefined && next.ring === inRange[i]!.ring) continue;
    hops.push({ to: inRange[i]!.link, end: next === undefined ? end : next.ring });
  }
  return hops;
}

/**
 * At most `perSecond` floods per source ring address in each one-second window. The window's
 * counts are forgotten when it ends, so the state is bounded by the sources seen in one second
 * (each one checked against spoofing first, so by the members).
 */
export class FloodLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private readonly counts = new Map<number, number>();

  /** Counts a flood from `source` at `now` (ms); false when it is over the limit and must be dropped. */
  allow(now: number, source: number, perSecond: number): boolean {
    if (now - this.windowStart >= 1000 || now < this.windowStart) {
      this.counts.clear();
      this.windowStart = now;
    }
    const count = (this.counts.get(source) ?? 0) + 1;
    this.counts.set(source, count);
    return count <= perSecond;
  }
}
