/**
 * The rules of IPOP's JSON config files (`ipop up --config`, `ipop-signal --config`; docs/config.md)
 * that do not depend on the host: parsing the bytes, the schemas settings are built from, and
 * saying what is wrong. Each program reads the file with config-read.ts (node-agent/src/config-file.ts,
 * signaling/src/config-file.ts hand in `node:fs`) and defines its settings with these schemas, so file
 * and flags are checked by one rule set and never disagree on what is valid.
 */
import * as v from "valibot";
import { errorCode, errorMessage } from "./errors.js";
import { decodeUtf8 } from "./utf8.js";

/**
 * Largest config file read. A complete one is well under 1 KiB; a file near this size is not a
 * config file (a log, a device), and reading stops here instead of filling memory.
 */
export const MAX_CONFIG_BYTES = 64 * 1024;

/** A config file's settings as parsed JSON, not yet checked against a schema. */
export interface ConfigFile {
  readonly path: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * Parses the first bytes of the file at `path` (at most `MAX_CONFIG_BYTES + 1` of them, so a longer
 * file shows as too large) as a JSON object of settings; returns it or what is wrong with it.
 */
export function parseConfigFile(path: string, bytes: Uint8Array): ConfigFile | string {
  if (bytes.length > MAX_CONFIG_BYTES) {
    return `${path}: larger than ${MAX_CONFIG_BYTES / 1024} KiB; is this the config file?`;
  }
  let json: string;
  try {
    json = decodeUtf8(bytes).replace(/^\uFEFF/, "");
  } catch {
    return `${path}: not UTF-8 text; the format is in docs/config.md`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return `${path}: not valid JSON (${describeJsonError(error, json)}); the format is in docs/config.md`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return `${path}: expected a JSON object of settings, e.g. {"signal": "ws://HOST:7000"}`;
  }
  return { path, settings: parsed as Record<string, unknown> };
}

/**
 * Reads and parses the config file at `path` with the host's `readStart`, which returns at most
 * `length` bytes from the start of a file (and throws as the host's file API does).
 */
export function loadConfigFile(
  path: string,
  readStart: (path: string, length: number) => Uint8Array,
): ConfigFile | string {
  let bytes: Uint8Array;
  try {
    bytes = readStart(path, MAX_CONFIG_BYTES + 1);
  } catch (error) {
    return unreadableConfig(path, error);
  }
  return parseConfigFile(path, bytes);
}

/** What to tell the user when the config file at `path` could not be read (`error` as thrown). */
export function unreadableConfig(path: string, error: unknown): string {
  const code = errorCode(error);
  const why =
    code === "ENOENT"
      ? "no such file"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied; run as a user who may read it, or fix its permissions"
        : code === "EISDIR"
          ? "it is a directory; give the path of the file"
          : errorMessage(error);
  return `cannot read the config file ${path}: ${why}`;
}

/**
 * JSON.parse's complaint with a line and column in place of an offset, and without the piece of
 * the file it may quote: a key pasted into a broken file must not end up in a log.
 */
function describeJsonError(error: unknown, json: string): string {
  const message = errorMessage(error).replace(/, "[\s\S]*"(\.\.\.)? is not valid JSON$/, "");
  const at = / in JSON at position (\d+)/.exec(message);
  if (at === null) return message;
  const before = json.slice(0, Number(at[1])).split("\n");
  const where = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  return message.slice(0, at.index) + where;
}

/**
 * A schema for a setting that names a file. It must look like a path, not like what a file holds
 * (an armored key, a token): secrets go in files of their own, and the config only names them.
 */
export function filePathSchema() {
  const expected = "the path of a file, not its contents";
  return v.pipe(
    v.string(expected),
    v.check((path) => path !== "" && !/[\n\r]/.test(path) && !/^-----BEGIN |^ipop-token-/.test(path), expected),
  );
}

/** A schema for an integer setting from `min` to `max`, with one message for every way to miss. */
export function integerSchema(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return v.pipe(v.number(expected), v.integer(expected), v.minValue(min, expected), v.maxValue(max, expected));
}

/** A schema for a string setting that `valid` accepts. */
export function textSchema(expected: string, valid: (text: string) => boolean) {
  return v.pipe(v.string(expected), v.check(valid, expected));
}

/** A program's settings: one schema for flags and config file alike, and how to talk about them. */
export interface SettingsSpec<T> {
  readonly schema: v.GenericSchema<unknown, T>;
  /** The command-line flag of each key (`maxLinks` -> `max-links`); every key has one. */
  readonly flags: Readonly<Record<string, string>>;
  /** Keys naming files: a relative path in a config file is taken from the file's directory. */
  readonly pathKeys: readonly string[];
  /** Keys whose values never appear in a message (paths that might be a pasted secret). */
  readonly quiet: ReadonlySet<string>;
  /** A message of its own for an unknown key that people are likely to try. */
  readonly unknownKeyHint?: (key: string) => string | undefined;
}

/** Checked settings, or one line per problem. */
export type SettingsResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/** Checks settings against `spec`: a config file's (`file` is its path) or, without `file`, the flags'. */
export function checkSettings<T>(spec: SettingsSpec<T>, input: unknown, file?: string): SettingsResult<T> {
  const result = v.safeParse(spec.schema, input);
  if (result.success) return { ok: true, value: result.output };
  const source: IssueSource = {
    ...(file === undefined ? {} : { file }),
    flagOf: (key) => spec.flags[key] ?? key,
    quiet: spec.quiet,
    known: Object.keys(spec.flags),
    ...(spec.unknownKeyHint === undefined ? {} : { unknownKeyHint: spec.unknownKeyHint }),
  };
  return { ok: false, message: describeIssues(result.issues, source) };
}

/**
 * A config file's settings checked against `spec`, its relative paths made absolute by `resolvePath`
 * (the host's path rules, from the file's directory).
 */
export function configFileSettings<T>(
  spec: SettingsSpec<T>,
  file: ConfigFile,
  resolvePath: (path: string) => string,
): SettingsResult<T> {
  const checked = checkSettings(spec, file.settings, file.path);
  if (!checked.ok) return checked;
  const settings = { ...(checked.value as Record<string, unknown>) };
  for (const key of spec.pathKeys) {
    const value = settings[key];
    if (typeof value === "string") settings[key] = resolvePath(value);
  }
  return { ok: true, value: settings as T };
}

/** How to name a setting in a message: by its config key, or by the flag it came from. */
export interface IssueSource {
  /** The config file, or undefined for the command line. */
  readonly file?: string;
  /** The flag for a config key (`maxLinks` -> `max-links`), for issues about flags. */
  readonly flagOf?: (key: string) => string;
  /** Keys whose values never appear in a message (paths that might be a pasted secret). */
  readonly quiet: ReadonlySet<string>;
  /** Every key the schema knows, listed when an unknown one is found. */
  readonly known: readonly string[];
  /** A message of its own for an unknown key that people are likely to try (e.g. an inline token). */
  readonly unknownKeyHint?: (key: string) => string | undefined;
}

/**
 * One line per problem: `FILE: maxLinks: expected an integer from 8 to 1000, got "x"` for the
 * file, `--max-links must be an integer from 8 to 1000, got "x"` for flags.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], source: IssueSource): string {
  return issues.map((issue) => describeIssue(issue, source)).join("\n");
}

function describeIssue(issue: v.BaseIssue<unknown>, source: IssueSource): string {
  const path = issue.path ?? [];
  const key = String(path[0]?.key ?? "");
  if (issue.type === "strict_object" && path.length === 1) {
    const hint = source.unknownKeyHint?.(key) ?? `unknown setting; the settings are ${source.known.join(", ")}`;
    return source.file === undefined ? `${key}: ${hint}` : `${source.file}: ${key}: ${hint}`;
  }
  const got = source.quiet.has(key) ? "" : `, got ${shorten(JSON.stringify(issue.input) ?? String(issue.input))}`;
  if (source.file === undefined) {
    const flag = source.flagOf?.(key) ?? key;
    return `--${flag} must be ${issue.message}${got}`;
  }
  const where = path.map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${String(item.key)}`));
  return `${source.file}: ${where.join("").slice(1)}: expected ${issue.message}${got}`;
}

function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}
