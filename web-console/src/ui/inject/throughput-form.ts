import type { ConsoleApi } from "../../api.js";
import { el, field } from "../dom.js";
import { formatBytes, formatRtt } from "../format.js";
import { checkInteger, checkIpv4 } from "../validate.js";
import { type ActionLog, ActionRunner } from "./action-runner.js";
import { injectForm } from "./inject-form.js";
import { clearInvalid, targetInput } from "./target-input.js";

/** A throughput test against an agent's sink, with a progress bar over the test's length. */
export class ThroughputForm {
  readonly element: HTMLFormElement;
  private readonly ip = targetInput();
  private readonly seconds = el("input", { name: "seconds", value: "5", inputmode: "numeric", class: "mono short" });
  private readonly bar = el("progress", { max: "1", value: "0", "aria-label": "Test progress" });
  private readonly result = el("p", { class: "summary mono", "data-testid": "throughput-result" });
  private readonly runner: ActionRunner;

  constructor(
    private readonly api: ConsoleApi,
    log: ActionLog,
  ) {
    this.runner = new ActionRunner("Measure", log);
    this.element = injectForm({
      label: "Throughput",
      fields: [field("Target IP", this.ip), field("Seconds", this.seconds, "1-30")],
      runner: this.runner,
      progress: this.bar,
      results: [this.result],
      submit: () => this.submit(),
    });
  }

  async submit(): Promise<void> {
    clearInvalid(this.ip, this.seconds);
    const ip = checkIpv4(this.ip.value);
    if (!ip.ok) return this.runner.reject(ip.message, this.ip);
    const seconds = checkInteger(this.seconds.value, "Seconds", 1, 30);
    if (!seconds.ok) return this.runner.reject(seconds.message, this.seconds);
    this.result.textContent = "";
    const started = performance.now();
    const tick = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      this.bar.value = Math.min(1, elapsed / seconds.value);
      this.runner.setProgress(`${Math.min(seconds.value, Math.floor(elapsed))} of ${seconds.value} s`);
    }, 250);
    try {
      const result = await this.runner.start(seconds.value * 1000 + 15_000, (signal) =>
        this.api.throughput(ip.value, { seconds: seconds.value, signal }),
      );
      if (result) {
        this.result.textContent = `${result.mbitPerSec.toFixed(1)} Mbit/s to ${ip.value}; ${formatBytes(result.bytesReceived)} of ${formatBytes(
          result.bytesSent,
        )} confirmed in ${result.seconds} s; RTT ${formatRtt(result.rttMs)} during the test`;
      }
    } finally {
      clearInterval(tick);
      this.bar.value = 0;
    }
  }
}
