import { ConsoleError, type ConsoleErrorCode } from "../api.js";

/** What the page says about a failure: a short title and the API's own message with what to do next. */
export interface ErrorText {
  readonly code: ConsoleErrorCode | "unexpected";
  readonly title: string;
  readonly detail: string;
  readonly hint: string;
}

const TITLES: Readonly<Record<ConsoleErrorCode, { title: string; hint: string }>> = {
  "bad-input": { title: "Check the input", hint: "Fix the field and try again." },
  "not-joined": { title: "Not joined", hint: "Join a network first (the form at the top)." },
  "unknown-network": {
    title: "Unknown network",
    hint: "The signaling server has no network by that name; check the name in the join link.",
  },
  "token-refused": {
    title: "Token refused",
    hint: "Ask for a new one (ipop token create).",
  },
  "signaling-down": {
    title: "Signaling server unreachable",
    hint: "The page keeps retrying; check that ipop-signal runs and the URL is right.",
  },
  unreachable: { title: "Host unreachable", hint: "No route to that address, or its host said it is unreachable." },
  timeout: { title: "No answer in time", hint: "The host may be down, or dropping this traffic." },
  refused: {
    title: "Status refused",
    hint: "Nodes show their status only to operators; join with a token from ipop token create --groups ops.",
  },
};

/** One line for a form: "Title: detail. Hint" (without doubling a period the detail already has). */
export function errorLine(text: ErrorText): string {
  const detail = text.detail.replace(/[.\s]+$/, "");
  return [`${text.title}: ${detail}.`, text.hint].filter(Boolean).join(" ");
}

/** Maps any thrown value to the words the page shows. */
export function describeError(error: unknown): ErrorText {
  if (error instanceof ConsoleError && error.code in TITLES) {
    const { title, hint } = TITLES[error.code];
    return { code: error.code, title, detail: error.message, hint };
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return { code: "unexpected", title: "Cancelled", detail: "Stopped before it finished.", hint: "" };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: "unexpected",
    title: "Something went wrong",
    detail,
    hint: "See the event log and the browser console.",
  };
}
