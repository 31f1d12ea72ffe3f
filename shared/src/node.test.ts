import assert from "node:assert/strict";
import { test } from "vitest";
import { CoreError } from "./errors.js";
import { encodeBatch, encodeDataFrame, FRAME_VERSION } from "./frame.js";
import { OverlayNode } from "./overlay-node.js";
import { MiniNet, member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";
import { UnsignedTrust } from "./testing/unsigned-trust.js";

function upPeers(node: OverlayNode, now = 0): string[] {
  return node
    .status(now)
    .links.filter((l) => l.state === "up")
    .map((l) => l.peer.ip)
    .sort();
}

const random = () => 0.5;

test("bad configuration is refused with an error that says what to fix", () => {
  assert.throws(
    () =>
      new OverlayNode({
        self: { nodeId: "a", name: "h", ip: "10.88.0.300" },
        network: "n",
        prefixLength: 16,
        random,
        trust: new UnsignedTrust(member(1)),
      }),
    (e: unknown) => e instanceof CoreError && e.code === "IPOP_BAD_CONFIG" && /ip/.test(e.message),
  );
  const trust = new UnsignedTrust(member(1));
  assert.throws(
    () => new OverlayNode({ self: member(1), network: "bad name", prefixLength: 16, random, trust }),
    CoreError,
  );
  assert.throws(() => new OverlayNode({ self: member(1), network: "n", prefixLength: 31, random, trust }), CoreError);
});

test("three nodes link to each other and carry packets both ways", () => {
  const net = new MiniNet();
  const [a, b, c] = [1, 2, 3].map((n) => net.join(member(n)));
  assert.deepEqual(upPeers(a!), ["10.88.0.2", "10.88.0.3"]);
  assert.deepEqual(upPeers(b!), ["10.88.0.1", "10.88.0.3"]);
  assert.deepEqual(upPeers(c!), ["10.88.0.1", "10.88.0.2"]);

  const packet = makeIpv4Packet("10.88.0.1", "10.88.0.3", new Uint8Array([1, 2, 3, 4]));
  a!.handleHostPacket(net.at(), withHeadroom(packet));
  net.settle();
  assert.deepEqual(net.delivered.get("node003"), [packet]);
  assert.equal(net.delivered.get("node002")!.length, 0);

  const reply = makeIpv4Packet("10.88.0.3", "10.88.0.1");
  c!.handleHostPacket(net.at(), withHeadroom(reply));
  net.settle();
  assert.deepEqual(net.delivered.get("node001"), [reply]);
  const linkToC = a!.status(net.now).links.find((l) => l.peer.ip === "10.88.0.3")!;
  assert.deepEqual(linkToC.tx, { bytes: packet.length, packets: 1 });
  assert.deepEqual(linkToC.rx, { bytes: reply.length, packets: 1 });
  assert.ok(linkToC.kinds.includes("near"));
});

test("the newcomer offers its first link through the signaling server", () => {
  const net = new MiniNet();
  net.join(member(1, "aa"));
  net.join(member(2, "zz"));
  const opening = net.events.filter((e) => e.event.kind === "link-opening");
  assert.equal(opening.length, 2);
  const offerer = opening.find((e) => e.event.kind === "link-opening" && e.event.role === "offerer");
  assert.equal(offerer?.node, "zz");
});

test("host packets that cannot be delivered are dropped and counted; an unowned address gets ICMP back", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  const b = net.join(member(2));
  const send = (src: string, dst: string) => a.handleHostPacket(net.at(), withHeadroom(makeIpv4Packet(src, dst)));
  send("10.88.0.1", "192.0.2.1");
  send("10.88.0.1", "10.88.255.255");
  send("10.88.0.1", "224.0.0.22");
  a.handleHostPacket(net.at(), withHeadroom(new Uint8Array([0x60, 0, 0, 0])));
  const bad = makeIpv4Packet("10.88.0.1", "10.88.0.2");
  bad[10]! ^= 0xff;
  a.handleHostPacket(net.at(), withHeadroom(bad));
  send("10.88.0.1", "10.88.0.77");
  net.settle();
  const drops = { ...a.status(net.now).drops };
  const noSuchHost = (drops["no-such-host"] ?? 0) + (b.status(net.now).drops["no-such-host"] ?? 0);
  delete drops["no-such-host"];
  assert.deepEqual(drops, { "off-network": 1, "host-short-packet": 1, "host-bad-checksum": 1 });
  assert.equal(noSuchHost, 1);
  // Broadcast and multicast flood the ring instead (router-flood.test.ts).
  assert.equal(net.delivered.get("node002")!.length, 2);
  const icmp = net.delivered.get("node001")!;
  assert.equal(icmp.length, 1);
  assert.deepEqual([icmp[0]![9], icmp[0]![20], icmp[0]![21]], [1, 3, 1], "ICMP host unreachable");
  assert.deepEqual([...icmp[0]!.subarray(44, 48)], [10, 88, 0, 77], "quotes the original destination");
});

test("frames from a peer: malformed, spoofed or misaddressed packets are dropped and counted", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  net.join(member(2));
  const linkId = a.status(net.now).links[0]!.linkId;
  const frames = [
    new Uint8Array([]),
    new Uint8Array([FRAME_VERSION + 1, 1, 0x45]),
    new Uint8Array([FRAME_VERSION, 0x7e, 0]),
    encodeDataFrame(makeIpv4Packet("10.88.0.9", "10.88.0.1")), // source is not the peer's
    encodeDataFrame(makeIpv4Packet("10.88.0.2", "10.88.0.3")), // not for us
    encodeDataFrame(new Uint8Array(10)),
  ];
  for (const frame of frames) a.handleFrame(net.at(), linkId, frame);
  a.handleFrame(net.at(), 999, encodeDataFrame(makeIpv4Packet("10.88.0.2", "10.88.0.1")));
  net.settle();
  assert.equal(net.delivered.get("node001")!.length, 0);
  const status = a.status(net.now);
  assert.deepEqual(status.drops, {
    "short-frame": 1,
    "bad-frame-version": 1,
    "unknown-frame-type": 1,
    "spoofed-source": 1,
    "not-for-us": 1,
    "short-packet": 1,
    "unknown-link": 1,
  });
  assert.equal(status.links[0]!.drops["spoofed-source"], 1);
});

test("keepalives measure RTT and a silent peer is dropped, then its restart is linked again", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  net.join(member(2));
  net.join(member(3));
  net.advance(5_000);
  assert.deepEqual(upPeers(a, net.now), ["10.88.0.2", "10.88.0.3"]);
  assert.equal(a.status(net.now).links[0]!.rttMs, 0);

  net.crash("node003");
  net.advance(9_000);
  assert.deepEqual(upPeers(a, net.now), ["10.88.0.2"]);
  assert.ok(
    net.events.some(
      (e) => e.node === "node001" && e.event.kind === "link-down" && e.event.reason === "keepalive-timeout",
    ),
  );

  net.join(member(3, "node003b"));
  assert.deepEqual(upPeers(a, net.now), ["10.88.0.2", "10.88.0.3"]);
});

test("a restarted node with the same address replaces the old one at once", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  net.join(member(2));
  // The old process is gone but nobody noticed yet (no member-left, no timeout).
  net.nodes.delete("node002");
  net.join(member(2, "node002b"));
  const links = a.status(net.now).links;
  assert.deepEqual(
    links.map((l) => [l.peer.nodeId, l.state]),
    [["node002b", "up"]],
  );
  assert.ok(net.events.some((e) => e.event.kind === "address-conflict" && e.event.dropped === "node002"));
});

test("links survive the signaling server going away and coming back", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  net.join(member(2));
  net.setSignaling(false);
  net.advance(60_000);
  assert.deepEqual(upPeers(a, net.now), ["10.88.0.2"]);
  net.setSignaling(true);
  net.advance(5_000);
  assert.equal(a.status(net.now).links.length, 1);
  assert.equal(net.events.filter((e) => e.event.kind === "link-up").length, 2);
});

test("a first link that never comes up times out and is retried with backoff", () => {
  const net = new MiniNet(16, { linkSetupTimeoutMs: 1_000, retryInitialMs: 500, retryMaxMs: 4_000 });
  const a = net.join(member(1));
  // A member the signaling server lists but that never answers.
  a.handleSignalingUp(net.at(), [member(9, "zzz-silent")]);
  net.advance(20_000);
  const opened = net.events.filter((e) => e.node === "node001" && e.event.kind === "link-opening").length;
  // 1 s setup timeout, backoff 0.5, 1, 2, 4, 4 s...: about 6-7 attempts in 20 s, not 20.
  assert.ok(opened >= 4 && opened <= 9, `attempts: ${opened}`);
  a.handleMemberLeft(net.at(), "zzz-silent");
  net.advance(20_000);
  assert.equal(net.events.filter((e) => e.node === "node001" && e.event.kind === "link-opening").length, opened);
});

test("unsealed, malformed, misaddressed and stale link envelopes are dropped, never thrown", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  const sealedBy =
    (m = member(2, "peer"), to = "node001") =>
    (body: unknown) =>
      new UnsignedTrust(m).seal(0, to, body);
  const fromPeer = sealedBy();
  // Not sealed at all, or a seal around garbage.
  for (const body of [
    null,
    1,
    "x",
    [],
    { v: 1, kind: "open", session: "peer.1", from: member(2, "peer"), payload: {} },
  ]) {
    a.handleSignal(net.at(), "peer", body);
  }
  for (const body of [{ v: 2 }, { v: 1, kind: "open", session: "x.1" }, { v: 1, kind: "nope", session: "a.1" }]) {
    a.handleSignal(net.at(), "peer", fromPeer(body));
  }
  a.handleSignal(net.at(), "peer", fromPeer({ v: 1, kind: "signal", session: "peer.5", payload: {} }));
  // Sealed for another node, or relayed as if from another sender.
  a.handleSignal(
    net.at(),
    "peer",
    sealedBy(member(2, "peer"), "node009")({ v: 1, kind: "close", session: "peer.2", reason: "" }),
  );
  a.handleSignal(net.at(), "other", fromPeer({ v: 1, kind: "close", session: "peer.3", reason: "" }));
  // Opens whose member record the seal does not back, or that claim our address or one off the network.
  const self = member(1, "peer");
  a.handleSignal(net.at(), "peer", sealedBy(self)({ v: 1, kind: "open", session: "peer.6", from: self, payload: {} }));
  a.handleSignal(
    net.at(),
    "peer",
    fromPeer({ v: 1, kind: "open", session: "peer.7", from: member(2, "other"), payload: {} }),
  );
  a.handleSignal(
    net.at(),
    "peer",
    fromPeer({ v: 1, kind: "open", session: "peer.4", from: member(3, "peer"), payload: {} }),
  );
  const far = { ...member(2, "peer"), ip: "10.99.0.2" };
  a.handleSignal(net.at(), "peer", sealedBy(far)({ v: 1, kind: "open", session: "peer.8", from: far, payload: {} }));
  net.settle();
  assert.deepEqual(a.status(net.now).drops, {
    "signal-envelope-malformed": 5,
    "signal-envelope-misaddressed": 1,
    "signal-malformed": 3,
    "signal-stale-session": 1,
    "signal-address-conflict": 1,
    "signal-sender-mismatch": 3,
    "signal-off-network-address": 1,
  });
  assert.equal(a.status(net.now).links.length, 0);
});

test("shutdown closes every link and tells the peers", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  const b = net.join(member(2));
  a.shutdown(net.at());
  net.settle();
  assert.equal(a.status(net.now).links.length, 0);
  assert.equal(b.status(net.now).links.length, 0);
  assert.ok(net.events.some((e) => e.node === "node002" && e.event.kind === "link-down"));
});

test("a node that shuts down and restarts under a new id is linked once, and gossip of its old id is ignored", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  const b = net.join(member(2));
  net.join(member(3));
  b.shutdown(net.at());
  net.settle();
  net.nodes.delete("node002");
  net.join(member(2, "node002b"));
  net.advance(20_000);
  const toTwo = a.status(net.now).links.filter((l) => l.peer.ip === "10.88.0.2");
  assert.deepEqual(
    toTwo.map((l) => [l.peer.nodeId, l.state]),
    [["node002b", "up"]],
  );
  const packet = makeIpv4Packet("10.88.0.1", "10.88.0.2");
  a.handleHostPacket(net.at(), withHeadroom(packet));
  net.settle();
  assert.deepEqual(net.delivered.get("node002b"), [packet]);
});

test("a batch frame delivers each packet it carries; bad ones inside are dropped and counted", () => {
  const net = new MiniNet();
  const a = net.join(member(1));
  net.join(member(2));
  const linkId = a.status(net.now).links[0]!.linkId;
  const good = [
    makeIpv4Packet("10.88.0.2", "10.88.0.1", new Uint8Array([1])),
    makeIpv4Packet("10.88.0.2", "10.88.0.1"),
  ];
  const inner = [
    encodeDataFrame(good[0]!),
    encodeDataFrame(makeIpv4Packet("10.88.0.9", "10.88.0.1")), // source is not the peer's
    encodeBatch([encodeDataFrame(good[0]!)]), // nested
    encodeDataFrame(good[1]!),
  ];
  const batch = encodeBatch(inner);
  a.handleFrame(net.at(), linkId, batch);
  a.handleFrame(net.at(), linkId, new Uint8Array([...batch, 0, 9, 1])); // runs past its end: all dropped
  net.settle();
  assert.deepEqual(net.delivered.get("node001"), good);
  assert.deepEqual(a.status(net.now).drops, { "spoofed-source": 1, "nested-batch": 1, "bad-frame-length": 1 });
});
