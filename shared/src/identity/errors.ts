/**
 * Errors of the identity module, each with a stable `code` that scripts, tests and counters match on.
 *
 * Parsing and verification look at bytes that arrive from the network, so they do not throw: they
 * return an {@link IdentityFailure} verdict (a plain object, cheap to make for every piece of garbage).
 * {@link IdentityError} is the same verdict as an exception, for callers that want one (the CLI, the
 * agent at start-up) and for programming errors such as signing a request that is not valid.
 */

/** Stable codes. Messages may change; codes do not. */
export type IdentityErrorCode =
  /** Not a certificate: bad armor, base64, JSON, a field out of range, or not in canonical form. */
  | "IPOP_CERT_MALFORMED"
  /** Cut short: the input ends before the end marker. */
  | "IPOP_CERT_TRUNCATED"
  /** Larger than the size limit; refused before it is read. */
  | "IPOP_CERT_OVERSIZED"
  /** A certificate version this code does not know. */
  | "IPOP_CERT_UNSUPPORTED_VERSION"
  /** A CA certificate where a node certificate belongs, or the other way round. */
  | "IPOP_CERT_WRONG_KIND"
  /** Issued by another CA than the one it is checked against. */
  | "IPOP_CERT_WRONG_CA"
  /** The signature does not verify: the certificate was altered or signed by another key. */
  | "IPOP_CERT_BAD_SIGNATURE"
  | "IPOP_CERT_WRONG_NETWORK"
  | "IPOP_CERT_EXPIRED"
  | "IPOP_CERT_NOT_YET_VALID"
  | "IPOP_CERT_REVOKED"
  /** The address (or pool) is outside what the CA allows, or differs from the address asked for. */
  | "IPOP_CERT_IP_MISMATCH"
  /** A group the CA does not allow. */
  | "IPOP_CERT_GROUP_NOT_ALLOWED"
  /** Signing was asked for a certificate that would outlive its CA. */
  | "IPOP_CERT_OUTLIVES_CA"
  /** Not a private key file, or not a valid key. */
  | "IPOP_KEY_MALFORMED"
  /** The private key does not belong to the certificate's public key. */
  | "IPOP_KEY_MISMATCH";

/** A refusal: what went wrong (`code`) and what to do about it (`message`). */
export interface IdentityFailure {
  readonly ok: false;
  readonly code: IdentityErrorCode;
  readonly message: string;
}

/** A value, or the reason there is none. */
export type IdentityResult<T> = { readonly ok: true; readonly value: T } | IdentityFailure;

/** Builds a refusal verdict. */
export function identityFailure(code: IdentityErrorCode, message: string): IdentityFailure {
  return { ok: false, code, message };
}

/** A refusal as an exception. The message is meant for the user and says what to do. */
export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "IdentityError";
  }

  /** The exception form of a verdict, optionally with context (such as a file name) before the message. */
  static from(failure: IdentityFailure, context?: string): IdentityError {
    return new IdentityError(failure.code, context === undefined ? failure.message : `${context}: ${failure.message}`);
  }
}

/** Returns the value of a result, or throws its failure as an {@link IdentityError}. */
export function unwrapIdentity<T>(result: IdentityResult<T>, context?: string): T {
  if (result.ok) return result.value;
  throw IdentityError.from(result, context);
}
