import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action } from "./actions.js";
import {
  encodeBatch,
  encodeDataFrame,
  encodeFrame,
  encodePing,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  FrameType,
  PACKET_HEADROOM,
  RoutedKind,
  routedDestination,
  routedKind,
  routedPayload,
  routedSource,
  routedTtl,
  writeRoutedHeader,
} from "./frame.js";
import { parseIpv4Address } from "./ipv4.js";
import type { LinkRecord } from "./link-record.js";
import type { NodeContext } from "./node-context.js";
import { decodeOverlayMessage, encodeOverlayMessage, type OverlayMessage } from "./overlay-message.js";
import { ringDistance } from "./ring.js";
import { addUpLink, drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";
import { decodeTrace, encodeTrace, encodeTraceHop } from "./trace-path.js";
import { encodeUtf8 } from "./utf8.js";

function setup() {
  const ctx = testContext(member(1));
  const { events, calls } = recordRouterEvents();
  const { router, messenger } = testRouter(ctx, events, encodeTraceHop(ctx.self));
  return { ctx, router, messenger, calls };
}

function ringOf(ctx: NodeContext, ip: string): number {
  return ctx.rings.of(parseIpv4Address(ip)!);
}

function routedFrame(ttl: number, kind: RoutedKind, source: number, destination: number, payload: Uint8Array) {
  const frame = new Uint8Array(16 + payload.length);
  frame.set(payload, 16);
  return writeRoutedHeader(frame, { ttl, kind, source, destination });
}

type SendFrame = Extract<Action, { type: "send-frame" }>;

function sentFrames(actions: readonly Action[]): SendFrame[] {
  return actions.filter((a): a is SendFrame => a.type === "send-frame");
}

function delivered(actions: readonly Action[]): Uint8Array[] {
  return actions.flatMap((a) => (a.type === "deliver" ? [a.packet.slice()] : []));
}

/** The link greedy routing must pick towards `ring`, found by brute force; undefined when we are closest. */
function expectedHop(ctx: NodeContext, ring: number): LinkRecord | undefined {
  let best: LinkRecord | undefined;
  let bestDistance = ringDistance(ctx.ring, ring);
  for (const link of ctx.links.up) {
    const d = ringDistance(link.ring, ring);
    if (d < bestDistance) [best, bestDistance] = [link, d];
  }
  return best;
}

test("a packet for a linked peer goes out as a data frame written into the headroom in front of it", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const packet = withHeadroom(makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([9, 8, 7])));
  const copy = packet.slice();
  router.handleHostPacket(5, packet);
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.equal(send?.type, "send-frame");
  const { frame, linkId, channel } = send as SendFrame;
  assert.deepEqual([linkId, channel], [1, "data"]);
  assert.equal(frame.buffer, packet.buffer, "no copy");
  assert.equal(frame.byteOffset, packet.byteOffset - FRAME_HEADER_BYTES);
  assert.deepEqual([...frame.subarray(0, FRAME_HEADER_BYTES)], [FRAME_VERSION, FrameType.data]);
  assert.deepEqual(frame.subarray(FRAME_HEADER_BYTES), copy);
  assert.deepEqual(link.traffic.tx, { bytes: copy.length, packets: 1 });
  assert.equal(link.traffic.lastDataAt, 5);
});

test("a packet without a direct link goes to the link closest to its ring address, in the headroom", () => {
  const { ctx, router, calls } = setup();
  for (let n = 2; n <= 9; n++) addUpLink(ctx, n, member(n));
  let routed = 0;
  let local = 0;
  for (let host = 1; host <= 60; host++) {
    const ip = `10.88.1.${host}`;
    const destination = ringOf(ctx, ip);
    const packet = withHeadroom(makeIpv4Packet("10.88.0.1", ip));
    router.handleHostPacket(0, packet);
    const actions = drain(ctx);
    const expected = expectedHop(ctx, destination);
    // One conversation counted, with the destination; never one with ourselves for our own ICMP answer.
    assert.deepEqual(calls.splice(0), [{ name: "conversation", args: [0, parseIpv4Address(ip)!, destination] }]);
    if (expected === undefined) {
      // We are the closest: nobody owns the address, and the ICMP answer comes back to us.
      local++;
      assert.deepEqual(sentFrames(actions), [], ip);
      assert.equal(delivered(actions)[0]?.[9], 1, "ICMP");
      continue;
    }
    routed++;
    const sent = sentFrames(actions);
    assert.equal(sent.length, 1, ip);
    const { frame, linkId, channel } = sent[0]!;
    assert.deepEqual([linkId, channel], [expected.id, "data"], ip);
    assert.equal(frame.buffer, packet.buffer, "no copy");
    assert.equal(frame.byteOffset, packet.byteOffset - PACKET_HEADROOM);
    assert.deepEqual(
      [routedTtl(frame), routedKind(frame), routedSource(frame), routedDestination(frame)],
      [ctx.limits.maxHops, RoutedKind.packet, ctx.ring, destination],
    );
    assert.deepEqual(routedPayload(frame), packet);
  }
  assert.ok(routed > 10 && local > 0, `routed ${routed}, local ${local}`);
  assert.equal(ctx.drops.get("no-such-host"), local);
});

test("host packets go nowhere without links, and off-network ones are counted", () => {
  const { ctx, router } = setup();
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.1", "10.88.0.2")));
  router.handleHostPacket(0, withHeadroom(makeIpv4Packet("10.88.0.1", "10.89.0.2")));
  assert.deepEqual(drain(ctx), []);
  assert.deepEqual(ctx.drops.toJSON(), { "no-route": 1, "off-network": 1 });
});

test("a transit hop decrements the TTL and forwards; a frame whose TTL is spent is dropped", () => {
  const { ctx, router } = setup();
  const from = addUpLink(ctx, 1, member(2));
  const to = addUpLink(ctx, 2, member(3));
  const packet = makeIpv4Packet("10.88.0.50", "10.88.0.3");
  const source = ringOf(ctx, "10.88.0.50");
  const frame = routedFrame(5, RoutedKind.packet, source, to.ring, packet);
  const expected = frame.slice();
  expected[2] = 4;
  router.handleFrame(3, from.id, frame);
  assert.deepEqual(drain(ctx), [{ type: "send-frame", linkId: to.id, channel: "data", frame: expected }]);
  assert.deepEqual(from.traffic.rx, { bytes: packet.length, packets: 1 });
  assert.deepEqual(to.traffic.tx, { bytes: packet.length, packets: 1 });
  assert.equal(from.traffic.lastReceiveAt, 3);

  router.handleFrame(4, from.id, routedFrame(2, RoutedKind.packet, source, to.ring, packet));
  assert.equal(routedTtl(sentFrames(drain(ctx))[0]!.frame), 1);
  router.handleFrame(4, from.id, routedFrame(1, RoutedKind.packet, source, to.ring, packet));
  router.handleFrame(4, from.id, routedFrame(0, RoutedKind.message, source, to.ring, encodeUtf8("{}")));
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("hop-limit"), 2);
});

test("a routed message with a garbage payload passes transit untouched and is dropped only where it ends", () => {
  const { ctx, router, calls } = setup();
  const from = addUpLink(ctx, 1, member(2));
  const to = addUpLink(ctx, 2, member(3));
  const garbage = encodeUtf8('{"t": not json');
  const source = ringOf(ctx, "10.88.0.50");
  const frame = routedFrame(9, RoutedKind.message, source, to.ring, garbage);
  const expected = frame.slice();
  expected[2] = 8;
  router.handleFrame(0, from.id, frame);
  assert.deepEqual(drain(ctx), [{ type: "send-frame", linkId: to.id, channel: "control", frame: expected }]);
  assert.equal(ctx.drops.total(), 0);

  router.handleFrame(0, from.id, routedFrame(9, RoutedKind.message, source, ctx.ring, garbage));
  assert.deepEqual(drain(ctx), []);
  assert.deepEqual(ctx.drops.toJSON(), { "message-not-json": 1 });
  assert.deepEqual(calls, []);

  const find: OverlayMessage = { t: "find", from: member(50) };
  router.handleFrame(0, from.id, routedFrame(9, RoutedKind.message, source, ctx.ring, encodeOverlayMessage(find)));
  assert.deepEqual(calls, [{ name: "routedMessage", args: [0, find, source, true] }]);
});

test("a trace gets this node's hop appended in transit, and is handed over where it ends", () => {
  const { ctx, router, calls } = setup();
  const from = addUpLink(ctx, 1, member(2));
  const to = addUpLink(ctx, 2, member(3));
  const source = ringOf(ctx, "10.88.0.50");
  const trace = encodeTrace(7, encodeTraceHop(member(50)));
  router.handleFrame(0, from.id, routedFrame(9, RoutedKind.trace, source, to.ring, trace));
  const sent = sentFrames(drain(ctx));
  assert.deepEqual(
    sent.map((s) => [s.linkId, s.channel, routedTtl(s.frame), routedKind(s.frame), routedDestination(s.frame)]),
    [[to.id, "control", 8, RoutedKind.trace, to.ring]],
  );
  assert.deepEqual(decodeTrace(routedPayload(sent[0]!.frame)), { id: 7, path: [member(50), member(1)] });

  router.handleFrame(0, from.id, routedFrame(9, RoutedKind.trace, source, ctx.ring, trace));
  assert.deepEqual(calls, [{ name: "traceArrived", args: [0, trace, source, true] }]);
});

test("data frames with a spoofed source or for another node are dropped and counted on the link and the node", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const other = addUpLink(ctx, 2, member(3));
  const good = makeIpv4Packet("10.88.0.2", "10.88.0.1", new Uint8Array([1, 2]));
  router.handleFrame(0, link.id, encodeDataFrame(makeIpv4Packet("10.88.0.3", "10.88.0.1")));
  router.handleFrame(0, link.id, encodeDataFrame(makeIpv4Packet("10.88.0.2", "10.88.0.3")));
  router.handleFrame(0, link.id, encodeDataFrame(good));
  router.handleFrame(0, 99, encodeDataFrame(good));
  assert.deepEqual(drain(ctx), [{ type: "deliver", packet: good }]);
  assert.deepEqual(link.traffic.drops.toJSON(), { "spoofed-source": 1, "not-for-us": 1 });
  assert.deepEqual(other.traffic.drops.toJSON(), {});
  assert.deepEqual(ctx.drops.toJSON(), { "spoofed-source": 1, "not-for-us": 1, "unknown-link": 1 });
  assert.deepEqual(link.traffic.rx, { bytes: good.length, packets: 1 });
});

test("a routed packet whose source address does not hash to its source ring address is dropped", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const packet = makeIpv4Packet("10.88.0.50", "10.88.0.1");
  router.handleFrame(0, link.id, routedFrame(9, RoutedKind.packet, ringOf(ctx, "10.88.0.51"), ctx.ring, packet));
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("spoofed-source"), 1);
  router.handleFrame(0, link.id, routedFrame(9, RoutedKind.packet, ringOf(ctx, "10.88.0.50"), ctx.ring, packet));
  assert.deepEqual(delivered(drain(ctx)), [packet]);
});

test("keepalive frames and link messages go to the events with the link they came on", () => {
  const { ctx, router, calls } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const ping = encodePing(FrameType.ping, { seq: 3, sentAt: 5 });
  const pong = encodePing(FrameType.pong, { seq: 3, sentAt: 5 });
  const kinds: OverlayMessage = { t: "kinds", kinds: ["near"] };
  router.handleFrame(10, link.id, ping);
  router.handleFrame(11, link.id, pong);
  router.handleFrame(12, link.id, encodeFrame(FrameType.message, encodeOverlayMessage(kinds)));
  router.handleFrame(13, link.id, encodeFrame(FrameType.message, encodeUtf8("[")));
  assert.deepEqual(calls, [
    { name: "keepalive", args: [10, link, ping, FrameType.ping] },
    { name: "keepalive", args: [11, link, pong, FrameType.pong] },
    { name: "linkMessage", args: [12, link, kinds] },
  ]);
  assert.deepEqual(link.traffic.drops.toJSON(), { "message-not-json": 1 });
  assert.equal(link.traffic.lastReceiveAt, 13);
  assert.deepEqual(drain(ctx), []);
});

test("a batch frame delivers each packet inside; a batch inside a batch is dropped", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const packets = [1, 2, 3].map((n) => makeIpv4Packet("10.88.0.2", "10.88.0.1", new Uint8Array(n)));
  router.handleFrame(0, link.id, encodeBatch(packets.map(encodeDataFrame)));
  assert.deepEqual(delivered(drain(ctx)), packets);

  const nested = encodeBatch([encodeBatch([encodeDataFrame(packets[0]!)]), encodeDataFrame(packets[1]!)]);
  router.handleFrame(0, link.id, nested);
  assert.deepEqual(delivered(drain(ctx)), [packets[1]]);
  assert.deepEqual(link.traffic.drops.toJSON(), { "nested-batch": 1 });
  assert.deepEqual(link.traffic.rx, {
    bytes: packets[0]!.length + 2 * packets[1]!.length + packets[2]!.length,
    packets: 4,
  });
});

test("an answer retraces the way its request came, until that link is forgotten", () => {
  const { ctx, router, messenger } = setup();
  const a = addUpLink(ctx, 1, member(2));
  const b = addUpLink(ctx, 2, member(3));
  // A far node for which greedy routing picks b, not a.
  let far = "";
  for (let host = 1; far === "" && host < 255; host++) {
    if (expectedHop(ctx, ringOf(ctx, `10.88.3.${host}`)) === b) far = `10.88.3.${host}`;
  }
  assert.notEqual(far, "");
  const farRing = ringOf(ctx, far);
  const find: OverlayMessage = { t: "find", from: member(1) };
  const linkOf = () => sentFrames(drain(ctx)).map((s) => s.linkId);

  messenger.sendRouted(0, farRing, find);
  assert.deepEqual(linkOf(), [b.id]);
  const request = encodeOverlayMessage({ t: "found", member: member(50) });
  router.handleFrame(0, a.id, routedFrame(9, RoutedKind.message, farRing, ctx.ring, request));
  messenger.sendRouted(1, farRing, find);
  const sent = sentFrames(drain(ctx));
  assert.deepEqual(
    sent.map((s) => [s.linkId, routedSource(s.frame), routedDestination(s.frame)]),
    [[a.id, ctx.ring, farRing]],
  );
  assert.deepEqual(decodeOverlayMessage(routedPayload(sent[0]!.frame)), find);
  messenger.forgetLink(a.id);
  messenger.sendRouted(2, farRing, find);
  assert.deepEqual(linkOf(), [b.id]);
});

test("a message is never sent back on the link it came in on, even where the way back points", () => {
  const { ctx, router } = setup();
  const a = addUpLink(ctx, 1, member(2));
  const b = addUpLink(ctx, 2, member(3));
  let far = "";
  for (let host = 1; far === "" && host < 255; host++) {
    if (expectedHop(ctx, ringOf(ctx, `10.88.3.${host}`)) === b) far = `10.88.3.${host}`;
  }
  const farRing = ringOf(ctx, far);
  const request = encodeOverlayMessage({ t: "found", member: member(50) });
  // Frames from the far node came in on a: answers to it go back that way...
  router.handleFrame(0, a.id, routedFrame(9, RoutedKind.message, farRing, ctx.ring, request));
  const passing = encodeOverlayMessage({ t: "find", from: member(60) });
  const otherSource = ringOf(ctx, "10.88.60.1");
  router.handleFrame(1, b.id, routedFrame(9, RoutedKind.message, otherSource, farRing, passing));
  assert.deepEqual(
    sentFrames(drain(ctx)).map((s) => s.linkId),
    [a.id],
  );
  // ...but not one that came in on a itself: a would only send it here again, until the hop limit.
  router.handleFrame(2, a.id, routedFrame(9, RoutedKind.message, otherSource, farRing, passing));
  assert.deepEqual(
    sentFrames(drain(ctx)).map((s) => s.linkId),
    [b.id],
  );
});

test("a message for a ring address this node is closest to, with no link at all, is handled here", () => {
  const { ctx, messenger, calls } = setup();
  const message: OverlayMessage = { t: "find", from: member(1) };
  messenger.sendRouted(0, ringOf(ctx, "10.88.7.7"), message);
  messenger.sendRouted(0, ctx.ring, message);
  assert.deepEqual(calls, [
    { name: "routedMessage", args: [0, message, ctx.ring, false] },
    { name: "routedMessage", args: [0, message, ctx.ring, true] },
  ]);
  assert.deepEqual(drain(ctx), []);
});
