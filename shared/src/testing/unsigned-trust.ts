import { identityFailure } from "../errors.js";
import type { OpenMode } from "../identity/envelope-guard.js";
import { parseIpv4Address } from "../ipv4.js";
import type { NodeTrust, OpenedEnvelope, RevocationVerdict } from "../node-trust.js";
import type { MemberInfo } from "../signaling-protocol.js";

/**
 * A {@link NodeTrust} that signs nothing and believes what every envelope says about its sender: for
 * tests and simulations of routing and link management, where certificates are beside the point
 * (and pure-JavaScript Ed25519, about 2 ms per check, would dominate a 10,000-node simulation).
 * It is exactly an unauthenticated network, so nothing outside tests may use it; the agent and the
 * console use the certificate-backed trust.
 *
 * Unsigned envelopes never expire, so the wall-clock time passed in does not matter.
 *
 * Its revocation list is plain text, `<serial>:<name>,<name>...`, so tests of how the core reacts
 * to revocation need no CA.
 */
export class UnsignedTrust implements NodeTrust {
  private list: string | null = null;
  private serial = 0;
  private revoked = new Set<string>();

  /** `groups`: what this node's envelopes claim its certificate grants (believed like the rest). */
  constructor(
    private readonly self: MemberInfo,
    private readonly groups: readonly string[] = [],
  ) {}

  seal(_wallMs: number, to: string, envelope: unknown): unknown {
    const { nodeId: from, name, ip } = this.self;
    return { unsigned: true, from, name, ip, groups: this.groups, to, envelope };
  }

  open(
    _wallMs: number,
    raw: unknown,
    mode: OpenMode,
  ): { ok: true; value: OpenedEnvelope } | ReturnType<typeof identityFailure> {
    const e = raw as Record<string, unknown> | null;
    if (typeof e !== "object" || e === null || e.unsigned !== true) {
      return identityFailure("IPOP_ENVELOPE_MALFORMED", "not an unsigned test envelope");
    }
    const { from, name, ip, to, envelope } = e;
    const address = typeof ip === "string" ? parseIpv4Address(ip) : null;
    if (typeof from !== "string" || typeof name !== "string" || address === null || typeof to !== "string") {
      return identityFailure("IPOP_ENVELOPE_MALFORMED", "unsigned test envelope lacks a field");
    }
    if (mode === "deliver" && to !== this.self.nodeId) {
      return identityFailure("IPOP_ENVELOPE_MISADDRESSED", "envelope is for another node");
    }
    if (this.isRevoked(from, name)) return identityFailure("IPOP_CERT_REVOKED", `${name} is revoked`);
    const owns = (candidate: number) => candidate === address;
    const groups = Array.isArray(e.groups) ? e.groups.filter((g): g is string => typeof g === "string") : [];
    return { ok: true, value: { from, name, owns, notAfterMs: Number.POSITIVE_INFINITY, groups, envelope } };
  }

  isRevoked(nodeId: string, name: string): boolean {
    return this.revoked.has(nodeId) || this.revoked.has(name);
  }

  revocationList(): string | null {
    return this.list;
  }

  offerRevocationList(text: string): RevocationVerdict {
    const match = /^(\d+):(.*)$/.exec(text);
    if (match === null) return identityFailure("IPOP_CERT_MALFORMED", "not a test revocation list");
    const serial = Number(match[1]);
    if (serial <= this.serial) return "known";
    this.serial = serial;
    this.list = text;
    this.revoked = new Set(match[2]!.split(",").filter((name) => name !== ""));
    return "newer";
  }
}
