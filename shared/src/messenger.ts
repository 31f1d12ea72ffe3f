import { encodeFrame, encodeRoutedFrame, FrameType, RoutedKind } from "./frame.js";
import type { LinkRecord } from "./link-record.js";
import type { NextHops } from "./next-hops.js";
import type { NodeContext } from "./node-context.js";
import { encodeOverlayMessage, type OverlayMessage } from "./overlay-message.js";
import type { RelayHop } from "./relay-route.js";
import type { Relays } from "./relays.js";
import type { RouterEvents } from "./router.js";

/** Where something this node sends to itself ends up: it is the closest node to the destination. */
export type MessengerEvents = Pick<RouterEvents, "routedMessage" | "traceArrived" | "pingArrived">;

/**
 * Sends this node's own overlay messages: to the peer at the other end of a link, or routed towards
 * a ring address (setup envelopes, finds, answers, traces, pings, status requests). Frames passing
 * through are the Router's; both pick hops with the same {@link NextHops}.
 */
export class Messenger {
  constructor(
    private readonly ctx: NodeContext,
    private readonly hops: NextHops,
    private readonly events: MessengerEvents,
    /** Paths to ring neighbours reached through a relay: treated as links. */
    private readonly relays: () => Relays,
  ) {}

  /** Routes an overlay message towards `destination` (handled here if this node is closest). */
  sendRouted(now: number, destination: number, message: OverlayMessage): void {
    const first = this.hops.first(now, destination, message.t !== "find");
    const next = this.hops.relayed(destination, first) ?? first;
    if (next === undefined) {
      this.events.routedMessage(now, message, this.ctx.ring, destination === this.ctx.ring);
      return;
    }
    this.sendRoutedBytes(next, RoutedKind.message, destination, encodeOverlayMessage(message));
  }

  /**
   * Sends a trace (trace-path.ts), or an overlay ping with `kind` ping, towards `destination`, or
   * ends it here if this node is closest.
   */
  sendTrace(
    now: number,
    destination: number,
    payload: Uint8Array,
    kind: typeof RoutedKind.trace | typeof RoutedKind.ping = RoutedKind.trace,
  ): void {
    const first = this.hops.first(now, destination, true);
    const next = this.hops.relayed(destination, first) ?? first;
    if (next === undefined) {
      const arrived = kind === RoutedKind.ping ? this.events.pingArrived : this.events.traceArrived;
      arrived.call(this.events, now, payload, this.ctx.ring, destination === this.ctx.ring);
      return;
    }
    this.sendRoutedBytes(next, kind, destination, payload);
  }

  /** Sends an overlay message routed to `destination` with `link` as its first hop (relay handshakes). */
  sendRoutedVia(link: LinkRecord, destination: number, message: OverlayMessage): void {
    this.sendRoutedBytes(link, RoutedKind.message, destination, encodeOverlayMessage(message));
  }

  /** The link routed frames from ring address `source` came in on lately, if it is still up. */
  wayBack(now: number, source: number): LinkRecord | undefined {
    return this.hops.wayBack(now, source);
  }

  /** Forgets the ways back over a link that closed. */
  forgetLink(linkId: number): void {
    this.hops.forgetLink(linkId);
  }

  /** Sends one overlay message to the peer at the other end of each of `links`, encoding it once. */
  sendLinkMessages(links: readonly LinkRecord[], message: OverlayMessage): void {
    const frame = encodeFrame(FrameType.message, encodeOverlayMessage(message));
    for (const link of links) this.ctx.actions.sendFrame(link.id, "control", frame);
  }

  /** Sends an overlay message to the peer at the other end of `link`. */
  sendLinkMessage(link: LinkRecord, message: OverlayMessage): void {
    this.ctx.actions.sendFrame(link.id, "control", encodeFrame(FrameType.message, encodeOverlayMessage(message)));
  }

  /** Sends a routed frame from this node over `hop`: a link, or a relayed path (sealed). */
  private sendRoutedBytes(hop: LinkRecord | RelayHop, kind: RoutedKind, destination: number, bytes: Uint8Array): void {
    const frame = encodeRoutedFrame(this.ctx.limits.maxHops, this.ctx.ring, kind, destination, bytes);
    if ("life" in hop) this.ctx.actions.sendFrame(hop.id, "control", frame);
    else this.relays().forward(hop, frame, kind);
  }
}
