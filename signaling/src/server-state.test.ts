/** `--state-dir`: a restarted server keeps its address leases and its revocation list. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatIpv4Address, nodeIdOf, parseCertificate, signEnrollRequest } from "@ipop/shared";
import { afterEach, beforeEach, test } from "vitest";
import { silentLogger } from "./logger.js";
import { type SignalServer, startSignalServer } from "./server.js";
import { FileStateStore } from "./store/file-store.js";
import { keysFor, makeCa, type TestCa } from "./testing/ca-fixtures.js";
import { TestClient } from "./testing/test-client.js";

const clock = { now: Date.UTC(2026, 4, 1) };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ipop-signal-state-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Runs `body` against a server over the state directory, then stops the server and closes its store. */
async function withServer(ca: TestCa, body: (server: SignalServer) => Promise<void>): Promise<void> {
  const store = await FileStateStore.open(dir, silentLogger());
  const server = await startSignalServer({
    wallClock: () => clock.now,
    authority: { ca: ca.ca, caKey: ca.keys.seed },
    store,
  });
  try {
    await body(server);
  } finally {
    await server.close();
    await store.close();
  }
}

async function enrollAddress(server: SignalServer, token: string, name: string): Promise<string> {
  const c = await TestClient.connect(server.url);
  c.sendJson(signEnrollRequest({ network: "lab", token, name }, keysFor(name).seed));
  const answer = await c.expect("enrolled");
  await c.close();
  const cert = parseCertificate(answer.cert);
  assert.ok(cert.ok);
  return formatIpv4Address(cert.value.address!.address);
}

test("a restart keeps every lease: the same key gets the same address, another key does not get it", async () => {
  const ca = makeCa(clock.now, { pools: ["10.88.0.0/16"] });
  const token = ca.token({ leaseSeconds: 3600 });
  const first: string[] = [];
  await withServer(ca, async (server) => {
    first.push(await enrollAddress(server, token, "vm1"), await enrollAddress(server, token, "vm2"));
  });
  assert.notEqual(first[0], first[1]);
  clock.now += 60_000;
  await withServer(ca, async (server) => {
    // Without the kept leases, vm3 would be handed vm1's address, which vm1's certificate still names.
    const third = await enrollAddress(server, token, "vm3");
    assert.ok(!first.includes(third), `${third} was leased before the restart`);
    assert.equal(await enrollAddress(server, token, "vm1"), first[0], "same key, same lease");
  });
});

test("a restart keeps the revocation list: a revoked name cannot enroll again, newcomers get the list", async () => {
  const ca = makeCa(clock.now, { pools: ["10.88.0.0/16"] });
  const token = ca.token({ leaseSeconds: 3600 });
  const list = ca.revocations(3, [{ nodeId: nodeIdOf(keysFor("bad").publicKey), at: 1 }]);
  await withServer(ca, async (server) => {
    const publisher = await TestClient.connect(server.url);
    publisher.sendJson({ v: 1, t: "publish-revocations", network: "lab", list });
    assert.equal((await publisher.expect("published")).serial, 3);
    await publisher.close();
  });
  await withServer(ca, async (server) => {
    const c = await TestClient.connect(server.url);
    c.sendJson(signEnrollRequest({ network: "lab", token, name: "bad" }, keysFor("bad").seed));
    assert.equal((await c.expect("error")).code, "revoked");
    // An older list is refused: the server still holds serial 3.
    c.sendJson({ v: 1, t: "publish-revocations", network: "lab", list: ca.revocations(2, []) });
    const refused = await c.expect("error");
    assert.equal(refused.reason, "IPOP_CRL_STALE");
    await c.close();
  });
});
