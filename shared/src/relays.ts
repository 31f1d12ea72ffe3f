import {
  classifyFrame,
  FrameType,
  ROUTED_HEADER_BYTES,
  RoutedKind,
  routedDestination,
  routedKind,
  takeRoutedHop,
} from "./frame.js";
import { inSubnet, parseIpv4Address } from "./ipv4.js";
import type { LinkRecord } from "./link-record.js";
import type { NodeContext } from "./node-context.js";
import { type NodeTrust, refusalReason } from "./node-trust.js";
import type { OverlayMessage } from "./overlay-message.js";
import { parseRelayEnvelope, type RelayEnvelope, relayEnvelopeBody } from "./relay-envelope.js";
import { newRoute, type RelayHop, type RelayRoute, type RelayStatus, routeStatus } from "./relay-route.js";
import {
  type HmacSha256,
  RelayBody,
  type RelayKeyPair,
  RelaySession,
  relayChannel,
  relayKeyPair,
} from "./relay-session.js";
import { ringDistance } from "./ring.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { encodeTraceHop } from "./trace-path.js";

/** What the relays ask of the messenger: sending over one chosen link, and the way a frame came in. */
export interface RelayMessenger {
  /** Sends an overlay message to the peer at the other end of `link`. */
  sendLinkMessage(link: LinkRecord, message: OverlayMessage): void;
  /** Sends an overlay message routed to `destination` with `link` as its first hop. */
  sendRoutedVia(link: LinkRecord, destination: number, message: OverlayMessage): void;
  /** The link routed frames from `source` came in on lately, if it is still up. */
  wayBack(now: number, source: number): LinkRecord | undefined;
}

/**
 * Relays, IPOP's tunnel edges: when a node cannot link directly to a ring neighbour (its setups
 * time out: both behind symmetric NATs, no UDP path, no TURN), it asks its linked peers which of
 * them has a link to that neighbour, and reaches it through the first that says so. The router then
 * treats the neighbour as if linked (greedy routing stays correct: every node still reaches its ring
 * neighbours), sending it frames sealed end to end (relay-session.ts) that the relay passes on to
 * its own link and cannot forge. Direct setup keeps being retried with the lifecycle's backoff; when
 * a direct link comes up, the relayed path is dropped. A path whose relay goes away is looked for
 * again at once.
 */
export class Relays {
  private readonly routes = new Map<string, RelayRoute>();
  private readonly byRing = new Map<number, RelayRoute>();
  private nextSession = 1;
  /** Sealed frames this node passed on as the relay in the middle of others' paths. */
  relayed = 0;
  /** Link id -> when this node last passed a sealed frame to or from it, as the relay in the middle. */
  private readonly relayingAt = new Map<number, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly trust: NodeTrust,
    private readonly messenger: RelayMessenger,
    /** Secure random bytes for ephemeral keys; without them this node neither starts nor accepts relays. */
    private readonly randomBytes: ((length: number) => Uint8Array) | undefined,
    /** The host's HMAC-SHA256, when it has a faster one than the pure-JavaScript default. */
    private readonly hmacSha256?: HmacSha256,
  ) {}

  // ---- what the ring wants ---------------------------------------------------------------------

  /** A direct link to ring neighbour `peer` failed to come up or died: reach it through a relay. */
  want(now: number, peer: MemberInfo): void {
    if (this.randomBytes === undefined || this.ctx.links.byPeer.get(peer.nodeId)?.life.state === "up") return;
    const existing = this.routes.get(peer.nodeId);
    if (existing !== undefined) {
      existing.wantedAt = now;
      return;
    }
    const address = parseIpv4Address(peer.ip);
    if (address === null || !inSubnet(address, this.ctx.subnet)) return;
    const route = newRoute(peer, this.ctx.rings.of(address), address, "initiator", now);
    this.routes.set(peer.nodeId, route);
    this.ask(now, route);
  }

  /** The member record of a node this node has a relayed path (up or being set up) to. */
  member(nodeId: string): MemberInfo | undefined {
    return this.routes.get(nodeId)?.peer;
  }

  /**
   * Peers this node reaches, or is reaching for, through a relay: ring neighbours as good as linked.
   * A search that no peer has answered within a setup timeout no longer counts: the neighbour may
   * be dead rather than unreachable, and must not keep the live ones out of the ring meanwhile.
   */
  *reaching(now: number): Iterable<{ readonly nodeId: string; readonly ring: number }> {
    for (const route of this.routes.values())
      if (this.counts(now, route)) yield { nodeId: route.peer.nodeId, ring: route.ring };
  }

  /** Whether the path to `nodeId` makes it a ring neighbour candidate (see `reaching`). */
  isReaching(now: number, nodeId: string): boolean {
    const route = this.routes.get(nodeId);
    return route !== undefined && this.counts(now, route);
  }

  private counts(now: number, route: RelayRoute): boolean {
    return route.state !== "asking" || now - route.since < this.ctx.timing.linkSetupTimeoutMs;
  }

  /**
   * Runs with the node's maintenance: keeps paths the ring still wants alive (keepalives), retries
   * slow steps, and drops paths that died, that a direct link replaced or that nobody wants.
   */
  maintain(now: number, near: ReadonlySet<string>): void {
    const { timing } = this.ctx;
    for (const route of [...this.routes.values()]) {
      if (near.has(route.peer.nodeId)) route.wantedAt = now;
      const unwanted = now - route.wantedAt > timing.unneededGraceMs;
      if (route.state !== "up") {
        if (unwanted) this.drop(route, "unneeded", false);
        else if (now - route.stepAt > timing.linkSetupTimeoutMs) this.ask(now, route);
        continue;
      }
      if (now - route.heardAt > timing.linkDeadAfterMs) {
        this.drop(route, "relay-timeout", false);
        if (!unwanted) this.want(now, route.peer);
      } else if (unwanted && now - route.heardAt > timing.keepaliveIntervalMs * 2) {
        // Neither end pings a path it does not want: the silence says the peer does not either.
        this.drop(route, "unneeded", true);
      } else if (!unwanted && now - route.pingAt >= timing.keepaliveIntervalMs) {
        this.ping(now, route);
      }
    }
  }

  /**
   * Whether a relayed path runs over `link`: as this node's first hop, or with this node as the
   * relay in the middle lately. Such a link is kept (kind `relay`) even if the ring needs it no more.
   */
  uses(now: number, link: LinkRecord): boolean {
    const relayingAt = this.relayingAt.get(link.id);
    if (relayingAt !== undefined && now - relayingAt <= this.ctx.timing.unneededGraceMs) return true;
    for (const route of this.routes.values()) if (route.via === link && route.state !== "asking") return true;
    return false;
  }

  /** A direct link came up: it replaces the relayed path to the same peer. */
  linkCameUp(link: LinkRecord): void {
    const route = this.routes.get(link.peer.nodeId);
    if (route !== undefined) this.drop(route, "direct", true);
  }

  /** A link closed: paths through it look for another relay; asks for a direct link go relayed. */
  linkClosed(now: number, link: LinkRecord): void {
    this.relayingAt.delete(link.id);
    for (const route of this.routes.values()) {
      if (route.via !== link) continue;
      route.since = now;
      this.setState(route, "asking");
      route.via = undefined;
      route.crypto = undefined;
      this.ask(now, route);
    }
  }

  // ---- finding a relay and the handshake -------------------------------------------------------

  private ask(now: number, route: RelayRoute): void {
    route.stepAt = now;
    this.setState(route, "asking");
    route.role = "initiator";
    for (const link of this.ctx.links.up) {
      if (link.peer.nodeId !== route.peer.nodeId)
        this.messenger.sendLinkMessage(link, { t: "relay-ask", node: route.peer.nodeId });
    }
  }

  /**
   * A peer asks whether this node could relay to `node`: only if it has an up link to it that was
   * heard from lately (a node that just died must not be offered as reachable).
   */
  handleAsk(now: number, link: LinkRecord, node: string): void {
    if (node === link.peer.nodeId) return;
    const target = this.ctx.links.byPeer.get(node);
    const fresh = target !== undefined && now - target.heardAt() < 1.5 * this.ctx.timing.keepaliveIntervalMs;
    if (target?.life.state === "up" && fresh) this.messenger.sendLinkMessage(link, { t: "relay-ok", node });
  }

  /** A peer can relay to `node`: the first such answer wins and gets the hello. */
  handleOk(now: number, link: LinkRecord, node: string): void {
    const route = this.routes.get(node);
    if (route === undefined || route.state !== "asking" || link.life.state !== "up") return;
    route.keys = relayKeyPair(this.randomBytes!(32));
    route.session = `${this.ctx.self.nodeId}.${this.nextSession++}`;
    route.via = link;
    route.stepAt = now;
    this.setState(route, "hello");
    this.sendEnvelope(route, link, "hello");
  }

  private sendEnvelope(route: RelayRoute, via: LinkRecord, kind: RelayEnvelope["kind"]): void {
    const { ctx } = this;
    const body = relayEnvelopeBody({ v: 1, kind, session: route.session, from: ctx.self, key: route.keys!.publicKey });
    const envelope = this.trust.seal(ctx.clock.wallMs, route.peer.nodeId, body);
    this.messenger.sendRoutedVia(via, route.ring, { t: "relay", from: ctx.self.nodeId, envelope });
  }

  /** A sealed handshake envelope routed to this node from ring address `source`. */
  handleEnvelope(now: number, raw: unknown, source: number): void {
    const { ctx } = this;
    if (this.randomBytes === undefined) return ctx.drops.add("relay-disabled");
    const opened = this.trust.open(ctx.clock.wallMs, raw, "deliver");
    if (!opened.ok) return ctx.drops.add(`relay-${refusalReason(opened)}`);
    const envelope = parseRelayEnvelope(opened.value.envelope);
    if (typeof envelope === "string") return ctx.drops.add(`relay-${envelope}`);
    const from = envelope.from;
    const address = parseIpv4Address(from.ip);
    // The sender's certificate must own the address it claims, and that address the ring position
    // the envelope came from: what the session then authenticates is that node's traffic.
    if (
      from.nodeId !== opened.value.from ||
      address === null ||
      !opened.value.owns(address) ||
      !inSubnet(address, ctx.subnet) ||
      ctx.rings.of(address) !== source ||
      from.nodeId === ctx.self.nodeId
    )
      return ctx.drops.add("relay-bad-sender");
    if (envelope.kind === "hello") this.handleHello(now, envelope, address);
    else this.handleAccept(now, envelope);
  }

  private handleHello(now: number, hello: RelayEnvelope, address: number): void {
    const { ctx } = this;
    const existing = this.routes.get(hello.from.nodeId);
    // Both ends said hello at once: the smaller node id's hello wins, so both derive one session.
    if (existing?.state === "hello" && ctx.self.nodeId < hello.from.nodeId) return ctx.drops.add("relay-glare");
    const ring = ctx.rings.of(address);
    const via = this.messenger.wayBack(now, ring);
    if (via === undefined) return ctx.drops.add("relay-no-way-back");
    if (ctx.links.byPeer.get(hello.from.nodeId)?.life.state === "up") return ctx.drops.add("relay-linked");
    const keys = relayKeyPair(this.randomBytes!(32));
    const crypto = this.derive(keys, hello.key, hello.from.nodeId, ctx.self.nodeId, hello.session);
    if (crypto === null) return ctx.drops.add("relay-bad-key");
    if (existing !== undefined) this.forget(existing);
    const route = newRoute(hello.from, ring, address, "responder", now);
    route.via = via;
    route.session = hello.session;
    route.keys = keys;
    route.crypto = crypto;
    // The responder keeps the path while the initiator keeps it alive, or its own ring wants it.
    route.wantedAt = existing?.wantedAt ?? now - ctx.timing.unneededGraceMs;
    this.routes.set(route.peer.nodeId, route);
    this.sendEnvelope(route, via, "accept");
    this.setUp(now, route);
  }

  private handleAccept(now: number, accept: RelayEnvelope): void {
    const { ctx } = this;
    const route = this.routes.get(accept.from.nodeId);
    if (route === undefined || route.state !== "hello" || route.session !== accept.session)
      return ctx.drops.add("relay-stale-session");
    const crypto = this.derive(route.keys!, accept.key, ctx.self.nodeId, accept.from.nodeId, route.session);
    if (crypto === null) return ctx.drops.add("relay-bad-key");
    route.crypto = crypto;
    route.heardAt = now;
    this.setUp(now, route);
  }

  /** This end's session with the peer whose public key is `peerKey`, for the handshake `session`. */
  private derive(
    own: RelayKeyPair,
    peerKey: Uint8Array,
    initiator: string,
    responder: string,
    session: string,
  ): RelaySession | null {
    const asInitiator = initiator === this.ctx.self.nodeId;
    const [initiatorKey, responderKey] = asInitiator ? [own.publicKey, peerKey] : [peerKey, own.publicKey];
    const context = { session, initiator, responder, initiatorKey, responderKey };
    return RelaySession.derive(own, peerKey, asInitiator, context, this.hmacSha256);
  }

  private setUp(now: number, route: RelayRoute): void {
    this.setState(route, "up");
    route.upAt = now;
    route.pingAt = now;
    this.ctx.actions.emit({ kind: "relay-up", peer: route.peer, via: route.via!.peer, role: route.role });
  }

  // ---- the packet path -------------------------------------------------------------------------

  /**
   * The up relayed path whose peer is closest to `destination` and strictly closer than `distance`
   * (what the best link offers); never the path to `exclude` (where the frame came from).
   */
  closerThan(destination: number, distance: number, exclude?: number): RelayHop | undefined {
    const exact = this.byRing.get(destination);
    if (exact !== undefined) return distance > 0 && exact.ring !== exclude ? exact : undefined;
    let best: RelayRoute | undefined;
    for (const route of this.byRing.values()) {
      const d = ringDistance(route.ring, destination);
      if (d < distance && route.ring !== exclude) {
        best = route;
        distance = d;
      }
    }
    return best;
  }

  /** Whether routed packets from ring address `source` must arrive sealed: we share a session with it. */
  sealedOnly(source: number): boolean {
    return this.byRing.has(source);
  }

  /**
   * Sends routed `frame` (header and payload, already counted against its TTL) to the relayed
   * peer, sealed; a trace or ping gets the relay's hop appended, so `ipop route` shows it.
   */
  forward(hop: RelayHop, frame: Uint8Array, kind: RoutedKind): void {
    const route = this.byRing.get(hop.ring)!;
    let body = frame;
    if (kind === RoutedKind.trace || kind === RoutedKind.ping) {
      const relayHop = encodeTraceHop(route.via!.peer);
      body = new Uint8Array(frame.length + relayHop.length);
      body.set(frame);
      body.set(relayHop, frame.length);
    }
    if (kind === RoutedKind.packet) {
      route.tx.bytes += frame.length - ROUTED_HEADER_BYTES;
      route.tx.packets++;
    }
    this.send(route, RelayBody.frame, body, kind === RoutedKind.packet ? "data" : "control");
  }

  private send(route: RelayRoute, type: RelayBody, body: Uint8Array, channel: "data" | "control"): void {
    const { ctx } = this;
    const sealed = route.crypto!.seal(ctx.limits.maxHops, ctx.ring, route.ring, type, body);
    ctx.actions.sendFrame(route.via!.id, channel, sealed);
  }

  private ping(now: number, route: RelayRoute): void {
    route.pingSeq = (route.pingSeq + 1) >>> 0;
    route.pingAt = now;
    this.send(route, RelayBody.ping, u32(route.pingSeq), "control");
  }

  /**
   * A sealed relay frame for another node came in on `link`: this node is the relay. It goes on only
   * over this node's own link to its destination, never greedily, so a relayed path cannot wander.
   */
  passOn(now: number, link: LinkRecord, frame: Uint8Array): void {
    const { ctx } = this;
    const next = ctx.links.byRing.get(routedDestination(frame));
    if (next === undefined) {
      link.traffic.drops.add("relay-no-link");
      ctx.drops.add("relay-no-link");
    } else if (!takeRoutedHop(frame)) ctx.drops.add("hop-limit");
    else {
      this.relayed++;
      this.relayingAt.set(link.id, now);
      this.relayingAt.set(next.id, now);
      ctx.actions.sendFrame(next.id, relayChannel(frame), frame);
    }
  }

  /**
   * A sealed relay frame addressed to this node arrived on `link`. Returns the routed frame it
   * carried for the router to handle (as if from `link`), or undefined when it was a keepalive or
   * was refused (counted).
   */
  receive(now: number, link: LinkRecord, source: number, payload: Uint8Array): Uint8Array | undefined {
    const { ctx } = this;
    const route = this.byRing.get(source);
    if (route === undefined || route.crypto === undefined) {
      ctx.drops.add("relay-unknown-session");
      return undefined;
    }
    const opened = route.crypto.open(payload);
    if (typeof opened === "string") {
      ctx.drops.add(opened);
      return undefined;
    }
    route.heardAt = now;
    // The peer's end moved to another relay (ours died first, or it chose another): answer there.
    if (route.via !== link && link.life.state === "up") route.via = link;
    switch (opened.type) {
      case RelayBody.ping:
        if (opened.body.length === 4) this.send(route, RelayBody.pong, opened.body.slice(), "control");
        return undefined;
      case RelayBody.pong:
        if (opened.body.length === 4 && readU32(opened.body) === route.pingSeq) route.rttMs = now - route.pingAt;
        return undefined;
      case RelayBody.close:
        this.forget(route);
        this.ctx.actions.emit({ kind: "relay-down", peer: route.peer, reason: "peer-closed" });
        return undefined;
    }
    const inner = opened.body;
    const kind = classifyFrame(inner) === FrameType.routed ? routedKind(inner) : undefined;
    if (kind === undefined || kind === RoutedKind.relay || kind === RoutedKind.flood) {
      ctx.drops.add("relay-bad-inner");
      return undefined;
    }
    if (kind === RoutedKind.packet) {
      route.rx.bytes += inner.length - ROUTED_HEADER_BYTES;
      route.rx.packets++;
    }
    return inner;
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  private setState(route: RelayRoute, state: RelayRoute["state"]): void {
    route.state = state;
    if (state === "up") {
      this.byRing.set(route.ring, route);
    } else {
      if (this.byRing.get(route.ring) === route) this.byRing.delete(route.ring);
    }
  }

  private drop(route: RelayRoute, reason: string, tellPeer: boolean): void {
    if (tellPeer && route.state === "up" && route.via?.life.state === "up")
      this.send(route, RelayBody.close, new Uint8Array(0), "control");
    const wasUp = route.state === "up";
    this.forget(route);
    if (wasUp) this.ctx.actions.emit({ kind: "relay-down", peer: route.peer, reason });
  }

  private forget(route: RelayRoute): void {
    this.setState(route, "asking");
    if (this.routes.get(route.peer.nodeId) === route) this.routes.delete(route.peer.nodeId);
  }

  /** Forgets every path (the node is shutting down). */
  clear(): void {
    for (const route of [...this.routes.values()]) this.drop(route, "shutdown", true);
  }

  status(now: number): RelayStatus[] {
    return [...this.routes.values()].map((route) => routeStatus(route, now));
  }
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

function readU32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}
