import assert from "node:assert/strict";
import { test } from "vitest";
import { failsWith, ok } from "../testing/verdicts.js";
import { encodeBase64 } from "./base64.js";
import { generateKeyPair, signMessage } from "./keys.js";
import { parseCertificate } from "./parse.js";
import {
  createRevocationList,
  MAX_REVOCATION_ENTRIES,
  MAX_REVOCATION_LIST_BYTES,
  parseRevocationList,
  REVOCATION_SIGNATURE_CONTEXT,
  type RevocationEntry,
  revokedSet,
  verifyRevocationList,
} from "./revocation.js";
import { selfSignCa, signCertificate } from "./sign.js";
import { verifyCertificate } from "./verify.js";

const NOW = Date.UTC(2026, 4, 1) / 1000;
const DAY = 86_400;
const caKeys = generateKeyPair(new Uint8Array(32).fill(1));
const otherKeys = generateKeyPair(new Uint8Array(32).fill(3));
const nodeKeys = generateKeyPair(new Uint8Array(32).fill(2));
const NODE_A = "a0e2e77823ca86dbdadb73231678d982";

function makeCa(seed: Uint8Array, network = "lab") {
  return ok(parseCertificate(selfSignCa({ network, notBefore: NOW - DAY, notAfter: NOW + 365 * DAY }, seed)));
}

const ca = makeCa(caKeys.seed);
const otherCa = makeCa(otherKeys.seed);
const entries: RevocationEntry[] = [
  { nodeId: NODE_A, at: NOW },
  { name: "host7", at: NOW + 1 },
  { nodeId: "0123456789abcdef0123456789abcdef", name: "web1", at: NOW + 2 },
];

test("a list round-trips and verifies; revokedSet holds its node ids and names", () => {
  const text = createRevocationList({ serial: 3, issuedAt: NOW, entries }, ca, caKeys.seed);
  assert.match(text, /^-----BEGIN IPOP REVOCATION LIST-----\n/);
  const list = ok(parseRevocationList(text));
  assert.equal(list.text, text);
  assert.equal(list.serial, 3);
  assert.equal(list.network, "lab");
  assert.equal(list.issuer, ca.nodeId);
  assert.deepEqual(list.entries, entries);
  ok(verifyRevocationList(list, { ca, network: "lab" }));
  assert.deepEqual([...revokedSet(list)].sort(), [NODE_A, "host7", "0123456789abcdef0123456789abcdef", "web1"].sort());
  // Bytes of the file parse the same; CRLF line ends are fine.
  ok(parseRevocationList(new TextEncoder().encode(text.replace(/\n/g, "\r\n"))));
  // An empty list is a list.
  const empty = ok(
    parseRevocationList(createRevocationList({ serial: 0, issuedAt: NOW, entries: [] }, ca, caKeys.seed)),
  );
  assert.equal(revokedSet(empty).size, 0);
});

test("revokedSet plugs into verifyCertificate", () => {
  const cert = ok(
    parseCertificate(
      signCertificate(
        { name: "host7", ip: "10.88.0.7/16", notBefore: NOW - 60, notAfter: NOW + DAY, publicKey: nodeKeys.publicKey },
        ca,
        caKeys.seed,
      ),
    ),
  );
  const list = ok(parseRevocationList(createRevocationList({ serial: 1, issuedAt: NOW, entries }, ca, caKeys.seed)));
  failsWith(verifyCertificate(cert, { ca, nowSeconds: NOW, revoked: revokedSet(list) }), "IPOP_CERT_REVOKED");
});

test("wrong CA, bad signature and wrong network are refused", () => {
  const list = ok(parseRevocationList(createRevocationList({ serial: 1, issuedAt: NOW, entries }, ca, caKeys.seed)));
  failsWith(verifyRevocationList(list, { ca: otherCa }), "IPOP_CRL_WRONG_CA");
  failsWith(verifyRevocationList(list, { ca, network: "prod" }), "IPOP_CRL_WRONG_NETWORK");
  // Signed by another key, claiming this CA as its issuer.
  const forged = ok(
    parseRevocationList(
      createRevocationList(
        { serial: 9, issuedAt: NOW, entries: [] },
        { ...otherCa, nodeId: ca.nodeId },
        otherKeys.seed,
      ),
    ),
  );
  failsWith(verifyRevocationList(forged, { ca }), "IPOP_CRL_BAD_SIGNATURE");
  // A node certificate is no CA.
  failsWith(verifyRevocationList(list, { ca: { ...ca, kind: "node" } }), "IPOP_CERT_WRONG_KIND");
});

test("truncated, garbage and oversized lists get their own verdicts", () => {
  const text = createRevocationList({ serial: 1, issuedAt: NOW, entries }, ca, caKeys.seed);
  failsWith(parseRevocationList(""), "IPOP_CRL_TRUNCATED");
  failsWith(parseRevocationList(text.slice(0, text.length / 2)), "IPOP_CRL_TRUNCATED");
  failsWith(parseRevocationList(text.replace("REVOCATION LIST", "CERTIFICATE")), "IPOP_CRL_MALFORMED");
  failsWith(
    parseRevocationList("-----BEGIN IPOP CERTIFICATE-----\nAA==\n-----END IPOP CERTIFICATE-----\n"),
    "IPOP_CRL_MALFORMED",
  );
  failsWith(parseRevocationList("x".repeat(MAX_REVOCATION_LIST_BYTES + 1)), "IPOP_CRL_OVERSIZED");
  failsWith(parseRevocationList(new Uint8Array([0xff, 0xfe])), "IPOP_CRL_MALFORMED");
  failsWith(parseRevocationList(null as unknown as string), "IPOP_CRL_MALFORMED");

  const sign = (body: string) => {
    const bytes = new TextEncoder().encode(body);
    const payload = `${encodeBase64(bytes)}.${encodeBase64(signMessage(REVOCATION_SIGNATURE_CONTEXT, bytes, caKeys.seed))}`;
    const lines = payload.match(/.{1,64}/g)!.join("\n");
    return `-----BEGIN IPOP REVOCATION LIST-----\n${lines}\n-----END IPOP REVOCATION LIST-----\n`;
  };
  const base = `{"v":1,"network":"lab","issuer":"${ca.nodeId}","serial":1,"issuedAt":${NOW},"entries":`;
  ok(parseRevocationList(sign(`${base}[]}`)));
  failsWith(parseRevocationList(sign(`${base}[{"at":${NOW}}]}`)), "IPOP_CRL_MALFORMED", /neither/);
  failsWith(parseRevocationList(sign(`${base}[{"nodeId":"XYZ","at":${NOW}}]}`)), "IPOP_CRL_MALFORMED");
  failsWith(parseRevocationList(sign(`${base}[{"name":"a","at":1,"why":"x"}]}`)), "IPOP_CRL_MALFORMED");
  failsWith(parseRevocationList(sign(`${base}[{"at":1,"name":"a"}]}`)), "IPOP_CRL_MALFORMED", /canonical/);
  failsWith(parseRevocationList(sign(`${base} []}`)), "IPOP_CRL_MALFORMED", /canonical/);
  failsWith(parseRevocationList(sign(`${base.replace('"v":1', '"v":2')}[]}`)), "IPOP_CRL_UNSUPPORTED_VERSION");
  const many = Array.from({ length: MAX_REVOCATION_ENTRIES + 1 }, () => `{"name":"a","at":1}`).join(",");
  failsWith(parseRevocationList(sign(`${base}[${many}]}`)), "IPOP_CRL_OVERSIZED");
});

test("createRevocationList refuses bad entries, a foreign key and lists over the limits", () => {
  assert.throws(
    () => createRevocationList({ serial: 1, issuedAt: NOW, entries: [{ at: NOW }] }, ca, caKeys.seed),
    /neither/,
  );
  assert.throws(() => createRevocationList({ serial: -1, issuedAt: NOW, entries: [] }, ca, caKeys.seed), /serial/);
  assert.throws(
    () => createRevocationList({ serial: 1, issuedAt: NOW, entries: [] }, ca, otherKeys.seed),
    /does not belong/,
  );
  const tooMany = Array.from({ length: MAX_REVOCATION_ENTRIES + 1 }, (_, i) => ({ name: `n${i}`, at: NOW }));
  assert.throws(
    () => createRevocationList({ serial: 1, issuedAt: NOW, entries: tooMany }, ca, caKeys.seed),
    /more than/,
  );
  const big = Array.from({ length: MAX_REVOCATION_ENTRIES }, (_, i) => ({
    nodeId: NODE_A,
    name: `${"n".repeat(55)}${String(i).padStart(8, "0")}`,
    at: NOW,
  }));
  assert.throws(
    () => createRevocationList({ serial: 1, issuedAt: NOW, entries: big }, ca, caKeys.seed),
    (error: unknown) => (error as { code?: string }).code === "IPOP_CRL_OVERSIZED",
  );
});
