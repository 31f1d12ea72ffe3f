import type { Authority } from "./authority.js";
import type { SignalServerLimits } from "./limits.js";
import type { ClusterAnnouncer, MemberPeer } from "./member-peer.js";
import type { SessionMetrics } from "./metrics.js";
import type { NetworkRegistry } from "./network-registry.js";
import type { Session } from "./session.js";
import type { TurnCredentialIssuer } from "./turn-grants.js";

/** What a session needs from the server that owns it. */
export interface SessionContext {
  readonly limits: SignalServerLimits;
  readonly registry: NetworkRegistry<MemberPeer>;
  /** With `--redis`: tells the other instances of joins and leaves here. */
  readonly cluster?: ClusterAnnouncer;
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch: certificates, tokens and proofs carry wall-clock times. */
  wallNow(): number;
  /** The CA side (`--ca`): present, joins need a credential and enroll, renew and revocations work. */
  readonly authority?: Authority;
  /** True once the server is shutting down: departures are then not announced to the others, who leave too. */
  isShuttingDown(): boolean;
  /** Called exactly once, when the socket has closed, so the server can forget the session. */
  onClosed(session: Session): void;
  /** Counts joins, relayed messages and refusals for `GET /metrics`. */
  readonly metrics: SessionMetrics;
  /** Hands members TURN servers with time-limited credentials (`--turn-url`), when configured. */
  readonly turn?: TurnCredentialIssuer;
}
