/**
 * Canonical JSON for signed bodies other than certificates (tokens, revocation lists, proofs).
 *
 * As with certificate bodies (see certificate.ts), a signed body has one encoding: whatever
 * `JSON.stringify` gives for the fields in their fixed order, printable ASCII only. Decoders parse,
 * rebuild the value from the fields they know and refuse the input unless re-encoding gives the
 * same text, which rules out duplicate keys, unknown fields, whitespace and other number spellings.
 */
import { MAX_CERTIFICATE_TIME } from "./certificate.js";

/** Printable ASCII bytes as text, or null when a byte is outside 0x20-0x7e. */
export function printableAscii(bytes: Uint8Array): string | null {
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e) return null;
    text += String.fromCharCode(c);
  }
  return text;
}

/**
 * JSON with every character outside printable ASCII escaped, so the text is its own byte string.
 * (Field rules keep names ASCII anyway; this makes the encoding total.)
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Decodes printable-ASCII JSON that must be an object; returns what is wrong as a string otherwise. */
export function decodeJsonObject(
  bytes: Uint8Array,
): { readonly text: string; readonly value: Record<string, unknown> } | string {
  const text = printableAscii(bytes);
  if (text === null) return "its body is not printable ASCII JSON";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "its body is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "its body is not a JSON object";
  return { text, value: value as Record<string, unknown> };
}

/** The first key of `value` not in `known`, if any. */
export function unknownKey(value: Record<string, unknown>, known: readonly string[]): string | undefined {
  return Object.keys(value).find((key) => !known.includes(key));
}

/** Whole seconds between 1970 and the end of year 9999, the range certificate times use. */
export function isEpochSeconds(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= MAX_CERTIFICATE_TIME;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
