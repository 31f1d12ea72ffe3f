import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { NetworkRegistry } from "./network-registry.js";
import { member } from "./testing/test-client.js";

test("closest lists the others, lookup finds members only in their own network", () => {
  const registry = new NetworkRegistry<string>(10);
  const first = registry.join("n", member("a"), "conn-a");
  assert.deepEqual(first, { ok: true });
  assert.deepEqual(registry.closest("n", member("b").ip, 16, "b"), registry.members("n"));
  const second = registry.join("n", member("b"), "conn-b");
  assert.ok(second.ok);
  assert.deepEqual(
    registry.closest("n", member("b").ip, 16, "b").map((m) => m.peer),
    ["conn-a"],
  );
  registry.join("m", member("c"), "conn-c");
  assert.equal(registry.lookup("n", "a"), "conn-a");
  assert.equal(registry.lookup("m", "a"), undefined);
  assert.equal(registry.lookup("nowhere", "a"), undefined);
  assert.deepEqual(registry.stats(), { networks: 2, members: 3 });
});

test("a full network refuses new ids but accepts a replacement of an existing one", () => {
  const registry = new NetworkRegistry<string>(2);
  registry.join("n", member("a"), "a1");
  registry.join("n", member("b"), "b1");
  assert.deepEqual(registry.join("n", member("c"), "c1"), { ok: false, reason: "network-full" });
  const replaced = registry.join("n", member("a", "10.88.0.9"), "a2");
  assert.ok(replaced.ok);
  assert.equal(replaced.replaced?.peer, "a1");
  assert.deepEqual(
    registry.closest("n", "10.88.0.9", 16, "a").map((m) => m.peer),
    ["b1"],
  );
  assert.equal(registry.lookup("n", "a"), "a2");
  assert.deepEqual(registry.stats(), { networks: 1, members: 2 });
});

test("leave only removes the member if the peer still holds it; empty networks disappear", () => {
  const registry = new NetworkRegistry<string>(10);
  registry.join("n", member("a"), "a1");
  registry.join("n", member("a"), "a2");
  assert.equal(registry.leave("n", "a", "a1"), undefined, "the replaced connection's late leave is a no-op");
  assert.equal(registry.lookup("n", "a"), "a2");
  assert.deepEqual(registry.leave("n", "a", "a2"), { neighbours: [] });
  assert.equal(registry.leave("n", "a", "a2"), undefined);
  assert.deepEqual(registry.stats(), { networks: 0, members: 0 });
  assert.deepEqual(registry.members("n"), []);
});

test("matches a simple model under random joins and leaves", () => {
  type Op = { kind: "join" | "leave"; network: string; node: string; peer: number };
  const op = fc.record({
    kind: fc.constantFrom<"join" | "leave">("join", "leave"),
    network: fc.constantFrom("n1", "n2", "n3"),
    node: fc.constantFrom("a", "b", "c", "d"),
    peer: fc.integer({ min: 0, max: 5 }),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 80 }), (max, ops: Op[]) => {
      const registry = new NetworkRegistry<number>(max);
      const model = new Map<string, Map<string, number>>();
      for (const { kind, network, node, peer } of ops) {
        const members = model.get(network) ?? new Map<string, number>();
        if (kind === "join") {
          const outcome = registry.join(network, member(node), peer);
          const full = !members.has(node) && members.size >= max;
          assert.equal(outcome.ok, !full);
          if (outcome.ok) {
            assert.equal(outcome.replaced?.peer, members.get(node));
            members.set(node, peer);
            model.set(network, members);
          }
        } else {
          const removed = registry.leave(network, node, peer) !== undefined;
          assert.equal(removed, members.get(node) === peer);
          if (removed) members.delete(node);
          if (members.size === 0) model.delete(network);
        }
      }
      let count = 0;
      for (const [network, members] of model) {
        count += members.size;
        for (const [node, peer] of members) assert.equal(registry.lookup(network, node), peer);
        assert.equal(registry.members(network).length, members.size);
        assert.equal(registry.closest(network, "10.0.0.1", 100).length, members.size, "the ring holds everyone");
      }
      assert.deepEqual(registry.stats(), { networks: model.size, members: count });
    }),
  );
});

test("a second node id claiming an address in use is refused, naming the holder", () => {
  const registry = new NetworkRegistry<string>(10);
  registry.join("n", member("a", "10.88.0.5"), "a");
  const outcome = registry.join("n", member("b", "10.88.0.5"), "b");
  assert.deepEqual(outcome, { ok: false, reason: "address-in-use", holder: member("a", "10.88.0.5") });
  // The same address in another network is fine, and so is the holder rejoining.
  assert.equal(registry.join("m", member("b", "10.88.0.5"), "b").ok, true);
  assert.equal(registry.join("n", member("a", "10.88.0.5"), "a2").ok, true);
});

test("the neighbourhood of a join and of a leave is the members closest on the ring, capped", () => {
  const registry = new NetworkRegistry<string>(1000, 4);
  for (let i = 1; i <= 50; i++) registry.join("n", member(`m${i}`, `10.88.0.${i}`), `m${i}`);
  const joiner = member("new", "10.88.1.1");
  const near = registry.closest("n", joiner.ip, 4, joiner.nodeId);
  assert.equal(near.length, 4);
  registry.join("n", joiner, "new");
  const left = registry.leave("n", "new", "new");
  assert.deepEqual(
    left?.neighbours.map((m) => m.peer),
    near.map((m) => m.peer),
    "who hears of a leave is who heard of the join",
  );
});
