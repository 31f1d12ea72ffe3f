/**
 * Errors of the credential files: what is wrong with a path rather than with what is in it (that is
 * an `IdentityError` from the core). Stable codes, messages that say what to do.
 */
export type CertFileErrorCode =
  | "IPOP_CERT_FILE_MISSING"
  | "IPOP_CERT_FILE_UNREADABLE"
  | "IPOP_CERT_FILE_EXISTS"
  | "IPOP_CERT_FILE_UNWRITABLE";

export class CertFileError extends Error {
  constructor(
    readonly code: CertFileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CertFileError";
  }
}
