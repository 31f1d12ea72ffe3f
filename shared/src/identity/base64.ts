/**
 * Strict base64 (RFC 4648 section 4, padded) and base64url (section 5, unpadded) codecs.
 *
 * Strict means canonical: one byte string has exactly one accepted text. Decoding refuses characters
 * outside the alphabet, wrong padding and non-zero unused bits, so a signature over the decoded bytes
 * also pins the text: no character of an armored certificate can change without detection.
 * (The platform has `btoa`/`Buffer`, but not in the pure core, and `atob` accepts non-canonical input.)
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function reverse(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const STANDARD_VALUES = reverse(STANDARD);
const URL_SAFE_VALUES = reverse(URL_SAFE);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

function decode(text: string, values: Int8Array, padded: boolean): Uint8Array | null {
  let body = text;
  if (padded) {
    if (text.length % 4 !== 0) return null;
    if (text.endsWith("==")) body = text.slice(0, -2);
    else if (text.endsWith("=")) body = text.slice(0, -1);
  }
  const rest = body.length % 4;
  if (rest === 1) return null;
  if (padded && rest === 0 && body.length !== text.length) return null;
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? values[c]! : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Left-over bits must be zero, or two texts would decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/** Standard base64 with `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

/** Decodes canonical padded standard base64; null for anything else (including whitespace). */
export function decodeBase64(text: string): Uint8Array | null {
  return decode(text, STANDARD_VALUES, true);
}

/** base64url without padding, as used for keys inside certificate bodies. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

/** Decodes canonical unpadded base64url; null for anything else. */
export function decodeBase64Url(text: string): Uint8Array | null {
  return decode(text, URL_SAFE_VALUES, false);
}
