/**
 * The text envelope of certificates and key files, PEM-like so they survive copy-paste, e-mail and
 * `cat`:
 * ```
 * -----BEGIN IPOP CERTIFICATE-----
 * <payload, wrapped at 64 characters>
 * -----END IPOP CERTIFICATE-----
 * ```
 * The payload is limited to the base64 alphabet, `=` and `.`; what it means is up to the caller.
 */

/** Labels in use; each file kind has its own so one cannot be mistaken for another. */
import { decodeBase64 } from "./base64.js";
import { SIGNATURE_BYTES } from "./keys.js";

export type ArmorLabel = "IPOP CERTIFICATE" | "IPOP PRIVATE KEY" | "IPOP REVOCATION LIST";

const LINE_WIDTH = 64;
const PAYLOAD_LINE = /^[A-Za-z0-9+/=.]+$/;

function begin(label: ArmorLabel): string {
  return `-----BEGIN ${label}-----`;
}

function end(label: ArmorLabel): string {
  return `-----END ${label}-----`;
}

/** Wraps a payload in the armor of `label`, with a final newline. */
export function armor(label: ArmorLabel, payload: string): string {
  const lines = [begin(label)];
  for (let i = 0; i < payload.length; i += LINE_WIDTH) lines.push(payload.slice(i, i + LINE_WIDTH));
  lines.push(end(label), "");
  return lines.join("\n");
}

/** Why {@link unarmor} refused: the input stops early, or is something else. */
export type UnarmorFailure =
  | { readonly ok: false; readonly reason: "truncated"; readonly message: string }
  | { readonly ok: false; readonly reason: "malformed"; readonly message: string };

/**
 * Takes the payload out of armored text. Whitespace around the block is allowed and lines may end
 * in CRLF (a file edited on Windows); anything else outside or inside the block is refused. Input
 * that stops before the end marker, including a cut-off begin marker, is "truncated", so a file cut
 * short by a full disk or a partial copy gets its own error.
 */
export function unarmor(
  label: ArmorLabel,
  text: string,
): { readonly ok: true; readonly payload: string } | UnarmorFailure {
  const trimmed = text.trim();
  const first = begin(label);
  if (trimmed === "") return { ok: false, reason: "truncated", message: "it is empty" };
  if (!trimmed.startsWith(first)) {
    if (first.startsWith(trimmed))
      return { ok: false, reason: "truncated", message: "it ends inside the begin marker" };
    const other = /^-----BEGIN ([A-Z ]{1,40})-----/.exec(trimmed);
    const what = other ? `it holds a "${other[1]}" block instead` : "it is something else";
    return { ok: false, reason: "malformed", message: `it does not start with ${first}; ${what}` };
  }
  const lines = trimmed.split(/\r?\n/);
  const last = end(label);
  const endIndex = lines.indexOf(last);
  if (endIndex < 0) return { ok: false, reason: "truncated", message: `it ends before ${last}` };
  if (lines[0] !== first) return { ok: false, reason: "malformed", message: `text follows ${first} on its line` };
  if (endIndex !== lines.length - 1) return { ok: false, reason: "malformed", message: `text follows ${last}` };
  const body = lines.slice(1, endIndex);
  if (body.length === 0) return { ok: false, reason: "truncated", message: "it has no content between its markers" };
  for (const line of body) {
    if (!PAYLOAD_LINE.test(line)) {
      return { ok: false, reason: "malformed", message: "it has characters that are not base64 between its markers" };
    }
  }
  return { ok: true, payload: body.join("") };
}

/** The two parts of a signed armored file: the exact body bytes and the signature over them. */
export type SignedArmor =
  | { readonly ok: true; readonly body: Uint8Array; readonly signature: Uint8Array }
  | UnarmorFailure;

/**
 * Reads a signed armored file (certificates, revocation lists): `<base64 body>.<base64 signature>`
 * inside the armor of `label`, given as text or as the file's bytes. `what` names the content in
 * messages ("certificate"). Checks form only: base64, and a signature of the right length.
 */
export function unarmorSigned(label: ArmorLabel, input: string | Uint8Array, what: string): SignedArmor {
  const malformed = (message: string): UnarmorFailure => ({ ok: false, reason: "malformed", message });
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    text = "";
    for (let i = 0; i < input.length; i++) {
      const c = input[i]!;
      if (c > 0x7e) return malformed(`it is not a text ${what} (binary data)`);
      text += String.fromCharCode(c);
    }
  }
  const unwrapped = unarmor(label, text);
  if (!unwrapped.ok) return unwrapped;
  const parts = unwrapped.payload.split(".");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    return malformed("its content is not <body>.<signature>");
  }
  const body = decodeBase64(parts[0]!);
  const signature = decodeBase64(parts[1]!);
  if (body === null || signature === null) return malformed("its content is not base64");
  if (signature.length !== SIGNATURE_BYTES) {
    return malformed(`its signature is ${signature.length} bytes, not ${SIGNATURE_BYTES}`);
  }
  return { ok: true, body, signature };
}
