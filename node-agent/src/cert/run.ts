/**
 * `ipop cert ...`, as a function the CLI calls with the arguments after `cert`. User errors become a
 * message on stderr and an exit status (2: bad usage, 1: refused or failed), never a stack trace;
 * anything else is a bug and propagates.
 */

import { AgentError, UsageError } from "../errors.js";
import { caCommand } from "./ca-command.js";
import { IdentityError } from "./identity.js";
import type { CertIo } from "./io.js";
import { printCommand } from "./print-command.js";
import { revokeCommand } from "./revoke-command.js";
import { signCommand } from "./sign-command.js";
import { tokenCreateCommand, tokenPrintCommand } from "./token-command.js";
import { CERT_USAGE, TOKEN_USAGE } from "./usage.js";
import { verifyCommand } from "./verify-command.js";

type Command = (args: readonly string[], io: CertIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  ca: caCommand,
  sign: signCommand,
  print: printCommand,
  verify: verifyCommand,
  revoke: revokeCommand,
};

const TOKEN_COMMANDS: Readonly<Record<string, Command>> = {
  create: tokenCreateCommand,
  print: tokenPrintCommand,
};

/** Runs `ipop token <argv>`; resolves to the exit status. */
export function runTokenCommand(argv: readonly string[], io: CertIo): Promise<number> {
  return runSubcommand("token", TOKEN_COMMANDS, TOKEN_USAGE, argv, io);
}

/** Runs `ipop cert <argv>`; resolves to the exit status. */
export function runCertCommand(argv: readonly string[], io: CertIo): Promise<number> {
  return runSubcommand("cert", COMMANDS, CERT_USAGE, argv, io);
}

async function runSubcommand(
  group: string,
  commands: Readonly<Record<string, Command>>,
  usage: string,
  argv: readonly string[],
  io: CertIo,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    io.stdout.write(`${usage}\n`);
    return 0;
  }
  const names = Object.keys(commands).join(", ");
  try {
    if (command === undefined) throw new UsageError(`missing subcommand: ${names}`);
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (run === undefined) throw new UsageError(`unknown subcommand "${command}"; use ${names}`);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`ipop ${group}: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    if (error instanceof IdentityError || error instanceof AgentError) {
      io.stderr.write(`ipop ${group}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
