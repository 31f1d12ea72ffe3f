import { errorCode, errorMessage } from "@ipop/shared";
/**
 * Every error the signaling package throws on purpose. Each has a stable `code` that callers and tests match
 * on (the message is for humans and may change), in the style of ws's `WS_ERR_*` codes.
 */

/** The codes; stable. */
export type SignalServerErrorCode =
  /** A command-line argument or option is invalid ({@link OptionError}). */
  | "ERR_SIGNAL_OPTION"
  /** The config file (`--config`) cannot be read, is not JSON, or holds a bad or unknown setting ({@link ConfigError}). */
  | "ERR_SIGNAL_CONFIG"
  /** The listening socket could not be bound ({@link ListenError}). */
  | "ERR_SIGNAL_LISTEN"
  /** The CA files or settings cannot be used ({@link CaError}). */
  | "ERR_SIGNAL_CA"
  /** The TLS certificate or key (`--tls-cert`, `--tls-key`) cannot be used ({@link TlsError}). */
  | "ERR_SIGNAL_TLS"
  /** The TURN shared secret (`--turn-secret-file`) cannot be used ({@link TurnError}). */
  | "ERR_SIGNAL_TURN"
  /** The state store (`--state-dir`, `--redis`) cannot be opened or read ({@link StoreError}). */
  | "ERR_SIGNAL_STORE"
  /** WebSocket compression was configured or negotiated, which the raw frame writes cannot coexist with ({@link CompressionError}). */
  | "ERR_SIGNAL_COMPRESSION";

/** Base class: catch this to handle any deliberate signaling-server error. */
export class SignalServerError extends Error {
  /** Stable machine-readable code, e.g. `ERR_SIGNAL_OPTION`. */
  readonly code: SignalServerErrorCode;

  constructor(code: SignalServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A command-line argument or a programmatic option is invalid. The CLI prints the message and exits with
 * status 2, so the message must say what was wrong and what is accepted.
 */
export class OptionError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_OPTION", message);
  }
}

/**
 * The config file cannot be used; the message names the file and, for a bad setting, its key, what
 * was expected and what was found. The CLI prints it and exits with status 2, like a bad flag.
 */
export class ConfigError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_CONFIG", message);
  }
}

/** The server could not bind its listening socket (port in use, permission denied, unknown host...). */
export class ListenError extends SignalServerError {
  /** The host and port that were asked for. */
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, cause: unknown) {
    super("ERR_SIGNAL_LISTEN", `cannot listen on ${formatHostPort(host, port)}: ${describeListenFailure(cause)}`, {
      cause,
    });
    this.host = host;
    this.port = port;
  }
}

/** `host:port`, with brackets around IPv6 literals so the port stays unambiguous. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeListenFailure(cause: unknown): string {
  switch (errorCode(cause)) {
    case "EADDRINUSE":
      return "the port is already in use (is another ipop-signal running? pick another port, or 0 for any free one)";
    case "EACCES":
      return "permission denied (ports below 1024 need privileges; pick a port above 1024)";
    case "EADDRNOTAVAIL":
      return "this machine has no such address (use 0.0.0.0 to listen on all interfaces)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    default:
      return errorMessage(cause);
  }
}

/**
 * The CA settings cannot be used: a file (`--ca`, `--ca-key`, `--crl`) is missing, unreadable,
 * unprotected or not what it should be, or they do not fit together (the key is not the CA's, the CA
 * has expired, the list is another CA's). The server refuses to start; the CLI exits with status 1.
 */
export class CaError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_CA", message);
  }
}

/**
 * The TLS certificate or key cannot be used: a file is missing, unreadable, not PEM, the key is
 * unprotected or is not the certificate's, or the certificate has expired. At start the server refuses
 * to run (exit status 1); on a reload (SIGHUP) it logs this and keeps serving the pair it has.
 */
export class TlsError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_TLS", message);
  }
}

/**
 * The TURN shared secret cannot be used: the file is missing, unreadable, readable by others, empty
 * or too long. The server refuses to start (exit status 1).
 */
export class TurnError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_TURN", message);
  }
}

/**
 * The state store cannot be used: the `--state-dir` cannot be created or its state file is not one
 * this server wrote, or Redis (`--redis`) cannot be reached at start. The server refuses to start
 * rather than run with leases it cannot keep; the CLI exits with status 1.
 */
export class StoreError extends SignalServerError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_SIGNAL_STORE", message, options);
  }
}

/**
 * WebSocket compression (permessage-deflate) is enabled on the server or was negotiated on a
 * connection. Sessions write pre-built frames straight to the socket, past ws's sender; that is only
 * sound while ws writes every frame whole and at once, which compression breaks (ws then queues frames
 * behind the deflate stream, and a raw frame could land inside them). A bug in the server, never the
 * client's doing: the server refuses to start, or the connection is dropped and logged as an error.
 */
export class CompressionError extends SignalServerError {
  constructor(message: string) {
    super("ERR_SIGNAL_COMPRESSION", message);
  }
}
