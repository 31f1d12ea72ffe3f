import { ActionQueue } from "../action-queue.js";
import type { Action } from "../actions.js";
import { Counters } from "../counters.js";
import { parseIpv4Address } from "../ipv4.js";
import { LinkRecord } from "../link-record.js";
import { LinkTable } from "../link-table.js";
import { Messenger } from "../messenger.js";
import { NextHops } from "../next-hops.js";
import { EventClock, type NodeContext } from "../node-context.js";
import { Relays } from "../relays.js";
import { ringAddress } from "../ring.js";
import { RingAddresses } from "../ring-addresses.js";
import { Router, type RouterEvents } from "../router.js";
import type { MemberInfo } from "../signaling-protocol.js";
import { Timers } from "../timers.js";
import { DEFAULT_LIMITS, DEFAULT_TIMING, type OverlayLimits, type Timing } from "../timing.js";
import { UnsignedTrust } from "./unsigned-trust.js";

/**
 * Helpers for testing one part of a node alone (Router, LinkLifecycle, Neighbourhood, Traces, Pings), without
 * `OverlayNode`: a context built as the node builds it, and a recording `RouterEvents`.
 */

export interface TestContextOptions {
  readonly prefixLength?: number;
  readonly timing?: Partial<Timing>;
  readonly limits?: Partial<OverlayLimits>;
}

/** The network name test contexts use (ring addresses depend on it). */
export const TEST_NETWORK = "test";

/** A `NodeContext` for `self`, as `OverlayNode` builds it; its clock's wall time starts at 0. */
export function testContext(self: MemberInfo, options: TestContextOptions = {}): NodeContext {
  const address = parseIpv4Address(self.ip)!;
  return {
    self,
    network: TEST_NETWORK,
    ring: ringAddress(TEST_NETWORK, address),
    subnet: { address, prefixLength: options.prefixLength ?? 16 },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    timing: { ...DEFAULT_TIMING, ...options.timing },
    actions: new ActionQueue(),
    links: new LinkTable(),
    drops: new Counters(),
    rings: new RingAddresses(TEST_NETWORK),
    timers: new Timers(),
    clock: new EventClock(),
  };
}

/**
 * A Router and a Messenger (sharing one NextHops) with the node's real Relays beside them, as
 * `OverlayNode` wires them; the relays get no random source, so they never set up a relayed path
 * (tests of relays use `MiniNet`).
 */
export function testRouter(
  ctx: NodeContext,
  events: RouterEvents,
  selfHop: Uint8Array,
): { router: Router; messenger: Messenger; relays: Relays } {
  let relays: Relays | undefined;
  const hops = new NextHops(ctx, () => relays!);
  const router = new Router(ctx, events, selfHop, () => relays!, hops);
  const messenger = new Messenger(ctx, hops, events, () => relays!);
  relays = new Relays(ctx, new UnsignedTrust(ctx.self), messenger, undefined);
  return { router, messenger, relays };
}

/** Every action queued so far, draining the queue. */
export function drain(ctx: NodeContext): Action[] {
  const actions: Action[] = [];
  for (let action = ctx.actions.poll(); action !== undefined; action = ctx.actions.poll()) actions.push(action);
  return actions;
}

/**
 * Puts an up link to `peer` straight into the table, as if `LinkLifecycle` had set it up: for tests
 * of parts that only use links.
 */
export function addUpLink(ctx: NodeContext, id: number, peer: MemberInfo, at = 0): LinkRecord {
  const address = parseIpv4Address(peer.ip)!;
  const link = new LinkRecord(id, peer, address, ctx.rings.of(address), "offerer", `t.${id}`, "overlay", at, "near");
  link.life.state = "up";
  link.life.upAt = at;
  ctx.links.add(link);
  ctx.links.markUp(link);
  return link;
}

/** One call the router made to its `RouterEvents`. */
export type RouterCall = {
  [K in keyof RouterEvents]: { readonly name: K; readonly args: Parameters<RouterEvents[K]> };
}[keyof RouterEvents];

/** `RouterEvents` that record every call, then pass it on to `forward` where it has a handler. */
export function recordRouterEvents(forward: Partial<RouterEvents> = {}): {
  readonly events: RouterEvents;
  readonly calls: RouterCall[];
} {
  const calls: RouterCall[] = [];
  const events: RouterEvents = {
    linkMessage: (...args) => {
      calls.push({ name: "linkMessage", args });
      forward.linkMessage?.(...args);
    },
    routedMessage: (...args) => {
      calls.push({ name: "routedMessage", args });
      forward.routedMessage?.(...args);
    },
    traceArrived: (...args) => {
      calls.push({ name: "traceArrived", args });
      forward.traceArrived?.(...args);
    },
    pingArrived: (...args) => {
      calls.push({ name: "pingArrived", args });
      forward.pingArrived?.(...args);
    },
    keepalive: (...args) => {
      calls.push({ name: "keepalive", args });
      forward.keepalive?.(...args);
    },
    conversation: (...args) => {
      calls.push({ name: "conversation", args });
      forward.conversation?.(...args);
    },
  };
  return { events, calls };
}
