import type { ConsoleApi } from "../api.js";

/** Creates the page's overlay member. Placeholder: replaced by the peer implementation. */
export function createConsole(): ConsoleApi {
  throw new Error("the console peer is not built yet");
}
