import {
  type Action,
  FrameBatcher,
  FrameType,
  formatIpv4Address,
  type Instant,
  type MemberInfo,
  type OverlayLimits,
  OverlayNode,
  ringAddress,
  type Timing,
} from "@ipop/shared";
import { seededRandom, UnsignedTrust } from "@ipop/shared/testing";
import { EventQueue } from "./event-queue.js";
import { SignalingModel } from "./signaling-model.js";

/** One simulated host: a real OverlayNode and the bookkeeping its host shell would do. */
export interface SimNode {
  readonly id: string;
  readonly index: number;
  readonly member: MemberInfo;
  readonly core: OverlayNode;
  alive: boolean;
  timerAt: number;
  timerGeneration: number;
  /** This node's end of each wired link, by its link id: where its frames go. */
  readonly wires: Map<number, WireEnd>;
}

interface WireEnd {
  readonly node: SimNode;
  readonly linkId: number;
  readonly latencyMs: number;
}

export interface WorldOptions {
  readonly seed: number;
  readonly network?: string;
  /** Members a welcome lists: those closest on the ring to the newcomer. */
  readonly welcomeSize?: number;
  readonly timing?: Partial<Timing>;
  readonly limits?: Partial<OverlayLimits>;
}

/** Observers of the packet path, for probes. */
export interface WorldHooks {
  onSend?(from: SimNode, frame: Uint8Array): void;
  onDeliver?(at: SimNode, packet: Uint8Array): void;
}

/** The simulated network is 10.0.0.0/8: room for 16 million nodes, so 100,000 fit. */
const NETWORK_BASE = 10 << 24;
const NETWORK_PREFIX_LENGTH = 8;
/** The most nodes the simulated network has addresses for (node numbers start at 1). */
export const MAX_SIM_NODES = 2 ** (32 - NETWORK_PREFIX_LENGTH) - 2;
/** One-way latency to the signaling server. */
const SIGNALING_LATENCY_MS = 10;

/**
 * The simulated world: N copies of the real core on virtual time, joined by in-memory links whose
 * one-way latency (2-40 ms) is fixed per pair, and a signaling server model. WebRTC setup is modelled
 * as: the offer and answer cross through whatever path the core chose (server or overlay), then the
 * link opens after one more one-way latency. Deterministic for a given seed.
 */
export class World {
  readonly queue = new EventQueue();
  readonly random: () => number;
  readonly nodes = new Map<string, SimNode>();
  readonly signaling: SignalingModel;
  signalingUp = true;
  hooks: WorldHooks = {};
  /** While set, frames between nodes on different sides are lost. */
  private partition: ((a: SimNode, b: SimNode) => boolean) | undefined;
  private readonly pendingOffers = new Map<number, { node: SimNode; linkId: number }>();
  private nextToken = 1;
  readonly network: string;
  readonly counters = { frames: 0, lostFrames: 0, linkUps: 0, linkDowns: 0, signals: 0, keepalivesAnswered: 0 };
  /** Why links closed, as the closing node said. */
  readonly downReasons = new Map<string, number>();
  /** The node whose actions `call` is carrying out; the batcher sends on its links. */
  private calling: SimNode | undefined;
  /**
   * Packs the data frames of one call into one message per link, as the agent does. One for the
   * whole world, not one per node: calls never nest and each ends with a flush, and a batcher's
   * 16 KiB buffer per node was 1.6 GB at 100,000 nodes.
   */
  private readonly batcher = new FrameBatcher((linkId, message, frames) =>
    this.transmit(this.calling!, linkId, message, frames),
  );

  constructor(private readonly options: WorldOptions) {
    this.random = seededRandom(options.seed);
    this.network = options.network ?? "sim";
    this.signaling = new SignalingModel(options.welcomeSize ?? 16);
  }

  get now(): number {
    return this.queue.now;
  }

  /** The virtual address of node number `index` (1-based). */
  static address(index: number): number {
    return (NETWORK_BASE + index) >>> 0;
  }

  /** Starts node `index` and joins it through the signaling server. */
  addNode(index: number): SimNode {
    const member: MemberInfo = { nodeId: `n${index}`, name: `h${index}`, ip: formatIpv4Address(World.address(index)) };
    const core = new OverlayNode({
      self: member,
      network: this.network,
      prefixLength: NETWORK_PREFIX_LENGTH,
      random: this.random,
      // The simulator measures routing and link management; signatures would only slow it down.
      trust: new UnsignedTrust(member),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.limits ? { limits: this.options.limits } : {}),
    });
    const node: SimNode = {
      id: member.nodeId,
      index,
      member,
      core,
      alive: true,
      timerAt: Infinity,
      timerGeneration: 0,
      wires: new Map(),
    };
    this.nodes.set(node.id, node);
    if (this.signalingUp) this.joinSignaling(node);
    return node;
  }

  private joinSignaling(node: SimNode): void {
    const { welcome, notify } = this.signaling.join(node.id, node.core.ring, node.member);
    this.queue.at(this.now + 2 * SIGNALING_LATENCY_MS, () =>
      this.call(node, (at) => node.core.handleSignalingUp(at, welcome)),
    );
    for (const id of notify) {
      const other = this.nodes.get(id);
      if (other !== undefined) {
        this.queue.at(this.now + 2 * SIGNALING_LATENCY_MS, () =>
          this.call(other, (at) => other.core.handleMemberJoined(at, node.member)),
        );
      }
    }
  }

  /** The node vanishes without a word (a crash): its links go silent, the server drops it. */
  crash(id: string): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    node.alive = false;
    this.nodes.delete(id);
    this.signaling.leave(id);
  }

  /** The node shuts down cleanly: closes its links, telling its peers, then leaves. */
  leave(id: string): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.call(node, (at) => node.core.shutdown(at));
    this.crash(id);
  }

  setSignaling(up: boolean): void {
    if (up === this.signalingUp) return;
    this.signalingUp = up;
    if (!up) {
      this.signaling.clear();
      for (const node of this.nodes.values()) this.call(node, (at) => node.core.handleSignalingDown(at));
    } else {
      for (const node of this.nodes.values()) this.joinSignaling(node);
    }
  }

  /** Loses every frame between nodes `separated(a, b)` says are apart, until `heal()`. */
  split(separated: (a: SimNode, b: SimNode) => boolean): void {
    this.partition = separated;
  }

  heal(): void {
    this.partition = undefined;
  }

  run(ms: number): void {
    this.queue.runUntil(this.now + ms);
  }

  /**
   * Calls into a node's core at the current virtual time (the wall clock follows it: the simulated
   * nodes' trust ignores it), then carries out its actions.
   */
  call(node: SimNode, event: (at: Instant) => void): void {
    if (!node.alive) return;
    this.calling = node;
    event({ mono: this.now, wall: this.now });
    for (let action = node.core.pollAction(); action !== undefined; action = node.core.pollAction()) {
      this.perform(node, action);
    }
    this.batcher.flush();
    this.arm(node);
  }

  private arm(node: SimNode): void {
    const at = node.core.nextTimeout();
    if (at === undefined || at === node.timerAt) return;
    node.timerAt = at;
    const generation = ++node.timerGeneration;
    this.queue.at(at, () => {
      if (node.timerGeneration !== generation) return;
      node.timerAt = Infinity;
      this.call(node, (at) => node.core.handleTimeout(at));
    });
  }

  private perform(node: SimNode, action: Action): void {
    switch (action.type) {
      case "send-frame":
        this.counters.frames++;
        this.hooks.onSend?.(node, action.frame);
        if (action.channel === "data") this.batcher.add(action.linkId, action.frame);
        else this.transmit(node, action.linkId, action.frame, 1);
        return;
      case "deliver":
        this.hooks.onDeliver?.(node, action.packet);
        return;
      case "open-link":
        if (action.role === "offerer") {
          const token = this.nextToken++;
          this.pendingOffers.set(token, { node, linkId: action.linkId });
          this.queue.at(this.now, () =>
            this.call(node, (at) => node.core.handleLinkSignal(at, action.linkId, { token })),
          );
        }
        return;
      case "link-signal":
        this.linkSignal(node, action.linkId, action.payload as { token?: number; answer?: number });
        return;
      case "close-link": {
        this.batcher.forget(action.linkId);
        const wire = node.wires.get(action.linkId);
        node.wires.delete(action.linkId);
        if (wire !== undefined) {
          wire.node.wires.delete(wire.linkId);
          this.queue.at(this.now + wire.latencyMs, () =>
            this.call(wire.node, (at) => wire.node.core.handleLinkDown(at, wire.linkId, "transport-closed")),
          );
        }
        return;
      }
      case "send-signal": {
        const target = this.nodes.get(action.to);
        if (!this.signalingUp || target === undefined || !this.signaling.has(target.id)) return;
        this.counters.signals++;
        this.queue.at(this.now + 2 * SIGNALING_LATENCY_MS, () =>
          this.call(target, (at) => target.core.handleSignal(at, node.id, action.body)),
        );
        return;
      }
      case "event":
        if (action.event.kind === "link-up") this.counters.linkUps++;
        else if (action.event.kind === "link-down") {
          this.counters.linkDowns++;
          const reason = action.event.reason.split(":")[0]!;
          this.downReasons.set(reason, (this.downReasons.get(reason) ?? 0) + 1);
        }
        return;
    }
  }

  /** Sends one message holding `frames` frames over a link, unless the link or the partition loses it. */
  private transmit(node: SimNode, linkId: number, message: Uint8Array, frames: number): void {
    const wire = node.wires.get(linkId);
    if (wire === undefined || !wire.node.alive || this.partition?.(node, wire.node)) {
      this.counters.lostFrames += frames;
      return;
    }
    // A copy: the sender's batcher reuses its buffer.
    const copy = message.slice();
    if (copy[1] === FrameType.ping) {
      this.answerKeepalive(node, linkId, wire, copy);
      return;
    }
    this.queue.at(this.now + wire.latencyMs, () =>
      this.call(wire.node, (at) => wire.node.core.handleFrame(at, wire.linkId, copy)),
    );
  }

  /**
   * A keepalive ping is answered by the peer's end of the link, not by its core: the core's answer
   * is the same bytes with the type turned into pong (`LinkLifecycle.handleKeepalive`), and the
   * peer's own pings, answered the same way, keep its view of the link fresh. This halves the
   * calls keepalives cost (over half of all frames): the pong comes back one round trip later
   * only if the peer is still alive and linked then, so a crash or a closed link is noticed as
   * before.
   */
  private answerKeepalive(node: SimNode, linkId: number, wire: WireEnd, ping: Uint8Array): void {
    this.counters.keepalivesAnswered++;
    ping[1] = FrameType.pong;
    this.queue.at(this.now + 2 * wire.latencyMs, () => {
      if (!wire.node.alive || wire.node.wires.get(wire.linkId)?.node !== node || this.partition?.(node, wire.node))
        return;
      this.call(node, (at) => node.core.handleFrame(at, linkId, ping));
    });
  }

  /** The simulated WebRTC handshake: an offer wires the two ends, the answer opens them. */
  private linkSignal(node: SimNode, linkId: number, payload: { token?: number; answer?: number }): void {
    if (payload.answer !== undefined) {
      const wire = node.wires.get(linkId);
      if (wire === undefined) return;
      this.queue.at(this.now + wire.latencyMs, () => this.call(node, (at) => node.core.handleLinkUp(at, linkId)));
      return;
    }
    const offerer = payload.token === undefined ? undefined : this.pendingOffers.get(payload.token);
    if (offerer === undefined || !offerer.node.alive) return;
    this.pendingOffers.delete(payload.token!);
    const latencyMs = pairLatency(offerer.node.index, node.index);
    node.wires.set(linkId, { node: offerer.node, linkId: offerer.linkId, latencyMs });
    offerer.node.wires.set(offerer.linkId, { node, linkId, latencyMs });
    this.queue.at(this.now, () =>
      this.call(node, (at) => node.core.handleLinkSignal(at, linkId, { answer: payload.token })),
    );
    this.queue.at(this.now + 2 * latencyMs, () => this.call(node, (at) => node.core.handleLinkUp(at, linkId)));
  }

  /** Ring address of a node's virtual IP in this network. */
  ringOf(index: number): number {
    return ringAddress(this.network, World.address(index));
  }
}

/** One-way latency between two nodes: 2-40 ms, fixed per pair, independent of the seed. */
export function pairLatency(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return 2 + ((h >>> 0) % 39);
}
