import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { floodHops } from "./flood.js";
import { RING_SIZE } from "./ring.js";

/** Whether `x` lies strictly inside the clockwise range (from, end); end === from is the whole ring. */
function insideRange(from: number, end: number, x: number): boolean {
  if (x === from) return false;
  if (end === from) return true;
  // Brute force: walk the ring arithmetic with BigInt, no shortcuts shared with the code under test.
  const size = BigInt(RING_SIZE);
  const d = (v: number) => (((BigInt(v) - BigInt(from)) % size) + size) % size;
  return d(x) < d(end);
}

/** A random ring: distinct addresses, each node linked to its successor and predecessor plus random others. */
const ringAndLinks = fc
  .uniqueArray(fc.integer({ min: 0, max: RING_SIZE - 1 }), { minLength: 1, maxLength: 60 })
  .chain((nodes) =>
    fc.record({
      nodes: fc.constant(nodes),
      extra: fc.array(fc.array(fc.nat({ max: nodes.length - 1 }), { maxLength: 8 }), {
        minLength: nodes.length,
        maxLength: nodes.length,
      }),
      origin: fc.nat({ max: nodes.length - 1 }),
    }),
  );

test("a flood over a random ring reaches every node exactly once, never outside its range", () => {
  fc.assert(
    fc.property(ringAndLinks, ({ nodes, extra, origin }) => {
      const sorted = [...nodes].sort((a, b) => a - b);
      const links = new Map<number, Set<number>>();
      for (const [i, node] of sorted.entries()) {
        const set = new Set<number>();
        if (sorted.length > 1) {
          set.add(sorted[(i + 1) % sorted.length]!);
          set.add(sorted[(i + sorted.length - 1) % sorted.length]!);
        }
        for (const j of extra[nodes.indexOf(node)]!) if (nodes[j] !== node) set.add(nodes[j]!);
        links.set(node, set);
      }
      const copies = new Map<number, number>();
      const start = nodes[origin]!;
      const queue: { node: number; end: number }[] = [{ node: start, end: start }];
      while (queue.length > 0) {
        const { node, end } = queue.shift()!;
        const hops = floodHops(node, end, links.get(node)!, (x) => x);
        assert.ok(hops.length <= links.get(node)!.size, "at most one copy per link");
        for (const hop of hops) {
          assert.ok(links.get(node)!.has(hop.to), "sent only over a link");
          assert.ok(insideRange(node, end, hop.to), "receiver inside the sender's range");
          // The receiver's range ends inside the sender's range or at its end.
          assert.ok(hop.end === end || insideRange(node, end, hop.end), "sub-range inside the range");
          copies.set(hop.to, (copies.get(hop.to) ?? 0) + 1);
          queue.push({ node: hop.to, end: hop.end });
        }
      }
      assert.equal(copies.get(start), undefined, "the origin gets no copy");
      for (const node of nodes) if (node !== start) assert.equal(copies.get(node), 1, `one copy at ${node}`);
    }),
    { numRuns: 300 },
  );
});

test("flood hops: the whole ring from self, sub-ranges up to the next link", () => {
  const hops = floodHops(100, 100, [300, 50, 200], (x) => x);
  assert.deepEqual(hops, [
    { to: 200, end: 300 },
    { to: 300, end: 50 },
    { to: 50, end: 100 },
  ]);
  // A range (100, 250) leaves out links at or past its end.
  assert.deepEqual(
    floodHops(100, 250, [300, 50, 200, 250], (x) => x),
    [{ to: 200, end: 250 }],
  );
  // Wrapping range.
  assert.deepEqual(
    floodHops(RING_SIZE - 10, 5, [RING_SIZE - 1, 3, 10], (x) => x),
    [
      { to: RING_SIZE - 1, end: 3 },
      { to: 3, end: 5 },
    ],
  );
  assert.deepEqual(
    floodHops(7, 7, [], (x) => x),
    [],
  );
});
