import type { ConsoleApi, PingProbe } from "../../api.js";
import { el, field } from "../dom.js";
import { formatPercent, formatRtt } from "../format.js";
import { checkInteger, checkIpv4 } from "../validate.js";
import { type ActionLog, ActionRunner } from "./action-runner.js";
import { injectForm, resultTable } from "./inject-form.js";
import { clearInvalid, targetInput } from "./target-input.js";

/** Loss and RTT min/avg/max over the probes seen so far. */
export function summarize(probes: readonly PingProbe[], sent: number): string {
  const rtts = probes.flatMap((p) => (p.outcome === "reply" ? [p.rttMs] : []));
  const loss = sent === 0 ? 0 : (sent - rtts.length) / sent;
  const head = `${sent} sent, ${rtts.length} received, ${formatPercent(loss)} loss`;
  if (rtts.length === 0) return head;
  const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  return `${head}; RTT min/avg/max ${formatRtt(Math.min(...rtts))} / ${formatRtt(avg)} / ${formatRtt(Math.max(...rtts))}`;
}

/** Ping (ICMP echo) any virtual IP: count, size, interval; one row per probe as it happens. */
export class PingForm {
  readonly element: HTMLFormElement;
  private readonly ip = targetInput();
  private readonly count = el("input", { name: "count", value: "4", inputmode: "numeric", class: "mono short" });
  private readonly size = el("input", { name: "size", value: "56", inputmode: "numeric", class: "mono short" });
  private readonly interval = el("input", {
    name: "interval",
    value: "1000",
    inputmode: "numeric",
    class: "mono short",
  });
  private readonly table = resultTable([
    { label: "seq", numeric: true },
    "outcome",
    { label: "RTT", numeric: true },
    { label: "TTL", numeric: true },
  ]);
  private readonly summary = el("p", { class: "summary mono", "data-testid": "ping-summary" });
  private readonly runner: ActionRunner;
  private runs = 0;

  constructor(
    private readonly api: ConsoleApi,
    log: ActionLog,
  ) {
    this.runner = new ActionRunner("Ping", log);
    this.element = injectForm({
      label: "Ping",
      fields: [
        field("Target IP", this.ip),
        field("Count", this.count, "1-1000"),
        field("Size (bytes)", this.size, "0-1400"),
        field("Interval (ms)", this.interval, "10-60000"),
      ],
      runner: this.runner,
      results: [this.summary, this.table.element],
      submit: () => this.submit(),
    });
  }

  /** Checks the fields, then pings with live rows; resolves when done, failed or cancelled. */
  async submit(): Promise<void> {
    clearInvalid(this.ip, this.count, this.size, this.interval);
    const ip = checkIpv4(this.ip.value);
    if (!ip.ok) return this.runner.reject(ip.message, this.ip);
    const count = checkInteger(this.count.value, "Count", 1, 1000);
    if (!count.ok) return this.runner.reject(count.message, this.count);
    const size = checkInteger(this.size.value, "Size", 0, 1400);
    if (!size.ok) return this.runner.reject(size.message, this.size);
    const interval = checkInteger(this.interval.value, "Interval", 10, 60_000);
    if (!interval.ok) return this.runner.reject(interval.message, this.interval);

    this.table.body.replaceChildren();
    const probes: PingProbe[] = [];
    const timeoutMs = 2000;
    // A cancelled ping's late probes must not land in this (or the next) run's table.
    const run = ++this.runs;
    const onProbe = (probe: PingProbe): void => {
      if (run !== this.runs || !this.runner.busy) return;
      probes.push(probe);
      this.table.body.append(probeRow(probe));
      this.runner.setProgress(`${probes.length} of ${count.value}`);
      this.summary.textContent = summarize(probes, probes.length);
    };
    this.summary.textContent = `PING ${ip.value}, ${size.value} bytes`;
    const deadline = count.value * interval.value + timeoutMs + 5000;
    const replies = await this.runner.start(deadline, (signal) =>
      this.api.ping(ip.value, {
        count: count.value,
        size: size.value,
        intervalMs: interval.value,
        timeoutMs,
        onProbe,
        signal,
      }),
    );
    this.runs++;
    if (replies !== undefined) this.summary.textContent = summarize(probes, Math.max(probes.length, count.value));
  }
}

function probeRow(probe: PingProbe): HTMLTableRowElement {
  const outcome =
    probe.outcome === "reply"
      ? "reply"
      : probe.outcome === "timeout"
        ? "timeout"
        : `unreachable from ${probe.from}: ${probe.detail}`;
  return el(
    "tr",
    { "data-outcome": probe.outcome },
    el("td", { class: "num" }, String(probe.seq)),
    el("td", { class: probe.outcome === "reply" ? "" : "warn-text" }, outcome),
    el("td", { class: "num" }, probe.outcome === "reply" ? formatRtt(probe.rttMs) : "–"),
    el("td", { class: "num" }, probe.outcome === "reply" ? String(probe.ttl) : "–"),
  );
}
