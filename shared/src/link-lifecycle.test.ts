import assert from "node:assert/strict";
import { test } from "vitest";
import type { Action } from "./actions.js";
import { decodePing, encodePing, FrameType, routedPayload } from "./frame.js";
import type { OpenMode } from "./identity/envelope-guard.js";
import { LinkLifecycle, type LinkPolicy, RTT_REFRESH_INTERVALS } from "./link-lifecycle.js";
import type { LinkRecord } from "./link-record.js";
import { Membership } from "./membership.js";
import type { OpenedEnvelope } from "./node-trust.js";
import { decodeOverlayMessage, type LinkKind } from "./overlay-message.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { drain, recordRouterEvents, testContext, testRouter } from "./testing/context.js";
import { member } from "./testing/mini-net.js";
import { UnsignedTrust } from "./testing/unsigned-trust.js";
import type { Timing } from "./timing.js";
import { encodeTraceHop } from "./trace-path.js";

/** A `LinkPolicy` that records what it is told and refuses the purposes in `refusing`. */
class RecordingPolicy implements LinkPolicy {
  readonly calls: string[] = [];
  readonly refusing = new Set<LinkKind>();

  learn(_now: number, m: MemberInfo): void {
    this.calls.push(`learn ${m.nodeId}`);
  }
  refuses(purpose: LinkKind): boolean {
    return this.refusing.has(purpose);
  }
  accepted(link: LinkRecord, purpose: LinkKind): void {
    this.calls.push(`accepted ${link.id} ${purpose}`);
  }
  linkCameUp(_now: number, link: LinkRecord): void {
    this.calls.push(`up ${link.id}`);
  }
  linkClosed(_now: number, link: LinkRecord, reason: string): void {
    this.calls.push(`closed ${link.id} ${reason}`);
  }
  shortcutRefused(): void {
    this.calls.push("shortcut-refused");
  }
  supersede(_now: number, nodeId: string): void {
    this.calls.push(`supersede ${nodeId}`);
  }
}

function setup(self = member(1), timing: Partial<Timing> = {}, trust = new UnsignedTrust(self)) {
  const ctx = testContext(self, { timing });
  const membership = new Membership(self.nodeId);
  const policy = new RecordingPolicy();
  const { events } = recordRouterEvents({
    keepalive: (now, link, frame, type) => lifecycle.handleKeepalive(now, link, frame, type),
  });
  const { router, messenger } = testRouter(ctx, events, encodeTraceHop(self));
  const lifecycle: LinkLifecycle = new LinkLifecycle(ctx, trust, membership, messenger, policy);
  /**
   * Fires every link deadline up to `until` in order, as the node's `handleTimeout` would; returns the
   * actions each firing queued, with its time.
   */
  const runTimers = (until: number): Array<[number, Action]> => {
    const fired: Array<[number, Action]> = [];
    for (let at = ctx.timers.next(false); at <= until; at = ctx.timers.next(false)) {
      for (const id of ctx.timers.takeDue(at).link) lifecycle.handleTimer(at, id);
      for (const action of drain(ctx)) fired.push([at, action]);
    }
    return fired;
  };
  return { ctx, membership, policy, router, lifecycle, runTimers };
}

/** What `from` seals for `to`, as its node would send it. */
function sealed(from: MemberInfo, to: string, envelope: unknown): unknown {
  return new UnsignedTrust(from).seal(0, to, envelope);
}

function openEnvelope(from: MemberInfo, session: string, purpose: LinkKind = "near", payload: unknown = { offer: 1 }) {
  return { v: 1, kind: "open", session, from, purpose, payload };
}

function closes(actions: ReadonlyArray<Action | [number, Action]>): string[] {
  return actions
    .map((a) => (Array.isArray(a) ? a[1] : a))
    .flatMap((a) => (a.type === "close-link" ? [`${a.linkId} ${a.reason}`] : []));
}

test("openLink needs a way to carry setup: signaling while no link is up, the overlay once one is", () => {
  const { ctx, membership, lifecycle } = setup();
  assert.equal(lifecycle.openLink(0, member(2), "near"), undefined);
  assert.deepEqual(drain(ctx), []);

  membership.welcome([]);
  const first = lifecycle.openLink(0, member(2), "bootstrap")!;
  assert.deepEqual(
    [first.via, first.role, first.life.state, first.life.openedFor],
    ["signaling", "offerer", "connecting", "bootstrap"],
  );
  assert.deepEqual(drain(ctx), [
    { type: "event", event: { kind: "link-opening", linkId: first.id, peer: member(2), role: "offerer" } },
    { type: "open-link", linkId: first.id, peer: member(2), role: "offerer" },
  ]);
  lifecycle.handleLinkUp(10, first.id);
  drain(ctx);
  const second = lifecycle.openLink(20, member(3), "shortcut")!;
  assert.equal(second.via, "overlay");
  assert.notEqual(second.session, first.session);
});

test("a node with fewer links than near neighbours offers through the server to members it listed", () => {
  const { ctx, membership, lifecycle } = setup();
  // The ring is still forming around a node with one to three links: an offer routed over the
  // overlay would likely bounce as unreachable. Members the server did not list still go by overlay.
  membership.welcome([member(2), member(3), member(4), member(5), member(6), member(7)]);
  const viaOf = (peer: number) => lifecycle.openLink(0, member(peer), "near")!.via;
  const bootstrap = lifecycle.openLink(0, member(2), "bootstrap")!;
  lifecycle.handleLinkUp(1, bootstrap.id);
  assert.deepEqual([viaOf(3), viaOf(4), viaOf(5)], ["signaling", "signaling", "signaling"]);
  assert.equal(viaOf(9), "overlay", "a member the server did not list");
  for (const link of [...ctx.links.byId.values()]) lifecycle.handleLinkUp(2, link.id);
  assert.ok(ctx.links.up.length >= 2 * ctx.limits.nearPerSide);
  assert.equal(viaOf(6), "overlay", "a node with its near set's worth of links offers over the overlay");
});

test("the offerer's first envelope is an open saying what the link is for; later ones are signals", () => {
  const { ctx, membership, lifecycle } = setup();
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "bootstrap")!;
  drain(ctx);
  lifecycle.handleLinkSignal(1, link.id, { sdp: "offer" });
  lifecycle.handleLinkSignal(2, link.id, { candidate: "c1" });
  const session = link.session;
  assert.deepEqual(drain(ctx), [
    {
      type: "send-signal",
      to: "node002",
      body: sealed(member(1), "node002", {
        v: 1,
        kind: "open",
        session,
        from: member(1),
        purpose: "bootstrap",
        payload: { sdp: "offer" },
      }),
    },
    {
      type: "send-signal",
      to: "node002",
      body: sealed(member(1), "node002", { v: 1, kind: "signal", session, payload: { candidate: "c1" } }),
    },
  ]);

  // Once a link is up, setup goes over the overlay, as a routed `link` message.
  lifecycle.handleLinkUp(3, link.id);
  drain(ctx);
  const overlay = lifecycle.openLink(4, member(3), "shortcut")!;
  drain(ctx);
  lifecycle.handleLinkSignal(5, overlay.id, { sdp: "offer2" });
  const [send, ...rest] = drain(ctx);
  assert.equal(rest.length, 0);
  assert.ok(send?.type === "send-frame" && send.linkId === link.id && send.channel === "control");
  assert.deepEqual(decodeOverlayMessage(routedPayload(send.frame)), {
    t: "link",
    from: "node001",
    to: "node003",
    envelope: sealed(member(1), "node003", {
      v: 1,
      kind: "open",
      session: overlay.session,
      from: member(1),
      purpose: "shortcut",
      payload: { sdp: "offer2" },
    }),
  });
});

test("a link that does not come up in time is closed for setup-timeout, and the peer is told", () => {
  const { ctx, membership, policy, lifecycle, runTimers } = setup(member(1), { linkSetupTimeoutMs: 1_000 });
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "near")!;
  drain(ctx);
  assert.deepEqual(runTimers(999), []);
  const fired = runTimers(5_000);
  assert.deepEqual(closes(fired), [`${link.id} setup-timeout`]);
  assert.ok(fired.every(([at]) => at === 1_000));
  assert.ok(
    fired.some(
      ([, a]) =>
        a.type === "send-signal" &&
        (a.body as { envelope: { kind: string; reason: string } }).envelope.reason === "setup-timeout",
    ),
  );
  assert.equal(ctx.links.byId.size, 0);
  assert.deepEqual(policy.calls, [`closed ${link.id} setup-timeout`]);
  lifecycle.handleLinkUp(1_001, link.id);
  assert.deepEqual(drain(ctx), [], "a link that timed out does not come up");
});

test("an up link pings every keepalive interval and is closed after linkDeadAfterMs of silence", () => {
  const { ctx, membership, lifecycle, runTimers } = setup(member(1), {
    keepaliveIntervalMs: 2_000,
    linkDeadAfterMs: 8_000,
  });
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "near")!;
  lifecycle.handleLinkUp(100, link.id);
  const pings: number[] = [];
  const countPings = (actions: Array<[number, Action]>) => {
    for (const [at, a] of actions) {
      if (a.type === "send-frame" && a.frame[1] === FrameType.ping) {
        assert.deepEqual(decodePing(a.frame), { seq: pings.length + 1, sentAt: at });
        pings.push(at);
      }
    }
  };
  countPings(drain(ctx).map((a): [number, Action] => [100, a]));
  const fired = runTimers(8_099);
  countPings(fired);
  assert.deepEqual(pings, [100, 2_100, 4_100, 6_100]);
  assert.deepEqual(closes(fired), []);
  const end = runTimers(8_100);
  assert.deepEqual(closes(end), [`${link.id} keepalive-timeout`]);
  assert.equal(link.life.state, "closed");
});

test("a link stays up while frames arrive, and dies only after they stop", () => {
  const { ctx, membership, lifecycle, router, runTimers } = setup(member(1), {
    keepaliveIntervalMs: 2_000,
    linkDeadAfterMs: 8_000,
  });
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "near")!;
  lifecycle.handleLinkUp(0, link.id);
  drain(ctx);
  // The peer's own keepalives (or any frame) count; we answer its pings.
  let last = 0;
  for (let t = 1_000; t <= 30_000; t += 1_000) {
    assert.deepEqual(closes(runTimers(t)), [], `closed at ${t}`);
    router.handleFrame(t, link.id, encodePing(FrameType.ping, { seq: t, sentAt: t }));
    const pong = drain(ctx).find((a) => a.type === "send-frame" && a.frame[1] === FrameType.pong);
    assert.ok(pong, "a ping is answered");
    last = t;
  }
  assert.equal(link.traffic.lastReceiveAt, last);
  const fired = runTimers(60_000);
  const closedAt = fired.find(([, a]) => a.type === "close-link")?.[0];
  assert.deepEqual(closes(fired), [`${link.id} keepalive-timeout`]);
  // The liveness check runs at each keepalive, so it may notice up to one interval late.
  assert.ok(closedAt !== undefined && closedAt >= last + 8_000 && closedAt <= last + 8_000 + 2_000, `${closedAt}`);
});

test("a link that carries other frames needs no ping; answers to its own pings do not count", () => {
  const { ctx, membership, lifecycle, router, runTimers } = setup(member(1), {
    keepaliveIntervalMs: 2_000,
    linkDeadAfterMs: 8_000,
  });
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "near")!;
  lifecycle.handleLinkUp(0, link.id);
  const pingsIn = (actions: Array<[number, Action]>) =>
    actions.filter(([, a]) => a.type === "send-frame" && a.frame[1] === FrameType.ping).map(([at]) => at);
  assert.equal(pingsIn(drain(ctx).map((a): [number, Action] => [0, a])).length, 1, "a ping as the link comes up");
  // The peer pings us every 1.5 s: every interval has heard something, so we send none but the
  // one that keeps our RTT current, RTT_REFRESH_INTERVALS intervals after the last.
  const heard: Array<[number, Action]> = [];
  for (let t = 1_500; t <= 12_000; t += 1_500) {
    heard.push(...runTimers(t));
    router.handleFrame(t, link.id, encodePing(FrameType.ping, { seq: t, sentAt: t }));
  }
  assert.equal(RTT_REFRESH_INTERVALS, 5);
  assert.deepEqual(pingsIn(heard), [10_000]);
  // Silent from 12,000 on: the first ping goes out a whole interval later, and a pong to it alone
  // does not keep the next one back.
  const quiet = runTimers(14_000);
  assert.deepEqual(pingsIn(quiet), [14_000]);
  router.handleFrame(14_050, link.id, encodePing(FrameType.pong, { seq: link.life.pingSeq, sentAt: 14_000 }));
  assert.equal(link.life.rttMs, 50);
  assert.deepEqual(pingsIn(runTimers(16_000)), [16_000]);
  // Nothing heard after the pong: dead 8 s after it, as without the rule.
  const end = runTimers(30_000);
  assert.deepEqual(pingsIn(end), [18_000, 20_000, 22_000]);
  assert.deepEqual(
    end.filter(([, a]) => a.type === "close-link").map(([at]) => at),
    [22_050],
  );
});

test("a pong to the last ping gives the RTT; stale or future pongs do not", () => {
  const { ctx, membership, lifecycle, router } = setup();
  membership.welcome([]);
  const link = lifecycle.openLink(0, member(2), "near")!;
  lifecycle.handleLinkUp(50, link.id);
  drain(ctx);
  router.handleFrame(60, link.id, encodePing(FrameType.pong, { seq: 0, sentAt: 50 }));
  router.handleFrame(60, link.id, encodePing(FrameType.pong, { seq: 1, sentAt: 70 }));
  assert.equal(link.life.rttMs, null);
  router.handleFrame(80, link.id, encodePing(FrameType.pong, { seq: 1, sentAt: 50 }));
  assert.equal(link.life.rttMs, 30);
});

test("glare: the smaller node id's attempt wins; the loser's open is kept and used if the winner fails", () => {
  const self = member(1, "aaa");
  const peer = member(2, "bbb");
  const { ctx, membership, policy, lifecycle } = setup(self);
  membership.welcome([]);
  const ours = lifecycle.openLink(0, peer, "near")!;
  drain(ctx);
  lifecycle.handleEnvelope(100, "bbb", sealed(peer, "aaa", openEnvelope(peer, "bbb.1")), "signaling");
  assert.deepEqual(drain(ctx), [{ type: "event", event: { kind: "signal-dropped", from: "bbb", reason: "glare" } }]);
  assert.equal(ctx.drops.get("signal-glare"), 1);
  assert.deepEqual([...ctx.links.byId.values()], [ours]);

  // Our attempt fails: the peer's open is answered after all.
  lifecycle.handleLinkDown(500, ours.id, "ice-failed");
  const answer = ctx.links.bySession.get("bbb.1");
  assert.ok(answer !== undefined && answer.role === "answerer" && answer.peer.nodeId === "bbb");
  const actions = drain(ctx);
  assert.deepEqual(
    actions.filter((a) => a.type === "open-link" || a.type === "link-signal"),
    [
      { type: "open-link", linkId: answer.id, peer, role: "answerer" },
      { type: "link-signal", linkId: answer.id, payload: { offer: 1 } },
    ],
  );
  assert.ok(policy.calls.includes(`closed ${ours.id} ice-failed`));
  assert.ok(policy.calls.includes(`accepted ${answer.id} near`));
});

test("glare: a deferred open older than the setup timeout is not used", () => {
  const self = member(1, "aaa");
  const peer = member(2, "bbb");
  const { ctx, membership, lifecycle } = setup(self, { linkSetupTimeoutMs: 1_000 });
  membership.welcome([]);
  const ours = lifecycle.openLink(0, peer, "near")!;
  lifecycle.handleEnvelope(100, "bbb", sealed(peer, "aaa", openEnvelope(peer, "bbb.1")), "signaling");
  lifecycle.handleLinkDown(1_100, ours.id, "ice-failed");
  assert.equal(ctx.links.byId.size, 0);
});

test("glare: the larger node id gives up its own attempt and answers the peer's", () => {
  const self = member(1, "bbb");
  const peer = member(2, "aaa");
  const { ctx, membership, lifecycle } = setup(self);
  membership.welcome([]);
  const ours = lifecycle.openLink(0, peer, "near")!;
  drain(ctx);
  lifecycle.handleEnvelope(100, "aaa", sealed(peer, "bbb", openEnvelope(peer, "aaa.1")), "signaling");
  assert.equal(ours.life.state, "closed");
  const actions = drain(ctx);
  assert.deepEqual(closes(actions), [`${ours.id} replaced`]);
  assert.equal(
    actions.filter((a) => a.type === "send-signal").length,
    0,
    "the peer already gave up on our attempt: no close is sent",
  );
  assert.equal(ctx.links.bySession.get("aaa.1")?.role, "answerer");
});

test("retries back off: each failed setup doubles the delay up to the cap; a link that was up resets it", () => {
  const { ctx, membership, lifecycle, runTimers } = setup(member(1), {
    linkSetupTimeoutMs: 1_000,
    retryInitialMs: 100,
    retryMaxMs: 400,
  });
  membership.welcome([]);
  let now = 0;
  for (const delay of [100, 200, 400, 400]) {
    assert.ok(lifecycle.mayRetry(now, "node002"));
    lifecycle.openLink(now, member(2), "near");
    const fired = runTimers(now + 1_000);
    assert.equal(closes(fired).length, 1);
    const closedAt = now + 1_000;
    assert.equal(lifecycle.mayRetry(closedAt + delay - 1, "node002"), false, `delay ${delay}`);
    assert.equal(lifecycle.mayRetry(closedAt + delay, "node002"), true, `delay ${delay}`);
    now = closedAt + delay;
  }
  const link = lifecycle.openLink(now, member(2), "near")!;
  lifecycle.handleLinkUp(now + 10, link.id);
  lifecycle.handleLinkDown(now + 5_000, link.id, "transport-closed");
  assert.equal(lifecycle.mayRetry(now + 5_099, "node002"), false);
  assert.equal(lifecycle.mayRetry(now + 5_100, "node002"), true);
  assert.ok(lifecycle.mayRetry(0, "node003"), "other nodes are not held back");
  drain(ctx);
});

/** A trust whose senders' certificates expire at `notAfterMs` (wall clock). */
class ExpiringTrust extends UnsignedTrust {
  constructor(
    self: MemberInfo,
    private readonly notAfterMs: number,
  ) {
    super(self);
  }

  override open(wallMs: number, raw: unknown, mode: OpenMode) {
    const opened = super.open(wallMs, raw, mode);
    if (!opened.ok) return opened;
    const value: OpenedEnvelope = { ...opened.value, notAfterMs: this.notAfterMs };
    return { ok: true as const, value };
  }
}

test("closeExpiredLinks closes links whose peer certificate expired by the wall clock, not the monotonic one", () => {
  const self = member(1);
  const peer = member(2);
  const { ctx, lifecycle } = setup(self, {}, new ExpiringTrust(self, 50_000));
  lifecycle.handleEnvelope(0, "node002", sealed(peer, "node001", openEnvelope(peer, "node002.1")), "signaling");
  const link = ctx.links.byPeer.get("node002")!;
  lifecycle.handleLinkUp(10, link.id);
  assert.equal(link.life.peerCertExpiresAt, 50_000);
  drain(ctx);
  ctx.clock.wallMs = 49_999;
  lifecycle.closeExpiredLinks(1_000_000);
  assert.equal(link.life.state, "up");
  ctx.clock.wallMs = 50_000;
  lifecycle.closeExpiredLinks(20);
  assert.equal(link.life.state, "closed");
  assert.deepEqual(closes(drain(ctx)), [`${link.id} certificate-expired`]);
});

test("an open for a purpose the policy refuses is answered with a busy close and counted", () => {
  const { ctx, policy, lifecycle } = setup();
  policy.refusing.add("shortcut");
  const peer = member(2);
  lifecycle.handleEnvelope(
    0,
    "node002",
    sealed(peer, "node001", openEnvelope(peer, "node002.4", "shortcut")),
    "signaling",
  );
  assert.equal(ctx.links.byId.size, 0);
  assert.equal(ctx.drops.get("link-refused-shortcut"), 1);
  assert.deepEqual(drain(ctx), [
    {
      type: "send-signal",
      to: "node002",
      body: sealed(member(1), "node002", { v: 1, kind: "close", session: "node002.4", reason: "busy" }),
    },
  ]);
});

test("a close from the peer closes our end; busy tells the policy to look for shortcuts later", () => {
  const { ctx, membership, policy, lifecycle } = setup();
  membership.welcome([]);
  const peer = member(2);
  const a = lifecycle.openLink(0, peer, "shortcut")!;
  lifecycle.handleEnvelope(
    5,
    "node002",
    sealed(peer, "node001", { v: 1, kind: "close", session: a.session, reason: "busy" }),
    "signaling",
  );
  assert.equal(a.life.state, "closed");
  assert.deepEqual(policy.calls, ["shortcut-refused", `closed ${a.id} busy`]);
  policy.calls.length = 0;
  const b = lifecycle.openLink(10, member(3), "near")!;
  lifecycle.handleEnvelope(
    15,
    "node003",
    sealed(member(3), "node001", { v: 1, kind: "close", session: b.session, reason: "whatever" }),
    "signaling",
  );
  assert.deepEqual(policy.calls, [`closed ${b.id} closed-by-peer`]);
  drain(ctx);
});
