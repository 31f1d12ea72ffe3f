import { sendNeighbourLists } from "./gossip.js";
import { inSubnet, parseIpv4Address } from "./ipv4.js";
import type { LinkLifecycle, LinkPolicy } from "./link-lifecycle.js";
import type { LinkRecord } from "./link-record.js";
import type { Membership } from "./membership.js";
import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import type { NodeTrust } from "./node-trust.js";
import type { LinkKind, OverlayMessage } from "./overlay-message.js";
import type { Relays } from "./relays.js";
import { estimateNetworkSize, nearNeighbours, RING_SIZE, ringDistance, symphonyTarget } from "./ring.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { TrafficMeter } from "./traffic-meter.js";

/** Bootstrap attempts through the signaling server at once, while none has come up. */
const BOOTSTRAP_ATTEMPTS = 3;

/**
 * Reasons a link failure means "no direct path" rather than "gone": setup never completed, or an up
 * link went silent. A relay is looked for only then; an offer the overlay could not deliver
 * (`unreachable`) or a deliberate close says nothing about the path, and a dead node must not get
 * relay searches that keep it in the ring.
 */
const PATH_FAILURES = new Set(["setup-timeout", "keepalive-timeout"]);

/** Shortcut searches (`find`s) a node has out at once at most. */
const SHORTCUT_FINDS_AT_ONCE = 4;

/** Someone this node has heard of: a candidate for near links and shortcuts. */
interface KnownNode {
  readonly nodeId: string;
  readonly info: MemberInfo;
  /** `info.ip` as a number. */
  readonly address: number;
  readonly ring: number;
  heardAt: number;
}

/**
 * Which links the node wants, IPOP's structured ring: links to its ring neighbours (`nearPerSide`
 * each side), about log2(N) Symphony shortcuts, and direct on-demand links to nodes it exchanges
 * traffic with; links neither side needs are trimmed. It owns the nodes this node has heard of and
 * each link's `purpose`, and asks the lifecycle to open and close links.
 */
export class Neighbourhood implements LinkPolicy {
  private readonly known = new Map<string, KnownNode>();
  private readonly traffic: TrafficMeter;
  /** Ring addresses we asked `find` for on behalf of a busy conversation, until when. */
  private readonly onDemandWanted = new Map<number, number>();
  /** Node ids replaced by a newer claim to their address, until when they are ignored. */
  private readonly superseded = new Map<string, number>();
  private findPendingUntil = 0;
  private nextGossipAt = 0;
  /** Since when the node has had no link up (null while it has one): bootstrap widens after a while. */
  private aloneSince: number | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly trust: NodeTrust,
    private readonly membership: Membership,
    private readonly messenger: Messenger,
    private readonly lifecycle: () => LinkLifecycle,
    /** Uniform numbers in [0, 1): shortcut targets. */
    private readonly random: () => number,
    /** Paths to ring neighbours this node cannot link to directly. */
    private readonly relays: Relays,
  ) {
    this.traffic = new TrafficMeter(ctx.limits.onDemandPackets, ctx.limits.onDemandWindowMs);
    ctx.timers.setMaintenance(0);
  }

  /** Nodes known as link candidates. */
  get knownCount(): number {
    return this.known.size;
  }

  /** The link candidates' member records. */
  *knownMembers(): Iterable<MemberInfo> {
    for (const node of this.known.values()) yield node.info;
  }

  // ---- knowledge of other nodes --------------------------------------------------------------

  /** Adds or refreshes a link candidate. The newest claim to an address wins (a restarted agent). */
  learn(now: number, member: MemberInfo): void {
    const { ctx } = this;
    if (member.nodeId === ctx.self.nodeId || this.trust.isRevoked(member.nodeId, member.name)) return;
    if (member.ip === ctx.self.ip) {
      ctx.actions.emit({ kind: "address-conflict", ip: member.ip, kept: ctx.self.nodeId, dropped: member.nodeId });
      return;
    }
    // Gossip repeats the same few nodes every 2 s: a node already known at the same address skips
    // the parsing (a known node is never superseded: superseding forgets it).
    const existing = this.known.get(member.nodeId);
    const same = existing !== undefined && existing.info.ip === member.ip;
    const address = same ? existing.address : parseIpv4Address(member.ip)!;
    if (!same && !inSubnet(address, ctx.subnet)) return;
    // Gossip may still carry an agent's previous incarnation after it restarted: the live claim,
    // the one we are linked to or that replaced it, wins.
    const holder = ctx.links.byAddress.get(address);
    if (holder !== undefined && holder.peer.nodeId !== member.nodeId) return;
    const superseded = this.superseded.get(member.nodeId);
    if (superseded !== undefined) {
      if (superseded > now) return;
      this.superseded.delete(member.nodeId);
    }
    if (existing !== undefined) {
      existing.heardAt = now;
      return;
    }
    this.known.set(member.nodeId, {
      nodeId: member.nodeId,
      info: member,
      address,
      ring: ctx.rings.of(address),
      heardAt: now,
    });
  }

  /** A node joined the signaling server: a newer claim to a linked address replaces the old link. */
  replaceStaleClaim(now: number, member: MemberInfo): void {
    const holder = this.ctx.links.byAddress.get(parseIpv4Address(member.ip) ?? -1);
    if (holder !== undefined && holder.peer.nodeId !== member.nodeId) {
      this.ctx.actions.emit({
        kind: "address-conflict",
        ip: member.ip,
        kept: member.nodeId,
        dropped: holder.peer.nodeId,
      });
      this.supersede(now, holder.peer.nodeId);
      this.lifecycle().closeLink(now, holder, "address-taken", true);
    }
  }

  /** Forgets a node that another claim to its address replaced, and ignores gossip about it a while. */
  supersede(now: number, nodeId: string): void {
    this.known.delete(nodeId);
    this.superseded.set(nodeId, now + this.ctx.timing.knownTtlMs);
  }

  /** The revocation list changed: forget revoked link candidates. */
  forgetRevoked(): void {
    for (const [nodeId, node] of this.known) {
      if (this.trust.isRevoked(nodeId, node.info.name)) this.known.delete(nodeId);
    }
  }

  /** Forgets every candidate (the node is shutting down). */
  clear(): void {
    this.known.clear();
  }

  /**
   * A `neighbours` message from the peer at `link`: its near neighbours are candidates of ours, and
   * its links are where routing through it can get to in one more hop.
   */
  handleNeighbours(
    now: number,
    link: LinkRecord,
    message: { readonly members: readonly MemberInfo[]; readonly links?: readonly number[] },
  ): void {
    for (const member of message.members) this.learn(now, member);
    if (message.links !== undefined) link.purpose.peerLinks = message.links;
  }

  /** A `kinds` message: why the peer keeps the link. */
  handleKinds(link: LinkRecord, kinds: readonly LinkKind[]): void {
    link.purpose.remoteKinds = kinds;
  }

  /** A `find` ended here: whoever is closest to the searched position answers; that is the shortcut. */
  handleFind(now: number, from: MemberInfo, source: number): void {
    if (from.nodeId === this.ctx.self.nodeId) return;
    this.learn(now, from);
    // A node with its share of shortcuts says so: the asker would offer a link only to be refused
    // (an open and a close routed across the overlay), and looks again later instead.
    const found: OverlayMessage = this.refuses("shortcut")
      ? { t: "found", member: this.ctx.self, full: true }
      : { t: "found", member: this.ctx.self };
    this.messenger.sendRouted(now, source, found);
  }

  // ---- the lifecycle's questions and news ------------------------------------------------------

  accepted(link: LinkRecord, purpose: LinkKind): void {
    link.purpose.remoteKinds = [purpose];
  }

  linkCameUp(now: number, link: LinkRecord): void {
    if (link.via === "signaling" && link.role === "offerer") link.purpose.kinds.add("bootstrap");
    // Whatever else we knew at this address is an earlier incarnation of this node.
    for (const [nodeId, node] of this.known) {
      if (node.info.ip === link.peer.ip && nodeId !== link.peer.nodeId) this.supersede(now, nodeId);
    }
    this.relays.linkCameUp(link);
    this.maintainSoon(now);
  }

  linkClosed(now: number, link: LinkRecord, reason: string): void {
    // A node we never reached, or that went silent, may be gone: no longer a candidate until heard of again.
    if (reason === "keepalive-timeout" || reason === "setup-timeout") this.known.delete(link.peer.nodeId);
    this.relays.linkClosed(now, link);
    // A ring neighbour we could not link to, or whose link died: reach it through a relay meanwhile.
    // Direct attempts go on with the lifecycle's backoff, and a direct link replaces the relay.
    const near = link.purpose.kinds.has("near") || link.purpose.remoteKinds.includes("near");
    if (near && PATH_FAILURES.has(reason)) this.relays.want(now, link.peer);
    this.maintainSoon(now);
  }

  shortcutRefused(now: number): void {
    // Most nodes near the one that refused may be as full: look again later rather than at once.
    this.findPendingUntil = now + this.ctx.timing.shortcutBackoffMs;
  }

  /** Whether a link offered for `purpose` would take this node past its share of links. */
  refuses(purpose: LinkKind): boolean {
    const { links, limits } = this.ctx;
    if (links.byId.size >= limits.maxLinks) return purpose !== "near" && purpose !== "bootstrap";
    if (purpose === "shortcut") return this.countLinks("shortcut") >= this.shortcutTarget();
    if (purpose === "on-demand") return this.countLinks("on-demand") >= limits.maxOnDemand;
    return false;
  }

  /** Repairs the neighbourhood at the next `handleTimeout` (at once), not inside the current change. */
  maintainSoon(now: number): void {
    this.ctx.timers.maintenanceSoon(now);
  }

  /** Whether maintenance has anything to work with: links, or members to bootstrap from. */
  get maintaining(): boolean {
    return this.ctx.links.byId.size > 0 || (this.membership.signalingUp && this.membership.members.size > 0);
  }

  /** Links kept for `kind` by either side. */
  private countLinks(kind: LinkKind): number {
    let n = 0;
    for (const link of this.ctx.links.byId.values()) {
      if (link.purpose.kinds.has(kind) || link.purpose.remoteKinds.includes(kind)) n++;
    }
    return n;
  }

  /** Shortcuts a node keeps, counting those others keep to it: ceil(log2 N). */
  private shortcutTarget(): number {
    return Math.ceil(Math.log2(Math.max(2, this.networkSizeEstimate())));
  }

  networkSizeEstimate(): number {
    const rings: number[] = [];
    for (const link of this.ctx.links.up) if (link.purpose.kinds.has("near")) rings.push(link.ring);
    return Math.max(estimateNetworkSize(this.ctx.ring, rings), this.ctx.links.up.length + 1);
  }

  // ---- maintenance: near links, shortcuts, on-demand, trimming --------------------------------

  /** Brings the links in line with what the ring needs now. Cheap; runs on every change and tick. */
  maintain(now: number): void {
    const { ctx } = this;
    const lifecycle = this.lifecycle();
    ctx.timers.setMaintenance(now + ctx.timing.maintenanceIntervalMs);
    this.expireKnown(now);
    lifecycle.closeExpiredLinks(now);
    if (ctx.links.up.length === 0) {
      this.aloneSince ??= now;
      this.bootstrap(now);
      return;
    }
    this.aloneSince = null;
    // A node with fewer links than near neighbours may be on an island of a ring still forming:
    // every member the signaling server listed is a candidate then.
    if (ctx.links.up.length < 2 * ctx.limits.nearPerSide)
      for (const member of this.membership.members.values()) this.learn(now, member);
    const near = nearNeighbours(ctx.ring, this.ringPeers(now), ctx.limits.nearPerSide, (nodeId) =>
      this.isCandidate(now, nodeId),
    );
    for (const nodeId of near) {
      if (ctx.links.byPeer.has(nodeId) || !lifecycle.mayRetry(now, nodeId)) continue;
      // A relayed neighbour gets a new direct attempt each time its backoff ends: the upgrade.
      const candidate = this.known.get(nodeId)?.info ?? this.relays.member(nodeId);
      if (candidate !== undefined) this.open(now, candidate, "near");
    }
    this.relays.maintain(now, near);
    for (const link of ctx.links.byId.values()) {
      const { kinds } = link.purpose;
      if (near.has(link.peer.nodeId)) kinds.add("near");
      else kinds.delete("near");
      if (link.life.upAt !== null && now - link.life.upAt > ctx.timing.bootstrapHoldMs) kinds.delete("bootstrap");
      if (now - link.traffic.lastDataAt > ctx.timing.onDemandIdleMs) kinds.delete("on-demand");
      if (this.relays.uses(now, link)) kinds.add("relay");
      else kinds.delete("relay");
    }
    this.seekShortcut(now);
    this.trimAndTell(now);
    if (now >= this.nextGossipAt) this.gossip(now, near);
  }

  private open(now: number, member: MemberInfo, kind: LinkKind): void {
    this.lifecycle().openLink(now, member, kind)?.purpose.kinds.add(kind);
  }

  /**
   * Known nodes, and neighbours reached (or being reached) through a relay that are not known first
   * hand: relayed neighbours are as good as linked ones for the ring, and so are those a relay is
   * being looked for, or the search would stop as soon as their link failed.
   */
  private *ringPeers(now: number): Iterable<{ nodeId: string; ring: number }> {
    yield* this.known.values();
    for (const peer of this.relays.reaching(now)) if (!this.known.has(peer.nodeId)) yield peer;
  }

  /**
   * Whether a known node is a near-link candidate: not if its link just failed and is backing off,
   * so a dead neighbour does not keep the next live one out of the near set while gossip still
   * mentions it.
   */
  private isCandidate(now: number, nodeId: string): boolean {
    return (
      this.lifecycle().mayRetry(now, nodeId) ||
      this.ctx.links.byPeer.get(nodeId)?.life.state === "up" ||
      this.relays.isReaching(now, nodeId)
    );
  }

  /**
   * With no link up, reach the overlay through the signaling server: link to the member closest on
   * the ring (likely a near neighbour already). Behind a NAT the closest may never answer, so a
   * node alone for a setup timeout tries the next closest too, a quarter of the setup timeout after
   * the last and a few at a time (`BOOTSTRAP_ATTEMPTS`), until one link comes up: a node that can
   * only reach a public one finds it.
   */
  private bootstrap(now: number): void {
    const { ctx } = this;
    if (!this.membership.signalingUp) return;
    // First one attempt at a time, as long as any link is being set up. A node still alone after a
    // setup timeout may sit behind a NAT its closest members cannot cross: it tries the next
    // closest too, one more each quarter of the setup timeout, a few at a time.
    const widened = this.aloneSince !== null && now - this.aloneSince >= ctx.timing.linkSetupTimeoutMs;
    if (!widened && ctx.links.byId.size > 0) return;
    let pending = 0;
    let newest = Number.NEGATIVE_INFINITY;
    for (const link of ctx.links.byId.values()) {
      if (!link.purpose.kinds.has("bootstrap")) continue;
      pending++;
      newest = Math.max(newest, link.createdAt);
    }
    if (pending >= BOOTSTRAP_ATTEMPTS || now - newest < ctx.timing.linkSetupTimeoutMs / 4) return;
    const lifecycle = this.lifecycle();
    let best: MemberInfo | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    for (const member of this.membership.members.values()) {
      if (!lifecycle.mayRetry(now, member.nodeId) || member.ip === ctx.self.ip) continue;
      if (ctx.links.byPeer.has(member.nodeId)) continue;
      // Widened, members not tried yet come first: the closest ones failed and back off only briefly.
      const untried = widened && lifecycle.hasFailed(member.nodeId) ? RING_SIZE : 0;
      const rank = untried + ringDistance(ctx.ring, ctx.rings.of(parseIpv4Address(member.ip)!));
      if (rank < bestRank) {
        best = member;
        bestRank = rank;
      }
    }
    if (best !== undefined) this.open(now, best, "bootstrap");
  }

  private expireKnown(now: number): void {
    for (const [nodeId, node] of this.known) {
      if (now - node.heardAt > this.ctx.timing.knownTtlMs && !this.ctx.links.byPeer.has(nodeId)) {
        this.known.delete(nodeId);
      }
    }
  }

  /**
   * Keeps about log2(N) shortcuts: asks who is closest to Symphony-drawn ring positions, up to
   * {@link SHORTCUT_FINDS_AT_ONCE} at a time, so a new node in a large network has most of its
   * shortcuts within seconds rather than one per round (hops fall as shortcuts arrive).
   */
  private seekShortcut(now: number): void {
    const { ctx } = this;
    if (now < this.findPendingUntil || ctx.links.byId.size >= ctx.limits.maxLinks) return;
    const missing = this.shortcutTarget() - this.countLinks("shortcut");
    if (missing <= 0) return;
    this.findPendingUntil = now + 2 * ctx.timing.maintenanceIntervalMs;
    const estimate = this.networkSizeEstimate();
    for (let k = 0; k < Math.min(missing, SHORTCUT_FINDS_AT_ONCE); k++) {
      const target = symphonyTarget(ctx.ring, estimate, this.random());
      this.messenger.sendRouted(now, target, { t: "find", from: ctx.self });
    }
  }

  /**
   * A node answered our `find`: link to it as a shortcut, or as the on-demand link we wanted. A node
   * `full` of shortcuts is not offered one (it would refuse it): the search pauses as after a refusal.
   */
  handleFound(now: number, member: MemberInfo, full = false): void {
    this.learn(now, member);
    const known = this.known.get(member.nodeId);
    if (known === undefined) return;
    const onDemand = this.onDemandWanted.delete(known.ring);
    const kind: LinkKind = onDemand ? "on-demand" : "shortcut";
    const existing = this.ctx.links.byPeer.get(member.nodeId);
    if (existing !== undefined) {
      if (kind === "on-demand" || this.countLinks("shortcut") < this.shortcutTarget()) existing.purpose.kinds.add(kind);
      return;
    }
    if (kind === "shortcut" && full) return this.shortcutRefused(now);
    if (!this.lifecycle().mayRetry(now, member.nodeId) || this.ctx.links.byId.size >= this.ctx.limits.maxLinks) return;
    // Several finds may be out at once: the answers past our share are not linked.
    if (kind === "shortcut" && this.countLinks("shortcut") >= this.shortcutTarget()) return;
    this.open(now, member, kind);
  }

  /**
   * Counts a packet exchanged with `address` over more than one hop; a busy pair asks for the
   * owner's identity (a `find` to its exact ring address) to open a direct link.
   */
  countConversation(now: number, address: number, ring: number): void {
    const { ctx } = this;
    if (!this.traffic.count(now, address)) return;
    if (this.countLinks("on-demand") >= ctx.limits.maxOnDemand || ctx.links.byId.size >= ctx.limits.maxLinks) return;
    if (ctx.links.byRing.has(ring)) return;
    this.onDemandWanted.set(ring, now + ctx.timing.linkSetupTimeoutMs);
    this.messenger.sendRouted(now, ring, { t: "find", from: ctx.self });
  }

  /**
   * Tells peers why we keep their link, and closes links neither side has needed for a while, and
   * shortcuts others hold to us beyond our share (a node at a popular ring position would otherwise
   * collect them without bound; the holder looks for another).
   */
  private trimAndTell(now: number): void {
    const lifecycle = this.lifecycle();
    let surplus = this.countLinks("shortcut") - this.shortcutTarget();
    for (const link of [...this.ctx.links.up]) {
      if (link.life.state !== "up") continue;
      const purpose = link.purpose;
      const kinds = [...purpose.kinds].sort().join(",");
      if (kinds !== purpose.kindsSent) {
        purpose.kindsSent = kinds;
        this.messenger.sendLinkMessage(link, { t: "kinds", kinds: [...purpose.kinds] });
      }
      const heldOnlyAsShortcut = purpose.remoteKinds.length === 1 && purpose.remoteKinds[0] === "shortcut";
      if (surplus > 0 && purpose.kinds.size === 0 && heldOnlyAsShortcut) {
        surplus--;
        lifecycle.closeLink(now, link, "busy", true);
        continue;
      }
      if (purpose.kinds.size > 0 || purpose.remoteKinds.length > 0) {
        purpose.unneededSince = null;
      } else if (purpose.unneededSince === null) {
        purpose.unneededSince = now;
      } else if (now - purpose.unneededSince >= this.ctx.timing.unneededGraceMs) {
        lifecycle.closeLink(now, link, "unneeded", true);
      }
    }
    for (const [ring, until] of this.onDemandWanted) if (until < now) this.onDemandWanted.delete(ring);
    for (const [nodeId, until] of this.superseded) if (until < now) this.superseded.delete(nodeId);
  }

  /** Sends our neighbour list where it is news, every gossip interval (see `sendNeighbourLists`). */
  private gossip(now: number, near: ReadonlySet<string>): void {
    this.nextGossipAt = now + this.ctx.timing.gossipIntervalMs;
    sendNeighbourLists(this.ctx, this.messenger, now, near);
  }
}
