import { errorCode, errorMessage } from "@ipop/shared";

/**
 * Errors of the test harnesses, each with a stable `code`: the lab's tell a broken lab (leak, missing
 * tool, not root) from a failing system under test; the benchmark's tell a missing tool from a system
 * that failed to come up or a measurement tool that printed nonsense.
 */

/** Every code an error of this package carries. */
export type HarnessErrorCode = LabErrorCode | BenchErrorCode;

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
  | "AGENT_ROUTE_FAILED"
  | "AGENT_CONTROL_FAILED";

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

/** Stable codes of {@link BenchError}. */
export type BenchErrorCode =
  | "BENCH_USAGE"
  | "BENCH_NOT_ROOT"
  | "BENCH_DEPS_MISSING"
  | "BENCH_SETUP_FAILED"
  | "BENCH_TOOL_FAILED"
  | "BENCH_PARSE"
  | "BENCH_TIMEOUT";

/** An error raised by the benchmark harness. */
export class BenchError extends Error {
  override readonly name = "BenchError";

  /**
   * @param code - stable machine-readable code
   * @param message - what went wrong and, where possible, what to do about it
   */
  constructor(
    readonly code: BenchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The message of anything thrown, led by its code when it has one, for the bench report's error list. */
export function codedMessage(e: unknown): string {
  const code = errorCode(e);
  return code === undefined ? errorMessage(e) : `${code}: ${errorMessage(e)}`;
}
