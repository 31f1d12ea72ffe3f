import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import {
  clockwise,
  estimateNetworkSize,
  nearNeighbours,
  RING_SIZE,
  ringAddress,
  ringDistance,
  symphonyTarget,
} from "./ring.js";
import { seededRandom } from "./testing/random.js";

const ring = fc.integer({ min: 0, max: RING_SIZE - 1 });

test("ring addresses are stable, in range, and differ by network and address", () => {
  const a = ringAddress("lab", 0x0a580001);
  assert.equal(a, ringAddress("lab", 0x0a580001));
  assert.ok(Number.isSafeInteger(a) && a >= 0 && a < RING_SIZE);
  assert.notEqual(a, ringAddress("lab", 0x0a580002));
  assert.notEqual(a, ringAddress("other", 0x0a580001));
});

test("ring distances agree with a BigInt reference", () => {
  const size = BigInt(RING_SIZE);
  fc.assert(
    fc.property(ring, ring, (a, b) => {
      const cw = (((BigInt(b) - BigInt(a)) % size) + size) % size;
      assert.equal(clockwise(a, b), Number(cw));
      const shortest = cw <= size / 2n ? cw : size - cw;
      assert.equal(ringDistance(a, b), Number(shortest));
      assert.equal(ringDistance(a, b), ringDistance(b, a));
    }),
  );
});

test("near neighbours are the closest on each side (against sorting everything)", () => {
  fc.assert(
    fc.property(ring, fc.uniqueArray(ring, { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (self, rings, k) => {
      const peers = rings.filter((r) => r !== self).map((r, i) => ({ nodeId: `n${i}`, ring: r }));
      const byCw = [...peers].sort((p, q) => clockwise(self, p.ring) - clockwise(self, q.ring));
      const expected = new Set([
        ...byCw.slice(0, k).map((p) => p.nodeId),
        ...byCw
          .reverse()
          .slice(0, k)
          .map((p) => p.nodeId),
      ]);
      assert.deepEqual(nearNeighbours(self, peers, k), expected);
    }),
  );
});

test("the size estimate is within a factor of 3 for evenly random rings", () => {
  const random = seededRandom(7);
  for (const n of [50, 1_000, 100_000]) {
    const rings = Array.from({ length: n }, () => Math.floor(random() * RING_SIZE));
    const self = rings[0]!;
    const sorted = [...rings].sort((a, b) => clockwise(self, a) - clockwise(self, b));
    const estimate = estimateNetworkSize(self, [sorted[1]!, sorted[2]!, sorted.at(-1)!, sorted.at(-2)!]);
    assert.ok(estimate > n / 3 && estimate < n * 3, `n=${n} estimate=${estimate}`);
  }
});

test("Symphony targets follow the harmonic distribution: equal mass per octave of distance", () => {
  const random = seededRandom(3);
  const n = 1024;
  const octaves = new Array<number>(10).fill(0);
  for (let i = 0; i < 20_000; i++) {
    const fraction = clockwise(0, symphonyTarget(0, n, random())) / RING_SIZE;
    assert.ok(fraction >= 1 / n - 1e-12 && fraction < 1);
    octaves[Math.min(9, Math.floor(-Math.log2(fraction)))]!++;
  }
  for (const count of octaves) assert.ok(count > 1_500 && count < 2_500, `octaves: ${octaves}`);
});

test("near neighbours skip ineligible peers, asking only about peers close enough to be picked", () => {
  const random = seededRandom(3);
  for (let round = 0; round < 50; round++) {
    const self = Math.floor(random() * RING_SIZE);
    const peers = Array.from({ length: 40 }, (_, i) => ({ nodeId: `n${i}`, ring: Math.floor(random() * RING_SIZE) }));
    const banned = new Set(peers.filter(() => random() < 0.3).map((p) => p.nodeId));
    const asked: string[] = [];
    const got = nearNeighbours(self, peers, 2, (id) => {
      asked.push(id);
      return !banned.has(id);
    });
    assert.deepEqual(
      got,
      nearNeighbours(
        self,
        peers.filter((p) => !banned.has(p.nodeId)),
        2,
      ),
    );
    assert.ok(asked.length < peers.length, `asked about ${asked.length} of ${peers.length}`);
  }
});
