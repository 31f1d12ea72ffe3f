import type { MemberInfo } from "@ipop/shared";

/**
 * The signaling server as the simulator models it: a welcome lists the members closest on the ring
 * to the newcomer (its likely neighbours), and only they hear of its arrival. This keeps a join
 * O(log N) instead of O(N) in messages and memory.
 */
export class SignalingModel {
  /** Members sorted by ring address. */
  private readonly sorted: Array<{ ring: number; id: string; member: MemberInfo }> = [];
  private readonly ringOfMember = new Map<string, number>();

  constructor(private readonly welcomeSize: number) {}

  has(id: string): boolean {
    return this.ringOfMember.has(id);
  }

  get size(): number {
    return this.sorted.length;
  }

  join(id: string, ring: number, member: MemberInfo): { welcome: MemberInfo[]; notify: string[] } {
    const i = this.indexOf(ring);
    const closest: MemberInfo[] = [];
    const n = this.sorted.length;
    const take = Math.min(n, this.welcomeSize);
    for (let k = 0; k < take; k++) {
      // Alternate right and left of the insertion point.
      const offset = k % 2 === 0 ? k / 2 : -(k + 1) / 2;
      closest.push(this.sorted[(((i + offset) % n) + n) % n]!.member);
    }
    this.sorted.splice(i, 0, { ring, id, member });
    this.ringOfMember.set(id, ring);
    return { welcome: closest, notify: closest.map((m) => m.nodeId) };
  }

  leave(id: string): void {
    const ring = this.ringOfMember.get(id);
    if (ring === undefined) return;
    this.ringOfMember.delete(id);
    let i = this.indexOf(ring);
    while (i < this.sorted.length && this.sorted[i]!.id !== id) i++;
    if (i < this.sorted.length) this.sorted.splice(i, 1);
  }

  clear(): void {
    this.sorted.length = 0;
    this.ringOfMember.clear();
  }

  /** First index whose ring is not below `ring` (binary search). */
  private indexOf(ring: number): number {
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
