/**
 * Errors of the benchmark. Each has a stable `code`, so a caller (or the bench's own lab test) can tell
 * a missing tool from a system that failed to come up or a measurement tool that printed nonsense.
 */

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

/** The message of anything thrown, for the report's error list. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return "code" in e && typeof e.code === "string" ? `${e.code}: ${e.message}` : e.message;
  return String(e);
}
