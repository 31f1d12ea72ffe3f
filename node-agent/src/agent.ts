import { createHmac, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  type Certificate,
  formatCertificate,
  formatCertificateTime,
  formatIpv4Address,
  IdentityError,
  type Ipv4Interface,
  type MemberInfo,
  NetworkTrust,
  type NodeEvent,
  nodeIdFor,
  OverlayNode,
  PACKET_HEADROOM,
  signJoinProof,
  ThroughputSink,
} from "@ipop/shared";
import type { Logger } from "pino";
import type { Credentials } from "./cert/credentials.js";
import { AgentError, ControlError, TunError } from "./errors.js";
import { logEvent } from "./event-log.js";
import { HostDriver } from "./host/host-driver.js";
import type { IceServer } from "./link/ice-servers.js";
import type { PeerLinkFactory } from "./link/peer-link.js";
import { pickNamed, type ResolvedNode, resolveNode } from "./names.js";
import type { PingReply } from "./ping.js";
import { type AgentStatus, compareIp, type PeerStatus, type RouteResult, relayedPeers } from "./status.js";
import { identityStatusOf, peerStatusOf, statusReportOf, withTunDrops } from "./status-answer.js";
import type { TunDevice } from "./tun/tun-device.js";
import { openWsSignalSocket } from "./ws-signal-socket.js";

/** Most targets one `routes` control request traces at once (a request line is at most 4 KiB). */
export const MAX_ROUTES_PER_REQUEST = 64;

export interface AgentOptions {
  readonly signalUrl: string;
  /** For a `wss://` signaling server with a private CA: that CA (PEM); default, Node's store. */
  readonly signalCa?: string;
  /** The checked CA, certificate and key (`loadCredentials`); the network, name and address are theirs. */
  readonly credentials: Credentials & { readonly address: Ipv4Interface };
  /** A revocation list to start with (armored text), checked like one from a peer. */
  readonly revocations?: string;
  readonly tun: TunDevice;
  readonly links: PeerLinkFactory;
  /** STUN/TURN servers from the flags and config (the signaling server may add its own). */
  readonly iceServers: readonly IceServer[];
  readonly logger: Logger;
  /** Most links this node opens (near links are always allowed). */
  readonly maxLinks: number;
  /** Broadcast and multicast flood the overlay (default on). */
  readonly multicast?: boolean;
  /** Members of this group may read the agent's status over the overlay (default `ops`). */
  readonly operatorGroup?: string;
  /** Something the agent cannot go on from (its address is taken, the TUN device failed). */
  readonly onFatal: (message: string) => void;
  /** Sees every event the core emits (link up and down, drops of envelopes, ...), e.g. for metrics. */
  readonly onEvent?: (event: NodeEvent) => void;
}

/**
 * The host shell around the overlay core on Linux: the one owner of the core's state. Every event
 * (a TUN packet batch, a link message, a signaling message, a timer) calls into the core and then
 * drains its actions at once, so buffers the core borrowed are still valid when acted on.
 */
export class Agent {
  readonly node: OverlayNode;
  readonly trust: NetworkTrust;
  /** The current certificate: the one we started with, or its renewal (token-enrolled nodes). */
  private cert: Certificate;
  private certText: string;
  /** Drives the core: its turns, timer, links and signaling client. */
  private readonly driver: HostDriver;
  private readonly startedAt = performance.now();
  private readonly traces = new Map<number, { ip: string; at: number; resolve: (result: RouteResult) => void }>();
  private readonly pings = new Map<number, { ip: string; name: string | null; resolve: (reply: PingReply) => void }>();
  /** Counts the console's throughput tests (UDP to port 9 of our address) before the TUN sees them. */
  private readonly sink: ThroughputSink;

  constructor(private readonly options: AgentOptions) {
    const { cert, ca, keySeed, network, address } = options.credentials;
    // One id per run: a restarted agent is a new incarnation of the same certified node.
    const nodeId = nodeIdFor(cert, randomBytes(4).toString("hex"));
    const self: MemberInfo = { nodeId, name: cert.name, ip: formatIpv4Address(address.address) };
    this.cert = cert;
    this.certText = formatCertificate(cert);
    this.trust = new NetworkTrust({
      network,
      ca,
      nodeId,
      certText: this.certText,
      seed: keySeed,
    });
    if (options.revocations !== undefined) {
      const verdict = this.trust.offerRevocationList(options.revocations);
      if (typeof verdict !== "string") throw IdentityError.from(verdict, "revocation list");
    }
    this.node = new OverlayNode({
      self,
      network,
      prefixLength: address.prefixLength,
      // Math.random only picks shortcut targets; keys of relayed paths need node:crypto's bytes.
      random: Math.random,
      randomBytes: (length) => new Uint8Array(randomBytes(length)),
      hmacSha256: (key) => (data) => createHmac("sha256", key).update(data).digest(),
      limits: { maxLinks: options.maxLinks, mtu: options.tun.mtu, multicast: options.multicast ?? true },
      trust: this.trust,
      ...(options.operatorGroup === undefined ? {} : { operatorGroup: options.operatorGroup }),
    });
    this.sink = new ThroughputSink(address.address, PACKET_HEADROOM);
    const credential = () =>
      signJoinProof({ network, nodeId, ip: self.ip, timeMs: Date.now() }, this.certText, keySeed);
    this.driver = new HostDriver({
      node: this.node,
      links: options.links,
      iceServers: options.iceServers,
      subnet: address,
      signaling: {
        url: options.signalUrl,
        openSocket: openWsSignalSocket(options.signalCa),
        network,
        self,
        credential,
        logger: options.logger,
      },
      logger: options.logger,
      hooks: {
        deliver: (packet) => {
          if (this.sink.claims(packet)) this.sinkPacket(packet);
          else if (!this.options.tun.write(packet)) this.driver.hostDrops.add("tun-write");
        },
        onEvent: (event) => this.handleEvent(event),
        onRefused: (message) => options.onFatal(message),
      },
    });
  }

  start(): void {
    const { tun } = this.options;
    if (tun.headroom < PACKET_HEADROOM)
      throw new TunError(`TUN device reserves ${tun.headroom} bytes of headroom, the core needs ${PACKET_HEADROOM}`);
    // A whole TUN batch goes through the core before its actions are carried out, so the packets
    // for one peer leave in one message; the batch's views stay valid until drain() returns.
    tun.start(
      (packet) => this.node.handleHostPacket(this.driver.instant(), packet),
      (error) => this.options.onFatal(error.message),
      () => this.driver.drain(),
    );
    this.driver.start();
    const { cert, network } = this.options.credentials;
    this.options.logger.info(
      { node: this.node.self, network, certificate: { keyId: cert.nodeId, notAfter: cert.notAfter } },
      "agent started",
    );
  }

  /** Closes links (telling peers), leaves the signaling server and removes the TUN device. */
  async stop(): Promise<void> {
    if (this.driver.stopped) return;
    await this.driver.stop();
    this.options.tun.close();
  }

  private now(): number {
    return performance.now();
  }

  private handleEvent(event: NodeEvent): void {
    this.options.onEvent?.(event);
    if (event.kind === "trace-result") this.finishTrace(event);
    else if (event.kind === "ping-result") this.finishPing(event);
    else if (event.kind === "status-asked") this.answerStatus(event.handle);
    else this.log(event);
  }

  /** A packet for the throughput sink; a report it answers goes back in as if from our host. */
  private sinkPacket(packet: Uint8Array): void {
    const report = this.sink.take(this.now(), packet);
    // Queued for after this drain: the core is not re-entered while its actions are carried out.
    if (report !== null) queueMicrotask(() => this.driver.step((at) => this.node.handleHostPacket(at, report)));
  }

  /** Answers an operator's status request (the core checked the requester's certificate). */
  private answerStatus(handle: number): void {
    this.status().then(
      (status) => this.driver.step((at) => this.node.answerStatus(at, handle, statusReportOf(status, at.wall))),
      (error: unknown) => this.options.logger.warn({ err: String(error) }, "could not build a status report"),
    );
  }

  private log(event: NodeEvent): void {
    logEvent(this.options.logger, event);
    if (event.kind === "revocations-updated" && event.self) {
      this.options.onFatal("this node's certificate was revoked; ask the network's administrator for a new one");
    }
  }

  /**
   * Switches to a renewed certificate: same key, name and address, a later expiry. Envelopes and
   * joins from now on carry it.
   */
  renewCertificate(cert: Certificate, certText: string): void {
    const { keySeed } = this.options.credentials;
    if (cert.nodeId !== this.cert.nodeId || cert.ip !== this.cert.ip || cert.name !== this.cert.name) {
      throw new AgentError("IPOP_RENEWAL_MISMATCH", "a renewed certificate must keep the key, name and address");
    }
    this.cert = cert;
    this.certText = certText;
    this.trust.guard.renew(certText, keySeed);
    this.driver.step((at) => this.node.handleCertificateRenewed(at));
    this.options.logger.info({ notAfter: formatCertificateTime(cert.notAfter) }, "certificate renewed");
  }

  /** The virtual address of a node given by address or by name (see {@link resolveNode}). */
  resolve(target: string): ResolvedNode {
    return resolveNode(target, this.node.knownMembers(), () => this.linkedNodeIds(), this.options.credentials.address);
  }

  /** The virtual address of the node named `name` (any case), for the DNS server. */
  addressOfName(name: string): string | undefined {
    return pickNamed(this.node.knownMembers(), name.toLowerCase(), () => this.linkedNodeIds())?.ip;
  }

  private linkedNodeIds(): ReadonlySet<string> {
    return new Set(this.node.status(this.now()).links.map((l) => l.peer.nodeId));
  }

  /** Counts a drop the host shell made outside the agent (the DNS server's), shown in `ipop status`. */
  countHostDrop(reason: string): void {
    this.driver.hostDrops.add(reason);
  }

  /** Traces the overlay path a packet to a node (virtual IP or name) takes (`ipop route`). */
  route(target: string): Promise<RouteResult> {
    try {
      const { ip, address } = this.resolve(target);
      if (this.driver.stopped) throw new AgentError("IPOP_AGENT_STOPPING", "the agent is stopping");
      const id = this.node.traceRoute(this.driver.instant(), address);
      const at = this.now();
      const result = new Promise<RouteResult>((resolve) => this.traces.set(id, { ip, at, resolve }));
      this.driver.drain();
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Traces the paths to several nodes at once (the control socket's `routes` request), each as
   * {@link route} does; answers in the order asked. One request per tracing agent lets a test sweep
   * every pair of a large lab without a control connection per pair (test/src/lab/scale.lab.test.ts).
   */
  routes(targets: unknown): Promise<RouteResult[]> {
    if (
      !Array.isArray(targets) ||
      targets.length === 0 ||
      targets.length > MAX_ROUTES_PER_REQUEST ||
      !targets.every((t) => typeof t === "string")
    ) {
      const error = `routes needs "ips": a list of 1 to ${MAX_ROUTES_PER_REQUEST} virtual IPs or names`;
      return Promise.reject(new ControlError(error));
    }
    return Promise.all(targets.map((target: string) => this.route(target)));
  }

  /**
   * Sends one overlay ping to a node (virtual IP or name) and resolves with its answer, or as lost
   * after the core's ping timeout (`ipop ping`).
   */
  ping(target: string): Promise<PingReply> {
    try {
      const { ip, address, name } = this.resolve(target);
      if (this.driver.stopped) throw new AgentError("IPOP_AGENT_STOPPING", "the agent is stopping");
      const id = this.node.ping(this.driver.instant(), address);
      const result = new Promise<PingReply>((resolve) => this.pings.set(id, { ip, name, resolve }));
      this.driver.drain();
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private finishPing(event: NodeEvent & { kind: "ping-result" }): void {
    const ping = this.pings.get(event.id);
    if (ping === undefined) return;
    this.pings.delete(event.id);
    const last = event.path.at(-1);
    ping.resolve({
      ip: ping.ip,
      // The owner's own word for its name beats what we had heard of it.
      name: event.owner && last !== undefined ? last.name : ping.name,
      answered: event.complete,
      owner: event.owner,
      direct: event.direct,
      rttMs: event.rttMs === null ? null : Math.round(event.rttMs * 1000) / 1000,
      path: event.path.map((m) => ({ name: m.name, ip: m.ip })),
    });
  }

  private finishTrace(event: NodeEvent & { kind: "trace-result" }): void {
    const trace = this.traces.get(event.id);
    if (trace === undefined) return;
    this.traces.delete(event.id);
    const path = event.path.map((m) => ({ name: m.name, ip: m.ip }));
    // At debug level every answer (or timeout) is logged with how long it took: what the fifty-agent
    // lab's analysis of the time to routability reads (docs/bench.md).
    if (this.options.logger.isLevelEnabled("debug")) {
      const log = {
        ip: trace.ip,
        complete: event.complete,
        owner: event.owner,
        ms: Math.round(this.now() - trace.at),
        path: path.map((m) => m.name),
      };
      this.options.logger.debug(log, "trace answered");
    }
    trace.resolve({ ip: trace.ip, path, owner: event.owner, complete: event.complete });
  }

  /**
   * A snapshot for `ipop status`; with `target` (a virtual IP or name) its peers are only the link
   * to that node, if there is one.
   */
  async status(target?: string): Promise<AgentStatus> {
    const only = target === undefined ? undefined : this.resolve(target).ip;
    const now = this.now();
    const { cert } = this;
    const core = this.node.status(now);
    const peers: PeerStatus[] = await Promise.all(
      core.links
        .filter((l) => l.state !== "closed" && (only === undefined || l.peer.ip === only))
        .map(async (l): Promise<PeerStatus> => {
          const transport = await this.driver.linkStats(l.linkId);
          const drops = { ...l.drops, ...this.driver.sendDropsOf(l.linkId) };
          return peerStatusOf(l, transport, drops);
        }),
    );
    peers.sort((a, b) => compareIp(a.ip, b.ip));
    return {
      version: 1,
      node: {
        id: core.self.nodeId,
        name: core.self.name,
        ip: core.self.ip,
        prefix: core.prefixLength,
        network: core.network,
        dev: this.options.tun.name,
        mtu: this.options.tun.mtu,
        webrtc: this.options.links.backend,
        uptimeMs: Math.round(now - this.startedAt),
      },
      identity: identityStatusOf(cert, this.options.credentials.ca, this.trust.revocationSerial),
      signaling: {
        url: this.driver.signaling.url,
        state: this.driver.signaling.state,
        reconnects: this.driver.signaling.reconnects,
        members: core.members,
      },
      overlay: {
        ring: core.ring.toString(16).padStart(12, "0"),
        known: core.known,
        sizeEstimate: core.networkSizeEstimate,
      },
      peers,
      drops: withTunDrops({ ...core.drops, ...this.driver.hostDrops.toJSON() }, this.options.tun),
      adjusted: core.adjusted,
      multicast: core.multicast,
      relayed: relayedPeers(core.relays, only),
      ...(this.options.tun.offloadReport === undefined ? {} : { tun: this.options.tun.offloadReport() }),
    };
  }
}
