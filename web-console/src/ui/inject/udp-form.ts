import type { ConsoleApi, UdpProbeResult } from "../../api.js";
import { el, field } from "../dom.js";
import { formatRtt } from "../format.js";
import { checkIpv4, checkPort } from "../validate.js";
import { type ActionLog, ActionRunner } from "./action-runner.js";
import { injectForm } from "./inject-form.js";
import { clearInvalid, targetInput } from "./target-input.js";

/** One line for a UDP probe's outcome; a closed port's ICMP answer is an answer, and says so. */
export function describeUdpResult(ip: string, port: number, result: UdpProbeResult): string {
  switch (result.outcome) {
    case "reply":
      return `${ip}:${port} replied with ${result.bytes} bytes in ${formatRtt(result.rttMs)}`;
    case "port-unreachable":
      return `${ip}:${port} is closed: ICMP port unreachable from ${result.from} in ${formatRtt(result.rttMs)} (the host is up)`;
    case "unreachable":
      return `${ip} unreachable: ${result.detail} (ICMP from ${result.from}, ${formatRtt(result.rttMs)})`;
    case "timeout":
      return `${ip}:${port}: no answer (an open port that does not reply, a firewall, or a host that is down)`;
  }
}

/** A UDP probe to IP:port. */
export class UdpForm {
  readonly element: HTMLFormElement;
  private readonly ip = targetInput();
  private readonly port = el("input", { name: "port", value: "9", inputmode: "numeric", class: "mono short" });
  private readonly result = el("p", { class: "summary mono", "data-testid": "udp-result" });
  private readonly runner: ActionRunner;

  constructor(
    private readonly api: ConsoleApi,
    log: ActionLog,
  ) {
    this.runner = new ActionRunner("Probe", log);
    this.element = injectForm({
      label: "UDP probe",
      fields: [field("Target IP", this.ip), field("UDP port", this.port, "1-65535")],
      runner: this.runner,
      results: [this.result],
      submit: () => this.submit(),
    });
  }

  async submit(): Promise<void> {
    clearInvalid(this.ip, this.port);
    const ip = checkIpv4(this.ip.value);
    if (!ip.ok) return this.runner.reject(ip.message, this.ip);
    const port = checkPort(this.port.value);
    if (!port.ok) return this.runner.reject(port.message, this.port);
    this.result.dataset.outcome = "";
    this.result.textContent = `probing ${ip.value}:${port.value}…`;
    const timeoutMs = 2000;
    const result = await this.runner.start(timeoutMs + 5000, (signal) =>
      this.api.udpProbe(ip.value, port.value, { timeoutMs, signal }),
    );
    this.result.textContent = result ? describeUdpResult(ip.value, port.value, result) : "";
    this.result.dataset.outcome = result?.outcome ?? "";
  }
}
