import type { LinkRole } from "./actions.js";
import { encodePing, FrameType } from "./frame.js";
import { type Ipv4Interface, inSubnet, parseIpv4Address } from "./ipv4.js";
import { type LinkEnvelope, parseLinkEnvelope } from "./link-envelope.js";
import { LinkRecord, type LinkVia } from "./link-record.js";
import { type NodeTrust, refusalReason, type Sender } from "./node-trust.js";
import type { LinkKind, OverlayMessage } from "./overlay-message.js";
import { RoutingNode } from "./routing-node.js";
import type { MemberInfo } from "./signaling-protocol.js";
import type { OverlayLimits, Timing } from "./timing.js";

interface RetryState {
  delayMs: number;
  notBefore: number;
}

/**
 * The lifecycle of links, between the packet path below (RoutingNode) and the overlay's choice of
 * links above (OverlayNode): setting a link up through sealed envelopes (through the signaling
 * server, or routed over the overlay), glare between simultaneous opens, keepalives, closing and
 * retrying with backoff, and the trust that decides whose envelopes count (certificates,
 * revocation, expiry). What to link to, and what a new or lost link means for the ring, is the
 * subclass's (the hooks at the end).
 */
export abstract class LinkSetupNode extends RoutingNode {
  protected readonly timing: Timing;
  protected readonly trust: NodeTrust;
  protected signalingUp = false;
  /** Members as the signaling server lists them: the way in when this node has no link at all. */
  protected readonly members = new Map<string, MemberInfo>();
  private readonly retries = new Map<string, RetryState>();
  /** Nodes an overlay-routed offer could not reach: offer through the signaling server instead. */
  private readonly viaSignaling = new Set<string>();
  private nextLinkId = 1;
  private nextSession = 1;

  constructor(
    self: MemberInfo,
    network: string,
    subnet: Ipv4Interface,
    limits: OverlayLimits,
    timing: Timing,
    trust: NodeTrust,
  ) {
    super(self, network, subnet, limits);
    this.timing = timing;
    this.trust = trust;
  }

  /** Opens a link to `peer`, if a way to carry its setup exists. */
  protected openLink(now: number, peer: MemberInfo, kind: LinkKind): LinkRecord | undefined {
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
  protected handleEnvelope(now: number, relayedFrom: string, body: unknown, via: LinkVia): void {
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
          if (envelope.reason === "busy") this.shortcutRefused(now);
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

  private dropSignal(from: string, reason: string): void {
    this.drops.add(`signal-${reason}`);
    this.emit({ kind: "signal-dropped", from, reason });
  }

  /**
   * A link envelope reached the node closest to its target, not the target: the target is not
   * (yet) reachable through the overlay. Tell the offerer at once so it does not wait for a timeout.
   */
  protected bounceLink(now: number, message: OverlayMessage & { t: "link" }, source: number): void {
    this.drops.add("message-link-misdelivered");
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
    this.linkCameUp(now, link);
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
  protected closeLink(now: number, link: LinkRecord, reason: string, tellPeer: boolean, tellHost = true): void {
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
    // Our offer did not find the node through the overlay (we may sit on an island of the ring that
    // is still forming): while the signaling server is there, the next offer goes through it.
    if (reason === "unreachable") this.viaSignaling.add(link.peer.nodeId);
    this.scheduleRetry(now, link);
    const deferred = link.deferredOpen;
    if (deferred !== null && now - deferred.at < this.timing.linkSetupTimeoutMs) {
      this.handleTrustedEnvelope(now, deferred.sender, deferred.envelope, deferred.via, false);
    }
    this.linkClosed(now, link, reason);
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

  protected mayRetry(now: number, nodeId: string): boolean {
    const retry = this.retries.get(nodeId);
    return retry === undefined || now >= retry.notBefore;
  }

  protected sendKeepalive(now: number, link: LinkRecord): void {
    link.pingSeq = (link.pingSeq + 1) >>> 0;
    link.nextKeepaliveAt = now + this.timing.keepaliveIntervalMs;
    this.sendFrame(link, "control", encodePing(FrameType.ping, { seq: link.pingSeq, sentAt: now }));
  }

  /** A member whose certificate expired is no longer one: its links close (it may return renewed). */
  protected closeExpiredLinks(now: number): void {
    const wall = this.trust.wallClockMs();
    for (const link of [...this.links.byId.values()]) {
      if (wall >= link.peerCertExpiresAt) this.closeLink(now, link, "certificate-expired", true);
    }
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
    this.forgetRevoked();
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

  // ---- what the overlay above decides ---------------------------------------------------------

  /** Adds or refreshes a link candidate. */
  protected abstract learn(now: number, member: MemberInfo): void;
  /** Whether a link offered for `purpose` would take this node past its share of links. */
  protected abstract refuses(purpose: LinkKind): boolean;
  /** A link came up (after the table marked it, and the peer was learned). */
  protected abstract linkCameUp(now: number, link: LinkRecord): void;
  /** A link closed, for `reason`. */
  protected abstract linkClosed(now: number, link: LinkRecord, reason: string): void;
  /** A node refused our shortcut: it has its share; look again later. */
  protected abstract shortcutRefused(now: number): void;
  /** Another claim to a node's address replaced it (a restarted agent): forget it a while. */
  protected abstract supersede(now: number, nodeId: string): void;
  /** The revocation list changed: forget revoked link candidates. */
  protected abstract forgetRevoked(): void;
}
