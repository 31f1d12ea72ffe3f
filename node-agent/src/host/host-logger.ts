/**
 * The log calls the host driver and the signaling client make: pino's shape (fields, then message),
 * so the agent passes its pino logger as it is; the console page, which logs nothing, passes
 * {@link SILENT_LOGGER}.
 */
export interface HostLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => undefined;

/** A logger that drops everything. */
export const SILENT_LOGGER: HostLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
