import { parseArgs } from "node:util";
import {
  errorCode,
  errorMessage,
  MAX_LEASE_SECONDS,
  MAX_SIGNAL_MESSAGE_BYTES,
  MIN_LEASE_SECONDS,
  parseDuration,
} from "@ipop/shared";
import type { AuthorityPaths } from "./authority-files.js";
import { OptionError } from "./errors.js";
import { checkLimit, DEFAULT_LIMITS, MIN_MESSAGE_BYTES, type SignalServerLimits } from "./limits.js";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./logger.js";

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
    };

/** `ipop-signal --help`. */
export const USAGE = `Usage: ipop-signal [options]

The IPOP signaling server: nodes join a named network over WebSocket, learn its members and relay
connection offers to each other through it. Logs are JSON lines on stderr; stdout gets one line,
"listening on ws://HOST:PORT", once the server is ready.

Options:
  --listen HOST:PORT         address to listen on (default ${DEFAULT_LISTEN}; port 0 picks a free port;
                             IPv6 as [::1]:PORT; 0.0.0.0:PORT for all interfaces)
  --max-members N            members per network (default ${DEFAULT_LIMITS.maxMembers})
  --max-connections N        WebSocket connections in total (default ${DEFAULT_LIMITS.maxConnections})
  --rate N                   messages per second per connection, sustained (default ${DEFAULT_LIMITS.messagesPerSecond};
                             bursts up to twice that many messages are allowed)
  --max-message-bytes N      largest message in bytes, ${MIN_MESSAGE_BYTES} to ${MAX_SIGNAL_MESSAGE_BYTES} (default ${DEFAULT_LIMITS.maxMessageBytes})
  --join-timeout-ms N        close connections that have not joined after N ms (default ${DEFAULT_LIMITS.joinTimeoutMs})
  --log-level LEVEL          ${LOG_LEVELS.join(", ")} (default info)

Certificates (see docs/certificates.md):
  --ca PATH                  the network's CA certificate (ca.crt): only members it certifies may join, and
                             only its network; the server keeps and forwards the revocation list
  --ca-key PATH              with --ca: the CA's key; the server then issues certificates for join tokens
                             (ipop token create), with addresses from the token's pool. Must be mode 0600.
  --lease DURATION           with --ca-key: lifetime of issued certificates, e.g. 1h (default: the token's)
  --crl PATH                 with --ca: the revocation list file, read at start and rewritten when a newer
                             list is published (default: kept in memory only)
  Address leases are kept in memory: after a restart, nodes that rejoin or renew take theirs up again.
  -h, --help                 show this help

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 if the server cannot start, 2 for bad arguments.
`;

/**
 * Parses `ipop-signal`'s arguments (without the node and script paths).
 * @throws {@link OptionError} with a message fit to show the user as is.
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: "string" },
        "max-members": { type: "string" },
        "max-connections": { type: "string" },
        rate: { type: "string" },
        "max-message-bytes": { type: "string" },
        "join-timeout-ms": { type: "string" },
        "log-level": { type: "string" },
        ca: { type: "string" },
        "ca-key": { type: "string" },
        lease: { type: "string" },
        crl: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new OptionError(describeParseArgsError(err));
  }
  if (values.help === true) return { kind: "help" };

  const { host, port } = parseListen(stringValue(values.listen) ?? DEFAULT_LISTEN);
  const limits: { -readonly [K in keyof SignalServerLimits]?: number } = {};
  const rate = stringValue(values.rate);
  if (rate !== undefined) {
    limits.messagesPerSecond = parseNumber("--rate", rate, "messagesPerSecond", false);
    // The bucket holds two seconds' worth, so a node may answer a burst of offers at once.
    limits.burstMessages = Math.max(1, Math.ceil(limits.messagesPerSecond * 2));
  }
  const integerFlags = [
    ["max-members", "maxMembers"],
    ["max-connections", "maxConnections"],
    ["max-message-bytes", "maxMessageBytes"],
    ["join-timeout-ms", "joinTimeoutMs"],
  ] as const;
  for (const [flag, key] of integerFlags) {
    const text = stringValue(values[flag]);
    if (text !== undefined) limits[key] = parseNumber(`--${flag}`, text, key, true);
  }

  const level = stringValue(values["log-level"]) ?? "info";
  if (!isLogLevel(level)) {
    throw new OptionError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
  }
  const authority = parseAuthority(values);
  return { kind: "run", host, port, limits, logLevel: level, ...(authority === undefined ? {} : { authority }) };
}

function parseAuthority(values: Record<string, string | boolean | undefined>): AuthorityPaths | undefined {
  const caPath = stringValue(values.ca);
  const caKeyPath = stringValue(values["ca-key"]);
  const lease = stringValue(values.lease);
  const crlPath = stringValue(values.crl);
  for (const [flag, value] of [
    ["--ca", caPath],
    ["--ca-key", caKeyPath],
    ["--lease", lease],
    ["--crl", crlPath],
  ] as const) {
    if (value === "") throw new OptionError(`${flag} needs a value`);
  }
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
    ...(lease === undefined ? {} : { leaseSeconds: parseLease(lease) }),
  };
}

/**
 * Splits `HOST:PORT`; IPv6 literals go in brackets (`[::1]:7700`).
 * @throws {@link OptionError} when the host is empty or the port is not 0-65535.
 */
export function parseListen(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]*):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  const host = match?.[1];
  const portText = match?.[2];
  if (host === undefined || portText === undefined || host.length === 0) {
    throw new OptionError(
      `--listen must be HOST:PORT, e.g. 127.0.0.1:7700, 0.0.0.0:7700 or [::1]:7700; got ${JSON.stringify(text)}`,
    );
  }
  const port = Number(portText);
  if (port > 65535) throw new OptionError(`--listen port must be 0 to 65535, got ${portText}`);
  return { host, port };
}

function parseNumber(flag: string, text: string, key: keyof SignalServerLimits, integer: boolean): number {
  const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!pattern.test(text)) {
    throw new OptionError(`${flag} must be ${integer ? "a whole number" : "a number"}, got ${JSON.stringify(text)}`);
  }
  const value = Number(text);
  try {
    checkLimit(key, value);
  } catch (err) {
    // Restate the range in terms of the flag the user typed, not the internal limit name.
    const detail = errorMessage(err).replace(`limit ${key}`, flag);
    throw new OptionError(detail);
  }
  return value;
}

function parseLease(text: string): number {
  const seconds = parseDuration(text);
  if (typeof seconds === "string") throw new OptionError(`--lease ${seconds}`);
  if (seconds < MIN_LEASE_SECONDS || seconds > MAX_LEASE_SECONDS) {
    throw new OptionError(
      `--lease must be from ${MIN_LEASE_SECONDS / 60}m to ${MAX_LEASE_SECONDS / 86_400}d, got ${text}`,
    );
  }
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
