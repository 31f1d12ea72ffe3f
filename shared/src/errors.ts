/** Error codes of the core. Stable: scripts and tests match on them. */
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
