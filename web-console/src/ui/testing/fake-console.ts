import { isNetworkName, parseIpv4Address } from "@ipop/shared";
import {
  type ConnectionState,
  type ConsoleApi,
  ConsoleError,
  type ConsoleEvent,
  type JoinRequest,
  type NodeReport,
  type PeerRow,
  type PingOptions,
  type PingReply,
  type SelfInfo,
  type ThroughputOptions,
  type ThroughputResult,
  type TraceHop,
  type TracerouteOptions,
  type UdpProbeOptions,
  type UdpProbeResult,
} from "../../api.js";

/** One agent of the fake overlay. */
export interface FakeAgent {
  readonly name: string;
  readonly ip: string;
  /** Round trip from the page, ms (the fake's pings and traces report it). */
  readonly rttMs: number;
  /** UDP ports that answer; others give port-unreachable. */
  readonly openPorts?: readonly number[];
  /** Answers status requests with a refusal even to operators (an old or locked-down node). */
  readonly refusesStatus?: boolean;
  /** Never answers status requests (the request or its answer is lost); the promise stays pending. */
  readonly silent?: boolean;
  /** The host is gone but still listed: the overlay node next to it answers with ICMP host unreachable. */
  readonly down?: boolean;
}

/** What the fake network looks like; tests change it through the methods below. */
export interface FakeNetwork {
  readonly network: string;
  /** Tokens the fake accepts and the groups they grant; any other token is refused. */
  readonly tokens: Readonly<Record<string, readonly string[]>>;
  readonly agents: readonly FakeAgent[];
  /** Links between agents, as pairs of names (the page links to every agent itself). */
  readonly links: readonly (readonly [string, string])[];
  /** The address the page gets from the pool. */
  readonly poolIp?: string;
}

const DOWN_URL = "ws://signal.invalid";

/**
 * An in-memory ConsoleApi for the UI's own tests: it keeps the interface's promises (validation and
 * error codes, events in order, per-probe callbacks, abort signals) over a scripted network. The real
 * page uses the real peer (src/peer); this double never ships.
 */
export class FakeConsole implements ConsoleApi {
  private current: ConnectionState = "idle";
  private me: SelfInfo | undefined;
  private readonly agents = new Map<string, FakeAgent & { nodeId: string; bytes: number }>();
  private readonly links = new Set<string>();
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private nextNodeId = 1;

  constructor(private readonly net: FakeNetwork) {
    for (const agent of net.agents) this.addAgent(agent, false);
    for (const [a, b] of net.links) this.links.add(linkKey(a, b));
  }

  async join(request: JoinRequest): Promise<SelfInfo> {
    if (this.current === "joined" || this.current === "joining") throw new ConsoleError("bad-input", "already joined");
    if (!isNetworkName(request.network))
      throw new ConsoleError("bad-input", `"${request.network}" is not a network name`);
    this.setState("joining", `joining ${request.network}`);
    await pause(5);
    if (request.signalUrl === DOWN_URL)
      return this.fail("signaling-down", `cannot reach ${DOWN_URL}: connection refused`);
    if (request.network !== this.net.network) {
      return this.fail("unknown-network", `the signaling server has no network "${request.network}"`);
    }
    const groups = this.net.tokens[request.token];
    if (groups === undefined) return this.fail("token-refused", "the token is expired or was already used");
    this.me = {
      nodeId: "console-1",
      name: "console-1",
      ip: this.net.poolIp ?? "10.88.200.1",
      network: request.network,
      groups,
      notAfterMs: Date.now() + 3_600_000,
    };
    this.setState("joined", `joined ${request.network} as ${this.me.ip}`);
    for (const agent of this.agents.values()) this.emit({ kind: "link-up", peer: this.rowFor(agent) });
    return this.me;
  }

  async leave(): Promise<void> {
    this.me = undefined;
    this.setState("left", "left the network");
  }

  self(): SelfInfo | undefined {
    return this.me;
  }

  state(): ConnectionState {
    return this.current;
  }

  members(): readonly { readonly nodeId: string; readonly name: string; readonly ip: string }[] {
    if (!this.me) return [];
    const others = [...this.agents.values()].map(({ nodeId, name, ip }) => ({ nodeId, name, ip }));
    return [{ nodeId: this.me.nodeId, name: this.me.name, ip: this.me.ip }, ...others];
  }

  peers(): readonly PeerRow[] {
    if (!this.me) return [];
    return [...this.agents.values()].map((agent) => this.rowFor(agent));
  }

  async status(ip?: string): Promise<NodeReport> {
    const me = this.requireJoined();
    if (ip === undefined || ip === me.ip) {
      return {
        nodeId: me.nodeId,
        name: me.name,
        ip: me.ip,
        role: "console",
        peers: this.peers(),
        counters: {},
        atMs: Date.now(),
      };
    }
    const agent = this.agentAt(ip);
    await pause(2);
    if (agent.silent) await new Promise<never>(() => {});
    if (!me.groups.includes("ops") || agent.refusesStatus) {
      throw new ConsoleError("refused", `${agent.name} (${ip}) answers status only to members of group "ops"`);
    }
    const peers: PeerRow[] = [this.rowForPage(agent)];
    for (const other of this.agents.values()) {
      if (other !== agent && this.links.has(linkKey(agent.name, other.name))) peers.push(this.rowFor(other));
    }
    return {
      nodeId: agent.nodeId,
      name: agent.name,
      ip,
      role: "agent",
      peers,
      counters: { "drops.no-route": 0 },
      atMs: Date.now(),
    };
  }

  async ping(ip: string, options: PingOptions = {}): Promise<PingReply[]> {
    this.requireJoined();
    const count = options.count ?? 4;
    const size = options.size ?? 56;
    const intervalMs = options.intervalMs ?? 1000;
    if (count < 1 || count > 1000) throw new ConsoleError("bad-input", "count must be 1-1000");
    if (size < 0 || size > 1400) throw new ConsoleError("bad-input", "size must be 0-1400 bytes");
    if (intervalMs < 10) throw new ConsoleError("bad-input", "interval must be at least 10 ms");
    const agent = this.agentAt(ip);
    const replies: PingReply[] = [];
    for (let seq = 1; seq <= count; seq++) {
      if (seq > 1) await pause(intervalMs, options.signal);
      options.signal?.throwIfAborted();
      if (!this.agents.has(agent.ip)) {
        options.onProbe?.({ outcome: "timeout", seq });
        continue;
      }
      if (agent.down) {
        options.onProbe?.({
          outcome: "unreachable",
          seq,
          from: this.neighbourOf(agent).ip,
          detail: "host unreachable",
        });
        continue;
      }
      const reply = { seq, rttMs: agent.rttMs + (seq % 3) * 0.1, ttl: 64 };
      replies.push(reply);
      options.onProbe?.({ outcome: "reply", ...reply });
    }
    return replies;
  }

  async udpProbe(ip: string, port: number, options: UdpProbeOptions = {}): Promise<UdpProbeResult> {
    this.requireJoined();
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new ConsoleError("bad-input", `port ${port} is not 1-65535`);
    const agent = this.agentAt(ip);
    await pause(agent.rttMs, options.signal);
    if (agent.down)
      return {
        outcome: "unreachable",
        rttMs: agent.rttMs,
        from: this.neighbourOf(agent).ip,
        detail: "host unreachable",
      };
    if (agent.openPorts?.includes(port)) return { outcome: "reply", rttMs: agent.rttMs, bytes: 4 };
    return { outcome: "port-unreachable", rttMs: agent.rttMs, from: agent.ip };
  }

  async traceroute(ip: string, options: TracerouteOptions = {}): Promise<TraceHop[]> {
    this.requireJoined();
    const agent = this.agentAt(ip);
    await pause(agent.rttMs, options.signal);
    return [{ hop: 1, name: agent.name, ip: agent.ip, rttMs: agent.rttMs }];
  }

  async throughput(ip: string, options: ThroughputOptions = {}): Promise<ThroughputResult> {
    this.requireJoined();
    const seconds = options.seconds ?? 5;
    if (seconds < 1 || seconds > 30) throw new ConsoleError("bad-input", "seconds must be 1-30");
    const agent = this.agentAt(ip);
    await pause(seconds * 1000, options.signal);
    const bytes = seconds * 12_500_000;
    return { seconds, bytesSent: bytes, bytesReceived: bytes, mbitPerSec: 100, rttMs: agent.rttMs };
  }

  on(listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- what tests do to the fake network ----

  /** A new agent joins (and links to the page, as the real overlay would for a near neighbour). */
  addAgent(agent: FakeAgent, announce = true): void {
    const entry = { ...agent, nodeId: `node-${this.nextNodeId++}`, bytes: 0 };
    this.agents.set(agent.ip, entry);
    if (announce && this.me) this.emit({ kind: "link-up", peer: this.rowFor(entry) });
  }

  /** An agent leaves. */
  removeAgent(ip: string): void {
    const agent = this.agents.get(ip);
    if (!agent) return;
    this.agents.delete(ip);
    if (this.me) this.emit({ kind: "link-down", nodeId: agent.nodeId, name: agent.name, reason: "peer left" });
  }

  /** Traffic flows: every link's counters grow by `bytes`. */
  advanceTraffic(bytes: number): void {
    for (const agent of this.agents.values()) agent.bytes += bytes;
  }

  /** The signaling connection drops; the page says it is reconnecting. */
  loseSignaling(reason: string): void {
    this.setState("reconnecting", reason);
  }

  /** The signaling connection is back. */
  restoreSignaling(): void {
    this.setState("joined", "signaling connection restored");
  }

  /** A log line, as the peer writes them. */
  log(level: "info" | "warn" | "error", message: string): void {
    this.emit({ kind: "log", level, message });
  }

  /** The signaling URL a test passes to make `join` fail with signaling-down. */
  static readonly unreachableSignalUrl = DOWN_URL;

  // ---- internals ----

  private rowFor(agent: FakeAgent & { nodeId: string; bytes: number }): PeerRow {
    return {
      nodeId: agent.nodeId,
      name: agent.name,
      ip: agent.ip,
      kinds: ["near"],
      path: "host",
      rttMs: agent.rttMs,
      bytesIn: agent.bytes,
      bytesOut: Math.round(agent.bytes / 2),
      packetsIn: Math.ceil(agent.bytes / 1000),
      packetsOut: Math.ceil(agent.bytes / 2000),
      drops: 0,
      upSinceMs: Date.now(),
    };
  }

  /** The page as it appears in an agent's own table. */
  private rowForPage(agent: FakeAgent & { bytes: number }): PeerRow {
    const me = this.requireJoined();
    return { ...this.rowFor({ ...agent, nodeId: me.nodeId }), name: me.name, ip: me.ip, kinds: ["on-demand"] };
  }

  /** Another agent, which plays the router that reports a down host as unreachable. */
  private neighbourOf(agent: FakeAgent): FakeAgent {
    return [...this.agents.values()].find((other) => other.ip !== agent.ip) ?? agent;
  }

  private agentAt(ip: string): FakeAgent & { nodeId: string; bytes: number } {
    if (parseIpv4Address(ip) === null) throw new ConsoleError("bad-input", `"${ip}" is not an IPv4 address`);
    const agent = this.agents.get(ip);
    if (!agent) throw new ConsoleError("unreachable", `${ip}: host unreachable (no route in the overlay)`);
    return agent;
  }

  private requireJoined(): SelfInfo {
    if (!this.me || this.current !== "joined") throw new ConsoleError("not-joined", "join a network first");
    return this.me;
  }

  private fail(code: "signaling-down" | "unknown-network" | "token-refused", message: string): never {
    this.setState("failed", message);
    throw new ConsoleError(code, message);
  }

  private setState(state: ConnectionState, message: string): void {
    this.current = state;
    this.emit({ kind: "state", state, message });
  }

  private emit(event: ConsoleEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
