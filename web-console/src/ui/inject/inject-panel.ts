import type { ConsoleApi } from "../../api.js";
import { el } from "../dom.js";
import type { ActionLog } from "./action-runner.js";
import { PingForm } from "./ping-form.js";
import { ThroughputForm } from "./throughput-form.js";
import { TraceForm } from "./trace-form.js";
import { UdpForm } from "./udp-form.js";

/**
 * The four ways to send test traffic, as tabs (WAI-ARIA tab pattern: arrow keys move between tabs,
 * Tab goes into the panel). All forms stay mounted, so switching tabs keeps a running ping running.
 */
export class InjectPanel {
  readonly element: HTMLElement;
  readonly ping: PingForm;
  readonly udp: UdpForm;
  readonly trace: TraceForm;
  readonly throughput: ThroughputForm;
  private readonly tabs: HTMLButtonElement[] = [];
  private readonly panels: HTMLElement[] = [];

  constructor(api: ConsoleApi, log: ActionLog) {
    this.ping = new PingForm(api, log);
    this.udp = new UdpForm(api, log);
    this.trace = new TraceForm(api, log);
    this.throughput = new ThroughputForm(api, log);
    const entries = [
      ["ping", "Ping", this.ping.element],
      ["udp", "UDP probe", this.udp.element],
      ["trace", "Traceroute", this.trace.element],
      ["throughput", "Throughput", this.throughput.element],
    ] as const;
    const tabList = el("div", { class: "tabs", role: "tablist", "aria-label": "Test traffic" });
    entries.forEach(([id, label, form], index) => {
      const tab = el(
        "button",
        {
          type: "button",
          role: "tab",
          id: `tab-${id}`,
          "aria-controls": `panel-${id}`,
          "aria-selected": String(index === 0),
          tabindex: index === 0 ? "0" : "-1",
        },
        label,
      );
      tab.addEventListener("click", () => this.choose(index));
      tab.addEventListener("keydown", (event) => this.onKey(event, index));
      const panel = el(
        "div",
        { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}`, hidden: index !== 0 },
        form,
      );
      this.tabs.push(tab);
      this.panels.push(panel);
      tabList.append(tab);
    });
    this.element = el(
      "section",
      { class: "panel inject", "aria-labelledby": "inject-title" },
      el("h2", { id: "inject-title" }, "Send test traffic"),
      tabList,
      ...this.panels,
    );
  }

  /** Shows tab `index` and fills its target with `ip` when given (a node picked elsewhere). */
  choose(index: number, focus = false): void {
    this.tabs.forEach((tab, i) => {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
      const panel = this.panels[i];
      if (panel) panel.hidden = i !== index;
    });
    if (focus) this.tabs[index]?.focus();
  }

  /** Puts `ip` into every form's target field (selecting a node makes it the target). */
  target(ip: string): void {
    for (const input of this.element.querySelectorAll<HTMLInputElement>('input[name="ip"]')) input.value = ip;
  }

  private onKey(event: KeyboardEvent, index: number): void {
    const count = this.tabs.length;
    const next =
      event.key === "ArrowRight"
        ? (index + 1) % count
        : event.key === "ArrowLeft"
          ? (index + count - 1) % count
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? count - 1
              : -1;
    if (next < 0) return;
    event.preventDefault();
    this.choose(next, true);
  }
}
