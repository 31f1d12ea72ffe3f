import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action, NodeEvent } from "./actions.js";
import { RoutedKind, routedDestination, routedKind, routedPayload, routedSource } from "./frame.js";
import { parseIpv4Address } from "./ipv4.js";
import { decodeOverlayMessage, encodeOverlayMessage } from "./overlay-message.js";
import { Pings } from "./pings.js";
import { addUpLink, drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { decodeTrace, encodeTrace, encodeTraceHop } from "./trace-path.js";

/** Pings with a real Router whose events lead back to it, as the node wires them. */
function setup() {
  const ctx = testContext(member(1), { timing: { pingTimeoutMs: 3_000 } });
  const selfHop = encodeTraceHop(ctx.self);
  const conversations: Array<[number, number, number]> = [];
  const { events } = recordRouterEvents({
    pingArrived: (now, payload, source, exact) => pings.arrived(now, payload, source, exact),
    routedMessage: (now, message) => {
      if (message.t === "ping-reply") pings.handleReply(now, message.id, message.path, message.owner, message.direct);
    },
  });
  const { messenger } = testRouter(ctx, events, selfHop);
  const pings: Pings = new Pings(ctx, messenger, selfHop, (now, address, ring) =>
    conversations.push([now, address, ring]),
  );
  /** Fires the ping deadlines due by `now`, as the node's `handleTimeout` does. */
  const runTimers = (now: number) => {
    for (const id of ctx.timers.takeDue(now).ping) pings.handleTimer(id);
  };
  return { ctx, pings, runTimers, conversations };
}

function results(actions: readonly Action[]): NodeEvent[] {
  return actions.flatMap((a) => (a.type === "event" && a.event.kind === "ping-result" ? [a.event] : []));
}

const ip = (text: string) => parseIpv4Address(text)!;

test("a ping leaves as a routed ping frame holding its id and this node, over the direct link if there is one", () => {
  const { ctx, pings, conversations } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const id = pings.start(0, ip("10.88.0.2"));
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.ok(send?.type === "send-frame" && send.linkId === link.id && send.channel === "control");
  assert.deepEqual(
    [routedKind(send.frame), routedSource(send.frame), routedDestination(send.frame)],
    [RoutedKind.ping, ctx.ring, link.ring],
  );
  assert.deepEqual(decodeTrace(routedPayload(send.frame)), { id, path: [member(1)] });
  assert.deepEqual(conversations, [], "a direct link needs no on-demand link");
  assert.equal(ctx.timers.next(false), 3_000);
  assert.notEqual(pings.start(0, ip("10.88.0.2")), id, "each ping has an id of its own");
});

test("a ping without a direct link counts towards an on-demand link", () => {
  const { ctx, pings, conversations } = setup();
  addUpLink(ctx, 1, member(2));
  const target = ip("10.88.0.77");
  pings.start(5, target);
  drain(ctx);
  assert.deepEqual(conversations, [[5, target, ctx.rings.of(target)]]);
});

test("a ping that came straight from a linked origin is answered as direct, with the path plus this node", () => {
  const { ctx, pings } = setup();
  const link = addUpLink(ctx, 1, member(2));
  pings.arrived(10, encodeTrace(7, encodeTraceHop(member(2))), link.ring, true);
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.ok(send?.type === "send-frame" && send.linkId === link.id && send.channel === "control");
  assert.equal(routedDestination(send.frame), link.ring);
  assert.deepEqual(decodeOverlayMessage(routedPayload(send.frame)), {
    t: "ping-reply",
    id: 7,
    path: [member(2), member(1)],
    owner: true,
    direct: true,
  });
});

test("a ping that passed other nodes, or comes from a node we have no link to, is not direct", () => {
  const { ctx, pings } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const payload = new Uint8Array([...encodeTrace(8, encodeTraceHop(member(2))), ...encodeTraceHop(member(3))]);
  pings.arrived(10, payload, link.ring, false);
  const [relayed] = drain(ctx);
  assert.ok(relayed?.type === "send-frame");
  assert.deepEqual(decodeOverlayMessage(routedPayload(relayed.frame)), {
    t: "ping-reply",
    id: 8,
    path: [member(2), member(3), member(1)],
    owner: false,
    direct: false,
  });
  // One hop in the path, but its origin is no peer of ours: it cannot have come over a link of ours.
  pings.arrived(10, encodeTrace(9, encodeTraceHop(member(4))), ctx.rings.of(ip("10.88.0.4")), true);
  const [stranger] = drain(ctx);
  assert.ok(stranger?.type === "send-frame");
  assert.equal((decodeOverlayMessage(routedPayload(stranger.frame)) as { direct: boolean }).direct, false);

  pings.arrived(10, new Uint8Array([0, 0, 0, 1, 0]), link.ring, true);
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("message-bad-ping"), 1);
});

test("the answer completes the ping once with its round trip; a late or unknown answer is ignored", () => {
  const { ctx, pings, runTimers } = setup();
  addUpLink(ctx, 1, member(2));
  const id = pings.start(100, ip("10.88.0.77"));
  drain(ctx);
  pings.handleReply(120, id + 50, [member(9)], true, false);
  assert.deepEqual(drain(ctx), []);
  pings.handleReply(112.5, id, [member(1), member(2), member(77)], true, false);
  assert.deepEqual(results(drain(ctx)), [
    {
      kind: "ping-result",
      id,
      complete: true,
      rttMs: 12.5,
      path: [member(1), member(2), member(77)],
      owner: true,
      direct: false,
    },
  ]);
  assert.equal(ctx.timers.next(false), Number.POSITIVE_INFINITY, "answered: its deadline is gone");
  pings.handleReply(130, id, [member(1)], true, true);
  runTimers(10_000);
  assert.deepEqual(drain(ctx), [], "neither a second answer nor a timeout");
});

test("a ping without an answer is reported lost at its deadline", () => {
  const { ctx, pings, runTimers } = setup();
  addUpLink(ctx, 1, member(2));
  const id = pings.start(100, ip("10.88.0.77"));
  drain(ctx);
  runTimers(3_099);
  assert.deepEqual(drain(ctx), []);
  runTimers(3_100);
  assert.deepEqual(results(drain(ctx)), [
    { kind: "ping-result", id, complete: false, rttMs: null, path: [], owner: false, direct: false },
  ]);
  pings.handleReply(3_200, id, [member(1), member(77)], true, false);
  assert.deepEqual(drain(ctx), []);
});

test("a ping of this node's own address is answered here, as the owner, not direct", () => {
  const { ctx, pings } = setup();
  addUpLink(ctx, 1, member(2));
  const id = pings.start(0, ip("10.88.0.1"));
  assert.deepEqual(results(drain(ctx)), [
    { kind: "ping-result", id, complete: true, rttMs: 0, path: [member(1)], owner: true, direct: false },
  ]);
});

test("ping replies decode only with a path of members and an integer id", () => {
  const reply = { t: "ping-reply", id: 3, path: [member(1), member(2)], owner: true, direct: true } as const;
  assert.deepEqual(decodeOverlayMessage(encodeOverlayMessage(reply)), reply);
  const bad = new TextEncoder().encode(JSON.stringify({ t: "ping-reply", id: 1.5, path: [] }));
  assert.equal(decodeOverlayMessage(bad), "bad-ping");
  const noPath = new TextEncoder().encode(JSON.stringify({ t: "ping-reply", id: 1, path: [{}] }));
  assert.equal(decodeOverlayMessage(noPath), "bad-ping");
});
