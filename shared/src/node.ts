import { CoreError } from "./errors.js";
import { inSubnet, parseIpv4Address } from "./ipv4.js";
import type { LinkRecord, LinkStatus } from "./link-record.js";
import { LinkSetupNode } from "./link-setup-node.js";
import { nearNeighbours } from "./neighbourhood.js";
import type { NodeTrust } from "./node-trust.js";
import type { LinkKind, OverlayMessage } from "./overlay-message.js";
import { estimateNetworkSize, ringDistance, symphonyTarget } from "./ring.js";
import { isNetworkName, type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";
import { DEFAULT_LIMITS, DEFAULT_TIMING, type OverlayLimits, type Timing } from "./timing.js";
import { TrafficMeter } from "./traffic-meter.js";

export interface NodeConfig {
  /** This node's identity and virtual address. */
  readonly self: MemberInfo;
  readonly network: string;
  /** Prefix length of the virtual network, e.g. 16 for 10.88.0.0/16. */
  readonly prefixLength: number;
  /** Seals and checks link-setup envelopes; knows who is revoked. */
  readonly trust: NodeTrust;
  /** Uniform numbers in [0, 1): the core's only source of randomness (shortcut targets). */
  readonly random: () => number;
  readonly timing?: Partial<Timing>;
  readonly limits?: Partial<OverlayLimits>;
}

/** A snapshot of the node for status output. */
export interface NodeStatus {
  readonly self: MemberInfo;
  readonly ring: number;
  readonly network: string;
  readonly prefixLength: number;
  readonly signalingUp: boolean;
  readonly members: number;
  /** Nodes known as link candidates (heard of through links, gossip or signaling). */
  readonly known: number;
  readonly networkSizeEstimate: number;
  readonly links: readonly LinkStatus[];
  readonly drops: Record<string, number>;
}

/** Someone this node has heard of: a candidate for near links and shortcuts. */
interface KnownNode {
  readonly info: MemberInfo;
  readonly ring: number;
  heardAt: number;
}

/**
 * The overlay node: a sans-I/O state machine. Hosts feed it events (`handle*`) with the current
 * monotonic time in milliseconds and carry out the actions it queues (`pollAction`). It never reads
 * a clock, starts a timer, does I/O or awaits; `nextTimeout()` says when it wants `handleTimeout`.
 *
 * The overlay is IPOP's structured ring: every node sits at the ring address hashed from its virtual
 * IP, keeps links to its ring neighbours (2 each side), about log2(N) Symphony shortcuts, and direct
 * on-demand links to nodes it exchanges traffic with. Packets without a direct link are routed
 * greedily by ring distance. Link setup goes through the signaling server only while a node has no
 * link at all; after that offers and answers are routed through the overlay.
 */
export class OverlayNode extends LinkSetupNode {
  private readonly random: () => number;
  private readonly known = new Map<string, KnownNode>();
  private readonly traffic: TrafficMeter;
  /** Ring addresses we asked `find` for on behalf of a busy conversation, until when. */
  private readonly onDemandWanted = new Map<number, number>();
  private readonly traces = new Map<number, number>();
  /** Node ids replaced by a newer claim to their address, until when they are ignored. */
  private readonly superseded = new Map<string, number>();
  private nextTraceId = 1;
  private findPendingUntil = 0;
  private nextMaintenanceAt = 0;
  private nextGossipAt = 0;

  constructor(config: NodeConfig) {
    const self = validSelf(config);
    super(
      self,
      config.network,
      { address: parseIpv4Address(self.ip)!, prefixLength: config.prefixLength },
      { ...DEFAULT_LIMITS, ...config.limits },
      { ...DEFAULT_TIMING, ...config.timing },
      config.trust,
    );
    this.random = config.random;
    this.traffic = new TrafficMeter(this.limits.onDemandPackets, this.limits.onDemandWindowMs);
  }

  /** A message from the peer at the other end of `link`. */
  protected handleLinkMessage(now: number, link: LinkRecord, message: OverlayMessage): void {
    switch (message.t) {
      case "neighbours":
        for (const member of message.members) this.learn(now, member);
        return;
      case "kinds":
        link.remoteKinds = message.kinds;
        return;
      case "revocations":
        this.handleRevocationList(now, message.list, link);
        return;
      default:
        this.dropOn(link, "message-unexpected");
    }
  }

  /**
   * A routed message ended here. `exact` says this node owns the destination ring address rather
   * than merely being the closest node to it.
   */
  protected handleRoutedMessage(now: number, message: OverlayMessage, source: number, exact: boolean): void {
    switch (message.t) {
      case "find":
        // Whoever is closest to the searched position answers: that is the shortcut.
        if (message.from.nodeId === this.self.nodeId) return;
        this.learn(now, message.from);
        this.sendRouted(now, source, { t: "found", member: this.self });
        return;
      case "found":
        if (!exact) return this.dropRouted("misdelivered");
        this.onFound(now, message.member);
        return;
      case "link":
        // Not us, or an earlier incarnation of us (same address, other node id): tell the sender.
        if (!exact || (message.to !== undefined && message.to !== this.self.nodeId)) {
          this.bounceLink(now, message, source);
          return;
        }
        this.handleEnvelope(now, message.from, message.envelope, "overlay");
        return;
      case "trace": {
        const owner = exact;
        this.sendRouted(now, source, { t: "trace-reply", id: message.id, path: [...message.path, this.self], owner });
        return;
      }
      case "trace-reply":
        if (!exact) return this.dropRouted("misdelivered");
        if (this.traces.delete(message.id)) {
          this.emit({ kind: "trace-result", id: message.id, path: message.path, owner: message.owner, complete: true });
        }
        return;
      default:
        this.dropRouted("unexpected");
    }
  }

  private dropRouted(reason: string): void {
    this.drops.add(`message-${reason}`);
  }

  // ---- knowledge of other nodes --------------------------------------------------------------

  /** Adds or refreshes a link candidate. The newest claim to an address wins (a restarted agent). */
  protected learn(now: number, member: MemberInfo): void {
    if (member.nodeId === this.self.nodeId || this.trust.isRevoked(member.nodeId, member.name)) return;
    if (member.ip === this.self.ip) {
      this.emit({ kind: "address-conflict", ip: member.ip, kept: this.self.nodeId, dropped: member.nodeId });
      return;
    }
    const address = parseIpv4Address(member.ip)!;
    if (!inSubnet(address, this.subnet)) return;
    // Gossip may still carry an agent's previous incarnation after it restarted: the live claim,
    // the one we are linked to or that replaced it, wins.
    const holder = this.links.byAddress.get(address);
    if (holder !== undefined && holder.peer.nodeId !== member.nodeId) return;
    const superseded = this.superseded.get(member.nodeId);
    if (superseded !== undefined) {
      if (superseded > now) return;
      this.superseded.delete(member.nodeId);
    }
    const existing = this.known.get(member.nodeId);
    if (existing !== undefined) {
      existing.heardAt = now;
      return;
    }
    this.known.set(member.nodeId, { info: member, ring: this.ringOf(address), heardAt: now });
  }

  /** A node joined the signaling server: a newer claim to a linked address replaces the old link. */
  private replaceStaleClaim(now: number, member: MemberInfo): void {
    const holder = this.links.byAddress.get(parseIpv4Address(member.ip) ?? -1);
    if (holder !== undefined && holder.peer.nodeId !== member.nodeId) {
      this.emit({ kind: "address-conflict", ip: member.ip, kept: member.nodeId, dropped: holder.peer.nodeId });
      this.supersede(now, holder.peer.nodeId);
      this.closeLink(now, holder, "address-taken", true);
    }
  }

  /** Forgets a node that another claim to its address replaced, and ignores gossip about it a while. */
  protected supersede(now: number, nodeId: string): void {
    this.known.delete(nodeId);
    this.superseded.set(nodeId, now + this.timing.knownTtlMs);
  }

  // ---- membership (from the signaling server) ------------------------------------------------

  /** The signaling server welcomed us; `members` are the other current members. */
  handleSignalingUp(now: number, members: readonly MemberInfo[]): void {
    this.signalingUp = true;
    this.members.clear();
    for (const member of members) {
      if (this.trust.isRevoked(member.nodeId, member.name)) continue;
      if (member.nodeId !== this.self.nodeId) this.members.set(member.nodeId, member);
      this.replaceStaleClaim(now, member);
      this.learn(now, member);
    }
    this.maintain(now);
  }

  /** The connection to the signaling server is gone. Links stay up; the overlay carries on. */
  handleSignalingDown(_now: number): void {
    this.signalingUp = false;
  }

  /**
   * A member joined. It is not made a link candidate: the newcomer links to its own neighbours, and
   * an offer routed to it through the overlay would not find it before it has any link.
   */
  handleMemberJoined(now: number, member: MemberInfo): void {
    if (member.nodeId === this.self.nodeId || this.trust.isRevoked(member.nodeId, member.name)) return;
    this.members.set(member.nodeId, member);
    this.replaceStaleClaim(now, member);
  }

  handleMemberLeft(_now: number, nodeId: string): void {
    this.members.delete(nodeId);
  }

  // ---- what links are for ---------------------------------------------------------------------

  protected linkCameUp(now: number, link: LinkRecord): void {
    // Whatever else we knew at this address is an earlier incarnation of this node.
    for (const [nodeId, node] of this.known) {
      if (node.info.ip === link.peer.ip && nodeId !== link.peer.nodeId) this.supersede(now, nodeId);
    }
    this.maintainSoon(now);
  }

  protected linkClosed(now: number, link: LinkRecord, reason: string): void {
    // A node we never reached, or that went silent, may be gone: no longer a candidate until heard of again.
    if (reason === "keepalive-timeout" || reason === "setup-timeout") this.known.delete(link.peer.nodeId);
    this.maintainSoon(now);
  }

  protected shortcutRefused(now: number): void {
    // Most nodes near the one that refused may be as full: look again later rather than at once.
    this.findPendingUntil = now + this.timing.shortcutBackoffMs;
  }

  protected forgetRevoked(): void {
    for (const [nodeId, node] of this.known) {
      if (this.trust.isRevoked(nodeId, node.info.name)) this.known.delete(nodeId);
    }
  }

  /** Repairs the neighbourhood at the next `handleTimeout` (at once), not inside the current change. */
  private maintainSoon(now: number): void {
    this.nextMaintenanceAt = Math.min(this.nextMaintenanceAt, now);
  }

  /** Whether a link offered for `purpose` would take this node past its share of links. */
  protected refuses(purpose: LinkKind): boolean {
    if (this.links.byId.size >= this.limits.maxLinks) return purpose !== "near" && purpose !== "bootstrap";
    if (purpose === "shortcut") return this.countLinks("shortcut") >= this.shortcutTarget();
    if (purpose === "on-demand") return this.countLinks("on-demand") >= this.limits.maxOnDemand;
    return false;
  }

  /** Links kept for `kind` by either side. */
  private countLinks(kind: LinkKind): number {
    let n = 0;
    for (const link of this.links.byId.values()) if (link.kinds.has(kind) || link.remoteKinds.includes(kind)) n++;
    return n;
  }

  /** Shortcuts a node keeps, counting those others keep to it: ceil(log2 N). */
  private shortcutTarget(): number {
    return Math.ceil(Math.log2(Math.max(2, this.networkSizeEstimate())));
  }

  // ---- maintenance: near links, shortcuts, on-demand, trimming --------------------------------

  /** Brings the links in line with what the ring needs now. Cheap; runs on every change and tick. */
  private maintain(now: number): void {
    this.nextMaintenanceAt = now + this.timing.maintenanceIntervalMs;
    this.expireKnown(now);
    this.closeExpiredLinks(now);
    if (this.links.up.length === 0) {
      this.bootstrap(now);
      return;
    }
    // A node with fewer links than near neighbours may be on an island of a ring still forming:
    // every member the signaling server listed is a candidate then.
    if (this.links.up.length < 2 * this.limits.nearPerSide)
      for (const member of this.members.values()) this.learn(now, member);
    const near = nearNeighbours(this.ring, this.candidates(now), this.limits.nearPerSide);
    for (const nodeId of near) {
      if (this.links.byPeer.has(nodeId) || !this.mayRetry(now, nodeId)) continue;
      const candidate = this.known.get(nodeId);
      if (candidate !== undefined) this.openLink(now, candidate.info, "near");
    }
    for (const link of this.links.byId.values()) {
      if (near.has(link.peer.nodeId)) link.kinds.add("near");
      else link.kinds.delete("near");
      if (link.upAt !== null && now - link.upAt > this.timing.bootstrapHoldMs) link.kinds.delete("bootstrap");
      if (now - link.lastDataAt > this.timing.onDemandIdleMs) link.kinds.delete("on-demand");
    }
    this.seekShortcut(now);
    this.trimAndTell(now);
    if (now >= this.nextGossipAt) this.gossip(now, near);
  }

  /**
   * Near-link candidates: every known node, except those whose link just failed and is backing off,
   * so a dead neighbour does not keep the next live one out of the near set while gossip still
   * mentions it.
   */
  private *candidates(now: number): Iterable<{ nodeId: string; ring: number }> {
    for (const [nodeId, node] of this.known) {
      if (this.mayRetry(now, nodeId) || this.links.byPeer.get(nodeId)?.state === "up")
        yield { nodeId, ring: node.ring };
    }
  }

  /**
   * With no link at all, reach the overlay through the signaling server: link to the member closest
   * on the ring (likely a near neighbour already), trying the next closest while one is backing off.
   */
  private bootstrap(now: number): void {
    if (!this.signalingUp || this.links.byId.size > 0) return;
    let best: MemberInfo | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const member of this.members.values()) {
      if (!this.mayRetry(now, member.nodeId) || member.ip === this.self.ip) continue;
      const d = ringDistance(this.ring, this.ringOf(parseIpv4Address(member.ip)!));
      if (d < bestDistance) {
        best = member;
        bestDistance = d;
      }
    }
    if (best !== undefined) this.openLink(now, best, "bootstrap");
  }

  private expireKnown(now: number): void {
    for (const [nodeId, node] of this.known) {
      if (now - node.heardAt > this.timing.knownTtlMs && !this.links.byPeer.has(nodeId)) this.known.delete(nodeId);
    }
  }

  /** Keeps about log2(N) shortcuts: asks who is closest to a Symphony-drawn ring position. */
  private seekShortcut(now: number): void {
    if (now < this.findPendingUntil || this.links.byId.size >= this.limits.maxLinks) return;
    if (this.countLinks("shortcut") >= this.shortcutTarget()) return;
    this.findPendingUntil = now + 2 * this.timing.maintenanceIntervalMs;
    const target = symphonyTarget(this.ring, this.networkSizeEstimate(), this.random());
    this.sendRouted(now, target, { t: "find", from: this.self });
  }

  private networkSizeEstimate(): number {
    const rings: number[] = [];
    for (const link of this.links.up) if (link.kinds.has("near")) rings.push(link.ring);
    return Math.max(estimateNetworkSize(this.ring, rings), this.links.up.length + 1);
  }

  /** A node answered our `find`: link to it as a shortcut, or as the on-demand link we wanted. */
  private onFound(now: number, member: MemberInfo): void {
    this.learn(now, member);
    const known = this.known.get(member.nodeId);
    if (known === undefined) return;
    const onDemand = this.onDemandWanted.delete(known.ring);
    const kind: LinkKind = onDemand ? "on-demand" : "shortcut";
    const existing = this.links.byPeer.get(member.nodeId);
    if (existing !== undefined) {
      if (kind === "on-demand" || this.countLinks("shortcut") < this.shortcutTarget()) existing.kinds.add(kind);
      return;
    }
    if (!this.mayRetry(now, member.nodeId) || this.links.byId.size >= this.limits.maxLinks) return;
    this.openLink(now, member, kind);
  }

  /**
   * Counts a packet exchanged with `address` over more than one hop; a busy pair asks for the
   * owner's identity (a `find` to its exact ring address) to open a direct link.
   */
  protected countConversation(now: number, address: number, ring: number): void {
    if (!this.traffic.count(now, address)) return;
    if (this.countLinks("on-demand") >= this.limits.maxOnDemand || this.links.byId.size >= this.limits.maxLinks) return;
    if (this.links.byRing.has(ring)) return;
    this.onDemandWanted.set(ring, now + this.timing.linkSetupTimeoutMs);
    this.sendRouted(now, ring, { t: "find", from: this.self });
  }

  /**
   * Tells peers why we keep their link, and closes links neither side has needed for a while, and
   * shortcuts others hold to us beyond our share (a node at a popular ring position would otherwise
   * collect them without bound; the holder looks for another).
   */
  private trimAndTell(now: number): void {
    let surplus = this.countLinks("shortcut") - this.shortcutTarget();
    for (const link of [...this.links.up]) {
      if (link.state !== "up") continue;
      const kinds = [...link.kinds].sort().join(",");
      if (kinds !== link.kindsSent) {
        link.kindsSent = kinds;
        this.sendLinkMessage(link, { t: "kinds", kinds: [...link.kinds] });
      }
      if (surplus > 0 && link.kinds.size === 0 && link.remoteKinds.length === 1 && link.remoteKinds[0] === "shortcut") {
        surplus--;
        this.closeLink(now, link, "busy", true);
        continue;
      }
      if (link.kinds.size > 0 || link.remoteKinds.length > 0) {
        link.unneededSince = null;
      } else if (link.unneededSince === null) {
        link.unneededSince = now;
      } else if (now - link.unneededSince >= this.timing.unneededGraceMs) {
        this.closeLink(now, link, "unneeded", true);
      }
    }
    for (const [ring, until] of this.onDemandWanted) if (until < now) this.onDemandWanted.delete(ring);
    for (const [nodeId, until] of this.superseded) if (until < now) this.superseded.delete(nodeId);
  }

  /**
   * Tells every linked node who our near neighbours are. Near neighbours use it to knit the ring; a
   * node whose neighbours on one side all died walks towards its new ones through whatever links it
   * has, each round learning nodes closer to its position.
   */
  private gossip(now: number, near: ReadonlySet<string>): void {
    this.nextGossipAt = now + this.timing.gossipIntervalMs;
    const members: MemberInfo[] = [this.self];
    for (const nodeId of near) {
      const link = this.links.byPeer.get(nodeId);
      // Only neighbours heard from lately: a dead one must not be spread while its link times out.
      const fresh = link !== undefined && now - link.lastReceiveAt < 1.5 * this.timing.keepaliveIntervalMs;
      if (link?.state === "up" && fresh) members.push(link.peer);
    }
    for (const link of this.links.up) this.sendLinkMessage(link, { t: "neighbours", members });
  }

  // ---- timers --------------------------------------------------------------------------------

  /** Earliest time at which `handleTimeout` has work to do, or undefined when nothing is pending. */
  nextTimeout(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const link of this.links.byId.values()) {
      if (link.state === "connecting") next = Math.min(next, link.createdAt + this.timing.linkSetupTimeoutMs);
      else next = Math.min(next, link.nextKeepaliveAt, link.lastReceiveAt + this.timing.linkDeadAfterMs);
    }
    if (this.links.byId.size > 0 || (this.signalingUp && this.members.size > 0)) {
      next = Math.min(next, this.nextMaintenanceAt);
    }
    for (const deadline of this.traces.values()) next = Math.min(next, deadline);
    return Number.isFinite(next) ? next : undefined;
  }

  handleTimeout(now: number): void {
    for (const link of [...this.links.byId.values()]) {
      if (link.state === "closed") continue;
      if (link.state === "connecting") {
        if (now >= link.createdAt + this.timing.linkSetupTimeoutMs) this.closeLink(now, link, "setup-timeout", true);
      } else if (now >= link.lastReceiveAt + this.timing.linkDeadAfterMs) {
        this.closeLink(now, link, "keepalive-timeout", true);
      } else if (now >= link.nextKeepaliveAt) {
        this.sendKeepalive(now, link);
      }
    }
    for (const [id, deadline] of this.traces) {
      if (deadline <= now) {
        this.traces.delete(id);
        this.emit({ kind: "trace-result", id, path: [], owner: false, complete: false });
      }
    }
    if (now >= this.nextMaintenanceAt) this.maintain(now);
  }

  // ---- queries -------------------------------------------------------------------------------

  /**
   * Starts tracing the overlay path towards `ip`; the answer arrives as a `trace-result` event with
   * the returned id (incomplete after `traceTimeoutMs`).
   */
  traceRoute(now: number, ip: number): number {
    const id = this.nextTraceId++;
    const destination = this.ringOf(ip);
    const direct = this.links.byAddress.get(ip);
    if (direct !== undefined) {
      this.emit({ kind: "trace-result", id, path: [this.self, direct.peer], owner: true, complete: true });
      return id;
    }
    this.traces.set(id, now + this.timing.traceTimeoutMs);
    this.sendRouted(now, destination, { t: "trace", id, path: [] });
    return id;
  }

  /** The ring address of a virtual IP in this network. */
  ringAddressOf(ip: number): number {
    return this.ringOf(ip);
  }

  status(now: number): NodeStatus {
    const links: LinkStatus[] = [];
    for (const link of this.links.byId.values()) {
      links.push({
        linkId: link.id,
        peer: link.peer,
        state: link.state,
        role: link.role,
        kinds: [...link.kinds].sort(),
        remoteKinds: [...link.remoteKinds].sort(),
        upForMs: link.upAt === null ? null : now - link.upAt,
        rttMs: link.rttMs,
        tx: { ...link.tx },
        rx: { ...link.rx },
        drops: link.drops.toJSON(),
      });
    }
    return {
      self: this.self,
      ring: this.ring,
      network: this.network,
      prefixLength: this.subnet.prefixLength,
      signalingUp: this.signalingUp,
      members: this.members.size,
      known: this.known.size,
      networkSizeEstimate: this.networkSizeEstimate(),
      links,
      drops: this.drops.toJSON(),
    };
  }

  /** Closes every link (the host is shutting down); the peers are told so they need not time out. */
  shutdown(now: number): void {
    this.known.clear();
    this.members.clear();
    for (const link of [...this.links.byId.values()]) {
      link.deferredOpen = null;
      this.closeLink(now, link, "shutdown", true);
    }
    this.signalingUp = false;
  }
}

/** Checks a node's configuration; throws CoreError saying what to fix. */
function validSelf(config: NodeConfig): MemberInfo {
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
  return self;
}
