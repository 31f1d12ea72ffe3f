import { hostname } from "node:os";
import { parseArgs } from "node:util";
import {
  checkSettings,
  DEFAULT_LIMITS,
  DEFAULT_OPERATOR_GROUP,
  errorMessage,
  filePathSchema,
  type Ipv4Interface,
  integerSchema,
  isMemberName,
  isNetworkName,
  parseIpv4Address,
  parseIpv4Interface,
  type SettingsSpec,
  textSchema,
} from "@ipop/shared";
import * as v from "valibot";
import { MAX_MTU, MIN_MTU } from "./cli-usage.js";
import { configSettings } from "./config-file.js";
import { UsageError } from "./errors.js";
import type { RealBackendName } from "./link/backends.js";
import { parseIceUrl } from "./link/ice-servers.js";
import { type NetcheckOptions, parseNetcheck } from "./netcheck/netcheck-args.js";
import { DEFAULT_PING_COUNT, DEFAULT_PING_INTERVAL_MS, UNTIL_DIRECT_COUNT, UNTIL_DIRECT_INTERVAL_MS } from "./ping.js";

export { USAGE } from "./cli-usage.js";

export const DEFAULT_MTU = 1400;
const BACKENDS = ["ndc", "werift", "wrtc"] as const;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
const ON_OFF = ["on", "off"] as const;
const DEVICE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export interface UpOptions {
  readonly command: "up";
  readonly signal: string;
  /** The PEM CA file for a `wss://` server with a private CA (`--signal-ca`). */
  readonly signalCa?: string;
  /**
   * How the node proves it is a member: certificate files (checked when the agent starts,
   * `loadCredentials`), or a join token exchanged for a certificate at the signaling server
   * (from a file, or IPOP_TOKEN when `file` is undefined; never a command-line argument, which
   * every user of the host could read in the process list).
   */
  readonly auth:
    | { readonly kind: "files"; readonly ca: string; readonly cert: string; readonly key: string }
    | { readonly kind: "token"; readonly file: string | undefined };
  readonly crl?: string;
  /** What the user asked for; each must agree with the certificate. */
  readonly network?: string;
  readonly address?: Ipv4Interface;
  readonly name?: string;
  readonly dev: string;
  readonly webrtc: RealBackendName;
  readonly mtu: number;
  /** STUN/TURN URLs, without credentials (those come from `turnCredentialsFile` or the environment). */
  readonly iceServers: readonly string[];
  /** `--turn-credentials-file`: JSON `{"username","credential"}` for the TURN URLs. */
  readonly turnCredentialsFile?: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly maxLinks: number;
  /** Broadcast and multicast flood the overlay (`--multicast on|off`, default on). */
  readonly multicast: boolean;
  /** Where to serve `GET /metrics` (`--metrics`); no endpoint when absent. */
  readonly metrics?: ListenAddress;
  /** Answer DNS for `NAME.NETWORK.ipop` on the virtual IP (`--dns`, default on; docs/dns.md). */
  readonly dns: boolean;
  /** Members of this certificate group may read this node's status over the overlay (default `ops`). */
  readonly operatorGroup: string;
}

/** A `HOST:PORT` to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface StatusOptions {
  readonly command: "status";
  /** Only the link to this node (a virtual IP or a name), if given. */
  readonly target?: string;
  readonly json: boolean;
  readonly dev: string;
}

export interface RouteOptions {
  readonly command: "route";
  /** A virtual IP or a node name; the agent resolves names. */
  readonly target: string;
  readonly json: boolean;
  readonly dev: string;
}

export interface PingOptions {
  readonly command: "ping";
  readonly target: string;
  readonly count: number;
  readonly untilDirect: boolean;
  readonly intervalMs: number;
  readonly json: boolean;
  readonly dev: string;
}

export interface DownOptions {
  readonly command: "down";
  readonly dev: string;
}

export type CliCommand =
  | { readonly command: "cert"; readonly argv: readonly string[] }
  | UpOptions
  | StatusOptions
  | RouteOptions
  | PingOptions
  | DownOptions
  | NetcheckOptions
  | { readonly command: "help" }
  | { readonly command: "version" };

/**
 * Parses the command line (and IPOP_TOKEN from `env`); throws UsageError with a message for the
 * user on anything wrong.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { command: "help" };
    case "--version":
    case "version":
      return { command: "version" };
    case "up":
      return parseUp(rest, env);
    case "status":
      return parseStatus(rest);
    case "route":
      return parseRoute(rest);
    case "ping":
      return parsePing(rest);
    case "down":
      return parseDown(rest);
    case "netcheck":
      return parseNetcheck(rest);
    case "cert":
      return { command: "cert", argv: rest };
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parse(args: readonly string[], options: NonNullable<Parameters<typeof parseArgs>[0]>["options"]) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

/**
 * The config file's keys and the flags they stand for. A flag on the command line wins over its
 * key in the file; `--ice-server`, repeatable, replaces the file's whole `iceServers` list.
 */
const UP_FLAGS = {
  signal: "signal",
  signalCa: "signal-ca",
  ca: "ca",
  cert: "cert",
  key: "key",
  tokenFile: "token-file",
  crl: "crl",
  network: "network",
  ip: "ip",
  name: "name",
  dev: "dev",
  webrtc: "webrtc",
  mtu: "mtu",
  iceServers: "ice-server",
  turnCredentialsFile: "turn-credentials-file",
  maxLinks: "max-links",
  multicast: "multicast",
  operatorGroup: "operator-group",
  logLevel: "log-level",
  metrics: "metrics",
  dns: "dns",
} as const;
type UpKey = keyof typeof UP_FLAGS;
const UP_KEYS = Object.keys(UP_FLAGS) as UpKey[];
/** Settings that name files: relative paths in a config file are relative to the file's directory. */
const PATH_KEYS = ["signalCa", "ca", "cert", "key", "tokenFile", "crl", "turnCredentialsFile"] as const;
const NUMERIC_KEYS: ReadonlySet<UpKey> = new Set(["mtu", "maxLinks"]);
/** Values never repeated in a message: a secret pasted where its path belongs. */
const QUIET_KEYS: ReadonlySet<string> = new Set(["key", "tokenFile", "turnCredentialsFile", "iceServers"]);
/**
 * What an ICE server URL must look like. User info (`turn:user:pass@host`) is refused: a password in
 * argv is visible to every user of the host (`ps`), and one in a URL ends up in logs. The setting is
 * quiet, so the refusal does not repeat it either.
 */
const ICE_SERVER_EXPECTED =
  "a stun:HOST:PORT, turn:HOST:PORT[?transport=udp|tcp] or turns:HOST:PORT URL without credentials " +
  "(TURN credentials go in --turn-credentials-file FILE or IPOP_TURN_USERNAME and IPOP_TURN_CREDENTIAL, never in argv)";
const LISTEN_EXPECTED = "HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:9470 ([::1]:9470 for IPv6)";

/** Splits `HOST:PORT` (IPv6 literals in brackets); undefined when it is not one. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (host === undefined || !(port >= 1 && port <= 65535)) return undefined;
  return { host, port };
}

/**
 * What every `up` setting may be: the one rule for the config file and the flags. The file is
 * checked against it as it is; flags are first put in the same shape (numbers for numeric flags).
 */
const UP_SETTINGS = v.strictObject({
  signal: v.optional(
    textSchema("a ws:// or wss:// URL, e.g. ws://HOST:7000, or several separated by commas", isSignalUrlList),
  ),
  signalCa: v.optional(filePathSchema()),
  ca: v.optional(filePathSchema()),
  cert: v.optional(filePathSchema()),
  key: v.optional(filePathSchema()),
  tokenFile: v.optional(filePathSchema()),
  crl: v.optional(filePathSchema()),
  turnCredentialsFile: v.optional(filePathSchema()),
  network: v.optional(textSchema("1-64 characters of [A-Za-z0-9._-], starting alphanumeric", isNetworkName)),
  ip: v.optional(
    v.pipe(
      v.string("a host address with its prefix length, like 10.88.0.5/16"),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const address = parseIpv4Interface(dataset.value);
        if (typeof address !== "string") return address;
        addIssue({ message: `a host address with its prefix length, like 10.88.0.5/16 (${address})` });
        return NEVER;
      }),
    ),
  ),
  name: v.optional(textSchema("1-63 characters of [A-Za-z0-9._-], starting alphanumeric", isMemberName)),
  dev: v.optional(textSchema("1-15 characters of [A-Za-z0-9_.-]", (dev) => DEVICE_NAME.test(dev))),
  webrtc: v.optional(v.picklist(BACKENDS, `one of ${BACKENDS.join(", ")}`)),
  mtu: v.optional(integerSchema(MIN_MTU, MAX_MTU)),
  iceServers: v.optional(
    v.array(
      textSchema(ICE_SERVER_EXPECTED, (url) => parseIceUrl(url) !== undefined),
      "a list of stun:, turn: or turns: URLs",
    ),
  ),
  maxLinks: v.optional(integerSchema(8, 1000)),
  // "on" or "off" (a flag's text); a config file may also say true or false.
  multicast: v.optional(
    v.pipe(
      v.union([v.boolean(), v.picklist(["on", "off"])], "on or off"),
      v.transform((value) => value === true || value === "on"),
    ),
  ),
  operatorGroup: v.optional(textSchema("a group name, e.g. ops", (group) => /^[A-Za-z0-9._-]{1,64}$/.test(group))),
  logLevel: v.optional(v.picklist(LOG_LEVELS, `one of ${LOG_LEVELS.join(", ")}`)),
  metrics: v.optional(
    v.pipe(
      v.string(LISTEN_EXPECTED),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const listen = parseListenAddress(dataset.value);
        if (listen !== undefined) return listen;
        addIssue({ message: LISTEN_EXPECTED });
        return NEVER;
      }),
    ),
  ),
  dns: v.optional(v.picklist(ON_OFF, "on or off")),
});
type UpSettings = v.InferOutput<typeof UP_SETTINGS>;
const UP_SPEC: SettingsSpec<UpSettings> = {
  schema: UP_SETTINGS,
  flags: UP_FLAGS,
  pathKeys: PATH_KEYS,
  quiet: QUIET_KEYS,
  unknownKeyHint,
};

/** One URL, or several separated by commas (servers of one network sharing Redis): each ws:// or wss://. */
function isSignalUrlList(text: string): boolean {
  const urls = text.split(",").map((part) => part.trim());
  return urls.length > 0 && urls.every(isSignalUrl);
}

function isSignalUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "ws:" || protocol === "wss:";
  } catch {
    return false;
  }
}

function parseUp(args: readonly string[], env: NodeJS.ProcessEnv): UpOptions {
  const flags: NonNullable<Parameters<typeof parseArgs>[0]>["options"] = { config: { type: "string" } };
  for (const key of UP_KEYS)
    flags[UP_FLAGS[key]] = { type: "string", ...(key === "iceServers" ? { multiple: true } : {}) };
  const values = parse(args, flags) as Record<string, string | string[] | undefined>;
  const fromFlags: Record<string, unknown> = {};
  for (const key of UP_KEYS) {
    const value = values[UP_FLAGS[key]];
    // A numeric flag's text becomes a number only when it is plainly one; anything else is
    // checked as the text it is, and refused with it.
    if (value !== undefined) fromFlags[key] = NUMERIC_KEYS.has(key) && isDigits(value) ? Number(value) : value;
  }
  const flagged = check(fromFlags);
  const config = typeof values.config === "string" ? configSettings(UP_SPEC, values.config) : {};
  const s: UpSettings = { ...config, ...flagged };
  if (s.signal === undefined) {
    const orInFile = typeof values.config === "string" ? ` (or "signal" in ${values.config})` : "";
    throw new UsageError(`missing --signal ws://HOST:PORT${orInFile}`);
  }
  if (s.signalCa !== undefined && !s.signal.split(",").every((url) => url.trim().startsWith("wss:"))) {
    throw new UsageError(
      `--signal-ca is for a wss:// server, but --signal is ${s.signal}: use wss:// (ipop-signal --tls-cert), or leave --signal-ca out`,
    );
  }
  return {
    command: "up",
    signal: s.signal,
    ...(s.signalCa === undefined ? {} : { signalCa: s.signalCa }),
    auth: parseAuth(s, env),
    ...(s.crl === undefined ? {} : { crl: s.crl }),
    ...(s.network === undefined ? {} : { network: s.network }),
    ...(s.ip === undefined ? {} : { address: s.ip }),
    ...(s.name === undefined ? {} : { name: s.name }),
    dev: s.dev ?? "ipop0",
    webrtc: s.webrtc ?? "ndc",
    mtu: s.mtu ?? DEFAULT_MTU,
    iceServers: s.iceServers ?? [],
    ...(s.turnCredentialsFile === undefined ? {} : { turnCredentialsFile: s.turnCredentialsFile }),
    logLevel: s.logLevel ?? "info",
    maxLinks: s.maxLinks ?? DEFAULT_LIMITS.maxLinks,
    multicast: s.multicast ?? DEFAULT_LIMITS.multicast,
    ...(s.metrics === undefined ? {} : { metrics: s.metrics }),
    dns: s.dns !== "off",
    operatorGroup: s.operatorGroup ?? DEFAULT_OPERATOR_GROUP,
  };
}

function isDigits(value: string | string[]): value is string {
  return typeof value === "string" && /^\d{1,9}$/.test(value);
}

/** Checks the flags' settings against {@link UP_SETTINGS}; a problem is a UsageError. */
function check(input: unknown): UpSettings {
  const result = checkSettings(UP_SPEC, input);
  if (!result.ok) throw new UsageError(result.message);
  return result.value;
}

function unknownKeyHint(key: string): string | undefined {
  if (key === "token") {
    return (
      "a join token is a secret and never goes in the config file: put it in a file of its own " +
      "(readable by root only) and give that file's path as tokenFile, or set IPOP_TOKEN"
    );
  }
  const camel = UP_KEYS.find((known) => UP_FLAGS[known] === key || `${UP_FLAGS[known]}s` === key);
  return camel === undefined ? undefined : `unknown setting; the config file spells it ${camel}`;
}

function parseAuth(s: UpSettings, env: NodeJS.ProcessEnv): UpOptions["auth"] {
  const given = (["ca", "cert", "key"] as const).filter((key) => s[key] !== undefined);
  const tokenInEnv = env.IPOP_TOKEN !== undefined && env.IPOP_TOKEN !== "";
  if (s.tokenFile !== undefined || (tokenInEnv && given.length === 0)) {
    if (given.length > 0) throw new UsageError("use either --ca/--cert/--key or a join token, not both");
    return { kind: "token", file: s.tokenFile };
  }
  const missing = ["ca", "cert", "key"].filter((flag) => !(given as string[]).includes(flag));
  if (missing.length > 0 || s.ca === undefined || s.cert === undefined || s.key === undefined) {
    throw new UsageError(
      `missing ${missing.map((f) => `--${f}`).join(", ")}: a node joins only with a certificate. ` +
        "On the machine with the network's CA: `ipop cert sign --name NAME --ip A.B.C.D/N`, then copy " +
        "ca.crt, NAME.crt and NAME.key here and pass --ca ca.crt --cert NAME.crt --key NAME.key; " +
        "or join with a token: --token-file FILE (`ipop token create`)",
    );
  }
  return { kind: "files", ca: s.ca, cert: s.cert, key: s.key };
}

function parseStatus(args: readonly string[]): StatusOptions {
  const [first, ...rest] = args;
  const target = first !== undefined && !first.startsWith("-") ? nodeTarget(first) : undefined;
  const v = parse(target === undefined ? args : rest, {
    json: { type: "boolean", default: false },
    dev: { type: "string", default: "ipop0" },
  }) as Record<string, string | boolean | undefined>;
  return { command: "status", ...(target === undefined ? {} : { target }), json: v.json === true, dev: device(v.dev) };
}

function device(value: unknown): string {
  const dev = value as string;
  if (!DEVICE_NAME.test(dev)) throw new UsageError(`--dev "${dev}" must be 1-15 characters of [A-Za-z0-9_.-]`);
  return dev;
}

/** A node as the user names it: a virtual IP, or a certificate name that the agent resolves. */
function nodeTarget(value: string): string {
  if (parseIpv4Address(value) !== null || isMemberName(value)) return value;
  throw new UsageError(`"${value}" is neither an IPv4 address nor a node name`);
}

/** The node argument a command needs first. */
function requiredTarget(args: readonly string[], command: string, example: string): string {
  const [target] = args;
  if (target === undefined || target.startsWith("-"))
    throw new UsageError(`ipop ${command} needs a node's virtual IP or name, e.g. ipop ${command} ${example}`);
  return nodeTarget(target);
}

function parseRoute(args: readonly string[]): RouteOptions {
  const target = requiredTarget(args, "route", "10.88.0.7");
  const status = parseStatus(args.slice(1));
  return { command: "route", target, json: status.json, dev: status.dev };
}

function parsePing(args: readonly string[]): PingOptions {
  const target = requiredTarget(args, "ping", "h7");
  const v = parse(args.slice(1), {
    count: { type: "string" },
    "until-direct": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    dev: { type: "string", default: "ipop0" },
  }) as Record<string, string | boolean | undefined>;
  const untilDirect = v["until-direct"] === true;
  let count = untilDirect ? UNTIL_DIRECT_COUNT : DEFAULT_PING_COUNT;
  if (v.count !== undefined) {
    count = /^\d{1,5}$/.test(v.count as string) ? Number(v.count) : Number.NaN;
    if (!(count >= 1 && count <= 10_000)) throw new UsageError("--count must be an integer from 1 to 10000");
  }
  return {
    command: "ping",
    target,
    count,
    untilDirect,
    intervalMs: untilDirect ? UNTIL_DIRECT_INTERVAL_MS : DEFAULT_PING_INTERVAL_MS,
    json: v.json === true,
    dev: device(v.dev),
  };
}

function parseDown(args: readonly string[]): DownOptions {
  const v = parse(args, { dev: { type: "string", default: "ipop0" } }) as Record<string, string | undefined>;
  return { command: "down", dev: device(v.dev) };
}

/** This host's name, cut to a valid member name: the default name of a token-enrolled node. */
export function hostMemberName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 63);
  return name === "" ? "node" : name;
}
