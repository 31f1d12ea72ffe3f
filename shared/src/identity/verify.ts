/**
 * Deciding whether to trust a certificate: chain, signature, network, validity period, revocation
 * and the CA's constraints. Pure and total: it reads no clock (the caller passes the time) and
 * returns a verdict instead of throwing.
 */

import { type IdentityFailure, type IdentityResult, identityFailure } from "../errors.js";
import { formatIpv4Address } from "../ipv4.js";
import type { Certificate } from "./certificate.js";
import { formatIpv4Prefix, prefixContainsAddress, prefixContainsPrefix } from "./cidr.js";
import { verifyMessage } from "./keys.js";
import { formatCertificateTime } from "./time.js";

/** The signature context of certificate bodies (signed bytes: "ipop-cert-v1", 0x00, body). */
export const CERTIFICATE_SIGNATURE_CONTEXT = "ipop-cert-v1";

/** What a CA is checked against. */
export interface CaCheckOptions {
  /** Wall-clock seconds since the Unix epoch. */
  readonly nowSeconds: number;
  /** The network the caller means to join; absent: any (as `ipop cert verify` without --network). */
  readonly network?: string;
}

/** What a node certificate is checked against. */
export interface VerifyOptions extends CaCheckOptions {
  /** The network's CA certificate, the one root of trust. */
  readonly ca: Certificate;
  /** Node ids and names that are revoked. */
  readonly revoked?: ReadonlySet<string>;
}

/** How a certificate is named in messages: `certificate "host7" (10.88.0.7/16)`, `CA "lab"`. */
export function describeCertificate(cert: Certificate): string {
  if (cert.kind === "ca") return `CA certificate "${cert.name}"`;
  return cert.ip === undefined ? `certificate "${cert.name}"` : `certificate "${cert.name}" (${cert.ip})`;
}

/** The command that makes a replacement for a node certificate, for messages. */
function resignHint(cert: Certificate): string {
  const address = cert.ip !== undefined ? ` --ip ${cert.ip}` : ` --pools ${(cert.pools ?? []).join(",")}`;
  const groups = cert.groups.length > 0 ? ` --groups ${cert.groups.join(",")}` : "";
  return `\`ipop cert sign --name ${cert.name}${address}${groups}\``;
}

function checkValidity(cert: Certificate, nowSeconds: number): IdentityFailure | null {
  const what = describeCertificate(cert);
  const fix =
    cert.kind === "ca"
      ? "make a new CA with `ipop cert ca` and sign every node again"
      : `sign a new one with ${resignHint(cert)}`;
  if (nowSeconds < cert.notBefore) {
    return identityFailure(
      "IPOP_CERT_NOT_YET_VALID",
      `${what} is not valid until ${formatCertificateTime(cert.notBefore)}, and it is now ` +
        `${formatCertificateTime(nowSeconds)}: check this machine's clock, or wait`,
    );
  }
  if (nowSeconds >= cert.notAfter) {
    return identityFailure("IPOP_CERT_EXPIRED", `${what} expired ${formatCertificateTime(cert.notAfter)}; ${fix}`);
  }
  return null;
}

/**
 * Checks a CA certificate on its own: that it is a CA, that its self-signature holds, that it is
 * valid now, and (when given) that it is for `network`.
 */
export function checkCa(ca: Certificate, options: CaCheckOptions): IdentityResult<Certificate> {
  if (ca.kind !== "ca") {
    return identityFailure(
      "IPOP_CERT_WRONG_KIND",
      `${describeCertificate(ca)} is a node certificate, not a CA certificate; pass the network's ca.crt`,
    );
  }
  if (!verifyMessage(CERTIFICATE_SIGNATURE_CONTEXT, ca.signature, ca.body, ca.publicKey)) {
    return identityFailure(
      "IPOP_CERT_BAD_SIGNATURE",
      `${describeCertificate(ca)} has a bad self-signature: the file was altered; get an intact copy of ca.crt`,
    );
  }
  const validity = checkValidity(ca, options.nowSeconds);
  if (validity !== null) return validity;
  if (options.network !== undefined && ca.network !== options.network) {
    return identityFailure(
      "IPOP_CERT_WRONG_NETWORK",
      `${describeCertificate(ca)} is for network "${ca.network}", not "${options.network}": ` +
        `use that network's ca.crt, or --network ${ca.network}`,
    );
  }
  return { ok: true, value: ca };
}

/**
 * Checks a node certificate against the network's CA, in this order: the CA itself
 * ({@link checkCa}), kind, issuer, signature, network, revocation (by node id or name), validity
 * period, and the CA's constraints on addresses and groups. The first failure is returned.
 */
export function verifyCertificate(cert: Certificate, options: VerifyOptions): IdentityResult<Certificate> {
  const { ca } = options;
  const caCheck = checkCa(ca, options);
  if (!caCheck.ok) return caCheck;
  const what = describeCertificate(cert);
  if (cert.kind !== "node") {
    return identityFailure(
      "IPOP_CERT_WRONG_KIND",
      `${what} is a CA certificate, not a node certificate; make one with \`ipop cert sign\``,
    );
  }
  if (cert.issuer !== ca.nodeId) {
    return identityFailure(
      "IPOP_CERT_WRONG_CA",
      `${what} was issued by CA ${cert.issuer}, not by CA "${ca.name}" (${ca.nodeId}): ` +
        `use the ca.crt it was signed with, or sign it again with this CA`,
    );
  }
  if (!verifyMessage(CERTIFICATE_SIGNATURE_CONTEXT, cert.signature, cert.body, ca.publicKey)) {
    return identityFailure(
      "IPOP_CERT_BAD_SIGNATURE",
      `${what} has a bad signature: it was altered, or not signed by CA "${ca.name}"; sign it again`,
    );
  }
  if (cert.network !== ca.network) {
    // Only a CA that signed outside its own network gets here; refuse rather than trust either name.
    return identityFailure(
      "IPOP_CERT_WRONG_NETWORK",
      `${what} is for network "${cert.network}", but its CA is for "${ca.network}"; sign it again`,
    );
  }
  const revoked = options.revoked;
  if (revoked !== undefined && (revoked.has(cert.nodeId) || revoked.has(cert.name))) {
    return identityFailure(
      "IPOP_CERT_REVOKED",
      `${what} (node id ${cert.nodeId}) is revoked; ask the network's administrator for a new certificate`,
    );
  }
  const validity = checkValidity(cert, options.nowSeconds);
  if (validity !== null) return validity;
  const constraint = checkConstraints(cert, ca);
  if (constraint !== null) return constraint;
  return { ok: true, value: cert };
}

/**
 * The CA's limits on what it signs: every address and pool inside one of its pools, every group one
 * of its groups. Also used before signing, so the CLI cannot make a certificate that never verifies.
 */
export function checkConstraints(
  cert: Pick<Certificate, "name" | "address" | "poolPrefixes" | "groups">,
  ca: Certificate,
): IdentityFailure | null {
  if (ca.poolPrefixes.length > 0) {
    const allowed = ca.poolPrefixes.map(formatIpv4Prefix).join(", ");
    const address = cert.address;
    if (address !== undefined && !ca.poolPrefixes.some((p) => prefixContainsAddress(p, address.address))) {
      return identityFailure(
        "IPOP_CERT_IP_MISMATCH",
        `address ${formatIpv4Address(address.address)} of "${cert.name}" is outside what CA "${ca.name}" allows ` +
          `(${allowed}); pick an address in ${allowed}`,
      );
    }
    for (const pool of cert.poolPrefixes) {
      if (!ca.poolPrefixes.some((p) => prefixContainsPrefix(p, pool))) {
        return identityFailure(
          "IPOP_CERT_IP_MISMATCH",
          `pool ${formatIpv4Prefix(pool)} of "${cert.name}" is outside what CA "${ca.name}" allows (${allowed})`,
        );
      }
    }
  }
  if (ca.groups.length > 0) {
    const group = cert.groups.find((g) => !ca.groups.includes(g));
    if (group !== undefined) {
      return identityFailure(
        "IPOP_CERT_GROUP_NOT_ALLOWED",
        `group "${group}" of "${cert.name}" is not one CA "${ca.name}" may grant (${ca.groups.join(", ")})`,
      );
    }
  }
  return null;
}
