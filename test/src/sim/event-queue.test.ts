import assert from "node:assert/strict";
import { seededRandom } from "@ipop/shared/testing";
import { test } from "vitest";
import { EventQueue } from "./event-queue.js";

test("tasks run in time order, ties in the order they were scheduled, as a stable sort does", () => {
  const random = seededRandom(7);
  const queue = new EventQueue();
  const scheduled: Array<{ at: number; id: number }> = [];
  const ran: number[] = [];
  // Few distinct times, so ties are common; more tasks than the first allocation holds.
  for (let id = 0; id < 5_000; id++) {
    const at = Math.floor(random() * 50) / 4;
    scheduled.push({ at, id });
    queue.at(at, () => ran.push(id));
  }
  // Tasks scheduled while running, some in the past (they run at once, after those due now).
  queue.at(20, () => {
    for (let k = 0; k < 100; k++) queue.at(20 - k, () => ran.push(10_000 + k));
  });
  queue.runUntil(100);
  const expected = [...scheduled].sort((a, b) => a.at - b.at).map((s) => s.id);
  for (let k = 0; k < 100; k++) expected.push(10_000 + k);
  assert.deepEqual(ran, expected);
  assert.equal(queue.size, 0);
  assert.equal(queue.now, 100);
});

test("runUntil stops before later tasks, and halt stops it at the halting task's time", () => {
  const queue = new EventQueue();
  const ran: string[] = [];
  queue.at(5, () => ran.push("a"));
  queue.at(7, () => {
    ran.push("b");
    queue.halt();
  });
  queue.at(8, () => ran.push("c"));
  queue.at(30, () => ran.push("d"));
  queue.runUntil(20);
  assert.deepEqual(ran, ["a", "b"]);
  assert.equal(queue.now, 7);
  queue.runUntil(20);
  assert.deepEqual(ran, ["a", "b", "c"]);
  assert.equal(queue.now, 20);
  assert.equal(queue.size, 1);
});
