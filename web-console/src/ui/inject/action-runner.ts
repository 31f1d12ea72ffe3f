import { ConsoleError } from "../../api.js";
import { el, setText } from "../dom.js";
import { describeError, errorLine } from "../error-messages.js";

/** Where an action's outcome is recorded besides its own panel (the event log). */
export type ActionLog = (level: "info" | "warn" | "error", text: string) => void;

/**
 * Runs one long action at a time for a form: the Run button turns busy, a Cancel button appears,
 * progress is shown, and a deadline stops the wait if the action never settles. Cancel and the
 * deadline abort the action's signal AND stop waiting for it, so the form is free again at once
 * even if the action ignores its signal. Failures are shown in words per error code.
 */
export class ActionRunner {
  readonly run = el("button", { type: "submit", class: "primary" });
  readonly cancel = el("button", { type: "button", hidden: true }, "Cancel");
  readonly progress = el("span", { class: "progress muted", role: "status", "aria-live": "polite" });
  readonly message = el("div", { class: "form-message", role: "alert" });
  private controller: AbortController | undefined;

  constructor(
    private readonly label: string,
    private readonly log: ActionLog,
  ) {
    this.run.textContent = label;
    this.cancel.addEventListener("click", () => this.controller?.abort(new DOMException("Cancelled", "AbortError")));
  }

  /** The buttons and progress line, for the form's action row. */
  controls(): HTMLElement {
    return el("div", { class: "actions" }, this.run, this.cancel, this.progress);
  }

  /** True while an action runs. */
  get busy(): boolean {
    return this.controller !== undefined;
  }

  /** Shows a form-level problem (a field that failed its check). */
  reject(message: string, input?: HTMLElement): void {
    this.say(message, "error", "bad-input");
    input?.setAttribute("aria-invalid", "true");
    input?.focus();
  }

  /** Updates the progress line ("3 of 10 sent"). */
  setProgress(text: string): void {
    setText(this.progress, text);
  }

  /**
   * Runs `task` with a signal; resolves to its result, or undefined when it failed, was cancelled or
   * ran past `deadlineMs` (the message says which).
   */
  async start<T>(deadlineMs: number, task: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (this.controller) return undefined;
    const controller = new AbortController();
    this.controller = controller;
    this.run.disabled = true;
    this.run.textContent = `${this.label}…`;
    this.cancel.hidden = false;
    this.say("", "info");
    const timer = setTimeout(
      () =>
        controller.abort(
          new ConsoleError("timeout", `no result after ${Math.round(deadlineMs / 1000)} s; stopped waiting`),
        ),
      deadlineMs,
    );
    const stopped = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    try {
      return await Promise.race([task(controller.signal), stopped]);
    } catch (error) {
      const text = describeError(error);
      const cancelled = error instanceof DOMException && error.name === "AbortError";
      this.say(cancelled ? "Cancelled." : errorLine(text), cancelled ? "info" : "error", text.code);
      this.log(
        cancelled ? "info" : "warn",
        `${this.label}: ${cancelled ? "cancelled" : `${text.title}: ${text.detail}`}`,
      );
      return undefined;
    } finally {
      clearTimeout(timer);
      this.controller = undefined;
      this.run.disabled = false;
      this.run.textContent = this.label;
      this.cancel.hidden = true;
      this.setProgress("");
    }
  }

  private say(text: string, level: "info" | "error", code = ""): void {
    setText(this.message, text);
    this.message.dataset.level = level;
    this.message.dataset.code = code;
  }
}
