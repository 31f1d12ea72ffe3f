/**
 * Starting the real signaling server and agents inside a lab, and reading their state through
 * `ipop status --json`. This is the agent CLI contract the lab tests hold the agent to:
 *
 * - `node signaling/dist/cli.js --listen 0.0.0.0:PORT` prints `listening on ws://HOST:PORT` on stdout.
 * - `node node-agent/dist/cli.js up --signal URL --ca CA --cert CRT --key KEY --network NAME
 *   --ip 10.88.0.N/16 [--dev] [--webrtc ndc|werift|wrtc]` runs in the foreground, logs JSON lines to
 *   stderr, and exits 0 on SIGINT/SIGTERM after removing its TUN device.
 * - `node node-agent/dist/cli.js status --json [--dev]`, run in the agent's namespace, prints one
 *   {@link AgentStatus}; it exits non-zero when no agent runs.
 * - `node node-agent/dist/cli.js route IP --json [--dev]` prints one {@link RouteResult}; it exits 1 when
 *   the trace is incomplete or nobody owns IP (still printing the JSON).
 */
import { LabError } from "../errors.js";
import { launcherCommand } from "./launcher.js";
import type { Lab } from "./netns.js";
import { AGENT_CLI, requireBuilt, SIGNAL_CLI } from "./paths.js";
import { type CredentialFiles, LabPki } from "./pki.js";
import type { ExitInfo, LabProcess } from "./process.js";
import { type AgentStatus, parseAgentStatus } from "./status.js";

/** First three octets of the virtual addresses the lab hands out: host hN gets 10.88.0.N. */
export const VIRTUAL_PREFIX = "10.88.0";
/** Prefix length of the virtual network. */
export const VIRTUAL_PREFIX_LEN = 16;
/** Port the signaling server listens on inside its namespace. */
export const SIGNAL_PORT = 7070;

/** WebRTC implementations the agent can use. */
export type WebRtcBackend = "ndc" | "werift" | "wrtc";

/** A running signaling server. */
export interface SignalingServer {
  proc: LabProcess;
  /** URL the agents use, on the signaling namespace's underlay address. */
  url: string;
}

/** Options of {@link startAgent}. */
export interface AgentOptions {
  signalUrl: string;
  network: string;
  /** Virtual IPv4 address, without prefix length. */
  ip: string;
  /** The node's certificate files; its name is the certificate's. */
  credentials: CredentialFiles;
  dev?: string;
  webrtc?: WebRtcBackend;
  /** More CLI arguments, appended. */
  extraArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** A running agent. */
export interface Agent {
  host: string;
  options: AgentOptions;
  proc: LabProcess;
}

/** A signaling server plus one agent per lab host. */
export interface Overlay {
  signaling: SignalingServer;
  agents: Agent[];
  /** The network's CA and every agent's certificate. */
  pki: LabPki;
}

/** Options of {@link startOverlay}. */
export interface OverlayOptions {
  network?: string;
  webrtc?: WebRtcBackend;
  /** Per-host backends, overriding `webrtc` for the hosts named (e.g. an ndc agent talking to a wrtc one). */
  webrtcByHost?: Readonly<Record<string, WebRtcBackend>>;
  /** Hosts that get an agent; default all of the lab's hosts. */
  hosts?: readonly string[];
  /** Extra `ipop-signal` arguments, e.g. `["--welcome-members", "4"]`. */
  signalArgs?: readonly string[];
  /** Extra `ipop up` arguments for every agent, e.g. `["--ice-server", "stun:IP:3478"]`. */
  agentArgs?: readonly string[];
  /** Extra environment variables per host (e.g. `{ h2: { IPOP_NDC_TRACK: "0" } }`). */
  envByHost?: Readonly<Record<string, NodeJS.ProcessEnv>>;
}

/** The overlay path `ipop route IP --json` reports. */
export interface RouteResult {
  ip: string;
  /** Nodes the trace passed, starting with the tracing node; hops = path.length - 1. */
  path: { name: string; ip: string }[];
  /** The last node of the path owns `ip`. */
  owner: boolean;
  /** The trace came back in time. */
  complete: boolean;
}

/** Options of the status helpers. */
export interface StatusOptions {
  dev?: string;
  /** The agent's process: when it has exited, waiting stops early with its output in the error. */
  proc?: LabProcess;
}

/** The virtual IP the lab gives `host` (h3 -> 10.88.0.3). */
export function virtualIp(lab: Lab, host: string): string {
  const i = lab.hosts.indexOf(host);
  if (i < 0) throw new LabError("LAB_UNKNOWN_HOST", `${host} is not an agent host of this lab`);
  return `${VIRTUAL_PREFIX}.${i + 1}`;
}

/**
 * Starts the signaling server in the lab's signaling namespace and waits until it listens.
 * `extraArgs` go to `ipop-signal` (e.g. `--ca`, `--ca-key`).
 */
export async function startSignaling(
  lab: Lab,
  extraArgs: readonly string[] = [],
  timeoutMs = 20_000,
): Promise<SignalingServer> {
  const host = lab.signalHost;
  if (!host) throw new LabError("LAB_UNKNOWN_HOST", "this lab was created without a signaling namespace");
  const argv = [process.execPath, requireBuilt(SIGNAL_CLI), "--listen", `0.0.0.0:${SIGNAL_PORT}`, ...extraArgs];
  const proc = lab.spawn(host, argv, { label: "signaling" });
  const m = await proc.waitForLine(/listening on ws:\/\/\S+:(\d+)/, { timeoutMs });
  return { proc, url: `ws://${lab.underlayIp(host)}:${m[1]}` };
}

/** The `ipop up` argv for `options`. */
export function agentArgv(options: AgentOptions): string[] {
  const cli = requireBuilt(AGENT_CLI);
  const argv = [
    ...launcherCommand(cli),
    cli,
    "up",
    "--signal",
    options.signalUrl,
    "--ca",
    options.credentials.ca,
    "--cert",
    options.credentials.cert,
    "--key",
    options.credentials.key,
    "--network",
    options.network,
  ];
  argv.push("--ip", `${options.ip}/${VIRTUAL_PREFIX_LEN}`);
  if (options.dev) argv.push("--dev", options.dev);
  if (options.webrtc) argv.push("--webrtc", options.webrtc);
  return [...argv, ...(options.extraArgs ?? [])];
}

/** Starts `ipop up` in `host`'s namespace. Returns at once; use {@link waitForPeersUp} to wait for links. */
export function startAgent(lab: Lab, host: string, options: AgentOptions): Agent {
  const proc = lab.spawn(host, agentArgv(options), {
    label: `${host} agent`,
    ...(options.env ? { env: options.env } : {}),
  });
  return { host, options, proc };
}

/** The certificate files of `host` (name hN, ip 10.88.0.N), signed on first use. */
export function hostCredentials(lab: Lab, pki: LabPki, host: string): Promise<CredentialFiles> {
  return pki.credentials(host, `${virtualIp(lab, host)}/${VIRTUAL_PREFIX_LEN}`);
}

/**
 * Makes the network's certificates, then starts a signaling server and an agent on each host
 * (hN: name hN, ip 10.88.0.N).
 */
export async function startOverlay(lab: Lab, options: OverlayOptions = {}): Promise<Overlay> {
  requireBuilt(AGENT_CLI); // fail before starting anything
  const network = options.network ?? "lab";
  const pki = await LabPki.create(network);
  try {
    const hosts = options.hosts ?? lab.hosts;
    const credentials = await Promise.all(hosts.map((host) => hostCredentials(lab, pki, host)));
    const signaling = await startSignaling(lab, options.signalArgs);
    const agents = hosts.map((host, i) => {
      const webrtc = options.webrtcByHost?.[host] ?? options.webrtc;
      return startAgent(lab, host, {
        signalUrl: signaling.url,
        network,
        ip: virtualIp(lab, host),
        credentials: credentials[i]!,
        ...(webrtc ? { webrtc } : {}),
        ...(options.agentArgs ? { extraArgs: options.agentArgs } : {}),
        ...(options.envByHost?.[host] ? { env: options.envByHost[host] } : {}),
      });
    });
    return { signaling, agents, pki };
  } catch (error) {
    pki.remove();
    throw error;
  }
}

/** SIGTERMs every agent, then the signaling server; resolves with each agent's exit, by host. */
export async function stopOverlay(overlay: Overlay, timeoutMs = 10_000): Promise<Map<string, ExitInfo>> {
  const exits = await Promise.all(overlay.agents.map((a) => a.proc.stop("SIGTERM", timeoutMs)));
  await overlay.signaling.proc.stop("SIGTERM", timeoutMs);
  overlay.pki.remove();
  return new Map(overlay.agents.map((a, i) => [a.host, exits[i]!]));
}

/** Where the agents keep their control sockets (node-agent/src/control/socket-path.ts). */
export const CONTROL_DIR = "/run/ipop";

/**
 * The path of the control socket an agent on `dev` in `host`'s namespace listens on:
 * `/run/ipop/<netns inode>-<dev>.sock`. An agent removes it when it stops; one that was SIGKILLed
 * leaves it behind for whoever killed it to remove.
 */
export async function controlSocketFile(lab: Lab, host: string, dev = "ipop0"): Promise<string> {
  const r = await lab.execOk(host, ["stat", "-L", "-c", "%i", "/proc/self/ns/net"]);
  return `${CONTROL_DIR}/${r.stdout.trim()}-${dev}.sock`;
}

/**
 * Runs `ipop status --json` in `host`'s namespace.
 * @throws LabError AGENT_STATUS_FAILED when it exits non-zero or prints something off-contract
 */
export async function agentStatus(lab: Lab, host: string, options: StatusOptions = {}): Promise<AgentStatus> {
  const argv = [
    process.execPath,
    requireBuilt(AGENT_CLI),
    "status",
    "--json",
    ...(options.dev ? ["--dev", options.dev] : []),
  ];
  const r = await lab.exec(host, argv, { timeoutMs: 15_000 });
  if (r.code !== 0) {
    const why = (r.stderr.trim() || r.stdout.trim()).slice(0, 500);
    throw new LabError("AGENT_STATUS_FAILED", `ipop status in ${host} exited ${r.code ?? r.signal}: ${why}`);
  }
  return parseAgentStatus(r.stdout);
}

/**
 * Runs `ipop route IP --json` in `host`'s namespace.
 * @throws LabError AGENT_ROUTE_FAILED when it prints no route JSON (no agent, bad address)
 */
export async function agentRoute(
  lab: Lab,
  host: string,
  ip: string,
  options: StatusOptions = {},
): Promise<RouteResult> {
  const argv = [
    process.execPath,
    requireBuilt(AGENT_CLI),
    "route",
    ip,
    "--json",
    ...(options.dev ? ["--dev", options.dev] : []),
  ];
  const r = await lab.exec(host, argv, { timeoutMs: 20_000 });
  const fail = (why: string) =>
    new LabError("AGENT_ROUTE_FAILED", `ipop route ${ip} in ${host} exited ${r.code ?? r.signal}: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(r.stdout);
  } catch {
    throw fail((r.stderr.trim() || r.stdout.trim()).slice(0, 500));
  }
  const v = value as Partial<RouteResult> | null;
  const pathOk =
    Array.isArray(v?.path) && v.path.every((m) => typeof m?.name === "string" && typeof m?.ip === "string");
  if (typeof v?.ip !== "string" || !pathOk || typeof v.owner !== "boolean" || typeof v.complete !== "boolean") {
    throw fail(`output off-contract: ${r.stdout.slice(0, 300)}`);
  }
  return v as RouteResult;
}

/**
 * Polls `ipop status` in `host` until a peer with each of `expectedIps` is "up" and signaling is connected.
 * @returns the status that satisfied the wait
 * @throws LabError LAB_TIMEOUT with the last status or error, or LAB_PROCESS_EXITED if the agent died
 */
export async function waitForPeersUp(
  lab: Lab,
  host: string,
  expectedIps: readonly string[],
  timeoutMs: number,
  options: StatusOptions = {},
): Promise<AgentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = "no status yet";
  for (;;) {
    if (options.proc?.exitInfo) {
      const e = options.proc.exitInfo;
      throw new LabError(
        "LAB_PROCESS_EXITED",
        `${host} agent exited (${e.code ?? e.signal}) while waiting for peers; output:\n${options.proc.tail()}`,
      );
    }
    if (lab.destroyed) throw new LabError("LAB_DESTROYED", `lab destroyed while waiting for ${host}'s peers`);
    try {
      const status = await agentStatus(lab, host, options);
      const up = new Set(status.peers.filter((p) => p.state === "up").map((p) => p.ip));
      if (status.signaling.state === "connected" && expectedIps.every((ip) => up.has(ip))) return status;
      last = `signaling ${status.signaling.state}; peers ${summarizePeers(status)}`;
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      last = e.message;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const tail = options.proc ? `\nagent output:\n${options.proc.tail()}` : "";
  throw new LabError(
    "LAB_TIMEOUT",
    `${host}: peers [${expectedIps.join(", ")}] not all up within ${timeoutMs} ms; last: ${last}${tail}`,
  );
}

/** Waits until every agent of `overlay` sees all the others up. */
export async function waitForOverlayUp(lab: Lab, overlay: Overlay, timeoutMs: number): Promise<AgentStatus[]> {
  const ips = overlay.agents.map((a) => a.options.ip);
  return Promise.all(
    overlay.agents.map((a) =>
      waitForPeersUp(
        lab,
        a.host,
        ips.filter((ip) => ip !== a.options.ip),
        timeoutMs,
        { proc: a.proc, ...(a.options.dev ? { dev: a.options.dev } : {}) },
      ),
    ),
  );
}

/** "h2 10.88.0.2 up, h3 10.88.0.3 connecting" */
function summarizePeers(status: AgentStatus): string {
  return status.peers.map((p) => `${p.name} ${p.ip} ${p.state}`).join(", ") || "none";
}
