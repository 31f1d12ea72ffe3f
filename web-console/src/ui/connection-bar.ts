import type { ConnectionState, SelfInfo } from "../api.js";
import { el, setText } from "./dom.js";

const STATE_WORDS: Readonly<Record<ConnectionState, string>> = {
  idle: "Not joined",
  joining: "Joining…",
  joined: "Joined",
  reconnecting: "Reconnecting",
  left: "Left",
  failed: "Failed",
};

/**
 * The header line: who this page is in the overlay (name, virtual IP, network) and the connection
 * state with its reason. The state text sits in a live region so a screen reader hears changes.
 */
export class ConnectionBar {
  readonly element: HTMLElement;
  private readonly identity = el("span", { class: "identity" });
  private readonly badge = el("span", { class: "badge", "data-state": "idle" }, STATE_WORDS.idle);
  private readonly reason = el("span", { class: "reason" });
  private readonly leave = el("button", { type: "button", class: "leave", hidden: true }, "Leave");

  /** `onLeave` runs when the person presses Leave (shown while joined). */
  constructor(onLeave: () => void) {
    this.leave.addEventListener("click", onLeave);
    this.element = el(
      "header",
      { class: "connection-bar" },
      el("h1", {}, "IPOP console"),
      this.identity,
      el(
        "span",
        { class: "state" },
        el("span", { class: "state-text", role: "status", "aria-live": "polite" }, this.badge, this.reason),
        this.leave,
      ),
    );
    this.showSelf(undefined);
  }

  /** Shows the page's name, address and network; placeholders before joining keep the bar's height. */
  showSelf(self: SelfInfo | undefined): void {
    this.identity.replaceChildren(
      ...(self
        ? [
            el("strong", { "data-testid": "self-name" }, self.name),
            el("span", { class: "mono", "data-testid": "self-ip" }, self.ip),
            el("span", { class: "muted" }, `network ${self.network}`),
          ]
        : [el("span", { class: "muted" }, "not a member yet")]),
    );
  }

  /** Shows the state; `message` is the reason (reconnecting) or the error (failed). */
  showState(state: ConnectionState, message: string): void {
    this.badge.dataset.state = state;
    setText(this.badge, STATE_WORDS[state]);
    const showReason = state === "reconnecting" || state === "failed" || state === "joining";
    setText(this.reason, showReason ? message : "");
    this.reason.title = showReason ? message : "";
    this.leave.hidden = state !== "joined" && state !== "reconnecting";
  }
}
