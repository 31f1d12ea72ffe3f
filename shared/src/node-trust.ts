import type { IdentityFailure } from "./errors.js";
import type { OpenMode } from "./identity/envelope-guard.js";

/** The sender of an envelope, as its certificate vouches for it. */
export interface Sender {
  readonly from: string;
  readonly name: string;
  /** Whether the sender's certificate entitles it to the virtual address `ip`. */
  readonly owns: (ip: number) => boolean;
  /** When the sender's certificate expires, wall-clock milliseconds (Infinity: never). */
  readonly notAfterMs: number;
  /** The groups the sender's certificate grants it (the operator group lets it read status). */
  readonly groups: readonly string[];
}

/** An envelope whose seal held: its sender and the link envelope, still to be parsed. */
export interface OpenedEnvelope extends Sender {
  readonly envelope: unknown;
}

/** What a node did with a revocation list it was offered. */
export type RevocationVerdict = "newer" | "known" | IdentityFailure;

/**
 * The core's view of trust: how link envelopes are sealed and checked, and which nodes are revoked.
 * In the agent and the console this is `NetworkTrust` (identity/network-trust.ts): the
 * certificate-backed {@link EnvelopeGuard} with the network's revocation list; simulations of routing
 * alone use the unsigned one in `@ipop/shared/testing`. The core passes the time of the event it is
 * handling: a trust reads no clock.
 *
 * Contract: never throws on input from the network; `open` refuses with a stable code.
 */
export interface NodeTrust {
  /** Seals `envelope` for node `to` at wall-clock time `wallMs` (milliseconds since the Unix epoch). */
  seal(wallMs: number, to: string, envelope: unknown): unknown;
  /** Checks a sealed envelope at wall-clock time `wallMs`: certificate validity, seal freshness. */
  open(
    wallMs: number,
    raw: unknown,
    mode: OpenMode,
  ): { readonly ok: true; readonly value: OpenedEnvelope } | IdentityFailure;
  isRevoked(nodeId: string, name: string): boolean;
  /** The current revocation list as text, to pass to peers; null when there is none. */
  revocationList(): string | null;
  /** A revocation list from a peer or the signaling server: "newer" when it was adopted. */
  offerRevocationList(text: string): RevocationVerdict;
}

/** A refusal code as a drop reason: `IPOP_CERT_WRONG_CA` becomes `cert-wrong-ca`. */
export function refusalReason(failure: IdentityFailure): string {
  return failure.code
    .replace(/^IPOP_/, "")
    .toLowerCase()
    .replaceAll("_", "-");
}
