import { decodeBase64, encodeBase64 } from "./identity/base64.js";
import { type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";

/**
 * The two envelopes of a relayed session's handshake (relays.ts), each sealed by its sender's
 * certified node key and addressed to the other end, so the relay that carries them can neither
 * read a secret from them nor forge one:
 * - `hello`: the initiator's member record and ephemeral X25519 public key;
 * - `accept`: the responder's, for the same `session`.
 */
export interface RelayEnvelope {
  readonly v: 1;
  readonly kind: "hello" | "accept";
  /** `<initiator node id>.<counter>`: names one handshake, so a late accept of an earlier one is ignored. */
  readonly session: string;
  readonly from: MemberInfo;
  /** The sender's ephemeral X25519 public key, 32 bytes. */
  readonly key: Uint8Array;
}

const SESSION = /^[A-Za-z0-9_-]{1,64}\.\d{1,15}$/;

/** The JSON form that travels sealed. */
export function relayEnvelopeBody(envelope: RelayEnvelope): unknown {
  return { ...envelope, key: encodeBase64(envelope.key) };
}

/** Validates an opened relay envelope; returns it or why it was refused. */
export function parseRelayEnvelope(body: unknown): RelayEnvelope | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "not-object";
  const e = body as Record<string, unknown>;
  if (e.v !== 1) return "bad-version";
  if (e.kind !== "hello" && e.kind !== "accept") return "bad-kind";
  if (typeof e.session !== "string" || !SESSION.test(e.session)) return "bad-session";
  const from = parseMemberInfo(e.from);
  if (typeof from === "string") return "bad-member";
  const key = typeof e.key === "string" ? decodeBase64(e.key) : null;
  if (key === null || key.length !== 32) return "bad-key";
  return { v: 1, kind: e.kind, session: e.session, from, key };
}
