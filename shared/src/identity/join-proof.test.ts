import assert from "node:assert/strict";
import { test } from "vitest";
import { failsWith, ok } from "../testing/verdicts.js";
import { signEnrollRequest, signRenewRequest, verifyEnrollRequest, verifyRenewRequest } from "./enrollment.js";
import { type JoinProofVerifyOptions, signJoinProof, verifyJoinProof } from "./join-proof.js";
import { generateKeyPair, nodeIdOf } from "./keys.js";
import { parseCertificate } from "./parse.js";
import { selfSignCa, signCertificate } from "./sign.js";

const NOW_MS = Date.UTC(2026, 4, 1);
const NOW = NOW_MS / 1000;
const DAY = 86_400;
const caKeys = generateKeyPair(new Uint8Array(32).fill(1));
const otherKeys = generateKeyPair(new Uint8Array(32).fill(3));
const nodeKeys = generateKeyPair(new Uint8Array(32).fill(2));
const strangerKeys = generateKeyPair(new Uint8Array(32).fill(4));

function caOf(seed: Uint8Array) {
  return ok(parseCertificate(selfSignCa({ network: "lab", notBefore: NOW - DAY, notAfter: NOW + 365 * DAY }, seed)));
}
const ca = caOf(caKeys.seed);
const otherCa = caOf(otherKeys.seed);

function certText(
  overrides: { ip?: string; pools?: string[]; notAfter?: number } = {},
  issuer = ca,
  seed = caKeys.seed,
) {
  return signCertificate(
    {
      name: "host7",
      ...(overrides.ip === undefined && overrides.pools !== undefined ? {} : { ip: overrides.ip ?? "10.88.0.7/16" }),
      ...(overrides.pools === undefined ? {} : { pools: overrides.pools }),
      notBefore: NOW - 60,
      notAfter: overrides.notAfter ?? NOW + DAY,
      publicKey: nodeKeys.publicKey,
    },
    issuer,
    seed,
  );
}

const CERT = certText();
const KEY_ID = nodeIdOf(nodeKeys.publicKey);
const NODE_ID = `${KEY_ID}-0000002a`;

function claims(overrides: Partial<JoinProofVerifyOptions> = {}): JoinProofVerifyOptions {
  return { network: "lab", nodeId: NODE_ID, ip: "10.88.0.7", name: "host7", ca, nowMs: NOW_MS, ...overrides };
}

function proof(overrides: { nodeId?: string; ip?: string; timeMs?: number; cert?: string; seed?: Uint8Array } = {}) {
  return signJoinProof(
    {
      network: "lab",
      nodeId: overrides.nodeId ?? NODE_ID,
      ip: overrides.ip ?? "10.88.0.7",
      timeMs: overrides.timeMs ?? NOW_MS,
    },
    overrides.cert ?? CERT,
    overrides.seed ?? nodeKeys.seed,
  );
}

test("a fresh join proof verifies and yields the certificate", () => {
  const cert = ok(verifyJoinProof(proof(), claims()));
  assert.equal(cert.nodeId, KEY_ID);
  assert.equal(cert.name, "host7");
  // The skew window holds both ways.
  ok(verifyJoinProof(proof({ timeMs: NOW_MS - 120_000 }), claims()));
  ok(verifyJoinProof(proof({ timeMs: NOW_MS + 120_000 }), claims()));
});

test("every refusal has its own code", () => {
  failsWith(verifyJoinProof(proof({ timeMs: NOW_MS - 120_001 }), claims()), "IPOP_JOIN_STALE", /old/);
  failsWith(verifyJoinProof(proof({ timeMs: NOW_MS + 600_000 }), claims()), "IPOP_JOIN_STALE", /future/);
  failsWith(verifyJoinProof(proof(), claims({ maxSkewMs: 10, nowMs: NOW_MS + 11 })), "IPOP_JOIN_STALE");
  // Signed by a key that is not the certificate's.
  failsWith(verifyJoinProof(proof({ seed: strangerKeys.seed }), claims()), "IPOP_JOIN_BAD_SIGNATURE");
  // A proof for one claim does not cover another.
  failsWith(verifyJoinProof(proof(), claims({ ip: "10.88.0.8" })), "IPOP_JOIN_BAD_SIGNATURE");
  failsWith(verifyJoinProof(proof(), claims({ network: "prod" })), "IPOP_CERT_WRONG_NETWORK");
  // Properly signed claims that do not match the certificate.
  failsWith(verifyJoinProof(proof({ ip: "10.88.0.8" }), claims({ ip: "10.88.0.8" })), "IPOP_JOIN_IP_MISMATCH");
  const foreignId = `${"f".repeat(32)}-00000001`;
  failsWith(verifyJoinProof(proof({ nodeId: foreignId }), claims({ nodeId: foreignId })), "IPOP_JOIN_NODE_MISMATCH");
  failsWith(verifyJoinProof(proof({ nodeId: KEY_ID }), claims({ nodeId: KEY_ID })), "IPOP_JOIN_NODE_MISMATCH");
  failsWith(verifyJoinProof(proof(), claims({ name: "other" })), "IPOP_JOIN_NAME_MISMATCH");
  // The certificate itself.
  failsWith(verifyJoinProof(proof(), claims({ ca: otherCa })), "IPOP_CERT_WRONG_CA");
  failsWith(verifyJoinProof(proof(), claims({ revoked: new Set([KEY_ID]) })), "IPOP_CERT_REVOKED");
  failsWith(verifyJoinProof(proof(), claims({ revoked: new Set(["host7"]) })), "IPOP_CERT_REVOKED");
  failsWith(verifyJoinProof(proof(), claims({ nowMs: NOW_MS + 2 * DAY * 1000 })), "IPOP_CERT_EXPIRED");
  failsWith(verifyJoinProof(proof({ cert: CERT.slice(0, 100) }), claims()), "IPOP_CERT_TRUNCATED");
  failsWith(verifyJoinProof(proof({ cert: "x".repeat(9000) }), claims()), "IPOP_CERT_OVERSIZED");
  const foreignCert = certText({}, otherCa, otherKeys.seed);
  failsWith(verifyJoinProof(proof({ cert: foreignCert }), claims()), "IPOP_CERT_WRONG_CA");
  failsWith(verifyJoinProof(null as never, claims()), "IPOP_JOIN_MALFORMED");
  failsWith(verifyJoinProof({ cert: CERT, time: 1.5, sig: "x" }, claims()), "IPOP_JOIN_MALFORMED");
  failsWith(verifyJoinProof({ ...proof(), sig: "!!" }, claims()), "IPOP_JOIN_BAD_SIGNATURE");
});

test("a certificate with pools and no fixed address may claim any address in them", () => {
  const pooled = certText({ pools: ["10.88.200.0/24"] });
  ok(verifyJoinProof(proof({ cert: pooled, ip: "10.88.200.9" }), claims({ ip: "10.88.200.9" })));
  failsWith(
    verifyJoinProof(proof({ cert: pooled, ip: "10.88.0.9" }), claims({ ip: "10.88.0.9" })),
    "IPOP_JOIN_IP_MISMATCH",
    /outside the pools/,
  );
});

test("enroll requests are signed by the key they ask a certificate for", () => {
  const request = signEnrollRequest({ network: "lab", token: " ipop-token-v1.a.b\n", name: "vm1" }, nodeKeys.seed);
  assert.equal(request.token, "ipop-token-v1.a.b");
  assert.deepEqual(ok(verifyEnrollRequest(request)), nodeKeys.publicKey);
  failsWith(verifyEnrollRequest({ ...request, name: "vm2" }), "IPOP_ENROLL_BAD_PROOF");
  failsWith(verifyEnrollRequest({ ...request, token: "ipop-token-v1.a.c" }), "IPOP_ENROLL_BAD_PROOF");
  const stranger = signEnrollRequest({ network: "lab", token: "ipop-token-v1.a.b", name: "vm1" }, strangerKeys.seed);
  failsWith(verifyEnrollRequest({ ...request, publicKey: stranger.publicKey }), "IPOP_ENROLL_BAD_PROOF");
  failsWith(verifyEnrollRequest({ ...request, publicKey: "AAAA" }), "IPOP_JOIN_MALFORMED");
  failsWith(verifyEnrollRequest({ ...request, proof: "***" }), "IPOP_ENROLL_BAD_PROOF");
});

test("renew requests: signed by the certificate's key, recently, for a valid certificate", () => {
  const request = signRenewRequest({ network: "lab", certText: CERT, timeMs: NOW_MS }, nodeKeys.seed);
  assert.equal(ok(verifyRenewRequest(request, { ca, nowMs: NOW_MS })).nodeId, KEY_ID);
  failsWith(verifyRenewRequest(request, { ca, nowMs: NOW_MS + 600_000 }), "IPOP_JOIN_STALE");
  failsWith(verifyRenewRequest({ ...request, time: NOW_MS + 1 }, { ca, nowMs: NOW_MS }), "IPOP_JOIN_BAD_SIGNATURE");
  const stolen = signRenewRequest({ network: "lab", certText: CERT, timeMs: NOW_MS }, strangerKeys.seed);
  failsWith(verifyRenewRequest(stolen, { ca, nowMs: NOW_MS }), "IPOP_JOIN_BAD_SIGNATURE");
  failsWith(verifyRenewRequest(request, { ca, nowMs: NOW_MS, revoked: new Set(["host7"]) }), "IPOP_CERT_REVOKED");
  failsWith(verifyRenewRequest(request, { ca: otherCa, nowMs: NOW_MS }), "IPOP_CERT_WRONG_CA");
  const expired = certText({ notAfter: NOW + 10 });
  const late = signRenewRequest({ network: "lab", certText: expired, timeMs: NOW_MS + 20_000 }, nodeKeys.seed);
  failsWith(verifyRenewRequest(late, { ca, nowMs: NOW_MS + 20_000 }), "IPOP_CERT_EXPIRED");
  failsWith(verifyRenewRequest({ ...request, cert: "garbage" }, { ca, nowMs: NOW_MS }), "IPOP_CERT_MALFORMED");
});
