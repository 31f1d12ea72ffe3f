/** A server with a CA (`--ca`): who may join, and revocation lists. Real server, real WebSockets. */
import assert from "node:assert/strict";
import { parseRevocationList, SignalCloseCode } from "@ipop/shared";
import { test } from "vitest";
import type { AuthorityOptions } from "./authority.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { joinMessage, makeCa, makeNode, memberOf, type TestCa } from "./testing/ca-fixtures.js";
import { member, TestClient } from "./testing/test-client.js";

const clock = { now: Date.UTC(2026, 4, 1) };

async function withCaServer(
  body: (server: SignalServer, ca: TestCa) => Promise<void>,
  options: Partial<AuthorityOptions> = {},
): Promise<void> {
  const ca = makeCa(clock.now);
  const server = await startSignalServer({ wallClock: () => clock.now, authority: { ca: ca.ca, ...options } });
  try {
    await body(server, ca);
  } finally {
    await server.close();
  }
}

/** Sends a join and expects it refused with `code` (and `reason`), then the connection closed with `closeCode`. */
async function refusedJoin(
  server: SignalServer,
  join: Record<string, unknown>,
  code: string,
  reason: string | undefined,
  closeCode: number,
): Promise<string> {
  const c = await TestClient.connect(server.url);
  c.sendJson(join);
  const error = await c.expect("error");
  assert.equal(error.code, code, error.message);
  assert.equal(error.reason, reason, error.message);
  assert.equal((await c.closedWithin()).code, closeCode);
  return error.message;
}

const host7 = makeNode("host7", "10.88.0.7");
const web1 = makeNode("web1", "10.88.0.20");

test("a certified node joins; the others learn of it as usual", () =>
  withCaServer(async (server, ca) => {
    const a = await TestClient.connect(server.url);
    a.sendJson(joinMessage(host7, ca.certify(host7), clock.now));
    assert.deepEqual((await a.expect("welcome")).members, []);
    const b = await TestClient.connect(server.url);
    b.sendJson(joinMessage(web1, ca.certify(web1), clock.now));
    assert.deepEqual((await b.expect("welcome")).members, [memberOf(host7)]);
    assert.deepEqual((await a.expect("member-joined")).member, memberOf(web1));
    await a.close();
    await b.close();
  }));

test("every bad credential is refused with its own reason and close code", () =>
  withCaServer(async (server, ca) => {
    const cert = ca.certify(host7);
    const U = SignalCloseCode.unauthorized;
    const noCredential = { v: 1, t: "join", network: "lab", member: memberOf(host7) };
    assert.match(
      await refusedJoin(server, noCredential, "unauthorized", "IPOP_JOIN_NO_CREDENTIAL", U),
      /certified members only/,
    );
    const foreign = makeCa(clock.now, { label: "other-ca" });
    await refusedJoin(
      server,
      joinMessage(host7, foreign.certify(host7), clock.now),
      "unauthorized",
      "IPOP_CERT_WRONG_CA",
      U,
    );
    const expired = ca.certify(host7, { notAfter: Math.floor(clock.now / 1000) - 1 });
    await refusedJoin(server, joinMessage(host7, expired, clock.now), "unauthorized", "IPOP_CERT_EXPIRED", U);
    await refusedJoin(server, joinMessage(host7, cert, clock.now - 300_000), "unauthorized", "IPOP_JOIN_STALE", U);
    const otherIp = joinMessage(host7, cert, clock.now, { member: { ip: "10.88.0.99" } });
    await refusedJoin(server, otherIp, "unauthorized", "IPOP_JOIN_IP_MISMATCH", U);
    const otherId = joinMessage(host7, cert, clock.now, { member: { nodeId: `${web1.keyId}-00000001` } });
    await refusedJoin(server, otherId, "unauthorized", "IPOP_JOIN_NODE_MISMATCH", U);
    const otherName = joinMessage(host7, cert, clock.now, { member: { name: "web1" } });
    await refusedJoin(server, otherName, "unauthorized", "IPOP_JOIN_NAME_MISMATCH", U);
    // A certificate with another node's key: the proof cannot be signed for it.
    const stolen = joinMessage(web1, cert, clock.now, { member: memberOf(host7) });
    await refusedJoin(server, stolen, "unauthorized", "IPOP_JOIN_BAD_SIGNATURE", U);
    const truncated = joinMessage(host7, cert.slice(0, 200), clock.now);
    await refusedJoin(server, truncated, "unauthorized", "IPOP_CERT_TRUNCATED", U);
    const otherNetwork = joinMessage(host7, cert, clock.now, { network: "prod" });
    await refusedJoin(server, otherNetwork, "unauthorized", "IPOP_CERT_WRONG_NETWORK", U);

    // An oversized certificate does not even parse as a join.
    const c = await TestClient.connect(server.url);
    c.sendJson(joinMessage(host7, `${cert}${"A".repeat(9000)}`, clock.now));
    assert.equal((await c.expect("error")).code, "bad-message");
    // The connection survives garbage and can still join properly.
    c.sendJson(joinMessage(host7, cert, clock.now + 1));
    await c.expect("welcome");
    await c.close();
    assert.equal(server.stats().members, 0);
  }));

test("a replayed join proof is refused, even while it is fresh", () =>
  withCaServer(async (server, ca) => {
    const join = joinMessage(host7, ca.certify(host7), clock.now);
    const first = await TestClient.connect(server.url);
    first.sendJson(join);
    await first.expect("welcome");
    await refusedJoin(server, join, "unauthorized", "IPOP_JOIN_REPLAYED", SignalCloseCode.unauthorized);
    // The real node is still a member: the replay did not replace it.
    await first.sync();
    await first.close();
  }));

test("publishing a list: members get it, revoked members are disconnected, and cannot come back", () =>
  withCaServer(async (server, ca) => {
    const a = await TestClient.connect(server.url);
    a.sendJson(joinMessage(host7, ca.certify(host7), clock.now));
    await a.expect("welcome");
    const b = await TestClient.connect(server.url);
    const webCert = ca.certify(web1);
    b.sendJson(joinMessage(web1, webCert, clock.now));
    await b.expect("welcome");
    await a.expect("member-joined");

    const publisher = await TestClient.connect(server.url);
    const list = ca.revocations(1, [{ nodeId: web1.keyId, at: 1 }]);
    publisher.sendJson({ v: 1, t: "publish-revocations", network: "lab", list });
    assert.deepEqual(await publisher.expect("published"), {
      v: 1,
      t: "published",
      network: "lab",
      serial: 1,
      notified: 2,
      disconnected: 1,
    });
    assert.equal((await a.expect("revocations")).list, list);
    assert.deepEqual(await a.expect("member-left"), { v: 1, t: "member-left", nodeId: web1.nodeId });
    assert.equal((await b.expect("revocations")).list, list);
    assert.equal((await b.closedWithin()).code, SignalCloseCode.revoked);

    // The revoked node cannot rejoin; a new member is handed the list after its welcome.
    await refusedJoin(
      server,
      joinMessage(web1, webCert, clock.now + 1),
      "revoked",
      "IPOP_CERT_REVOKED",
      SignalCloseCode.revoked,
    );
    const c = await TestClient.connect(server.url);
    const db1 = makeNode("db1", "10.88.0.30");
    c.sendJson(joinMessage(db1, ca.certify(db1), clock.now));
    await c.expect("welcome");
    assert.equal((await c.expect("revocations")).list, list);
    assert.equal((await a.expect("member-joined")).member.name, "db1");

    // Not newer, not this CA's, not this network's, not a list: refused, and nothing changes.
    const refusedPublish = async (network: string, text: string, reason: string) => {
      publisher.sendJson({ v: 1, t: "publish-revocations", network, list: text });
      const error = await publisher.expect("error");
      assert.equal(error.code, "revocations-refused");
      assert.equal(error.reason, reason, error.message);
    };
    await refusedPublish("lab", list, "IPOP_CRL_STALE");
    await refusedPublish("lab", ca.revocations(0, []), "IPOP_CRL_STALE");
    await refusedPublish("lab", makeCa(clock.now, { label: "x" }).revocations(5, []), "IPOP_CRL_WRONG_CA");
    await refusedPublish("prod", ca.revocations(5, []), "IPOP_CRL_WRONG_NETWORK");
    await refusedPublish("lab", list.slice(0, 80), "IPOP_CRL_TRUNCATED");
    await refusedPublish("lab", "garbage", "IPOP_CRL_MALFORMED");
    await a.sync();
    assert.deepEqual(a.pending, []);

    // Revoking by name reaches certificates of that name whatever their key.
    publisher.sendJson({
      v: 1,
      t: "publish-revocations",
      network: "lab",
      list: ca.revocations(2, [{ name: "host7", at: 2 }]),
    });
    assert.equal((await publisher.expect("published")).disconnected, 1);
    assert.equal((await a.closedWithin()).code, SignalCloseCode.revoked);
    for (const client of [c, publisher]) await client.close();
  }));

test("a list given at start is enforced at once", async () => {
  const ca = makeCa(clock.now);
  const list = ca.revocations(4, [{ name: "host7", at: 1 }]);
  const parsed = parseRevocationList(list);
  assert.ok(parsed.ok);
  const saved: string[] = [];
  const server = await startSignalServer({
    wallClock: () => clock.now,
    authority: { ca: ca.ca, revocationList: parsed.value, saveRevocationList: (text) => saved.push(text) },
  });
  try {
    await refusedJoin(
      server,
      joinMessage(host7, ca.certify(host7), clock.now),
      "revoked",
      "IPOP_CERT_REVOKED",
      SignalCloseCode.revoked,
    );
    const p = await TestClient.connect(server.url);
    p.sendJson({ v: 1, t: "publish-revocations", network: "lab", list: ca.revocations(4, []) });
    assert.equal((await p.expect("error")).reason, "IPOP_CRL_STALE");
    const next = ca.revocations(5, []);
    p.sendJson({ v: 1, t: "publish-revocations", network: "lab", list: next });
    await p.expect("published");
    assert.deepEqual(saved, [next]);
    await p.close();
  } finally {
    await server.close();
  }
});

test("a server without a CA admits anyone and refuses CA requests with no-ca", async () => {
  const server = await startSignalServer();
  try {
    const ca = makeCa(Date.now());
    const c = await TestClient.joined(server.url, "lab", member("plain"));
    for (const message of [
      { v: 1, t: "publish-revocations", network: "lab", list: ca.revocations(1, []) },
      { v: 1, t: "enroll", network: "lab", token: ca.token(), publicKey: "AAAA", name: "vm", proof: "AAAA" },
    ]) {
      c.sendJson(message);
      assert.equal((await c.expect("error")).code, "no-ca");
    }
    await c.close();
  } finally {
    await server.close();
  }
});
