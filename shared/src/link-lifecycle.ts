import type { LinkRole } from "./actions.js";
import { decodePing, encodePing, FrameType } from "./frame.js";
import { inSubnet, parseIpv4Address } from "./ipv4.js";
import { type LinkEnvelope, parseLinkEnvelope } from "./link-envelope.js";
import { LinkRecord, type LinkVia } from "./link-record.js";
import type { Membership } from "./membership.js";
import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import { type NodeTrust, refusalReason, type Sender } from "./node-trust.js";
import type { LinkKind, OverlayMessage } from "./overlay-message.js";
import type { MemberInfo } from "./signaling-protocol.js";

/**
 * A link that needs no ping for liveness (it carries other frames) still pings after this many
 * keepalive intervals, so its RTT is never older than that (10 s with the default timing).
 */
export const RTT_REFRESH_INTERVALS = 5;

/** What the lifecycle asks of the part that decides which links the node wants (`Neighbourhood`). */
export interface LinkPolicy {
  /** Adds or refreshes a link candidate. */
  learn(now: number, member: MemberInfo): void;
  /** Whether a link offered for `purpose` would take this node past its share of links. */
  refuses(purpose: LinkKind): boolean;
  /** We answer a link the peer opened for `purpose`. */
  accepted(link: LinkRecord, purpose: LinkKind): void;
  /** A link came up (after the table marked it, and the peer was learned). */
  linkCameUp(now: number, link: LinkRecord): void;
  /** A link closed, for `reason`. */
  linkClosed(now: number, link: LinkRecord, reason: string): void;
  /** A node refused our shortcut: it has its share; look again later. */
  shortcutRefused(now: number): void;
  /** Another claim to a node's address replaced it (a restarted agent): forget it a while. */
  supersede(now: number, nodeId: string): void;
}

interface RetryState {
  delayMs: number;
  notBefore: number;
}

/**
 * The lifecycle of links: setting a link up through sealed envelopes (through the signaling server,
 * or routed over the overlay), glare between simultaneous opens, keepalives, expiry, closing and
 * retrying with backoff. It is the only writer of the link table and of each link's `life`.
 * What to link to, and what a new or lost link means for the ring, is the `LinkPolicy`'s.
 */
export class LinkLifecycle {
  private readonly retries = new Map<string, RetryState>();
  /** Nodes an overlay-routed offer could not reach: offer through the signaling server instead. */
  private readonly viaSignaling = new Set<string>();
  private nextLinkId = 1;
  private nextSession = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly trust: NodeTrust,
    private readonly membership: Membership,
    private readonly messenger: Messenger,
    private readonly policy: LinkPolicy,
  ) {}

  // ---- setup ---------------------------------------------------------------------------------

  /**
   * Opens a link to `peer` for `purpose`, if a way to carry its setup exists: the overlay once a
   * link is up, the signaling server before. A node with fewer links up than near neighbours sits on
   * an island of a ring still forming, where an offer routed over the overlay mostly comes back
   * `unreachable` a second later (in the fifty-agent lab, 114 of 126 such bounces came from nodes with
   * one to three links): its offers to members the server listed go through the server.
   */
  openLink(now: number, peer: MemberInfo, purpose: LinkKind): LinkRecord | undefined {
    const { links, limits } = this.ctx;
    const { signalingUp } = this.membership;
    const serverKnowsPeer = signalingUp && this.membership.members.has(peer.nodeId);
    let via: LinkVia | undefined = links.up.length > 0 ? "overlay" : signalingUp ? "signaling" : undefined;
    const forming = links.up.length < 2 * limits.nearPerSide;
    if (via === "overlay" && serverKnowsPeer && (this.viaSignaling.delete(peer.nodeId) || forming)) via = "signaling";
    if (via === undefined) return undefined;
    const session = `${this.ctx.self.nodeId}.${this.nextSession++}`;
    return this.createLink(now, peer, "offerer", session, via, purpose);
  }

  private createLink(
    now: number,
    peer: MemberInfo,
    role: LinkRole,
    session: string,
    via: LinkVia,
    purpose: LinkKind,
  ): LinkRecord {
    const address = parseIpv4Address(peer.ip)!;
    const link = new LinkRecord(
      this.nextLinkId++,
      peer,
      address,
      this.ctx.rings.of(address),
      role,
      session,
      via,
      now,
      purpose,
    );
    this.ctx.links.add(link);
    this.ctx.timers.set("link", link.id, now + this.ctx.timing.linkSetupTimeoutMs);
    this.ctx.actions.emit({ kind: "link-opening", linkId: link.id, peer, role });
    this.ctx.actions.push({ type: "open-link", linkId: link.id, peer, role });
    return link;
  }

  /** The host's link produced a description or candidate for the remote side. */
  handleLinkSignal(now: number, linkId: number, payload: unknown): void {
    const link = this.ctx.links.byId.get(linkId);
    if (link === undefined || link.life.state === "closed") return;
    let body: LinkEnvelope;
    if (link.role === "offerer" && !link.life.openSent) {
      link.life.openSent = true;
      body = { v: 1, kind: "open", session: link.session, from: this.ctx.self, purpose: link.life.openedFor, payload };
    } else {
      body = { v: 1, kind: "signal", session: link.session, payload };
    }
    this.sendEnvelope(now, link, body);
  }

  private sendEnvelope(now: number, link: LinkRecord, body: LinkEnvelope): void {
    const to = link.peer.nodeId;
    const sealed = this.trust.seal(this.ctx.clock.wallMs, to, body);
    if (link.via === "signaling") this.ctx.actions.push({ type: "send-signal", to, body: sealed });
    else this.messenger.sendRouted(now, link.ring, { t: "link", from: this.ctx.self.nodeId, to, envelope: sealed });
  }

  /**
   * A sealed envelope from `relayedFrom` (the node id the signaling server or the overlay message
   * names). Used only when its seal holds (see {@link NodeTrust}) and the signer is that node.
   */
  handleEnvelope(now: number, relayedFrom: string, body: unknown, via: LinkVia): void {
    const opened = this.trust.open(this.ctx.clock.wallMs, body, "deliver");
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
    const existing = this.ctx.links.bySession.get(envelope.session);
    if (existing !== undefined && !bounced) {
      if (existing.peer.nodeId !== from) return this.dropSignal(from, "session-mismatch");
      // We may have learned the peer's address from gossip: its certificate must back it.
      if (!sender.owns(existing.peerAddress)) return this.dropSignal(from, "sender-mismatch");
      existing.life.peerCertExpiresAt = sender.notAfterMs;
    }
    switch (envelope.kind) {
      case "open":
        if (existing !== undefined) return this.dropSignal(from, "duplicate-open");
        this.acceptOpen(now, sender, envelope, via);
        return;
      case "refresh":
        // The expiry was taken from its seal above.
        if (existing === undefined || existing.life.state === "closed") return this.dropSignal(from, "stale-session");
        return;
      case "signal":
        if (existing === undefined || existing.life.state === "closed") return this.dropSignal(from, "stale-session");
        this.ctx.actions.push({ type: "link-signal", linkId: existing.id, payload: envelope.payload });
        return;
      case "close":
        if (existing !== undefined && existing.life.state !== "closed") {
          // A node with its share of shortcuts refused ours: most nearby nodes may be as full, so
          // look again later rather than at once.
          if (envelope.reason === "busy") this.policy.shortcutRefused(now);
          const reason = bounced ? "unreachable" : envelope.reason === "busy" ? "busy" : "closed-by-peer";
          this.closeLink(now, existing, reason, false);
        }
        return;
    }
  }

  private acceptOpen(now: number, sender: Sender, envelope: LinkEnvelope & { kind: "open" }, via: LinkVia): void {
    const { ctx } = this;
    const peer = envelope.from;
    const from = sender.from;
    const address = parseIpv4Address(peer.ip)!;
    if (peer.nodeId !== from || peer.name !== sender.name || !sender.owns(address)) {
      return this.dropSignal(from, "sender-mismatch");
    }
    if (peer.ip === ctx.self.ip) return this.dropSignal(from, "address-conflict");
    if (!inSubnet(address, ctx.subnet)) return this.dropSignal(from, "off-network-address");
    const current = ctx.links.byPeer.get(from);
    if (current !== undefined) {
      // Both opened at once: the smaller node id's attempt wins. The loser's open is kept in case the
      // winner's attempt fails (its open may never reach a node that is still joining).
      if (current.role === "offerer" && current.life.state === "connecting" && ctx.self.nodeId < from) {
        current.life.deferredOpen = { sender, envelope, via, at: now };
        return this.dropSignal(from, "glare");
      }
      // The peer gave up on the old link (it restarted it); follow.
      this.closeLink(now, current, "replaced", false);
    }
    this.policy.learn(now, peer);
    if (this.policy.refuses(envelope.purpose)) {
      // Keeps links per node near 4 + log2(N): the asker will look for another shortcut.
      ctx.drops.add(`link-refused-${envelope.purpose}`);
      const close = this.trust.seal(ctx.clock.wallMs, from, {
        v: 1,
        kind: "close",
        session: envelope.session,
        reason: "busy",
      });
      if (via === "signaling") ctx.actions.push({ type: "send-signal", to: from, body: close });
      else
        this.messenger.sendRouted(now, ctx.rings.of(address), {
          t: "link",
          from: ctx.self.nodeId,
          to: from,
          envelope: close,
        });
      return;
    }
    const link = this.createLink(now, peer, "answerer", envelope.session, via, envelope.purpose);
    link.life.peerCertExpiresAt = sender.notAfterMs;
    this.policy.accepted(link, envelope.purpose);
    ctx.actions.push({ type: "link-signal", linkId: link.id, payload: envelope.payload });
  }

  private dropSignal(from: string, reason: string): void {
    this.ctx.drops.add(`signal-${reason}`);
    this.ctx.actions.emit({ kind: "signal-dropped", from, reason });
  }

  /**
   * A link envelope reached the node closest to its target, not the target: the target is not
   * (yet) reachable through the overlay. Tell the offerer at once so it does not wait for a timeout.
   */
  bounceLink(now: number, message: OverlayMessage & { t: "link" }, source: number): void {
    this.ctx.drops.add("message-link-misdelivered");
    // Only a certified sender's open is answered: a bounce must not be a way to make nodes talk.
    const opened = this.trust.open(this.ctx.clock.wallMs, message.envelope, "forward");
    if (!opened.ok) return;
    const envelope = parseLinkEnvelope(opened.value.envelope);
    if (typeof envelope === "string" || envelope.kind !== "open") return;
    const close: LinkEnvelope = { v: 1, kind: "close", session: envelope.session, reason: "unreachable" };
    this.messenger.sendRouted(now, source, {
      t: "link",
      from: "unreachable",
      envelope: this.trust.seal(this.ctx.clock.wallMs, opened.value.from, close),
    });
  }

  /**
   * This node renewed its certificate (the trust seals with the new one): tell every linked peer, so
   * none closes the link when the old certificate expires.
   */
  sendRefresh(now: number): void {
    for (const link of this.ctx.links.up) {
      // Over the link itself (routing to the peer's own ring address takes it), even for a link
      // set up through the signaling server, which may be gone.
      const to = link.peer.nodeId;
      const envelope = this.trust.seal(this.ctx.clock.wallMs, to, { v: 1, kind: "refresh", session: link.session });
      this.messenger.sendRouted(now, link.ring, { t: "link", from: this.ctx.self.nodeId, to, envelope });
    }
  }

  // ---- up and down ---------------------------------------------------------------------------

  /** Both channels of the link are open. */
  handleLinkUp(now: number, linkId: number): void {
    const link = this.ctx.links.byId.get(linkId);
    if (link === undefined || link.life.state !== "connecting") return;
    const { life } = link;
    life.state = "up";
    life.upAt = now;
    life.deferredOpen = null;
    this.retries.delete(link.peer.nodeId);
    this.policy.learn(now, link.peer);
    // A newer link for the same address replaces an older one (a restarted agent).
    const displaced = this.ctx.links.markUp(link);
    if (displaced !== undefined) {
      this.policy.supersede(now, displaced.peer.nodeId);
      this.closeLink(now, displaced, "address-taken", true);
    }
    this.ctx.actions.emit({ kind: "link-up", linkId, peer: link.peer, setupMs: now - link.createdAt });
    this.sendKeepalive(now, link);
    // A peer that missed a revocation (it was offline) learns it from whoever it links to.
    const revocations = this.trust.revocationList();
    if (revocations !== null) this.messenger.sendLinkMessage(link, { t: "revocations", list: revocations });
    this.policy.linkCameUp(now, link);
  }

  /** The host's link failed or closed. */
  handleLinkDown(now: number, linkId: number, reason: string): void {
    const link = this.ctx.links.byId.get(linkId);
    if (link === undefined || link.life.state === "closed") return;
    this.closeLink(now, link, reason, true, false);
  }

  /**
   * Forgets a link, tells the host to close it (unless the host reported it gone) and tells the peer
   * (unless the peer asked), then schedules a new attempt and lets the policy repair the neighbourhood.
   */
  closeLink(now: number, link: LinkRecord, reason: string, tellPeer: boolean, tellHost = true): void {
    if (link.life.state === "closed") return;
    // Tell the peer first, while the link is still in the table: an overlay-routed close then goes
    // straight over the link itself.
    if (tellPeer && (link.via === "overlay" || this.membership.signalingUp)) {
      this.sendEnvelope(now, link, { v: 1, kind: "close", session: link.session, reason });
    }
    link.life.state = "closed";
    this.ctx.links.remove(link);
    this.ctx.timers.clear("link", link.id);
    this.messenger.forgetLink(link.id);
    if (tellHost) this.ctx.actions.push({ type: "close-link", linkId: link.id, reason });
    this.ctx.actions.emit({ kind: "link-down", linkId: link.id, peer: link.peer, reason });
    // Our offer did not find the node through the overlay (we may sit on an island of the ring that
    // is still forming): while the signaling server is there, the next offer goes through it.
    if (reason === "unreachable") this.viaSignaling.add(link.peer.nodeId);
    this.scheduleRetry(now, link);
    const deferred = link.life.deferredOpen;
    if (deferred !== null && now - deferred.at < this.ctx.timing.linkSetupTimeoutMs) {
      this.handleTrustedEnvelope(now, deferred.sender, deferred.envelope, deferred.via, false);
    }
    this.policy.linkClosed(now, link, reason);
  }

  /** Closes every link, telling the peers (the host is shutting down). */
  closeAll(now: number, reason: string): void {
    for (const link of [...this.ctx.links.byId.values()]) {
      link.life.deferredOpen = null;
      this.closeLink(now, link, reason, true);
    }
  }

  private scheduleRetry(now: number, link: LinkRecord): void {
    const { timing } = this.ctx;
    const previous = this.retries.get(link.peer.nodeId);
    // A link that was up for a while failed for a fresh reason: retry quickly. Repeated setup
    // failures back off exponentially so an unreachable peer costs little.
    const delayMs =
      link.life.upAt !== null || previous === undefined
        ? timing.retryInitialMs
        : Math.min(previous.delayMs * 2, timing.retryMaxMs);
    this.retries.set(link.peer.nodeId, { delayMs, notBefore: now + delayMs });
  }

  /** Whether the last link to `nodeId` failed (or closed) and none has come up since. */
  hasFailed(nodeId: string): boolean {
    return this.retries.has(nodeId);
  }

  /** Whether a new attempt to link to `nodeId` may start (its last failure's backoff is over). */
  mayRetry(now: number, nodeId: string): boolean {
    const retry = this.retries.get(nodeId);
    return retry === undefined || now >= retry.notBefore;
  }

  // ---- liveness ------------------------------------------------------------------------------

  /** A keepalive frame from `link`: answer a ping, take the RTT from a pong. */
  handleKeepalive(
    now: number,
    link: LinkRecord,
    frame: Uint8Array,
    type: typeof FrameType.ping | typeof FrameType.pong,
  ) {
    if (type === FrameType.ping) {
      this.ctx.actions.sendFrame(link.id, "control", encodePing(FrameType.pong, decodePing(frame)));
      return;
    }
    const { seq, sentAt } = decodePing(frame);
    link.life.pongAt = now;
    if (seq === link.life.pingSeq && sentAt <= now) link.life.rttMs = now - sentAt;
  }

  /**
   * The keepalive interval is over: ping, unless the link carried something other than the answer
   * to our own ping within the interval. Any frame proves the peer alive, so a busy link needs no
   * ping for liveness; it still pings every {@link RTT_REFRESH_INTERVALS} intervals so that its
   * RTT (status, metrics, the console's charts) stays current. A peer's ping counts as traffic too,
   * so on a quiet link two agents of this kind mostly send one ping per interval between them
   * instead of one each. The silence that declares a link dead is unchanged, and a peer that pings
   * on its own schedule still gets every answer, so older agents see no difference.
   */
  private keepAlive(now: number, link: LinkRecord): void {
    const heardAt = link.heardAt();
    const intervalMs = this.ctx.timing.keepaliveIntervalMs;
    const { life } = link;
    const rttFresh = now - life.pingedAt < RTT_REFRESH_INTERVALS * intervalMs;
    if (rttFresh && heardAt > life.pongAt && now - heardAt < intervalMs) {
      life.nextKeepaliveAt = Math.min(heardAt, life.pingedAt + (RTT_REFRESH_INTERVALS - 1) * intervalMs) + intervalMs;
      this.armLiveness(link);
    } else {
      this.sendKeepalive(now, link);
    }
  }

  private sendKeepalive(now: number, link: LinkRecord): void {
    const { life } = link;
    life.pingSeq = (life.pingSeq + 1) >>> 0;
    life.pingedAt = now;
    life.nextKeepaliveAt = now + this.ctx.timing.keepaliveIntervalMs;
    this.ctx.actions.sendFrame(link.id, "control", encodePing(FrameType.ping, { seq: life.pingSeq, sentAt: now }));
    this.armLiveness(link);
  }

  /**
   * The link's next deadline: the next keepalive or the moment it counts as dead. Frames that
   * arrive meanwhile move the second one later without touching the timer; it is checked again
   * when the timer fires.
   */
  private armLiveness(link: LinkRecord): void {
    const deadAt = link.heardAt() + this.ctx.timing.linkDeadAfterMs;
    this.ctx.timers.set("link", link.id, Math.min(link.life.nextKeepaliveAt, deadAt));
  }

  /** The link's deadline came: give up a setup that takes too long, a silent link, or ping. */
  handleTimer(now: number, linkId: number): void {
    const link = this.ctx.links.byId.get(linkId);
    if (link === undefined || link.life.state === "closed") return;
    const { timing } = this.ctx;
    if (link.life.state === "connecting") {
      if (now >= link.createdAt + timing.linkSetupTimeoutMs) this.closeLink(now, link, "setup-timeout", true);
      else this.ctx.timers.set("link", link.id, link.createdAt + timing.linkSetupTimeoutMs);
    } else if (now >= link.heardAt() + timing.linkDeadAfterMs) {
      this.closeLink(now, link, "keepalive-timeout", true);
    } else if (now >= link.life.nextKeepaliveAt) {
      this.keepAlive(now, link);
    } else {
      this.armLiveness(link);
    }
  }

  /** A member whose certificate expired is no longer one: its links close (it may return renewed). */
  closeExpiredLinks(now: number): void {
    const wall = this.ctx.clock.wallMs;
    for (const link of [...this.ctx.links.byId.values()]) {
      if (wall >= link.life.peerCertExpiresAt) this.closeLink(now, link, "certificate-expired", true);
    }
  }

  /** Closes the links to nodes the trust now revokes; returns how many. */
  closeRevokedLinks(now: number): number {
    let closed = 0;
    for (const link of [...this.ctx.links.byId.values()]) {
      if (this.trust.isRevoked(link.peer.nodeId, link.peer.name)) {
        closed++;
        this.closeLink(now, link, "revoked", false);
      }
    }
    return closed;
  }
}
