import { type Child, el } from "../dom.js";
import type { ActionRunner } from "./action-runner.js";

/** What differs between the inject forms; the frame around it is the same for each. */
export interface InjectFormParts {
  /** The form's accessible name ("Ping", "UDP probe"...). */
  readonly label: string;
  /** The labelled inputs, in order. */
  readonly fields: readonly HTMLElement[];
  readonly runner: ActionRunner;
  /** Shown between the action row and the runner's message (a progress bar). */
  readonly progress?: HTMLElement;
  /** Where the results go, below the runner's message. */
  readonly results: readonly HTMLElement[];
  /** Checks the fields and runs the action; the form calls it on submit (Enter, or the Run button). */
  readonly submit: () => Promise<void>;
}

/**
 * One inject form: its fields, the runner's Run/Cancel row, the runner's message, then the results.
 * The browser's own validation is off (`novalidate`): the runner says what is wrong, in words.
 */
export function injectForm(parts: InjectFormParts): HTMLFormElement {
  const form = el(
    "form",
    { class: "inject-form", "aria-label": parts.label, novalidate: true },
    el("div", { class: "fields" }, ...parts.fields),
    parts.runner.controls(),
    parts.progress,
    parts.runner.message,
    ...parts.results,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void parts.submit();
  });
  return form;
}

/** A column of a results table; numeric ones are right-aligned. */
export type ResultColumn = string | { readonly label: string; readonly numeric: true };

/** A scrolling results table with these columns; rows go into `body`. */
export function resultTable(columns: readonly ResultColumn[]): {
  readonly element: HTMLElement;
  readonly body: HTMLTableSectionElement;
} {
  const body = el("tbody");
  const headers: Child[] = columns.map((column) =>
    typeof column === "string" ? el("th", {}, column) : el("th", { class: "num" }, column.label),
  );
  const table = el("table", { class: "result-table" }, el("thead", {}, el("tr", {}, ...headers)), body);
  return { element: el("div", { class: "table-scroll results" }, table), body };
}
