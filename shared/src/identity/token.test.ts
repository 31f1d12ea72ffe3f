import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { IdentityError, type IdentityErrorCode } from "../errors.js";
import { failsWith, ok } from "../testing/verdicts.js";
import { decodeBase64Url, encodeBase64Url } from "./base64.js";
import type { Certificate } from "./certificate.js";
import { generateKeyPair, signMessage } from "./keys.js";
import { parseCertificate } from "./parse.js";
import { selfSignCa } from "./sign.js";
import {
  createToken,
  DEFAULT_LEASE_SECONDS,
  type JoinToken,
  MAX_TOKEN_CHARS,
  parseToken,
  TOKEN_SIGNATURE_CONTEXT,
  type TokenRequest,
  verifyToken,
} from "./token.js";

const NOW = Date.UTC(2026, 4, 1) / 1000;
const DAY = 86_400;
const ID = "0123456789abcdef0123456789abcdef";
const caKeys = generateKeyPair(new Uint8Array(32).fill(1));
const otherKeys = generateKeyPair(new Uint8Array(32).fill(3));

function makeCa(seed = caKeys.seed, options: { network?: string; pools?: string[]; groups?: string[] } = {}) {
  return ok(
    parseCertificate(
      selfSignCa(
        {
          network: options.network ?? "lab",
          ...(options.pools ? { pools: options.pools } : {}),
          ...(options.groups ? { groups: options.groups } : {}),
          notBefore: NOW - DAY,
          notAfter: NOW + 365 * DAY,
        },
        seed,
      ),
    ),
  );
}

const ca = makeCa(caKeys.seed, { pools: ["10.88.0.0/16"] });
const otherCa = makeCa(otherKeys.seed, { pools: ["10.88.0.0/16"] });

function request(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return { id: ID, pool: "10.88.200.0/24", prefixLength: 16, notAfter: NOW + 3600, ...overrides };
}

function token(overrides: Partial<TokenRequest> = {}, issuer: Certificate = ca, seed = caKeys.seed): JoinToken {
  return ok(parseToken(createToken(request(overrides), issuer, seed)));
}

test("a token round-trips: one line, the fields, the default lease", () => {
  const text = createToken(request({ groups: ["web", "db", "web"] }), ca, caKeys.seed);
  assert.match(text, /^ipop-token-v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const t = ok(parseToken(`  ${text}\n`));
  assert.equal(t.text, text);
  assert.equal(t.network, "lab");
  assert.equal(t.issuer, ca.nodeId);
  assert.equal(t.pool, "10.88.200.0/24");
  assert.deepEqual(t.poolPrefix, { address: 0x0a58c800, prefixLength: 24 });
  assert.equal(t.prefixLength, 16);
  assert.deepEqual(t.groups, ["db", "web"]);
  assert.equal(t.leaseSeconds, DEFAULT_LEASE_SECONDS);
  assert.equal(ok(verifyToken(t, { ca, nowSeconds: NOW, network: "lab" })), t);
});

test("createToken refuses requests that could never verify", () => {
  const cases: [Partial<TokenRequest>, IdentityErrorCode, RegExp][] = [
    [{ id: "xyz" }, "IPOP_TOKEN_MALFORMED", /id must be 32/],
    [{ pool: "10.88.200.1/24" }, "IPOP_TOKEN_MALFORMED", /host bits/],
    [{ pool: "10.88.200.0/31" }, "IPOP_TOKEN_MALFORMED", /no host addresses/],
    [{ pool: "10.0.0.0/8" }, "IPOP_TOKEN_MALFORMED", /does not fit in the overlay's \/16/],
    [{ prefixLength: 31 }, "IPOP_TOKEN_MALFORMED", /prefixLength/],
    [{ leaseSeconds: 5 }, "IPOP_TOKEN_MALFORMED", /leaseSeconds/],
    [{ groups: ["bad group"] }, "IPOP_TOKEN_MALFORMED", /group/],
    [{ pool: "10.99.0.0/24" }, "IPOP_TOKEN_POOL_NOT_ALLOWED", /outside what CA "lab" allows/],
    [{ notAfter: NOW + 400 * DAY }, "IPOP_CERT_OUTLIVES_CA", /outlive CA/],
  ];
  for (const [overrides, code, pattern] of cases) {
    assert.throws(
      () => createToken(request(overrides), ca, caKeys.seed),
      (error: unknown) => error instanceof IdentityError && error.code === code && pattern.test(error.message),
      JSON.stringify(overrides),
    );
  }
  assert.throws(() => createToken(request(), ca, otherKeys.seed), /does not belong/);
  const limited = makeCa(caKeys.seed, { groups: ["web"] });
  assert.throws(() => createToken(request({ groups: ["db"] }), limited, caKeys.seed), /group "db"/);
});

test("verifyToken: wrong CA, bad signature, wrong network, expired, pool outside the CA's pools", () => {
  const t = token();
  failsWith(verifyToken(t, { ca: otherCa, nowSeconds: NOW }), "IPOP_TOKEN_WRONG_CA", /not by CA "lab"/);
  failsWith(verifyToken(t, { ca, nowSeconds: NOW + 3600 }), "IPOP_TOKEN_EXPIRED", /expired .*ipop token create/);
  ok(verifyToken(t, { ca, nowSeconds: NOW + 3599 }));
  failsWith(verifyToken(t, { ca, nowSeconds: NOW, network: "prod" }), "IPOP_CERT_WRONG_NETWORK");
  failsWith(verifyToken(t, { ca, nowSeconds: NOW + 400 * DAY }), "IPOP_CERT_EXPIRED", /CA certificate/);

  // A token signed by another key that claims this CA as its issuer.
  const forged = ok(parseToken(createToken(request(), { ...otherCa, nodeId: ca.nodeId }, otherKeys.seed)));
  failsWith(verifyToken(forged, { ca, nowSeconds: NOW }), "IPOP_TOKEN_BAD_SIGNATURE", /bad signature/);

  // The same CA key after its pools were narrowed: an older token's pool is no longer allowed.
  const narrowed = makeCa(caKeys.seed, { pools: ["10.88.0.0/24"] });
  failsWith(verifyToken(t, { ca: narrowed, nowSeconds: NOW }), "IPOP_TOKEN_POOL_NOT_ALLOWED");
  // A CA of another network with the same key: the token's network does not match.
  const renamed = makeCa(caKeys.seed, { network: "other" });
  failsWith(verifyToken(t, { ca: renamed, nowSeconds: NOW }), "IPOP_TOKEN_WRONG_NETWORK");
});

test("garbage, truncated and oversized tokens get their own verdicts", () => {
  const text = createToken(request(), ca, caKeys.seed);
  const cases: [string, IdentityErrorCode][] = [
    ["", "IPOP_TOKEN_MALFORMED"],
    ["hello", "IPOP_TOKEN_MALFORMED"],
    ["ipop-token-v1.", "IPOP_TOKEN_MALFORMED"],
    ["ipop-token-v2.abc.def", "IPOP_TOKEN_UNSUPPORTED_VERSION"],
    [text.slice(0, text.length - 10), "IPOP_TOKEN_MALFORMED"],
    [text.slice(0, text.lastIndexOf(".")), "IPOP_TOKEN_MALFORMED"],
    [`${text}.extra`, "IPOP_TOKEN_MALFORMED"],
    [text.replace("ipop-token-v1.", "ipop-token-v1.!"), "IPOP_TOKEN_MALFORMED"],
    ["x".repeat(MAX_TOKEN_CHARS + 1), "IPOP_TOKEN_OVERSIZED"],
  ];
  for (const [input, code] of cases) failsWith(parseToken(input), code);
  failsWith(parseToken(42 as unknown as string), "IPOP_TOKEN_MALFORMED");
});

test("a body that is not canonical, or has unknown fields, is refused even when signed", () => {
  const t = token();
  const resign = (body: string) =>
    `ipop-token-v1.${encodeBase64Url(new TextEncoder().encode(body))}.${encodeBase64Url(
      signMessage(TOKEN_SIGNATURE_CONTEXT, new TextEncoder().encode(body), caKeys.seed),
    )}`;
  const original = new TextDecoder().decode(t.body);
  failsWith(parseToken(resign(original.replace('{"v":1,', '{"v":1, '))), "IPOP_TOKEN_MALFORMED", /canonical/);
  failsWith(parseToken(resign(original.replace('"v":1,', '"v":1,"admin":true,'))), "IPOP_TOKEN_MALFORMED", /unknown/);
  failsWith(parseToken(resign(original.replace('"v":1', '"v":7'))), "IPOP_TOKEN_UNSUPPORTED_VERSION");
  failsWith(parseToken(resign("[]")), "IPOP_TOKEN_MALFORMED", /object/);
  ok(parseToken(resign(original)));
});

test("no change to a token's text goes unnoticed", () => {
  const text = createToken(request(), ca, caKeys.seed);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  fc.assert(
    fc.property(fc.nat(text.length - 1), fc.constantFrom(...alphabet), (index, char) => {
      const altered = text.slice(0, index) + char + text.slice(index + 1);
      if (altered === text) return;
      const parsed = parseToken(altered);
      if (parsed.ok) assert.equal(verifyToken(parsed.value, { ca, nowSeconds: NOW }).ok, false);
    }),
    { numRuns: 300 },
  );
  // Decoding the body of a valid token gives the canonical JSON.
  const body = decodeBase64Url(text.split(".")[1]!)!;
  assert.match(new TextDecoder().decode(body), /^\{"v":1,"network":"lab","id":"0123/);
});
