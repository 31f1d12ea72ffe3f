import assert from "node:assert/strict";
import { test } from "vitest";
import type { OverlayNode } from "./overlay-node.js";
import { MiniNet, member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";

const N = 40;

/** A ring of N nodes joined one by one, as agents would start. */
function ringOf(n = N, seed = 1): MiniNet {
  const net = new MiniNet(16, {}, {}, seed);
  for (let i = 1; i <= n; i++) {
    net.join(member(i));
    net.advance(2_000);
  }
  net.advance(30_000);
  return net;
}

function linksOf(node: OverlayNode, net: MiniNet) {
  return node.status(net.now).links.filter((l) => l.state === "up");
}

/** Sends one packet from node i to node j; true when exactly it arrived. */
function deliver(net: MiniNet, i: number, j: number): boolean {
  const marker = new Uint8Array([i, j, 0xaa]);
  const before = net.delivered.get(member(j).nodeId)!.length;
  net.nodes
    .get(member(i).nodeId)!
    .handleHostPacket(net.at(), withHeadroom(makeIpv4Packet(`10.88.0.${i}`, `10.88.0.${j}`, marker)));
  net.settle();
  const got = net.delivered.get(member(j).nodeId)!.slice(before);
  return got.length === 1 && got[0]![20] === i && got[0]![21] === j;
}

function unreachablePairs(net: MiniNet, alive: readonly number[]): string[] {
  const failed: string[] = [];
  for (const i of alive) for (const j of alive) if (i !== j && !deliver(net, i, j)) failed.push(`${i}->${j}`);
  return failed;
}

test("40 nodes form a ring with near links and shortcuts, far fewer links than a mesh, and route every pair", () => {
  const net = ringOf();
  const cap = 4 + Math.ceil(Math.log2(N));
  for (const node of net.nodes.values()) {
    const links = linksOf(node, net);
    assert.ok(links.length >= 4, `${node.self.name} has ${links.length} links`);
    assert.ok(links.length <= cap + 4, `${node.self.name} has ${links.length} links, more than ${cap + 4}`);
    assert.equal(links.filter((l) => l.kinds.includes("near")).length, 4, `${node.self.name} near links`);
    assert.ok(
      links.some((l) => l.kinds.includes("shortcut") || l.remoteKinds.includes("shortcut")),
      `${node.self.name} has no shortcut`,
    );
  }
  const all = Array.from({ length: N }, (_, i) => i + 1);
  assert.deepEqual(unreachablePairs(net, all), []);
});

test("a busy pair without a direct link gets an on-demand link, also with the signaling server gone", () => {
  const net = ringOf();
  net.setSignaling(false);
  const direct = (i: number, j: number) =>
    linksOf(net.nodes.get(member(i).nodeId)!, net).find((l) => l.peer.ip === `10.88.0.${j}`);
  let pair: [number, number] | undefined;
  for (let j = 2; j <= N && pair === undefined; j++) if (direct(1, j) === undefined) pair = [1, j];
  assert.ok(pair, "node 1 links to everyone?");
  const [i, j] = pair;
  for (let k = 0; k < 12; k++) {
    assert.ok(deliver(net, i, j));
    net.advance(100);
  }
  net.advance(2_000);
  const link = direct(i, j);
  assert.ok(link, "on-demand link formed");
  assert.ok(link.kinds.includes("on-demand") || link.remoteKinds.includes("on-demand"), JSON.stringify(link));
  assert.ok(deliver(net, i, j) && deliver(net, j, i));
  // Idle for longer than the on-demand timeout: trimmed unless the ring needs it for something else.
  net.advance(90_000);
  const later = direct(i, j);
  assert.ok(later === undefined || later.kinds.some((k) => k !== "on-demand") || later.remoteKinds.length > 0);
});

test("routes are traced hop by hop to the owner, and report when nobody owns the address", () => {
  const net = ringOf();
  const a = net.nodes.get(member(1).nodeId)!;
  const far = linksOf(a, net).some((l) => l.peer.ip === "10.88.0.30") ? 31 : 30;
  const id = a.traceRoute(net.at(), (10 << 24) | (88 << 16) | far);
  net.settle();
  const result = net.events.find((e) => e.event.kind === "trace-result" && e.event.id === id)?.event;
  assert.ok(result && result.kind === "trace-result");
  assert.equal(result.owner, true);
  assert.equal(result.path[0]!.ip, "10.88.0.1");
  assert.equal(result.path.at(-1)!.ip, `10.88.0.${far}`);
  const nobody = a.traceRoute(net.at(), (10 << 24) | (88 << 16) | 200);
  net.settle();
  const miss = net.events.find((e) => e.event.kind === "trace-result" && e.event.id === nobody)?.event;
  assert.ok(miss && miss.kind === "trace-result" && miss.complete && !miss.owner);
});

test("after a fifth of the nodes crash at once, the ring repairs itself and every survivor routes again", () => {
  const net = ringOf();
  const crashed = [3, 7, 11, 15, 19, 23, 27, 31];
  for (const i of crashed) net.crash(member(i).nodeId);
  net.advance(40_000);
  const alive = Array.from({ length: N }, (_, i) => i + 1).filter((i) => !crashed.includes(i));
  assert.deepEqual(unreachablePairs(net, alive), []);
  for (const i of alive) {
    const node = net.nodes.get(member(i).nodeId)!;
    assert.ok(linksOf(node, net).every((l) => !crashed.includes(Number(l.peer.ip.split(".")[3]))));
  }
});

test("overlay pings say whether they went direct, and pinging fast enough earns a direct link", () => {
  const net = ringOf();
  net.setSignaling(false);
  const a = net.nodes.get(member(1).nodeId)!;
  const address = (n: number) => (10 << 24) | (88 << 16) | n;
  const pingResult = (id: number) => {
    const found = net.events.find((e) => e.event.kind === "ping-result" && e.event.id === id)?.event;
    assert.ok(found && found.kind === "ping-result", `no result for ping ${id}`);
    return found;
  };
  const neighbour = Number(linksOf(a, net)[0]!.peer.ip.split(".")[3]);
  const pinged = a.ping(net.at(), address(neighbour));
  net.settle();
  const toNeighbour = pingResult(pinged);
  assert.deepEqual(
    [toNeighbour.complete, toNeighbour.owner, toNeighbour.direct, toNeighbour.path.map((m) => m.ip)],
    [true, true, true, ["10.88.0.1", `10.88.0.${neighbour}`]],
  );
  let far = 2;
  while (linksOf(a, net).some((l) => l.peer.ip === `10.88.0.${far}`)) far++;
  const first = a.ping(net.at(), address(far));
  net.settle();
  const relayed = pingResult(first);
  assert.ok(relayed.complete && relayed.owner && !relayed.direct, JSON.stringify(relayed));
  assert.ok(relayed.path.length >= 3, "through at least one other node");
  assert.equal(relayed.path.at(-1)!.ip, `10.88.0.${far}`);
  // Five a second: ten within the on-demand window ask for a direct link.
  let last = relayed;
  for (let k = 0; k < 30 && !last.direct; k++) {
    net.advance(200);
    const id = a.ping(net.at(), address(far));
    net.settle();
    last = pingResult(id);
  }
  assert.ok(last.direct, "the pings ended up on a direct link");
  assert.deepEqual(
    last.path.map((m) => m.ip),
    ["10.88.0.1", `10.88.0.${far}`],
  );
  assert.ok(linksOf(a, net).some((l) => l.peer.ip === `10.88.0.${far}` && l.kinds.includes("on-demand")));
  const nobody = a.ping(net.at(), address(200));
  net.settle();
  const miss = pingResult(nobody);
  assert.ok(miss.complete && !miss.owner, JSON.stringify(miss));
  // Whoever is closest to the unowned address answers; direct only if a links to it.
  const answeredBy = miss.path.at(-1)!.ip;
  assert.equal(miss.direct, linksOf(a, net).some((l) => l.peer.ip === answeredBy) && miss.path.length === 2);
});
