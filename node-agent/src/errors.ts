/**
 * Errors of the agent, each with a stable `code` that scripts and tests can match on. Messages say
 * what to do about the problem.
 */
export type AgentErrorCode = "IPOP_USAGE" | "IPOP_TUN" | "IPOP_CONTROL" | "IPOP_NOT_RUNNING" | "IPOP_SIGNALING";

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line arguments; the CLI prints the message and exits with status 2. */
export class UsageError extends AgentError {
  constructor(message: string) {
    super("IPOP_USAGE", message);
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
