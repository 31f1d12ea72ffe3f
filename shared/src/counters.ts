/** Counts drops (or any events) by reason; reasons are a small fixed vocabulary, never packet data. */
export class Counters {
  private readonly counts = new Map<string, number>();

  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** A plain object snapshot, for status output. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
