import assert from "node:assert/strict";
import { test } from "vitest";
import { RouteCache } from "./route-cache.js";

test("a way back is replaced only by one whose frames arrived with more hops left", () => {
  const cache = new RouteCache(16, 1_000);
  cache.learn(0, 7, 1, 30);
  cache.learn(10, 7, 2, 30);
  assert.equal(cache.lookup(20, 7), 1, "as long a way does not replace the first");
  cache.learn(20, 7, 2, 29);
  assert.equal(cache.lookup(20, 7), 1, "nor does a longer one");
  cache.learn(30, 7, 2, 31);
  assert.equal(cache.lookup(30, 7), 2, "a shorter one does");
  cache.learn(900, 7, 1, 32);
  assert.equal(cache.lookup(900, 7), 1);
  cache.learn(950, 7, 1, 20);
  cache.learn(960, 7, 2, 31);
  assert.equal(cache.lookup(960, 7), 1, "a longer frame on the kept way refreshes it but does not lower its mark");
});

test("a way back expires a ttl after the last frame on its own link; others do not refresh it", () => {
  const cache = new RouteCache(16, 1_000);
  cache.learn(0, 7, 1, 30);
  cache.learn(900, 7, 1, 30);
  cache.learn(1_850, 7, 2, 29);
  assert.equal(cache.lookup(1_850, 7), 1);
  assert.equal(cache.lookup(1_901, 7), undefined);
  cache.learn(1_902, 7, 2, 20);
  assert.equal(cache.lookup(1_903, 7), 2, "once expired, the next way is learned, however long");
});

test("an expired entry is replaced at once by the next frame, and a forgotten link frees its entries", () => {
  const cache = new RouteCache(16, 1_000);
  cache.learn(0, 7, 1, 30);
  cache.learn(0, 8, 1, 30);
  cache.learn(0, 9, 3, 30);
  cache.learn(1_001, 7, 2, 10);
  assert.equal(cache.lookup(1_001, 7), 2);
  cache.forgetLink(1);
  assert.equal(cache.lookup(1_002, 8), undefined);
  cache.learn(1_002, 8, 4, 10);
  assert.equal(cache.lookup(1_003, 8), 4);
  assert.equal(cache.lookup(999, 9), 3);
});

test("ways back learned from frames in flight at once never form a loop, whatever order they pass nodes in", () => {
  // Frames from one source walk random paths through a small mesh, several in flight at once and
  // advancing one hop at a time in random order (as the source's traces to many nodes do); each
  // node learns where the frame came from. Following the ways back from any node must then reach
  // the source, or a node with no way back, without visiting a node twice.
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const nodes = 8;
  const source = 0;
  for (let round = 0; round < 200; round++) {
    const caches = Array.from({ length: nodes }, () => new RouteCache(16, 60_000));
    const inFlight: Array<{ at: number; visited: Set<number>; hopsLeft: number }> = [];
    for (let t = 0; t < 100; t++) {
      if (random() < 0.5) inFlight.push({ at: source, visited: new Set([source]), hopsLeft: 32 });
      const i = Math.floor(random() * inFlight.length);
      const frame = inFlight[i];
      if (frame === undefined) continue;
      const next = 1 + Math.floor(random() * (nodes - 1));
      if (frame.visited.has(next) || frame.visited.size > 4) {
        inFlight.splice(i, 1);
        continue;
      }
      frame.visited.add(next);
      caches[next]!.learn(t, source, frame.at, frame.hopsLeft);
      frame.hopsLeft--;
      frame.at = next;
    }
    for (let start = 1; start < nodes; start++) {
      const seen = new Set<number>();
      let at: number | undefined = start;
      while (at !== undefined && at !== source) {
        assert.ok(!seen.has(at), `round ${round}: the ways back from ${start} loop at ${at}`);
        seen.add(at);
        at = caches[at]!.lookup(100, source);
      }
    }
  }
});
