import { sha256 } from "@noble/hashes/sha256";
import { encodeUtf8 } from "./utf8.js";

/**
 * The IPOP ring: a circle of 2^48 positions. A node's ring address is a hash of its network name and
 * virtual IPv4 address, so the destination IP of a packet alone says where on the ring it goes. 48
 * bits keep the arithmetic in exact JavaScript numbers while making a collision between 10,000 nodes
 * about a one-in-five-million event.
 */
export const RING_BITS = 48;
export const RING_SIZE = 2 ** RING_BITS;

/** Ring address of `ip` (an unsigned 32-bit IPv4 address) in `network`. */
export function ringAddress(network: string, ip: number): number {
  const name = encodeUtf8(`ipop-ring\u0000${network}\u0000`);
  const input = new Uint8Array(name.length + 4);
  input.set(name);
  input[name.length] = ip >>> 24;
  input[name.length + 1] = (ip >>> 16) & 0xff;
  input[name.length + 2] = (ip >>> 8) & 0xff;
  input[name.length + 3] = ip & 0xff;
  const h = sha256(input);
  return ((h[0]! * 256 + h[1]!) * 256 + h[2]!) * 2 ** 24 + ((h[3]! << 16) | (h[4]! << 8) | h[5]!);
}

/** Distance going clockwise (increasing addresses, wrapping) from `from` to `to`. */
export function clockwise(from: number, to: number): number {
  const d = to - from;
  return d >= 0 ? d : d + RING_SIZE;
}

/** Shortest distance between two ring addresses, either way round. */
export function ringDistance(a: number, b: number): number {
  const d = clockwise(a, b);
  return d <= RING_SIZE / 2 ? d : RING_SIZE - d;
}

/**
 * Estimates the number of nodes from how densely the known neighbours pack the ring around us:
 * `k` nodes spread over `span` positions suggests `k * RING_SIZE / span` in all. Needs only local
 * knowledge, which is the point (Symphony's estimator).
 */
export function estimateNetworkSize(self: number, neighbours: readonly number[]): number {
  if (neighbours.length === 0) return 1;
  let before = 0;
  let after = 0;
  for (const n of neighbours) {
    const cw = clockwise(self, n);
    if (cw <= RING_SIZE / 2) after = Math.max(after, cw);
    else before = Math.max(before, RING_SIZE - cw);
  }
  const span = before + after;
  if (span === 0) return neighbours.length + 1;
  return Math.max(neighbours.length + 1, Math.round((neighbours.length * RING_SIZE) / span));
}

/**
 * A shortcut target drawn from Symphony's harmonic distribution: the distance, as a fraction x of
 * the ring, has density 1/(x ln n) on [1/n, 1), so near and far shortcuts are equally likely per
 * octave of distance. That is what makes greedy routing take O(log n) hops with O(1) links per
 * octave. `uniform` is a number in [0, 1) from the caller's random source.
 */
export function symphonyTarget(self: number, networkSize: number, uniform: number): number {
  const n = Math.max(2, networkSize);
  const fraction = Math.exp(Math.log(n) * (uniform - 1));
  return (self + Math.floor(fraction * RING_SIZE)) % RING_SIZE;
}

export interface RingPeer {
  readonly nodeId: string;
  readonly ring: number;
}

/**
 * The `perSide` closest peers clockwise and the `perSide` closest counter-clockwise of `self`: the
 * near neighbours every node keeps links to, which make greedy routing always able to progress.
 */
export function nearNeighbours(
  self: number,
  peers: Iterable<RingPeer>,
  perSide: number,
  /** Asked only of peers close enough to be picked (it may cost a lookup); default: all are. */
  eligible: (nodeId: string) => boolean = () => true,
): Set<string> {
  // A bounded insertion into the few closest each way: this runs every second on every node, over
  // every node it has heard of, so it must not sort them all.
  const after = new ClosestFew(perSide);
  const before = new ClosestFew(perSide);
  for (const peer of peers) {
    const cw = clockwise(self, peer.ring);
    if (cw === 0) continue;
    const nodeId = peer.nodeId;
    if (!after.wants(cw, nodeId) && !before.wants(RING_SIZE - cw, nodeId)) continue;
    if (!eligible(nodeId)) continue;
    after.offer(cw, nodeId);
    before.offer(RING_SIZE - cw, nodeId);
  }
  return new Set([...after.ids, ...before.ids]);
}

/** The `size` entries with the smallest distance seen so far, ties broken by the smaller id. */
class ClosestFew {
  readonly ids: string[] = [];
  private readonly distances: number[] = [];

  constructor(private readonly size: number) {}

  /** Where an entry would go in the list, `size` or more if it is not among the closest. */
  private slot(distance: number, id: string): number {
    const { ids, distances } = this;
    let i = ids.length;
    while (i > 0 && (distances[i - 1]! > distance || (distances[i - 1] === distance && ids[i - 1]! > id))) i--;
    return i;
  }

  /** Whether `offer` would keep this entry. */
  wants(distance: number, id: string): boolean {
    return this.slot(distance, id) < this.size;
  }

  offer(distance: number, id: string): void {
    const { ids, distances } = this;
    const i = this.slot(distance, id);
    if (i >= this.size) return;
    ids.splice(i, 0, id);
    distances.splice(i, 0, distance);
    if (ids.length > this.size) {
      ids.pop();
      distances.pop();
    }
  }
}
