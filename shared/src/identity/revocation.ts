/**
 * Revocation lists: the CA's signed statement of which node keys and member names are no longer
 * trusted. A list replaces the one before it as a whole; `serial` says which is newer, so an old
 * list replayed by a server or a peer never undoes a revocation.
 * ```
 * -----BEGIN IPOP REVOCATION LIST-----
 * <base64(body)>.<base64(signature)>, wrapped at 64 characters
 * -----END IPOP REVOCATION LIST-----
 * ```
 * The body is canonical JSON (see canonical-json.ts): `{"v":1,"network","issuer","serial",
 * "issuedAt","entries":[{"nodeId"?,"name"?,"at"}...]}`; the signature is by the CA key with context
 * "ipop-crl-v1". Lists do not expire: a revocation stands until the certificate it names has.
 */

import { IdentityError, type IdentityResult, identityFailure } from "../errors.js";
import { isMemberName, isNetworkName } from "../signaling-protocol.js";
import { armor, unarmorSigned } from "./armor.js";
import { encodeBase64 } from "./base64.js";
import { asciiBytes } from "./body.js";
import { asciiJson, decodeJsonObject, isEpochSeconds, unknownKey } from "./canonical-json.js";
import type { Certificate } from "./certificate.js";
import { bytesEqual, isNodeIdHex, publicKeyOf, signMessage, verifyMessage } from "./keys.js";
import { CERTIFICATE_SIGNATURE_CONTEXT } from "./verify.js";

export const REVOCATION_SIGNATURE_CONTEXT = "ipop-crl-v1";
export const REVOCATION_LIST_VERSION = 1;
/** Most entries one list may hold. */
export const MAX_REVOCATION_ENTRIES = 4096;
/** Largest armored list accepted, in bytes; checked before anything is read. */
export const MAX_REVOCATION_LIST_BYTES = 512 * 1024;

const LABEL = "IPOP REVOCATION LIST";
const KEYS = ["v", "network", "issuer", "serial", "issuedAt", "entries"];
const ENTRY_KEYS = ["nodeId", "name", "at"];

/** One revoked identity: a certificate's key (its node id), a member name, or both. */
export interface RevocationEntry {
  /** {@link nodeIdOf} the revoked certificate's key: 32 hex digits. */
  readonly nodeId?: string;
  /** A member name: every certificate with this name is revoked. */
  readonly name?: string;
  /** When it was revoked (seconds since the Unix epoch), for people. */
  readonly at: number;
}

/** What a list says. */
export interface RevocationListFields {
  readonly network: string;
  /** Node id of the CA key that signed it. */
  readonly issuer: string;
  /** Increases with every list the CA publishes; a receiver keeps the list with the highest. */
  readonly serial: number;
  /** Seconds since the Unix epoch. */
  readonly issuedAt: number;
  readonly entries: readonly RevocationEntry[];
}

/** A parsed list, with its armored text and the exact bytes that were signed. */
export interface RevocationList extends RevocationListFields {
  readonly version: typeof REVOCATION_LIST_VERSION;
  /** The armored text, as carried; what servers store and forward. */
  readonly text: string;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** What {@link createRevocationList} needs; network and issuer come from the CA. */
export interface RevocationListRequest {
  readonly serial: number;
  readonly issuedAt: number;
  readonly entries: readonly RevocationEntry[];
}

/** Checks the rules on a list's fields; returns what is wrong, or null. */
export function checkRevocationFields(f: RevocationListFields): string | null {
  if (!isNetworkName(f.network)) return "network must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric";
  if (!isNodeIdHex(f.issuer)) return "issuer must be a node id (32 hex digits)";
  if (!Number.isSafeInteger(f.serial) || f.serial < 0) return "serial must be a whole number, 0 or more";
  if (!isEpochSeconds(f.issuedAt)) return "issuedAt must be whole seconds between 1970 and 9999";
  if (f.entries.length > MAX_REVOCATION_ENTRIES) return `it has more than ${MAX_REVOCATION_ENTRIES} entries`;
  for (const entry of f.entries) {
    if (entry.nodeId === undefined && entry.name === undefined) return "an entry names neither a nodeId nor a name";
    if (entry.nodeId !== undefined && !isNodeIdHex(entry.nodeId)) {
      return `entry nodeId "${entry.nodeId}" is not 32 lowercase hex digits`;
    }
    if (entry.name !== undefined && !isMemberName(entry.name)) return `entry name "${entry.name}" is not a member name`;
    if (!isEpochSeconds(entry.at)) return "an entry's time is not whole seconds between 1970 and 9999";
  }
  return null;
}

function encodeRevocationBody(f: RevocationListFields): string {
  return asciiJson({
    v: REVOCATION_LIST_VERSION,
    network: f.network,
    issuer: f.issuer,
    serial: f.serial,
    issuedAt: f.issuedAt,
    entries: f.entries.map((e) => ({ nodeId: e.nodeId, name: e.name, at: e.at })),
  });
}

/**
 * Makes a list signed by the CA key `caSeed`; returns its armored text. Throws {@link IdentityError}
 * for a bad field, a seed that is not the CA's, or a list over the size limits.
 */
export function createRevocationList(request: RevocationListRequest, ca: Certificate, caSeed: Uint8Array): string {
  if (ca.kind !== "ca") throw new IdentityError("IPOP_CERT_WRONG_KIND", `"${ca.name}" is not a CA certificate`);
  if (!bytesEqual(publicKeyOf(caSeed), ca.publicKey)) {
    throw new IdentityError("IPOP_KEY_MISMATCH", `the CA key does not belong to CA certificate "${ca.name}"`);
  }
  const fields: RevocationListFields = {
    network: ca.network,
    issuer: ca.nodeId,
    serial: request.serial,
    issuedAt: request.issuedAt,
    entries: request.entries.map((e) => ({
      ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }),
      ...(e.name === undefined ? {} : { name: e.name }),
      at: e.at,
    })),
  };
  const problem = checkRevocationFields(fields);
  if (problem !== null) throw new IdentityError("IPOP_CRL_MALFORMED", `cannot make a revocation list: ${problem}`);
  const body = asciiBytes(encodeRevocationBody(fields));
  const text = formatRevocationList({ body, signature: signMessage(REVOCATION_SIGNATURE_CONTEXT, body, caSeed) });
  if (text.length > MAX_REVOCATION_LIST_BYTES) {
    throw new IdentityError(
      "IPOP_CRL_OVERSIZED",
      `the revocation list would be ${text.length} bytes, more than ${MAX_REVOCATION_LIST_BYTES}`,
    );
  }
  return text;
}

/** The armored text of a list: its carried body and signature. */
export function formatRevocationList(list: Pick<RevocationList, "body" | "signature">): string {
  return armor(LABEL, `${encodeBase64(list.body)}.${encodeBase64(list.signature)}`);
}

function malformed(message: string): IdentityResult<never> {
  return identityFailure("IPOP_CRL_MALFORMED", message);
}

function parseEntry(raw: unknown): RevocationEntry | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const e = raw as Record<string, unknown>;
  if (unknownKey(e, ENTRY_KEYS) !== undefined) return null;
  const { nodeId, name, at } = e;
  if ((nodeId !== undefined && typeof nodeId !== "string") || (name !== undefined && typeof name !== "string")) {
    return null;
  }
  if (typeof at !== "number") return null;
  return { ...(nodeId === undefined ? {} : { nodeId }), ...(name === undefined ? {} : { name }), at };
}

/**
 * Parses an armored list (a `.crl` file, or the text of a `revocations` message), as text or as
 * the file's bytes. Structure only; use {@link verifyRevocationList} before acting on it. The size
 * is checked first, so a huge input costs nothing. Never throws.
 */
export function parseRevocationList(input: string | Uint8Array): IdentityResult<RevocationList> {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) return malformed("it is not text");
  if (input.length > MAX_REVOCATION_LIST_BYTES) {
    return identityFailure(
      "IPOP_CRL_OVERSIZED",
      `it is ${input.length} bytes, more than a revocation list may be (${MAX_REVOCATION_LIST_BYTES})`,
    );
  }
  const signed = unarmorSigned(LABEL, input, "revocation list");
  if (!signed.ok) {
    return identityFailure(signed.reason === "truncated" ? "IPOP_CRL_TRUNCATED" : "IPOP_CRL_MALFORMED", signed.message);
  }
  const { body, signature } = signed;
  const decoded = decodeJsonObject(body);
  if (typeof decoded === "string") return malformed(decoded);
  const o = decoded.value;
  if (o.v !== REVOCATION_LIST_VERSION) {
    return typeof o.v === "number"
      ? identityFailure(
          "IPOP_CRL_UNSUPPORTED_VERSION",
          `it is a version ${o.v} revocation list; this ipop reads version ${REVOCATION_LIST_VERSION}: upgrade ipop`,
        )
      : malformed("its body has no version");
  }
  const unknown = unknownKey(o, KEYS);
  if (unknown !== undefined) return malformed(`its body has an unknown field "${unknown}"`);
  const { network, issuer, serial, issuedAt, entries } = o;
  if (
    typeof network !== "string" ||
    typeof issuer !== "string" ||
    typeof serial !== "number" ||
    typeof issuedAt !== "number" ||
    !Array.isArray(entries)
  ) {
    return malformed("its body lacks a field or has one of the wrong type");
  }
  if (entries.length > MAX_REVOCATION_ENTRIES) {
    return identityFailure(
      "IPOP_CRL_OVERSIZED",
      `it has ${entries.length} entries, more than ${MAX_REVOCATION_ENTRIES}`,
    );
  }
  const parsedEntries: RevocationEntry[] = [];
  for (const raw of entries) {
    const entry = parseEntry(raw);
    if (entry === null) return malformed("an entry is not {nodeId?, name?, at}");
    parsedEntries.push(entry);
  }
  const fields: RevocationListFields = { network, issuer, serial, issuedAt, entries: parsedEntries };
  const problem = checkRevocationFields(fields);
  if (problem !== null) return malformed(`its body is invalid: ${problem}`);
  if (encodeRevocationBody(fields) !== decoded.text) {
    return malformed("its body is not in canonical form (reordered, spaced or duplicated)");
  }
  return {
    ok: true,
    value: {
      ...fields,
      version: REVOCATION_LIST_VERSION,
      text: formatRevocationList({ body, signature }),
      body,
      signature,
    },
  };
}

/** What a list is checked against. */
export interface RevocationVerifyOptions {
  /** The network's CA certificate. */
  readonly ca: Certificate;
  /** The network the list must be for; absent: the CA's. */
  readonly network?: string;
}

/**
 * Decides whether a list comes from the CA: `ca` is a CA with an intact self-signature, it issued
 * the list, the signature holds and the list is for the CA's network (and `network`, when given).
 * No clock: a list stays valid as long as its CA's key is trusted. Never throws.
 */
export function verifyRevocationList(
  list: RevocationList,
  options: RevocationVerifyOptions,
): IdentityResult<RevocationList> {
  const { ca } = options;
  if (ca.kind !== "ca") {
    return identityFailure("IPOP_CERT_WRONG_KIND", `"${ca.name}" is a node certificate, not a CA certificate`);
  }
  if (!verifyMessage(CERTIFICATE_SIGNATURE_CONTEXT, ca.signature, ca.body, ca.publicKey)) {
    return identityFailure("IPOP_CERT_BAD_SIGNATURE", `CA certificate "${ca.name}" has a bad self-signature`);
  }
  if (list.issuer !== ca.nodeId) {
    return identityFailure(
      "IPOP_CRL_WRONG_CA",
      `revocation list ${list.serial} was issued by CA ${list.issuer}, not by CA "${ca.name}" (${ca.nodeId})`,
    );
  }
  if (!verifyMessage(REVOCATION_SIGNATURE_CONTEXT, list.signature, list.body, ca.publicKey)) {
    return identityFailure(
      "IPOP_CRL_BAD_SIGNATURE",
      `revocation list ${list.serial} has a bad signature: it was altered or not made by CA "${ca.name}"`,
    );
  }
  const network = options.network ?? ca.network;
  if (list.network !== ca.network || list.network !== network) {
    return identityFailure(
      "IPOP_CRL_WRONG_NETWORK",
      `revocation list ${list.serial} is for network "${list.network}", not "${network}"`,
    );
  }
  return { ok: true, value: list };
}

/**
 * The node ids and names a list revokes, in the form `verifyCertificate`'s `revoked` option takes.
 * (Node ids are 32 hex digits and names may be too; a name that looks like a node id revokes both,
 * which errs on the safe side.)
 */
export function revokedSet(list: Pick<RevocationListFields, "entries">): ReadonlySet<string> {
  const revoked = new Set<string>();
  for (const entry of list.entries) {
    if (entry.nodeId !== undefined) revoked.add(entry.nodeId);
    if (entry.name !== undefined) revoked.add(entry.name);
  }
  return revoked;
}
