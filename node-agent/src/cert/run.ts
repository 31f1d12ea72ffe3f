/**
 * `ipop cert ...`, as a function the CLI calls with the arguments after `cert`. User errors become a
 * message on stderr and an exit status (2: bad usage, 1: refused or failed), never a stack trace;
 * anything else is a bug and propagates.
 */
import { UsageError } from "../errors.js";
import { caCommand } from "./ca-command.js";
import { CertFileError } from "./errors.js";
import { IdentityError } from "./identity.js";
import type { CertIo } from "./io.js";
import { printCommand } from "./print-command.js";
import { signCommand } from "./sign-command.js";
import { CERT_USAGE } from "./usage.js";
import { verifyCommand } from "./verify-command.js";

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CertIo) => Promise<number>>> = {
  ca: caCommand,
  sign: signCommand,
  print: printCommand,
  verify: verifyCommand,
};

/** Runs `ipop cert <argv>`; resolves to the exit status. */
export async function runCertCommand(argv: readonly string[], io: CertIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    io.stdout.write(`${CERT_USAGE}\n`);
    return 0;
  }
  try {
    if (command === undefined) throw new UsageError("missing subcommand: ca, sign, print or verify");
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (run === undefined) throw new UsageError(`unknown subcommand "${command}"; use ca, sign, print or verify`);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(`${CERT_USAGE}\n`);
      return 0;
    }
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`ipop cert: ${error.message}\n\n${CERT_USAGE}\n`);
      return 2;
    }
    if (error instanceof IdentityError || error instanceof CertFileError) {
      io.stderr.write(`ipop cert: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
