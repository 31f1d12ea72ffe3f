import assert from "node:assert/strict";
import { test } from "vitest";
import { sameFingerprint, sdpFingerprints } from "./dtls-fingerprint.js";

test("fingerprints are read from every a=fingerprint line and compared without case", () => {
  const sdp =
    "v=0\r\na=fingerprint:SHA-256 ab:CD:01\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
    "a=fingerprint:sha-1 00:11\r\na=fingerprint:sha-256 not-hex\r\n";
  const found = sdpFingerprints(sdp);
  assert.deepEqual(found, [
    { algorithm: "sha-256", value: "AB:CD:01" },
    { algorithm: "sha-1", value: "00:11" },
  ]);
  assert.ok(sameFingerprint(found[0]!, { algorithm: "sha-256", value: "ab:cd:01" }));
  assert.ok(!sameFingerprint(found[0]!, { algorithm: "sha-256", value: "ab:cd:02" }));
  assert.ok(!sameFingerprint(found[0]!, { algorithm: "sha-1", value: "ab:cd:01" }));
  assert.deepEqual(sdpFingerprints(""), []);
});
