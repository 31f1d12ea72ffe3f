import assert from "node:assert/strict";
import { test } from "vitest";
import { RoutedKind, writeRoutedHeader } from "./frame.js";
import type { OverlayNode } from "./overlay-node.js";
import { MiniNet, member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";

/**
 * Relays on virtual time: nodes that cannot link directly (MiniNet's "cannot link" matrix, as two
 * symmetric NATs) still reach each other, the ring stays a ring, relayed paths give way to direct
 * ones, and the relay in the middle cannot forge the ends' packets.
 */

const id = (n: number) => member(n).nodeId;

function nodeOf(net: MiniNet, n: number): OverlayNode {
  return net.nodes.get(id(n))!;
}

/** Sends one packet from node i to node j; true when exactly it arrived. */
function deliver(net: MiniNet, i: number, j: number): boolean {
  const marker = new Uint8Array([i, j, 0xaa]);
  const before = net.delivered.get(id(j))!.length;
  nodeOf(net, i).handleHostPacket(net.at(), withHeadroom(makeIpv4Packet(`10.88.0.${i}`, `10.88.0.${j}`, marker)));
  net.settle();
  const got = net.delivered.get(id(j))!.slice(before);
  return got.length === 1 && got[0]![20] === i && got[0]![21] === j;
}

function unreachablePairs(net: MiniNet, nodes: readonly number[]): string[] {
  const failed: string[] = [];
  for (const i of nodes) for (const j of nodes) if (i !== j && !deliver(net, i, j)) failed.push(`${i}->${j}`);
  return failed;
}

function directPeers(net: MiniNet, n: number): string[] {
  return nodeOf(net, n)
    .status(net.now)
    .links.filter((l) => l.state === "up")
    .map((l) => l.peer.nodeId);
}

function relayed(net: MiniNet, n: number) {
  return nodeOf(net, n)
    .status(net.now)
    .relays.filter((r) => r.state === "up");
}

/** Nodes 1..n joined one by one; `blocked(i, j)` says which pairs can never link directly. */
function netOf(n: number, blocked: (i: number, j: number) => boolean, seed = 1): MiniNet {
  const net = new MiniNet(16, {}, {}, seed);
  for (let i = 1; i <= n; i++) for (let j = i + 1; j <= n; j++) if (blocked(i, j)) net.block(id(i), id(j));
  for (let i = 1; i <= n; i++) {
    net.join(member(i));
    net.advance(2_000);
  }
  net.advance(90_000);
  return net;
}

/** Node numbers 1..n in ring order. */
function ringOrder(net: MiniNet, n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => nodeOf(net, a).ring - nodeOf(net, b).ring);
}

test("with one hub the only node others can link to, every pair still reaches every other through it", () => {
  const n = 8;
  const net = netOf(n, (i, j) => i !== 1 && j !== 1);
  const all = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = 2; i <= n; i++) assert.deepEqual(directPeers(net, i), [id(1)], `node ${i} links only to the hub`);
  assert.deepEqual(unreachablePairs(net, all), []);
  // Every node's ring neighbours other than the hub are reached through the hub, sealed end to end.
  for (let i = 2; i <= n; i++) {
    const paths = relayed(net, i);
    assert.ok(paths.length >= 2, `node ${i} has ${paths.length} relayed paths`);
    for (const path of paths) assert.equal(path.via?.nodeId, id(1));
  }
  assert.ok(nodeOf(net, 1).status(net.now).relayedForOthers > 0);
  const drops = all.flatMap((i) => Object.keys(nodeOf(net, i).status(net.now).drops));
  assert.ok(!drops.some((d) => d.startsWith("relay-bad") || d === "relay-unsealed"), drops.join(","));
});

test("when every node cannot link to its ring successor, the ring stays a ring and routes every pair", () => {
  const n = 12;
  // Ring order is known only after the nodes exist: find it on a scratch net of the same members.
  const order = ringOrder(
    netOf(n, () => false),
    n,
  );
  const successor = new Map(order.map((node, k) => [node, order[(k + 1) % n]!]));
  const net = netOf(n, (i, j) => successor.get(i) === j || successor.get(j) === i);
  for (const [a, b] of successor) assert.ok(!directPeers(net, a).includes(id(b)), `${a} and ${b} linked`);
  assert.deepEqual(unreachablePairs(net, order), []);
  for (const [a, b] of successor) {
    assert.ok(
      relayed(net, a).some((r) => r.peer.nodeId === id(b)) || relayed(net, b).some((r) => r.peer.nodeId === id(a)),
      `no relayed path between ring neighbours ${a} and ${b}`,
    );
  }
});

test("a relayed path gives way to a direct link once one comes up, and a dead direct link falls back to a relay", () => {
  const n = 6;
  const net = netOf(n, (i, j) => i !== 1 && j !== 1);
  const x = 2;
  const y = Number(relayed(net, x)[0]!.peer.ip.split(".")[3]);
  assert.ok(
    relayed(net, x).some((r) => r.peer.nodeId === id(y)),
    "a relayed pair to start from",
  );
  net.unblock(id(x), id(y));
  // The next direct attempt comes at the end of the setup backoff (at most 30 s).
  net.advance(45_000);
  assert.ok(directPeers(net, x).includes(id(y)), "direct link after unblocking");
  assert.ok(!relayed(net, x).some((r) => r.peer.nodeId === id(y)), "relayed path dropped");
  assert.ok(!relayed(net, y).some((r) => r.peer.nodeId === id(x)), "and at the other end");
  assert.ok(deliver(net, x, y) && deliver(net, y, x));
  // The direct path dies (the block comes back mid-flow): a relayed one takes over within seconds.
  net.block(id(x), id(y));
  net.advance(12_000);
  assert.ok(!directPeers(net, x).includes(id(y)));
  assert.ok(
    relayed(net, x).some((r) => r.peer.nodeId === id(y)) || relayed(net, y).some((r) => r.peer.nodeId === id(x)),
  );
  assert.ok(deliver(net, x, y) && deliver(net, y, x));
});

test("the relay cannot inject packets in the name of an end, nor alter sealed ones", () => {
  const n = 6;
  const net = netOf(n, (i, j) => i !== 1 && j !== 1);
  const path = relayed(net, 2)[0]!;
  const target = Number(path.peer.ip.split(".")[3]);
  const targetNode = nodeOf(net, target);
  const linkFromHub = targetNode.status(net.now).links.find((l) => l.peer.nodeId === id(1))!;
  const dropsOf = (reason: string) => targetNode.status(net.now).drops[reason] ?? 0;
  const delivered = net.delivered.get(id(target))!.length;
  // A routed packet the hub makes up, claiming to come from node 2: its source ring address and IP agree.
  const packet = withHeadroom(makeIpv4Packet("10.88.0.2", path.peer.ip, new Uint8Array([1, 2, 3])));
  const frame = new Uint8Array(packet.buffer, packet.byteOffset - 16, packet.length + 16).slice();
  writeRoutedHeader(frame, {
    ttl: 8,
    kind: RoutedKind.packet,
    source: nodeOf(net, 2).ring,
    destination: targetNode.ring,
  });
  targetNode.handleFrame(net.at(), linkFromHub.linkId, frame);
  net.settle();
  assert.equal(dropsOf("relay-unsealed"), 1);
  // A sealed frame with a made-up counter and tag.
  const sealed = new Uint8Array(16 + 8 + 1 + frame.length + 16);
  writeRoutedHeader(sealed, {
    ttl: 8,
    kind: RoutedKind.relay,
    source: nodeOf(net, 2).ring,
    destination: targetNode.ring,
  });
  sealed[24] = 2;
  sealed.set(frame, 25);
  targetNode.handleFrame(net.at(), linkFromHub.linkId, sealed);
  net.settle();
  assert.equal(dropsOf("relay-bad-tag"), 1);
  assert.equal(net.delivered.get(id(target))!.length, delivered, "nothing forged reached the host");
  assert.ok(deliver(net, 2, target), "the real end still gets through");
});

test("a trace over a relayed path names the relay", () => {
  const net = netOf(6, (i, j) => i !== 1 && j !== 1);
  const path = relayed(net, 2)[0]!;
  const node = nodeOf(net, 2);
  const traceId = node.traceRoute(net.at(), Number(path.peer.ip.split(".")[3]) + (10 << 24) + (88 << 16));
  net.settle();
  const result = net.events.find((e) => e.node === id(2) && e.event.kind === "trace-result" && e.event.id === traceId);
  assert.ok(
    result?.event.kind === "trace-result" && result.event.complete && result.event.owner,
    JSON.stringify(result),
  );
  assert.deepEqual(
    result.event.path.map((m) => m.nodeId),
    [id(2), id(1), path.peer.nodeId],
  );
});
