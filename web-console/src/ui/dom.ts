/** Attributes `el` sets: properties it knows as attributes, `on*` handlers as listeners. */
export type Attributes = Readonly<Record<string, string | number | boolean | EventListener | undefined>>;

/** A child: an element, text, or nothing (skipped, so optional parts read naturally at the call site). */
export type Child = Node | string | false | null | undefined;

/**
 * Creates an element: `el("button", { type: "button", class: "primary", onclick: go }, "Ping")`.
 * Plain DOM on purpose: the page is a handful of panels that update a few text nodes each second,
 * which needs no virtual DOM; every panel keeps references to the nodes it updates.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping the falsy ones. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Sets text only when it changed, so a once-a-second refresh does not touch the DOM for nothing. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** A labelled input: the `<label>` wraps its text and the control, so clicks and screen readers agree. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return el(
    "label",
    { class: "field" },
    el("span", { class: "field-label" }, label),
    control,
    hint ? el("small", {}, hint) : null,
  );
}
