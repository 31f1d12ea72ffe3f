import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { el, setText } from "./dom.js";
import { formatRate, formatRtt } from "./format.js";
import type { LinkSeries } from "./link-history.js";
import { cssColor, onThemeChange } from "./theme.js";

const HEIGHT = 150;

/**
 * RTT and traffic of one selected link, drawn with uPlot (canvas, cheap to redraw every second). The
 * charts keep a fixed height and follow the panel's width, so the page does not jump as data arrives.
 */
export class LinkCharts {
  readonly element: HTMLElement;
  private readonly title = el("span", { class: "muted" }, "select a peer");
  private readonly rttBox = el("div", { class: "chart", "aria-label": "Round-trip time chart", role: "img" });
  private readonly trafficBox = el("div", { class: "chart", "aria-label": "Traffic chart", role: "img" });
  private rttChart: uPlot | undefined;
  private trafficChart: uPlot | undefined;
  private readonly resize = new ResizeObserver(() => this.fit());
  private last: { name: string | undefined; series: LinkSeries | undefined } = { name: undefined, series: undefined };
  /** uPlot takes its colours once, at creation: a theme switch redraws the charts anew. */
  private readonly stopTheme = onThemeChange(() => {
    if (!this.rttChart) return;
    this.rttChart.destroy();
    this.trafficChart?.destroy();
    this.rttChart = undefined;
    this.trafficChart = undefined;
    this.resize.disconnect();
    this.start();
    this.show(this.last.name, this.last.series);
  });

  constructor() {
    this.element = el(
      "section",
      { class: "panel charts", "aria-labelledby": "charts-title" },
      el("h2", { id: "charts-title" }, "Link ", this.title),
      el("h3", {}, "Round trip"),
      this.rttBox,
      el("h3", {}, "Traffic"),
      this.trafficBox,
    );
  }

  /** Creates the charts; call once the element is in the document. */
  start(): void {
    if (this.rttChart) return;
    const axis = { stroke: cssColor("--muted", "#6b7280"), grid: { stroke: cssColor("--grid", "#e5e7eb") } };
    const width = this.width();
    this.rttChart = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { live: false },
        axes: [axis, { ...axis, size: 70, values: (_, ticks) => ticks.map((v) => formatRtt(v)) }],
        series: [
          {},
          {
            label: "RTT",
            stroke: cssColor("--accent", "#2563eb"),
            width: 1.5,
            points: { show: false },
            value: (_, v) => formatRtt(v ?? undefined),
          },
        ],
      },
      [[], []],
      this.rttBox,
    );
    const rate = (_: uPlot, v: number | null): string => (v === null ? "–" : formatRate(v));
    this.trafficChart = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { live: false },
        axes: [axis, { ...axis, size: 90, values: (_, ticks) => ticks.map((v) => formatRate(v)) }],
        series: [
          {},
          { label: "in", stroke: cssColor("--accent", "#2563eb"), width: 1.5, points: { show: false }, value: rate },
          {
            label: "out",
            stroke: cssColor("--graph-self", "#d97706"),
            width: 1.5,
            points: { show: false },
            value: rate,
          },
        ],
      },
      [[], [], []],
      this.trafficBox,
    );
    this.resize.observe(this.element);
  }

  /** Shows `series` for the link named `name`; undefined clears the charts. */
  show(name: string | undefined, series: LinkSeries | undefined): void {
    this.last = { name, series };
    setText(this.title, name ?? "select a peer");
    this.rttChart?.setData(series ? [series.time, series.rttMs] : [[], []]);
    this.trafficChart?.setData(series ? [series.time, series.inRate, series.outRate] : [[], [], []]);
  }

  destroy(): void {
    this.stopTheme();
    this.resize.disconnect();
    this.rttChart?.destroy();
    this.trafficChart?.destroy();
  }

  private width(): number {
    return Math.max(240, Math.floor(this.rttBox.clientWidth || this.element.clientWidth - 32));
  }

  private fit(): void {
    const width = this.width();
    if (this.rttChart && Math.abs(this.rttChart.width - width) > 1) {
      this.rttChart.setSize({ width, height: HEIGHT });
      this.trafficChart?.setSize({ width, height: HEIGHT });
    }
  }
}
