import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { test } from "vitest";
import { generateKeyPair, nodeIdOf, publicKeyOf, signMessage, verifyMessage } from "./keys.js";

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

test("public key of the RFC 8032 test vector 1", () => {
  const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  assert.equal(
    Buffer.from(publicKeyOf(seed)).toString("hex"),
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  );
});

test("node id is the first 16 bytes of SHA-256 of the public key, in hex", () => {
  const { publicKey } = generateKeyPair(new Uint8Array(32).fill(7));
  const expected = createHash("sha256").update(publicKey).digest("hex").slice(0, 32);
  assert.equal(nodeIdOf(publicKey), expected);
  assert.match(nodeIdOf(publicKey), /^[0-9a-f]{32}$/);
});

test("generateKeyPair copies its random bytes and refuses a wrong length", () => {
  const random = new Uint8Array(32).fill(1);
  const pair = generateKeyPair(random);
  random.fill(0);
  assert.deepEqual(pair.seed, new Uint8Array(32).fill(1));
  assert.throws(() => generateKeyPair(new Uint8Array(31)), RangeError);
});

test("signatures verify with Node's own Ed25519 over context, NUL, message", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 64 }),
      (random, message) => {
        const { seed, publicKey } = generateKeyPair(random);
        const signature = signMessage("ipop-test-v1", message, seed);
        assert.ok(verifyMessage("ipop-test-v1", signature, message, publicKey));
        const key = createPublicKey({
          key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
          format: "jwk",
        });
        const signed = Buffer.concat([Buffer.from("ipop-test-v1\0"), message]);
        assert.ok(nodeVerify(null, signed, key, signature));
      },
    ),
    { numRuns: 30 },
  );
});

test("a signature is bound to its context, message and key", () => {
  const a = generateKeyPair(new Uint8Array(32).fill(1));
  const b = generateKeyPair(new Uint8Array(32).fill(2));
  const message = Uint8Array.of(1, 2, 3);
  const signature = signMessage("ipop-cert-v1", message, a.seed);
  assert.ok(verifyMessage("ipop-cert-v1", signature, message, a.publicKey));
  assert.equal(verifyMessage("ipop-signal-v1", signature, message, a.publicKey), false);
  assert.equal(verifyMessage("ipop-cert-v1", signature, Uint8Array.of(1, 2, 4), a.publicKey), false);
  assert.equal(verifyMessage("ipop-cert-v1", signature, message, b.publicKey), false);
});

test("verifyMessage is total: wrong lengths and junk are false, never a throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 40 }), (signature, publicKey) => {
      assert.equal(verifyMessage("ipop-test-v1", signature, Uint8Array.of(1), publicKey), false);
    }),
  );
  // Small-order public key (the identity point) with a signature that ZIP-215 would accept.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const signature = new Uint8Array(64);
  signature[0] = 1;
  assert.equal(verifyMessage("ipop-test-v1", signature, Uint8Array.of(1), identity), false);
});

test("a malformed context is a programming error", () => {
  const { seed } = generateKeyPair(new Uint8Array(32).fill(1));
  assert.throws(() => signMessage("Bad Context", Uint8Array.of(), seed), RangeError);
  assert.throws(() => signMessage("a\0b", Uint8Array.of(), seed), RangeError);
});
