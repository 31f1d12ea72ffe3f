import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { TokenBucket } from "./rate-limiter.js";

test("a full bucket allows a burst of `capacity`, then refills at the rate", () => {
  const bucket = new TokenBucket(3, 2, 1000);
  assert.deepEqual(
    [bucket.take(1000), bucket.take(1000), bucket.take(1000), bucket.take(1000)],
    [true, true, true, false],
  );
  assert.equal(bucket.take(1400), false, "0.8 tokens after 400 ms at 2/s");
  assert.equal(bucket.take(1500), true, "1 token after 500 ms");
  assert.equal(bucket.take(1500), false);
  assert.equal(bucket.available(100_000), 3, "never more than capacity");
});

test("a clock stepping backwards neither mints nor drains tokens", () => {
  const bucket = new TokenBucket(2, 1, 5000);
  bucket.take(5000);
  assert.equal(bucket.available(1000), 1);
  assert.equal(bucket.available(5000), 1);
  assert.equal(bucket.available(6000), 2);
});

test("over any schedule, allowed events never exceed capacity + rate x elapsed", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }),
      (capacity, rate, gaps) => {
        const bucket = new TokenBucket(capacity, rate, 0);
        let now = 0;
        let allowed = 0;
        for (const gap of gaps) {
          now += gap;
          if (bucket.take(now)) allowed++;
        }
        assert.ok(allowed <= capacity + (rate * now) / 1000 + 1e-9);
      },
    ),
  );
});
