import { isNetworkName, parseIpv4Address } from "@ipop/shared";

// Form checks run before any call into the API, so a typo gets a message beside the field at once
// instead of a round trip. The API checks again (scripts call it directly); these say it in form words.

/** A checked value or the message to show beside the field. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** A dotted-quad IPv4 address such as 10.88.0.7. */
export function checkIpv4(text: string): Checked<string> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Enter a virtual IP address, such as 10.88.0.7." };
  if (parseIpv4Address(trimmed) === null) {
    return { ok: false, message: `"${trimmed}" is not an IPv4 address (four numbers 0-255 separated by dots).` };
  }
  return { ok: true, value: trimmed };
}

/** A UDP port, 1-65535. */
export function checkPort(text: string): Checked<number> {
  return checkInteger(text, "Port", 1, 65535);
}

/** A whole number within [min, max], named in the message. */
export function checkInteger(text: string, label: string, min: number, max: number): Checked<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: `${label} must be a whole number from ${min} to ${max}.` };
  const value = Number(trimmed);
  if (value < min || value > max)
    return { ok: false, message: `${label} must be from ${min} to ${max}; got ${value}.` };
  return { ok: true, value };
}

/** A network name as `ipop` accepts it: letters, digits, dot, dash, underscore. */
export function checkNetwork(text: string): Checked<string> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Enter the network's name." };
  if (!isNetworkName(trimmed)) {
    return { ok: false, message: "A network name is 1-64 letters, digits, dots, dashes and underscores." };
  }
  return { ok: true, value: trimmed };
}

/** A join token: any non-empty text without spaces (the server judges it). */
export function checkToken(text: string): Checked<string> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Paste the join token (from ipop token create)." };
  if (/\s/.test(trimmed)) return { ok: false, message: "A join token has no spaces; check the paste." };
  return { ok: true, value: trimmed };
}

/** An optional signaling URL: empty (the page's own server) or ws:// / wss://. */
export function checkSignalUrl(text: string): Checked<string | undefined> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, value: undefined };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, message: `"${trimmed}" is not a URL; use ws://HOST:PORT or wss://HOST.` };
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return { ok: false, message: "The signaling URL starts with ws:// or wss://." };
  }
  return { ok: true, value: trimmed };
}
