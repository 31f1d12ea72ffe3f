/** One entry of a {@link RingRoster}: a ring position and what sits there. */
export interface RingEntry<T> {
  readonly ring: number;
  readonly id: string;
  readonly value: T;
}

/**
 * The members of one network in ring order, so the server can answer "who is closest to this ring
 * position" in O(log N + k) without looking at everyone. A join's `welcome` and the join and leave
 * notices go only to that neighbourhood: a network of 10,000 members costs each join a few dozen
 * messages instead of 10,000.
 *
 * The neighbourhood is taken alternately clockwise and anticlockwise from the position (the first
 * successor, the first predecessor, the second successor, ...), the way the simulator's model of the
 * server does it (test/src/sim/signaling-model.ts), so both sides of a newcomer's ring place are
 * covered: those are where its near links go.
 *
 * Insertion and removal splice a sorted array: O(N) moves, but of pointers, which at 10,000 members is
 * a few microseconds and far less memory than a balanced tree's nodes.
 */
export class RingRoster<T> {
  private readonly sorted: RingEntry<T>[] = [];

  get size(): number {
    return this.sorted.length;
  }

  /** Adds `id` at `ring`. The caller removes an older entry of the same id first. */
  insert(ring: number, id: string, value: T): void {
    const entry = { ring, id, value };
    this.sorted.splice(this.lowerBound(ring), 0, entry);
  }

  /** Removes the entry of `id` at `ring`; returns whether there was one. */
  remove(ring: number, id: string): boolean {
    // Positions are hashes, so equal rings are rare; walk the few that share this one.
    for (let i = this.lowerBound(ring); i < this.sorted.length && this.sorted[i]!.ring === ring; i++) {
      if (this.sorted[i]!.id === id) {
        this.sorted.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /**
   * Up to `count` entries around `ring`, alternating clockwise and anticlockwise from it, leaving out
   * `exclude` (the asker itself). All entries when there are no more than `count` others.
   */
  closest(ring: number, count: number, exclude?: string): T[] {
    const n = this.sorted.length;
    const out: T[] = [];
    if (n === 0 || count <= 0) return out;
    const start = this.lowerBound(ring);
    // Successors from `start` onward, predecessors from `start - 1` backward; each index at most once.
    let after = 0;
    let before = 0;
    let clockwiseTurn = true;
    while (out.length < count && after + before < n) {
      let entry: RingEntry<T>;
      if (clockwiseTurn) {
        entry = this.sorted[(start + after) % n]!;
        after++;
      } else {
        entry = this.sorted[(((start - 1 - before) % n) + n) % n]!;
        before++;
      }
      clockwiseTurn = !clockwiseTurn;
      if (entry.id !== exclude) out.push(entry.value);
    }
    return out;
  }

  /** Every value, in ring order. */
  values(): T[] {
    return this.sorted.map((entry) => entry.value);
  }

  /** First index whose ring is not below `ring` (binary search). */
  private lowerBound(ring: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.ring < ring) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
