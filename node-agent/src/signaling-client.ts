/**
 * The connection of a host (the agent, the console page) to `ipop-signal`. It imports nothing of
 * Node or of the DOM: the WebSocket comes from a {@link SignalSocketOpener}, so the page bundles the
 * very client the agent runs (`@ipop/agent/host`).
 */
import {
  type JoinCredential,
  type MemberInfo,
  parseServerMessage,
  type ServerLimits,
  type ServerMessage,
  SIGNAL_PROTOCOL_VERSION,
  type SignalIceServer,
} from "@ipop/shared";
import { type HostLogger, SILENT_LOGGER } from "./host/host-logger.js";
import type { SignalSocket, SignalSocketOpener } from "./host/signal-socket.js";

export type SignalingState = "connecting" | "connected" | "disconnected";

/** Refusals of a join that retrying cannot fix: the host stops with the server's message. */
const FATAL_JOIN_ERRORS = new Set(["address-in-use", "unauthorized", "revoked"]);

/** How long close() waits for the server to end the connection before dropping it. */
const CLOSE_WAIT_MS = 1_000;

export interface SignalingEvents {
  /** Joined (again): `members` are the other current members. */
  onWelcome(members: readonly MemberInfo[], limits: ServerLimits): void;
  onMemberJoined(member: MemberInfo): void;
  onMemberLeft(nodeId: string): void;
  onMessage(from: string, body: unknown): void;
  /** The network's revocation list (armored), after joining and whenever the server gets a newer one. */
  onRevocations(list: string): void;
  /** STUN/TURN servers from the server (`ipop-signal --turn-url`); each call replaces the last. */
  onIceServers(servers: readonly SignalIceServer[]): void;
  /** The connection dropped after a join; the client is already trying again. */
  onDown(): void;
  /**
   * The server refused the join for good (another node holds our address, our certificate is not
   * accepted or is revoked), or the URL cannot be opened at all; the client stops.
   * `code` is the server's error code (`bad-url` for a URL that cannot be opened).
   */
  onRefused(message: string, code: string): void;
}

/**
 * The servers of `--signal`: one URL, or several separated by commas (instances of one network sharing
 * Redis, docs/signaling.md). Empty parts are dropped.
 */
export function signalUrls(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

export interface SignalingClientOptions {
  /**
   * The server's URL, or several separated by commas ({@link signalUrls}): the client starts with the
   * first and moves on to the next whenever a connection fails or is lost, round and round.
   */
  readonly url: string;
  /** Opens the WebSocket: `ws` in the agent (ws-signal-socket.ts), the browser's in the page. */
  readonly openSocket: SignalSocketOpener;
  readonly network: string;
  readonly self: MemberInfo;
  /** A fresh proof that we hold our certificate's key, for each join (it is time-limited). */
  readonly credential: () => JoinCredential;
  /** Default: silent. */
  readonly logger?: HostLogger;
  /** First reconnect delay; doubles up to `maxBackoffMs`, with jitter so a restarted server is not stampeded. */
  readonly initialBackoffMs?: number;
  /** Default 10 s. */
  readonly maxBackoffMs?: number;
  /**
   * How often the client pings the server (default 10 s), where the socket can ping. A connection
   * from which nothing came back (no pong, ping or message) within one interval is dead and is
   * dropped for a new one: when the host's address changes, the old TCP connection would otherwise
   * hang for many minutes.
   */
  readonly heartbeatMs?: number;
}

/**
 * Joins the network, reports membership and forwards envelopes. Reconnects with exponential backoff
 * for as long as it is not closed; links between nodes do not depend on it once they are up.
 */
export class SignalingClient {
  state: SignalingState = "disconnected";
  reconnects = 0;
  /** Server messages that failed validation (dropped), and server error replies received. */
  invalidMessages = 0;
  errorReplies = 0;
  private socket: SignalSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly urls: readonly string[];
  private readonly logger: HostLogger;
  private urlIndex = 0;
  private backoffMs: number;
  private closed = false;
  private joined = false;
  /** Resolves close() once the socket it closed is gone. */
  private onClosed: (() => void) | undefined;
  /** The last lasting failure logged, so a retry loop does not repeat it every few seconds. */
  private lastLastingFailure: string | undefined;

  constructor(
    private readonly options: SignalingClientOptions,
    private readonly events: SignalingEvents,
  ) {
    this.backoffMs = options.initialBackoffMs ?? 250;
    this.logger = options.logger ?? SILENT_LOGGER;
    const urls = signalUrls(options.url);
    this.urls = urls.length > 0 ? urls : [options.url];
  }

  /** The server this client is connected or connecting to. */
  get url(): string {
    return this.urls[this.urlIndex]!;
  }

  /** Joined and able to send. */
  get connected(): boolean {
    return this.joined;
  }

  start(): void {
    this.connect();
  }

  /** Sends an envelope to another member; false when not joined (the core retries later). */
  send(to: string, body: unknown): boolean {
    if (!this.joined || this.socket?.isOpen !== true) return false;
    this.socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "send", to, body }));
    return true;
  }

  /** Leaves the network and stops reconnecting; resolves once the connection is gone. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const socket = this.socket;
    if (socket === undefined) return;
    if (socket.isOpen) socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "leave" }));
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => socket.terminate(), CLOSE_WAIT_MS);
      this.onClosed = () => {
        clearTimeout(force);
        resolve();
      };
      socket.close(1000, "leaving");
    });
  }

  private connect(): void {
    this.state = "connecting";
    // Whether anything came back from this connection since the last heartbeat.
    const liveness = { heard: true };
    let socket: SignalSocket;
    try {
      socket = this.options.openSocket(this.url, {
        onOpen: () => this.joinOn(socket, liveness),
        onText: (text) => {
          liveness.heard = true;
          this.receive(text);
        },
        onInvalid: () => {
          liveness.heard = true;
          this.invalidMessages++;
        },
        onAlive: () => {
          liveness.heard = true;
        },
        onError: (reason, lasting) => this.failed(reason, lasting),
        onClose: (code, reason) => this.lost(socket, code, reason),
      });
    } catch {
      // A URL that cannot be opened never gets better: the host checked it, so this is a refusal.
      this.closed = true;
      this.state = "disconnected";
      this.events.onRefused(`cannot open a WebSocket to ${this.url}`, "bad-url");
      return;
    }
    this.socket = socket;
  }

  /** The socket is open: start the heartbeat (where the socket can ping) and ask to join. */
  private joinOn(socket: SignalSocket, liveness: { heard: boolean }): void {
    clearInterval(this.heartbeat);
    if (socket.ping !== undefined) {
      this.heartbeat = setInterval(() => {
        if (!liveness.heard) {
          this.logger.warn({ url: this.url }, "signaling server silent for a heartbeat; reconnecting");
          socket.terminate();
          return;
        }
        liveness.heard = false;
        socket.ping?.();
      }, this.options.heartbeatMs ?? 10_000);
    }
    const { network, self } = this.options;
    socket.send(
      JSON.stringify({
        v: SIGNAL_PROTOCOL_VERSION,
        t: "join",
        network,
        member: self,
        credential: this.options.credential(),
      }),
    );
  }

  private receive(text: string): void {
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.invalidMessages++;
      this.logger.warn({ code: parsed.code }, "dropped invalid message from signaling server");
      return;
    }
    this.dispatch(parsed.value);
  }

  private failed(reason: string, lasting: boolean): void {
    // A certificate that does not verify will not verify on the next try either: say so loudly,
    // once per distinct reason, while the client keeps trying (the server may be fixed).
    if (lasting && reason !== this.lastLastingFailure) {
      this.lastLastingFailure = reason;
      this.logger.error({ url: this.url, reason }, "cannot connect to the signaling server");
    } else {
      this.logger.debug({ err: reason }, "signaling connection error");
    }
  }

  private lost(socket: SignalSocket, code: number, reason: string): void {
    const current = this.socket === socket;
    if (current) {
      clearInterval(this.heartbeat);
      this.socket = undefined;
    }
    const wasJoined = this.joined;
    this.joined = false;
    this.state = "disconnected";
    if (this.closed) {
      this.onClosed?.();
      return;
    }
    if (wasJoined) {
      this.logger.warn({ url: this.url, code, reason }, "signaling connection lost; links stay up");
      this.events.onDown();
    }
    // With several servers, try the next one: the one that failed may be gone (its members move to the
    // others, which share the network through Redis).
    const lostJoined = wasJoined && this.urls.length > 1;
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.scheduleReconnect(lostJoined);
  }

  private dispatch(message: ServerMessage): void {
    switch (message.t) {
      case "welcome":
        this.joined = true;
        this.lastLastingFailure = undefined;
        this.state = "connected";
        this.backoffMs = this.options.initialBackoffMs ?? 250;
        this.logger.info({ members: message.members.length }, "joined network through signaling server");
        this.events.onWelcome(message.members, message.limits);
        return;
      case "member-joined":
        this.events.onMemberJoined(message.member);
        return;
      case "member-left":
        this.events.onMemberLeft(message.nodeId);
        return;
      case "message":
        this.events.onMessage(message.from, message.body);
        return;
      case "revocations":
        this.events.onRevocations(message.list);
        return;
      case "ice-servers":
        this.logger.debug(
          { servers: message.servers.map((s) => s.urls), expires: message.expires },
          "ICE servers from the signaling server",
        );
        this.events.onIceServers(message.servers);
        return;
      case "enrolled":
      case "published":
        // Answers to requests this client never makes.
        this.invalidMessages++;
        return;
      case "error":
        if (FATAL_JOIN_ERRORS.has(message.code) && !this.joined) {
          this.closed = true;
          this.socket?.close(1000, "refused");
          this.events.onRefused(message.message, message.code);
          return;
        }
        this.errorReplies++;
        this.logger.warn({ code: message.code, detail: message.message }, "signaling server refused a message");
        return;
    }
  }

  /** @param failover - a joined connection was lost and another server is there: try it at once (with jitter). */
  private scheduleReconnect(failover: boolean): void {
    this.reconnects++;
    if (failover) this.backoffMs = this.options.initialBackoffMs ?? 250;
    const delay = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 10_000);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
