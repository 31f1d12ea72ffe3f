import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action, NodeEvent } from "./actions.js";
import { RoutedKind, routedDestination, routedKind, routedPayload, routedSource } from "./frame.js";
import { parseIpv4Address } from "./ipv4.js";
import { decodeOverlayMessage } from "./overlay-message.js";
import { addUpLink, drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { decodeTrace, encodeTrace, encodeTraceHop } from "./trace-path.js";
import { TRACE_RESEND_MS, Traces } from "./traces.js";

/** Traces with a real Router whose events lead back to it, as the node wires them. */
function setup() {
  const ctx = testContext(member(1), { timing: { traceTimeoutMs: 5_000 } });
  const selfHop = encodeTraceHop(ctx.self);
  const { events, calls } = recordRouterEvents({
    traceArrived: (now, payload, source, exact) => traces.arrived(now, payload, source, exact),
    routedMessage: (_now, message) => {
      if (message.t === "trace-reply") traces.handleReply(message.id, message.path, message.owner);
    },
  });
  const { messenger } = testRouter(ctx, events, selfHop);
  const traces: Traces = new Traces(ctx, messenger, selfHop);
  /** Fires the trace deadlines due by `now`, as the node's `handleTimeout` does. */
  const runTimers = (now: number) => {
    for (const id of ctx.timers.takeDue(now).trace) traces.handleTimer(now, id);
  };
  return { ctx, traces, runTimers, calls };
}

function results(actions: readonly Action[]): NodeEvent[] {
  return actions.flatMap((a) => (a.type === "event" && a.event.kind === "trace-result" ? [a.event] : []));
}

const ip = (text: string) => parseIpv4Address(text)!;

test("a trace to a directly linked address is answered at once", () => {
  const { ctx, traces } = setup();
  addUpLink(ctx, 1, member(2));
  const id = traces.start(0, ip("10.88.0.2"));
  assert.deepEqual(drain(ctx), [
    { type: "event", event: { kind: "trace-result", id, path: [member(1), member(2)], owner: true, complete: true } },
  ]);
  assert.equal(ctx.timers.next(false), Number.POSITIVE_INFINITY, "nothing to wait for");
});

test("a trace that never leaves this node holds only its origin", () => {
  const { ctx, traces } = setup();
  const id = traces.start(0, ip("10.88.0.77"));
  assert.deepEqual(results(drain(ctx)), [
    { kind: "trace-result", id, path: [member(1)], owner: false, complete: true },
  ]);
  assert.equal(ctx.timers.next(false), Number.POSITIVE_INFINITY, "answered: its deadline is gone");
});

test("a trace leaves as a routed trace frame holding its id and this node", () => {
  const { ctx, traces } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const target = ip("10.88.0.77");
  const id = traces.start(0, target);
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.ok(send?.type === "send-frame" && send.linkId === link.id && send.channel === "control");
  assert.deepEqual(
    [routedKind(send.frame), routedSource(send.frame), routedDestination(send.frame)],
    [RoutedKind.trace, ctx.ring, ctx.rings.of(target)],
  );
  assert.deepEqual(decodeTrace(routedPayload(send.frame)), { id, path: [member(1)] });
  assert.notEqual(traces.start(0, target), id, "each trace has an id of its own");
});

test("a trace arriving here is answered towards its source with the path plus this node", () => {
  const { ctx, traces } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const source = ctx.rings.of(ip("10.88.0.2"));
  const payload = new Uint8Array([...encodeTrace(42, encodeTraceHop(member(2))), ...encodeTraceHop(member(3))]);
  traces.arrived(10, payload, source, true);
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.ok(send?.type === "send-frame" && send.linkId === link.id);
  assert.equal(routedDestination(send.frame), source);
  assert.deepEqual(decodeOverlayMessage(routedPayload(send.frame)), {
    t: "trace-reply",
    id: 42,
    path: [member(2), member(3), member(1)],
    owner: true,
  });

  traces.arrived(10, new Uint8Array([0, 0, 0, 1, 0]), source, true);
  assert.deepEqual(drain(ctx), []);
  assert.equal(ctx.drops.get("message-bad-trace"), 1);
});

test("a trace without an answer is sent again each second, then times out as incomplete; a late answer is ignored", () => {
  const { ctx, traces, runTimers } = setup();
  const link = addUpLink(ctx, 1, member(2));
  const target = ip("10.88.0.77");
  const id = traces.start(100, target);
  const [first] = drain(ctx);
  assert.ok(first?.type === "send-frame");
  assert.equal(ctx.timers.next(false), 100 + TRACE_RESEND_MS);
  runTimers(100 + TRACE_RESEND_MS - 1);
  assert.deepEqual(drain(ctx), []);
  const resends: Uint8Array[] = [];
  for (let at = 100 + TRACE_RESEND_MS; at < 5_100; at += TRACE_RESEND_MS) {
    runTimers(at);
    const [again, ...rest] = drain(ctx);
    assert.equal(rest.length, 0, "a resend, nothing else");
    assert.ok(again?.type === "send-frame" && again.linkId === link.id);
    resends.push(again.frame);
  }
  assert.equal(resends.length, 4);
  for (const frame of resends) {
    assert.equal(routedDestination(frame), ctx.rings.of(target));
    assert.deepEqual(decodeTrace(routedPayload(frame)), { id, path: [member(1)] }, "the same trace, the same id");
  }
  assert.equal(ctx.timers.next(false), 5_100, "the last wait ends at the deadline, not a second later");
  runTimers(5_100);
  assert.deepEqual(results(drain(ctx)), [{ kind: "trace-result", id, path: [], owner: false, complete: false }]);
  traces.handleReply(id, [member(1), member(2)], true);
  assert.deepEqual(drain(ctx), []);
  runTimers(20_000);
  assert.deepEqual(drain(ctx), [], "no more resends");
});

test("a resent trace whose destination got a link meanwhile is answered at once", () => {
  const { ctx, traces, runTimers } = setup();
  addUpLink(ctx, 1, member(2));
  const id = traces.start(0, ip("10.88.0.77"));
  drain(ctx);
  addUpLink(ctx, 2, member(77));
  runTimers(TRACE_RESEND_MS);
  assert.deepEqual(results(drain(ctx)), [
    { kind: "trace-result", id, path: [member(1), member(77)], owner: true, complete: true },
  ]);
  assert.equal(ctx.timers.next(false), Number.POSITIVE_INFINITY);
});

test("an answer completes the trace once and clears its deadline; answers to unknown ids are ignored", () => {
  const { ctx, traces, runTimers } = setup();
  addUpLink(ctx, 1, member(2));
  const id = traces.start(0, ip("10.88.0.77"));
  drain(ctx);
  traces.handleReply(id + 100, [member(9)], true);
  assert.deepEqual(drain(ctx), []);
  traces.handleReply(id, [member(1), member(2), member(77)], true);
  assert.deepEqual(results(drain(ctx)), [
    { kind: "trace-result", id, path: [member(1), member(2), member(77)], owner: true, complete: true },
  ]);
  assert.equal(ctx.timers.next(false), Number.POSITIVE_INFINITY);
  traces.handleReply(id, [member(1)], false);
  runTimers(10_000);
  assert.deepEqual(drain(ctx), [], "neither a second answer nor a timeout");
});
