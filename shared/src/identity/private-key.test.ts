import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { generateKeyPair } from "./keys.js";
import { formatPrivateKey, keyMatches, parsePrivateKey } from "./private-key.js";

test("a private key file round-trips and matches its public key", () => {
  const { seed, publicKey } = generateKeyPair(new Uint8Array(32).fill(5));
  const text = formatPrivateKey(seed);
  assert.match(text, /^-----BEGIN IPOP PRIVATE KEY-----\n[A-Za-z0-9+/]{43}=\n-----END IPOP PRIVATE KEY-----\n$/);
  const parsed = parsePrivateKey(text);
  assert.ok(parsed.ok);
  if (parsed.ok) {
    assert.deepEqual(parsed.value, seed);
    assert.ok(keyMatches(parsed.value, publicKey));
  }
  assert.equal(keyMatches(seed, generateKeyPair(new Uint8Array(32).fill(6)).publicKey), false);
});

test("anything else is IPOP_KEY_MALFORMED and never throws", () => {
  const cert = "-----BEGIN IPOP CERTIFICATE-----\nQQ==\n-----END IPOP CERTIFICATE-----\n";
  const short = "-----BEGIN IPOP PRIVATE KEY-----\nQQ==\n-----END IPOP PRIVATE KEY-----\n";
  for (const input of ["", cert, short, "x".repeat(5000), formatPrivateKey(new Uint8Array(32)).slice(0, 50)]) {
    const result = parsePrivateKey(input);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.code, "IPOP_KEY_MALFORMED");
  }
  const wrong = parsePrivateKey(cert);
  assert.ok(!wrong.ok && /certificate, not a key/.test(wrong.message));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const result = parsePrivateKey(bytes);
      assert.ok(!result.ok && result.code === "IPOP_KEY_MALFORMED");
    }),
  );
});
