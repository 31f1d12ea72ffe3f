import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "./base64.js";

test("base64 and base64url match Node's encoders and round-trip", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const b = Buffer.from(bytes);
      assert.equal(encodeBase64(bytes), b.toString("base64"));
      assert.equal(encodeBase64Url(bytes), b.toString("base64url"));
      assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
      assert.deepEqual(decodeBase64Url(encodeBase64Url(bytes)), bytes);
    }),
  );
});

test("decoding is canonical: one text per byte string", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary-ascii", maxLength: 24 }), (text) => {
      const bytes = decodeBase64(text);
      if (bytes !== null) assert.equal(encodeBase64(bytes), text);
      const url = decodeBase64Url(text);
      if (url !== null) assert.equal(encodeBase64Url(url), text);
    }),
  );
});

test("non-canonical and foreign base64 is refused", () => {
  for (const bad of ["QR==", "QUJ=", "QQ", "QQ=", "Q===", "Q", "QUJD\n", " QUJD", "QU-D", "QUJD===="]) {
    assert.equal(decodeBase64(bad), null, bad);
  }
  for (const bad of ["QR", "QUJ", "Q", "QQ==", "QU+D", "QUJ/"]) assert.equal(decodeBase64Url(bad), null, bad);
  assert.deepEqual(decodeBase64(""), new Uint8Array(0));
  assert.deepEqual(decodeBase64("QQ=="), Uint8Array.of(0x41));
  assert.deepEqual(decodeBase64Url("QUI"), Uint8Array.of(0x41, 0x42));
});
