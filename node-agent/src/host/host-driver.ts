/**
 * The loop that drives the overlay core for a host shell, the same in the agent (Linux, TUN) and the
 * console page (browser, virtual host): it reads the clocks once per turn, calls into the core,
 * carries out every action the core queued before anything else can run, keeps the one timer the
 * core asks for, owns the peer links and the signaling client. It imports nothing of Node or the DOM
 * (`@ipop/agent/host`); what differs between hosts comes in through {@link HostHooks}.
 */
import {
  type Action,
  Counters,
  FrameBatcher,
  type Instant,
  type Ipv4Interface,
  inSubnet,
  type NodeEvent,
  type OverlayNode,
  parseIpv4Address,
} from "@ipop/shared";
import type { IceServer } from "../link/ice-servers.js";
import { MAX_TRACK_FRAME_BYTES } from "../link/ip-track-rtp.js";
import type { LinkChannel, LinkTransportStats, PeerLink, PeerLinkFactory } from "../link/peer-link.js";
import { parseLinkSignal } from "../link-signal.js";
import { SignalingClient, type SignalingClientOptions } from "../signaling-client.js";
import { type HostLogger, SILENT_LOGGER } from "./host-logger.js";

/** How long a stopping host keeps its links open for the close envelopes the core queued on them. */
const LINK_CLOSE_GRACE_MS = 200;

/** What differs between hosts: where delivered packets go and who hears of events. */
export interface HostHooks {
  /**
   * A packet the core delivers to this host (the TUN device, the page's virtual host). The bytes are
   * borrowed: valid only until the hook returns. The core must not be called from inside the hook;
   * an answer goes in later (a microtask) through {@link HostDriver.step}.
   */
  deliver(packet: Uint8Array): void;
  /** Every event the core emits, as it is drained (the core must not be called from inside). */
  onEvent(event: NodeEvent): void;
  /** Joined the signaling server (true), or lost it (false; the client is already retrying). */
  onSignaling?(up: boolean): void;
  /** The signaling server refused us for good (address taken, certificate refused or revoked). */
  onRefused(message: string, code: string): void;
}

export interface HostDriverOptions {
  /** The core this driver owns from now on: nothing else calls into it. */
  readonly node: OverlayNode;
  readonly links: PeerLinkFactory;
  /** STUN/TURN servers of the host's own (the signaling server may add more). */
  readonly iceServers: readonly IceServer[];
  /** The host's overlay subnet: ICE never picks a path through the overlay itself. */
  readonly subnet: Ipv4Interface;
  readonly signaling: SignalingClientOptions;
  /** Default: silent. */
  readonly logger?: HostLogger;
  readonly hooks: HostHooks;
}

/**
 * The one owner of a core's state in a host. Every event (a link message, a signaling message, a
 * timer, something the host sends) calls into the core and then drains its actions at once, so
 * buffers the core borrowed are still valid when acted on.
 */
export class HostDriver {
  readonly node: OverlayNode;
  readonly signaling: SignalingClient;
  /** Drops the host counts itself (backpressure, unsent signals, bad link signals), by reason. */
  readonly hostDrops = new Counters();
  private readonly links = new Map<number, PeerLink>();
  private readonly linkSendDrops = new Map<number, Counters>();
  /** Packs the data frames of one turn into as few messages per link as it can (see drain). */
  private readonly batcher = new FrameBatcher((linkId, message, frames) => {
    if (this.links.get(linkId)?.send("data", message) !== true) this.countSendDrop(linkId, "data", frames);
  });
  /**
   * The same for links with a datagram path (ndc's IP track), in batches that fit one datagram:
   * full-size packets go alone (uncopied), small ones (ACKs, small UDP) share a packet, as they
   * share a channel message. What the path does not take goes on the data channel as it is.
   */
  private readonly datagramBatcher = new FrameBatcher((linkId, message, frames) => {
    const link = this.links.get(linkId);
    const verdict = link?.sendDatagram?.(message) ?? "no-path";
    if (verdict === "sent") return;
    if (verdict === "dropped" || link?.send("data", message) !== true) this.countSendDrop(linkId, "data", frames);
  }, MAX_TRACK_FRAME_BYTES);
  /** TURN/STUN servers the signaling server handed out (`ice-servers`), the newest ones. */
  private signalIceServers: readonly IceServer[] = [];
  private readonly logger: HostLogger;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** See instant(). */
  private turn: Instant | null = null;
  private isStopped = false;
  /** Set by stop(): links the core closes stay open a moment so its close envelopes get through. */
  private shuttingDown = false;

  constructor(private readonly options: HostDriverOptions) {
    this.node = options.node;
    this.logger = options.logger ?? SILENT_LOGGER;
    const { hooks } = options;
    this.signaling = new SignalingClient(options.signaling, {
      onWelcome: (members) => {
        this.step((at) => this.node.handleSignalingUp(at, members));
        hooks.onSignaling?.(true);
      },
      onMemberJoined: (member) => this.step((at) => this.node.handleMemberJoined(at, member)),
      onMemberLeft: (nodeId) => this.step((at) => this.node.handleMemberLeft(at, nodeId)),
      onMessage: (from, body) => this.step((at) => this.node.handleSignal(at, from, body)),
      onRevocations: (list) => this.step((at) => this.node.handleRevocationList(at, list)),
      // Links set up from now on use them; links already up keep the servers they started with.
      onIceServers: (servers) => {
        this.signalIceServers = servers;
      },
      onDown: () => {
        this.step((at) => this.node.handleSignalingDown(at));
        hooks.onSignaling?.(false);
      },
      onRefused: (message, code) => hooks.onRefused(message, code),
    });
  }

  /** True once stop() began: the core is no longer called. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** Connects to the signaling server; links follow as the core asks for them. */
  start(): void {
    this.signaling.start();
  }

  /**
   * Tells the peers we leave (the ring repairs at once), leaves the signaling server and closes the
   * links once the close envelopes had a moment to leave.
   */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    // The core queues a close envelope on each link's control channel and asks for the link to be
    // closed; closing the channel at once can overtake the envelope (the peer then sees only the
    // channel go), so the links stay open while the envelopes leave.
    this.shuttingDown = true;
    this.step((at) => this.node.shutdown(at));
    this.isStopped = true;
    clearTimeout(this.timer);
    await Promise.all([this.signaling.close(), new Promise((resolve) => setTimeout(resolve, LINK_CLOSE_GRACE_MS))]);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  /**
   * The time of the events being handled: the clocks are read once, at the first event after a
   * drain, so a whole batch of packets shares one reading; drain() forgets it.
   */
  instant(): Instant {
    this.turn ??= { mono: performance.now(), wall: Date.now() };
    return this.turn;
  }

  /** Calls into the core with the current time, then carries out what it asked for. */
  step(call: (at: Instant) => void): void {
    if (this.isStopped) return;
    call(this.instant());
    this.drain();
  }

  /**
   * Carries out every action the core queued, sends the batched data frames and arms the timer.
   * A host that feeds the core a batch itself (the agent's TUN reads) calls this after the batch.
   */
  drain(): void {
    for (let action = this.node.pollAction(); action !== undefined; action = this.node.pollAction()) {
      this.perform(action);
    }
    this.datagramBatcher.flush();
    this.batcher.flush();
    this.turn = null;
    this.armTimer();
  }

  /** The transport's view of a link (selected candidate pair, bytes), if the link is there. */
  async linkStats(linkId: number): Promise<LinkTransportStats | undefined> {
    const link = this.links.get(linkId);
    return link === undefined ? undefined : link.stats().catch(() => undefined);
  }

  /** Frames this host could not hand to a link, by reason. */
  sendDropsOf(linkId: number): Record<string, number> | undefined {
    return this.linkSendDrops.get(linkId)?.toJSON();
  }

  private perform(action: Action): void {
    switch (action.type) {
      case "send-frame": {
        if (action.channel === "data") {
          // Only a link whose datagram path takes frames now: the others keep 16 KiB batches.
          if (this.links.get(action.linkId)?.datagramsReady?.() === true) {
            this.datagramBatcher.add(action.linkId, action.frame);
          } else {
            this.batcher.add(action.linkId, action.frame);
          }
          return;
        }
        const link = this.links.get(action.linkId);
        if (link === undefined || !link.send(action.channel, action.frame))
          this.countSendDrop(action.linkId, action.channel);
        return;
      }
      case "deliver":
        this.options.hooks.deliver(action.packet);
        return;
      case "open-link":
        this.openLink(action.linkId, action.role);
        return;
      case "link-signal": {
        const signal = parseLinkSignal(action.payload);
        if (typeof signal === "string") {
          this.hostDrops.add("signal-bad-payload");
          this.logger.warn({ linkId: action.linkId, reason: signal }, "dropped malformed link signal");
          return;
        }
        this.links.get(action.linkId)?.handleSignal(signal);
        return;
      }
      case "close-link":
        if (this.shuttingDown) return; // stop() closes them once the close envelopes are out
        this.links.get(action.linkId)?.close();
        this.links.delete(action.linkId);
        this.linkSendDrops.delete(action.linkId);
        this.batcher.forget(action.linkId);
        this.datagramBatcher.forget(action.linkId);
        return;
      case "send-signal":
        if (!this.signaling.send(action.to, action.body)) this.hostDrops.add("signal-unsent");
        return;
      case "event":
        this.options.hooks.onEvent(action.event);
        return;
    }
  }

  private openLink(linkId: number, role: "offerer" | "answerer"): void {
    const { subnet } = this.options;
    const link = this.options.links.create(
      {
        role,
        iceServers: [...this.options.iceServers, ...this.signalIceServers],
        // Never let ICE pick a path through the overlay itself.
        isForbiddenAddress: (ip) => {
          const address = parseIpv4Address(ip);
          return address !== null && inSubnet(address, subnet);
        },
      },
      {
        onSignal: (signal) => this.step((at) => this.node.handleLinkSignal(at, linkId, signal)),
        onOpen: () => this.step((at) => this.node.handleLinkUp(at, linkId)),
        // The packet path: no closure per message, unlike the rarer events above.
        onMessage: (_channel, message) => {
          if (this.isStopped) return;
          this.node.handleFrame(this.instant(), linkId, message);
          this.drain();
        },
        onClose: (reason) => {
          // A link the remote end closed gets no close-link action: forget its batch state here.
          this.batcher.forget(linkId);
          this.datagramBatcher.forget(linkId);
          if (this.links.delete(linkId)) this.step((at) => this.node.handleLinkDown(at, linkId, reason));
        },
      },
    );
    this.links.set(linkId, link);
  }

  private countSendDrop(linkId: number, channel: LinkChannel, frames = 1): void {
    let counters = this.linkSendDrops.get(linkId);
    if (counters === undefined) {
      counters = new Counters();
      this.linkSendDrops.set(linkId, counters);
    }
    const reason = channel === "data" ? "send-backpressure" : "control-unsent";
    counters.add(reason, frames);
    this.hostDrops.add(reason, frames);
  }

  private armTimer(): void {
    const at = this.node.nextTimeout() ?? Number.POSITIVE_INFINITY;
    if (at === this.timerAt || this.isStopped) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(
      () => {
        this.timerAt = Number.POSITIVE_INFINITY;
        this.step((at) => this.node.handleTimeout(at));
      },
      Math.max(0, at - performance.now()),
    );
  }
}
