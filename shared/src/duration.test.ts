import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { formatDuration, MAX_DURATION_SECONDS, parseDuration } from "./duration.js";

test("durations in s, m, h, d and combinations", () => {
  assert.equal(parseDuration("720h"), 720 * 3600);
  assert.equal(parseDuration("30m"), 1800);
  assert.equal(parseDuration("90d"), 90 * 86_400);
  assert.equal(parseDuration("45s"), 45);
  assert.equal(parseDuration("1h30m"), 5400);
  assert.equal(parseDuration("8760h0m0s"), 8760 * 3600);
});

test("anything else, zero and more than 100 years are refused with a reason", () => {
  for (const bad of ["", "720", "h", "1.5h", "-1h", "1H", "1w", "1h 30m", "0h", "0d0h", "36501d", "9999999999s"]) {
    assert.equal(typeof parseDuration(bad), "string", bad);
  }
  assert.match(String(parseDuration("0h")), /longer than zero/);
  assert.match(String(parseDuration("36501d")), /more than 100 years/);
});

test("formatDuration picks the largest whole unit and parses back", () => {
  assert.equal(formatDuration(30 * 86_400), "30d");
  assert.equal(formatDuration(7200), "2h");
  assert.equal(formatDuration(90), "90s");
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_DURATION_SECONDS }), (seconds) => {
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }),
  );
});
