import { hostname } from "node:os";
import { parseArgs } from "node:util";
import {
  DEFAULT_LIMITS,
  errorMessage,
  type Ipv4Interface,
  isMemberName,
  isNetworkName,
  MAX_DATA_PAYLOAD_BYTES,
  parseIpv4Address,
  parseIpv4Interface,
} from "@ipop/shared";
import { UsageError } from "./errors.js";
import type { WebRtcBackendName } from "./link/peer-link.js";
import { DEFAULT_PING_COUNT, DEFAULT_PING_INTERVAL_MS, UNTIL_DIRECT_COUNT, UNTIL_DIRECT_INTERVAL_MS } from "./ping.js";

/** MTU bounds: IPv4's minimum reassembly size, and the largest packet a data frame carries. */
const MIN_MTU = 576;
const MAX_MTU = MAX_DATA_PAYLOAD_BYTES;

export const USAGE = `Usage:
  ipop up --signal ws://HOST:PORT --ca ca.crt --cert NAME.crt --key NAME.key [options]   (root)
      --network NAME       the network to join (default: the certificate's; must match it)
      --ip A.B.C.D/N       the virtual address (default: the certificate's; must match it)
      --name NAME          must be the certificate's name, if given
      --crl FILE           the network's revocation list to start with (ipop cert revoke)
  ipop up --signal ws://HOST:PORT --token-file FILE [--name NAME] [options]       (root)
      joins with a token from \`ipop token create\` (or in the environment as IPOP_TOKEN) instead of
      certificate files: the signaling server (ipop-signal --ca-key) issues a short-lived certificate
      with an address from the token's pool, and the agent renews it while it runs; --name defaults
      to this host's name
      --dev DEV            TUN device name (default: ipop0)
      --webrtc BACKEND     ndc (default) | werift | wrtc
      --mtu BYTES          TUN MTU, ${MIN_MTU}-${MAX_MTU} (default: 1400)
      --ice-server URL     STUN/TURN server, repeatable (default: none, host candidates only)
      --max-links N        most links this node opens, 8-1000 (default: 40; ring neighbours always)
      --log-level LEVEL    fatal|error|warn|info|debug|trace (default: info)
  ipop status [IP|NAME] [--json] [--dev DEV]   this agent; with a node, only the link to it
  ipop route IP|NAME [--json] [--dev DEV]      the overlay path a packet to a node takes
  ipop ping IP|NAME [--count N] [--until-direct] [--json] [--dev DEV]
      overlay pings: the path each reply took (direct link or through which nodes) and its RTT;
      ${DEFAULT_PING_COUNT} pings a second apart by default; --until-direct pings 5 a second (at most --count,
      default ${UNTIL_DIRECT_COUNT}) until one goes over a direct link, which that traffic makes the overlay set up
  ipop down [--dev DEV]                   stop the running agent as SIGTERM does (peers told, TUN removed)
  ipop cert ca|sign|print|verify|revoke ...  network certificates (ipop cert --help)
  ipop token create|print ...             join tokens for nodes without a certificate (ipop token --help)
  ipop --help | --version`;

export const DEFAULT_MTU = 1400;
const BACKENDS = ["ndc", "werift", "wrtc"] as const;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
const DEVICE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export interface UpOptions {
  readonly command: "up";
  readonly signal: string;
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
  readonly webrtc: Exclude<WebRtcBackendName, "fake">;
  readonly mtu: number;
  readonly iceServers: readonly string[];
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly maxLinks: number;
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

function parseUp(args: readonly string[], env: NodeJS.ProcessEnv): UpOptions {
  const v = parse(args, {
    signal: { type: "string" },
    ca: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    crl: { type: "string" },
    "token-file": { type: "string" },
    network: { type: "string" },
    ip: { type: "string" },
    name: { type: "string" },
    dev: { type: "string", default: "ipop0" },
    webrtc: { type: "string", default: "ndc" },
    mtu: { type: "string", default: String(DEFAULT_MTU) },
    "ice-server": { type: "string", multiple: true, default: [] },
    "log-level": { type: "string", default: "info" },
    "max-links": { type: "string", default: String(DEFAULT_LIMITS.maxLinks) },
  }) as Record<string, string | string[] | undefined>;
  const signal = required(v.signal, "--signal ws://HOST:PORT");
  let url: URL;
  try {
    url = new URL(signal);
  } catch {
    throw new UsageError(`--signal "${signal}" is not a URL; use ws://HOST:PORT or wss://HOST:PORT`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:")
    throw new UsageError(`--signal must be a ws:// or wss:// URL, not ${url.protocol}`);
  const auth = parseAuth(v, env);
  const network = v.network as string | undefined;
  if (network !== undefined && !isNetworkName(network))
    throw new UsageError(`--network "${network}" must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric`);
  const address = v.ip === undefined ? undefined : parseIpv4Interface(v.ip as string);
  if (typeof address === "string") throw new UsageError(`--ip: ${address}`);
  const name = v.name as string | undefined;
  if (name !== undefined && !isMemberName(name))
    throw new UsageError(`--name "${name}" must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric`);
  const dev = v.dev as string;
  if (!DEVICE_NAME.test(dev)) throw new UsageError(`--dev "${dev}" must be 1-15 characters of [A-Za-z0-9_.-]`);
  const webrtc = v.webrtc as string;
  if (!(BACKENDS as readonly string[]).includes(webrtc))
    throw new UsageError(`--webrtc must be one of ${BACKENDS.join(", ")}`);
  const mtu = /^\d{1,5}$/.test(v.mtu as string) ? Number(v.mtu) : Number.NaN;
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new UsageError(`--mtu must be an integer from ${MIN_MTU} to ${MAX_MTU}`);
  }
  const iceServers = v["ice-server"] as string[];
  for (const server of iceServers) {
    if (!/^(stun|turn|turns):[^\s]+$/.test(server))
      throw new UsageError(`--ice-server "${server}" must be a stun:, turn: or turns: URL`);
  }
  const maxLinks = /^\d{1,4}$/.test(v["max-links"] as string) ? Number(v["max-links"]) : Number.NaN;
  if (!(maxLinks >= 8 && maxLinks <= 1000)) throw new UsageError("--max-links must be an integer from 8 to 1000");
  const logLevel = v["log-level"] as string;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  return {
    command: "up",
    signal,
    auth,
    ...(typeof v.crl === "string" ? { crl: v.crl } : {}),
    ...(network === undefined ? {} : { network }),
    ...(address === undefined ? {} : { address }),
    ...(name === undefined ? {} : { name }),
    dev,
    webrtc: webrtc as UpOptions["webrtc"],
    mtu,
    iceServers,
    logLevel: logLevel as UpOptions["logLevel"],
    maxLinks,
  };
}

function parseAuth(v: Record<string, unknown>, env: NodeJS.ProcessEnv): UpOptions["auth"] {
  const given = ["ca", "cert", "key"].filter((flag) => typeof v[flag] === "string" && v[flag] !== "");
  const tokenFile = v["token-file"] as string | undefined;
  const tokenInEnv = env.IPOP_TOKEN !== undefined && env.IPOP_TOKEN !== "";
  if (tokenFile !== undefined || (tokenInEnv && given.length === 0)) {
    if (given.length > 0) throw new UsageError("use either --ca/--cert/--key or a join token, not both");
    return { kind: "token", file: tokenFile };
  }
  const missing = ["ca", "cert", "key"].filter((flag) => !given.includes(flag));
  if (missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map((f) => `--${f}`).join(", ")}: a node joins only with a certificate. ` +
        "On the machine with the network's CA: `ipop cert sign --name NAME --ip A.B.C.D/N`, then copy " +
        "ca.crt, NAME.crt and NAME.key here and pass --ca ca.crt --cert NAME.crt --key NAME.key; " +
        "or join with a token: --token-file FILE (`ipop token create`)",
    );
  }
  return { kind: "files", ca: v.ca as string, cert: v.cert as string, key: v.key as string };
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

function required(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw new UsageError(`missing ${what}`);
  return value;
}

/** This host's name, cut to a valid member name: the default name of a token-enrolled node. */
export function hostMemberName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 63);
  return name === "" ? "node" : name;
}
