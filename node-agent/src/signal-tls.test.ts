import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { MemberInfo } from "@ipop/shared";
import { loadTlsFiles, type SignalServer, startSignalServer } from "@ipop/signaling";
import { makeTestServerCert, makeTestTlsCa } from "@ipop/signaling/testing";
import { pino } from "pino";
import { afterAll, beforeAll, test } from "vitest";
import { publishRevocations } from "./enroll-client.js";
import { CaServiceError, SignalCaError } from "./errors.js";
import { loadSignalCa } from "./signal-tls.js";
import { SignalingClient } from "./signaling-client.js";
import { openWsSignalSocket } from "./ws-signal-socket.js";

const dir = mkdtempSync(join(tmpdir(), "ipop-signal-tls-"));
const ca = makeTestTlsCa(dir);
const pair = makeTestServerCert(ca, "signal");
const otherCa = makeTestTlsCa(mkdtempSync(join(dir, "other-")), "other-ca");
let server: SignalServer;
beforeAll(async () => {
  server = await startSignalServer({ tls: await loadTlsFiles(pair) });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Array<Record<string, unknown>>) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "debug" }, stream);
}

const self: MemberInfo = { nodeId: "a".repeat(32), name: "h1", ip: "10.88.0.1" };
// A server without --ca checks only the credential's shape; TLS is what these tests are about.
const credential = () => ({ cert: "unchecked", time: Date.now(), sig: "AAAA" });

async function until(what: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!what()) {
    if (Date.now() > deadline) assert.fail(label);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("with --signal-ca the agent's signaling client joins a wss:// server", async () => {
  const lines: Array<Record<string, unknown>> = [];
  let welcomed = false;
  const client = new SignalingClient(
    {
      url: server.url,
      openSocket: openWsSignalSocket(await loadSignalCa(ca.certPath)),
      network: "lab",
      self,
      credential,
      logger: capturingLogger(lines),
    },
    {
      onWelcome: () => {
        welcomed = true;
      },
      onMemberJoined: () => {},
      onMemberLeft: () => {},
      onMessage: () => {},
      onRevocations: () => {},
      onIceServers: () => {},
      onDown: () => {},
      onRefused: (message) => assert.fail(message),
    },
  );
  client.start();
  try {
    await until(() => welcomed, "no welcome");
    assert.equal(client.state, "connected");
  } finally {
    await client.close();
  }
});

test("without the private CA (or with another one) the client refuses the server, saying why and what to do", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const client = new SignalingClient(
    {
      url: server.url,
      openSocket: openWsSignalSocket(),
      network: "lab",
      self,
      credential,
      logger: capturingLogger(lines),
      initialBackoffMs: 50,
    },
    {
      onWelcome: () => assert.fail("joined a server it cannot verify"),
      onMemberJoined: () => {},
      onMemberLeft: () => {},
      onMessage: () => {},
      onRevocations: () => {},
      onIceServers: () => {},
      onDown: () => {},
      onRefused: () => {},
    },
  );
  client.start();
  try {
    await until(() => client.reconnects >= 2 || lines.filter((l) => l.level === 50).length > 0, "nothing logged");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const errors = lines.filter((line) => line.level === 50);
    // Said once, not at every retry.
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.match(
      String(errors[0]?.reason),
      /TLS certificate does not verify \(unable to verify the first certificate, UNABLE_TO_VERIFY_LEAF_SIGNATURE\); .*--signal-ca FILE/,
    );
    assert.notEqual(client.state, "connected");
  } finally {
    await client.close();
  }

  // The one-shot requests (enroll, renew, publish) say the same in their error.
  const publish = (signalCa?: string) =>
    publishRevocations({
      url: server.url,
      network: "lab",
      list: "x",
      timeoutMs: 5_000,
      ...(signalCa ? { signalCa } : {}),
    });
  await assert.rejects(publish(), (error: unknown) => {
    assert.ok(error instanceof CaServiceError);
    assert.equal(error.code, "IPOP_CA_UNREACHABLE");
    assert.match(error.message, /TLS certificate does not verify .*give that CA's certificate with --signal-ca FILE/);
    return true;
  });
  await assert.rejects(publish(await loadSignalCa(otherCa.certPath)), /not from the CA in --signal-ca/);
});

test("loadSignalCa reads PEM certificates and refuses a missing file or one without them", async () => {
  assert.match(await loadSignalCa(ca.certPath), /^-----BEGIN CERTIFICATE-----/);
  const bundle = join(dir, "bundle.pem");
  writeFileSync(bundle, `# two CAs\n${readFileSync(ca.certPath)}\n${readFileSync(otherCa.certPath)}`);
  assert.equal((await loadSignalCa(bundle)).match(/BEGIN CERTIFICATE/g)?.length, 2);

  const refused = async (path: string, pattern: RegExp) =>
    assert.rejects(loadSignalCa(path), (error: unknown) => {
      assert.ok(error instanceof SignalCaError);
      assert.equal(error.code, "IPOP_SIGNAL_CA");
      assert.match(error.message, pattern);
      return true;
    });
  await refused(join(dir, "nope.pem"), /--signal-ca .*nope\.pem: no such file/);
  await refused(pair.keyPath, /not a PEM certificate/);
  const broken = join(dir, "broken.pem");
  writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  await refused(broken, /a certificate in it cannot be read/);
});
