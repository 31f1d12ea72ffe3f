import {
  errorMessage,
  type JoinCredential,
  type MemberInfo,
  parseServerMessage,
  type ServerLimits,
  type ServerMessage,
  SIGNAL_PROTOCOL_VERSION,
  type SignalIceServer,
} from "@ipop/shared";
import type { Logger } from "pino";
import WebSocket from "ws";
import { describeConnectFailure } from "./signal-tls.js";

export type SignalingState = "connecting" | "connected" | "disconnected";

/** Refusals of a join that retrying cannot fix: the agent stops with the server's message. */
const FATAL_JOIN_ERRORS = new Set(["address-in-use", "unauthorized", "revoked"]);

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
  /** The connection dropped; the client is already trying again. */
  onDown(): void;
  /**
   * The server refused the join for good (another node holds our address, our certificate is not
   * accepted or is revoked); the client stops.
   */
  onRefused(message: string): void;
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
  /** For a `wss://` URL: the CA (PEM) the server's certificate must come from; default, Node's store. */
  readonly ca?: string;
  readonly network: string;
  readonly self: MemberInfo;
  /** A fresh proof that we hold our certificate's key, for each join (it is time-limited). */
  readonly credential: () => JoinCredential;
  readonly logger: Logger;
  /** First reconnect delay; doubles up to `maxBackoffMs`, with jitter so a restarted server is not stampeded. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * How often the client pings the server (default 10 s). A connection from which nothing came
   * back (no pong, ping or message) within one interval is dead and is dropped for a new one: when
   * the host's address changes, the old TCP connection would otherwise hang for many minutes.
   */
  readonly heartbeatMs?: number;
}

/**
 * The agent's connection to `ipop-signal`: joins the network, reports membership and forwards
 * envelopes. Reconnects with exponential backoff for as long as it is not closed; links between
 * nodes do not depend on it once they are up.
 */
export class SignalingClient {
  state: SignalingState = "disconnected";
  reconnects = 0;
  /** Server messages that failed validation (dropped), and server error replies received. */
  invalidMessages = 0;
  errorReplies = 0;
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private backoffMs: number;
  private closed = false;
  private joined = false;
  /** The last certificate failure logged, so a retry loop does not repeat it every few seconds. */
  private lastTlsFailure: string | undefined;

  constructor(
    private readonly options: SignalingClientOptions,
    private readonly events: SignalingEvents,
  ) {
    this.backoffMs = options.initialBackoffMs ?? 250;
    const urls = signalUrls(options.url);
    this.urls = urls.length > 0 ? urls : [options.url];
  }

  /** The server this client is connected or connecting to. */
  get url(): string {
    return this.urls[this.urlIndex]!;
  }

  start(): void {
    this.connect();
  }

  /** Sends an envelope to another member; false when not connected (the core retries later). */
  send(to: string, body: unknown): boolean {
    if (!this.joined || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "send", to, body }));
    return true;
  }

  /** Leaves the network and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const socket = this.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "leave" }));
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1_000);
      socket.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      socket.close(1000, "leaving");
    });
  }

  private connect(): void {
    this.state = "connecting";
    const { ca } = this.options;
    const socket = new WebSocket(this.url, {
      handshakeTimeout: 10_000,
      maxPayload: 256 * 1024,
      ...(ca === undefined ? {} : { ca }),
    });
    this.socket = socket;
    let heard = true;
    const hear = () => {
      heard = true;
    };
    socket.on("pong", hear);
    socket.on("ping", hear);
    socket.on("open", () => {
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        if (!heard) {
          this.options.logger.warn({ url: this.options.url }, "signaling server silent for a heartbeat; reconnecting");
          socket.terminate();
          return;
        }
        heard = false;
        socket.ping();
      }, this.options.heartbeatMs ?? 10_000);
      const join = {
        v: SIGNAL_PROTOCOL_VERSION,
        t: "join",
        network: this.options.network,
        member: this.options.self,
        credential: this.options.credential(),
      };
      socket.send(JSON.stringify(join));
    });
    socket.on("message", (data, isBinary) => {
      heard = true;
      if (isBinary) {
        this.invalidMessages++;
        return;
      }
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) {
        this.invalidMessages++;
        this.options.logger.warn({ code: parsed.code }, "dropped invalid message from signaling server");
        return;
      }
      this.dispatch(parsed.value);
    });
    socket.on("error", (error) => {
      const reason = describeConnectFailure(error, ca !== undefined);
      // A certificate that does not verify will not verify on the next try either: say so loudly,
      // once per distinct reason, while the client keeps trying (the server may be fixed).
      if (reason !== errorMessage(error) && reason !== this.lastTlsFailure) {
        this.lastTlsFailure = reason;
        this.options.logger.error({ url: this.url, reason }, "cannot connect to the signaling server");
      } else {
        this.options.logger.debug({ err: error.message }, "signaling connection error");
      }
    });
    socket.on("close", (code, reason) => {
      if (this.socket === socket) clearInterval(this.heartbeat);
      const wasJoined = this.joined;
      this.joined = false;
      this.state = "disconnected";
      if (this.socket === socket) this.socket = undefined;
      if (wasJoined) {
        this.options.logger.warn(
          { url: this.url, code, reason: reason.toString() },
          "signaling connection lost; links stay up",
        );
        this.events.onDown();
      }
      // With several servers, try the next one: the one that failed may be gone (its members move to the
      // others, which share the network through Redis).
      const lostJoined = wasJoined && this.urls.length > 1;
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      this.scheduleReconnect(lostJoined);
    });
  }

  private dispatch(message: ServerMessage): void {
    switch (message.t) {
      case "welcome":
        this.joined = true;
        this.lastTlsFailure = undefined;
        this.state = "connected";
        this.backoffMs = this.options.initialBackoffMs ?? 250;
        this.options.logger.info({ members: message.members.length }, "joined network through signaling server");
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
        this.options.logger.debug(
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
          this.events.onRefused(message.message);
          return;
        }
        this.errorReplies++;
        this.options.logger.warn({ code: message.code, detail: message.message }, "signaling server refused a message");
        return;
    }
  }

  /** @param failover - a joined connection was lost and another server is there: try it at once (with jitter). */
  private scheduleReconnect(failover = false): void {
    if (this.closed) return;
    this.reconnects++;
    if (failover) this.backoffMs = this.options.initialBackoffMs ?? 250;
    const delay = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 10_000);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
