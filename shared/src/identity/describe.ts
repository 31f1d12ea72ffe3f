/**
 * Certificates shown to people (`ipop cert print`) and as plain JSON (`--json`, the console).
 */
import { encodeBase64, encodeBase64Url } from "./base64.js";
import type { Certificate, CertificateFields } from "./certificate.js";
import { formatCertificateTime } from "./time.js";

/** A certificate as JSON-ready data: the body's fields plus the derived node id and the signature. */
export interface CertificateSummary extends Omit<CertificateFields, "publicKey"> {
  readonly v: number;
  /** The validity instants in ISO 8601, for people reading the JSON. */
  readonly notBeforeTime: string;
  readonly notAfterTime: string;
  /** base64url, as in the body. */
  readonly publicKey: string;
  readonly nodeId: string;
  /** base64. */
  readonly signature: string;
}

export function summarizeCertificate(cert: Certificate): CertificateSummary {
  return {
    v: cert.version,
    kind: cert.kind,
    network: cert.network,
    name: cert.name,
    ...(cert.ip === undefined ? {} : { ip: cert.ip }),
    ...(cert.pools === undefined ? {} : { pools: cert.pools }),
    groups: cert.groups,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    notBeforeTime: formatCertificateTime(cert.notBefore),
    notAfterTime: formatCertificateTime(cert.notAfter),
    publicKey: encodeBase64Url(cert.publicKey),
    issuer: cert.issuer,
    nodeId: cert.nodeId,
    signature: encodeBase64(cert.signature),
  };
}

/** A few aligned lines for a terminal. Says nothing about validity: that is `verify`'s job. */
export function formatCertificateText(cert: Certificate): string {
  const none = "-";
  const rows: [string, string][] = [
    ["kind", cert.kind === "ca" ? "CA (self-signed)" : "node"],
    ["name", cert.name],
    ["network", cert.network],
    ["ip", cert.ip ?? none],
    ["pools", cert.pools?.join(", ") ?? none],
    ["groups", cert.groups.length > 0 ? cert.groups.join(", ") : none],
    ["not before", formatCertificateTime(cert.notBefore)],
    ["not after", formatCertificateTime(cert.notAfter)],
    ["node id", cert.nodeId],
    ["issuer", cert.issuer],
    ["public key", encodeBase64Url(cert.publicKey)],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join("\n");
}
