import type { Action, NodeEvent } from "../actions.js";
import { FrameBatcher } from "../frame-batcher.js";
import type { Instant } from "../instant.js";
import type { NodeTrust } from "../node-trust.js";
import { OverlayNode } from "../overlay-node.js";
import type { MemberInfo } from "../signaling-protocol.js";
import type { OverlayLimits, Timing } from "../timing.js";
import { seededRandom } from "./random.js";
import { UnsignedTrust } from "./unsigned-trust.js";

interface LinkEnd {
  readonly node: string;
  readonly linkId: number;
}

/**
 * Several real OverlayNodes wired together in memory on virtual time: a signaling server that
 * forwards envelopes, and links that connect as soon as offer and answer have crossed. Data frames
 * go through a `FrameBatcher` per node, as in the agent. For tests of the core's own logic; the
 * WebRTC links themselves are tested against the real libraries elsewhere.
 */
export class MiniNet {
  now = 0;
  /** Wall-clock milliseconds at virtual time 0 (certificates in tests are valid around a date). */
  wallStartMs = 0;
  signalingUp = true;
  readonly nodes = new Map<string, OverlayNode>();
  private readonly batchers = new Map<string, FrameBatcher>();
  readonly delivered = new Map<string, Uint8Array[]>();
  readonly events: Array<{ node: string; event: NodeEvent }> = [];
  /** `${node}:${linkId}` -> the other end */
  private readonly wires = new Map<string, LinkEnd>();
  /** Offers waiting for their answerer: offerer end keyed by the payload token. */
  private readonly pendingOffers = new Map<string, LinkEnd>();
  private nextToken = 1;
  /** Pairs of node ids (`a|b`, sorted) whose links cannot connect, and whose up links go silent. */
  private readonly blocked = new Set<string>();

  private readonly random: () => number;

  constructor(
    private readonly prefixLength = 16,
    private readonly timing: Partial<Timing> = {},
    private readonly limits: Partial<OverlayLimits> = {},
    seed = 1,
    /** How each node seals and checks envelopes; certificates are beside the point of most tests. */
    private readonly trustFor: (member: MemberInfo) => NodeTrust = (member) => new UnsignedTrust(member),
  ) {
    this.random = seededRandom(seed);
  }

  /** The current virtual instant, as events carry it. */
  at(): Instant {
    return { mono: this.now, wall: this.wallStartMs + this.now };
  }

  /** Starts a node and joins it to the signaling server. */
  join(member: MemberInfo): OverlayNode {
    const node = new OverlayNode({
      self: member,
      network: "test",
      prefixLength: this.prefixLength,
      timing: this.timing,
      limits: this.limits,
      random: this.random,
      randomBytes: (length) => seededBytes(this.random, length),
      trust: this.trustFor(member),
    });
    const others = [...this.nodes.values()].map((n) => n.self);
    this.nodes.set(member.nodeId, node);
    this.batchers.set(
      member.nodeId,
      new FrameBatcher((linkId, message) => this.transmit(member.nodeId, linkId, message)),
    );
    this.delivered.set(member.nodeId, []);
    if (this.signalingUp) {
      node.handleSignalingUp(this.at(), others);
      for (const other of this.nodes.values()) if (other !== node) other.handleMemberJoined(this.at(), member);
    }
    this.settle();
    return node;
  }

  /** The node vanishes without a word, as on SIGKILL: its links go silent. */
  crash(nodeId: string): void {
    this.nodes.delete(nodeId);
    this.batchers.delete(nodeId);
    for (const key of [...this.wires.keys()]) if (key.startsWith(`${nodeId}:`)) this.wires.delete(key);
    if (this.signalingUp) for (const other of this.nodes.values()) other.handleMemberLeft(this.at(), nodeId);
    this.settle();
  }

  /**
   * From now on `a` and `b` cannot link directly, as two nodes behind symmetric NATs: offers between
   * them never connect, and a link they had goes silent (it dies of keepalive timeout).
   */
  block(a: string, b: string): void {
    this.blocked.add(pairKey(a, b));
  }

  /** `a` and `b` can link directly again. */
  unblock(a: string, b: string): void {
    this.blocked.delete(pairKey(a, b));
  }

  setSignaling(up: boolean): void {
    this.signalingUp = up;
    for (const node of this.nodes.values()) {
      if (up)
        node.handleSignalingUp(
          this.at(),
          [...this.nodes.values()].filter((n) => n !== node).map((n) => n.self),
        );
      else node.handleSignalingDown(this.at());
    }
    this.settle();
  }

  /** Advances virtual time by `ms`, firing every timeout due on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next = end;
      for (const node of this.nodes.values()) next = Math.min(next, node.nextTimeout() ?? end);
      this.now = Math.max(this.now, next);
      for (const node of this.nodes.values()) {
        const due = node.nextTimeout();
        if (due !== undefined && due <= this.now) node.handleTimeout(this.at());
      }
      this.settle();
      if (this.now >= end) return;
    }
  }

  /**
   * Carries out queued actions of every node, and timeouts due now (hosts fire those at once),
   * until nothing is left to do.
   */
  settle(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const [id, node] of [...this.nodes]) {
        for (let action = node.pollAction(); action !== undefined; action = node.pollAction()) {
          progress = true;
          this.perform(id, node, action);
        }
        this.batchers.get(id)?.flush();
        const due = node.nextTimeout();
        if (due !== undefined && due <= this.now) {
          node.handleTimeout(this.at());
          progress = true;
        }
      }
    }
  }

  private perform(id: string, node: OverlayNode, action: Action): void {
    switch (action.type) {
      case "open-link":
        if (action.role === "offerer") {
          const token = `offer-${this.nextToken++}`;
          this.pendingOffers.set(token, { node: id, linkId: action.linkId });
          node.handleLinkSignal(this.at(), action.linkId, { token });
        }
        return;
      case "link-signal": {
        const payload = action.payload as { token?: string; answer?: boolean };
        if (payload.answer) {
          // The offerer took the answer: both ends open now, as a real connection does only once the
          // answer is applied (an answer the offerer refused leaves the answerer's end connecting).
          node.handleLinkUp(this.at(), action.linkId);
          const answerer = this.wires.get(`${id}:${action.linkId}`);
          if (answerer !== undefined) this.nodes.get(answerer.node)?.handleLinkUp(this.at(), answerer.linkId);
          return;
        }
        const offerer = payload.token === undefined ? undefined : this.pendingOffers.get(payload.token);
        if (offerer === undefined || this.blocked.has(pairKey(id, offerer.node))) return;
        this.pendingOffers.delete(payload.token!);
        this.wires.set(`${id}:${action.linkId}`, offerer);
        this.wires.set(`${offerer.node}:${offerer.linkId}`, { node: id, linkId: action.linkId });
        node.handleLinkSignal(this.at(), action.linkId, { answer: true });
        return;
      }
      case "send-frame":
        if (action.channel === "data") this.batchers.get(id)?.add(action.linkId, action.frame);
        else this.transmit(id, action.linkId, action.frame);
        return;
      case "deliver":
        this.delivered.get(id)!.push(action.packet.slice());
        return;
      case "close-link": {
        this.batchers.get(id)?.forget(action.linkId);
        const key = `${id}:${action.linkId}`;
        const peer = this.wires.get(key);
        this.wires.delete(key);
        if (peer !== undefined) {
          this.wires.delete(`${peer.node}:${peer.linkId}`);
          this.nodes.get(peer.node)?.handleLinkDown(this.at(), peer.linkId, "transport-closed");
        }
        return;
      }
      case "send-signal":
        if (this.signalingUp) this.nodes.get(action.to)?.handleSignal(this.at(), id, structuredClone(action.body));
        return;
      case "event":
        this.events.push({ node: id, event: action.event });
        return;
    }
  }

  /** Hands a message to the other end of a link, as a copy (senders reuse their buffers). */
  private transmit(from: string, linkId: number, message: Uint8Array): void {
    const peer = this.wires.get(`${from}:${linkId}`);
    if (peer !== undefined && !this.blocked.has(pairKey(from, peer.node)))
      this.nodes.get(peer.node)?.handleFrame(this.at(), peer.linkId, message.slice());
  }
}

export function member(n: number, nodeId = `node${String(n).padStart(3, "0")}`): MemberInfo {
  return { nodeId, name: `h${n}`, ip: `10.88.0.${n}` };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Bytes from the seeded generator: deterministic keys for tests, never for real use. */
function seededBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}
