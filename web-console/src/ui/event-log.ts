import type { ConsoleEvent } from "../api.js";
import { el } from "./dom.js";
import { formatClock } from "./format.js";

export type LogLevel = "info" | "warn" | "error";

/** Lines kept; older ones fall off the end so a long session does not grow the page without bound. */
const CAPACITY = 300;

const ORDER: Readonly<Record<LogLevel, number>> = { info: 0, warn: 1, error: 2 };

/** The words and level of a console event, as one log line. */
export function describeEvent(event: ConsoleEvent): { level: LogLevel; text: string } {
  switch (event.kind) {
    case "state": {
      const level = event.state === "failed" ? "error" : event.state === "reconnecting" ? "warn" : "info";
      return { level, text: `${event.state}: ${event.message}` };
    }
    case "link-up":
      return {
        level: "info",
        text: `link up: ${event.peer.name} ${event.peer.ip} (${event.peer.kinds.join(", ")}, ${event.peer.path})`,
      };
    case "link-down":
      return { level: "warn", text: `link down: ${event.name} (${event.reason})` };
    case "log":
      return { level: event.level, text: event.message };
  }
}

/** The event log: newest first, with a level filter. */
export class EventLog {
  readonly element: HTMLElement;
  private readonly list = el("ol", { class: "log-lines", "aria-live": "off" });
  private readonly filter = el(
    "select",
    { "aria-label": "Show levels" },
    el("option", { value: "info" }, "all"),
    el("option", { value: "warn" }, "warnings and errors"),
    el("option", { value: "error" }, "errors"),
  );

  constructor() {
    this.element = el(
      "section",
      { class: "panel log", "aria-labelledby": "log-title" },
      el("div", { class: "panel-head" }, el("h2", { id: "log-title" }, "Events"), this.filter),
      el("div", { class: "log-scroll", tabindex: "0", "aria-label": "Event log" }, this.list),
    );
    this.filter.addEventListener("change", () => this.applyFilter());
  }

  /** Adds a console event. */
  add(event: ConsoleEvent, atMs = Date.now()): void {
    const { level, text } = describeEvent(event);
    this.write(level, text, atMs);
  }

  /** Adds a line the UI itself wants to record (an action's outcome). */
  write(level: LogLevel, text: string, atMs = Date.now()): void {
    const line = el(
      "li",
      { "data-level": level },
      el("time", { class: "mono muted" }, formatClock(atMs)),
      el("span", { class: `level ${level}` }, level),
      el("span", { class: "text" }, text),
    );
    line.hidden = ORDER[level] < ORDER[this.filter.value as LogLevel];
    this.list.prepend(line);
    while (this.list.childElementCount > CAPACITY) this.list.lastElementChild?.remove();
  }

  private applyFilter(): void {
    const min = ORDER[this.filter.value as LogLevel];
    for (const line of this.list.children) {
      (line as HTMLElement).hidden = ORDER[(line as HTMLElement).dataset.level as LogLevel] < min;
    }
  }
}
