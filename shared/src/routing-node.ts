import type { Action, Channel, NodeEvent } from "./actions.js";
import { Counters } from "./counters.js";
import {
  BATCH_LENGTH_BYTES,
  batchedFrameEnd,
  classifyFrame,
  dataPayload,
  decodePing,
  encodeFrame,
  encodePing,
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
  writeDataHeader,
  writeRoutedHeader,
} from "./frame.js";
import { hostUnreachable } from "./icmp.js";
import {
  checkIpv4Packet,
  type Ipv4Interface,
  inSubnet,
  ipv4Destination,
  ipv4Source,
  isBroadcastOrMulticast,
} from "./ipv4.js";
import type { LinkRecord } from "./link-record.js";
import { LinkTable } from "./link-table.js";
import { decodeOverlayMessage, encodeOverlayMessage, type OverlayMessage } from "./overlay-message.js";
import { ringAddress } from "./ring.js";
import { RouteCache } from "./route-cache.js";
import type { MemberInfo } from "./signaling-protocol.js";
import type { OverlayLimits } from "./timing.js";

/**
 * The packet path of an overlay node: the action queue, frames in and out, direct delivery, greedy
 * routing over the ring and the routed-frame format. `OverlayNode` adds what decides which links
 * exist (membership, link setup, maintenance) on top; the two halves meet in the abstract methods.
 */
export abstract class RoutingNode {
  protected readonly actions: Action[] = [];
  protected actionHead = 0;
  protected readonly links = new LinkTable();
  protected readonly routeCache = new RouteCache();
  /** Virtual address -> ring address, so the packet path hashes each destination once. */
  protected readonly ringOfAddress = new Map<number, number>();
  readonly drops = new Counters();
  readonly ring: number;

  constructor(
    readonly self: MemberInfo,
    readonly network: string,
    protected readonly subnet: Ipv4Interface,
    protected readonly limits: OverlayLimits,
  ) {
    this.ring = ringAddress(network, subnet.address);
  }

  /** An overlay message from the peer at the other end of `link`. */
  protected abstract handleLinkMessage(now: number, link: LinkRecord, message: OverlayMessage): void;
  /** A routed message ended here; `exact` when this node owns the destination ring address. */
  protected abstract handleRoutedMessage(now: number, message: OverlayMessage, source: number, exact: boolean): void;
  /** A packet was exchanged with `address` over more than one hop (on-demand links). */
  protected abstract countConversation(now: number, address: number, ring: number): void;

  // ---- actions -------------------------------------------------------------------------------

  /** Next action for the host, or undefined when there is none. */
  pollAction(): Action | undefined {
    if (this.actionHead >= this.actions.length) {
      if (this.actionHead > 0) {
        this.actions.length = 0;
        this.actionHead = 0;
      }
      return undefined;
    }
    const action = this.actions[this.actionHead]!;
    this.actions[this.actionHead++] = undefined as unknown as Action;
    return action;
  }

  protected push(action: Action): void {
    this.actions.push(action);
  }

  protected emit(event: NodeEvent): void {
    this.push({ type: "event", event });
  }

  protected sendFrame(link: LinkRecord, channel: Channel, frame: Uint8Array): void {
    this.push({ type: "send-frame", linkId: link.id, channel, frame });
  }

  // ---- packet path ---------------------------------------------------------------------------

  /**
   * An IP packet from the local host. The `PACKET_HEADROOM` bytes in front of `packet` in its
   * buffer are scratch space the core may overwrite with a header; the packet is borrowed until the
   * host next calls into the core.
   */
  handleHostPacket(now: number, packet: Uint8Array): void {
    const bad = checkIpv4Packet(packet);
    if (bad !== null) {
      // Non-IPv4 traffic (IPv6 router solicitations on a new TUN) is expected noise, still counted.
      this.drops.add(bad === "not-ipv4" ? "host-not-ipv4" : `host-${bad}`);
      return;
    }
    if (packet.length > MAX_DATA_PAYLOAD_BYTES) {
      this.drops.add("host-oversized");
      return;
    }
    const destination = ipv4Destination(packet);
    if (isBroadcastOrMulticast(destination, this.subnet)) {
      this.drops.add("broadcast");
      return;
    }
    if (!inSubnet(destination, this.subnet)) {
      this.drops.add("off-network");
      return;
    }
    const direct = this.links.byAddress.get(destination);
    if (direct !== undefined) {
      direct.tx.bytes += packet.length;
      direct.tx.packets++;
      direct.lastDataAt = now;
      const frame = new Uint8Array(
        packet.buffer,
        packet.byteOffset - FRAME_HEADER_BYTES,
        packet.length + FRAME_HEADER_BYTES,
      );
      this.sendFrame(direct, "data", writeDataHeader(frame));
      return;
    }
    if (this.links.up.length === 0) {
      this.drops.add("no-route");
      return;
    }
    const frame = new Uint8Array(packet.buffer, packet.byteOffset - PACKET_HEADROOM, packet.length + PACKET_HEADROOM);
    const destinationRing = this.ringOf(destination);
    writeRoutedHeader(frame, {
      ttl: this.limits.maxHops,
      kind: RoutedKind.packet,
      source: this.ring,
      destination: destinationRing,
    });
    this.countConversation(now, destination, destinationRing);
    this.routeFrame(now, frame, undefined);
  }

  /** A frame from a peer link; borrowed until the host next calls into the core. */
  handleFrame(now: number, linkId: number, frame: Uint8Array): void {
    const link = this.links.byId.get(linkId);
    if (link === undefined || link.state === "closed") {
      this.drops.add("unknown-link");
      return;
    }
    link.lastReceiveAt = now;
    this.receiveFrame(now, link, frame, false);
  }

  /** One frame from `link`, alone or (`batched`) out of a batch frame. */
  protected receiveFrame(now: number, link: LinkRecord, frame: Uint8Array, batched: boolean): void {
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
        else this.handleLinkMessage(now, link, message);
        return;
      }
      case FrameType.ping:
        this.sendFrame(link, "control", encodePing(FrameType.pong, decodePing(frame)));
        return;
      case FrameType.pong: {
        const { seq, sentAt } = decodePing(frame);
        if (seq === link.pingSeq && sentAt <= now) link.rttMs = now - sentAt;
        return;
      }
    }
  }

  /** A batch frame `classifyFrame` accepted: its length prefixes tile it exactly. */
  protected receiveBatch(now: number, link: LinkRecord, batch: Uint8Array): void {
    for (let offset = FRAME_HEADER_BYTES; offset < batch.length; ) {
      const end = batchedFrameEnd(batch, offset);
      this.receiveFrame(now, link, batch.subarray(offset + BATCH_LENGTH_BYTES, end), true);
      offset = end;
    }
  }

  protected dropOn(link: LinkRecord, reason: string): void {
    link.drops.add(reason);
    this.drops.add(reason);
  }

  protected receiveData(now: number, link: LinkRecord, packet: Uint8Array): void {
    const bad = checkIpv4Packet(packet);
    if (bad !== null) return this.dropOn(link, bad);
    // A direct link carries only its peer's own packets: anything else is spoofed or misrouted.
    if (ipv4Source(packet) !== link.peerAddress) return this.dropOn(link, "spoofed-source");
    if (ipv4Destination(packet) !== this.subnet.address) return this.dropOn(link, "not-for-us");
    link.rx.bytes += packet.length;
    link.rx.packets++;
    link.lastDataAt = now;
    this.push({ type: "deliver", packet });
  }

  protected receiveRouted(now: number, link: LinkRecord, frame: Uint8Array): void {
    const source = routedSource(frame);
    // Remember the way back, so answers to this source retrace the path.
    if (source !== this.ring) this.routeCache.learn(now, source, link.id);
    if (routedKind(frame) === RoutedKind.packet) {
      link.rx.bytes += frame.length - ROUTED_HEADER_BYTES;
      link.rx.packets++;
    }
    this.routeFrame(now, frame, link);
  }

  /** Sends a routed frame one hop on, or handles it here if this node is where it ends. */
  protected routeFrame(now: number, frame: Uint8Array, from: LinkRecord | undefined): void {
    const destination = routedDestination(frame);
    const next = destination === this.ring ? undefined : this.nextHop(now, destination, routedKind(frame), from);
    if (next === undefined) {
      this.arriveRouted(now, frame);
      return;
    }
    if (from !== undefined) {
      const ttl = routedTtl(frame);
      if (ttl <= 1) {
        this.drops.add("hop-limit");
        return;
      }
      frame[2] = ttl - 1;
    }
    if (routedKind(frame) === RoutedKind.packet) {
      next.tx.bytes += frame.length - ROUTED_HEADER_BYTES;
      next.tx.packets++;
      this.sendFrame(next, "data", frame);
      return;
    }
    const message = decodeOverlayMessage(routedPayload(frame));
    if (typeof message === "string") {
      this.drops.add(`message-${message}`);
      return;
    }
    if (message.t === "trace") {
      // Each hop signs the trace's path on its way through.
      const traced = encodeOverlayMessage({ ...message, path: [...message.path, this.self] });
      this.sendRoutedBytes(next, routedTtl(frame), routedSource(frame), destination, traced);
      return;
    }
    this.sendFrame(next, "control", frame);
  }

  /**
   * Next hop towards a ring address: a link to the node at that address, else the closest link by
   * ring distance; undefined when this node is the closest it knows. The way a frame from that
   * address came in lately is tried first for overlay messages (answers retrace their request's
   * path, which reaches nodes not yet knit into the ring) and last for packets (greedy is shortest).
   */
  protected nextHop(now: number, destination: number, kind: RoutedKind, from?: LinkRecord): LinkRecord | undefined {
    const exact = this.links.byRing.get(destination);
    if (exact !== undefined) return exact;
    if (kind === RoutedKind.packet)
      return this.links.closestTo(destination, this.ring) ?? this.cachedHop(now, destination);
    // A message never goes back where it came from: only its origin may have sent it away from
    // the destination (see sendRouted), and sending it back would undo that.
    return this.cachedHop(now, destination) ?? this.links.closestTo(destination, this.ring, from);
  }

  protected cachedHop(now: number, destination: number): LinkRecord | undefined {
    const cached = this.routeCache.lookup(now, destination);
    if (cached === undefined) return undefined;
    const link = this.links.byId.get(cached);
    return link !== undefined && link.state === "up" ? link : undefined;
  }

  /** A routed frame ended here: this node owns the destination or is the closest to it. */
  protected arriveRouted(now: number, frame: Uint8Array): void {
    const exact = routedDestination(frame) === this.ring;
    const payload = routedPayload(frame);
    if (routedKind(frame) === RoutedKind.message) {
      const message = decodeOverlayMessage(payload);
      if (typeof message === "string") this.drops.add(`message-${message}`);
      else this.handleRoutedMessage(now, message, routedSource(frame), exact);
      return;
    }
    const bad = checkIpv4Packet(payload);
    if (bad !== null) {
      this.drops.add(bad);
      return;
    }
    const source = ipv4Source(payload);
    // The frame's source ring address must be the one the packet's source address hashes to.
    if (!inSubnet(source, this.subnet) || this.ringOf(source) !== routedSource(frame)) {
      this.drops.add("spoofed-source");
      return;
    }
    if (ipv4Destination(payload) === this.subnet.address) {
      this.countConversation(now, source, routedSource(frame));
      this.push({ type: "deliver", packet: payload });
      return;
    }
    // Nobody owns the address: tell the sender, as a router would, instead of dropping silently.
    this.drops.add("no-such-host");
    const icmp = hostUnreachable(payload, this.subnet.address);
    if (icmp !== null) this.sendRoutedPacket(now, icmp, routedSource(frame));
  }

  protected sendRoutedPacket(now: number, packet: Uint8Array, destination: number): void {
    const frame = new Uint8Array(ROUTED_HEADER_BYTES + packet.length);
    frame.set(packet, ROUTED_HEADER_BYTES);
    writeRoutedHeader(frame, { ttl: this.limits.maxHops, kind: RoutedKind.packet, source: this.ring, destination });
    this.routeFrame(now, frame, undefined);
  }

  protected ringOf(address: number): number {
    let ring = this.ringOfAddress.get(address);
    if (ring === undefined) {
      if (this.ringOfAddress.size >= 8192) this.ringOfAddress.clear();
      ring = ringAddress(this.network, address);
      this.ringOfAddress.set(address, ring);
    }
    return ring;
  }

  // ---- overlay messages ----------------------------------------------------------------------

  /** Routes an overlay message towards `destination` (handled here if this node is closest). */
  protected sendRouted(now: number, destination: number, message: OverlayMessage): void {
    // A node that knows only part of the ring (one that just joined) may be closer to the
    // destination than all its links without being the node there: it hands the message to the
    // link closest to the destination, which knows more.
    const next =
      destination === this.ring
        ? undefined
        : (this.nextHop(now, destination, RoutedKind.message) ??
          (message.t === "find" ? undefined : this.links.closestLink(destination)));
    if (next === undefined) {
      this.handleRoutedMessage(now, message, this.ring, destination === this.ring);
      return;
    }
    const payload = message.t === "trace" ? { ...message, path: [this.self] } : message;
    this.sendRoutedBytes(next, this.limits.maxHops, this.ring, destination, encodeOverlayMessage(payload));
  }

  protected sendRoutedBytes(link: LinkRecord, ttl: number, source: number, destination: number, bytes: Uint8Array) {
    const frame = new Uint8Array(ROUTED_HEADER_BYTES + bytes.length);
    frame.set(bytes, ROUTED_HEADER_BYTES);
    writeRoutedHeader(frame, { ttl, kind: RoutedKind.message, source, destination });
    this.sendFrame(link, "control", frame);
  }

  protected sendLinkMessage(link: LinkRecord, message: OverlayMessage): void {
    this.sendFrame(link, "control", encodeFrame(FrameType.message, encodeOverlayMessage(message)));
  }
}
