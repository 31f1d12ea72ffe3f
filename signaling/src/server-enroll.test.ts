/** A server with the CA key (`--ca-key`): certificates for join tokens, address leases, renewals. */
import assert from "node:assert/strict";
import {
  type Certificate,
  formatCertificate,
  formatIpv4Address,
  nodeIdOf,
  parseCertificate,
  signEnrollRequest,
  signRenewRequest,
} from "@ipop/shared";
import { test } from "vitest";
import type { AuthorityOptions } from "./authority.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { joinMessage, keysFor, makeCa, makeNode, type TestCa } from "./testing/ca-fixtures.js";
import { TestClient, waitFor } from "./testing/test-client.js";

const clock = { now: Date.UTC(2026, 4, 1) };
const HOUR_MS = 3_600_000;

async function withIssuingServer(
  body: (server: SignalServer, ca: TestCa) => Promise<void>,
  options: Partial<AuthorityOptions> = {},
): Promise<void> {
  const ca = makeCa(clock.now, { pools: ["10.88.0.0/16"] });
  const server = await startSignalServer({
    wallClock: () => clock.now,
    authority: { ca: ca.ca, caKey: ca.keys.seed, ...options },
  });
  try {
    await body(server, ca);
  } finally {
    await server.close();
  }
}

function certOf(text: string): Certificate {
  const parsed = parseCertificate(text);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
  return parsed.value;
}

/** Enrolls `name` with the key labelled `label` on a fresh connection; returns the answer. */
async function enroll(server: SignalServer, token: string, name: string, label = name) {
  const c = await TestClient.connect(server.url);
  c.sendJson(signEnrollRequest({ network: "lab", token, name }, keysFor(label).seed));
  const answer = await c.next();
  await c.close();
  return answer;
}

async function enrolled(server: SignalServer, token: string, name: string, label = name): Promise<Certificate> {
  const answer = await enroll(server, token, name, label);
  assert.equal(answer.t, "enrolled", JSON.stringify(answer));
  return certOf((answer as { cert: string }).cert);
}

async function refusedEnroll(
  server: SignalServer,
  token: string,
  name: string,
  code: string,
  reason?: string,
  label = name,
) {
  const answer = await enroll(server, token, name, label);
  assert.equal(answer.t, "error", JSON.stringify(answer));
  if (answer.t !== "error") return;
  assert.equal(answer.code, code, answer.message);
  assert.equal(answer.reason, reason, answer.message);
}

test("enroll: a certificate with the first free address of the pool, the token's groups and lease", () =>
  withIssuingServer(async (server, ca) => {
    const token = ca.token({ groups: ["web"], leaseSeconds: 600 });
    const c = await TestClient.connect(server.url);
    const keys = keysFor("vm1");
    c.sendJson(signEnrollRequest({ network: "lab", token, name: "vm1" }, keys.seed));
    const answer = await c.expect("enrolled");
    assert.equal(answer.ca, ca.text);
    const cert = certOf(answer.cert);
    assert.equal(cert.name, "vm1");
    assert.equal(cert.ip, "10.88.200.1/16");
    assert.deepEqual(cert.pools, ["10.88.200.0/24"]);
    assert.deepEqual(cert.groups, ["web"]);
    assert.equal(cert.notAfter, Math.floor(clock.now / 1000) + 600);
    assert.equal(cert.nodeId, nodeIdOf(keys.publicKey));
    // The same connection may join with it at once.
    const node = {
      ...makeNode("vm1", "10.88.200.1", "vm1"),
      keys,
      keyId: cert.nodeId,
      nodeId: `${cert.nodeId}-00000001`,
    };
    c.sendJson(joinMessage(node, answer.cert, clock.now));
    await c.expect("welcome");
    // Enrolling again with the same key keeps the address; another key gets the next one.
    assert.equal((await enrolled(server, token, "vm1")).ip, "10.88.200.1/16");
    assert.equal((await enrolled(server, token, "vm2")).ip, "10.88.200.2/16");
    await c.close();
  }));

test("bad tokens and requests are refused, each with its reason", () =>
  withIssuingServer(async (server, ca) => {
    const token = ca.token();
    await refusedEnroll(server, "garbage", "vm1", "token-invalid", "IPOP_TOKEN_MALFORMED");
    await refusedEnroll(server, token.slice(0, -20), "vm1", "token-invalid", "IPOP_TOKEN_MALFORMED");
    const foreign = makeCa(clock.now, { label: "foreign", pools: ["10.88.0.0/16"] });
    await refusedEnroll(server, foreign.token(), "vm1", "token-invalid", "IPOP_TOKEN_WRONG_CA");
    const shortLived = ca.token({ notAfter: Math.floor(clock.now / 1000) + 60 });
    clock.now += 61_000;
    await refusedEnroll(server, shortLived, "vm1", "token-invalid", "IPOP_TOKEN_EXPIRED");

    // A proof by another key than the one to certify.
    const c = await TestClient.connect(server.url);
    const request = signEnrollRequest({ network: "lab", token, name: "vm1" }, keysFor("vm1").seed);
    const other = signEnrollRequest({ network: "lab", token, name: "vm1" }, keysFor("intruder").seed);
    c.sendJson({ ...request, publicKey: other.publicKey });
    const error = await c.expect("error");
    assert.equal(error.code, "unauthorized");
    assert.equal(error.reason, "IPOP_ENROLL_BAD_PROOF");
    // A name held by another key.
    c.sendJson(request);
    await c.expect("enrolled");
    await refusedEnroll(server, token, "vm1", "name-in-use", undefined, "another-vm");
    await c.close();
  }));

test("a pool's last address goes out once; then pool-exhausted", () =>
  withIssuingServer(async (server, ca) => {
    const token = ca.token({ pool: "10.88.201.0/30" });
    assert.equal((await enrolled(server, token, "a")).ip, "10.88.201.1/16");
    assert.equal((await enrolled(server, token, "b")).ip, "10.88.201.2/16");
    await refusedEnroll(server, token, "c", "pool-exhausted");
  }));

test("200 simultaneous enrollments over real WebSockets get 200 distinct addresses", () =>
  withIssuingServer(async (server, ca) => {
    const token = ca.token({ pool: "10.88.100.0/24" });
    const requests = Array.from({ length: 200 }, (_, i) =>
      signEnrollRequest({ network: "lab", token, name: `n${i}` }, keysFor(`bulk-${i}`).seed),
    );
    const clients = await Promise.all(requests.map(() => TestClient.connect(server.url)));
    clients.forEach((client, i) => {
      client.sendJson(requests[i]);
    });
    const answers = await Promise.all(clients.map((client) => client.expect("enrolled", 30_000)));
    const addresses = answers.map((answer) => certOf(answer.cert).ip);
    assert.equal(new Set(addresses).size, 200);
    for (const ip of addresses) assert.match(ip!, /^10\.88\.100\.([1-9]|[1-9]\d|1\d\d|200)\/16$/);
    await Promise.all(clients.map((client) => client.close()));
  }));

test("renew keeps the address; a certificate not from a token cannot be renewed", () =>
  withIssuingServer(async (server, ca) => {
    const cert = await enrolled(server, ca.token(), "vm1");
    const c = await TestClient.connect(server.url);
    const keys = keysFor("vm1");
    const text = formatCertificate(cert);
    clock.now += HOUR_MS / 2;
    c.sendJson(signRenewRequest({ network: "lab", certText: text, timeMs: clock.now }, keys.seed));
    const renewed = certOf((await c.expect("enrolled")).cert);
    assert.equal(renewed.ip, cert.ip);
    assert.equal(renewed.nodeId, cert.nodeId);
    assert.equal(renewed.notAfter - renewed.notBefore, cert.notAfter - cert.notBefore);
    assert.ok(renewed.notAfter > cert.notAfter);

    // Signed by another key: refused.
    c.sendJson(signRenewRequest({ network: "lab", certText: text, timeMs: clock.now }, keysFor("thief").seed));
    assert.equal((await c.expect("error")).reason, "IPOP_JOIN_BAD_SIGNATURE");
    // A fixed-address certificate from `ipop cert sign`.
    const host = makeNode("host7", "10.88.0.7");
    c.sendJson(signRenewRequest({ network: "lab", certText: ca.certify(host), timeMs: clock.now }, host.keys.seed));
    assert.equal((await c.expect("error")).reason, "IPOP_RENEW_NOT_LEASED");
    // Expired: enroll again.
    clock.now += 2 * HOUR_MS;
    c.sendJson(signRenewRequest({ network: "lab", certText: text, timeMs: clock.now }, keys.seed));
    assert.equal((await c.expect("error")).reason, "IPOP_CERT_EXPIRED");
    await c.close();
  }));

test("a member's address is kept for the grace period after it leaves, then handed out again", () =>
  withIssuingServer(
    async (server, ca) => {
      const token = ca.token({ pool: "10.88.202.0/30" });
      const certText = async (name: string) => {
        const answer = await enroll(server, token, name);
        assert.equal(answer.t, "enrolled");
        return (answer as { cert: string }).cert;
      };
      const aText = await certText("a");
      await certText("b");
      await refusedEnroll(server, token, "c", "pool-exhausted");
      // a joins and leaves; its address is held for it during the grace period.
      const aCert = certOf(aText);
      const a = {
        ...makeNode("a", "10.88.202.1"),
        keys: keysFor("a"),
        keyId: aCert.nodeId,
        nodeId: `${aCert.nodeId}-00000001`,
      };
      const member = await TestClient.connect(server.url);
      member.sendJson(joinMessage(a, aText, clock.now));
      await member.expect("welcome");
      await member.close();
      await waitFor(() => server.stats().members === 0);
      await refusedEnroll(server, token, "c", "pool-exhausted");
      clock.now += 1001;
      const c = await enrolled(server, token, "c");
      assert.equal(c.ip, "10.88.202.1/16");
      assert.equal(formatIpv4Address(c.address!.address), "10.88.202.1");
      // a, coming back with its old certificate, finds its address leased to c.
      const back = await TestClient.connect(server.url);
      back.sendJson(joinMessage(a, aText, clock.now));
      assert.equal((await back.expect("error")).code, "address-in-use");
      await back.closedWithin();
    },
    { releaseGraceMs: 1000 },
  ));

test("revoked keys and names cannot enroll; a server without the key does not issue", async () => {
  await withIssuingServer(async (server, ca) => {
    const p = await TestClient.connect(server.url);
    const list = ca.revocations(1, [
      { name: "banned", at: 1 },
      { nodeId: nodeIdOf(keysFor("evil").publicKey), at: 1 },
    ]);
    p.sendJson({ v: 1, t: "publish-revocations", network: "lab", list });
    await p.expect("published");
    await p.close();
    await refusedEnroll(server, ca.token(), "banned", "revoked", "IPOP_CERT_REVOKED");
    const answer = await enroll(server, ca.token(), "innocent", "evil");
    assert.equal(answer.t === "error" && answer.code, "revoked");
  });
  const ca = makeCa(clock.now);
  const server = await startSignalServer({ wallClock: () => clock.now, authority: { ca: ca.ca } });
  try {
    const answer = await enroll(server, ca.token(), "vm1");
    assert.equal(answer.t === "error" && answer.code, "no-ca");
  } finally {
    await server.close();
  }
});
