/**
 * The errors of @ipop/shared, each with a stable `code` that scripts, tests and counters match on.
 * Messages may change; codes do not.
 *
 * Parsing and verification look at bytes that arrive from the network, so they do not throw: they
 * return an {@link IdentityFailure} verdict (a plain object, cheap to make for every piece of garbage).
 * {@link IdentityError} is the same verdict as an exception, for callers that want one (the CLI, the
 * agent at start-up) and for programming errors such as signing a request that is not valid.
 * {@link CoreError} is a mistake in configuring the overlay core.
 */

/** Every code an error of this package carries. */
export type SharedErrorCode = CoreErrorCode | IdentityErrorCode;

/** Codes of the overlay core's configuration. */
export type CoreErrorCode = "IPOP_BAD_CONFIG";

/** An error the caller made in configuring the core; the message says what to fix. */
export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CoreError";
  }
}

/** Codes of certificates, tokens, revocation lists, join proofs and sealed envelopes. */
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
  | "IPOP_KEY_MISMATCH"
  /** A sealed link envelope that is not one: bad shape, encoding or signed part. */
  | "IPOP_ENVELOPE_MALFORMED"
  /** A link envelope without the sender's certificate (unsigned). */
  | "IPOP_ENVELOPE_NO_CERTIFICATE"
  /** The envelope's signature does not match the certificate it carries: altered on the way. */
  | "IPOP_ENVELOPE_BAD_SIGNATURE"
  /** Signed too long ago or too far in the future (replayed late, or a clock far off). */
  | "IPOP_ENVELOPE_STALE"
  /** Seen before: a replay. */
  | "IPOP_ENVELOPE_REPLAYED"
  /** Addressed to another node or another network. */
  | "IPOP_ENVELOPE_MISADDRESSED"
  /** The sender's node id or member record does not belong to the certificate that signed it. */
  | "IPOP_ENVELOPE_SENDER_MISMATCH"
  // CA services (token.ts, revocation.ts, join-proof.ts, enrollment.ts).
  /** Not a join token: wrong prefix, base64, JSON, a field out of range, or not canonical. */
  | "IPOP_TOKEN_MALFORMED"
  /** A token longer than the size limit; refused before it is read. */
  | "IPOP_TOKEN_OVERSIZED"
  | "IPOP_TOKEN_UNSUPPORTED_VERSION"
  /** A token issued by another CA than the one it is checked against. */
  | "IPOP_TOKEN_WRONG_CA"
  /** The token's signature does not verify: altered, or forged. */
  | "IPOP_TOKEN_BAD_SIGNATURE"
  | "IPOP_TOKEN_WRONG_NETWORK"
  | "IPOP_TOKEN_EXPIRED"
  /** The token's pool is outside what the CA allows. */
  | "IPOP_TOKEN_POOL_NOT_ALLOWED"
  /** Not a revocation list: bad armor, base64, JSON, an entry out of range, or not canonical. */
  | "IPOP_CRL_MALFORMED"
  | "IPOP_CRL_TRUNCATED"
  | "IPOP_CRL_OVERSIZED"
  | "IPOP_CRL_UNSUPPORTED_VERSION"
  | "IPOP_CRL_WRONG_CA"
  | "IPOP_CRL_BAD_SIGNATURE"
  | "IPOP_CRL_WRONG_NETWORK"
  /** A join without a credential, to a server that requires one. */
  | "IPOP_JOIN_NO_CREDENTIAL"
  /** A join proof, enrollment or renewal request of the wrong shape. */
  | "IPOP_JOIN_MALFORMED"
  /** The proof is not signed by the certificate's key, or covers other values. */
  | "IPOP_JOIN_BAD_SIGNATURE"
  /** Signed too long ago or too far in the future: replayed late, or a clock far off. */
  | "IPOP_JOIN_STALE"
  /** The same proof seen twice: a replay. */
  | "IPOP_JOIN_REPLAYED"
  /** The node id does not start with the certificate's key id. */
  | "IPOP_JOIN_NODE_MISMATCH"
  /** The claimed address is not the certificate's. */
  | "IPOP_JOIN_IP_MISMATCH"
  /** The member name is not the certificate's. */
  | "IPOP_JOIN_NAME_MISMATCH"
  /** An enrollment whose proof of key possession does not verify. */
  | "IPOP_ENROLL_BAD_PROOF"
  /** A renewal of a certificate that holds no leased address. */
  | "IPOP_RENEW_NOT_LEASED";

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

// ---- anything caught --------------------------------------------------------------------------
// Libraries throw strings and odd objects too, so nothing below assumes an `Error`.

/** The message of anything thrown, for logs, close reasons and error messages. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : String(error);
}

/** The `code` of anything thrown (`ENOENT`, `ERR_PARSE_ARGS_UNKNOWN_OPTION`, ...), when it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
