import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action } from "./actions.js";
import {
  dataPayload,
  encodeDataFrame,
  FrameType,
  RoutedKind,
  routedDestination,
  routedPayload,
  writeRoutedHeader,
} from "./frame.js";
import { checkIpv4Packet, internetChecksum, ipv4HeaderChecksum, parseIpv4Address } from "./ipv4.js";
import { validSelf } from "./node-config.js";
import { addUpLink, drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { makeIpv4Packet, makeTcpSyn, tcpChecksum, withHeadroom } from "./testing/packets.js";
import { UnsignedTrust } from "./testing/unsigned-trust.js";
import { encodeTraceHop } from "./trace-path.js";

function setup(mtu?: number) {
  const ctx = testContext(member(1), mtu === undefined ? {} : { limits: { mtu } });
  const { events } = recordRouterEvents();
  const { router } = testRouter(ctx, events, encodeTraceHop(ctx.self));
  return { ctx, router };
}

type SendFrame = Extract<Action, { type: "send-frame" }>;
type Deliver = Extract<Action, { type: "deliver" }>;

/** A UDP packet of `length` bytes from h1 to `dst`, with DF set or not. */
function udpPacket(length: number, dontFragment: boolean, dst = "10.88.0.2"): Uint8Array {
  const packet = makeIpv4Packet(
    "10.88.0.1",
    dst,
    Uint8Array.from({ length: length - 20 }, (_, i) => i),
  );
  if (dontFragment) {
    packet[6] = 0x40;
    packet[10] = 0;
    packet[11] = 0;
    const sum = ipv4HeaderChecksum(packet, 20);
    packet[10] = sum >> 8;
    packet[11] = sum & 0xff;
  }
  return withHeadroom(packet);
}

test("a host packet over the MTU with DF set is dropped and answered with ICMP fragmentation-needed", () => {
  const { ctx, router } = setup();
  addUpLink(ctx, 1, member(2));
  const packet = udpPacket(2028, true);
  router.handleHostPacket(1, packet);
  const actions = drain(ctx);
  assert.equal(actions.length, 1, "nothing goes to the link");
  const icmp = (actions[0] as Deliver).packet;
  assert.equal(actions[0]!.type, "deliver");
  assert.equal(checkIpv4Packet(icmp), null);
  assert.deepEqual([...icmp.subarray(12, 16)], [10, 88, 0, 2], "from the destination, not the host's own address");
  assert.deepEqual([...icmp.subarray(16, 20)], [10, 88, 0, 1]);
  assert.deepEqual([icmp[20], icmp[21]], [3, 4]);
  assert.equal((icmp[26]! << 8) | icmp[27]!, 1400);
  assert.equal(internetChecksum(icmp, 20, icmp.length), 0);
  assert.deepEqual(icmp.subarray(28), packet.subarray(0, 28));
  assert.equal(ctx.drops.get("host-too-big"), 1);
});

test("a packet of exactly the MTU passes; one byte more with DF does not", () => {
  const { ctx, router } = setup(1280);
  addUpLink(ctx, 1, member(2));
  router.handleHostPacket(1, udpPacket(1280, true));
  assert.deepEqual(
    drain(ctx).map((a) => a.type),
    ["send-frame"],
  );
  router.handleHostPacket(2, udpPacket(1281, true));
  const [icmp] = drain(ctx) as Deliver[];
  assert.equal((icmp!.packet[26]! << 8) | icmp!.packet[27]!, 1280);
  assert.equal(ctx.drops.get("host-too-big"), 1);
});

test("a host packet over the MTU without DF goes out as fragments, each within the MTU", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const packet = udpPacket(3028, false);
  router.handleHostPacket(1, packet);
  const frames = drain(ctx) as SendFrame[];
  assert.equal(frames.length, 3);
  let data = 0;
  for (const { frame, linkId, channel } of frames) {
    assert.equal(linkId, link.id);
    assert.equal(channel, "data");
    assert.equal(frame[1], FrameType.data);
    const fragment = dataPayload(frame);
    assert.equal(checkIpv4Packet(fragment), null);
    assert.ok(fragment.length <= 1400);
    data += fragment.length - 20;
  }
  assert.equal(data, 3008);
  assert.equal(router.adjusted.get("fragmented"), 1);
  assert.deepEqual(link.traffic.tx.packets, 3);
  assert.equal(ctx.drops.total(), 0);
});

test("fragments of a packet to a node without a direct link are routed, each with its own header", () => {
  const { ctx, router } = setup();
  const link = addUpLink(ctx, 1, member(2));
  router.handleHostPacket(1, udpPacket(2000, false, "10.88.0.77"));
  const frames = drain(ctx) as SendFrame[];
  assert.equal(frames.length, 2);
  for (const { frame, linkId } of frames) {
    assert.equal(linkId, link.id);
    assert.equal(frame[1], FrameType.routed);
    assert.equal(routedDestination(frame), ctx.rings.of(parseIpv4Address("10.88.0.77")!));
    assert.equal(checkIpv4Packet(routedPayload(frame)), null);
  }
});

test("a SYN from the host leaves with its MSS clamped to MTU - 40 and a right checksum", () => {
  const { ctx, router } = setup();
  addUpLink(ctx, 1, member(2));
  router.handleHostPacket(1, withHeadroom(makeTcpSyn("10.88.0.1", "10.88.0.2", [2, 4, 0x23, 0x00, 4, 2])));
  const [send] = drain(ctx) as SendFrame[];
  const sent = dataPayload(send!.frame);
  assert.equal((sent[42]! << 8) | sent[43]!, 1360);
  assert.equal((sent[36]! << 8) | sent[37]!, tcpChecksum(sent));
  assert.equal(router.adjusted.get("mss-clamped-out"), 1);
});

test("a SYN from a peer is clamped before the host sees it, on a direct link and routed", () => {
  const { ctx, router } = setup(1280);
  const link = addUpLink(ctx, 1, member(2));
  router.handleFrame(1, link.id, encodeDataFrame(makeTcpSyn("10.88.0.2", "10.88.0.1", [2, 4, 0x23, 0x00])));
  const syn = makeTcpSyn("10.88.0.9", "10.88.0.1", [1, 2, 4, 0x05, 0xb4]); // 1460, at an odd offset
  const frame = new Uint8Array(16 + syn.length);
  frame.set(syn, 16);
  writeRoutedHeader(frame, {
    ttl: 5,
    kind: RoutedKind.packet,
    source: ctx.rings.of(parseIpv4Address("10.88.0.9")!),
    destination: ctx.ring,
  });
  router.handleFrame(2, link.id, frame);
  const delivered = (drain(ctx) as Deliver[]).map((a) => a.packet);
  assert.equal(delivered.length, 2);
  assert.equal((delivered[0]![42]! << 8) | delivered[0]![43]!, 1240);
  assert.equal((delivered[1]![43]! << 8) | delivered[1]![44]!, 1240);
  for (const p of delivered) assert.equal((p[36]! << 8) | p[37]!, tcpChecksum(p));
  assert.equal(router.adjusted.get("mss-clamped-in"), 2);
});

test("an MTU outside 576..9000 is refused when the node is configured", () => {
  const base = {
    self: member(1),
    network: "test",
    prefixLength: 16,
    trust: new UnsignedTrust(member(1)),
    random: () => 0.5,
  };
  assert.throws(() => validSelf({ ...base, limits: { mtu: 500 } }), /MTU 500/);
  assert.throws(() => validSelf({ ...base, limits: { mtu: 9001 } }), /MTU 9001/);
  assert.doesNotThrow(() => validSelf({ ...base, limits: { mtu: 9000 } }));
});
