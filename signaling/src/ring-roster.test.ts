import assert from "node:assert/strict";
import { clockwise, RING_SIZE } from "@ipop/shared";
import fc from "fast-check";
import { test } from "vitest";
import { RingRoster } from "./ring-roster.js";

/**
 * The slow, obviously correct reference: sort everyone by clockwise distance from `ring` (successors, the
 * entry at `ring` itself first) and by anticlockwise distance (predecessors), then interleave the two lists,
 * never taking an entry twice.
 */
function reference(entries: Array<{ ring: number; id: string }>, ring: number, count: number, exclude?: string) {
  const byPosition = [...entries].sort((a, b) => a.ring - b.ring || 0);
  const start = byPosition.findIndex((e) => e.ring >= ring);
  const n = byPosition.length;
  const first = start === -1 ? 0 : start;
  const order: string[] = [];
  for (let k = 0; order.length < n; k++) {
    const after = Math.ceil(k / 2);
    const i = k % 2 === 0 ? first + k / 2 : first - after;
    order.push(byPosition[((i % n) + n) % n]!.id);
  }
  return order.filter((id) => id !== exclude).slice(0, count);
}

test("closest matches the reference: alternating successors and predecessors, wrapping, without the excluded", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: RING_SIZE - 1 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: RING_SIZE - 1 }),
      fc.integer({ min: 0, max: 45 }),
      fc.boolean(),
      (rings, at, count, excludeOne) => {
        const roster = new RingRoster<string>();
        const entries = rings.map((ring, i) => ({ ring, id: `n${i}` }));
        for (const { ring, id } of entries) roster.insert(ring, id, id);
        const exclude = excludeOne ? entries[0]!.id : undefined;
        assert.deepEqual(roster.closest(at, count, exclude), reference(entries, at, count, exclude));
      },
    ),
  );
});

test("remove takes out exactly the named entry, even among equal ring positions", () => {
  const roster = new RingRoster<string>();
  roster.insert(5, "a", "a");
  roster.insert(5, "b", "b");
  roster.insert(9, "c", "c");
  assert.equal(roster.remove(5, "z"), false);
  assert.equal(roster.remove(9, "a"), false, "the wrong position finds nothing");
  assert.equal(roster.remove(5, "b"), true);
  assert.deepEqual(roster.values(), ["a", "c"]);
  assert.equal(roster.size, 2);
});

test("the neighbourhood of a position straddles it: both near sides are covered", () => {
  const roster = new RingRoster<number>();
  for (let ring = 0; ring < 100; ring++) roster.insert(ring * 1000, `r${ring}`, ring * 1000);
  const near = roster.closest(50_500, 4);
  assert.deepEqual(near, [51_000, 50_000, 52_000, 49_000]);
  for (const ring of near) assert.ok(Math.min(clockwise(50_500, ring), clockwise(ring, 50_500)) <= 1500);
});
