/**
 * Every error the agent (`ipop`, its `cert` and `token` commands, the link layer) throws on purpose.
 * Each has a stable `code` that scripts and tests match on, in the spirit of ws's `WS_ERR_*` codes;
 * the message is for people, says what went wrong and, where there is something to do, what. What is
 * wrong inside a certificate, key, token or list is the core's `IdentityError`, with its own codes.
 */

/** Codes of the agent's own problems. */
export type AgentErrorCode =
  /** Bad command-line arguments; the CLI prints the message and the usage, and exits with status 2. */
  | "IPOP_USAGE"
  /** The config file (`ipop up --config`) cannot be read, is not JSON, or holds a bad or unknown setting. */
  | "IPOP_CONFIG"
  /** The TUN device cannot be created or configured, or does not fit the core. */
  | "IPOP_TUN"
  /** The control socket: cannot listen on it, no answer, or an answer that is a refusal. */
  | "IPOP_CONTROL"
  /** `ipop status` or `ipop route` found no agent to ask. */
  | "IPOP_NOT_RUNNING"
  /** `ipop route` asked about an address outside this node's virtual network. */
  | "IPOP_ADDRESS_OUTSIDE_NETWORK"
  /** `ipop ping`, `route` or `status` named a node this agent has not heard of. */
  | "IPOP_UNKNOWN_NODE"
  /** A request reached the agent while it was shutting down. */
  | "IPOP_AGENT_STOPPING"
  /** The CA renewed the certificate with another key, name or address; the agent keeps the old one. */
  | "IPOP_RENEWAL_MISMATCH"
  /** `--signal-ca` names no readable PEM certificate, or is given for a plain ws:// server. */
  | "IPOP_SIGNAL_CA"
  /** `ipop up --metrics HOST:PORT` cannot listen there. */
  | "IPOP_METRICS_LISTEN"
  | CertFileErrorCode
  | CaServiceErrorCode
  | LinkErrorCode;

/** Base class: catch this to handle any deliberate agent error. */
export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line arguments; the CLI prints the message and exits with status 2. */
export class UsageError extends AgentError {
  constructor(message: string) {
    super("IPOP_USAGE", message);
  }
}

/**
 * The config file cannot be used; the message names the file and, for a bad setting, its key, what
 * was expected and what was found. The CLI prints it and exits with status 2, like a bad flag.
 */
export class ConfigError extends AgentError {
  constructor(message: string) {
    super("IPOP_CONFIG", message);
  }
}

export class TunError extends AgentError {
  constructor(message: string) {
    super("IPOP_TUN", message);
  }
}

/** `ipop status` found no agent to ask. */
export class NotRunningError extends AgentError {
  constructor(message: string) {
    super("IPOP_NOT_RUNNING", message);
  }
}

export class ControlError extends AgentError {
  constructor(message: string) {
    super("IPOP_CONTROL", message);
  }
}

/** The `--signal-ca` file cannot be used to check the signaling server's TLS certificate. */
export class SignalCaError extends AgentError {
  constructor(message: string) {
    super("IPOP_SIGNAL_CA", message);
  }
}

/** What is wrong with a credential file's path rather than with what is in it. */
export type CertFileErrorCode =
  | "IPOP_CERT_FILE_MISSING"
  | "IPOP_CERT_FILE_UNREADABLE"
  | "IPOP_CERT_FILE_EXISTS"
  | "IPOP_CERT_FILE_UNWRITABLE";

/** A credential file cannot be read or written (see {@link CertFileErrorCode}). */
export class CertFileError extends AgentError {
  declare readonly code: CertFileErrorCode;

  constructor(code: CertFileErrorCode, message: string) {
    super(code, message);
  }
}

/** Why a request to the CA service (enroll, renew, publish a revocation list) failed. */
export type CaServiceErrorCode =
  /** The server answered with an error (see `serverCode` and `reason`). */
  | "IPOP_CA_REFUSED"
  /** No connection, or it closed before an answer. */
  | "IPOP_CA_UNREACHABLE"
  | "IPOP_CA_TIMEOUT"
  /** The answer does not hold up: another CA than the token's, a certificate that does not verify. */
  | "IPOP_CA_BAD_ANSWER"
  /** The request could not be made (a malformed token). */
  | "IPOP_CA_BAD_REQUEST";

export class CaServiceError extends AgentError {
  declare readonly code: CaServiceErrorCode;

  constructor(
    code: CaServiceErrorCode,
    message: string,
    /** The server's error code (`token-invalid`, `pool-exhausted`, ...), for IPOP_CA_REFUSED. */
    readonly serverCode?: string,
    /** The server's finer reason (`IPOP_TOKEN_EXPIRED`, ...), when it gave one. */
    readonly reason?: string,
  ) {
    super(code, message);
  }
}

/** Errors of the link layer. Those thrown inside a link become its close reason, never the caller's. */
export type LinkErrorCode =
  /** `--webrtc` named no backend this build knows. */
  | "IPOP_LINK_BACKEND_UNKNOWN"
  /** The backend's package could not be loaded. */
  | "IPOP_LINK_BACKEND_UNAVAILABLE"
  /** The WebRTC stack was used after the link released it. */
  | "IPOP_LINK_RELEASED"
  /** The WebRTC stack produced a description without SDP. */
  | "IPOP_LINK_NO_SDP"
  /** The remote sent a description or candidate the (fake) stack cannot use. */
  | "IPOP_LINK_BAD_SIGNAL"
  /** `IPOP_NDC_LOG` named no libdatachannel log level. */
  | "IPOP_LINK_BAD_LOG_LEVEL";

export class LinkError extends AgentError {
  declare readonly code: LinkErrorCode;

  constructor(code: LinkErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
