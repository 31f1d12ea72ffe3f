import {
  type JoinCredential,
  type MemberInfo,
  parseServerMessage,
  type ServerMessage,
  SIGNAL_PROTOCOL_VERSION,
  type SignalIceServer,
} from "@ipop/shared";

/** What the page's signaling connection reports (the agent's `SignalingEvents`, in the browser). */
export interface PageSignalingEvents {
  /** Joined (again): `members` are the other current members. */
  onWelcome(members: readonly MemberInfo[]): void;
  onMemberJoined(member: MemberInfo): void;
  onMemberLeft(nodeId: string): void;
  onMessage(from: string, body: unknown): void;
  onRevocations(list: string): void;
  /** STUN/TURN servers the server hands out (TURN with time-limited credentials), the newest ones. */
  onIceServers(servers: readonly SignalIceServer[]): void;
  /** The connection dropped after a join; the client is already trying again. */
  onDown(): void;
  /** The server refused the join for good (address in use, certificate refused or revoked). */
  onRefused(code: string, message: string): void;
}

export interface PageSignalingOptions {
  readonly url: string;
  readonly network: string;
  readonly self: MemberInfo;
  /** A fresh proof of the certificate's key for each join (it is time-limited). */
  readonly credential: () => JoinCredential;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Refusals of a join that retrying cannot fix. */
const FATAL_JOIN_ERRORS = new Set(["address-in-use", "unauthorized", "revoked"]);

/**
 * The page's connection to `ipop-signal` over the browser's WebSocket: the same protocol as the
 * agent's `SignalingClient` (join with a proof of the certificate's key, membership, envelopes),
 * reconnecting with jittered exponential backoff for as long as it is not closed.
 */
export class PageSignaling {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs: number;
  private closed = false;
  private joined = false;
  reconnects = 0;
  invalidMessages = 0;

  constructor(
    private readonly options: PageSignalingOptions,
    private readonly events: PageSignalingEvents,
  ) {
    this.backoffMs = options.initialBackoffMs ?? 250;
  }

  get connected(): boolean {
    return this.joined;
  }

  start(): void {
    this.connect();
  }

  /** Sends an envelope to another member; false when not joined (the core retries later). */
  send(to: string, body: unknown): boolean {
    if (!this.joined || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "send", to, body }));
    return true;
  }

  /** Leaves the network and stops reconnecting. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ v: SIGNAL_PROTOCOL_VERSION, t: "leave" }));
    socket.close(1000, "leaving");
  }

  private connect(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url);
    } catch {
      // A malformed URL never gets better: the caller checked it, so this is a browser refusal.
      this.events.onRefused("bad-url", `cannot open a WebSocket to ${this.options.url}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
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
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        this.invalidMessages++;
        return;
      }
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) {
        this.invalidMessages++;
        return;
      }
      this.dispatch(parsed.value);
    };
    socket.onclose = () => {
      if (this.socket === socket) this.socket = undefined;
      const wasJoined = this.joined;
      this.joined = false;
      if (this.closed) return;
      if (wasJoined) this.events.onDown();
      this.scheduleReconnect();
    };
  }

  private dispatch(message: ServerMessage): void {
    switch (message.t) {
      case "welcome":
        this.joined = true;
        this.backoffMs = this.options.initialBackoffMs ?? 250;
        this.events.onWelcome(message.members);
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
        this.events.onIceServers(message.servers);
        return;
      case "error":
        if (FATAL_JOIN_ERRORS.has(message.code) && !this.joined) {
          this.closed = true;
          this.socket?.close(1000, "refused");
          this.events.onRefused(message.code, message.message);
        }
        return;
      default:
        this.invalidMessages++;
    }
  }

  private scheduleReconnect(): void {
    this.reconnects++;
    const delay = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5_000);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
