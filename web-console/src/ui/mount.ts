import type { ConsoleApi } from "../api.js";

/** Draws the console UI into `root`. Placeholder: replaced by the UI implementation. */
export function mountUi(root: HTMLElement, api: ConsoleApi): void {
  root.textContent = `IPOP console (${api.state()})`;
}
