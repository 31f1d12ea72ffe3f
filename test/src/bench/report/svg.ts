/**
 * The report's chart, drawn as SVG by hand (no charting dependency): per system, TCP throughput (1 and
 * 4 streams) on the left and ping RTT (mean and p99) on the right, as horizontal bars. Both axes are
 * logarithmic: the raw veth is ~100x faster than a userspace overlay, and on a linear axis every
 * overlay's bar would be a sliver.
 */
import type { BenchSummary } from "../summary.js";

/** One bar of a panel: up to two values per system. */
interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}

const ROW_H = 34;
const BAR_H = 12;
const LABEL_W = 120;
const PLOT_W = 300;
const PANEL_GAP = 70;
const TOP = 56;
const FONT = 'font-family="sans-serif" font-size="11"';
const TITLE_FONT = 'font-family="sans-serif" font-size="13" font-weight="bold"';

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Decade bounds [10^a, 10^b] that contain every positive value; [1, 10] when there is none. */
export function logDomain(values: readonly (number | null)[]): [number, number] {
  const pos = values.filter((v): v is number => v !== null && v > 0);
  if (pos.length === 0) return [1, 10];
  const lo = Math.floor(Math.log10(Math.min(...pos)));
  let hi = Math.ceil(Math.log10(Math.max(...pos)));
  if (hi === lo) hi += 1;
  return [10 ** lo, 10 ** hi];
}

/** A short label for a value: 3 significant digits, no exponent. */
function label(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toPrecision(3) : v.toPrecision(2);
}

/** A gridline's label: a power of ten, written plainly ("0.01", "1", "1000"). */
function decadeLabel(d: number): string {
  return d >= 1 ? String(Math.round(d)) : String(Number(d.toPrecision(1)));
}

/** One panel at horizontal offset `x0`. */
function panel(x0: number, title: string, unit: string, names: readonly string[], series: readonly Series[]): string[] {
  const [lo, hi] = logDomain(series.flatMap((s) => s.values));
  const px = (v: number) => x0 + LABEL_W + (PLOT_W * Math.log10(v / lo)) / Math.log10(hi / lo);
  const bottom = TOP + names.length * ROW_H;
  const out = [`<text x="${x0 + LABEL_W}" y="20" ${TITLE_FONT}>${escapeXml(title)}</text>`];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const x = px(d).toFixed(1);
    out.push(`<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${bottom + 14}" ${FONT} text-anchor="middle" fill="#555">${decadeLabel(d)}</text>`);
  }
  out.push(
    `<text x="${x0 + LABEL_W + PLOT_W / 2}" y="${bottom + 30}" ${FONT} text-anchor="middle" fill="#555">${escapeXml(unit)} (log scale)</text>`,
  );
  series.forEach((s, j) => {
    const lx = x0 + LABEL_W + j * 110;
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="39" ${FONT}>${escapeXml(s.label)}</text>`);
  });
  names.forEach((name, i) => {
    const y = TOP + i * ROW_H;
    out.push(`<text x="${x0 + LABEL_W - 6}" y="${y + BAR_H + 4}" ${FONT} text-anchor="end">${escapeXml(name)}</text>`);
    series.forEach((s, j) => {
      const v = s.values[i];
      const by = y + j * (BAR_H + 2);
      if (v === null || v === undefined || v <= 0) {
        out.push(`<text x="${x0 + LABEL_W + 4}" y="${by + BAR_H - 2}" ${FONT} fill="#999">n/a</text>`);
        return;
      }
      const w = Math.max(1, px(v) - (x0 + LABEL_W));
      out.push(
        `<rect x="${x0 + LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${s.color}"/>`,
        `<text x="${(x0 + LABEL_W + w + 4).toFixed(1)}" y="${by + BAR_H - 2}" ${FONT}>${label(v)}</text>`,
      );
    });
  });
  return out;
}

/** The chart for `summary` as a standalone SVG document. */
export function renderChart(summary: BenchSummary): string {
  const names = summary.systems.map((s) => s.name);
  const width = 2 * (LABEL_W + PLOT_W) + PANEL_GAP + 40;
  const height = TOP + names.length * ROW_H + 44;
  const left = panel(0, "TCP throughput", "Mbit/s", names, [
    { label: "1 stream", color: "#2b6cb0", values: summary.systems.map((s) => s.tcpMbps) },
    { label: "4 streams", color: "#90cdf4", values: summary.systems.map((s) => s.tcp4Mbps) },
  ]);
  const right = panel(LABEL_W + PLOT_W + PANEL_GAP, "Ping round trip", "ms", names, [
    { label: "mean", color: "#c05621", values: summary.systems.map((s) => s.rttMs) },
    { label: "p99", color: "#fbd38d", values: summary.systems.map((s) => s.rttP99Ms) },
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...left,
    ...right,
    "</svg>",
    "",
  ].join("\n");
}
