import type { ConsoleApi, JoinRequest, SelfInfo } from "../api.js";
import { withDeadline } from "./deadline.js";
import { el, field } from "./dom.js";
import { describeError, errorLine } from "./error-messages.js";
import type { JoinLink } from "./join-link.js";
import { checkNetwork, checkSignalUrl, checkToken } from "./validate.js";

/** How long the form waits for `join` before it gives up and frees itself (the peer keeps its own timers). */
const JOIN_DEADLINE_MS = 45_000;

/**
 * The join form: network, token, optional signaling URL. Fields are checked before the call; a
 * refusal (unknown network, refused token, signaling down) is shown under the form in words.
 */
export class JoinForm {
  readonly element: HTMLFormElement;
  private readonly network = el("input", { name: "network", autocomplete: "off", spellcheck: "false", required: true });
  private readonly token = el("input", { name: "token", type: "password", autocomplete: "off", required: true });
  private readonly signal = el("input", {
    name: "signal",
    type: "url",
    placeholder: "this page's server",
    autocomplete: "off",
    spellcheck: "false",
  });
  private readonly submit = el("button", { type: "submit", class: "primary" }, "Join");
  private readonly message = el("div", { class: "form-message", role: "alert", "data-testid": "join-message" });

  constructor(
    private readonly api: ConsoleApi,
    private readonly onJoined: (self: SelfInfo) => void,
  ) {
    this.element = el(
      "form",
      { class: "panel join-form", "aria-label": "Join a network", novalidate: true },
      el("h2", {}, "Join a network"),
      el(
        "div",
        { class: "fields" },
        field("Network", this.network),
        field("Join token", this.token),
        field("Signaling URL (optional)", this.signal),
      ),
      el("div", { class: "actions" }, this.submit),
      this.message,
    );
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.join();
    });
  }

  /** Fills the form from a join link. */
  fill(link: JoinLink): void {
    if (link.network) this.network.value = link.network;
    if (link.token) this.token.value = link.token;
    if (link.signalUrl) this.signal.value = link.signalUrl;
  }

  /** Checks the fields and joins; resolves when the attempt is over, either way. */
  async join(): Promise<void> {
    const request = this.read();
    if (!request) return;
    this.submit.disabled = true;
    this.submit.textContent = "Joining…";
    this.say("", "info");
    try {
      const self = await withDeadline(this.api.join(request), JOIN_DEADLINE_MS, `joining ${request.network}`);
      this.onJoined(self);
    } catch (error) {
      const text = describeError(error);
      this.say(errorLine(text), "error", text.code);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Join";
    }
  }

  private read(): JoinRequest | undefined {
    const network = checkNetwork(this.network.value);
    const token = checkToken(this.token.value);
    const signal = checkSignalUrl(this.signal.value);
    for (const [input, checked] of [
      [this.network, network],
      [this.token, token],
      [this.signal, signal],
    ] as const) {
      input.setAttribute("aria-invalid", String(!checked.ok));
    }
    if (!network.ok) return this.reject(network.message, this.network);
    if (!token.ok) return this.reject(token.message, this.token);
    if (!signal.ok) return this.reject(signal.message, this.signal);
    return signal.value === undefined
      ? { network: network.value, token: token.value }
      : { network: network.value, token: token.value, signalUrl: signal.value };
  }

  private reject(message: string, input: HTMLInputElement): undefined {
    this.say(message, "error", "bad-input");
    input.focus();
    return undefined;
  }

  private say(text: string, level: "info" | "error", code = ""): void {
    this.message.textContent = text;
    this.message.dataset.level = level;
    this.message.dataset.code = code;
  }
}
