/**
 * Errors of the lab harness. Each has a stable `code` so tests and the demo can tell a broken lab
 * (leak, missing tool, not root) from a failing system under test.
 */

/** Stable codes of {@link LabError}. */
export type LabErrorCode =
  | "LAB_NOT_ROOT"
  | "LAB_COMMAND_FAILED"
  | "LAB_TIMEOUT"
  | "LAB_PROCESS_EXITED"
  | "LAB_LEAK"
  | "LAB_DESTROYED"
  | "LAB_UNKNOWN_HOST"
  | "AGENT_STATUS_FAILED"
  | "AGENT_ROUTE_FAILED";

/** An error raised by the lab harness itself (not by the code under test). */
export class LabError extends Error {
  override readonly name = "LabError";

  /**
   * @param code - stable machine-readable code
   * @param message - what went wrong and, where possible, what to do about it
   */
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(message);
  }
}
