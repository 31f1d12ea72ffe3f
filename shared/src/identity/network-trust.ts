/**
 * A node's trust in its network, as the core consumes it ({@link NodeTrust}): link envelopes sealed
 * and checked by the {@link EnvelopeGuard}, and the network's revocation list, adopted only when its
 * CA signed it and it is newer than the one held.
 */

import type { IdentityFailure } from "../errors.js";
import type { NodeTrust, OpenedEnvelope, RevocationVerdict } from "../node-trust.js";
import { EnvelopeGuard, type EnvelopeGuardConfig, type OpenMode } from "./envelope-guard.js";
import { parseRevocationList, revokedSet, verifyRevocationList } from "./revocation.js";

export class NetworkTrust implements NodeTrust {
  readonly guard: EnvelopeGuard;
  private listText: string | null = null;
  private serial = -1;

  constructor(private readonly config: EnvelopeGuardConfig) {
    this.guard = new EnvelopeGuard(config);
  }

  seal(wallMs: number, to: string, envelope: unknown): unknown {
    return this.guard.seal(wallMs, to, envelope);
  }

  open(wallMs: number, raw: unknown, mode: OpenMode): { ok: true; value: OpenedEnvelope } | IdentityFailure {
    return this.guard.open(wallMs, raw, mode);
  }

  isRevoked(nodeId: string, name: string): boolean {
    return this.guard.isRevoked(nodeId, name);
  }

  revocationList(): string | null {
    return this.listText;
  }

  /** The serial of the list held, -1 when none. */
  get revocationSerial(): number {
    return this.serial;
  }

  offerRevocationList(text: string): RevocationVerdict {
    const parsed = parseRevocationList(text);
    if (!parsed.ok) return parsed;
    const verified = verifyRevocationList(parsed.value, {
      ca: this.config.ca,
      network: this.config.network,
    });
    if (!verified.ok) return verified;
    if (parsed.value.serial <= this.serial) return "known";
    this.serial = parsed.value.serial;
    this.listText = text;
    this.guard.setRevoked(revokedSet(parsed.value));
    return "newer";
  }
}
