import type { ConsoleApi } from "../../api.js";
import { el, field } from "../dom.js";
import { formatRtt } from "../format.js";
import { checkIpv4 } from "../validate.js";
import { type ActionLog, ActionRunner } from "./action-runner.js";
import { injectForm, resultTable } from "./inject-form.js";
import { clearInvalid, targetInput } from "./target-input.js";

/** An overlay traceroute: each hop the page's packets cross, with its round trip. */
export class TraceForm {
  readonly element: HTMLFormElement;
  private readonly ip = targetInput();
  private readonly table = resultTable([
    { label: "hop", numeric: true },
    "name",
    "IP",
    { label: "RTT", numeric: true },
  ]);
  private readonly runner: ActionRunner;

  constructor(
    private readonly api: ConsoleApi,
    log: ActionLog,
  ) {
    this.runner = new ActionRunner("Trace", log);
    this.element = injectForm({
      label: "Traceroute",
      fields: [field("Target IP", this.ip)],
      runner: this.runner,
      results: [this.table.element],
      submit: () => this.submit(),
    });
  }

  async submit(): Promise<void> {
    clearInvalid(this.ip);
    const ip = checkIpv4(this.ip.value);
    if (!ip.ok) return this.runner.reject(ip.message, this.ip);
    this.table.body.replaceChildren();
    this.runner.setProgress(`tracing ${ip.value}…`);
    const timeoutMs = 3000;
    const hops = await this.runner.start(60_000, (signal) => this.api.traceroute(ip.value, { timeoutMs, signal }));
    for (const hop of hops ?? []) {
      this.table.body.append(
        el(
          "tr",
          {},
          el("td", { class: "num" }, String(hop.hop)),
          el("td", {}, hop.name),
          el("td", { class: "mono" }, hop.ip),
          el("td", { class: "num" }, formatRtt(hop.rttMs)),
        ),
      );
    }
  }
}
