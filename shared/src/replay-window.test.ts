import { describe, expect, it } from "vitest";
import { REPLAY_WINDOW_BITS, ReplayWindow } from "./replay-window.js";
import { seededRandom } from "./testing/random.js";

/** The obviously correct rule: every counter once, and none older than the window below the highest. */
class ReferenceWindow {
  private readonly seen = new Set<number>();
  private highest = -1;
  accept(counter: number): boolean {
    if (this.seen.has(counter)) return false;
    if (counter <= this.highest - REPLAY_WINDOW_BITS) return false;
    this.seen.add(counter);
    this.highest = Math.max(this.highest, counter);
    return true;
  }
}

describe("ReplayWindow", () => {
  it("accepts each counter once", () => {
    const w = new ReplayWindow();
    expect(w.accept(0)).toBe(true);
    expect(w.accept(0)).toBe(false);
    expect(w.accept(2)).toBe(true);
    expect(w.accept(1)).toBe(true);
    expect(w.accept(1)).toBe(false);
  });

  it("refuses counters older than the window and malformed ones", () => {
    const w = new ReplayWindow();
    expect(w.accept(5000)).toBe(true);
    expect(w.accept(5000 - REPLAY_WINDOW_BITS)).toBe(false);
    expect(w.accept(5001 - REPLAY_WINDOW_BITS)).toBe(true);
    expect(w.accept(-1)).toBe(false);
    expect(w.accept(1.5)).toBe(false);
    expect(w.accept(2 ** 60)).toBe(false);
  });

  it("agrees with the reference on random reordered, duplicated and jumping counters", () => {
    const random = seededRandom(7);
    for (let run = 0; run < 20; run++) {
      const w = new ReplayWindow();
      const ref = new ReferenceWindow();
      let next = 0;
      for (let i = 0; i < 5000; i++) {
        const r = random();
        let counter: number;
        if (r < 0.6) counter = next++;
        else if (r < 0.9) counter = Math.max(0, next - Math.floor(random() * 1500));
        else if (r < 0.98) counter = next + Math.floor(random() * 40);
        else counter = next += Math.floor(random() * 3000);
        expect(w.accept(counter), `run ${run} step ${i} counter ${counter}`).toBe(ref.accept(counter));
      }
    }
  });
});
