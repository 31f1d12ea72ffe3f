import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, test } from "vitest";
import { TlsError } from "./errors.js";
import { startSignalServer } from "./server.js";
import { member, TestClient } from "./testing/test-client.js";
import { makeTestServerCert, makeTestTlsCa } from "./testing/tls-fixtures.js";
import { loadTlsFiles } from "./tls-files.js";

// The CLI runs as a child process from the build (`npm test` builds first): Node 20 cannot run .ts.
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "ipop-signal-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeTestTlsCa(dir);
const first = makeTestServerCert(ca, "first");
const second = makeTestServerCert(ca, "second");
const caPem = readFileSync(ca.certPath);

function fingerprintOf(certPath: string): string {
  return new X509Certificate(readFileSync(certPath)).fingerprint256;
}

/** The fingerprint of the certificate a TLS handshake with `port` presents, verified against the test CA. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: caPem }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...(ca === undefined ? {} : { ca }) }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("with TLS the server speaks wss:// and https://: a client that trusts the CA joins and reads /healthz", async () => {
  const server = await startSignalServer({ tls: await loadTlsFiles(first) });
  try {
    assert.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsGet(`https://127.0.0.1:${server.port}/healthz`, caPem);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, "ok");

    const client = await TestClient.connect(server.url, { ca: caPem });
    const welcome = await client.join("lab", member("a", "10.88.0.1"));
    assert.equal(welcome.t, "welcome");
    client.close();

    // No CA given: Node's default store does not know the test CA, so the handshake fails.
    await assert.rejects(TestClient.connect(server.url), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    await assert.rejects(httpsGet(`https://127.0.0.1:${server.port}/healthz`), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  } finally {
    await server.close();
  }
});

test("reloadTls serves the new certificate from the next handshake on", async () => {
  const server = await startSignalServer({ tls: await loadTlsFiles(first) });
  try {
    assert.equal(await servedFingerprint(server.port), fingerprintOf(first.certPath));
    server.reloadTls(await loadTlsFiles(second));
    assert.equal(await servedFingerprint(server.port), fingerprintOf(second.certPath));
  } finally {
    await server.close();
  }
  const plain = await startSignalServer();
  try {
    const pair = await loadTlsFiles(first);
    assert.throws(() => plain.reloadTls(pair), { code: "ERR_SIGNAL_OPTION" });
  } finally {
    await plain.close();
  }
});

async function refused(paths: { certPath: string; keyPath: string }, pattern: RegExp): Promise<void> {
  await assert.rejects(loadTlsFiles(paths), (error: unknown) => {
    assert.ok(error instanceof TlsError, String(error));
    assert.equal(error.code, "ERR_SIGNAL_TLS");
    assert.match(error.message, pattern);
    return true;
  });
}

test("loadTlsFiles refuses a missing file, a file that is not PEM, a key that is not the certificate's, an open key", async () => {
  const missing = join(dir, "missing.pem");
  await refused({ certPath: missing, keyPath: first.keyPath }, /--tls-cert .*missing\.pem: no such file/);
  await refused({ certPath: first.certPath, keyPath: missing }, /--tls-key .*missing\.pem: no such file/);

  const garbage = join(dir, "garbage.pem");
  writeFileSync(garbage, "hello\n", { mode: 0o600 });
  await refused({ certPath: garbage, keyPath: first.keyPath }, /--tls-cert .*garbage\.pem: not a PEM certificate/);
  await refused({ certPath: first.certPath, keyPath: garbage }, /--tls-key .*garbage\.pem: not a PEM private key/);
  // A certificate where the key belongs is not a key either.
  const certAsKey = join(dir, "cert-as-key.pem");
  copyFileSync(first.certPath, certAsKey);
  chmodSync(certAsKey, 0o600);
  await refused({ certPath: first.certPath, keyPath: certAsKey }, /not a PEM private key/);

  await refused(
    { certPath: first.certPath, keyPath: second.keyPath },
    /--tls-key .*second\.key is not the key of the certificate in --tls-cert .*first\.crt/,
  );

  const open = join(dir, "open.key");
  copyFileSync(first.keyPath, open);
  chmodSync(open, 0o640);
  await refused({ certPath: first.certPath, keyPath: open }, /readable or writable by others \(mode 0640\).*chmod 600/);

  const loaded = await loadTlsFiles(first);
  assert.equal(loaded.fingerprint, fingerprintOf(first.certPath));
  // Expiry is checked against the clock it is given: a day from now the test certificate has expired.
  await assert.rejects(loadTlsFiles(first, Date.now() + 2 * 86_400_000), /the certificate expired on/);
});

test("ipop-signal --tls-cert/--tls-key: SIGHUP swaps in a renewed pair and keeps the old one when the new pair is bad", async () => {
  const certPath = join(dir, "live.crt");
  const keyPath = join(dir, "live.key");
  const install = (pair: { certPath: string; keyPath: string }) => {
    copyFileSync(pair.certPath, certPath);
    copyFileSync(pair.keyPath, keyPath);
    chmodSync(keyPath, 0o600);
  };
  install(first);
  const child = spawn(
    process.execPath,
    [CLI, "--listen", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath, "--log-level", "info"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const until = async (what: () => boolean, label: string) => {
    const deadline = Date.now() + 10_000;
    while (!what()) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`${label}; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await until(() => /listening on wss:\/\/127\.0\.0\.1:\d+\n/.test(stdout), "no listening line");
    const port = Number(/:(\d+)\n/.exec(stdout)?.[1]);
    assert.equal(await servedFingerprint(port), fingerprintOf(first.certPath));
    const health = await httpsGet(`https://127.0.0.1:${port}/healthz`, caPem);
    assert.equal(health.status, 200);

    install(second);
    child.kill("SIGHUP");
    await until(() => stderr.includes("TLS certificate reloaded"), "no reload logged");
    assert.equal(await servedFingerprint(port), fingerprintOf(second.certPath));

    // A renewal gone wrong: the new certificate with the old key. Refused, logged, the served one stays.
    copyFileSync(first.certPath, certPath);
    child.kill("SIGHUP");
    await until(() => stderr.includes("TLS reload refused"), "no refusal logged");
    assert.match(stderr, /is not the key of the certificate in --tls-cert/);
    assert.equal(await servedFingerprint(port), fingerprintOf(second.certPath));
    // The key's text never reaches the logs.
    assert.ok(!stderr.includes("PRIVATE KEY"), stderr);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
  assert.equal(child.exitCode, 0, stderr);
});

test("ipop-signal refuses to start with an unusable TLS pair (exit 1, one line)", async () => {
  const child = spawn(
    process.execPath,
    [CLI, "--listen", "127.0.0.1:0", "--tls-cert", first.certPath, "--tls-key", second.keyPath],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 1);
  assert.match(stderr, /^ipop-signal: --tls-key .* is not the key of the certificate in --tls-cert .*\n$/);
});
