/**
 * Join tokens: a CA-signed permission for a node without a certificate (a new VM, the browser
 * console) to get a short-lived one, with a free address from a pool, from the service that holds
 * the CA key (`ipop-signal --ca-key`). One line of text, so it can be pasted into a cloud-init file
 * or a form:
 * ```
 * ipop-token-v1.<base64url(body)>.<base64url(signature)>
 * ```
 * The body is canonical JSON (see canonical-json.ts) with the fields of {@link TokenFields}, in that
 * order; the signature is by the CA key with context "ipop-token-v1". A token is a bearer secret
 * until it expires: anyone holding it may enroll as many nodes as its pool has room for.
 *
 * The token names its CA (`issuer`), so a node enrolling over an untrusted channel can check that
 * the CA certificate it is handed back is the one the token came from.
 */

import { IdentityError, type IdentityFailure, type IdentityResult, identityFailure } from "../errors.js";
import { isMemberName, isNetworkName } from "../signaling-protocol.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import { asciiBytes } from "./body.js";
import { asciiJson, decodeJsonObject, isEpochSeconds, isStringArray, unknownKey } from "./canonical-json.js";
import { type Certificate, MAX_GROUPS } from "./certificate.js";
import { type Ipv4Prefix, parseIpv4Prefix, prefixContainsPrefix } from "./cidr.js";
import { bytesEqual, isNodeIdHex, publicKeyOf, SIGNATURE_BYTES, signMessage, verifyMessage } from "./keys.js";
import { formatCertificateTime } from "./time.js";
import { checkCa } from "./verify.js";

/** Signature context, and the prefix of the text form. */
export const TOKEN_SIGNATURE_CONTEXT = "ipop-token-v1";
export const TOKEN_PREFIX = "ipop-token-v1";
export const TOKEN_VERSION = 1;
/** Longest token text accepted. The largest valid token (32 long groups) is about 3.3 KiB. */
export const MAX_TOKEN_CHARS = 4096;
/** Lifetime of certificates issued for a token, when the token does not say. */
export const DEFAULT_LEASE_SECONDS = 3600;
/** Shortest and longest certificate lifetime a token may ask for. */
export const MIN_LEASE_SECONDS = 60;
export const MAX_LEASE_SECONDS = 30 * 86_400;

const KEYS = ["v", "network", "id", "issuer", "pool", "prefixLength", "groups", "notAfter", "leaseSeconds"];

/** What a token says. */
export interface TokenFields {
  /** The CA's network; nodes enrolled with the token join it. */
  readonly network: string;
  /** 16 random bytes as 32 hex digits: names the token in logs without revealing it. */
  readonly id: string;
  /** Node id of the CA key that signed it. */
  readonly issuer: string;
  /** The block addresses are handed out from, `A.B.C.D/N`; its own network and broadcast addresses never are. */
  readonly pool: string;
  /** The overlay's prefix length, written into issued addresses (`10.88.200.5/16`); the pool lies inside it. */
  readonly prefixLength: number;
  /** Groups written into issued certificates; absent: none. Sorted and distinct. */
  readonly groups?: readonly string[];
  /** First second (Unix epoch) the token is no longer accepted. */
  readonly notAfter: number;
  /** Lifetime of issued certificates, in seconds; nodes renew before it ends. */
  readonly leaseSeconds: number;
}

/** A parsed token: its fields, the pool parsed, and exactly what was signed. */
export interface JoinToken extends TokenFields {
  readonly version: typeof TOKEN_VERSION;
  readonly poolPrefix: Ipv4Prefix;
  /** The token as one line, as {@link formatToken} writes it. */
  readonly text: string;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** What {@link createToken} needs; network and issuer come from the CA. */
export interface TokenRequest {
  /** 16 random bytes as 32 lowercase hex digits, drawn by the caller. */
  readonly id: string;
  readonly pool: string;
  readonly prefixLength: number;
  /** In any order; duplicates are dropped. */
  readonly groups?: readonly string[];
  readonly notAfter: number;
  /** Default {@link DEFAULT_LEASE_SECONDS}. */
  readonly leaseSeconds?: number;
}

/** Checks the rules on a token's own fields; returns what is wrong, or null. */
export function checkTokenFields(f: TokenFields): string | null {
  if (!isNetworkName(f.network)) return "network must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric";
  if (!isNodeIdHex(f.id)) return "id must be 32 lowercase hex digits (16 random bytes)";
  if (!isNodeIdHex(f.issuer)) return "issuer must be a node id (32 hex digits)";
  const pool = parseIpv4Prefix(f.pool);
  if (typeof pool === "string") return `pool: ${pool}`;
  if (!Number.isInteger(f.prefixLength) || f.prefixLength < 1 || f.prefixLength > 30) {
    return "prefixLength must be an integer from 1 to 30";
  }
  if (pool.prefixLength > 30) return `pool ${f.pool} has no host addresses; use /30 or larger`;
  if (pool.prefixLength < f.prefixLength) {
    return `pool ${f.pool} does not fit in the overlay's /${f.prefixLength}; use a smaller pool or a shorter prefix length`;
  }
  if (f.groups !== undefined) {
    if (f.groups.length === 0 || f.groups.length > MAX_GROUPS) return `groups must list 1 to ${MAX_GROUPS} groups`;
    for (let i = 0; i < f.groups.length; i++) {
      const group = f.groups[i]!;
      if (!isMemberName(group)) return `group "${group}" must be 1-63 characters of [A-Za-z0-9._-]`;
      if (i > 0 && !(f.groups[i - 1]! < group)) return "groups must be sorted and distinct";
    }
  }
  if (!isEpochSeconds(f.notAfter)) return "notAfter must be whole seconds between 1970 and 9999";
  if (!Number.isInteger(f.leaseSeconds) || f.leaseSeconds < MIN_LEASE_SECONDS || f.leaseSeconds > MAX_LEASE_SECONDS) {
    return `leaseSeconds must be a whole number from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`;
  }
  return null;
}

function encodeTokenBody(f: TokenFields): string {
  // Property order is the canonical key order; JSON.stringify keeps it and leaves out undefined.
  return asciiJson({
    v: TOKEN_VERSION,
    network: f.network,
    id: f.id,
    issuer: f.issuer,
    pool: f.pool,
    prefixLength: f.prefixLength,
    groups: f.groups,
    notAfter: f.notAfter,
    leaseSeconds: f.leaseSeconds,
  });
}

/**
 * Makes a token signed by the CA key `caSeed`; returns its text. Throws {@link IdentityError} for a
 * request that could never verify: a bad field, a seed that is not the CA's, a pool or group the
 * CA does not allow, or a token outliving its CA.
 */
export function createToken(request: TokenRequest, ca: Certificate, caSeed: Uint8Array): string {
  if (ca.kind !== "ca") throw new IdentityError("IPOP_CERT_WRONG_KIND", `"${ca.name}" is not a CA certificate`);
  if (!bytesEqual(publicKeyOf(caSeed), ca.publicKey)) {
    throw new IdentityError("IPOP_KEY_MISMATCH", `the CA key does not belong to CA certificate "${ca.name}"`);
  }
  const groups = [...new Set(request.groups ?? [])].sort();
  const fields: TokenFields = {
    network: ca.network,
    id: request.id,
    issuer: ca.nodeId,
    pool: request.pool,
    prefixLength: request.prefixLength,
    ...(groups.length === 0 ? {} : { groups }),
    notAfter: request.notAfter,
    leaseSeconds: request.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
  };
  const problem = checkTokenFields(fields);
  if (problem !== null) throw new IdentityError("IPOP_TOKEN_MALFORMED", `cannot make a token: ${problem}`);
  if (fields.notAfter > ca.notAfter) {
    throw new IdentityError(
      "IPOP_CERT_OUTLIVES_CA",
      `a token valid until ${formatCertificateTime(fields.notAfter)} would outlive CA "${ca.name}", ` +
        `which expires ${formatCertificateTime(ca.notAfter)}; ask for a shorter --ttl`,
    );
  }
  const constraint = checkTokenConstraints(fields, parseIpv4Prefix(fields.pool) as Ipv4Prefix, ca);
  if (constraint !== null) throw new IdentityError(constraint.code, `cannot make a token: ${constraint.message}`);
  const body = asciiBytes(encodeTokenBody(fields));
  return formatToken({ body, signature: signMessage(TOKEN_SIGNATURE_CONTEXT, body, caSeed) });
}

/** The one-line text of a token. */
export function formatToken(token: Pick<JoinToken, "body" | "signature">): string {
  return `${TOKEN_PREFIX}.${encodeBase64Url(token.body)}.${encodeBase64Url(token.signature)}`;
}

function malformed(message: string): IdentityResult<never> {
  return identityFailure("IPOP_TOKEN_MALFORMED", message);
}

/**
 * Parses a token's text (whitespace around it is ignored: it was pasted). Structure only; use
 * {@link verifyToken} before trusting it. Never throws. Messages read "it is ..." / "its ...", to
 * follow a word like "token: ".
 */
export function parseToken(input: string): IdentityResult<JoinToken> {
  if (typeof input !== "string") return malformed("it is not text");
  if (input.length > MAX_TOKEN_CHARS) {
    return identityFailure(
      "IPOP_TOKEN_OVERSIZED",
      `it is ${input.length} characters, more than a token can be (${MAX_TOKEN_CHARS})`,
    );
  }
  const text = input.trim();
  if (text === "") return malformed("it is empty");
  const parts = text.split(".");
  if (parts[0] !== TOKEN_PREFIX) {
    const other = /^ipop-token-v(\d{1,4})\./.exec(text);
    if (other !== null) {
      return identityFailure(
        "IPOP_TOKEN_UNSUPPORTED_VERSION",
        `it is a version ${other[1]} token; this ipop reads version ${TOKEN_VERSION}: upgrade ipop`,
      );
    }
    return malformed(`it does not start with ${TOKEN_PREFIX}.; copy the whole line \`ipop token create\` printed`);
  }
  if (parts.length !== 3 || parts[1] === "" || parts[2] === "") {
    return malformed(`it is not ${TOKEN_PREFIX}.<body>.<signature>; it may have been cut short in copying`);
  }
  const body = decodeBase64Url(parts[1]!);
  const signature = decodeBase64Url(parts[2]!);
  if (body === null || signature === null) return malformed("its body or signature is not base64url");
  if (signature.length !== SIGNATURE_BYTES) {
    return malformed(`its signature is ${signature.length} bytes, not ${SIGNATURE_BYTES}: it was cut short`);
  }
  const decoded = decodeJsonObject(body);
  if (typeof decoded === "string") return malformed(decoded);
  const o = decoded.value;
  if (o.v !== TOKEN_VERSION) {
    return typeof o.v === "number"
      ? identityFailure("IPOP_TOKEN_UNSUPPORTED_VERSION", `it is a version ${o.v} token; this ipop reads version 1`)
      : malformed("its body has no version");
  }
  const unknown = unknownKey(o, KEYS);
  if (unknown !== undefined) return malformed(`its body has an unknown field "${unknown}"`);
  const { network, id, issuer, pool, prefixLength, groups, notAfter, leaseSeconds } = o;
  if (
    typeof network !== "string" ||
    typeof id !== "string" ||
    typeof issuer !== "string" ||
    typeof pool !== "string" ||
    typeof prefixLength !== "number" ||
    (groups !== undefined && !isStringArray(groups)) ||
    typeof notAfter !== "number" ||
    typeof leaseSeconds !== "number"
  ) {
    return malformed("its body lacks a field or has one of the wrong type");
  }
  const fields: TokenFields = {
    network,
    id,
    issuer,
    pool,
    prefixLength,
    ...(groups === undefined ? {} : { groups }),
    notAfter,
    leaseSeconds,
  };
  const problem = checkTokenFields(fields);
  if (problem !== null) return malformed(`its body is invalid: ${problem}`);
  if (encodeTokenBody(fields) !== decoded.text) {
    return malformed("its body is not in canonical form (reordered, spaced or duplicated)");
  }
  return {
    ok: true,
    value: {
      ...fields,
      version: TOKEN_VERSION,
      poolPrefix: parseIpv4Prefix(pool) as Ipv4Prefix,
      text,
      body,
      signature,
    },
  };
}

/** What a token is checked against. */
export interface TokenVerifyOptions {
  /** The network's CA certificate. */
  readonly ca: Certificate;
  /** Wall-clock seconds since the Unix epoch. */
  readonly nowSeconds: number;
  /** The network the token must be for; absent: the CA's. */
  readonly network?: string;
}

/**
 * Decides whether to honour a token: the CA is valid now (and for `network`), it issued the token,
 * its signature holds, the token is for the CA's network, has not expired, and its pool and groups
 * are within what the CA allows. Returns the first failure; never throws.
 */
export function verifyToken(token: JoinToken, options: TokenVerifyOptions): IdentityResult<JoinToken> {
  const { ca, nowSeconds } = options;
  const caCheck = checkCa(
    ca,
    options.network === undefined ? { nowSeconds } : { nowSeconds, network: options.network },
  );
  if (!caCheck.ok) return caCheck;
  if (token.issuer !== ca.nodeId) {
    return identityFailure(
      "IPOP_TOKEN_WRONG_CA",
      `token ${token.id} was issued by CA ${token.issuer}, not by CA "${ca.name}" (${ca.nodeId}); ` +
        `make a token with this network's CA`,
    );
  }
  if (!verifyMessage(TOKEN_SIGNATURE_CONTEXT, token.signature, token.body, ca.publicKey)) {
    return identityFailure(
      "IPOP_TOKEN_BAD_SIGNATURE",
      `token ${token.id} has a bad signature: it was altered or not made by CA "${ca.name}"; make a new one`,
    );
  }
  if (token.network !== ca.network) {
    return identityFailure(
      "IPOP_TOKEN_WRONG_NETWORK",
      `token ${token.id} is for network "${token.network}", but its CA is for "${ca.network}"`,
    );
  }
  if (nowSeconds >= token.notAfter) {
    return identityFailure(
      "IPOP_TOKEN_EXPIRED",
      `token ${token.id} expired ${formatCertificateTime(token.notAfter)}; make a new one with \`ipop token create\``,
    );
  }
  const constraint = checkTokenConstraints(token, token.poolPrefix, ca);
  if (constraint !== null) return constraint;
  return { ok: true, value: token };
}

function checkTokenConstraints(token: TokenFields, pool: Ipv4Prefix, ca: Certificate): IdentityFailure | null {
  if (ca.poolPrefixes.length > 0 && !ca.poolPrefixes.some((p) => prefixContainsPrefix(p, pool))) {
    const allowed = ca.pools?.join(", ") ?? "";
    return identityFailure(
      "IPOP_TOKEN_POOL_NOT_ALLOWED",
      `pool ${token.pool} is outside what CA "${ca.name}" allows (${allowed}); pick a pool inside ${allowed}`,
    );
  }
  if (ca.groups.length > 0) {
    const group = (token.groups ?? []).find((g) => !ca.groups.includes(g));
    if (group !== undefined) {
      return identityFailure(
        "IPOP_CERT_GROUP_NOT_ALLOWED",
        `group "${group}" is not one CA "${ca.name}" may grant (${ca.groups.join(", ")})`,
      );
    }
  }
  return null;
}
