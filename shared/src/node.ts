import type { Action, Channel, LinkRole, NodeEvent } from "./actions.js";
import { Counters } from "./counters.js";
import { CoreError } from "./errors.js";
import {
  classifyFrame,
  dataPayload,
  decodePing,
  encodePing,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_DATA_PAYLOAD_BYTES,
  writeDataHeader,
} from "./frame.js";
import {
  checkIpv4Packet,
  type Ipv4Interface,
  inSubnet,
  ipv4Destination,
  ipv4Source,
  isBroadcastOrMulticast,
  parseIpv4Address,
} from "./ipv4.js";
import { type LinkEnvelope, parseLinkEnvelope } from "./link-envelope.js";
import { LinkRecord, type LinkStatus } from "./link-record.js";
import { isNetworkName, type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";
import { DEFAULT_TIMING, type Timing } from "./timing.js";

export interface NodeConfig {
  /** This node's identity and virtual address. */
  readonly self: MemberInfo;
  readonly network: string;
  /** Prefix length of the virtual network, e.g. 16 for 10.88.0.0/16. */
  readonly prefixLength: number;
  readonly timing?: Partial<Timing>;
}

/** A snapshot of the node for status output. */
export interface NodeStatus {
  readonly self: MemberInfo;
  readonly network: string;
  readonly prefixLength: number;
  readonly signalingUp: boolean;
  readonly members: readonly MemberInfo[];
  readonly links: readonly LinkStatus[];
  readonly drops: Record<string, number>;
}

interface RetryState {
  delayMs: number;
  notBefore: number;
}

/**
 * The overlay node: a sans-I/O state machine. Hosts feed it events (`handle*`) with the current
 * monotonic time in milliseconds and carry out the actions it queues (`pollAction`). It never reads
 * a clock, starts a timer, does I/O or awaits; `nextTimeout()` says when it wants `handleTimeout`.
 *
 * This version keeps a direct link to every member (a full mesh). Who offers is decided by node id
 * (the smaller id offers), so two nodes never race to set up the same link.
 */
export class OverlayNode {
  readonly self: MemberInfo;
  readonly network: string;
  private readonly subnet: Ipv4Interface;
  private readonly timing: Timing;

  private readonly actions: Action[] = [];
  private actionHead = 0;

  /** Members as the signaling server last told us. Links outlive the server; members do not. */
  private readonly members = new Map<string, MemberInfo>();
  private signalingUp = false;

  private readonly links = new Map<number, LinkRecord>();
  private readonly linkByPeer = new Map<string, LinkRecord>();
  private readonly linkBySession = new Map<string, LinkRecord>();
  /** Virtual address -> the up link that owns it. Only up links route. */
  private readonly routes = new Map<number, LinkRecord>();
  private readonly retries = new Map<string, RetryState>();

  private nextLinkId = 1;
  private nextSession = 1;
  readonly drops = new Counters();

  constructor(config: NodeConfig) {
    const self = parseMemberInfo(config.self);
    if (typeof self === "string") throw new CoreError("IPOP_BAD_CONFIG", `self: ${self}`);
    if (!isNetworkName(config.network)) {
      throw new CoreError(
        "IPOP_BAD_CONFIG",
        `network name "${config.network}" must be 1-64 characters of [A-Za-z0-9._-]`,
      );
    }
    if (!Number.isInteger(config.prefixLength) || config.prefixLength < 1 || config.prefixLength > 30) {
      throw new CoreError("IPOP_BAD_CONFIG", "prefix length must be an integer from 1 to 30");
    }
    this.self = self;
    this.network = config.network;
    this.subnet = { address: parseIpv4Address(self.ip)!, prefixLength: config.prefixLength };
    this.timing = { ...DEFAULT_TIMING, ...config.timing };
  }

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

  private push(action: Action): void {
    this.actions.push(action);
  }

  private emit(event: NodeEvent): void {
    this.push({ type: "event", event });
  }

  // ---- packet path ---------------------------------------------------------------------------

  /**
   * An IP packet from the local host. `frame` holds `FRAME_HEADER_BYTES` of headroom the core may
   * overwrite, followed by the packet; it is borrowed until the host next calls into the core.
   */
  handleHostPacket(_now: number, frame: Uint8Array): void {
    const packet = frame.subarray(FRAME_HEADER_BYTES);
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
    const link = this.routes.get(destination);
    if (link === undefined) {
      this.drops.add(this.isPendingAddress(destination) ? "link-not-ready" : "no-route");
      return;
    }
    link.tx.bytes += packet.length;
    link.tx.packets++;
    this.push({ type: "send-frame", linkId: link.id, channel: "data", frame: writeDataHeader(frame) });
  }

  /** A frame from a peer link; borrowed until the host next calls into the core. */
  handleFrame(now: number, linkId: number, frame: Uint8Array): void {
    const link = this.links.get(linkId);
    if (link === undefined || link.state === "closed") {
      this.drops.add("unknown-link");
      return;
    }
    link.lastReceiveAt = now;
    const type = classifyFrame(frame);
    if (typeof type === "string") {
      link.drops.add(type);
      this.drops.add(type);
      return;
    }
    switch (type) {
      case FrameType.data:
        this.receiveData(link, dataPayload(frame));
        return;
      case FrameType.ping:
        this.push({
          type: "send-frame",
          linkId,
          channel: "control",
          frame: encodePing(FrameType.pong, decodePing(frame)),
        });
        return;
      case FrameType.pong: {
        const { seq, sentAt } = decodePing(frame);
        if (seq === link.pingSeq && sentAt <= now) link.rttMs = now - sentAt;
        return;
      }
    }
  }

  private receiveData(link: LinkRecord, packet: Uint8Array): void {
    const bad = checkIpv4Packet(packet);
    if (bad !== null) {
      link.drops.add(bad);
      this.drops.add(bad);
      return;
    }
    // A direct link carries only its peer's own packets: anything else is spoofed or misrouted.
    if (ipv4Source(packet) !== link.peerAddress) {
      link.drops.add("spoofed-source");
      this.drops.add("spoofed-source");
      return;
    }
    if (ipv4Destination(packet) !== this.subnet.address) {
      link.drops.add("not-for-us");
      this.drops.add("not-for-us");
      return;
    }
    link.rx.bytes += packet.length;
    link.rx.packets++;
    this.push({ type: "deliver", packet });
  }

  private isPendingAddress(address: number): boolean {
    for (const link of this.links.values()) if (link.peerAddress === address) return true;
    return false;
  }

  // ---- membership (from the signaling server) ------------------------------------------------

  /** The signaling server welcomed us; `members` are the other current members. */
  handleSignalingUp(now: number, members: readonly MemberInfo[]): void {
    this.signalingUp = true;
    this.members.clear();
    for (const member of members) this.addMember(now, member);
    this.reconcile(now);
  }

  /** The connection to the signaling server is gone. Links stay up; no new ones until it is back. */
  handleSignalingDown(_now: number): void {
    this.signalingUp = false;
  }

  handleMemberJoined(now: number, member: MemberInfo): void {
    this.addMember(now, member);
    this.reconcile(now);
  }

  /** A member left the signaling server. Its link, if up, lives on until it fails by itself. */
  handleMemberLeft(_now: number, nodeId: string): void {
    this.members.delete(nodeId);
    this.retries.delete(nodeId);
  }

  private addMember(now: number, member: MemberInfo): void {
    if (member.nodeId === this.self.nodeId) return;
    if (member.ip === this.self.ip) {
      this.emit({ kind: "address-conflict", ip: member.ip, kept: this.self.nodeId, dropped: member.nodeId });
      return;
    }
    // The newest claim to an address wins: an agent that crashed and restarted comes back with a
    // new node id and the same address, and its old links must not keep the address.
    for (const [id, other] of this.members) {
      if (other.ip === member.ip && id !== member.nodeId) {
        this.members.delete(id);
        this.emit({ kind: "address-conflict", ip: member.ip, kept: member.nodeId, dropped: id });
        const stale = this.linkByPeer.get(id);
        if (stale !== undefined) this.closeLink(now, stale, "address-taken", true);
      }
    }
    this.members.set(member.nodeId, member);
  }

  /** Opens the links this node is responsible for offering. */
  private reconcile(now: number): void {
    if (!this.signalingUp) return;
    for (const member of this.members.values()) {
      if (this.linkByPeer.has(member.nodeId) || !this.offersTo(member.nodeId)) continue;
      const retry = this.retries.get(member.nodeId);
      if (retry !== undefined && now < retry.notBefore) continue;
      this.openLink(now, member, "offerer", `${this.self.nodeId}.${this.nextSession++}`);
    }
  }

  /** The smaller node id offers, so a pair never sets up two links to each other. */
  private offersTo(nodeId: string): boolean {
    return this.self.nodeId < nodeId;
  }

  // ---- link setup ----------------------------------------------------------------------------

  private openLink(now: number, peer: MemberInfo, role: LinkRole, session: string): LinkRecord {
    const link = new LinkRecord(this.nextLinkId++, peer, parseIpv4Address(peer.ip)!, role, session, now);
    this.links.set(link.id, link);
    this.linkByPeer.set(peer.nodeId, link);
    this.linkBySession.set(session, link);
    this.emit({ kind: "link-opening", linkId: link.id, peer, role });
    this.push({ type: "open-link", linkId: link.id, peer, role });
    return link;
  }

  /** The host's link produced a description or candidate for the remote side. */
  handleLinkSignal(_now: number, linkId: number, payload: unknown): void {
    const link = this.links.get(linkId);
    if (link === undefined || link.state === "closed") return;
    let body: LinkEnvelope;
    if (link.role === "offerer" && !link.openSent) {
      link.openSent = true;
      body = { v: 1, kind: "open", session: link.session, from: this.self, payload };
    } else {
      body = { v: 1, kind: "signal", session: link.session, payload };
    }
    this.push({ type: "send-signal", to: link.peer.nodeId, body });
  }

  /** A signaling `message` from another node: a link-setup envelope. */
  handleSignal(now: number, from: string, body: unknown): void {
    const envelope = parseLinkEnvelope(body);
    if (typeof envelope === "string") {
      this.dropSignal(from, "malformed");
      return;
    }
    const existing = this.linkBySession.get(envelope.session);
    if (existing !== undefined && existing.peer.nodeId !== from) {
      this.dropSignal(from, "session-mismatch");
      return;
    }
    switch (envelope.kind) {
      case "open":
        if (existing !== undefined) {
          this.dropSignal(from, "duplicate-open");
          return;
        }
        this.acceptOpen(now, from, envelope);
        return;
      case "signal":
        if (existing === undefined || existing.state === "closed") {
          this.dropSignal(from, "stale-session");
          return;
        }
        this.push({ type: "link-signal", linkId: existing.id, payload: envelope.payload });
        return;
      case "close":
        if (existing !== undefined && existing.state !== "closed")
          this.closeLink(now, existing, "closed-by-peer", false);
        return;
    }
  }

  private acceptOpen(now: number, from: string, envelope: LinkEnvelope & { kind: "open" }): void {
    const peer = envelope.from;
    if (peer.nodeId !== from) {
      this.dropSignal(from, "sender-mismatch");
      return;
    }
    if (peer.ip === this.self.ip) {
      this.dropSignal(from, "address-conflict");
      return;
    }
    if (!inSubnet(parseIpv4Address(peer.ip)!, this.subnet)) {
      this.dropSignal(from, "off-network-address");
      return;
    }
    const current = this.linkByPeer.get(from);
    if (current !== undefined) {
      // Both offered at once (only if ids were misjudged): the smaller id's offer wins.
      if (current.role === "offerer" && current.state === "connecting" && this.offersTo(from)) {
        this.dropSignal(from, "glare");
        return;
      }
      // The peer gave up on the old link (it restarted it); follow.
      this.closeLink(now, current, "replaced", false);
    }
    if (!this.members.has(from)) this.addMember(now, peer);
    const link = this.openLink(now, peer, "answerer", envelope.session);
    this.push({ type: "link-signal", linkId: link.id, payload: envelope.payload });
  }

  private dropSignal(from: string, reason: string): void {
    this.drops.add(`signal-${reason}`);
    this.emit({ kind: "signal-dropped", from, reason });
  }

  /** Both channels of the link are open. */
  handleLinkUp(now: number, linkId: number): void {
    const link = this.links.get(linkId);
    if (link === undefined || link.state !== "connecting") return;
    link.state = "up";
    link.upAt = now;
    link.lastReceiveAt = now;
    link.nextKeepaliveAt = now;
    this.retries.delete(link.peer.nodeId);
    // A newer link for the same address replaces an older one (see addMember).
    const previous = this.routes.get(link.peerAddress);
    if (previous !== undefined && previous !== link) this.closeLink(now, previous, "address-taken", true);
    this.routes.set(link.peerAddress, link);
    this.emit({ kind: "link-up", linkId, peer: link.peer, setupMs: now - link.createdAt });
    this.sendKeepalive(now, link);
  }

  /** The host's link failed or closed. */
  handleLinkDown(now: number, linkId: number, reason: string): void {
    const link = this.links.get(linkId);
    if (link === undefined || link.state === "closed") return;
    this.closeLink(now, link, reason, true, false);
  }

  /**
   * Forgets a link, tells the host to close it (unless the host reported it gone) and tells the peer
   * (unless the peer asked), then schedules a new attempt if this node is the one to offer.
   */
  private closeLink(now: number, link: LinkRecord, reason: string, tellPeer: boolean, tellHost = true): void {
    link.state = "closed";
    this.links.delete(link.id);
    if (this.linkByPeer.get(link.peer.nodeId) === link) this.linkByPeer.delete(link.peer.nodeId);
    this.linkBySession.delete(link.session);
    if (this.routes.get(link.peerAddress) === link) this.routes.delete(link.peerAddress);
    if (tellHost) this.push({ type: "close-link", linkId: link.id, reason });
    if (tellPeer && this.signalingUp) {
      this.push({
        type: "send-signal",
        to: link.peer.nodeId,
        body: { v: 1, kind: "close", session: link.session, reason },
      });
    }
    this.emit({ kind: "link-down", linkId: link.id, peer: link.peer, reason });
    this.scheduleRetry(now, link);
    this.reconcile(now);
  }

  private scheduleRetry(now: number, link: LinkRecord): void {
    if (!this.members.has(link.peer.nodeId)) return;
    const previous = this.retries.get(link.peer.nodeId);
    // A link that was up for a while failed for a fresh reason: retry quickly. Repeated setup
    // failures back off exponentially so an unreachable peer costs little.
    const delayMs =
      link.upAt !== null || previous === undefined
        ? this.timing.retryInitialMs
        : Math.min(previous.delayMs * 2, this.timing.retryMaxMs);
    this.retries.set(link.peer.nodeId, { delayMs, notBefore: now + delayMs });
  }

  // ---- timers --------------------------------------------------------------------------------

  /** Earliest time at which `handleTimeout` has work to do, or undefined when nothing is pending. */
  nextTimeout(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const link of this.links.values()) {
      if (link.state === "connecting") next = Math.min(next, link.createdAt + this.timing.linkSetupTimeoutMs);
      else next = Math.min(next, link.nextKeepaliveAt, link.lastReceiveAt + this.timing.linkDeadAfterMs);
    }
    if (this.signalingUp) {
      for (const [nodeId, retry] of this.retries) {
        if (this.members.has(nodeId) && !this.linkByPeer.has(nodeId)) next = Math.min(next, retry.notBefore);
      }
    }
    return Number.isFinite(next) ? next : undefined;
  }

  handleTimeout(now: number): void {
    for (const link of [...this.links.values()]) {
      if (link.state === "connecting") {
        if (now >= link.createdAt + this.timing.linkSetupTimeoutMs) this.closeLink(now, link, "setup-timeout", true);
      } else if (now >= link.lastReceiveAt + this.timing.linkDeadAfterMs) {
        this.closeLink(now, link, "keepalive-timeout", true);
      } else if (now >= link.nextKeepaliveAt) {
        this.sendKeepalive(now, link);
      }
    }
    this.reconcile(now);
  }

  private sendKeepalive(now: number, link: LinkRecord): void {
    link.pingSeq = (link.pingSeq + 1) >>> 0;
    link.nextKeepaliveAt = now + this.timing.keepaliveIntervalMs;
    this.push({
      type: "send-frame",
      linkId: link.id,
      channel: "control" satisfies Channel,
      frame: encodePing(FrameType.ping, { seq: link.pingSeq, sentAt: now }),
    });
  }

  // ---- status --------------------------------------------------------------------------------

  status(now: number): NodeStatus {
    const links: LinkStatus[] = [];
    for (const link of this.links.values()) {
      links.push({
        linkId: link.id,
        peer: link.peer,
        state: link.state,
        role: link.role,
        upForMs: link.upAt === null ? null : now - link.upAt,
        rttMs: link.rttMs,
        tx: { ...link.tx },
        rx: { ...link.rx },
        drops: link.drops.toJSON(),
      });
    }
    return {
      self: this.self,
      network: this.network,
      prefixLength: this.subnet.prefixLength,
      signalingUp: this.signalingUp,
      members: [...this.members.values()],
      links,
      drops: this.drops.toJSON(),
    };
  }

  /** Closes every link (the host is shutting down); the peers are told so they need not time out. */
  shutdown(now: number): void {
    this.members.clear();
    this.retries.clear();
    for (const link of [...this.links.values()]) this.closeLink(now, link, "shutdown", true);
  }
}
