import { describe, expect, it } from "vitest";
import { countStalls, intervalRates } from "./tcp-trace.js";

describe("intervalRates", () => {
  it("reads each interval's rate in order", () => {
    const json = JSON.stringify({
      intervals: [{ sum: { bits_per_second: 2e8 } }, { sum: { bits_per_second: 1e7 } }, { sum: {} }],
    });
    expect(intervalRates(json)).toEqual([2e8, 1e7, 0]);
  });

  it("rejects output without intervals or JSON", () => {
    expect(() => intervalRates("{}")).toThrow(/no intervals/);
    expect(() => intervalRates("iperf3: error")).toThrow(/no JSON/);
  });
});

describe("countStalls", () => {
  it("counts intervals below the share of the median", () => {
    expect(countStalls([200, 210, 0, 205, 30, 220], 0.2)).toEqual({ median: 202.5, stalls: 2 });
  });

  it("finds none in a steady or empty trace", () => {
    expect(countStalls([100, 100, 100], 0.2).stalls).toBe(0);
    expect(countStalls([], 0.2)).toEqual({ median: 0, stalls: 0 });
  });
});
