import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { mean, median, medianOf, percentile } from "./stats.js";

test("median of odd and even counts, unsorted input left alone", () => {
  const input = [5, 1, 3];
  assert.equal(median(input), 3);
  assert.deepEqual(input, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});

test("mean", () => {
  assert.equal(mean([1, 2, 6]), 3);
  assert.equal(mean([]), undefined);
});

test("percentile is nearest-rank: p99 of 200 samples is the 198th smallest", () => {
  const values = Array.from({ length: 200 }, (_, i) => 200 - i); // 200..1
  assert.equal(percentile(values, 99), 198);
  assert.equal(percentile(values, 100), 200);
  assert.equal(percentile(values, 50), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 99), undefined);
  assert.throws(() => percentile([1], 0), RangeError);
});

test("percentile always returns a measured value, and p100 is the maximum", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1 }),
      fc.integer({ min: 1, max: 100 }),
      (xs, p) => {
        const v = percentile(xs, p)!;
        assert.ok(xs.includes(v));
        assert.ok(xs.filter((x) => x <= v).length >= (p / 100) * xs.length);
        assert.equal(percentile(xs, 100), Math.max(...xs));
      },
    ),
  );
});

test("medianOf skips missing values", () => {
  assert.equal(medianOf([undefined, 3, null, 1, Number.NaN]), 2);
  assert.equal(medianOf([undefined]), undefined);
});
