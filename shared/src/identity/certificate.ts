/**
 * The certificate: what it says (fields), how the body is encoded, and the rules every field obeys.
 *
 * A body is JSON in one canonical form: keys in a fixed order, optional keys left out rather than
 * null, no whitespace, only printable ASCII. The parser re-encodes what it read and refuses bytes
 * that differ, so a signed body has exactly one meaning for every implementation: no duplicate keys
 * (which JSON parsers resolve differently), no unknown fields a verifier might silently ignore.
 * Adding a field is a new version.
 */
import type { Ipv4Interface } from "../ipv4.js";
import type { Ipv4Prefix } from "./cidr.js";

/** The only certificate version this code reads and writes. */
export const CERTIFICATE_VERSION = 1;
/** Largest armored certificate accepted, in bytes. The largest valid one is 3.9 KiB. */
export const MAX_CERTIFICATE_BYTES = 8 * 1024;
/** Most groups one certificate may carry. */
export const MAX_GROUPS = 32;
/** Most address blocks one certificate may carry. */
export const MAX_POOLS = 16;
/** Latest time a certificate may name: the end of year 9999, so every date prints as ISO 8601. */
export const MAX_CERTIFICATE_TIME = 253402300799;

/** "ca": a network's root of trust, self-signed. "node": one member, signed by the CA. */
export type CertificateKind = "ca" | "node";

/**
 * What a certificate states. Times are wall-clock seconds since the Unix epoch (not the core's
 * monotonic milliseconds).
 */
export interface CertificateFields {
  readonly kind: CertificateKind;
  /** The network this certificate belongs to; a node certificate's is always its CA's. */
  readonly network: string;
  /** Node: its member name. CA: a label for people. */
  readonly name: string;
  /** Node only: its fixed address with the overlay's prefix length, `A.B.C.D/N`. */
  readonly ip?: string;
  /**
   * Node: blocks it may claim an address from (for pool-assigned nodes).
   * CA: blocks every address and pool it signs must lie in. Absent: no restriction.
   */
  readonly pools?: readonly string[];
  /** Node: its groups. CA: the groups it may grant; empty means any. Sorted, no duplicates. */
  readonly groups: readonly string[];
  /** First second the certificate is valid. */
  readonly notBefore: number;
  /** First second the certificate is no longer valid. */
  readonly notAfter: number;
  /** The Ed25519 public key the certificate binds (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Node id of the key that signed it: the CA's; for a CA, its own. */
  readonly issuer: string;
}

/** A parsed certificate: its fields, values derived from them, and the exact bytes that were signed. */
export interface Certificate extends CertificateFields {
  readonly version: typeof CERTIFICATE_VERSION;
  /** {@link nodeIdOf} the public key: the node's overlay id, or the CA's id. */
  readonly nodeId: string;
  /** `ip` parsed; absent when the certificate has no fixed address. */
  readonly address?: Ipv4Interface;
  /** `pools` parsed, in order; empty when absent. */
  readonly poolPrefixes: readonly Ipv4Prefix[];
  /** The body exactly as carried and signed. Verification uses these bytes, never a re-encoding. */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}
