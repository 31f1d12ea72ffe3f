/**
 * Counts packets exchanged over multi-hop paths per remote node, in fixed windows, to decide when a
 * pair deserves a direct (on-demand) link.
 */
export class TrafficMeter {
  private readonly counts = new Map<number, { windowStart: number; packets: number }>();

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly capacity = 1024,
  ) {}

  /** Counts one packet to or from `address`; true exactly when the count reaches the threshold. */
  count(now: number, address: number): boolean {
    let entry = this.counts.get(address);
    if (entry === undefined || now - entry.windowStart >= this.windowMs) {
      if (entry === undefined && this.counts.size >= this.capacity) this.counts.clear();
      entry = { windowStart: now, packets: 0 };
      this.counts.set(address, entry);
    }
    entry.packets++;
    return entry.packets === this.threshold;
  }

  forget(address: number): void {
    this.counts.delete(address);
  }
}
