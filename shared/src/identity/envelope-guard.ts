/**
 * The node's gatekeeper for link setup: seals what it sends and decides what it accepts. An envelope
 * is used only when its certificate chains to the network's CA, is valid now and not revoked, its
 * signature holds, it is addressed to this node on this network, it is fresh and it was not seen
 * before. Every refusal has a stable code, which the core counts as a drop reason.
 *
 * Certificate checks are cached by certificate text (a node sends the same certificate with every
 * envelope), so a link setup costs one signature check per envelope after the first.
 */

import { type IdentityErrorCode, type IdentityResult, identityFailure } from "../errors.js";
import type { Certificate } from "./certificate.js";
import { prefixContainsAddress } from "./cidr.js";
import { type EnvelopeFields, type SealedEnvelope, sealEnvelope, unsealEnvelope } from "./sealed-envelope.js";
import { certificateSecondsOf } from "./time.js";
import { verifyCertificate } from "./verify.js";

/** How far a sealed envelope's time may be from ours: clocks of members may differ this much. */
export const DEFAULT_MAX_SKEW_MS = 60_000;
/** Signatures remembered to refuse replays; a flood beyond this is refused, not forgotten. */
export const DEFAULT_REPLAY_CAPACITY = 100_000;
const CERT_CACHE_CAPACITY = 4096;

/** A node id names one run of an agent: its certificate's key id, then a random incarnation. */
const NODE_ID = /^([0-9a-f]{32})-([0-9a-f]{8})$/;

/** The node id of one run of the agent holding `cert`; `incarnation` is 8 random hex digits. */
export function nodeIdFor(cert: Certificate, incarnation: string): string {
  const id = `${cert.nodeId}-${incarnation}`;
  if (!NODE_ID.test(id)) throw new RangeError("an incarnation is 8 lowercase hex digits");
  return id;
}

/** The certificate key id inside a node id, or null when the node id is not of that form. */
export function certKeyIdOf(nodeId: string): string | null {
  return NODE_ID.exec(nodeId)?.[1] ?? null;
}

/** Whether `cert` entitles its holder to the virtual address `ip` (its own, or one of its pools). */
export function certificateOwns(cert: Certificate, ip: number): boolean {
  if (cert.address !== undefined) return cert.address.address === ip;
  return cert.poolPrefixes.some((pool) => prefixContainsAddress(pool, ip));
}

export interface EnvelopeGuardConfig {
  readonly network: string;
  /** The network's CA certificate (checked by the caller at start). */
  readonly ca: Certificate;
  /** This node's id ({@link nodeIdFor}), certificate (armored) and private key seed. */
  readonly nodeId: string;
  readonly certText: string;
  readonly seed: Uint8Array;
  readonly maxSkewMs?: number;
  readonly replayCapacity?: number;
}

/** An envelope that passed every check. */
export interface TrustedEnvelope {
  /** The sender's node id (checked against its certificate). */
  readonly from: string;
  /** The sender's member name, from its certificate. */
  readonly name: string;
  /** Whether the sender's certificate entitles it to the virtual address `ip`. */
  readonly owns: (ip: number) => boolean;
  /** When the sender's certificate expires, wall-clock milliseconds. */
  readonly notAfterMs: number;
  /** The sender's groups, from its certificate. */
  readonly groups: readonly string[];
  readonly cert: Certificate;
  /** The link envelope, still to be parsed (link-envelope.ts). */
  readonly envelope: unknown;
}

/**
 * "deliver": the envelope is for this node; all checks, and its signature is remembered.
 * "forward": this node only bounces it back to its sender (the addressee was unreachable); the
 * sender's identity is checked, the addressee and replays are not.
 */
export type OpenMode = "deliver" | "forward";

export class EnvelopeGuard {
  private readonly maxSkewMs: number;
  private readonly replayCapacity: number;
  /** Verified certificates by text, until when the verdict holds (their notAfter, in seconds). */
  private readonly trusted = new Map<string, number>();
  /** Signatures seen, with the wall-clock time after which a replay is refused as stale anyway. */
  private readonly seen = new Map<string, number>();
  private revoked: ReadonlySet<string> = new Set();
  private certText: string;
  private seed: Uint8Array;

  constructor(private readonly config: EnvelopeGuardConfig) {
    this.maxSkewMs = config.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    this.replayCapacity = config.replayCapacity ?? DEFAULT_REPLAY_CAPACITY;
    this.certText = config.certText;
    this.seed = config.seed;
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  /** Switches to a renewed certificate for the same key id (a lease renewal). */
  renew(certText: string, seed: Uint8Array): void {
    this.certText = certText;
    this.seed = seed;
  }

  /** Seals a link envelope for node `to` at wall-clock time `wallMs` (milliseconds since the Unix epoch). */
  seal(wallMs: number, to: string, envelope: unknown): SealedEnvelope {
    const fields: EnvelopeFields = {
      network: this.config.network,
      from: this.config.nodeId,
      to,
      time: Math.floor(wallMs),
      envelope,
    };
    return sealEnvelope(fields, this.certText, this.seed);
  }

  /** Replaces the set of revoked key ids and names; certificates are checked again. */
  setRevoked(revoked: ReadonlySet<string>): void {
    this.revoked = revoked;
    this.trusted.clear();
  }

  /** Whether the node `nodeId` named `name` holds a revoked certificate. */
  isRevoked(nodeId: string, name: string): boolean {
    const keyId = certKeyIdOf(nodeId);
    return (keyId !== null && this.revoked.has(keyId)) || this.revoked.has(name);
  }

  /**
   * Checks a sealed envelope from the network at wall-clock time `wallMs`; see {@link OpenMode}.
   * Never throws.
   */
  open(wallMs: number, raw: unknown, mode: OpenMode = "deliver"): IdentityResult<TrustedEnvelope> {
    const unsealed = unsealEnvelope(raw);
    if (!unsealed.ok) return unsealed;
    const { fields, cert, certText, sig } = unsealed.value;
    const now = wallMs;
    const trust = this.trust(cert, certText, now);
    if (!trust.ok) return trust;
    if (certKeyIdOf(fields.from) !== cert.nodeId) {
      return refuse("IPOP_ENVELOPE_SENDER_MISMATCH", `sender ${fields.from} is not the holder of ${cert.name}'s key`);
    }
    if (fields.network !== this.config.network) {
      return refuse("IPOP_ENVELOPE_MISADDRESSED", `envelope is for network ${fields.network}`);
    }
    if (Math.abs(fields.time - now) > this.maxSkewMs) {
      return refuse(
        "IPOP_ENVELOPE_STALE",
        `envelope from ${cert.name} was sealed ${Math.round((now - fields.time) / 1000)} s from now ` +
          `(more than ${this.maxSkewMs / 1000} s): replayed, or a clock is wrong`,
      );
    }
    if (mode === "deliver") {
      if (fields.to !== this.config.nodeId) return refuse("IPOP_ENVELOPE_MISADDRESSED", "envelope is for another node");
      const replay = this.remember(sig, fields.time, now);
      if (replay !== null) return replay;
    }
    const owns = (ip: number) => certificateOwns(cert, ip);
    const notAfterMs = cert.notAfter * 1000;
    return {
      ok: true,
      value: {
        from: fields.from,
        name: cert.name,
        owns,
        notAfterMs,
        groups: cert.groups,
        cert,
        envelope: fields.envelope,
      },
    };
  }

  private trust(cert: Certificate, certText: string, nowMs: number): IdentityResult<Certificate> {
    const nowSeconds = certificateSecondsOf(nowMs);
    const until = this.trusted.get(certText);
    if (until !== undefined && nowSeconds < until && nowSeconds >= cert.notBefore) return { ok: true, value: cert };
    const verdict = verifyCertificate(cert, {
      ca: this.config.ca,
      nowSeconds,
      network: this.config.network,
      revoked: this.revoked,
    });
    if (!verdict.ok) return verdict;
    if (this.trusted.size >= CERT_CACHE_CAPACITY) this.trusted.clear();
    this.trusted.set(certText, cert.notAfter);
    return verdict;
  }

  private remember(sig: string, time: number, now: number): IdentityResult<never> | null {
    // Entries go in roughly in time order; drop those whose replay would be refused as stale anyway.
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
    if (this.seen.has(sig)) return refuse("IPOP_ENVELOPE_REPLAYED", "envelope was seen before");
    if (this.seen.size >= this.replayCapacity) {
      return refuse("IPOP_ENVELOPE_REPLAYED", "too many envelopes in the replay window; refused rather than forgotten");
    }
    this.seen.set(sig, time + this.maxSkewMs);
    return null;
  }
}

function refuse(code: IdentityErrorCode, message: string): IdentityResult<never> {
  return identityFailure(code, message);
}
