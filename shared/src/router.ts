import { Counters } from "./counters.js";
import { Floods } from "./floods.js";
import {
  BATCH_LENGTH_BYTES,
  batchedFrameEnd,
  classifyFrame,
  dataPayload,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_DATA_PAYLOAD_BYTES,
  PACKET_HEADROOM,
  ROUTED_HEADER_BYTES,
  RoutedKind,
  routedDestination,
  routedKind,
  routedPayload,
  routedSource,
  routedTtl,
  takeRoutedHop,
  writeDataHeader,
  writeRoutedHeader,
} from "./frame.js";
import { fragmentationNeeded, hostUnreachable } from "./icmp.js";
import {
  checkIpv4Packet,
  inSubnet,
  ipv4Destination,
  ipv4Source,
  ipv4TotalLength,
  isBroadcastOrMulticast,
} from "./ipv4.js";
import { fragmentIpv4 } from "./ipv4-fragment.js";
import type { LinkRecord } from "./link-record.js";
import type { NextHops } from "./next-hops.js";
import type { NodeContext } from "./node-context.js";
import { decodeOverlayMessage, type OverlayMessage } from "./overlay-message.js";
import type { Relays } from "./relays.js";
import { clampTcpMss, mssForMtu } from "./tcp-mss.js";
import { appendTraceHop } from "./trace-path.js";

/** What the router hands to the other parts of the node. */
export interface RouterEvents {
  /** An overlay message from the peer at the other end of `link`. */
  linkMessage(now: number, link: LinkRecord, message: OverlayMessage): void;
  /** A routed message ended here; `exact` when this node owns the destination ring address. */
  routedMessage(now: number, message: OverlayMessage, source: number, exact: boolean): void;
  /** A trace ended here (its payload, trace-path.ts). */
  traceArrived(now: number, payload: Uint8Array, source: number, exact: boolean): void;
  /** An overlay ping ended here (a trace payload, pings.ts). */
  pingArrived(now: number, payload: Uint8Array, source: number, exact: boolean): void;
  /** A keepalive ping or pong from `link`. */
  keepalive(
    now: number,
    link: LinkRecord,
    frame: Uint8Array,
    type: typeof FrameType.ping | typeof FrameType.pong,
  ): void;
  /** A packet was exchanged with `address` over more than one hop (on-demand links). */
  conversation(now: number, address: number, ring: number): void;
}

/**
 * The packet path: packets from the host to links, frames from links to the host or on to the next
 * hop (chosen by {@link NextHops}: greedy over the ring, ways back, relayed paths), and routed
 * messages that end here. Its own state is each link's traffic counters; the messages this node
 * sends itself are the Messenger's.
 */
export class Router {
  /** Packets changed to fit the overlay MTU: `mss-clamped-out`, `mss-clamped-in`, `fragmented`. */
  readonly adjusted = new Counters();
  /** Broadcast and multicast: the bounded flood over the ring. */
  private readonly floods: Floods;

  constructor(
    private readonly ctx: NodeContext,
    private readonly events: RouterEvents,
    /** This node's trace hop entry, encoded once (trace-path.ts). */
    private readonly selfTraceHop: Uint8Array,
    /** Paths to ring neighbours reached through a relay: the router treats them as links. */
    private readonly relays: () => Relays,
    /** Hop choice and the ways back, shared with the Messenger. */
    private readonly hops: NextHops,
  ) {
    this.floods = new Floods(ctx);
  }

  /** Broadcast and multicast floods: `sent` from this host, `delivered` to it, `forwarded` copies. */
  get multicast(): Counters {
    return this.floods.counters;
  }

  /**
   * An IP packet from the local host. The `PACKET_HEADROOM` bytes in front of `packet` in its
   * buffer are scratch space the core may overwrite with a header; the packet is borrowed until the
   * host next calls into the core.
   */
  handleHostPacket(now: number, packet: Uint8Array): void {
    const { ctx } = this;
    const bad = checkIpv4Packet(packet);
    if (bad !== null) {
      // Non-IPv4 traffic (IPv6 router solicitations on a new TUN) is expected noise, still counted.
      ctx.drops.add(bad === "not-ipv4" ? "host-not-ipv4" : `host-${bad}`);
      return;
    }
    if (packet.length > MAX_DATA_PAYLOAD_BYTES) {
      ctx.drops.add("host-oversized");
      return;
    }
    const destination = ipv4Destination(packet);
    if (isBroadcastOrMulticast(destination, ctx.subnet)) {
      this.floods.fromHost(now, packet);
      return;
    }
    if (!inSubnet(destination, ctx.subnet)) {
      ctx.drops.add("off-network");
      return;
    }
    // A SYN leaving this host announces an MSS that fits the overlay, whatever its interface's MTU.
    if (clampTcpMss(packet, mssForMtu(ctx.limits.mtu))) this.adjusted.add("mss-clamped-out");
    if (ipv4TotalLength(packet) > ctx.limits.mtu) {
      this.sendTooBig(now, packet, destination);
      return;
    }
    this.sendHostPacket(now, packet, destination);
  }

  /**
   * A host packet over the overlay MTU. The host's TUN has that MTU, so only a host that raised its
   * device or route MTU, forwards from a wider interface, or writes raw packets gets here.
   * DF set: the sender does path MTU discovery, so it gets ICMP fragmentation-needed with the MTU
   * and its kernel sends smaller packets from then on. DF clear: the sender allowed routers to
   * fragment, and a router would; dropping with an ICMP instead would lose every first packet of a
   * datagram protocol that does not retry (the kernel only lowers the path MTU for the next one).
   */
  private sendTooBig(now: number, packet: Uint8Array, destination: number): void {
    const { ctx } = this;
    const fragments = fragmentIpv4(packet, ctx.limits.mtu, PACKET_HEADROOM);
    if (fragments === null) {
      ctx.drops.add("host-too-big");
      // From the destination's address: the host's kernel drops an ICMP from its own address as
      // martian, and the destination is the one address certain to route back over the TUN.
      const icmp = fragmentationNeeded(packet, destination, ctx.limits.mtu);
      if (icmp !== null) ctx.actions.push({ type: "deliver", packet: icmp });
      return;
    }
    this.adjusted.add("fragmented");
    for (const fragment of fragments) this.sendHostPacket(now, fragment, destination);
  }

  /** A checked host packet within the MTU, with `PACKET_HEADROOM` scratch bytes in front of it. */
  private sendHostPacket(now: number, packet: Uint8Array, destination: number): void {
    const { ctx } = this;
    const direct = ctx.links.byAddress.get(destination);
    if (direct !== undefined) {
      const traffic = direct.traffic;
      traffic.tx.bytes += packet.length;
      traffic.tx.packets++;
      traffic.lastDataAt = now;
      const frame = new Uint8Array(
        packet.buffer,
        packet.byteOffset - FRAME_HEADER_BYTES,
        packet.length + FRAME_HEADER_BYTES,
      );
      ctx.actions.sendFrame(direct.id, "data", writeDataHeader(frame));
      return;
    }
    if (ctx.links.up.length === 0) {
      ctx.drops.add("no-route");
      return;
    }
    const frame = new Uint8Array(packet.buffer, packet.byteOffset - PACKET_HEADROOM, packet.length + PACKET_HEADROOM);
    const destinationRing = ctx.rings.of(destination);
    writeRoutedHeader(frame, {
      ttl: ctx.limits.maxHops,
      kind: RoutedKind.packet,
      source: ctx.ring,
      destination: destinationRing,
    });
    this.events.conversation(now, destination, destinationRing);
    this.routeFrame(now, frame, undefined);
  }

  /** A frame from a peer link; borrowed until the host next calls into the core. */
  handleFrame(now: number, linkId: number, frame: Uint8Array): void {
    const link = this.ctx.links.byId.get(linkId);
    if (link === undefined || link.life.state === "closed") {
      this.ctx.drops.add("unknown-link");
      return;
    }
    link.traffic.lastReceiveAt = now;
    this.receiveFrame(now, link, frame, false);
  }

  /** Counts a drop against `link` and the node. */
  dropOn(link: LinkRecord, reason: string): void {
    link.traffic.drops.add(reason);
    this.ctx.drops.add(reason);
  }

  /** One frame from `link`, alone or (`batched`) out of a batch frame. */
  private receiveFrame(now: number, link: LinkRecord, frame: Uint8Array, batched: boolean): void {
    const type = classifyFrame(frame);
    if (typeof type === "string") {
      this.dropOn(link, type);
      return;
    }
    switch (type) {
      case FrameType.batch:
        if (batched) this.dropOn(link, "nested-batch");
        else this.receiveBatch(now, link, frame);
        return;
      case FrameType.data:
        this.receiveData(now, link, dataPayload(frame));
        return;
      case FrameType.routed:
        this.receiveRouted(now, link, frame);
        return;
      case FrameType.message: {
        const message = decodeOverlayMessage(dataPayload(frame));
        if (typeof message === "string") this.dropOn(link, `message-${message}`);
        else this.events.linkMessage(now, link, message);
        return;
      }
      case FrameType.ping:
      case FrameType.pong:
        this.events.keepalive(now, link, frame, type);
        return;
    }
  }

  /** A batch frame `classifyFrame` accepted: its length prefixes tile it exactly. */
  private receiveBatch(now: number, link: LinkRecord, batch: Uint8Array): void {
    for (let offset = FRAME_HEADER_BYTES; offset < batch.length; ) {
      const end = batchedFrameEnd(batch, offset);
      this.receiveFrame(now, link, batch.subarray(offset + BATCH_LENGTH_BYTES, end), true);
      offset = end;
    }
  }

  private receiveData(now: number, link: LinkRecord, packet: Uint8Array): void {
    const bad = checkIpv4Packet(packet);
    if (bad !== null) return this.dropOn(link, bad);
    // A direct link carries only its peer's own packets: anything else is spoofed or misrouted.
    if (ipv4Source(packet) !== link.peerAddress) return this.dropOn(link, "spoofed-source");
    if (ipv4Destination(packet) !== this.ctx.subnet.address) return this.dropOn(link, "not-for-us");
    const traffic = link.traffic;
    traffic.rx.bytes += packet.length;
    traffic.rx.packets++;
    traffic.lastDataAt = now;
    this.deliverToHost(packet);
  }

  /**
   * Hands a packet from a peer to the host, clamping the MSS of a SYN or SYN-ACK first: the
   * sending node clamps too, but this side's host must not rely on the other side to get it right.
   */
  private deliverToHost(packet: Uint8Array): void {
    if (clampTcpMss(packet, mssForMtu(this.ctx.limits.mtu))) this.adjusted.add("mss-clamped-in");
    this.ctx.actions.push({ type: "deliver", packet });
  }

  private receiveRouted(now: number, link: LinkRecord, frame: Uint8Array): void {
    if (routedKind(frame) === RoutedKind.flood) {
      const dropped = this.floods.fromPeer(now, frame);
      return dropped === null ? undefined : this.dropOn(link, dropped);
    }
    const source = routedSource(frame);
    // Remember the way back, so answers to this source retrace the path.
    if (source !== this.ctx.ring) this.hops.learn(now, source, link.id, routedTtl(frame));
    if (routedKind(frame) === RoutedKind.relay) return this.receiveRelay(now, link, frame, source);
    if (routedKind(frame) === RoutedKind.packet) {
      link.traffic.rx.bytes += frame.length - ROUTED_HEADER_BYTES;
      link.traffic.rx.packets++;
    }
    this.routeFrame(now, frame, link);
  }

  /**
   * Sends a routed frame one hop on, or handles it here if this node is where it ends. Transit
   * reads the header only: messages pass as they are, traces get this node's hop appended.
   */
  private routeFrame(now: number, frame: Uint8Array, from: LinkRecord | undefined, sealedFrom?: number): void {
    const destination = routedDestination(frame);
    const kind = routedKind(frame);
    const self = destination === this.ctx.ring;
    const next = self ? undefined : this.hops.next(now, destination, kind, from);
    const relay = self ? undefined : this.hops.relayed(destination, next, sealedFrom);
    if (next === undefined && relay === undefined) {
      this.arriveRouted(now, frame, sealedFrom);
      return;
    }
    if (from !== undefined && !takeRoutedHop(frame)) {
      this.ctx.drops.add("hop-limit");
      return;
    }
    if (relay !== undefined) {
      // Each hop adds itself to a trace's path on its way through, as below.
      const traced =
        kind === RoutedKind.trace || kind === RoutedKind.ping ? appendTraceHop(frame, this.selfTraceHop) : frame;
      if (traced === null) this.ctx.drops.add("message-oversized");
      else this.relays().forward(relay, traced, kind);
      return;
    }
    if (next === undefined) return;
    switch (kind) {
      case RoutedKind.packet:
        next.traffic.tx.bytes += frame.length - ROUTED_HEADER_BYTES;
        next.traffic.tx.packets++;
        this.ctx.actions.sendFrame(next.id, "data", frame);
        return;
      case RoutedKind.message:
        this.ctx.actions.sendFrame(next.id, "control", frame);
        return;
      case RoutedKind.trace:
      case RoutedKind.ping: {
        // Each hop adds itself to the path on its way through (only transit routes traces and pings here).
        const traced = appendTraceHop(frame, this.selfTraceHop);
        if (traced === null) this.ctx.drops.add("message-oversized");
        else this.ctx.actions.sendFrame(next.id, "control", traced);
        return;
      }
    }
  }

  /** A sealed relay frame: pass it on to the destination's own link, or open it if it is for us. */
  private receiveRelay(now: number, link: LinkRecord, frame: Uint8Array, source: number): void {
    if (routedDestination(frame) !== this.ctx.ring) return this.relays().passOn(now, link, frame);
    const inner = this.relays().receive(now, link, source, routedPayload(frame));
    if (inner !== undefined) this.routeFrame(now, inner, link, source);
  }

  /** A routed frame ended here: this node owns the destination or is the closest to it. */
  private arriveRouted(now: number, frame: Uint8Array, sealedFrom?: number): void {
    const { ctx } = this;
    const exact = routedDestination(frame) === ctx.ring;
    const payload = routedPayload(frame);
    const source = routedSource(frame);
    switch (routedKind(frame)) {
      case RoutedKind.message: {
        const message = decodeOverlayMessage(payload);
        if (typeof message === "string") ctx.drops.add(`message-${message}`);
        else this.events.routedMessage(now, message, source, exact);
        return;
      }
      case RoutedKind.trace:
        this.events.traceArrived(now, payload, source, exact);
        return;
      case RoutedKind.ping:
        this.events.pingArrived(now, payload, source, exact);
        return;
    }
    const bad = checkIpv4Packet(payload);
    if (bad !== null) {
      ctx.drops.add(bad);
      return;
    }
    const sourceAddress = ipv4Source(payload);
    // The frame's source ring address must be the one the packet's source address hashes to.
    if (!inSubnet(sourceAddress, ctx.subnet) || ctx.rings.of(sourceAddress) !== source) {
      ctx.drops.add("spoofed-source");
      return;
    }
    // A node with a relayed session to us seals its packets: an unsealed one is someone else's forgery.
    if (sealedFrom !== source && this.relays().sealedOnly(source)) {
      ctx.drops.add("relay-unsealed");
      return;
    }
    if (ipv4Destination(payload) === ctx.subnet.address) {
      // Our own ICMP answer to a packet of ours (we are closest to its address) is no conversation.
      if (source !== ctx.ring) this.events.conversation(now, sourceAddress, source);
      this.deliverToHost(payload);
      return;
    }
    // Nobody owns the address: tell the sender, as a router would, instead of dropping silently.
    ctx.drops.add("no-such-host");
    const icmp = hostUnreachable(payload, ctx.subnet.address);
    if (icmp !== null) this.sendRoutedPacket(now, icmp, source);
  }

  private sendRoutedPacket(now: number, packet: Uint8Array, destination: number): void {
    const frame = new Uint8Array(ROUTED_HEADER_BYTES + packet.length);
    frame.set(packet, ROUTED_HEADER_BYTES);
    writeRoutedHeader(frame, {
      ttl: this.ctx.limits.maxHops,
      kind: RoutedKind.packet,
      source: this.ctx.ring,
      destination,
    });
    this.routeFrame(now, frame, undefined);
  }
}
