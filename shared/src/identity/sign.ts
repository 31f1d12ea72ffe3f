/**
 * Making certificates. Requests are checked as strictly as parsed certificates are, and a node
 * certificate is checked against its CA before it is signed, so what comes out always parses and,
 * inside its validity period, verifies. A bad request is the caller's error and throws
 * {@link IdentityError}.
 */

import { IdentityError } from "../errors.js";
import { parseIpv4Interface } from "../ipv4.js";
import { asciiBytes, checkCertificateFields, encodeCertificateBody } from "./body.js";
import type { Certificate, CertificateFields } from "./certificate.js";
import { parseIpv4Prefix } from "./cidr.js";
import { bytesEqual, nodeIdOf, publicKeyOf, signMessage } from "./keys.js";
import { formatCertificate } from "./parse.js";
import { formatCertificateTime } from "./time.js";
import { CERTIFICATE_SIGNATURE_CONTEXT, checkConstraints } from "./verify.js";

/** A new CA: its key signs itself. Times are wall-clock seconds since the Unix epoch. */
export interface CaRequest {
  readonly network: string;
  /** Label for people; the network name if absent. */
  readonly name?: string;
  /** Blocks all node addresses and pools must lie in; absent: no restriction. */
  readonly pools?: readonly string[];
  /** Groups the CA may grant; absent or empty: any. */
  readonly groups?: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
}

/** A new node certificate. The network comes from the CA. */
export interface NodeRequest {
  readonly name: string;
  /** `A.B.C.D/N`; absent for a node that claims its address from `pools`. */
  readonly ip?: string;
  readonly pools?: readonly string[];
  /** In any order; duplicates are dropped. */
  readonly groups?: readonly string[];
  readonly notBefore: number;
  /** Must not be later than the CA's notAfter ({@link IdentityError} IPOP_CERT_OUTLIVES_CA). */
  readonly notAfter: number;
  /** The node's public key; its private key never needs to be where the CA key is. */
  readonly publicKey: Uint8Array;
}

function canonicalGroups(groups: readonly string[] | undefined): string[] {
  return [...new Set(groups ?? [])].sort();
}

function signFields(fields: CertificateFields, seed: Uint8Array): string {
  const problem = checkCertificateFields(fields);
  if (problem !== null) throw new IdentityError("IPOP_CERT_MALFORMED", `cannot sign: ${problem}`);
  const body = asciiBytes(encodeCertificateBody(fields));
  return formatCertificate({ body, signature: signMessage(CERTIFICATE_SIGNATURE_CONTEXT, body, seed) });
}

/** Makes a self-signed CA certificate for the key `seed`; returns its armored text. */
export function selfSignCa(request: CaRequest, seed: Uint8Array): string {
  const publicKey = publicKeyOf(seed);
  return signFields(
    {
      kind: "ca",
      network: request.network,
      name: request.name ?? request.network,
      ...(request.pools === undefined || request.pools.length === 0 ? {} : { pools: [...request.pools] }),
      groups: canonicalGroups(request.groups),
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      publicKey,
      issuer: nodeIdOf(publicKey),
    },
    seed,
  );
}

/**
 * Signs a node certificate with the CA's key `caSeed`; returns its armored text. Refuses (throws
 * {@link IdentityError}) when the seed is not the CA's key, when the certificate would outlive the
 * CA, or when the address, pools or groups are outside the CA's constraints.
 */
export function signCertificate(request: NodeRequest, ca: Certificate, caSeed: Uint8Array): string {
  if (ca.kind !== "ca") throw new IdentityError("IPOP_CERT_WRONG_KIND", `"${ca.name}" is not a CA certificate`);
  if (!bytesEqual(publicKeyOf(caSeed), ca.publicKey)) {
    throw new IdentityError("IPOP_KEY_MISMATCH", `the CA key does not belong to CA certificate "${ca.name}"`);
  }
  if (request.notAfter > ca.notAfter) {
    throw new IdentityError(
      "IPOP_CERT_OUTLIVES_CA",
      `a certificate valid until ${formatCertificateTime(request.notAfter)} would outlive CA "${ca.name}", ` +
        `which expires ${formatCertificateTime(ca.notAfter)}; ask for a shorter duration`,
    );
  }
  const fields: CertificateFields = {
    kind: "node",
    network: ca.network,
    name: request.name,
    ...(request.ip === undefined ? {} : { ip: request.ip }),
    ...(request.pools === undefined || request.pools.length === 0 ? {} : { pools: [...request.pools] }),
    groups: canonicalGroups(request.groups),
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: request.publicKey,
    issuer: ca.nodeId,
  };
  const problem = checkCertificateFields(fields);
  if (problem !== null) throw new IdentityError("IPOP_CERT_MALFORMED", `cannot sign: ${problem}`);
  const address = fields.ip === undefined ? undefined : parseIpv4Interface(fields.ip);
  const constraint = checkConstraints(
    {
      name: fields.name,
      ...(address === undefined || typeof address === "string" ? {} : { address }),
      poolPrefixes: (fields.pools ?? []).map(parseIpv4Prefix).filter((p) => typeof p !== "string"),
      groups: fields.groups,
    },
    ca,
  );
  if (constraint !== null) throw IdentityError.from(constraint, "cannot sign");
  return signFields(fields, caSeed);
}
