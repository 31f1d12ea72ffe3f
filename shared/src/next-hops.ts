import { RoutedKind } from "./frame.js";
import type { LinkRecord } from "./link-record.js";
import type { NodeContext } from "./node-context.js";
import type { RelayHop } from "./relay-route.js";
import type { Relays } from "./relays.js";
import { ringDistance } from "./ring.js";
import { RouteCache } from "./route-cache.js";

/**
 * Where a routed frame goes next: greedy routing over the ring, the way back that answers retrace,
 * and relayed paths to neighbours this node cannot link to. Shared by the Router (frames passing
 * through) and the Messenger (messages this node sends); owns the route cache.
 */
export class NextHops {
  private readonly routeCache = new RouteCache();

  constructor(
    private readonly ctx: NodeContext,
    /** Paths to ring neighbours reached through a relay: treated as links. */
    private readonly relays: () => Relays,
  ) {}

  /**
   * A routed frame from ring address `source` came in on `linkId` with `hopsLeft` (its TTL): answers
   * to it go back that way, or the shortest such way (see {@link RouteCache}).
   */
  learn(now: number, source: number, linkId: number, hopsLeft: number): void {
    this.routeCache.learn(now, source, linkId, hopsLeft);
  }

  /** Forgets the ways back over a link that closed. */
  forgetLink(linkId: number): void {
    this.routeCache.forgetLink(linkId);
  }

  /**
   * Next hop towards a ring address: a link to the node at that address, else the closest link by
   * ring distance; undefined when this node is the closest it knows. The way a frame from that
   * address came in lately is tried first for overlay messages (answers retrace their request's
   * path, which reaches nodes not yet knit into the ring) and last for packets (greedy is shortest).
   */
  next(now: number, destination: number, kind: RoutedKind, from?: LinkRecord): LinkRecord | undefined {
    const { links, ring } = this.ctx;
    const exact = links.byRing.get(destination);
    if (exact !== undefined) return exact;
    if (kind === RoutedKind.packet) return links.closestTo(destination, ring) ?? this.wayBack(now, destination);
    // A message never goes back where it came from: only its origin may have sent it away from
    // the destination (see Messenger.sendRouted), and sending it back would undo that; the sender
    // would only send it here again, back and forth until the hop limit.
    const back = this.wayBack(now, destination);
    return back !== undefined && back !== from ? back : links.closestTo(destination, ring, from);
  }

  /** The link routed frames from ring address `source` came in on lately, if it is still up. */
  wayBack(now: number, source: number): LinkRecord | undefined {
    const cached = this.routeCache.lookup(now, source);
    if (cached === undefined) return undefined;
    const link = this.ctx.links.byId.get(cached);
    return link !== undefined && link.life.state === "up" ? link : undefined;
  }

  /**
   * A relayed path closer to `destination` than the best link `next` (or than this node): a ring
   * neighbour this node cannot link to directly. Never straight back to the node a frame came from.
   */
  relayed(destination: number, next: LinkRecord | undefined, sealedFrom?: number): RelayHop | undefined {
    const distance = ringDistance(next === undefined ? this.ctx.ring : next.ring, destination);
    return this.relays().closerThan(destination, distance, sealedFrom);
  }

  /**
   * The first hop of something this node routes. A node that knows only part of the ring (one that
   * just joined) may be closer to the destination than all its links without being the node there:
   * with `handOn` it hands the message to the link closest to the destination, which knows more.
   */
  first(now: number, destination: number, handOn: boolean): LinkRecord | undefined {
    if (destination === this.ctx.ring) return undefined;
    const next = this.next(now, destination, RoutedKind.message);
    return next ?? (handOn ? this.ctx.links.closestLink(destination) : undefined);
  }
}
