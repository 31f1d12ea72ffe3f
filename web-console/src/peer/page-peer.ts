import { HostDriver } from "@ipop/agent/host";
import type { IceServer } from "@ipop/agent/link";
import {
  type Certificate,
  formatIpv4Address,
  type Instant,
  type MemberInfo,
  NetworkTrust,
  type NodeEvent,
  nodeIdFor,
  OverlayNode,
  type StatusReport,
  signJoinProof,
} from "@ipop/shared";
import { createBrowserLinkFactory } from "./browser-link.js";
import { openBrowserSignalSocket } from "./browser-signal-socket.js";
import { pathKind, peerRowOf } from "./peer-row.js";
import { VirtualHost } from "./virtual-host.js";

/** The page's credentials: what the CA issued for its key. */
export interface PageIdentity {
  cert: Certificate;
  certText: string;
  readonly ca: Certificate;
  readonly seed: Uint8Array;
}

/** What the page peer tells the console about itself. */
export interface PagePeerEvents {
  onEvent(event: NodeEvent): void;
  onSignaling(up: boolean): void;
  /** The server refused us for good (address taken, certificate refused or revoked). */
  onRefused(code: string, message: string): void;
}

/** Most links a console opens: its ring neighbours and a few shortcuts, like a small agent. */
const MAX_LINKS = 16;
/** Overlay MTU of the page: the agents' default, so nothing it sends needs fragmenting. */
const PAGE_MTU = 1400;
/** A page retries its signaling server sooner than an agent: someone is looking at it. */
const MAX_SIGNAL_BACKOFF_MS = 5_000;

/**
 * The page's host shell around the overlay core, as `Agent` is on Linux: one owner of the core's
 * state; every event (a link message, a signaling message, a timer, a probe the page sends) calls
 * into the core and then carries out its actions at once. A {@link VirtualHost} stands where an
 * agent has its TUN device.
 */
export class PagePeer {
  readonly node: OverlayNode;
  readonly self: MemberInfo;
  private readonly trust: NetworkTrust;
  readonly host: VirtualHost;
  /** Drives the core: its turns, timer, links and signaling client (the agent's loop). */
  private readonly driver: HostDriver;
  private readonly waiters = new Map<string, (event: NodeEvent) => void>();

  constructor(
    private readonly identity: PageIdentity,
    signalUrl: string,
    iceServers: readonly IceServer[],
    private readonly events: PagePeerEvents,
  ) {
    const { cert, certText, ca, seed } = identity;
    const address = cert.address!;
    const incarnation = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"));
    const nodeId = nodeIdFor(cert, incarnation.join(""));
    this.self = { nodeId, name: cert.name, ip: formatIpv4Address(address.address) };
    const trust = new NetworkTrust({ network: cert.network, ca, nodeId, certText, seed });
    this.trust = trust;
    this.node = new OverlayNode({
      self: this.self,
      network: cert.network,
      prefixLength: address.prefixLength,
      random: Math.random,
      // Keys of relayed paths (relays.ts) need unpredictable bytes.
      randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
      limits: { maxLinks: MAX_LINKS, mtu: PAGE_MTU, multicast: false },
      trust,
    });
    this.host = new VirtualHost(address.address, (packet) =>
      this.driver.step((at) => this.node.handleHostPacket(at, packet)),
    );
    // Joins carry the current certificate: the renewed one once there is one.
    const credential = () =>
      signJoinProof(
        { network: cert.network, nodeId, ip: this.self.ip, timeMs: Date.now() },
        this.identity.certText,
        seed,
      );
    this.driver = new HostDriver({
      node: this.node,
      links: createBrowserLinkFactory(),
      iceServers,
      subnet: address,
      signaling: {
        url: signalUrl,
        openSocket: openBrowserSignalSocket,
        network: cert.network,
        self: this.self,
        credential,
        maxBackoffMs: MAX_SIGNAL_BACKOFF_MS,
      },
      hooks: {
        deliver: (borrowed) => {
          // The virtual host may answer (an echo reply): after this turn, not inside it.
          const packet = borrowed.slice();
          queueMicrotask(() => this.host.deliver(packet));
        },
        onEvent: (event) => this.handleEvent(event),
        onSignaling: (up) => events.onSignaling(up),
        onRefused: (message, code) => events.onRefused(code, message),
      },
    });
  }

  start(): void {
    this.driver.start();
  }

  /**
   * Closes every link (telling the peers, so the ring repairs at once) and leaves signaling; the
   * links go once their close envelopes had a moment to leave.
   */
  stop(): void {
    void this.driver.stop();
  }

  /** Switches to a renewed certificate (same key, name, address); peers are told. */
  renew(cert: Certificate, certText: string): void {
    this.identity.cert = cert;
    this.identity.certText = certText;
    this.trust.guard.renew(certText, this.identity.seed);
    this.driver.step((at) => this.node.handleCertificateRenewed(at));
  }

  /** Data frames the links refused (over their high-water mark): the throughput test backs off on these. */
  backpressureDrops(): number {
    return this.driver.hostDrops.get("send-backpressure");
  }

  get certificate(): Certificate {
    return this.identity.cert;
  }

  /** Runs `call` in the core and resolves with the event `match` picks out of what follows. */
  request(call: (at: Instant) => number, kind: "trace-result" | "ping-result" | "status-result"): Promise<NodeEvent> {
    return new Promise((resolve) => {
      this.driver.step((at) => {
        const id = call(at);
        this.waiters.set(`${kind}:${id}`, resolve);
      });
    });
  }

  /** Forgets a request nobody waits for any more (timed out). */
  forget(kind: string, id: number): void {
    this.waiters.delete(`${kind}:${id}`);
  }

  /** This page's report: its links as a peer table, and its counters. */
  async report(): Promise<StatusReport> {
    const now = performance.now();
    const core = this.node.status(now);
    const wall = Date.now();
    const peers = await Promise.all(
      core.links
        .filter((l) => l.state === "up")
        .map(async (l) => peerRowOf(l, pathKind(await this.driver.linkStats(l.linkId)), wall)),
    );
    const counters = { ...core.drops, ...this.driver.hostDrops.toJSON(), ...this.host.counters };
    return { ...this.self, role: "console", peers, counters, atMs: wall };
  }

  private handleEvent(event: NodeEvent): void {
    if (event.kind === "status-asked") {
      this.report().then((report) => this.driver.step((at) => this.node.answerStatus(at, event.handle, report)));
      return;
    }
    if (event.kind === "trace-result" || event.kind === "ping-result" || event.kind === "status-result") {
      const key = `${event.kind}:${event.id}`;
      const waiter = this.waiters.get(key);
      this.waiters.delete(key);
      waiter?.(event);
      return;
    }
    this.events.onEvent(event);
  }
}
