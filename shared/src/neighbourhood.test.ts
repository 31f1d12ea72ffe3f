import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action } from "./actions.js";
import { dataPayload, routedDestination, routedPayload } from "./frame.js";
import { parseIpv4Address } from "./ipv4.js";
import { LinkLifecycle } from "./link-lifecycle.js";
import type { LinkRecord } from "./link-record.js";
import { Membership } from "./membership.js";
import { Neighbourhood } from "./neighbourhood.js";
import { decodeOverlayMessage, type LinkKind, type OverlayMessage } from "./overlay-message.js";
import { clockwise, RING_SIZE, ringAddress } from "./ring.js";
import type { MemberInfo } from "./signaling-protocol.js";
import {
  drain,
  recordRouterEvents,
  TEST_NETWORK,
  type TestContextOptions,
  testContext,
  testRouter,
} from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { UnsignedTrust } from "./testing/unsigned-trust.js";
import { encodeTraceHop } from "./trace-path.js";

/** A Neighbourhood with a real LinkLifecycle and Router around it, on a test context. */
function setup(options: TestContextOptions = {}, self = member(1)) {
  const ctx = testContext(self, options);
  const trust = new UnsignedTrust(self);
  const membership = new Membership(self.nodeId);
  const { events, calls } = recordRouterEvents();
  const { messenger, relays } = testRouter(ctx, events, encodeTraceHop(self));
  const hood: Neighbourhood = new Neighbourhood(
    ctx,
    trust,
    membership,
    messenger,
    () => lifecycle,
    () => 0.5,
    relays,
  );
  const lifecycle = new LinkLifecycle(ctx, trust, membership, messenger, hood);
  /** A link `peer` opened to us for `purpose`, up. */
  const accept = (now: number, peer: MemberInfo, purpose: LinkKind): LinkRecord => {
    const session = `${peer.nodeId}.1`;
    const open = { v: 1, kind: "open", session, from: peer, purpose, payload: {} };
    lifecycle.handleEnvelope(now, peer.nodeId, new UnsignedTrust(peer).seal(0, self.nodeId, open), "signaling");
    const link = ctx.links.bySession.get(session);
    assert.ok(link !== undefined, `link from ${peer.nodeId} accepted`);
    lifecycle.handleLinkUp(now, link.id);
    return link;
  };
  return { ctx, trust, membership, hood, lifecycle, accept, routerCalls: calls };
}

const ringOf = (m: MemberInfo) => ringAddress(TEST_NETWORK, parseIpv4Address(m.ip)!);

/** The `perSide` nearest of `pool` clockwise and counter-clockwise of `self`, by brute force. */
function nearestEachSide(self: MemberInfo, pool: readonly MemberInfo[], perSide: number): Set<string> {
  const byClockwise = [...pool].sort((a, b) => clockwise(ringOf(self), ringOf(a)) - clockwise(ringOf(self), ringOf(b)));
  return new Set([...byClockwise.slice(0, perSide), ...byClockwise.slice(-perSide)].map((m) => m.nodeId));
}

function openedTo(actions: readonly Action[]): string[] {
  return actions.flatMap((a) => (a.type === "open-link" && a.role === "offerer" ? [a.peer.nodeId] : [])).sort();
}

test("refuses: shortcuts past ceil(log2 N), on-demand past maxOnDemand, anything but near and bootstrap past maxLinks", () => {
  {
    const { hood, accept } = setup();
    for (const kind of ["near", "bootstrap", "shortcut", "on-demand"] as const) assert.equal(hood.refuses(kind), false);
    accept(0, member(2), "shortcut");
    // Two nodes: one shortcut is the share.
    assert.equal(hood.refuses("shortcut"), true);
    assert.equal(hood.refuses("on-demand"), false);
  }
  {
    const { hood, accept } = setup({ limits: { maxOnDemand: 2 } });
    accept(0, member(2), "on-demand");
    assert.equal(hood.refuses("on-demand"), false);
    accept(0, member(3), "on-demand");
    assert.equal(hood.refuses("on-demand"), true);
  }
  {
    const { hood, accept } = setup({ limits: { maxLinks: 3 } });
    for (const n of [2, 3]) accept(0, member(n), "near");
    assert.equal(hood.refuses("on-demand"), false);
    accept(0, member(4), "near");
    assert.deepEqual(
      (["near", "bootstrap", "shortcut", "on-demand"] as const).map((kind) => hood.refuses(kind)),
      [false, false, true, true],
    );
  }
});

test("learn ignores this node, revoked nodes, other networks' addresses, superseded and displaced claims", () => {
  const { ctx, trust, hood, accept } = setup({ timing: { knownTtlMs: 1_000 } });
  hood.learn(0, member(1));
  hood.learn(0, member(1, "impostor"));
  assert.deepEqual(drain(ctx), [
    { type: "event", event: { kind: "address-conflict", ip: "10.88.0.1", kept: "node001", dropped: "impostor" } },
  ]);
  trust.offerRevocationList("1:h5");
  hood.learn(0, member(5));
  hood.learn(0, { nodeId: "far", name: "far", ip: "10.99.0.5" });
  hood.supersede(0, "node006");
  hood.learn(500, member(6));
  assert.equal(hood.knownCount, 0);
  hood.learn(1_001, member(6));
  assert.equal(hood.knownCount, 1, "superseded only for knownTtlMs");

  accept(0, member(7), "near");
  assert.equal(hood.knownCount, 2);
  hood.learn(0, member(7, "node007-old"));
  assert.equal(hood.knownCount, 2, "the address is linked to another node id");
  hood.learn(0, member(8));
  hood.learn(1, member(8));
  assert.equal(hood.knownCount, 3);
});

test("maintain opens near links to the nearest known nodes on each side and marks which links are near", () => {
  const pool = Array.from({ length: 19 }, (_, i) => member(i + 2));
  const near = nearestEachSide(member(1), pool, 2);
  assert.equal(near.size, 4);
  // Among 60 more nodes, one of today's near neighbours stops being one.
  const more = Array.from({ length: 60 }, (_, i) => member(i + 21));
  const nearLater = nearestEachSide(member(1), [...pool, ...more], 2);
  const linkedNear = pool.find((m) => near.has(m.nodeId) && !nearLater.has(m.nodeId))!;
  assert.ok(linkedNear !== undefined);
  const linkedFar = pool.find((m) => !near.has(m.nodeId))!;

  const { ctx, hood, accept } = setup({ limits: { nearPerSide: 2 } });
  const nearLink = accept(0, linkedNear, "near");
  const farLink = accept(0, linkedFar, "near");
  for (const m of pool) hood.learn(0, m);
  drain(ctx);
  hood.maintain(1);
  const actions = drain(ctx);
  assert.deepEqual(openedTo(actions), [...near].filter((id) => id !== linkedNear.nodeId).sort());
  for (const nodeId of near) {
    const link = ctx.links.byPeer.get(nodeId)!;
    assert.ok(link.purpose.kinds.has("near"), nodeId);
    if (link !== nearLink) assert.equal(link.via, "overlay", "with links up, setup goes over the overlay");
  }
  assert.equal(farLink.purpose.kinds.has("near"), false);
  // Each up link is told why we keep it.
  const told = actions.flatMap((a) => {
    if (a.type !== "send-frame" || a.frame[1] !== 0x05) return [];
    const message = decodeOverlayMessage(dataPayload(a.frame));
    return typeof message !== "string" && message.t === "kinds" ? [[a.linkId, [...message.kinds].sort()]] : [];
  });
  assert.deepEqual(told, [[nearLink.id, ["near"]]], "each up link is told only when why we keep it changed");

  for (const m of more) hood.learn(2, m);
  hood.maintain(2);
  assert.equal(nearLink.purpose.kinds.has("near"), false, "no longer near");
});

test("a link neither side needs is closed only after unneededGraceMs", () => {
  const pool = Array.from({ length: 19 }, (_, i) => member(i + 2));
  const near = nearestEachSide(member(1), pool, 2);
  const far = pool.find((m) => !near.has(m.nodeId))!;
  const { ctx, hood, accept } = setup({ timing: { unneededGraceMs: 10_000 } });
  const link = accept(0, far, "near");
  for (const m of pool) hood.learn(0, m);
  hood.maintain(1_000);
  assert.equal(link.life.state, "up", "the peer still keeps it");
  hood.handleKinds(link, []);
  hood.maintain(2_000);
  hood.maintain(11_999);
  assert.equal(link.life.state, "up");
  hood.maintain(12_000);
  assert.equal(link.life.state, "closed");
  assert.ok(drain(ctx).some((a) => a.type === "close-link" && a.linkId === link.id && a.reason === "unneeded"));
});

test("a link the peer needs again during the grace period is kept", () => {
  const pool = Array.from({ length: 19 }, (_, i) => member(i + 2));
  const near = nearestEachSide(member(1), pool, 2);
  const far = pool.find((m) => !near.has(m.nodeId))!;
  const { hood, accept } = setup({ timing: { unneededGraceMs: 10_000 } });
  const link = accept(0, far, "near");
  for (const m of pool) hood.learn(0, m);
  hood.handleKinds(link, []);
  hood.maintain(1_000);
  hood.handleKinds(link, ["near"]);
  hood.maintain(6_000);
  hood.handleKinds(link, []);
  hood.maintain(7_000);
  hood.maintain(16_999);
  assert.equal(link.life.state, "up", "the grace period starts again");
  hood.maintain(17_000);
  assert.equal(link.life.state, "closed");
});

test("countConversation asks for the owner after onDemandPackets within the window, then links on-demand", () => {
  const peer = member(50);
  const ring = ringOf(peer);
  const address = parseIpv4Address(peer.ip)!;
  const { ctx, hood, accept, routerCalls } = setup({ limits: { onDemandPackets: 10, onDemandWindowMs: 5_000 } });
  accept(0, member(2), "near");
  drain(ctx);
  routerCalls.length = 0;
  /** Finds for `ring` this node sent, or handled itself as the closest node. */
  const finds = () => {
    const sent = drain(ctx).flatMap((a) => {
      if (a.type !== "send-frame" || a.frame[1] !== 0x04 || routedDestination(a.frame) !== ring) return [];
      const message = decodeOverlayMessage(routedPayload(a.frame));
      return typeof message !== "string" && message.t === "find" ? [message] : [];
    });
    const local = routerCalls.splice(0).flatMap((c) => (c.name === "routedMessage" ? [c.args[1]] : []));
    return [...sent, ...local];
  };
  const find: OverlayMessage = { t: "find", from: member(1) };

  for (let i = 0; i < 9; i++) hood.countConversation(i * 100, address, ring);
  assert.deepEqual(finds(), []);
  hood.countConversation(900, address, ring);
  assert.deepEqual(finds(), [find]);
  hood.countConversation(1_000, address, ring);
  assert.deepEqual(finds(), [], "once per window");

  hood.handleFound(1_100, peer);
  const link = ctx.links.byPeer.get(peer.nodeId)!;
  assert.ok(link.purpose.kinds.has("on-demand"));
  assert.equal(link.life.openedFor, "on-demand");
});

test("countConversation: packets spread wider than the window never reach the threshold", () => {
  const peer = member(50);
  const ring = ringOf(peer);
  const { ctx, hood, accept, routerCalls } = setup({ limits: { onDemandPackets: 10, onDemandWindowMs: 5_000 } });
  accept(0, member(2), "near");
  drain(ctx);
  routerCalls.length = 0;
  for (let i = 0; i < 20; i++) hood.countConversation(i * 600, parseIpv4Address(peer.ip)!, ring);
  assert.equal(drain(ctx).filter((a) => a.type === "send-frame").length, 0);
  assert.deepEqual(routerCalls, []);
});

test("bootstrap: with no link, maintain links to the listed member closest on the ring", () => {
  const { ctx, membership, hood } = setup();
  const pool = Array.from({ length: 10 }, (_, i) => member(i + 2));
  const self = ringOf(member(1));
  const distance = (m: MemberInfo) => Math.min(clockwise(self, ringOf(m)), RING_SIZE - clockwise(self, ringOf(m)));
  const closest = [...pool].sort((a, b) => distance(a) - distance(b))[0]!;
  // No way to reach anyone yet.
  hood.maintain(0);
  assert.deepEqual(openedTo(drain(ctx)), []);
  membership.welcome(pool);
  hood.maintain(1);
  assert.deepEqual(openedTo(drain(ctx)), [closest.nodeId]);
  assert.ok(ctx.links.byPeer.get(closest.nodeId)!.purpose.kinds.has("bootstrap"));
});

test("gossip lists every up link's ring address; a peer's list is kept on its link for lookahead", () => {
  const { ctx, hood, accept } = setup({ timing: { gossipIntervalMs: 2_000 } });
  const peers = [member(2), member(3), member(4)];
  const links = peers.map((p) => accept(0, p, "near"));
  const gossipAt = (now: number) => {
    drain(ctx);
    hood.maintain(now);
    return drain(ctx).flatMap((a) => {
      if (a.type !== "send-frame" || a.frame[1] !== 0x05) return [];
      const message = decodeOverlayMessage(dataPayload(a.frame));
      return typeof message !== "string" && message.t === "neighbours" ? [{ linkId: a.linkId, message }] : [];
    });
  };
  const gossip = gossipAt(1);
  assert.deepEqual(gossip.map((g) => g.linkId).sort(), links.map((l) => l.id).sort(), "one message per up link");
  for (const { message } of gossip) assert.deepEqual([...(message.links ?? [])].sort(), peers.map(ringOf).sort());
  const again = gossipAt(2_002);
  assert.equal(again.length, 3, "gossip goes on");
  assert.ok(
    again.every((g) => g.message.links === undefined),
    "an unchanged link list is not sent again",
  );
  links.push(accept(2_003, member(5), "near"));
  const changed = gossipAt(4_004);
  assert.equal(changed.length, 4);
  for (const { message } of changed) assert.equal(message.links?.length, 4, "a changed list goes to every peer");

  hood.handleNeighbours(2, links[0]!, { members: [], links: [5, 6] });
  assert.deepEqual(links[0]!.purpose.peerLinks, [5, 6]);
  hood.handleNeighbours(3, links[0]!, { members: [] });
  assert.deepEqual(links[0]!.purpose.peerLinks, [5, 6], "a sender that lists no links leaves the last list");
});

test("a neighbours message with a bad link list is refused", () => {
  const encode = (links: unknown) => new TextEncoder().encode(JSON.stringify({ t: "neighbours", members: [], links }));
  assert.equal(decodeOverlayMessage(encode([1, -1])), "bad-links");
  assert.equal(decodeOverlayMessage(encode([RING_SIZE])), "bad-links");
  assert.equal(decodeOverlayMessage(encode([1.5])), "bad-links");
  assert.equal(decodeOverlayMessage(encode(Array(65).fill(1))), "bad-links");
  assert.equal(decodeOverlayMessage(encode("x")), "bad-links");
  assert.deepEqual(decodeOverlayMessage(encode([0, RING_SIZE - 1])), {
    t: "neighbours",
    members: [],
    links: [0, RING_SIZE - 1],
  });
});
