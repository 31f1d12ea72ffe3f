import { Counters } from "./counters.js";
import { FloodLimiter, floodHops } from "./flood.js";
import {
  PACKET_HEADROOM,
  RoutedKind,
  routedDestination,
  routedPayload,
  routedSource,
  routedTtl,
  takeRoutedHop,
  writeRoutedHeader,
} from "./frame.js";
import {
  checkIpv4Packet,
  inSubnet,
  ipv4Destination,
  ipv4Source,
  ipv4TotalLength,
  isBroadcastOrMulticast,
} from "./ipv4.js";
import type { NodeContext } from "./node-context.js";

/**
 * Broadcast and multicast to the virtual subnet, flooded over the ring by range partition (flood.ts):
 * each member gets one copy, each node sends at most one per link. The router hands it the packets
 * and flood frames it sees; it owns the per-source rate limit and the flood counters.
 */
export class Floods {
  /** `sent` from this host, `delivered` to it, `forwarded` copies. */
  readonly counters = new Counters();
  private readonly limiter = new FloodLimiter();

  constructor(private readonly ctx: NodeContext) {}

  /**
   * A broadcast or multicast packet from the host: it floods the whole ring, from this node's
   * address round to itself, unless multicast is off, it is not from this host's own address
   * (receivers would drop it as spoofed), over the MTU, or over the rate limit.
   */
  fromHost(now: number, packet: Uint8Array): void {
    const { ctx } = this;
    if (!ctx.limits.multicast) {
      ctx.drops.add("broadcast");
      return;
    }
    if (ipv4Source(packet) !== ctx.subnet.address) {
      ctx.drops.add("multicast-not-ours");
      return;
    }
    if (ipv4TotalLength(packet) > ctx.limits.mtu) {
      ctx.drops.add("multicast-too-big");
      return;
    }
    if (!this.limiter.allow(now, ctx.ring, ctx.limits.multicastPerSecond)) {
      ctx.drops.add("multicast-rate");
      return;
    }
    const frame = new Uint8Array(packet.buffer, packet.byteOffset - PACKET_HEADROOM, packet.length + PACKET_HEADROOM);
    writeRoutedHeader(frame, {
      ttl: ctx.limits.maxHops,
      kind: RoutedKind.flood,
      source: ctx.ring,
      destination: ctx.ring,
    });
    this.counters.add("sent");
    this.forward(frame, ctx.ring);
  }

  /**
   * A flood frame from a peer: checked like a routed packet (its source address in the subnet and
   * hashing to the source ring address, not this node's own), rate-limited per source, passed on
   * within this node's range while its TTL lasts, and delivered to the host unchanged. Returns why
   * it was dropped (the router counts it against the link), or null.
   */
  fromPeer(now: number, frame: Uint8Array): string | null {
    const { ctx } = this;
    if (!ctx.limits.multicast) return "multicast-off";
    const packet = routedPayload(frame);
    const bad = checkIpv4Packet(packet);
    if (bad !== null) return bad;
    const source = routedSource(frame);
    const sourceAddress = ipv4Source(packet);
    if (source === ctx.ring || !inSubnet(sourceAddress, ctx.subnet) || ctx.rings.of(sourceAddress) !== source) {
      return "spoofed-source";
    }
    if (!isBroadcastOrMulticast(ipv4Destination(packet), ctx.subnet)) return "multicast-not-group";
    if (!this.limiter.allow(now, source, ctx.limits.multicastPerSecond)) return "multicast-rate";
    if (takeRoutedHop(frame)) this.forward(frame, routedDestination(frame));
    else ctx.drops.add("multicast-hop-limit");
    this.counters.add("delivered");
    ctx.actions.push({ type: "deliver", packet });
    return null;
  }

  /** Sends a copy of a flood frame to each link inside this node's range (ring, end), each with its sub-range. */
  private forward(frame: Uint8Array, end: number): void {
    const { ctx } = this;
    const hops = floodHops(ctx.ring, end, ctx.links.up, (link) => link.ring);
    const ttl = routedTtl(frame);
    const source = routedSource(frame);
    for (const hop of hops) {
      const copy = frame.slice();
      writeRoutedHeader(copy, { ttl, kind: RoutedKind.flood, source, destination: hop.end });
      ctx.actions.sendFrame(hop.to.id, "data", copy);
    }
    this.counters.add("forwarded", hops.length);
  }
}
