import { ActionQueue } from "./action-queue.js";
import type { Action } from "./actions.js";
import { Counters } from "./counters.js";
import type { Instant } from "./instant.js";
import { parseIpv4Address } from "./ipv4.js";
import { LinkLifecycle } from "./link-lifecycle.js";
import { type LinkRecord, linkStatus } from "./link-record.js";
import { LinkTable } from "./link-table.js";
import { Membership } from "./membership.js";
import { Messenger } from "./messenger.js";
import { Neighbourhood } from "./neighbourhood.js";
import { NextHops } from "./next-hops.js";
import { type NodeConfig, type NodeStatus, validSelf } from "./node-config.js";
import { EventClock, type NodeContext } from "./node-context.js";
import type { NodeTrust } from "./node-trust.js";
import type { OverlayMessage } from "./overlay-message.js";
import { Pings } from "./pings.js";
import { Relays } from "./relays.js";
import { Revocations } from "./revocations.js";
import { ringAddress } from "./ring.js";
import { RingAddresses } from "./ring-addresses.js";
import { Router, type RouterEvents } from "./router.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { DEFAULT_OPERATOR_GROUP, StatusRequests } from "./status-requests.js";
import { Timers } from "./timers.js";
import { DEFAULT_LIMITS, DEFAULT_TIMING } from "./timing.js";
import { encodeTraceHop } from "./trace-path.js";
import { Traces } from "./traces.js";

/**
 * The overlay node: a sans-I/O state machine. Hosts feed it events (`handle*`), each with the
 * `Instant` it happened at, and carry out the actions it queues (`pollAction`). It never reads a
 * clock, starts a timer, does I/O or awaits; `nextTimeout()` says when it wants `handleTimeout`.
 *
 * The overlay is IPOP's structured ring (see `Neighbourhood`); packets without a direct link are
 * routed greedily by ring distance (`Router`); links are set up with sealed envelopes, through the
 * signaling server only while a node has no link at all (`LinkLifecycle`).
 *
 * This class only composes its parts and dispatches events and messages to the part that owns them.
 */
export class OverlayNode {
  readonly self: MemberInfo;
  readonly network: string;
  readonly ring: number;
  readonly drops = new Counters();
  private readonly ctx: NodeContext;
  private readonly clock = new EventClock();
  private readonly trust: NodeTrust;
  private readonly membership: Membership;
  private readonly router: Router;
  private readonly lifecycle: LinkLifecycle;
  private readonly neighbourhood: Neighbourhood;
  private readonly traces: Traces;
  private readonly pings: Pings;
  private readonly revocations: Revocations;
  private readonly statusRequests: StatusRequests;
  private readonly relays: Relays;

  constructor(config: NodeConfig) {
    const self = validSelf(config);
    this.self = self;
    this.network = config.network;
    this.ring = ringAddress(config.network, parseIpv4Address(self.ip)!);
    this.trust = config.trust;
    const ctx: NodeContext = {
      self,
      network: config.network,
      ring: this.ring,
      subnet: { address: parseIpv4Address(self.ip)!, prefixLength: config.prefixLength },
      limits: { ...DEFAULT_LIMITS, ...config.limits },
      timing: { ...DEFAULT_TIMING, ...config.timing },
      actions: new ActionQueue(),
      links: new LinkTable(),
      drops: this.drops,
      rings: new RingAddresses(config.network),
      timers: new Timers(),
      clock: this.clock,
    };
    this.ctx = ctx;
    const selfHop = encodeTraceHop(self);
    this.membership = new Membership(self.nodeId);
    const relays = () => this.relays;
    const hops = new NextHops(ctx, relays);
    const events: RouterEvents = {
      linkMessage: (now, link, message) => this.linkMessage(now, link, message),
      routedMessage: (now, message, source, exact) => this.routedMessage(now, message, source, exact),
      traceArrived: (now, payload, source, exact) => this.traces.arrived(now, payload, source, exact),
      pingArrived: (now, payload, source, exact) => this.pings.arrived(now, payload, source, exact),
      keepalive: (now, link, frame, type) => this.lifecycle.handleKeepalive(now, link, frame, type),
      conversation: (now, address, ring) => this.neighbourhood.countConversation(now, address, ring),
    };
    this.router = new Router(ctx, events, selfHop, relays, hops);
    const messenger = new Messenger(ctx, hops, events, relays);
    this.relays = new Relays(ctx, this.trust, messenger, config.randomBytes, config.hmacSha256);
    this.neighbourhood = new Neighbourhood(
      ctx,
      this.trust,
      this.membership,
      messenger,
      () => this.lifecycle,
      config.random,
      this.relays,
    );
    this.lifecycle = new LinkLifecycle(ctx, this.trust, this.membership, messenger, this.neighbourhood);
    this.traces = new Traces(ctx, messenger, selfHop);
    this.pings = new Pings(ctx, messenger, selfHop, (now, address, ring) =>
      this.neighbourhood.countConversation(now, address, ring),
    );
    this.statusRequests = new StatusRequests(
      ctx,
      this.trust,
      messenger,
      config.operatorGroup ?? DEFAULT_OPERATOR_GROUP,
    );
    this.revocations = new Revocations(ctx, this.trust, {
      lifecycle: this.lifecycle,
      messenger,
      membership: this.membership,
      neighbourhood: this.neighbourhood,
    });
  }

  /** Records the event's wall clock for the parts that judge certificates; returns its monotonic time. */
  private enter(at: Instant): number {
    this.clock.wallMs = at.wall;
    return at.mono;
  }

  /** Next action for the host, or undefined when there is none. */
  pollAction(): Action | undefined {
    return this.ctx.actions.poll();
  }

  // ---- the packet path -----------------------------------------------------------------------

  /**
   * An IP packet from the local host. The `PACKET_HEADROOM` bytes in front of `packet` in its
   * buffer are scratch space the core may overwrite with a header; the packet is borrowed until the
   * host next calls into the core.
   */
  handleHostPacket(at: Instant, packet: Uint8Array): void {
    this.router.handleHostPacket(this.enter(at), packet);
  }

  /** A frame from a peer link; borrowed until the host next calls into the core. */
  handleFrame(at: Instant, linkId: number, frame: Uint8Array): void {
    this.router.handleFrame(this.enter(at), linkId, frame);
  }

  // ---- links ---------------------------------------------------------------------------------

  /** The host's link produced a description or candidate for the remote side. */
  handleLinkSignal(at: Instant, linkId: number, payload: unknown): void {
    this.lifecycle.handleLinkSignal(this.enter(at), linkId, payload);
  }

  /** Both channels of the link are open. */
  handleLinkUp(at: Instant, linkId: number): void {
    this.lifecycle.handleLinkUp(this.enter(at), linkId);
  }

  /** The host's link failed or closed. */
  handleLinkDown(at: Instant, linkId: number, reason: string): void {
    this.lifecycle.handleLinkDown(this.enter(at), linkId, reason);
  }

  // ---- the signaling server ------------------------------------------------------------------

  /** A signaling `message` from another node: a link-setup envelope. */
  handleSignal(at: Instant, from: string, body: unknown): void {
    this.lifecycle.handleEnvelope(this.enter(at), from, body, "signaling");
  }

  /** The signaling server welcomed us; `members` are the other current members. */
  handleSignalingUp(at: Instant, members: readonly MemberInfo[]): void {
    const now = this.enter(at);
    const listed = members.filter((member) => !this.trust.isRevoked(member.nodeId, member.name));
    this.membership.welcome(listed);
    for (const member of listed) {
      this.neighbourhood.replaceStaleClaim(now, member);
      this.neighbourhood.learn(now, member);
    }
    this.neighbourhood.maintain(now);
  }

  /** The connection to the signaling server is gone. Links stay up; the overlay carries on. */
  handleSignalingDown(at: Instant): void {
    this.enter(at);
    this.membership.down();
  }

  /**
   * A member joined. It is not made a link candidate: the newcomer links to its own neighbours, and
   * an offer routed to it through the overlay would not find it before it has any link.
   */
  handleMemberJoined(at: Instant, member: MemberInfo): void {
    const now = this.enter(at);
    if (member.nodeId === this.self.nodeId || this.trust.isRevoked(member.nodeId, member.name)) return;
    this.membership.joined(member);
    this.neighbourhood.replaceStaleClaim(now, member);
  }

  handleMemberLeft(at: Instant, nodeId: string): void {
    this.enter(at);
    this.membership.left(nodeId);
  }

  // ---- trust ---------------------------------------------------------------------------------

  /** A revocation list from the signaling server (see `Revocations`). */
  handleRevocationList(at: Instant, list: string): void {
    this.revocations.offer(this.enter(at), list);
  }

  /** This node renewed its certificate: peers are told, so none closes a link at the old expiry. */
  handleCertificateRenewed(at: Instant): void {
    this.lifecycle.sendRefresh(this.enter(at));
  }

  // ---- messages from other nodes -------------------------------------------------------------

  /** A message from the peer at the other end of `link`. */
  private linkMessage(now: number, link: LinkRecord, message: OverlayMessage): void {
    switch (message.t) {
      case "neighbours":
        return this.neighbourhood.handleNeighbours(now, link, message);
      case "kinds":
        return this.neighbourhood.handleKinds(link, message.kinds);
      case "revocations":
        return this.revocations.offer(now, message.list, link);
      case "relay-ask":
        return this.relays.handleAsk(now, link, message.node);
      case "relay-ok":
        return this.relays.handleOk(now, link, message.node);
      default:
        this.router.dropOn(link, "message-unexpected");
    }
  }

  /** A routed message ended here; `exact` when this node owns the destination ring address. */
  private routedMessage(now: number, message: OverlayMessage, source: number, exact: boolean): void {
    switch (message.t) {
      case "find":
        return this.neighbourhood.handleFind(now, message.from, source);
      case "found":
        if (!exact) return this.drops.add("message-misdelivered");
        return this.neighbourhood.handleFound(now, message.member, message.full === true);
      case "link":
        // Not us, or an earlier incarnation of us (same address, other node id): tell the sender.
        if (!exact || (message.to !== undefined && message.to !== this.self.nodeId)) {
          return this.lifecycle.bounceLink(now, message, source);
        }
        return this.lifecycle.handleEnvelope(now, message.from, message.envelope, "overlay");
      case "trace-reply":
        if (!exact) return this.drops.add("message-misdelivered");
        return this.traces.handleReply(message.id, message.path, message.owner);
      case "ping-reply":
        if (!exact) return this.drops.add("message-misdelivered");
        return this.pings.handleReply(now, message.id, message.path, message.owner, message.direct);
      case "status-request":
        return this.statusRequests.arrived(now, message.id, message.from, message.sealed, exact);
      case "status-reply":
        if (!exact) return this.drops.add("message-misdelivered");
        return this.statusRequests.handleReply(message.id, message.report, message.refused);
      case "relay":
        if (!exact) return this.drops.add("message-misdelivered");
        return this.relays.handleEnvelope(now, message.envelope, source);
      default:
        this.drops.add("message-unexpected");
    }
  }

  // ---- timers --------------------------------------------------------------------------------

  /** Earliest time at which `handleTimeout` has work to do, or undefined when nothing is pending. */
  nextTimeout(): number | undefined {
    const next = this.ctx.timers.next(this.neighbourhood.maintaining);
    return Number.isFinite(next) ? next : undefined;
  }

  handleTimeout(at: Instant): void {
    const now = this.enter(at);
    const due = this.ctx.timers.takeDue(now);
    for (const linkId of due.link) this.lifecycle.handleTimer(now, linkId);
    for (const traceId of due.trace) this.traces.handleTimer(now, traceId);
    for (const pingId of due.ping) this.pings.handleTimer(pingId);
    if (due.maintenance) this.neighbourhood.maintain(now);
  }

  // ---- queries -------------------------------------------------------------------------------

  /**
   * Starts tracing the overlay path towards `ip`; the answer arrives as a `trace-result` event with
   * the returned id (incomplete after `traceTimeoutMs`).
   */
  traceRoute(at: Instant, ip: number): number {
    return this.traces.start(this.enter(at), ip);
  }

  /**
   * Pings `ip` over the overlay; the answer arrives as a `ping-result` event with the returned id:
   * its round trip, the path it took and whether it went over a direct link (lost after
   * `pingTimeoutMs`). Pings without a direct link count towards an on-demand link.
   */
  ping(at: Instant, ip: number): number {
    return this.pings.start(this.enter(at), ip);
  }

  /**
   * Asks the node `target` (node id) at virtual address `ip` for its status; the answer arrives as a
   * `status-result` event with the returned id (no event when nothing answers: the host times out).
   */
  askStatus(at: Instant, ip: number, target: string): number {
    return this.statusRequests.ask(this.enter(at), ip, target);
  }

  /** Answers the status request of a `status-asked` event; false when it is not waiting. */
  answerStatus(at: Instant, handle: number, report: unknown): boolean {
    return this.statusRequests.answer(this.enter(at), handle, report);
  }

  /**
   * Every node this node knows of, itself first: its peers, the signaling server's members and the
   * link candidates it heard of (gossip, finds); one entry per node id. Names are the ones
   * certificates bound (the trust checks them on every link); hosts resolve `ipop` names with it.
   */
  knownMembers(): MemberInfo[] {
    const members = new Map<string, MemberInfo>([[this.self.nodeId, this.self]]);
    for (const link of this.ctx.links.byId.values()) members.set(link.peer.nodeId, link.peer);
    for (const member of this.membership.members.values())
      if (!members.has(member.nodeId)) members.set(member.nodeId, member);
    for (const member of this.neighbourhood.knownMembers())
      if (!members.has(member.nodeId)) members.set(member.nodeId, member);
    return [...members.values()];
  }

  /** The ring address of a virtual IP in this network. */
  ringAddressOf(ip: number): number {
    return this.ctx.rings.of(ip);
  }

  status(now: number): NodeStatus {
    return {
      self: this.self,
      ring: this.ring,
      network: this.network,
      prefixLength: this.ctx.subnet.prefixLength,
      signalingUp: this.membership.signalingUp,
      members: this.membership.members.size,
      known: this.neighbourhood.knownCount,
      networkSizeEstimate: this.neighbourhood.networkSizeEstimate(),
      links: [...this.ctx.links.byId.values()].map((link) => linkStatus(link, now)),
      drops: this.drops.toJSON(),
      adjusted: this.router.adjusted.toJSON(),
      multicast: this.router.multicast.toJSON(),
      relays: this.relays.status(now),
      relayedForOthers: this.relays.relayed,
    };
  }

  /** Closes every link (the host is shutting down); the peers are told so they need not time out. */
  shutdown(at: Instant): void {
    const now = this.enter(at);
    this.neighbourhood.clear();
    this.relays.clear();
    this.lifecycle.closeAll(now, "shutdown");
    this.membership.clear();
  }
}
