import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { IdentityError, type IdentityErrorCode } from "../errors.js";
import { failsWith, ok } from "../testing/verdicts.js";
import { encodeBase64 } from "./base64.js";
import type { Certificate } from "./certificate.js";
import { generateKeyPair, signMessage } from "./keys.js";
import { formatCertificate, parseCertificate } from "./parse.js";
import { type NodeRequest, selfSignCa, signCertificate } from "./sign.js";
import { formatCertificateTime } from "./time.js";
import { CERTIFICATE_SIGNATURE_CONTEXT, checkCa, type VerifyOptions, verifyCertificate } from "./verify.js";

const NOW = Date.UTC(2026, 4, 1) / 1000;
const DAY = 86_400;
const caKeys = generateKeyPair(new Uint8Array(32).fill(1));
const otherCaKeys = generateKeyPair(new Uint8Array(32).fill(3));
const nodeKeys = generateKeyPair(new Uint8Array(32).fill(2));

function makeCa(options: { network?: string; pools?: string[]; groups?: string[]; from?: number; to?: number } = {}) {
  const seed = caKeys.seed;
  const text = selfSignCa(
    {
      network: options.network ?? "lab",
      ...(options.pools ? { pools: options.pools } : {}),
      ...(options.groups ? { groups: options.groups } : {}),
      notBefore: options.from ?? NOW - DAY,
      notAfter: options.to ?? NOW + 365 * DAY,
    },
    seed,
  );
  return ok(parseCertificate(text));
}

const ca = makeCa();
const otherCa = ok(
  parseCertificate(selfSignCa({ network: "lab", notBefore: NOW - DAY, notAfter: NOW + 365 * DAY }, otherCaKeys.seed)),
);

function request(overrides: Partial<NodeRequest> = {}): NodeRequest {
  return {
    name: "host7",
    ip: "10.88.0.7/16",
    groups: ["web"],
    notBefore: NOW - 60,
    notAfter: NOW + 30 * DAY,
    publicKey: nodeKeys.publicKey,
    ...overrides,
  };
}

function makeNode(overrides: Partial<NodeRequest> = {}, signer = ca, seed = caKeys.seed): Certificate {
  return ok(parseCertificate(signCertificate(request(overrides), signer, seed)));
}

/** Signs any body text with any key, to build certificates a careful signer would never make. */
function craft(body: string, seed: Uint8Array): Certificate {
  const bytes = new TextEncoder().encode(body);
  const text = formatCertificate({ body: bytes, signature: signMessage(CERTIFICATE_SIGNATURE_CONTEXT, bytes, seed) });
  return ok(parseCertificate(text));
}

function bodyText(cert: Certificate): string {
  return new TextDecoder().decode(cert.body);
}

const node = makeNode();
const options: VerifyOptions = { ca, nowSeconds: NOW, network: "lab" };

test("a certificate signed by the CA verifies", () => {
  assert.equal(ok(verifyCertificate(node, options)), node);
  ok(verifyCertificate(node, { ca, nowSeconds: NOW }));
  ok(verifyCertificate(node, { ...options, revoked: new Set(["host8", "0".repeat(32)]) }));
  ok(checkCa(ca, { nowSeconds: NOW, network: "lab" }));
});

test("the validity period is [notBefore, notAfter)", () => {
  ok(verifyCertificate(node, { ...options, nowSeconds: node.notBefore }));
  ok(verifyCertificate(node, { ...options, nowSeconds: node.notAfter - 1 }));
  failsWith(verifyCertificate(node, { ...options, nowSeconds: node.notAfter }), "IPOP_CERT_EXPIRED");
  failsWith(verifyCertificate(node, { ...options, nowSeconds: node.notBefore - 1 }), "IPOP_CERT_NOT_YET_VALID");
});

test("an expired certificate says when and how to make a new one", () => {
  const expired = makeNode({ notBefore: NOW - 40 * DAY, notAfter: Date.UTC(2026, 3, 1) / 1000 });
  failsWith(
    verifyCertificate(expired, options),
    "IPOP_CERT_EXPIRED",
    /^certificate "host7" \(10\.88\.0\.7\/16\) expired 2026-04-01T00:00:00Z; sign a new one with `ipop cert sign --name host7 --ip 10\.88\.0\.7\/16 --groups web`$/,
  );
});

test("a certificate not yet valid says when it will be, and to check the clock", () => {
  const future = makeNode({ notBefore: NOW + DAY, notAfter: NOW + 2 * DAY });
  failsWith(
    verifyCertificate(future, options),
    "IPOP_CERT_NOT_YET_VALID",
    new RegExp(`not valid until ${formatCertificateTime(NOW + DAY)}.*now ${formatCertificateTime(NOW)}.*clock`),
  );
});

test("the CA itself must be a valid, current CA for the network", () => {
  failsWith(verifyCertificate(node, { ...options, ca: node }), "IPOP_CERT_WRONG_KIND", /not a CA certificate/);
  const expiredCa = makeCa({ from: NOW - 10 * DAY, to: NOW - DAY });
  failsWith(
    verifyCertificate(node, { ...options, ca: expiredCa }),
    "IPOP_CERT_EXPIRED",
    /CA certificate "lab" expired.*ipop cert ca/,
  );
  const futureCa = makeCa({ from: NOW + DAY, to: NOW + 10 * DAY });
  failsWith(verifyCertificate(node, { ...options, ca: futureCa }), "IPOP_CERT_NOT_YET_VALID");
  failsWith(verifyCertificate(node, { ...options, network: "prod" }), "IPOP_CERT_WRONG_NETWORK", /"lab", not "prod"/);
  // A CA body signed by some other key than the one it names.
  const forgedCa = craft(bodyText(ca), otherCaKeys.seed);
  failsWith(checkCa(forgedCa, { nowSeconds: NOW }), "IPOP_CERT_BAD_SIGNATURE", /self-signature/);
  failsWith(verifyCertificate(node, { ...options, ca: forgedCa }), "IPOP_CERT_BAD_SIGNATURE");
});

test("a certificate from another CA is refused as such", () => {
  const foreign = makeNode({}, otherCa, otherCaKeys.seed);
  failsWith(verifyCertificate(foreign, options), "IPOP_CERT_WRONG_CA", new RegExp(`issued by CA ${otherCa.nodeId}`));
  failsWith(verifyCertificate(ca, options), "IPOP_CERT_WRONG_KIND", /CA certificate, not a node certificate/);
});

test("naming the right issuer does not help a certificate signed by another key", () => {
  const forged = craft(bodyText(node), otherCaKeys.seed);
  assert.equal(forged.issuer, ca.nodeId);
  failsWith(verifyCertificate(forged, options), "IPOP_CERT_BAD_SIGNATURE", /altered/);
});

test("a CA that signed a certificate for another network is not believed", () => {
  const elsewhere = craft(bodyText(node).replace('"network":"lab"', '"network":"prod"'), caKeys.seed);
  failsWith(verifyCertificate(elsewhere, options), "IPOP_CERT_WRONG_NETWORK");
  failsWith(verifyCertificate(elsewhere, { ca, nowSeconds: NOW }), "IPOP_CERT_WRONG_NETWORK");
});

test("revocation by node id or by name", () => {
  failsWith(verifyCertificate(node, { ...options, revoked: new Set([node.nodeId]) }), "IPOP_CERT_REVOKED", /revoked/);
  failsWith(verifyCertificate(node, { ...options, revoked: new Set(["host7"]) }), "IPOP_CERT_REVOKED");
});

test("the CA's address and group constraints hold at verification, even for a CA that ignored them", () => {
  const constrained = makeCa({ pools: ["10.88.0.0/24"], groups: ["web", "db"] });
  ok(verifyCertificate(makeNode({}, constrained), { ...options, ca: constrained }));
  ok(
    verifyCertificate(makeNode({ ip: undefined, pools: ["10.88.0.128/25"] }, constrained), {
      ...options,
      ca: constrained,
    }),
  );
  const body = bodyText(makeNode({}, constrained));
  const outside = craft(body.replace("10.88.0.7/16", "10.88.1.7/16"), caKeys.seed);
  failsWith(
    verifyCertificate(outside, { ...options, ca: constrained }),
    "IPOP_CERT_IP_MISMATCH",
    /10\.88\.1\.7.*10\.88\.0\.0\/24/,
  );
  const widePool = craft(body.replace('"groups"', '"pools":["10.88.0.0/23"],"groups"'), caKeys.seed);
  failsWith(
    verifyCertificate(widePool, { ...options, ca: constrained }),
    "IPOP_CERT_IP_MISMATCH",
    /pool 10\.88\.0\.0\/23/,
  );
  const admin = craft(body.replace('"groups":["web"]', '"groups":["admin"]'), caKeys.seed);
  failsWith(verifyCertificate(admin, { ...options, ca: constrained }), "IPOP_CERT_GROUP_NOT_ALLOWED", /"admin"/);
});

test("signing refuses what would never verify", () => {
  const refuses = (code: IdentityErrorCode, fn: () => unknown) =>
    assert.throws(fn, (error: unknown) => error instanceof IdentityError && error.code === code);
  refuses("IPOP_KEY_MISMATCH", () => signCertificate(request(), ca, otherCaKeys.seed));
  refuses("IPOP_CERT_WRONG_KIND", () => signCertificate(request(), node, caKeys.seed));
  refuses("IPOP_CERT_OUTLIVES_CA", () => signCertificate(request({ notAfter: ca.notAfter + 1 }), ca, caKeys.seed));
  refuses("IPOP_CERT_MALFORMED", () => signCertificate(request({ name: "no spaces" }), ca, caKeys.seed));
  refuses("IPOP_CERT_MALFORMED", () => signCertificate(request({ ip: "10.88.0.255/24" }), ca, caKeys.seed));
  refuses("IPOP_CERT_MALFORMED", () => signCertificate(request({ ip: undefined }), ca, caKeys.seed));
  refuses("IPOP_CERT_MALFORMED", () => selfSignCa({ network: "lab", notBefore: NOW, notAfter: NOW }, caKeys.seed));
  const constrained = makeCa({ pools: ["10.88.0.0/24"], groups: ["web"] });
  refuses("IPOP_CERT_IP_MISMATCH", () => signCertificate(request({ ip: "10.89.0.7/16" }), constrained, caKeys.seed));
  refuses("IPOP_CERT_GROUP_NOT_ALLOWED", () => signCertificate(request({ groups: ["db"] }), constrained, caKeys.seed));
});

/** Replaces the body or signature bytes of a certificate and re-armors it, as an attacker would. */
function rearmor(body: Uint8Array, signature: Uint8Array): string {
  return `-----BEGIN IPOP CERTIFICATE-----\n${encodeBase64(body)}.${encodeBase64(signature)}\n-----END IPOP CERTIFICATE-----\n`;
}

/** True when the tampered text is refused by parsing or by verification, without throwing. */
function refused(text: string | Uint8Array): boolean {
  const parsed = parseCertificate(text);
  if (!parsed.ok) return true;
  return !verifyCertificate(parsed.value, options).ok;
}

test("changing any byte of the body or the signature is detected", () => {
  const bodyIndex = fc.nat({ max: node.body.length - 1 });
  const sigIndex = fc.nat({ max: node.signature.length - 1 });
  const flip = fc.integer({ min: 1, max: 255 });
  fc.assert(
    fc.property(bodyIndex, flip, (i, x) => {
      const body = node.body.slice();
      body[i]! ^= x;
      assert.ok(refused(rearmor(body, node.signature)));
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(sigIndex, flip, (i, x) => {
      const signature = node.signature.slice();
      signature[i]! ^= x;
      assert.ok(refused(rearmor(node.body, signature)));
    }),
    { numRuns: 400 },
  );
});

test("changing any byte of the certificate file is detected", () => {
  const text = new TextEncoder().encode(formatCertificate(node));
  // All but the final newline, which is whitespace around the block.
  const index = fc.nat({ max: text.length - 2 });
  fc.assert(
    fc.property(index, fc.integer({ min: 1, max: 255 }), (i, x) => {
      const tampered = text.slice();
      tampered[i]! ^= x;
      assert.ok(refused(tampered), `byte ${i} ^ ${x}`);
    }),
    { numRuns: 1000 },
  );
});

test("verification of arbitrary parsed certificates never throws", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.boolean(), (signature, asCa) => {
      const subject = ok(parseCertificate(rearmor(asCa ? ca.body : node.body, signature)));
      const verdict = asCa ? checkCa(subject, { nowSeconds: NOW }) : verifyCertificate(subject, options);
      assert.equal(verdict.ok, false);
    }),
    { numRuns: 200 },
  );
});
