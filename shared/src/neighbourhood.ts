import { clockwise, RING_SIZE } from "./ring.js";

export interface RingPeer {
  readonly nodeId: string;
  readonly ring: number;
}

/**
 * The `perSide` closest peers clockwise and the `perSide` closest counter-clockwise of `self`: the
 * near neighbours every node keeps links to, which make greedy routing always able to progress.
 */
export function nearNeighbours(self: number, peers: Iterable<RingPeer>, perSide: number): Set<string> {
  const after: Array<[number, string]> = [];
  const before: Array<[number, string]> = [];
  for (const peer of peers) {
    const cw = clockwise(self, peer.ring);
    if (cw === 0) continue;
    after.push([cw, peer.nodeId]);
    before.push([RING_SIZE - cw, peer.nodeId]);
  }
  const pick = (list: Array<[number, string]>) =>
    list
      .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
      .slice(0, perSide)
      .map(([, id]) => id);
  return new Set([...pick(after), ...pick(before)]);
}
