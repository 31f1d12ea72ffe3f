import type { LinkRecord } from "./link-record.js";
import { RING_SIZE, ringDistance } from "./ring.js";

/** The node's links, indexed every way the core looks them up. */
export class LinkTable {
  readonly byId = new Map<number, LinkRecord>();
  readonly byPeer = new Map<string, LinkRecord>();
  readonly bySession = new Map<string, LinkRecord>();
  /** Virtual address -> up link: the direct-delivery fast path. */
  readonly byAddress = new Map<number, LinkRecord>();
  /** Ring address -> up link: exact next hops for routed frames. */
  readonly byRing = new Map<number, LinkRecord>();
  /** Up links, for greedy routing; an array so the hot loop does not iterate a Map. */
  up: LinkRecord[] = [];

  add(link: LinkRecord): void {
    this.byId.set(link.id, link);
    this.byPeer.set(link.peer.nodeId, link);
    this.bySession.set(link.session, link);
  }

  /** Marks `link` up; returns the link it displaced for the same address, if any. */
  markUp(link: LinkRecord): LinkRecord | undefined {
    const previous = this.byAddress.get(link.peerAddress);
    this.byAddress.set(link.peerAddress, link);
    this.byRing.set(link.ring, link);
    this.up.push(link);
    return previous !== undefined && previous !== link ? previous : undefined;
  }

  remove(link: LinkRecord): void {
    this.byId.delete(link.id);
    if (this.byPeer.get(link.peer.nodeId) === link) this.byPeer.delete(link.peer.nodeId);
    this.bySession.delete(link.session);
    if (this.byAddress.get(link.peerAddress) === link) this.byAddress.delete(link.peerAddress);
    if (this.byRing.get(link.ring) === link) this.byRing.delete(link.ring);
    const i = this.up.indexOf(link);
    if (i >= 0) this.up.splice(i, 1);
  }

  /**
   * Greedy next hop towards `destination` with one hop of lookahead: of the up links still needed by
   * either side whose peer is strictly closer to it than `selfRing` is, the one through which it gets closest, counting the
   * peer itself and the peer's own links (`purpose.peerLinks`); ties go to the closer peer.
   * Undefined when this node is the closest it knows. Every hop still moves strictly closer, so
   * stale lists of a peer's links can cost a hop but never make a loop. The lookahead is what takes
   * Symphony's greedy routing from about log2(N)/2 hops to well under it at no extra link cost.
   */
  closestTo(destination: number, selfRing: number, exclude?: LinkRecord): LinkRecord | undefined {
    let best: LinkRecord | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    let bestDistance = Number.POSITIVE_INFINITY;
    const selfDistance = ringDistance(selfRing, destination);
    for (const link of this.up) {
      // A link neither side needs is about to be closed by one of them: frames sent into it then
      // would be lost, so greedy routing leaves it alone (direct delivery to its peer still uses it).
      if (link === exclude || link.purpose.unneededSince !== null) continue;
      const d = ringDistance(link.ring, destination);
      if (d >= selfDistance) continue;
      let score = d;
      for (const beyond of link.purpose.peerLinks) {
        const cw = beyond - destination;
        const abs = cw < 0 ? -cw : cw;
        const around = abs <= RING_SIZE / 2 ? abs : RING_SIZE - abs;
        if (around < score) score = around;
      }
      if (score < bestScore || (score === bestScore && d < bestDistance)) {
        best = link;
        bestScore = score;
        bestDistance = d;
      }
    }
    return best;
  }

  /** The up link closest to `destination`, however far: the first hop of a node that knows little. */
  closestLink(destination: number): LinkRecord | undefined {
    return this.closestTo(destination, (destination + RING_SIZE / 2) % RING_SIZE);
  }
}
