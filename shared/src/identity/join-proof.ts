/**
 * Proof of key possession at join: a node joining through a signaling server that has a CA sends
 * its certificate and a signature by the certified key over what it claims (network, node id,
 * address) and the time. The server then knows the member record belongs to a certified, unrevoked
 * key, and a proof copied from another join is useless after `maxSkewMs` (and, at the server,
 * refused at once as a replay).
 *
 * Signed bytes: ASCII JSON `{"network","nodeId","ip","time"}`, context "ipop-join-v1".
 */

import { type IdentityFailure, type IdentityResult, identityFailure } from "../errors.js";
import { formatIpv4Address, parseIpv4Address } from "../ipv4.js";
import type { JoinCredential } from "../signaling-protocol.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import { asciiBytes } from "./body.js";
import { asciiJson } from "./canonical-json.js";
import type { Certificate } from "./certificate.js";
import { prefixContainsAddress } from "./cidr.js";
import { signMessage, verifyMessage } from "./keys.js";
import { parseCertificate } from "./parse.js";
import { certificateSecondsOf } from "./time.js";
import { describeCertificate, verifyCertificate } from "./verify.js";

export const JOIN_PROOF_SIGNATURE_CONTEXT = "ipop-join-v1";
/** How far a proof's time may be from the verifier's clock, either way. */
export const DEFAULT_JOIN_MAX_SKEW_MS = 120_000;

/** What a join proof covers. */
export interface JoinProofFields {
  readonly network: string;
  /** The joining node's id: `<certificate node id (32 hex)>-<incarnation (8 hex)>`. */
  readonly nodeId: string;
  /** The node's virtual address, dotted quad (as in `MemberInfo.ip`). */
  readonly ip: string;
  /** Wall-clock milliseconds since the Unix epoch. */
  readonly timeMs: number;
}

function joinProofBytes(f: { network: string; nodeId: string; ip: string; time: number }): Uint8Array {
  return asciiBytes(asciiJson({ network: f.network, nodeId: f.nodeId, ip: f.ip, time: f.time }));
}

/**
 * Signs a join proof with the node's key `seed`, whose certificate is `certText` (armored). Put the
 * result in `join.credential`; sign a fresh one for every join (a server refuses a proof it has seen).
 */
export function signJoinProof(fields: JoinProofFields, certText: string, seed: Uint8Array): JoinCredential {
  const time = fields.timeMs;
  const signed = joinProofBytes({ network: fields.network, nodeId: fields.nodeId, ip: fields.ip, time });
  return { cert: certText, time, sig: encodeBase64Url(signMessage(JOIN_PROOF_SIGNATURE_CONTEXT, signed, seed)) };
}

/** True for a node id of the form the agent uses for `cert`: `<cert.nodeId>-<8 hex digits>`. */
export function nodeIdBelongsTo(nodeId: string, cert: Pick<Certificate, "nodeId">): boolean {
  return (
    nodeId.length === cert.nodeId.length + 9 &&
    nodeId.startsWith(`${cert.nodeId}-`) &&
    /^[0-9a-f]{8}$/.test(nodeId.slice(cert.nodeId.length + 1))
  );
}

/**
 * Whether `cert` entitles its holder to `ip` (dotted quad): its fixed address, or, for a certificate
 * without one, any address in its pools. Returns the refusal, or null.
 */
export function checkCertificateAddress(cert: Certificate, ip: string): IdentityFailure | null {
  const address = parseIpv4Address(ip);
  const what = describeCertificate(cert);
  if (address === null) return identityFailure("IPOP_JOIN_IP_MISMATCH", `"${ip}" is not an IPv4 address`);
  if (cert.address !== undefined) {
    if (cert.address.address === address) return null;
    return identityFailure(
      "IPOP_JOIN_IP_MISMATCH",
      `${what} is for ${formatIpv4Address(cert.address.address)}, not ${ip}; use the certificate's address`,
    );
  }
  if (cert.poolPrefixes.some((p) => prefixContainsAddress(p, address))) return null;
  return identityFailure(
    "IPOP_JOIN_IP_MISMATCH",
    `${ip} is outside the pools of ${what} (${(cert.pools ?? []).join(", ")})`,
  );
}

/** What a join proof is checked against: what the join claims, the CA and the verifier's clock. */
export interface JoinProofVerifyOptions {
  readonly network: string;
  readonly nodeId: string;
  readonly ip: string;
  /** The member name claimed; when given, it must be the certificate's. */
  readonly name?: string;
  readonly ca: Certificate;
  /** Wall-clock milliseconds since the Unix epoch. */
  readonly nowMs: number;
  /** Default {@link DEFAULT_JOIN_MAX_SKEW_MS}. */
  readonly maxSkewMs?: number;
  /** Revoked node ids and names (see `revokedSet`). */
  readonly revoked?: ReadonlySet<string>;
}

/**
 * Checks a join proof: its certificate verifies against the CA (chain, network, revocation,
 * validity, constraints), the signature is by the certificate's key over exactly these claims, the
 * node id starts with the certificate's key id, the address (and name) are the certificate's, and
 * the time is within `maxSkewMs` of now. Returns the certificate, or the first failure. Replays
 * inside the skew window are the caller's to catch (keep the `sig`s seen). Never throws.
 */
export function verifyJoinProof(proof: JoinCredential, options: JoinProofVerifyOptions): IdentityResult<Certificate> {
  if (
    typeof proof !== "object" ||
    proof === null ||
    typeof proof.cert !== "string" ||
    typeof proof.sig !== "string" ||
    !Number.isSafeInteger(proof.time)
  ) {
    return identityFailure("IPOP_JOIN_MALFORMED", "the join credential is not {cert, time, sig}");
  }
  const parsed = parseCertificate(proof.cert);
  if (!parsed.ok) return identityFailure(parsed.code, `the join certificate: ${parsed.message}`);
  const cert = parsed.value;
  const verified = verifyCertificate(cert, {
    ca: options.ca,
    nowSeconds: certificateSecondsOf(options.nowMs),
    network: options.network,
    ...(options.revoked === undefined ? {} : { revoked: options.revoked }),
  });
  if (!verified.ok) return verified;
  const sig = decodeBase64Url(proof.sig);
  const signed = joinProofBytes({ network: options.network, nodeId: options.nodeId, ip: options.ip, time: proof.time });
  if (sig === null || !verifyMessage(JOIN_PROOF_SIGNATURE_CONTEXT, sig, signed, cert.publicKey)) {
    return identityFailure(
      "IPOP_JOIN_BAD_SIGNATURE",
      `the join proof is not signed by the key of ${describeCertificate(cert)} for this network, node id and address`,
    );
  }
  if (!nodeIdBelongsTo(options.nodeId, cert)) {
    return identityFailure(
      "IPOP_JOIN_NODE_MISMATCH",
      `node id ${options.nodeId} does not belong to ${describeCertificate(cert)}: it must be ${cert.nodeId}-<8 hex digits>`,
    );
  }
  const address = checkCertificateAddress(cert, options.ip);
  if (address !== null) return address;
  if (options.name !== undefined && options.name !== cert.name) {
    return identityFailure(
      "IPOP_JOIN_NAME_MISMATCH",
      `member name "${options.name}" is not the name of ${describeCertificate(cert)}; join as "${cert.name}"`,
    );
  }
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_JOIN_MAX_SKEW_MS;
  const skew = proof.time - options.nowMs;
  if (Math.abs(skew) > maxSkewMs) {
    const how = skew < 0 ? `${Math.round(-skew / 1000)} s old` : `${Math.round(skew / 1000)} s in the future`;
    return identityFailure(
      "IPOP_JOIN_STALE",
      `the join proof is ${how} (at most ${maxSkewMs / 1000} s allowed): a replay, or a clock far off; check this machine's clock`,
    );
  }
  return { ok: true, value: cert };
}
