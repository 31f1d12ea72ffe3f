import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import type { IdentityErrorCode } from "../errors.js";
import { failsWith, ok } from "../testing/verdicts.js";
import { armor } from "./armor.js";
import { encodeBase64 } from "./base64.js";
import { MAX_CERTIFICATE_BYTES, MAX_GROUPS, MAX_POOLS } from "./certificate.js";
import { generateKeyPair, nodeIdOf, signMessage } from "./keys.js";
import { formatCertificate, parseCertificate } from "./parse.js";
import { formatPrivateKey } from "./private-key.js";
import { selfSignCa, signCertificate } from "./sign.js";
import { CERTIFICATE_SIGNATURE_CONTEXT } from "./verify.js";

const NOW = 1_780_000_000;
const DAY = 86_400;
const caKeys = generateKeyPair(new Uint8Array(32).fill(1));
const nodeKeys = generateKeyPair(new Uint8Array(32).fill(2));

const CODES: readonly IdentityErrorCode[] = [
  "IPOP_CERT_MALFORMED",
  "IPOP_CERT_TRUNCATED",
  "IPOP_CERT_OVERSIZED",
  "IPOP_CERT_UNSUPPORTED_VERSION",
];

const caText = selfSignCa({ network: "lab", notBefore: NOW - DAY, notAfter: NOW + 365 * DAY }, caKeys.seed);
const ca = ok(parseCertificate(caText));
const nodeText = signCertificate(
  {
    name: "host7",
    ip: "10.88.0.7/16",
    groups: ["web", "db", "web"],
    notBefore: NOW - 60,
    notAfter: NOW + 30 * DAY,
    publicKey: nodeKeys.publicKey,
  },
  ca,
  caKeys.seed,
);

/** A certificate around any body text, signed by `seed`: for bodies `signCertificate` refuses to make. */
function craft(body: string, seed = caKeys.seed): string {
  const bytes = new TextEncoder().encode(body);
  return formatCertificate({ body: bytes, signature: signMessage(CERTIFICATE_SIGNATURE_CONTEXT, bytes, seed) });
}

function bodyOf(text: string): string {
  return new TextDecoder().decode(ok(parseCertificate(text)).body);
}

test("a node certificate round-trips through text", () => {
  const cert = ok(parseCertificate(nodeText));
  assert.equal(cert.kind, "node");
  assert.equal(cert.network, "lab");
  assert.equal(cert.name, "host7");
  assert.equal(cert.ip, "10.88.0.7/16");
  assert.deepEqual(cert.address, { address: 0x0a580007, prefixLength: 16 });
  assert.deepEqual(cert.groups, ["db", "web"]);
  assert.equal(cert.pools, undefined);
  assert.deepEqual(cert.poolPrefixes, []);
  assert.equal(cert.notBefore, NOW - 60);
  assert.equal(cert.notAfter, NOW + 30 * DAY);
  assert.deepEqual(cert.publicKey, nodeKeys.publicKey);
  assert.equal(cert.nodeId, nodeIdOf(nodeKeys.publicKey));
  assert.equal(cert.issuer, ca.nodeId);
  assert.equal(formatCertificate(cert), nodeText);
  assert.match(
    nodeText,
    /^-----BEGIN IPOP CERTIFICATE-----\n([A-Za-z0-9+/=.]{1,64}\n)+-----END IPOP CERTIFICATE-----\n$/,
  );
});

test("a CA certificate is self-signed, with its own node id as issuer", () => {
  assert.equal(ca.kind, "ca");
  assert.equal(ca.name, "lab");
  assert.equal(ca.issuer, nodeIdOf(caKeys.publicKey));
  assert.equal(ca.issuer, ca.nodeId);
});

test("the body is canonical JSON with the documented fields", () => {
  const body = JSON.parse(bodyOf(nodeText)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), [
    "v",
    "kind",
    "network",
    "name",
    "ip",
    "groups",
    "notBefore",
    "notAfter",
    "publicKey",
    "issuer",
  ]);
  assert.equal(body.v, 1);
  assert.equal(body.publicKey, Buffer.from(nodeKeys.publicKey).toString("base64url"));
});

test("bytes and text parse alike; CRLF line ends and surrounding blank lines are accepted", () => {
  assert.deepEqual(ok(parseCertificate(new TextEncoder().encode(nodeText))), ok(parseCertificate(nodeText)));
  const windows = `\r\n${nodeText.replace(/\n/g, "\r\n")}\r\n`;
  assert.equal(ok(parseCertificate(windows)).name, "host7");
  const lines = nodeText.trim().split("\n");
  const oneLine = [lines[0], lines.slice(1, -1).join(""), lines.at(-1)].join("\n");
  assert.equal(ok(parseCertificate(oneLine)).name, "host7");
});

test("the largest certificate the limits allow fits well under the size limit", () => {
  const long = (i: number) => `g${String(i).padStart(2, "0")}${"x".repeat(60)}`;
  const big = generateKeyPair(new Uint8Array(32).fill(9));
  const bigCa = ok(
    parseCertificate(
      selfSignCa({ network: "n".repeat(64), notBefore: 0, notAfter: 253402300799, name: "c".repeat(64) }, big.seed),
    ),
  );
  const text = signCertificate(
    {
      name: "h".repeat(63),
      ip: "192.168.100.200/24",
      pools: Array.from({ length: MAX_POOLS }, (_, i) => `172.16.${100 + i}.128/25`),
      groups: Array.from({ length: MAX_GROUPS }, (_, i) => long(i)),
      notBefore: 1_000_000_000,
      notAfter: 253402300799,
      publicKey: nodeKeys.publicKey,
    },
    bigCa,
    big.seed,
  );
  assert.ok(text.length < MAX_CERTIFICATE_BYTES / 2, `${text.length} bytes`);
  assert.equal(ok(parseCertificate(text)).groups.length, MAX_GROUPS);
});

test("oversized input is refused before it is read", () => {
  failsWith(parseCertificate(nodeText + " ".repeat(MAX_CERTIFICATE_BYTES)), "IPOP_CERT_OVERSIZED", /8192/);
  failsWith(parseCertificate(new Uint8Array(MAX_CERTIFICATE_BYTES + 1)), "IPOP_CERT_OVERSIZED");
  failsWith(parseCertificate("x".repeat(50_000_000)), "IPOP_CERT_OVERSIZED");
  assert.ok(parseCertificate(" ".repeat(MAX_CERTIFICATE_BYTES)).ok === false);
});

test("every cut-short prefix of a certificate is reported as truncated", () => {
  for (let length = 0; length < nodeText.length - 1; length++) {
    const result = parseCertificate(nodeText.slice(0, length));
    if (result.ok || result.code !== "IPOP_CERT_TRUNCATED") {
      assert.fail(`prefix of ${length} bytes: ${result.ok ? "accepted" : `${result.code} ${result.message}`}`);
    }
  }
  failsWith(parseCertificate(""), "IPOP_CERT_TRUNCATED", /empty/);
  // Without the final newline it is whole.
  assert.ok(parseCertificate(nodeText.slice(0, -1)).ok);
});

test("malformed certificates get IPOP_CERT_MALFORMED with a reason", () => {
  const cases: [string, string, RegExp][] = [
    ["a private key", formatPrivateKey(nodeKeys.seed), /"IPOP PRIVATE KEY" block/],
    ["plain text", "hello world", /does not start with/],
    ["text after the end", `${nodeText}more\n`, /follows/],
    ["text on the begin line", nodeText.replace("-----\n", "----- x\n"), /follows/],
    ["no signature part", armor("IPOP CERTIFICATE", encodeBase64(new Uint8Array(10))), /<body>\.<signature>/],
    ["three parts", armor("IPOP CERTIFICATE", "QQ==.QQ==.QQ=="), /<body>\.<signature>/],
    ["non-canonical base64", armor("IPOP CERTIFICATE", "QR==.QQ=="), /base64/],
    ["short signature", armor("IPOP CERTIFICATE", `QQ==.${encodeBase64(new Uint8Array(63))}`), /63 bytes/],
    ["non-base64 characters", nodeText.replace(/\n[A-Za-z]/, "\n!"), /not base64/],
    ["body not JSON", craft("{nope"), /not JSON/],
    ["body a JSON array", craft("[1]"), /not a JSON object/],
    ["body not ASCII", craft('{"v":1,"name":"h\u00e9"}'), /ASCII/],
    ["no version", craft('{"kind":"node"}'), /no version/],
  ];
  for (const [what, text, pattern] of cases) {
    const result = parseCertificate(text);
    assert.equal(result.ok, false, what);
    if (!result.ok) {
      assert.equal(result.code, "IPOP_CERT_MALFORMED", `${what}: ${result.message}`);
      assert.match(result.message, pattern, what);
    }
  }
});

test("a later certificate version is refused as unsupported, with what to do", () => {
  failsWith(
    parseCertificate(craft(bodyOf(nodeText).replace('"v":1', '"v":2'))),
    "IPOP_CERT_UNSUPPORTED_VERSION",
    /upgrade/,
  );
});

test("a body must be the canonical encoding of valid fields", () => {
  const body = bodyOf(nodeText);
  const parsed = JSON.parse(body) as Record<string, unknown>;
  const variants: [string, string, RegExp][] = [
    ["spaces", body.replace(":", ": "), /canonical/],
    ["newlines", JSON.stringify(parsed, null, 1), /printable ASCII/],
    ["reordered", JSON.stringify({ kind: "node", ...parsed }), /canonical/],
    ["duplicate key", body.replace('"name":"host7"', '"name":"evil","name":"host7"'), /canonical/],
    ["unknown field", body.replace('"v":1', '"v":1,"admin":true'), /unknown field "admin"/],
    ["null ip", body.replace('"ip":"10.88.0.7/16"', '"ip":null'), /wrong type/],
    ["missing issuer", JSON.stringify({ ...parsed, issuer: undefined }), /lacks a field/],
    ["number as text", body.replace(`"notBefore":${NOW - 60}`, `"notBefore":"${NOW - 60}"`), /wrong type/],
    ["float time", body.replace(`"notBefore":${NOW - 60}`, `"notBefore":${NOW - 60}.5`), /whole seconds/],
    ["exponent time", body.replace(`"notBefore":${NOW - 60}`, `"notBefore":${(NOW - 60) / 10}e1`), /canonical/],
    ["negative time", body.replace(`"notBefore":${NOW - 60}`, '"notBefore":-1'), /whole seconds/],
    ["year 10000", body.replace(`"notAfter":${NOW + 30 * DAY}`, '"notAfter":253402300800'), /9999/],
    ["ends before it starts", body.replace(`"notAfter":${NOW + 30 * DAY}`, `"notAfter":${NOW - 60}`), /later/],
    ["unsorted groups", body.replace('["db","web"]', '["web","db"]'), /sorted/],
    ["duplicate groups", body.replace('["db","web"]', '["db","db"]'), /sorted and distinct/],
    ["bad group", body.replace('["db","web"]', '["db","w b"]'), /group "w b"/],
    ["network address as ip", body.replace("10.88.0.7/16", "10.88.0.0/16"), /network address/],
    ["no ip nor pools", JSON.stringify({ ...parsed, ip: undefined }), /needs an ip or pools/],
    ["empty pools", body.replace('"groups"', '"pools":[],"groups"'), /1 to 16/],
    ["pool with host bits", body.replace('"groups"', '"pools":["10.88.1.1/24"],"groups"'), /host bits/],
    ["bad node name", body.replace('"host7"', '"-host7"'), /node name/],
    ["bad network", body.replace('"lab"', '"l a b"'), /network/],
    ["short key", body.replace(/"publicKey":"[^"]+"/, '"publicKey":"AAAA"'), /32 bytes/],
    ["bad key encoding", body.replace(/"publicKey":"[^"]+"/, '"publicKey":"A+=="'), /base64url/],
    ["bad issuer", body.replace(/"issuer":"[^"]+"/, '"issuer":"CA"'), /issuer/],
    ["unknown kind", body.replace('"kind":"node"', '"kind":"root"'), /wrong type/],
    ["a CA with an ip", body.replace('"kind":"node"', '"kind":"ca"'), /CA certificate has no ip/],
  ];
  for (const [what, variant, pattern] of variants) {
    assert.notEqual(variant, body, what);
    const result = parseCertificate(craft(variant));
    assert.equal(result.ok, false, what);
    if (!result.ok) {
      assert.equal(result.code, "IPOP_CERT_MALFORMED", `${what}: ${result.message}`);
      assert.match(result.message, pattern, `${what}: ${result.message}`);
    }
  }
  const caBody = JSON.parse(bodyOf(caText)) as Record<string, unknown>;
  const intermediate = JSON.stringify({ ...caBody, issuer: "0".repeat(32) });
  failsWith(parseCertificate(craft(intermediate)), "IPOP_CERT_MALFORMED", /self-signed/);
});

test("random garbage is refused with a typed verdict and never throws", () => {
  const check = (input: string | Uint8Array) => {
    const result = parseCertificate(input);
    assert.equal(result.ok, false);
    if (!result.ok) assert.ok(CODES.includes(result.code), result.code);
  };
  fc.assert(fc.property(fc.string({ maxLength: 300 }), check), { numRuns: 500 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 500 });
  const inside = fc.stringMatching(/^[A-Za-z0-9+/=.\n]{0,400}$/);
  fc.assert(
    fc.property(inside, (payload) =>
      check(`-----BEGIN IPOP CERTIFICATE-----\n${payload}\n-----END IPOP CERTIFICATE-----\n`),
    ),
    { numRuns: 500 },
  );
  // Valid base64 around random JSON values: reaches the body decoder.
  fc.assert(
    fc.property(fc.jsonValue(), fc.uint8Array({ minLength: 64, maxLength: 64 }), (value, signature) => {
      const body = new TextEncoder().encode(JSON.stringify(value) ?? "null");
      check(formatCertificate({ body, signature }));
    }),
    { numRuns: 500 },
  );
});
