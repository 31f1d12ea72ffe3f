import { el } from "../dom.js";

/** The id of the page's one datalist of member addresses, which every target field suggests from. */
export const MEMBER_LIST_ID = "member-ips";

/** A virtual-IP field that suggests the known members' addresses. */
export function targetInput(name = "ip"): HTMLInputElement {
  return el("input", {
    name,
    list: MEMBER_LIST_ID,
    inputmode: "decimal",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "10.88.0.7",
    class: "mono",
  });
}

/** Clears the invalid marks of `inputs` before a new check. */
export function clearInvalid(...inputs: HTMLInputElement[]): void {
  for (const input of inputs) input.removeAttribute("aria-invalid");
}
