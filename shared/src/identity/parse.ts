/**
 * Reading a certificate from its text form. Structure only: the signature and everything that needs
 * a CA or a clock are checked by verify.ts. Takes untrusted input and never throws.
 */

import { type IdentityResult, identityFailure } from "../errors.js";
import { parseIpv4Interface } from "../ipv4.js";
import { armor, unarmorSigned } from "./armor.js";
import { encodeBase64 } from "./base64.js";
import { decodeCertificateBody } from "./body.js";
import { CERTIFICATE_VERSION, type Certificate, MAX_CERTIFICATE_BYTES } from "./certificate.js";
import { parseIpv4Prefix } from "./cidr.js";
import { nodeIdOf } from "./keys.js";

const LABEL = "IPOP CERTIFICATE";

/**
 * Parses an armored certificate (the content of a `.crt` file), given as text or as the raw bytes of
 * the file. The size is checked before anything else is read, so a huge input costs nothing.
 * Failures: IPOP_CERT_OVERSIZED, IPOP_CERT_TRUNCATED, IPOP_CERT_MALFORMED,
 * IPOP_CERT_UNSUPPORTED_VERSION. Messages read "it is ...", to follow a name: "host7.crt: it is empty".
 */
export function parseCertificate(input: string | Uint8Array): IdentityResult<Certificate> {
  if (input.length > MAX_CERTIFICATE_BYTES) {
    return identityFailure(
      "IPOP_CERT_OVERSIZED",
      `it is ${input.length} bytes, more than a certificate can be (${MAX_CERTIFICATE_BYTES})`,
    );
  }
  const signed = unarmorSigned(LABEL, input, "certificate");
  if (!signed.ok) {
    return identityFailure(
      signed.reason === "truncated" ? "IPOP_CERT_TRUNCATED" : "IPOP_CERT_MALFORMED",
      signed.message,
    );
  }
  const { body, signature } = signed;
  const decoded = decodeCertificateBody(body);
  if (!decoded.ok) return decoded;
  const fields = decoded.value;
  // Both parse: checkCertificateFields accepted them.
  const address = fields.ip === undefined ? undefined : parseIpv4Interface(fields.ip);
  const poolPrefixes = (fields.pools ?? []).map((pool) => parseIpv4Prefix(pool));
  const certificate: Certificate = {
    ...fields,
    version: CERTIFICATE_VERSION,
    nodeId: nodeIdOf(fields.publicKey),
    ...(address === undefined || typeof address === "string" ? {} : { address }),
    poolPrefixes: poolPrefixes.filter((p) => typeof p !== "string"),
    body,
    signature,
  };
  return { ok: true, value: certificate };
}

/** The armored text of a certificate: its carried body and signature, never re-encoded. */
export function formatCertificate(cert: Pick<Certificate, "body" | "signature">): string {
  return armor(LABEL, `${encodeBase64(cert.body)}.${encodeBase64(cert.signature)}`);
}
