import { pino } from "pino";

/** Structured fields of a log line. Never put message bodies here: they will carry secrets. */
export type LogFields = Record<string, unknown>;

/**
 * The logging surface the server needs. A pino `Logger` satisfies it; tests can pass anything else that does.
 */
export interface SignalLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger that adds `bindings` to every line (used for per-connection fields). */
  child(bindings: LogFields): SignalLogger;
}

/** Levels accepted by `--log-level`, most to least verbose, plus `silent`. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Whether `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * A pino logger writing JSON lines to stderr. Stderr, because stdout carries the one `listening on ...` line
 * that scripts parse. Writes are synchronous: logs are low-volume (joins, leaves, errors) and a crash or exit
 * must not lose the last lines.
 */
export function createLogger(level: LogLevel): SignalLogger {
  return pino(
    {
      name: "ipop-signal",
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: no code path logs a body, but if one ever did, it must not leak.
      redact: { paths: ["body", "*.body"], censor: "[redacted]" },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything: the default for servers started in-process (tests). */
export function silentLogger(): SignalLogger {
  const logger: SignalLogger = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child: () => logger,
  };
  return logger;
}
