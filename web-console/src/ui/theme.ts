/** Reads a CSS custom property of the page (styles.css defines the palette for light and dark). */
export function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Calls `onChange` when the system switches between light and dark; returns the unsubscribe. */
export function onThemeChange(onChange: () => void): () => void {
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}
