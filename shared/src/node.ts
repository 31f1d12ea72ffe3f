import type { LinkRole } from "./actions.js";
import { CoreError } from "./errors.js";
import { encodePing, FrameType } from "./frame.js";
import { inSubnet, parseIpv4Address } from "./ipv4.js";
import { type LinkEnvelope, parseLinkEnvelope } from "./link-envelope.js";
import { LinkRecord, type LinkStatus, type LinkVia } from "./link-record.js";
import { nearNeighbours } from "./neighbourhood.js";
import { type NodeTrust, refusalReason, type Sender } from "./node-trust.js";
import type { LinkKind, OverlayMessage } from "./overlay-message.js";
import { estimateNetworkSize, ringDistance, symphonyTarget } from "./ring.js";
import { RoutingNode } from "./routing-node.js";
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

interface RetryState {
  delayMs: number;
  notBefore: number;
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
export class OverlayNode extends RoutingNode {
  private readonly timing: Timing;
  private readonly random: () => number;
  private readonly trust: NodeTrust;

  private signalingUp = false;
  /** Members as the signaling server lists them: the way in when this node has no link at all. */
  private readonly members = new Map<string, MemberInfo>();
  private readonly known = new Map<string, KnownNode>();
  private readonly retries = new Map<string, RetryState>();
  private readonly traffic: TrafficMeter;
  /** Ring addresses we asked `find` for on behalf of a busy conversation, until when. */
  private readonly onDemandWanted = new Map<number, number>();
  private readonly traces = new Map<number, number>();
  /** Node ids replaced by a newer claim to their address, until when they are ignored. */
  private readonly superseded = new Map<string, number>();
  /** Nodes an overlay-routed offer could not reach: offer through the signaling server instead. */
  private readonly viaSignaling = new Set<string>();
  private nextTraceId = 1;
  private findPendingUntil = 0;
  private nextMaintenanceAt = 0;
  private nextGossipAt = 0;

  private nextLinkId = 1;
  private nextSession = 1;

  constructor(config: NodeConfig) {
    const self = validSelf(config);
    super(
      self,
      config.network,
      { address: parseIpv4Address(self.ip)!, prefixLength: config.prefixLength },
      { ...DEFAULT_LIMITS, ...config.limits },
    );
    this.timing = { ...DEFAULT_TIMING, ...config.timing };
    this.random = config.random;
    this.trust = config.trust;
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

  /**
   * A link envelope reached the node closest to its target, not the target: the target is not
   * (yet) reachable through the overlay. Tell the offerer at once so it does not wait for a timeout.
   */
  private bounceLink(now: number, message: OverlayMessage & { t: "link" }, source: number): void {
    this.dropRouted("link-misdelivered");
    // Only a certified sender's open is answered: a bounce must not be a way to make nodes talk.
    const opened = this.trust.open(message.envelope, "forward");
    if (!opened.ok) return;
    const envelope = parseLinkEnvelope(opened.value.envelope);
    if (typeof envelope === "string" || envelope.kind !== "open") return;
    const close: LinkEnvelope = { v: 1, kind: "close", session: envelope.session, reason: "unreachable" };
    this.sendRouted(now, source, {
      t: "link",
      from: "unreachable",
      envelope: this.trust.seal(opened.value.from, close),
    });
  }

  // ---- knowledge of other nodes --------------------------------------------------------------

  /** Adds or refreshes a link candidate. The newest claim to an address wins (a restarted agent). */
  private learn(now: number, member: MemberInfo): void {
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

  /**
   * A revocation list from the signaling server or from `via`, a linked peer. A newer one is adopted
   * (the trust checks its signature), passed on over every other link, and links to nodes it revokes
   * are closed at once, without waiting for the revoked node's cooperation.
   */
  handleRevocationList(now: number, list: string, via?: LinkRecord): void {
    const verdict = this.trust.offerRevocationList(list);
    if (verdict === "known") return;
    if (verdict !== "newer") {
      this.drops.add(`revocations-${refusalReason(verdict)}`);
      return;
    }
    let closedLinks = 0;
    for (const link of [...this.links.byId.values()]) {
      if (this.trust.isRevoked(link.peer.nodeId, link.peer.name)) {
        closedLinks++;
        this.closeLink(now, link, "revoked", false);
      } else if (link !== via && link.state === "up") {
        this.sendLinkMessage(link, { t: "revocations", list });
      }
    }
    for (const [nodeId, node] of this.known)
      if (this.trust.isRevoked(nodeId, node.info.name)) this.known.delete(nodeId);
    for (const [nodeId, member] of this.members)
      if (this.trust.isRevoked(nodeId, member.name)) this.members.delete(nodeId);
    const self = this.trust.isRevoked(this.self.nodeId, this.self.name);
    this.emit({ kind: "revocations-updated", closedLinks, self });
  }

  /**
   * This node renewed its certificate (the trust seals with the new one): tell every linked peer, so
   * none closes the link when the old certificate expires.
   */
  handleCertificateRenewed(now: number): void {
    for (const link of this.links.up) {
      // Over the link itself (routing to the peer's own ring address takes it), even for a link
      // set up through the signaling server, which may be gone.
      const to = link.peer.nodeId;
      const envelope = this.trust.seal(to, { v: 1, kind: "refresh", session: link.session });
      this.sendRouted(now, link.ring, { t: "link", from: this.self.nodeId, to, envelope });
    }
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
  private supersede(now: number, nodeId: string): void {
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

  // ---- link setup ----------------------------------------------------------------------------

  /** Opens a link to `peer`, if a way to carry its setup exists. */
  private openLink(now: number, peer: MemberInfo, kind: LinkKind): LinkRecord | undefined {
    const serverKnowsPeer = this.signalingUp && this.members.has(peer.nodeId);
    let via: LinkVia | undefined = this.links.up.length > 0 ? "overlay" : this.signalingUp ? "signaling" : undefined;
    if (via === "overlay" && serverKnowsPeer && this.viaSignaling.delete(peer.nodeId)) via = "signaling";
    if (via === undefined) return undefined;
    const session = `${this.self.nodeId}.${this.nextSession++}`;
    const link = this.createLink(now, peer, "offerer", session, via);
    link.kinds.add(kind);
    return link;
  }

  private createLink(now: number, peer: MemberInfo, role: LinkRole, session: string, via: LinkVia): LinkRecord {
    const address = parseIpv4Address(peer.ip)!;
    const link = new LinkRecord(this.nextLinkId++, peer, address, this.ringOf(address), role, session, via, now);
    this.links.add(link);
    this.emit({ kind: "link-opening", linkId: link.id, peer, role });
    this.push({ type: "open-link", linkId: link.id, peer, role });
    return link;
  }

  /** The host's link produced a description or candidate for the remote side. */
  handleLinkSignal(now: number, linkId: number, payload: unknown): void {
    const link = this.links.byId.get(linkId);
    if (link === undefined || link.state === "closed") return;
    let body: LinkEnvelope;
    if (link.role === "offerer" && !link.openSent) {
      link.openSent = true;
      const purpose = link.kinds.values().next().value ?? "near";
      body = { v: 1, kind: "open", session: link.session, from: this.self, purpose, payload };
    } else {
      body = { v: 1, kind: "signal", session: link.session, payload };
    }
    this.sendEnvelope(now, link, body);
  }

  private sendEnvelope(now: number, link: LinkRecord, body: LinkEnvelope): void {
    const to = link.peer.nodeId;
    const sealed = this.trust.seal(to, body);
    if (link.via === "signaling") this.push({ type: "send-signal", to, body: sealed });
    else this.sendRouted(now, link.ring, { t: "link", from: this.self.nodeId, to, envelope: sealed });
  }

  /** A signaling `message` from another node: a link-setup envelope. */
  handleSignal(now: number, from: string, body: unknown): void {
    this.handleEnvelope(now, from, body, "signaling");
  }

  /**
   * A sealed envelope from `relayedFrom` (the node id the signaling server or the overlay message
   * names). Used only when its seal holds (see {@link NodeTrust}) and the signer is that node.
   */
  private handleEnvelope(now: number, relayedFrom: string, body: unknown, via: LinkVia): void {
    const opened = this.trust.open(body, "deliver");
    if (!opened.ok) return this.dropSignal(relayedFrom, refusalReason(opened));
    const sender: Sender = opened.value;
    const envelope = parseLinkEnvelope(opened.value.envelope);
    if (typeof envelope === "string") return this.dropSignal(sender.from, "malformed");
    // A bounce comes from whichever node was closest to the target, not from the target itself.
    const bounced = relayedFrom === "unreachable" && via === "overlay";
    if (bounced ? envelope.kind !== "close" || envelope.reason !== "unreachable" : sender.from !== relayedFrom) {
      return this.dropSignal(sender.from, "sender-mismatch");
    }
    this.handleTrustedEnvelope(now, sender, envelope, via, bounced);
  }

  private handleTrustedEnvelope(
    now: number,
    sender: Sender,
    envelope: LinkEnvelope,
    via: LinkVia,
    bounced: boolean,
  ): void {
    const from = sender.from;
    const existing = this.links.bySession.get(envelope.session);
    if (existing !== undefined && !bounced) {
      if (existing.peer.nodeId !== from) return this.dropSignal(from, "session-mismatch");
      // We may have learned the peer's address from gossip: its certificate must back it.
      if (!sender.owns(existing.peerAddress)) return this.dropSignal(from, "sender-mismatch");
      existing.peerCertExpiresAt = sender.notAfterMs;
    }
    switch (envelope.kind) {
      case "open":
        if (existing !== undefined) return this.dropSignal(from, "duplicate-open");
        this.acceptOpen(now, sender, envelope, via);
        return;
      case "refresh":
        // The expiry was taken from its seal above.
        if (existing === undefined || existing.state === "closed") return this.dropSignal(from, "stale-session");
        return;
      case "signal":
        if (existing === undefined || existing.state === "closed") return this.dropSignal(from, "stale-session");
        this.push({ type: "link-signal", linkId: existing.id, payload: envelope.payload });
        return;
      case "close":
        if (existing !== undefined && existing.state !== "closed") {
          // A node with its share of shortcuts refused ours: most nearby nodes may be as full, so
          // look again later rather than at once.
          if (envelope.reason === "busy") this.findPendingUntil = now + this.timing.shortcutBackoffMs;
          this.closeLink(
            now,
            existing,
            bounced ? "unreachable" : envelope.reason === "busy" ? "busy" : "closed-by-peer",
            false,
          );
        }
        return;
    }
  }

  private acceptOpen(now: number, sender: Sender, envelope: LinkEnvelope & { kind: "open" }, via: LinkVia): void {
    const peer = envelope.from;
    const from = sender.from;
    const address = parseIpv4Address(peer.ip)!;
    if (peer.nodeId !== from || peer.name !== sender.name || !sender.owns(address)) {
      return this.dropSignal(from, "sender-mismatch");
    }
    if (peer.ip === this.self.ip) return this.dropSignal(from, "address-conflict");
    if (!inSubnet(address, this.subnet)) return this.dropSignal(from, "off-network-address");
    const current = this.links.byPeer.get(from);
    if (current !== undefined) {
      // Both opened at once: the smaller node id's attempt wins. The loser's open is kept in case the
      // winner's attempt fails (its open may never reach a node that is still joining).
      if (current.role === "offerer" && current.state === "connecting" && this.self.nodeId < from) {
        current.deferredOpen = { sender, envelope, via, at: now };
        return this.dropSignal(from, "glare");
      }
      // The peer gave up on the old link (it restarted it); follow.
      this.closeLink(now, current, "replaced", false);
    }
    this.learn(now, peer);
    if (this.refuses(envelope.purpose)) {
      // Keeps links per node near 4 + log2(N): the asker will look for another shortcut.
      this.drops.add(`link-refused-${envelope.purpose}`);
      const close = this.trust.seal(from, { v: 1, kind: "close", session: envelope.session, reason: "busy" });
      if (via === "signaling") this.push({ type: "send-signal", to: from, body: close });
      else this.sendRouted(now, this.ringOf(address), { t: "link", from: this.self.nodeId, to: from, envelope: close });
      return;
    }
    const link = this.createLink(now, peer, "answerer", envelope.session, via);
    link.peerCertExpiresAt = sender.notAfterMs;
    link.remoteKinds = [envelope.purpose];
    this.push({ type: "link-signal", linkId: link.id, payload: envelope.payload });
  }

  /** Whether a link offered for `purpose` would take this node past its share of links. */
  private refuses(purpose: LinkKind): boolean {
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

  private dropSignal(from: string, reason: string): void {
    this.drops.add(`signal-${reason}`);
    this.emit({ kind: "signal-dropped", from, reason });
  }

  /** Both channels of the link are open. */
  handleLinkUp(now: number, linkId: number): void {
    const link = this.links.byId.get(linkId);
    if (link === undefined || link.state !== "connecting") return;
    link.state = "up";
    link.upAt = now;
    link.lastReceiveAt = now;
    link.nextKeepaliveAt = now;
    link.deferredOpen = null;
    this.retries.delete(link.peer.nodeId);
    this.learn(now, link.peer);
    if (link.via === "signaling" && link.role === "offerer") link.kinds.add("bootstrap");
    // A newer link for the same address replaces an older one (a restarted agent).
    // Whatever else we knew at this address is an earlier incarnation of this node.
    for (const [nodeId, node] of this.known) {
      if (node.info.ip === link.peer.ip && nodeId !== link.peer.nodeId) this.supersede(now, nodeId);
    }
    const displaced = this.links.markUp(link);
    if (displaced !== undefined) {
      this.supersede(now, displaced.peer.nodeId);
      this.closeLink(now, displaced, "address-taken", true);
    }
    this.emit({ kind: "link-up", linkId, peer: link.peer, setupMs: now - link.createdAt });
    this.sendKeepalive(now, link);
    // A peer that missed a revocation (it was offline) learns it from whoever it links to.
    const revocations = this.trust.revocationList();
    if (revocations !== null) this.sendLinkMessage(link, { t: "revocations", list: revocations });
    this.maintainSoon(now);
  }

  /** The host's link failed or closed. */
  handleLinkDown(now: number, linkId: number, reason: string): void {
    const link = this.links.byId.get(linkId);
    if (link === undefined || link.state === "closed") return;
    this.closeLink(now, link, reason, true, false);
  }

  /**
   * Forgets a link, tells the host to close it (unless the host reported it gone) and tells the peer
   * (unless the peer asked), then schedules a new attempt and repairs the neighbourhood.
   */
  private closeLink(now: number, link: LinkRecord, reason: string, tellPeer: boolean, tellHost = true): void {
    if (link.state === "closed") return;
    // Tell the peer first, while the link is still in the table: an overlay-routed close then goes
    // straight over the link itself.
    if (tellPeer && (link.via === "overlay" || this.signalingUp)) {
      this.sendEnvelope(now, link, { v: 1, kind: "close", session: link.session, reason });
    }
    link.state = "closed";
    this.links.remove(link);
    this.routeCache.forgetLink(link.id);
    if (tellHost) this.push({ type: "close-link", linkId: link.id, reason });
    this.emit({ kind: "link-down", linkId: link.id, peer: link.peer, reason });
    // A node we never reached, or that went silent, may be gone: no longer a candidate until heard of again.
    if (reason === "keepalive-timeout" || reason === "setup-timeout") this.known.delete(link.peer.nodeId);
    // Our offer did not find the node through the overlay (we may sit on an island of the ring that
    // is still forming): while the signaling server is there, the next offer goes through it.
    if (reason === "unreachable") this.viaSignaling.add(link.peer.nodeId);
    this.scheduleRetry(now, link);
    const deferred = link.deferredOpen;
    if (deferred !== null && now - deferred.at < this.timing.linkSetupTimeoutMs) {
      this.handleTrustedEnvelope(now, deferred.sender, deferred.envelope, deferred.via, false);
    }
    this.maintainSoon(now);
  }

  /** Repairs the neighbourhood at the next `handleTimeout` (at once), not inside the current change. */
  private maintainSoon(now: number): void {
    this.nextMaintenanceAt = Math.min(this.nextMaintenanceAt, now);
  }

  private scheduleRetry(now: number, link: LinkRecord): void {
    const previous = this.retries.get(link.peer.nodeId);
    // A link that was up for a while failed for a fresh reason: retry quickly. Repeated setup
    // failures back off exponentially so an unreachable peer costs little.
    const delayMs =
      link.upAt !== null || previous === undefined
        ? this.timing.retryInitialMs
        : Math.min(previous.delayMs * 2, this.timing.retryMaxMs);
    this.retries.set(link.peer.nodeId, { delayMs, notBefore: now + delayMs });
  }

  private mayRetry(now: number, nodeId: string): boolean {
    const retry = this.retries.get(nodeId);
    return retry === undefined || now >= retry.notBefore;
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

  /** A member whose certificate expired is no longer one: its links close (it may return renewed). */
  private closeExpiredLinks(now: number): void {
    const wall = this.trust.wallClockMs();
    for (const link of [...this.links.byId.values()]) {
      if (wall >= link.peerCertExpiresAt) this.closeLink(now, link, "certificate-expired", true);
    }
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

  private sendKeepalive(now: number, link: LinkRecord): void {
    link.pingSeq = (link.pingSeq + 1) >>> 0;
    link.nextKeepaliveAt = now + this.timing.keepaliveIntervalMs;
    this.sendFrame(link, "control", encodePing(FrameType.ping, { seq: link.pingSeq, sentAt: now }));
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
