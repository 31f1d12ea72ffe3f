/**
 * Asking the CA service for a certificate: `enroll` (a join token and a new key) and `renew` (a
 * certificate about to expire, for the same key, name and address).
 *
 * Both requests are signed by the key to be certified, so nobody gets a certificate for a key they
 * do not hold: enroll with context "ipop-enroll-v1" over ASCII JSON
 * `{"network","token","publicKey","name"}`, renew with context "ipop-renew-v1" over
 * `{"network","cert","time"}`. The server checks everything else (the token, the certificate).
 */

import { type IdentityResult, identityFailure } from "../errors.js";
import type { ClientMessage, JoinCredential } from "../signaling-protocol.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import { asciiBytes } from "./body.js";
import { asciiJson } from "./canonical-json.js";
import type { Certificate } from "./certificate.js";
import { DEFAULT_JOIN_MAX_SKEW_MS } from "./join-proof.js";
import { PUBLIC_KEY_BYTES, publicKeyOf, signMessage, verifyMessage } from "./keys.js";
import { parseCertificate } from "./parse.js";
import { certificateSecondsOf } from "./time.js";
import { describeCertificate, verifyCertificate } from "./verify.js";

export const ENROLL_SIGNATURE_CONTEXT = "ipop-enroll-v1";
export const RENEW_SIGNATURE_CONTEXT = "ipop-renew-v1";

/** An `enroll` message. */
export type EnrollRequest = Extract<ClientMessage, { t: "enroll" }>;
/** A `renew` message. */
export type RenewRequest = Extract<ClientMessage, { t: "renew" }>;

function enrollBytes(network: string, token: string, publicKey: string, name: string): Uint8Array {
  return asciiBytes(asciiJson({ network, token, publicKey, name }));
}

function renewBytes(network: string, cert: string, time: number): Uint8Array {
  return asciiBytes(asciiJson({ network, cert, time }));
}

/** Makes the `enroll` message for the new key `seed`. */
export function signEnrollRequest(
  request: { readonly network: string; readonly token: string; readonly name: string },
  seed: Uint8Array,
): EnrollRequest {
  const publicKey = encodeBase64Url(publicKeyOf(seed));
  const token = request.token.trim();
  const signed = enrollBytes(request.network, token, publicKey, request.name);
  return {
    v: 1,
    t: "enroll",
    network: request.network,
    token,
    publicKey,
    name: request.name,
    proof: encodeBase64Url(signMessage(ENROLL_SIGNATURE_CONTEXT, signed, seed)),
  };
}

/**
 * Checks that an `enroll` was signed by the key it asks a certificate for; returns that key.
 * Says nothing about the token. Never throws.
 */
export function verifyEnrollRequest(
  request: Pick<EnrollRequest, "network" | "token" | "publicKey" | "name" | "proof">,
): IdentityResult<Uint8Array> {
  const publicKey = decodeBase64Url(request.publicKey);
  if (publicKey === null || publicKey.length !== PUBLIC_KEY_BYTES) {
    return identityFailure("IPOP_JOIN_MALFORMED", `enroll.publicKey is not a ${PUBLIC_KEY_BYTES}-byte base64url key`);
  }
  const proof = decodeBase64Url(request.proof);
  const signed = enrollBytes(request.network, request.token, request.publicKey, request.name);
  if (proof === null || !verifyMessage(ENROLL_SIGNATURE_CONTEXT, proof, signed, publicKey)) {
    return identityFailure(
      "IPOP_ENROLL_BAD_PROOF",
      "the enrollment is not signed by the key it asks a certificate for (or was altered on the way)",
    );
  }
  return { ok: true, value: publicKey };
}

/** Makes the `renew` message for the certificate `certText` (armored) with its key `seed`. */
export function signRenewRequest(
  request: { readonly network: string; readonly certText: string; readonly timeMs: number },
  seed: Uint8Array,
): RenewRequest {
  const signed = renewBytes(request.network, request.certText, request.timeMs);
  return {
    v: 1,
    t: "renew",
    network: request.network,
    cert: request.certText,
    time: request.timeMs,
    sig: encodeBase64Url(signMessage(RENEW_SIGNATURE_CONTEXT, signed, seed)),
  };
}

/** What a renewal is checked against. */
export interface RenewVerifyOptions {
  readonly ca: Certificate;
  /** Wall-clock milliseconds since the Unix epoch. */
  readonly nowMs: number;
  /** Default: the join proofs' {@link DEFAULT_JOIN_MAX_SKEW_MS}. */
  readonly maxSkewMs?: number;
  readonly revoked?: ReadonlySet<string>;
}

/**
 * Checks a `renew`: the certificate verifies against the CA now (an expired one cannot be renewed;
 * enroll again), is for the request's network, is signed over by its own key, recently. Returns
 * the certificate. Never throws.
 */
export function verifyRenewRequest(
  request: Pick<JoinCredential, "cert" | "time" | "sig"> & { readonly network: string },
  options: RenewVerifyOptions,
): IdentityResult<Certificate> {
  const parsed = parseCertificate(request.cert);
  if (!parsed.ok) return identityFailure(parsed.code, `the certificate to renew: ${parsed.message}`);
  const cert = parsed.value;
  const verified = verifyCertificate(cert, {
    ca: options.ca,
    nowSeconds: certificateSecondsOf(options.nowMs),
    network: request.network,
    ...(options.revoked === undefined ? {} : { revoked: options.revoked }),
  });
  if (!verified.ok) return verified;
  const sig = decodeBase64Url(request.sig);
  if (
    sig === null ||
    !verifyMessage(
      RENEW_SIGNATURE_CONTEXT,
      sig,
      renewBytes(request.network, request.cert, request.time),
      cert.publicKey,
    )
  ) {
    return identityFailure(
      "IPOP_JOIN_BAD_SIGNATURE",
      `the renewal is not signed by the key of ${describeCertificate(cert)}`,
    );
  }
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_JOIN_MAX_SKEW_MS;
  if (Math.abs(request.time - options.nowMs) > maxSkewMs) {
    return identityFailure(
      "IPOP_JOIN_STALE",
      `the renewal was signed ${Math.round((options.nowMs - request.time) / 1000)} s from now; check this machine's clock`,
    );
  }
  return { ok: true, value: cert };
}
