import { parseArgs } from "node:util";
import {
  checkSettings,
  errorCode,
  errorMessage,
  filePathSchema,
  MAX_LEASE_SECONDS,
  MAX_SIGNAL_MESSAGE_BYTES,
  MIN_LEASE_SECONDS,
  parseDuration,
  type SettingsSpec,
} from "@ipop/shared";
import * as v from "valibot";
import type { AuthorityPaths } from "./authority-files.js";
import { configSettings } from "./config-file.js";
import { OptionError } from "./errors.js";
import {
  DEFAULT_LIMITS,
  isLimitValue,
  limitExpectation,
  MIN_MESSAGE_BYTES,
  type SignalServerLimits,
} from "./limits.js";
import { LOG_LEVELS, type LogLevel } from "./logger.js";
import type { TlsPaths } from "./tls-files.js";
import { DEFAULT_TURN_TTL_SECONDS, MIN_TURN_TTL_SECONDS, type TurnPaths } from "./turn-grants.js";

/** Where `ipop-signal` listens when `--listen` is not given: loopback only, so nothing is exposed by accident. */
export const DEFAULT_LISTEN = "127.0.0.1:7700";

/** What the command line asked for. */
export type CliCommand =
  | { readonly kind: "help" }
  | {
      readonly kind: "run";
      readonly host: string;
      readonly port: number;
      readonly limits: Partial<SignalServerLimits>;
      readonly logLevel: LogLevel;
      /** The CA files, when `--ca` was given. */
      readonly authority?: AuthorityPaths;
      /** The TLS certificate and key files, when `--tls-cert` and `--tls-key` were given. */
      readonly tls?: TlsPaths;
      /** `--console DIR|off`: the web console's build to serve at `/`, or none (default: the repository's). */
      readonly consoleDir?: string | false;
      /** TURN servers to hand members, when `--turn-secret-file` and `--turn-url` were given. */
      readonly turn?: TurnPaths;
      /** Where leases and revocation lists are kept past a restart (`--state-dir`). */
      readonly stateDir?: string;
      /** The Redis that instances of one network share (`--redis`): `redis://HOST:PORT` or a socket path. */
      readonly redis?: string;
    };

/** `ipop-signal --help`. */
export const USAGE = `Usage: ipop-signal [options]

The IPOP signaling server: nodes join a named network over WebSocket, learn its members and relay
connection offers to each other through it. Logs are JSON lines on stderr; stdout gets one line,
"listening on ws://HOST:PORT" (wss:// with TLS), once the server is ready.

Options:
  --listen HOST:PORT         address to listen on (default ${DEFAULT_LISTEN}; port 0 picks a free port;
                             IPv6 as [::1]:PORT; 0.0.0.0:PORT for all interfaces)
  --max-members N            members per network (default ${DEFAULT_LIMITS.maxMembers})
  --welcome-members N        members a welcome lists, the closest on the ring; as many hear of a join or a
                             leave (default ${DEFAULT_LIMITS.welcomeMembers})
  --max-connections N        WebSocket connections in total (default ${DEFAULT_LIMITS.maxConnections})
  --rate N                   messages per second per connection, sustained (default ${DEFAULT_LIMITS.messagesPerSecond};
                             bursts up to twice that many messages are allowed)
  --max-message-bytes N      largest message in bytes, ${MIN_MESSAGE_BYTES} to ${MAX_SIGNAL_MESSAGE_BYTES} (default ${DEFAULT_LIMITS.maxMessageBytes})
  --join-timeout-ms N        close connections that have not joined after N ms (default ${DEFAULT_LIMITS.joinTimeoutMs})
  --log-level LEVEL          ${LOG_LEVELS.join(", ")} (default info)
  --console DIR|off          serve the web console's build from DIR at / (default: web-console/dist/app of
                             this installation, when built; docs/console.md), or serve none

TLS (see docs/signaling.md):
  --tls-cert PATH            serve wss:// and https:// with this PEM certificate (the server's first, then any
                             intermediates); reloaded with --tls-key on SIGHUP
  --tls-key PATH             the certificate's PEM private key, unencrypted, mode 0600

Certificates (see docs/certificates.md):
  --ca PATH                  the network's CA certificate (ca.crt): only members it certifies may join, and
                             only its network; the server keeps and forwards the revocation list
  --ca-key PATH              with --ca: the CA's key; the server then issues certificates for join tokens
                             (ipop token create), with addresses from the token's pool. Must be mode 0600.
  --lease DURATION           with --ca-key: lifetime of issued certificates, e.g. 1h (default: the token's)
  --crl PATH                 with --ca: the revocation list file, read at start and rewritten when a newer
                             list is published (default: kept in memory only)

TURN (see docs/nat.md):
  --turn-url URL             a TURN server (turn:HOST:3478) to hand every member with its welcome, with
                             coturn REST credentials (coturn: use-auth-secret), and STUN on the same address
  --turn-secret-file PATH    coturn's static-auth-secret, on one line, mode 0600; never on the command line
  --turn-ttl DURATION        lifetime of the credentials (default 1d); fresh ones are sent halfway through

State (see docs/signaling.md, "Scaling"):
  --state-dir DIR            keep address leases and revocation lists in DIR/signal-state.json (written
                             atomically), so a restart loses none. Without it they are kept in memory:
                             after a restart, nodes that rejoin or renew take theirs up again.
  --redis URL                redis://HOST:PORT (or a unix socket path): share members, leases, revocation
                             lists and relayed messages with every ipop-signal on the same Redis, so
                             several instances serve one network (agents: --signal URL1,URL2)

  --config FILE              every option above from a JSON file (docs/config.md); flags override it
  -h, --help                 show this help

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 if the server cannot start, 2 for bad arguments.
`;

/**
 * The config file's keys and the flags they stand for. A flag on the command line wins over its
 * key in the file.
 */
const FLAGS = {
  listen: "listen",
  maxMembers: "max-members",
  welcomeMembers: "welcome-members",
  maxConnections: "max-connections",
  rate: "rate",
  maxMessageBytes: "max-message-bytes",
  joinTimeoutMs: "join-timeout-ms",
  logLevel: "log-level",
  ca: "ca",
  caKey: "ca-key",
  lease: "lease",
  crl: "crl",
  tlsCert: "tls-cert",
  tlsKey: "tls-key",
  console: "console",
  turnUrl: "turn-url",
  turnSecretFile: "turn-secret-file",
  turnTtl: "turn-ttl",
  stateDir: "state-dir",
  redis: "redis",
} as const;
type SettingKey = keyof typeof FLAGS;
const KEYS = Object.keys(FLAGS) as SettingKey[];
/** Settings that name files: relative paths in a config file are relative to the file's directory. */
const PATH_KEYS = ["ca", "caKey", "crl", "tlsCert", "tlsKey", "turnSecretFile", "stateDir"] as const;
const NUMERIC_KEYS: ReadonlySet<SettingKey> = new Set([
  "maxMembers",
  "welcomeMembers",
  "maxConnections",
  "rate",
  "maxMessageBytes",
  "joinTimeoutMs",
]);
/** Values never repeated in a message: a key pasted where its path belongs. */
const QUIET_KEYS: ReadonlySet<string> = new Set(["caKey", "tlsKey", "turnSecretFile", "turnUrl"]);

function limitSchema(key: keyof SignalServerLimits) {
  const expected = limitExpectation(key);
  return v.pipe(
    v.number(expected),
    v.check((value) => isLimitValue(key, value), expected),
  );
}

/** A schema for text that `read` turns into a value, or refuses by saying what was expected. */
function readSchema<T>(expected: string, read: (text: string) => T | Refusal) {
  return v.pipe(
    v.string(expected),
    v.rawTransform<string, T>(({ dataset, addIssue, NEVER }) => {
      const value = read(dataset.value);
      if (!(value instanceof Refusal)) return value;
      addIssue({ message: value.expected });
      return NEVER;
    }),
  );
}

/** What a value should have been, from a reader that refused it. */
class Refusal {
  constructor(readonly expected: string) {}
}

const LEASE_EXPECTED = `a duration from ${MIN_LEASE_SECONDS / 60}m to ${MAX_LEASE_SECONDS / 86_400}d, like 1h`;

const REDIS_EXPECTED = "redis://HOST:PORT, rediss://HOST:PORT or the absolute path of a unix socket";

function readRedisUrl(text: string): string | Refusal {
  if (text.startsWith("/")) return text;
  try {
    const { protocol, hostname } = new URL(text);
    if ((protocol === "redis:" || protocol === "rediss:") && hostname !== "") return text;
  } catch {
    // Not a URL: refused below.
  }
  return new Refusal(REDIS_EXPECTED);
}

const LISTEN_EXPECTED = "HOST:PORT, e.g. 127.0.0.1:7700, 0.0.0.0:7700 or [::1]:7700";

/** A TURN URL without user info: credentials are made per member, never written in a URL. */
const TURN_URL = /^turns?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/;
const TURN_URL_EXPECTED = "a turn:HOST:PORT or turns:HOST:PORT URL without credentials, e.g. turn:turn.example:3478";
const TURN_TTL_EXPECTED = "a duration from 1m to 7d, like 1d";

/**
 * What every `ipop-signal` setting may be: the one rule for the config file and the flags. The file
 * is checked against it as it is; flags are first put in the same shape (numbers for numeric flags).
 */
const SETTINGS = v.strictObject({
  listen: v.optional(readSchema(LISTEN_EXPECTED, readListen)),
  maxMembers: v.optional(limitSchema("maxMembers")),
  welcomeMembers: v.optional(limitSchema("welcomeMembers")),
  maxConnections: v.optional(limitSchema("maxConnections")),
  rate: v.optional(limitSchema("messagesPerSecond")),
  maxMessageBytes: v.optional(limitSchema("maxMessageBytes")),
  joinTimeoutMs: v.optional(limitSchema("joinTimeoutMs")),
  logLevel: v.optional(v.picklist(LOG_LEVELS, `one of ${LOG_LEVELS.join(", ")}`)),
  ca: v.optional(filePathSchema()),
  caKey: v.optional(filePathSchema()),
  lease: v.optional(readSchema(LEASE_EXPECTED, readLease)),
  crl: v.optional(filePathSchema()),
  tlsCert: v.optional(filePathSchema()),
  tlsKey: v.optional(filePathSchema()),
  console: v.optional(v.pipe(v.string("a directory, or off"), v.minLength(1, "a directory, or off"))),
  turnUrl: v.optional(
    v.pipe(
      v.string(TURN_URL_EXPECTED),
      v.check((url) => TURN_URL.test(url), TURN_URL_EXPECTED),
    ),
  ),
  turnSecretFile: v.optional(filePathSchema()),
  turnTtl: v.optional(readSchema(TURN_TTL_EXPECTED, readTurnTtl)),
  stateDir: v.optional(filePathSchema()),
  redis: v.optional(readSchema(REDIS_EXPECTED, readRedisUrl)),
});
type Settings = v.InferOutput<typeof SETTINGS>;
const SPEC: SettingsSpec<Settings> = {
  schema: SETTINGS,
  flags: FLAGS,
  pathKeys: PATH_KEYS,
  quiet: QUIET_KEYS,
  unknownKeyHint,
};

/**
 * Parses `ipop-signal`'s arguments (without the node and script paths), and the config file that
 * `--config` names.
 * @throws {@link OptionError} with a message fit to show the user as is; {@link ConfigError} for
 * the config file.
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let values: Record<string, string | boolean | undefined>;
  const options: NonNullable<Parameters<typeof parseArgs>[0]>["options"] = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
  };
  for (const key of KEYS) options[FLAGS[key]] = { type: "string" };
  try {
    values = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values as typeof values;
  } catch (err) {
    throw new OptionError(describeParseArgsError(err));
  }
  if (values.help === true) return { kind: "help" };

  const fromFlags: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = stringValue(values[FLAGS[key]]);
    // A numeric flag's text becomes a number only when it is plainly one; anything else is
    // checked as the text it is, and refused with it.
    if (value !== undefined)
      fromFlags[key] = NUMERIC_KEYS.has(key) && /^\d{1,15}(\.\d{1,15})?$/.test(value) ? Number(value) : value;
  }
  const flagged = check(fromFlags);
  const configPath = stringValue(values.config);
  const s: Settings = { ...(configPath === undefined ? {} : configSettings(SPEC, configPath)), ...flagged };

  const { host, port } = s.listen ?? parseListen(DEFAULT_LISTEN);
  const limits: { -readonly [K in keyof SignalServerLimits]?: number } = {};
  if (s.rate !== undefined) {
    limits.messagesPerSecond = s.rate;
    // The bucket holds two seconds' worth, so a node may answer a burst of offers at once.
    limits.burstMessages = Math.max(1, Math.ceil(s.rate * 2));
  }
  for (const key of ["maxMembers", "welcomeMembers", "maxConnections", "maxMessageBytes", "joinTimeoutMs"] as const) {
    const value = s[key];
    if (value !== undefined) limits[key] = value;
  }
  const authority = parseAuthority(s);
  const tls = parseTls(s);
  const turn = parseTurn(s);
  if (s.redis !== undefined && s.stateDir !== undefined) {
    throw new OptionError("--redis and --state-dir do not go together: with --redis, Redis keeps the state");
  }
  return {
    kind: "run",
    host,
    port,
    limits,
    logLevel: s.logLevel ?? "info",
    ...(authority === undefined ? {} : { authority }),
    ...(tls === undefined ? {} : { tls }),
    ...(s.console === undefined ? {} : { consoleDir: s.console === "off" ? false : s.console }),
    ...(turn === undefined ? {} : { turn }),
    ...(s.stateDir === undefined ? {} : { stateDir: s.stateDir }),
    ...(s.redis === undefined ? {} : { redis: s.redis }),
  };
}

/** TURN needs the URL and the secret; either alone is a mistake. */
function parseTurn(s: Settings): TurnPaths | undefined {
  if (s.turnUrl === undefined && s.turnSecretFile === undefined) {
    if (s.turnTtl !== undefined) throw new OptionError("--turn-ttl needs --turn-url and --turn-secret-file");
    return undefined;
  }
  if (s.turnSecretFile === undefined) {
    throw new OptionError("--turn-url needs --turn-secret-file PATH, coturn's static-auth-secret (mode 0600)");
  }
  if (s.turnUrl === undefined) throw new OptionError("--turn-secret-file needs --turn-url turn:HOST:PORT");
  return { secretFile: s.turnSecretFile, urls: [s.turnUrl], ttlSeconds: s.turnTtl ?? DEFAULT_TURN_TTL_SECONDS };
}

/** TLS needs both files; one without the other is a mistake, not plain WebSocket. */
function parseTls(s: Settings): TlsPaths | undefined {
  if (s.tlsCert === undefined && s.tlsKey === undefined) return undefined;
  if (s.tlsKey === undefined) throw new OptionError("--tls-cert needs --tls-key PATH, the certificate's private key");
  if (s.tlsCert === undefined) throw new OptionError("--tls-key needs --tls-cert PATH, the certificate it goes with");
  return { certPath: s.tlsCert, keyPath: s.tlsKey };
}

/** Checks the flags' settings against {@link SETTINGS}; a problem is an OptionError. */
function check(input: unknown): Settings {
  const result = checkSettings(SPEC, input);
  if (!result.ok) throw new OptionError(result.message);
  return result.value;
}

function unknownKeyHint(key: string): string | undefined {
  const camel = KEYS.find((known) => FLAGS[known] === key);
  return camel === undefined ? undefined : `unknown setting; the config file spells it ${camel}`;
}

function parseAuthority(s: Settings): AuthorityPaths | undefined {
  const { ca: caPath, caKey: caKeyPath, lease, crl: crlPath } = s;
  if (caPath === undefined) {
    const orphan =
      caKeyPath !== undefined ? "--ca-key" : lease !== undefined ? "--lease" : crlPath ? "--crl" : undefined;
    if (orphan !== undefined) throw new OptionError(`${orphan} needs --ca PATH, the CA certificate it goes with`);
    return undefined;
  }
  if (lease !== undefined && caKeyPath === undefined) {
    throw new OptionError("--lease needs --ca-key: only a server with the CA key issues certificates");
  }
  return {
    caPath,
    ...(caKeyPath === undefined ? {} : { caKeyPath }),
    ...(crlPath === undefined ? {} : { crlPath }),
    ...(lease === undefined ? {} : { leaseSeconds: lease }),
  };
}

/**
 * Splits `HOST:PORT`; IPv6 literals go in brackets (`[::1]:7700`).
 * @throws {@link OptionError} when the host is empty or the port is not 0-65535.
 */
export function parseListen(text: string): { host: string; port: number } {
  const listen = readListen(text);
  if (listen instanceof Refusal)
    throw new OptionError(`--listen must be ${listen.expected}, got ${JSON.stringify(text)}`);
  return listen;
}

function readListen(text: string): { host: string; port: number } | Refusal {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]*):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  const host = match?.[1];
  const portText = match?.[2];
  if (host === undefined || portText === undefined || host.length === 0) return new Refusal(LISTEN_EXPECTED);
  const port = Number(portText);
  if (port > 65535) return new Refusal("HOST:PORT with a port from 0 to 65535");
  return { host, port };
}

function readTurnTtl(text: string): number | Refusal {
  const seconds = parseDuration(text);
  if (typeof seconds === "string") return new Refusal(`${TURN_TTL_EXPECTED} (${seconds})`);
  if (seconds < MIN_TURN_TTL_SECONDS || seconds > 7 * 86_400) return new Refusal(TURN_TTL_EXPECTED);
  return seconds;
}

function readLease(text: string): number | Refusal {
  const seconds = parseDuration(text);
  if (typeof seconds === "string") return new Refusal(`${LEASE_EXPECTED} (${seconds})`);
  if (seconds < MIN_LEASE_SECONDS || seconds > MAX_LEASE_SECONDS) return new Refusal(LEASE_EXPECTED);
  return seconds;
}

function stringValue(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function describeParseArgsError(err: unknown): string {
  const message = errorMessage(err);
  switch (errorCode(err)) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      return `unknown option ${option}`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": {
      const arg = /'([^']+)'/.exec(message)?.[1] ?? message;
      return `unexpected argument ${JSON.stringify(arg)} (options take the form --name value)`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return message.replace(/^Option '([^']+)'/, "option $1");
    default:
      return message;
  }
}
