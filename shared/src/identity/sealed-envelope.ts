/**
 * Signed link-setup envelopes: what one node sends another to set up or close a link (through the
 * signaling server or routed over the overlay) travels sealed, so no relay can forge, alter or
 * redirect it. The seal is the sender's certificate, the signed bytes and an Ed25519 signature by
 * the certified key:
 * ```
 * { "v": 1, "cert": "<armored certificate>", "signed": "<base64url bytes>", "sig": "<base64url>" }
 * ```
 * The signed bytes are ASCII JSON `{"network","from","to","time","envelope"}`: who sends (its node
 * id, which starts with its certificate's key id), to whom, on which network and when (wall-clock
 * milliseconds), so an envelope cannot be replayed to another node, another network or much later.
 * This module checks form and signature only; {@link EnvelopeGuard} adds trust (CA, revocation,
 * freshness, replays).
 */

import { type IdentityResult, identityFailure } from "../errors.js";
import { MAX_SIGNAL_MESSAGE_BYTES } from "../signaling-protocol.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import { asciiBytes } from "./body.js";
import { type Certificate, MAX_CERTIFICATE_BYTES } from "./certificate.js";
import { signMessage, verifyMessage } from "./keys.js";
import { parseCertificate } from "./parse.js";

/** Signature context of sealed envelopes. */
export const ENVELOPE_SIGNATURE_CONTEXT = "ipop-envelope-v1";

/** What a seal covers. */
export interface EnvelopeFields {
  readonly network: string;
  /** The sender's node id: `<certificate key id>-<incarnation>`. */
  readonly from: string;
  /** The node id it is meant for. */
  readonly to: string;
  /** Wall-clock milliseconds since the Unix epoch when it was sealed. */
  readonly time: number;
  /** The link envelope itself (see link-envelope.ts); parsed by the receiver after the seal holds. */
  readonly envelope: unknown;
}

/** The wire form. */
export interface SealedEnvelope {
  readonly v: 1;
  readonly cert: string;
  readonly signed: string;
  readonly sig: string;
}

/** A seal whose signature holds: the fields and the certificate of the key that signed them. */
export interface UnsealedEnvelope {
  readonly fields: EnvelopeFields;
  readonly cert: Certificate;
  /** The certificate as it was carried, a key for caches. */
  readonly certText: string;
  /** The signature (base64url), unique per envelope: the key of the replay cache. */
  readonly sig: string;
}

/** JSON with every non-ASCII character escaped, so the signed bytes are the text's char codes. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function asciiText(bytes: Uint8Array): string | null {
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)) return null;
    text += String.fromCharCode(c);
  }
  return text;
}

/** Seals `fields` with the node's key `seed`, whose certificate is `certText` (armored). */
export function sealEnvelope(fields: EnvelopeFields, certText: string, seed: Uint8Array): SealedEnvelope {
  const { network, from, to, time, envelope } = fields;
  const signed = asciiBytes(asciiJson({ network, from, to, time, envelope }));
  return {
    v: 1,
    cert: certText,
    signed: encodeBase64Url(signed),
    sig: encodeBase64Url(signMessage(ENVELOPE_SIGNATURE_CONTEXT, signed, seed)),
  };
}

function malformed(message: string): IdentityResult<never> {
  return identityFailure("IPOP_ENVELOPE_MALFORMED", message);
}

/**
 * Checks the form of a sealed envelope from the network and that its certificate's key signed it.
 * Says nothing about whether to trust the certificate. Never throws.
 */
export function unsealEnvelope(raw: unknown): IdentityResult<UnsealedEnvelope> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return malformed("envelope is not an object");
  const e = raw as Record<string, unknown>;
  if (e.cert === undefined) return identityFailure("IPOP_ENVELOPE_NO_CERTIFICATE", "envelope carries no certificate");
  if (e.v !== 1 || typeof e.cert !== "string" || typeof e.signed !== "string" || typeof e.sig !== "string") {
    return malformed("envelope needs v 1, cert, signed and sig strings");
  }
  if (e.cert.length > MAX_CERTIFICATE_BYTES) {
    return identityFailure("IPOP_CERT_OVERSIZED", `envelope certificate exceeds ${MAX_CERTIFICATE_BYTES} bytes`);
  }
  if (e.signed.length > MAX_SIGNAL_MESSAGE_BYTES) return malformed("envelope is too large");
  const signed = decodeBase64Url(e.signed);
  const sig = decodeBase64Url(e.sig);
  if (signed === null || sig === null) return malformed("envelope signed bytes or signature are not base64url");
  const cert = parseCertificate(e.cert);
  if (!cert.ok) return cert;
  if (!verifyMessage(ENVELOPE_SIGNATURE_CONTEXT, sig, signed, cert.value.publicKey)) {
    return identityFailure("IPOP_ENVELOPE_BAD_SIGNATURE", "envelope signature does not match its certificate");
  }
  const text = asciiText(signed);
  let value: unknown;
  try {
    value = text === null ? null : JSON.parse(text);
  } catch {
    value = null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return malformed("signed part is not JSON");
  const f = value as Record<string, unknown>;
  if (
    typeof f.network !== "string" ||
    typeof f.from !== "string" ||
    typeof f.to !== "string" ||
    !Number.isSafeInteger(f.time) ||
    f.envelope === undefined
  ) {
    return malformed("signed part needs network, from, to, time and envelope");
  }
  return {
    ok: true,
    value: {
      fields: { network: f.network, from: f.from, to: f.to, time: f.time as number, envelope: f.envelope },
      cert: cert.value,
      certText: e.cert,
      sig: e.sig,
    },
  };
}
