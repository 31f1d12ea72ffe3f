/**
 * What a `catch` can tell about the value it caught. Libraries throw strings and odd objects too, so
 * nothing here assumes an `Error`.
 */

/** The message of anything thrown, for logs, close reasons and error messages. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : String(error);
}

/** The `code` of anything thrown (`ENOENT`, `ERR_PARSE_ARGS_UNKNOWN_OPTION`, ...), when it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
