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
