import type { ConsoleApi, NodeReport } from "../api.js";
import { withDeadline } from "./deadline.js";
import { el } from "./dom.js";
import { describeError } from "./error-messages.js";
import { formatBytes, formatClock, formatCount, formatRtt } from "./format.js";

/**
 * The report of the selected node: for this page its own status, for any other node the answer to a
 * signed status request over the overlay, or the refusal in words. A newer selection wins over a
 * slower older answer.
 */
export class NodeDetails {
  readonly element: HTMLElement;
  private readonly body = el(
    "div",
    { class: "details-body", "aria-live": "polite" },
    el("p", { class: "muted" }, "Select a node in the graph, the member list or the peer table."),
  );
  private generation = 0;

  constructor(private readonly api: ConsoleApi) {
    this.element = el(
      "section",
      { class: "panel details", "aria-labelledby": "details-title" },
      el("h2", { id: "details-title" }, "Node report"),
      this.body,
    );
  }

  /** Asks `ip` (or this page, with none) for its report and shows it. */
  async show(name: string, ip: string | undefined): Promise<void> {
    const generation = ++this.generation;
    this.body.replaceChildren(el("p", { class: "muted" }, `Asking ${name}${ip ? ` (${ip})` : ""}…`));
    try {
      const report = await withDeadline(this.api.status(ip), 10_000, `status of ${name}`);
      if (generation === this.generation) this.body.replaceChildren(...renderReport(report));
    } catch (error) {
      if (generation !== this.generation) return;
      const text = describeError(error);
      this.body.replaceChildren(
        el("p", { class: "error-text", "data-code": text.code }, el("strong", {}, `${text.title}: `), text.detail),
        el("p", { class: "muted" }, text.hint),
      );
    }
  }
}

function renderReport(report: NodeReport): HTMLElement[] {
  const rows = report.peers.map((p) =>
    el(
      "tr",
      {},
      el("td", {}, p.name),
      el("td", { class: "mono" }, p.ip),
      el("td", { class: "wide-only" }, p.kinds.join(", ")),
      el("td", { class: "num" }, formatRtt(p.rttMs)),
      el("td", { class: "num" }, formatBytes(p.bytesIn + p.bytesOut)),
    ),
  );
  const counters = Object.entries(report.counters).sort(([a], [b]) => a.localeCompare(b));
  return [
    el(
      "p",
      {},
      el("strong", {}, report.name),
      " ",
      el("span", { class: "mono" }, report.ip),
      " ",
      el("span", { class: "tag" }, report.role),
      el("span", { class: "muted" }, ` as of ${formatClock(report.atMs)}`),
    ),
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        { class: "report-table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", {}, "Peer"),
            el("th", {}, "IP"),
            el("th", { class: "wide-only" }, "Link"),
            el("th", { class: "num" }, "RTT"),
            el("th", { class: "num" }, "Traffic"),
          ),
        ),
        el("tbody", {}, ...rows),
      ),
    ),
    counters.length > 0
      ? el(
          "dl",
          { class: "counters" },
          ...counters.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "num" }, formatCount(v))]),
        )
      : el("p", { class: "muted" }, "No counters reported."),
  ];
}
