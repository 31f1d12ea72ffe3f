/**
 * Number formatting shared by the text table and the Markdown report.
 */

/** A number with `digits` decimals, or "-" for null. */
export function fixed(v: number | null, digits: number): string {
  return v === null ? "-" : v.toFixed(digits);
}

/** Throughput in Mbit/s: whole numbers from 100 up, one decimal below. */
export function mbps(v: number | null): string {
  return v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Packets per second as "123.4k". */
export function kpps(v: number | null): string {
  return v === null ? "-" : `${(v / 1000).toFixed(1)}k`;
}

/** A loss fraction as a percentage. */
export function percent(v: number | null): string {
  return v === null ? "-" : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`;
}

/** Milliseconds with 3 significant digits. */
export function ms(v: number | null): string {
  return v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/** `a / b` as "2.35x", or "-" when either is missing. */
export function ratio(a: number | null, b: number | null): string {
  return a === null || b === null || b === 0 ? "-" : `${(a / b).toPrecision(3)}x`;
}
