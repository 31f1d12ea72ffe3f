import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action } from "./actions.js";
import { RoutedKind, routedDestination, routedKind, routedPayload, routedSource, writeRoutedHeader } from "./frame.js";
import { parseIpv4Address } from "./ipv4.js";
import type { NodeContext } from "./node-context.js";
import { clockwise } from "./ring.js";
import { addUpLink, drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";
import type { OverlayLimits } from "./timing.js";
import { encodeTraceHop } from "./trace-path.js";

function setup(limits: Partial<OverlayLimits> = {}, peers = [2, 3, 4, 5, 6]) {
  const ctx = testContext(member(1), { limits });
  const { events } = recordRouterEvents();
  const { router } = testRouter(ctx, events, encodeTraceHop(ctx.self));
  const links = peers.map((n, i) => addUpLink(ctx, i + 1, member(n)));
  return { ctx, router, links };
}

type SendFrame = Extract<Action, { type: "send-frame" }>;
const sent = (actions: readonly Action[]) => actions.filter((a): a is SendFrame => a.type === "send-frame");
const delivered = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.type === "deliver" ? [a.packet.slice()] : []));

const ringOf = (ctx: NodeContext, ip: string) => ctx.rings.of(parseIpv4Address(ip)!);

function floodFrame(ttl: number, source: number, end: number, packet: Uint8Array): Uint8Array {
  const frame = new Uint8Array(16 + packet.length);
  frame.set(packet, 16);
  return writeRoutedHeader(frame, { ttl, kind: RoutedKind.flood, source, destination: end });
}

test("a host multicast floods the whole ring: one copy per link, ranges tiling the ring back to this node", () => {
  const { ctx, router, links } = setup();
  const packet = makeIpv4Packet("10.88.0.1", "224.0.0.251");
  router.handleHostPacket(0, withHeadroom(packet));
  const frames = sent(drain(ctx));
  assert.equal(frames.length, links.length);
  // Ordered clockwise, each range ends where the next link's starts; the last ends at this node.
  const byOffset = frames
    .map((f) => ({ to: ctx.links.byId.get(f.linkId)!.ring, end: routedDestination(f.frame), frame: f.frame }))
    .sort((a, b) => clockwise(ctx.ring, a.to) - clockwise(ctx.ring, b.to));
  for (const [i, hop] of byOffset.entries()) {
    assert.equal(hop.end, i + 1 < byOffset.length ? byOffset[i + 1]!.to : ctx.ring);
    assert.equal(routedKind(hop.frame), RoutedKind.flood);
    assert.equal(routedSource(hop.frame), ctx.ring);
    assert.deepEqual(routedPayload(hop.frame), packet, "the packet unchanged");
  }
  assert.equal(router.multicast.get("sent"), 1);
  assert.equal(router.multicast.get("forwarded"), links.length);
  // Subnet broadcast and limited broadcast flood too.
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.1", "10.88.255.255")));
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.1", "255.255.255.255")));
  assert.equal(sent(drain(ctx)).length, 2 * links.length);
});

test("a flood from a peer is delivered unchanged and passed on only inside this node's range", () => {
  const { ctx, router, links } = setup();
  const packet = makeIpv4Packet("10.88.0.9", "224.0.0.251");
  const source = ringOf(ctx, "10.88.0.9");
  // A range ending at the third link clockwise: only the first two are inside it.
  const clockwiseLinks = [...links].sort((a, b) => clockwise(ctx.ring, a.ring) - clockwise(ctx.ring, b.ring));
  const end = clockwiseLinks[2]!.ring;
  router.handleFrame(5, links[0]!.id, floodFrame(10, source, end, packet));
  const actions = drain(ctx);
  assert.deepEqual(delivered(actions), [packet]);
  const frames = sent(actions);
  assert.deepEqual(
    frames.map((f) => f.linkId),
    [clockwiseLinks[0]!.id, clockwiseLinks[1]!.id],
  );
  assert.equal(routedDestination(frames[0]!.frame), clockwiseLinks[1]!.ring);
  assert.equal(routedDestination(frames[1]!.frame), end);
  assert.ok(
    frames.every((f) => f.frame[2] === 9),
    "TTL counted",
  );
  assert.equal(router.multicast.get("delivered"), 1);
  // A spent TTL: delivered here, passed on no further.
  router.handleFrame(6, links[0]!.id, floodFrame(1, source, end, packet));
  const last = drain(ctx);
  assert.equal(delivered(last).length, 1);
  assert.equal(sent(last).length, 0);
  assert.equal(ctx.drops.get("multicast-hop-limit"), 1);
});

test("floods are rate-limited per source address, and the window resets", () => {
  const { ctx, router, links } = setup({ multicastPerSecond: 3 });
  const fromPeer = makeIpv4Packet("10.88.0.9", "224.0.0.251");
  const other = makeIpv4Packet("10.88.0.10", "224.0.0.251");
  for (let i = 0; i < 5; i++)
    router.handleFrame(100, links[0]!.id, floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, fromPeer));
  router.handleFrame(100, links[0]!.id, floodFrame(10, ringOf(ctx, "10.88.0.10"), 0, other));
  assert.equal(delivered(drain(ctx)).length, 4, "3 from the busy source, 1 from the other");
  assert.equal(ctx.drops.get("multicast-rate"), 2);
  router.handleFrame(1100, links[0]!.id, floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, fromPeer));
  assert.equal(delivered(drain(ctx)).length, 1, "a new second");
  // The host's own floods count against its own address.
  for (let i = 0; i < 5; i++) router.handleHostPacket(2000, withHeadroom(makeIpv4Packet("10.88.0.1", "224.0.0.251")));
  assert.equal(router.multicast.get("sent"), 3);
  assert.equal(ctx.drops.get("multicast-rate"), 4);
});

test("spoofed, unicast, own or malformed floods are dropped and counted", () => {
  const { ctx, router, links } = setup();
  const link = links[0]!.id;
  const group = "224.0.0.251";
  // The source address does not hash to the source ring address.
  router.handleFrame(0, link, floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, makeIpv4Packet("10.88.0.10", group)));
  // Off the subnet.
  router.handleFrame(0, link, floodFrame(10, ringOf(ctx, "10.99.0.1"), 0, makeIpv4Packet("10.99.0.1", group)));
  // Claiming to come from this node.
  router.handleFrame(0, link, floodFrame(10, ctx.ring, 0, makeIpv4Packet("10.88.0.1", group)));
  // A unicast packet may not be flooded.
  router.handleFrame(0, link, floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, makeIpv4Packet("10.88.0.9", "10.88.0.1")));
  const bad = makeIpv4Packet("10.88.0.9", group);
  bad[10]! ^= 0xff;
  router.handleFrame(0, link, floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, bad));
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("spoofed-source"), 3);
  assert.equal(ctx.drops.get("multicast-not-group"), 1);
  assert.equal(ctx.drops.get("bad-checksum"), 1);
  // A host multicast not from the host's own address would be dropped as spoofed everywhere.
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.7", group)));
  assert.equal(ctx.drops.get("multicast-not-ours"), 1);
  assert.deepEqual(drain(ctx), []);
});

test("with multicast off, host broadcasts are dropped as before and floods from peers refused", () => {
  const { ctx, router, links } = setup({ multicast: false });
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.1", "224.0.0.251")));
  router.handleFrame(
    0,
    links[0]!.id,
    floodFrame(10, ringOf(ctx, "10.88.0.9"), 0, makeIpv4Packet("10.88.0.9", "224.0.0.251")),
  );
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("broadcast"), 1);
  assert.equal(ctx.drops.get("multicast-off"), 1);
});
