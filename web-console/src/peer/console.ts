import type { IceServer } from "@ipop/agent/link";
import { formatIpv4Address, type NodeEvent, parseStatusReport, type StatusPeerRow } from "@ipop/shared";
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
  type UdpProbeOptions,
  type UdpProbeResult,
} from "../api.js";
import { enrollPage, renewPage } from "./enroll.js";
import { checkCount, checkIp, checkNetwork, checkPort, readJoinLink, signalUrlFor } from "./inputs.js";
import { PagePeer } from "./page-peer.js";
import { peerRowOf } from "./peer-row.js";
import { overlayTrace } from "./trace.js";
import { ping, throughput, udpProbe } from "./traffic.js";

/** How long a join waits for the signaling server's welcome after enrolling. */
const WELCOME_TIMEOUT_MS = 15_000;
const STATUS_TIMEOUT_MS = 5_000;
/** How often the page refreshes its links' candidate-pair types for `peers()`. */
const PATH_REFRESH_MS = 2_000;

export interface ConsoleOptions {
  /**
   * STUN/TURN servers for the page's links, besides those the signaling server hands out
   * (`ipop-signal --turn-url`, with time-limited credentials).
   */
  readonly iceServers?: readonly IceServer[];
}

/**
 * Creates the page's overlay member, `window.ipop`: it joins with a token (enrolling for a
 * certificate as `ipop up --token-file` does), links to agents over RTCPeerConnection, and answers
 * and sends traffic through its virtual host.
 */
export function createConsole(options: ConsoleOptions = {}): ConsoleApi {
  return new PageConsole(options.iceServers ?? []);
}

class PageConsole implements ConsoleApi {
  private peer: PagePeer | undefined;
  private info: SelfInfo | undefined;
  private current: ConnectionState = "idle";
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private readonly paths = new Map<string, StatusPeerRow["path"]>();
  private refresher: ReturnType<typeof setInterval> | undefined;
  private renewal: ReturnType<typeof setTimeout> | undefined;
  private welcomed: ((error?: ConsoleError) => void) | undefined;

  constructor(private readonly iceServers: readonly IceServer[]) {
    // A tab closes at any moment: tell the peers, so the ring repairs at once rather than on timeout.
    if (typeof addEventListener === "function") addEventListener("pagehide", () => this.peer?.stop());
  }

  async join(request: JoinRequest): Promise<SelfInfo> {
    if (this.current === "joining" || this.current === "joined" || this.current === "reconnecting")
      throw new ConsoleError("bad-input", "this page is already in a network; leave it first");
    const network = checkNetwork(request?.network);
    const token = typeof request.token === "string" ? request.token.trim() : "";
    if (token === "") throw new ConsoleError("bad-input", "a join token is needed (ipop token create --groups ops)");
    const url = signalUrlFor(request.signalUrl);
    this.setState("joining", `joining ${network} through ${url}`);
    try {
      const seed = crypto.getRandomValues(new Uint8Array(32));
      const suffix = Array.from(crypto.getRandomValues(new Uint8Array(2)), (b) => b.toString(16).padStart(2, "0"));
      const issued = await enrollPage(url, network, token, `console-${suffix.join("")}`, seed);
      if (issued.cert.address === undefined)
        throw new ConsoleError("token-refused", "the issued certificate has no address; the token needs a pool");
      forgetTokenInAddressBar();
      const peer = new PagePeer({ ...issued, seed }, url, this.iceServers, {
        onEvent: (event) => this.nodeEvent(event),
        onSignaling: (up) => this.signaling(up),
        onRefused: (code, message) => this.refused(code, message),
      });
      this.peer = peer;
      const welcomed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new ConsoleError("signaling-down", `no welcome from ${url} within 15 s`)),
          WELCOME_TIMEOUT_MS,
        );
        this.welcomed = (error) => {
          clearTimeout(timer);
          this.welcomed = undefined;
          if (error === undefined) resolve();
          else reject(error);
        };
      });
      peer.start();
      await welcomed;
      const { cert } = issued;
      this.info = {
        nodeId: peer.self.nodeId,
        name: cert.name,
        ip: peer.self.ip,
        network,
        groups: cert.groups,
        notAfterMs: cert.notAfter * 1000,
      };
      this.refresher = setInterval(() => void this.refreshPaths(), PATH_REFRESH_MS);
      this.scheduleRenewal(url, { ...issued }, seed);
      this.setState("joined", `joined ${network} as ${cert.name} (${peer.self.ip})`);
      return this.info;
    } catch (error) {
      this.peer?.stop();
      this.peer = undefined;
      const failure =
        error instanceof ConsoleError ? error : new ConsoleError("signaling-down", `joining failed: ${String(error)}`);
      this.setState("failed", failure.message);
      throw failure;
    }
  }

  async leave(): Promise<void> {
    clearInterval(this.refresher);
    clearTimeout(this.renewal);
    this.peer?.stop();
    this.peer = undefined;
    this.info = undefined;
    this.paths.clear();
    if (this.current !== "idle") this.setState("left", "left the network");
  }

  self(): SelfInfo | undefined {
    return this.info;
  }

  state(): ConnectionState {
    return this.current;
  }

  members(): readonly { readonly nodeId: string; readonly name: string; readonly ip: string }[] {
    return this.peer?.node.knownMembers() ?? [];
  }

  peers(): readonly PeerRow[] {
    const peer = this.peer;
    if (peer === undefined) return [];
    const wall = Date.now();
    return peer.node
      .status(performance.now())
      .links.filter((l) => l.state === "up")
      .map((l) => peerRowOf(l, this.paths.get(l.peer.nodeId) ?? "unknown", wall));
  }

  async status(ip?: string): Promise<NodeReport> {
    const peer = this.joinedPeer();
    if (ip === undefined || ip.trim() === peer.self.ip) return peer.report();
    const address = checkIp(ip);
    const target = peer.node.knownMembers().find((m) => m.ip === formatIpv4Address(address));
    if (target === undefined)
      throw new ConsoleError("unreachable", `no member with address ${ip} is known to this page`);
    let id = -1;
    const answer = await withTimeout(
      peer.request((at) => {
        id = peer.node.askStatus(at, address, target.nodeId);
        return id;
      }, "status-result"),
      STATUS_TIMEOUT_MS,
      () => {
        peer.forget("status-result", id);
        return new ConsoleError("timeout", `${target.name} (${ip}) did not answer the status request within 5 s`);
      },
    );
    if (answer.kind !== "status-result") throw new ConsoleError("timeout", "no status answer");
    if (answer.refused !== undefined) {
      // No node at that address, or no link yet: the request never reached a node that could judge it.
      if (/^no-(route|such-node):/.test(answer.refused))
        throw new ConsoleError("unreachable", `${ip}: ${answer.refused.replace(/^[a-z-]+: /, "")}`);
      throw new ConsoleError("refused", `${target.name} (${ip}) refused the status request: ${answer.refused}`);
    }
    const report = parseStatusReport(answer.report);
    if (typeof report === "string")
      throw new ConsoleError("unreachable", `${target.name} sent a bad report: ${report}`);
    return report;
  }

  ping(ip: string, options: PingOptions = {}): Promise<PingReply[]> {
    return this.guard(() => ping(this.joinedPeer().host, ip, this.otherNode(ip), options ?? {}));
  }

  udpProbe(ip: string, port: number, options: UdpProbeOptions = {}): Promise<UdpProbeResult> {
    return this.guard(() => {
      const address = this.otherNode(ip);
      const checkedPort = checkPort(port);
      const timeoutMs = checkCount("timeoutMs", options?.timeoutMs, 2000, 10, 60_000);
      const raw = options?.payload ?? "ipop udp probe";
      const payload = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
      if (!(payload instanceof Uint8Array) || payload.length > 1372)
        throw new ConsoleError("bad-input", "the payload must be text or bytes, at most 1372 bytes");
      return udpProbe(this.joinedPeer().host, address, checkedPort, payload, timeoutMs);
    });
  }

  traceroute(ip: string, options: { readonly timeoutMs?: number } = {}): Promise<TraceHop[]> {
    return this.guard(() => {
      const address = checkIp(ip);
      const timeoutMs = checkCount("timeoutMs", options?.timeoutMs, 5000, 100, 60_000);
      return overlayTrace(this.joinedPeer(), ip, address, timeoutMs);
    });
  }

  throughput(ip: string, options: ThroughputOptions = {}): Promise<ThroughputResult> {
    return this.guard(() => {
      const peer = this.joinedPeer();
      const address = this.otherNode(ip);
      const seconds = checkCount("seconds", options?.seconds, 5, 1, 30);
      return throughput(peer.host, ip, address, seconds, () => peer.backpressureDrops());
    });
  }

  on(listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- inside ----

  private joinedPeer(): PagePeer {
    if (this.peer === undefined || this.info === undefined)
      throw new ConsoleError("not-joined", "join a network first");
    return this.peer;
  }

  /** The address of another node: probes to the page's own address would never leave it. */
  private otherNode(ip: string): number {
    const address = checkIp(ip);
    if (formatIpv4Address(address) === this.joinedPeer().self.ip)
      throw new ConsoleError("bad-input", `${ip} is this page's own address; pick another node`);
    return address;
  }

  /** Runs an action, turning synchronous throws into rejections. */
  private async guard<T>(action: () => Promise<T>): Promise<T> {
    return action();
  }

  private emit(event: ConsoleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not stop the others or the peer.
      }
    }
  }

  private setState(state: ConnectionState, message: string): void {
    this.current = state;
    this.emit({ kind: "state", state, message });
  }

  private signaling(up: boolean): void {
    if (up) {
      this.welcomed?.();
      if (this.current === "reconnecting") this.setState("joined", "the signaling server is back");
    } else if (this.current === "joined") {
      this.setState("reconnecting", "lost the signaling server; links stay up, reconnecting");
    }
  }

  private refused(code: string, message: string): void {
    const error = new ConsoleError(code === "revoked" ? "token-refused" : "signaling-down", `refused: ${message}`);
    if (this.welcomed !== undefined) return this.welcomed(error);
    this.emit({ kind: "log", level: "error", message: error.message });
    void this.leave().then(() => this.setState("failed", error.message));
  }

  private nodeEvent(event: NodeEvent): void {
    switch (event.kind) {
      case "link-up": {
        const row = this.peers().find((p) => p.nodeId === event.peer.nodeId);
        if (row !== undefined) this.emit({ kind: "link-up", peer: row });
        this.emit({ kind: "log", level: "info", message: `link up to ${event.peer.name} (${event.peer.ip})` });
        void this.refreshPaths();
        return;
      }
      case "link-down":
        this.paths.delete(event.peer.nodeId);
        this.emit({ kind: "link-down", nodeId: event.peer.nodeId, name: event.peer.name, reason: event.reason });
        return;
      case "signal-dropped":
        this.emit({ kind: "log", level: "warn", message: `dropped a link signal from ${event.from}: ${event.reason}` });
        return;
      case "address-conflict":
        this.emit({ kind: "log", level: "warn", message: `address conflict on ${event.ip}: kept ${event.kept}` });
        return;
      case "revocations-updated":
        this.emit({ kind: "log", level: event.self ? "error" : "info", message: "the revocation list changed" });
        return;
      default:
    }
  }

  /**
   * The certificate lives only as long as its address lease: renew it two thirds into its lifetime,
   * as agents do, and retry every 30 s until it expires.
   */
  private scheduleRenewal(url: string, current: Parameters<typeof renewPage>[1], seed: Uint8Array): void {
    const { notBefore, notAfter } = current.cert;
    const at = (notBefore + ((notAfter - notBefore) * 2) / 3) * 1000;
    this.renewal = setTimeout(
      () => {
        const peer = this.peer;
        if (peer === undefined) return;
        renewPage(url, current, seed).then(
          (renewed) => {
            if (this.peer !== peer) return;
            peer.renew(renewed.cert, renewed.certText);
            if (this.info !== undefined) this.info = { ...this.info, notAfterMs: renewed.cert.notAfter * 1000 };
            this.emit({ kind: "log", level: "info", message: "certificate renewed" });
            this.scheduleRenewal(url, renewed, seed);
          },
          (error: unknown) => {
            const expired = Date.now() >= notAfter * 1000;
            this.emit({ kind: "log", level: expired ? "error" : "warn", message: `renewal failed: ${String(error)}` });
            if (!expired && this.peer === peer)
              this.renewal = setTimeout(() => this.scheduleRenewal(url, current, seed), 0);
          },
        );
      },
      Math.max(30_000, at - Date.now()),
    );
  }

  private async refreshPaths(): Promise<void> {
    const report = await this.peer?.report();
    for (const row of report?.peers ?? []) this.paths.set(row.nodeId, row.path);
  }
}

/** A join link's token should not stay in the address bar or the history once used. */
function forgetTokenInAddressBar(): void {
  if (typeof location === "undefined" || readJoinLink() === undefined) return;
  const url = new URL(location.href);
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url);
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => ConsoleError): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
