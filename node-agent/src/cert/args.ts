/** Command-line helpers of the `ipop cert` subcommands; every problem is a {@link UsageError}. */
import { parseArgs } from "node:util";
import { errorMessage, isMemberName, parseDuration } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { parseIpv4Prefix } from "./identity.js";

type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/** Parsed flags (strings and booleans) and positionals. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parseFlags(args: readonly string[], options: OptionSpec, positionals: number): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals > 0 }) as ParsedArgs;
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  }
  return parsed;
}

/** A string flag's value, or undefined. An empty value is a mistake, not "absent". */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === "") throw new UsageError(`--${name} needs a value`);
  return typeof value === "string" ? value : undefined;
}

export function requiredFlag(args: ParsedArgs, name: string, example: string): string {
  const value = stringFlag(args, name);
  if (value === undefined) throw new UsageError(`missing --${name} ${example}`);
  return value;
}

/** A comma-separated list flag; empty items are ignored ("a,,b" and "a,b," mean a,b). */
export function listFlag(args: ParsedArgs, name: string): string[] | undefined {
  const value = stringFlag(args, name);
  return value
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** The --pools list, each item checked as an IPv4 prefix (A.B.C.D/N). */
export function poolsFlag(args: ParsedArgs): string[] | undefined {
  const pools = listFlag(args, "pools");
  for (const pool of pools ?? []) {
    const prefix = parseIpv4Prefix(pool);
    if (typeof prefix === "string") throw new UsageError(`--pools: ${prefix}`);
  }
  return pools;
}

/** Checks --groups values; returns them unchanged. */
export function checkGroups(groups: string[] | undefined): string[] | undefined {
  for (const group of groups ?? []) {
    if (!isMemberName(group)) {
      throw new UsageError(`--groups: "${group}" must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric`);
    }
  }
  return groups;
}

/** A duration flag's value in whole seconds (see `parseDuration`); `flag` names it in the message. */
export function durationFlag(text: string, flag: string): number {
  const seconds = parseDuration(text);
  if (typeof seconds === "string") throw new UsageError(`${flag} ${seconds}`);
  return seconds;
}
