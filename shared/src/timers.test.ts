import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { type DueTimers, type TimerKind, Timers } from "./timers.js";

/** The obviously-correct timers: a map per kind, scanned in full. */
class ReferenceTimers {
  private readonly deadlines: Record<TimerKind, Map<number, number>> = {
    link: new Map(),
    trace: new Map(),
    ping: new Map(),
  };
  private maintenanceAt = Number.POSITIVE_INFINITY;

  set(kind: TimerKind, id: number, at: number): void {
    this.deadlines[kind].set(id, at);
  }

  clear(kind: TimerKind, id: number): void {
    this.deadlines[kind].delete(id);
  }

  setMaintenance(at: number): void {
    this.maintenanceAt = at;
  }

  maintenanceSoon(at: number): void {
    this.maintenanceAt = Math.min(this.maintenanceAt, at);
  }

  next(maintaining: boolean): number {
    let first = maintaining ? this.maintenanceAt : Number.POSITIVE_INFINITY;
    for (const kind of ["link", "trace", "ping"] as const)
      for (const at of this.deadlines[kind].values()) first = Math.min(first, at);
    return first;
  }

  takeDue(now: number): DueTimers {
    const take = (kind: TimerKind) => {
      const ids = [...this.deadlines[kind]].filter(([, at]) => at <= now).map(([id]) => id);
      for (const id of ids) this.deadlines[kind].delete(id);
      return ids.sort((a, b) => a - b);
    };
    return { link: take("link"), trace: take("trace"), ping: take("ping"), maintenance: now >= this.maintenanceAt };
  }
}

type Op =
  | { op: "set"; kind: TimerKind; id: number; at: number }
  | { op: "clear"; kind: TimerKind; id: number }
  | { op: "setMaintenance"; at: number }
  | { op: "maintenanceSoon"; at: number }
  | { op: "takeDue"; now: number }
  | { op: "next"; maintaining: boolean };

// Few ids and a narrow time range, so replacements, clears of pending deadlines and ties are common.
const kind = fc.constantFrom<TimerKind>("link", "trace", "ping");
const id = fc.integer({ min: 0, max: 40 });
const time = fc.integer({ min: 0, max: 200 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), kind, id, at: time }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("clear" as const), kind, id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("setMaintenance" as const), at: time }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("maintenanceSoon" as const), at: time }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("takeDue" as const), now: time }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("next" as const), maintaining: fc.boolean() }) },
);

function ascending(ids: readonly number[]): boolean {
  return ids.every((value, i) => i === 0 || ids[i - 1]! < value);
}

test("timers match a reference model under random set, clear, maintenance and takeDue sequences", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const timers = new Timers();
      const model = new ReferenceTimers();
      for (const [step, o] of ops.entries()) {
        switch (o.op) {
          case "set":
            timers.set(o.kind, o.id, o.at);
            model.set(o.kind, o.id, o.at);
            break;
          case "clear":
            timers.clear(o.kind, o.id);
            model.clear(o.kind, o.id);
            break;
          case "setMaintenance":
            timers.setMaintenance(o.at);
            model.setMaintenance(o.at);
            break;
          case "maintenanceSoon":
            timers.maintenanceSoon(o.at);
            model.maintenanceSoon(o.at);
            break;
          case "takeDue": {
            const due = timers.takeDue(o.now);
            assert.deepEqual(due, model.takeDue(o.now), `takeDue(${o.now}) at step ${step}`);
            assert.ok(ascending(due.link) && ascending(due.trace), "due ids ascend");
            break;
          }
          case "next":
            assert.equal(timers.next(o.maintaining), model.next(o.maintaining), `next at step ${step}`);
            break;
        }
        // next() after every step too: it is what the host reads after each call into the core.
        assert.equal(timers.next(true), model.next(true), `next(true) after step ${step}`);
        assert.equal(timers.next(false), model.next(false), `next(false) after step ${step}`);
      }
      assert.deepEqual(timers.takeDue(Number.POSITIVE_INFINITY), model.takeDue(Number.POSITIVE_INFINITY));
    }),
    { numRuns: 300 },
  );
});

test("a deadline set again many times fires once, at its last time, after the heap is rebuilt", () => {
  const timers = new Timers();
  // Hundreds of replacements force the rebuild that drops dead entries.
  for (let i = 0; i < 500; i++) timers.set("link", 7, 1_000 - i);
  timers.set("trace", 1, 900);
  assert.equal(timers.next(false), 501);
  assert.deepEqual(timers.takeDue(600), { link: [7], trace: [], ping: [], maintenance: false });
  assert.equal(timers.next(false), 900);
  assert.deepEqual(timers.takeDue(10_000), { link: [], trace: [1], ping: [], maintenance: false });
  assert.equal(timers.next(false), Number.POSITIVE_INFINITY);
});

test("maintenance counts only while maintaining and stays due until it is set again", () => {
  const timers = new Timers();
  assert.equal(timers.next(true), Number.POSITIVE_INFINITY);
  timers.setMaintenance(100);
  timers.set("link", 1, 300);
  assert.equal(timers.next(true), 100);
  assert.equal(timers.next(false), 300);
  timers.maintenanceSoon(200);
  assert.equal(timers.next(true), 100, "soon never postpones");
  timers.maintenanceSoon(50);
  assert.equal(timers.next(true), 50);
  assert.equal(timers.takeDue(49).maintenance, false);
  assert.equal(timers.takeDue(50).maintenance, true);
  assert.equal(timers.takeDue(51).maintenance, true, "the maintenance slot is not consumed by takeDue");
  timers.setMaintenance(1_000);
  assert.equal(timers.takeDue(60).maintenance, false);
});

test("the same id of the two kinds are separate deadlines", () => {
  const timers = new Timers();
  timers.set("link", 3, 10);
  timers.set("trace", 3, 20);
  timers.clear("link", 3);
  assert.equal(timers.next(false), 20);
  assert.deepEqual(timers.takeDue(20), { link: [], trace: [3], ping: [], maintenance: false });
});
