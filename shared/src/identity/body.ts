/**
 * Encoding and decoding of the certificate body (canonical JSON, see certificate.ts), and the rules
 * on its fields. Decoding takes untrusted bytes and never throws.
 */

import { type IdentityResult, identityFailure } from "../errors.js";
import { parseIpv4Interface } from "../ipv4.js";
import { isMemberName, isNetworkName } from "../signaling-protocol.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import {
  CERTIFICATE_VERSION,
  type CertificateFields,
  MAX_CERTIFICATE_TIME,
  MAX_GROUPS,
  MAX_POOLS,
} from "./certificate.js";
import { parseIpv4Prefix } from "./cidr.js";
import { isNodeIdHex, nodeIdOf, PUBLIC_KEY_BYTES } from "./keys.js";

const KEYS = ["v", "kind", "network", "name", "ip", "pools", "groups", "notBefore", "notAfter", "publicKey", "issuer"];

/** The canonical body text. Callers check the fields first ({@link checkCertificateFields}). */
export function encodeCertificateBody(fields: CertificateFields): string {
  // Property order here is the canonical key order; JSON.stringify keeps it and leaves out undefined.
  return JSON.stringify({
    v: CERTIFICATE_VERSION,
    kind: fields.kind,
    network: fields.network,
    name: fields.name,
    ip: fields.ip,
    pools: fields.pools,
    groups: fields.groups,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    publicKey: encodeBase64Url(fields.publicKey),
    issuer: fields.issuer,
  });
}

/** ASCII text to bytes; the body is printable ASCII by construction. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function isTime(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_CERTIFICATE_TIME;
}

/**
 * Checks the rules on fields that hold whatever the signature says: names, address syntax, limits,
 * canonical order of groups. Returns what is wrong, or null. Relations to a CA are checked in
 * verify.ts.
 */
export function checkCertificateFields(f: CertificateFields): string | null {
  if (f.kind !== "ca" && f.kind !== "node") return `kind must be "ca" or "node"`;
  if (!isNetworkName(f.network)) return "network must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric";
  if (f.kind === "node" && !isMemberName(f.name)) {
    return "a node name must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric";
  }
  // A CA name is a label for people; it may be as long as a network name, its default.
  if (f.kind === "ca" && !isNetworkName(f.name)) {
    return "a CA name must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric";
  }
  if (f.ip !== undefined) {
    if (f.kind === "ca") return "a CA certificate has no ip";
    const address = parseIpv4Interface(f.ip);
    if (typeof address === "string") return `ip: ${address}`;
  }
  if (f.pools !== undefined) {
    if (f.pools.length === 0 || f.pools.length > MAX_POOLS) return `pools must list 1 to ${MAX_POOLS} blocks`;
    const seen = new Set<string>();
    for (const pool of f.pools) {
      const prefix = parseIpv4Prefix(pool);
      if (typeof prefix === "string") return `pools: ${prefix}`;
      if (seen.has(pool)) return `pools lists ${pool} twice`;
      seen.add(pool);
    }
  }
  if (f.kind === "node" && f.ip === undefined && f.pools === undefined) {
    return "a node certificate needs an ip or pools to claim an address from";
  }
  if (f.groups.length > MAX_GROUPS) return `at most ${MAX_GROUPS} groups are allowed`;
  for (let i = 0; i < f.groups.length; i++) {
    const group = f.groups[i]!;
    if (!isMemberName(group)) return `group "${group}" must be 1-63 characters of [A-Za-z0-9._-]`;
    if (i > 0 && !(f.groups[i - 1]! < group)) return "groups must be sorted and distinct";
  }
  if (!isTime(f.notBefore) || !isTime(f.notAfter)) {
    return "notBefore and notAfter must be whole seconds between 1970 and 9999";
  }
  if (f.notBefore >= f.notAfter) return "notAfter must be later than notBefore";
  if (f.publicKey.length !== PUBLIC_KEY_BYTES) return `publicKey must be ${PUBLIC_KEY_BYTES} bytes`;
  if (!isNodeIdHex(f.issuer)) return "issuer must be a node id (32 hex digits)";
  if (f.kind === "ca" && f.issuer !== nodeIdOf(f.publicKey)) {
    return "a CA certificate must be self-signed (intermediate CAs are not supported)";
  }
  return null;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** Decodes and checks a body. Refuses anything but the canonical encoding of valid fields. */
export function decodeCertificateBody(body: Uint8Array): IdentityResult<CertificateFields> {
  let text = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c < 0x20 || c > 0x7e) return identityFailure("IPOP_CERT_MALFORMED", "its body is not printable ASCII JSON");
    text += String.fromCharCode(c);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return identityFailure("IPOP_CERT_MALFORMED", "its body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return identityFailure("IPOP_CERT_MALFORMED", "its body is not a JSON object");
  }
  const o = value as Record<string, unknown>;
  if (o.v !== CERTIFICATE_VERSION) {
    return typeof o.v === "number"
      ? identityFailure(
          "IPOP_CERT_UNSUPPORTED_VERSION",
          `it is a version ${o.v} certificate; this ipop reads version ${CERTIFICATE_VERSION}: upgrade ipop`,
        )
      : identityFailure("IPOP_CERT_MALFORMED", "its body has no version");
  }
  const unknown = Object.keys(o).find((key) => !KEYS.includes(key));
  if (unknown !== undefined)
    return identityFailure("IPOP_CERT_MALFORMED", `its body has an unknown field "${unknown}"`);
  const { kind, network, name, ip, pools, groups, notBefore, notAfter, publicKey, issuer } = o;
  if (
    (kind !== "ca" && kind !== "node") ||
    typeof network !== "string" ||
    typeof name !== "string" ||
    (ip !== undefined && typeof ip !== "string") ||
    (pools !== undefined && !isStringArray(pools)) ||
    !isStringArray(groups) ||
    typeof notBefore !== "number" ||
    typeof notAfter !== "number" ||
    typeof publicKey !== "string" ||
    typeof issuer !== "string"
  ) {
    return identityFailure("IPOP_CERT_MALFORMED", "its body lacks a field or has one of the wrong type");
  }
  const key = decodeBase64Url(publicKey);
  if (key === null) return identityFailure("IPOP_CERT_MALFORMED", "its publicKey is not base64url");
  const fields: CertificateFields = {
    kind,
    network,
    name,
    ...(ip === undefined ? {} : { ip }),
    ...(pools === undefined ? {} : { pools }),
    groups,
    notBefore,
    notAfter,
    publicKey: key,
    issuer,
  };
  const problem = checkCertificateFields(fields);
  if (problem !== null) return identityFailure("IPOP_CERT_MALFORMED", `its body is invalid: ${problem}`);
  if (encodeCertificateBody(fields) !== text) {
    return identityFailure(
      "IPOP_CERT_MALFORMED",
      "its body is not in canonical form (reordered, spaced or duplicated)",
    );
  }
  return { ok: true, value: fields };
}
