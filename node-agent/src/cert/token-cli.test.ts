/** `ipop token create|print`, `ipop cert revoke` and `ipop cert print` of a list. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTlsFiles, startSignalServer } from "@ipop/signaling";
import { makeTestServerCert, makeTestTlsCa } from "@ipop/signaling/testing";
import { afterAll, beforeAll, test } from "vitest";
import { parseCertificate, parseRevocationList, parseToken, verifyRevocationList, verifyToken } from "./identity.js";
import type { CertIo } from "./io.js";
import { runCertCommand, runTokenCommand } from "./run.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ipop-token-cli-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function workspace(name: string) {
  const cwd = join(root, name);
  await mkdir(cwd);
  let counter = 0;
  const state = { now: Date.now(), out: "", err: "" };
  const io: CertIo = {
    cwd,
    stdout: { write: (text: string) => (state.out += text) },
    stderr: { write: (text: string) => (state.err += text) },
    now: () => state.now,
    randomBytes: (n) => new Uint8Array(createHash("sha512").update(`${name}/${counter++}`).digest().subarray(0, n)),
  };
  const runWith =
    (runner: typeof runCertCommand) =>
    async (...argv: string[]) => {
      state.out = "";
      state.err = "";
      const code = await runner(argv, io);
      assert.doesNotMatch(state.err, /\n\s+at /, "no stack traces");
      return { code, out: state.out, err: state.err };
    };
  const cert = runWith(runCertCommand);
  const token = runWith(runTokenCommand);
  assert.equal((await cert("ca", "--network", "lab", "--pools", "10.88.0.0/16")).code, 0);
  const ca = parseCertificate(await readFile(join(cwd, "ca.crt"), "utf8"));
  assert.ok(ca.ok);
  return { cwd, state, cert, token, ca: ca.value, file: (p: string) => join(cwd, p) };
}

test("token create prints one verifiable line; defaults come from the CA", async () => {
  const w = await workspace("create");
  const r = await w.token("create", "--ttl", "2h", "--pool", "10.88.200.0/24", "--groups", "web,db", "--lease", "30m");
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split("\n").length, 2, "one line on stdout");
  const t = parseToken(r.out);
  assert.ok(t.ok);
  assert.equal(t.value.prefixLength, 16, "from the CA's pool 10.88.0.0/16");
  assert.deepEqual(t.value.groups, ["db", "web"]);
  assert.equal(t.value.leaseSeconds, 1800);
  assert.equal(t.value.notAfter, Math.floor(w.state.now / 1000) + 7200);
  assert.ok(verifyToken(t.value, { ca: w.ca, nowSeconds: Math.floor(w.state.now / 1000) }).ok);
  assert.match(r.err, /secret/);

  const printed = await w.token("print", r.out.trim());
  assert.equal(printed.code, 0);
  assert.match(printed.out, /pool: +10\.88\.200\.0\/24 \(addresses as \/16\)/);
  assert.equal(JSON.parse((await w.token("print", "--json", r.out.trim())).out).leaseSeconds, 1800);
});

test("token create refuses what could not work", async () => {
  const w = await workspace("refuse");
  const cases: [string[], number, RegExp][] = [
    [["create"], 2, /missing --pool/],
    [["create", "--pool", "10.88.200.1/24"], 2, /host bits/],
    [["create", "--pool", "10.99.0.0/24"], 1, /outside what CA "lab" allows/],
    [["create", "--pool", "10.88.200.0/24", "--ttl", "soon"], 2, /not a duration/],
    [["create", "--pool", "10.88.200.0/24", "--prefix-length", "x"], 2, /prefix-length/],
    [["create", "--pool", "10.88.200.0/24", "--lease", "10s"], 1, /leaseSeconds/],
    [["create", "--pool", "10.88.200.0/24", "--ca-crt", "none.crt"], 1, /no CA certificate/],
    [["print", "ipop-token-v1.garbage"], 1, /token: /],
    [["frobnicate"], 2, /unknown subcommand "frobnicate"; use create, print/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await w.token(...args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, pattern);
  }
});

test("cert revoke builds the list beside the CA, raises the serial, and print shows it", async () => {
  const w = await workspace("revoke");
  const nodeId = "0123456789abcdef0123456789abcdef";
  const r1 = await w.cert("revoke", "--name", "host7", "--node-id", `${nodeId}-0000002a`);
  assert.equal(r1.code, 0, r1.err);
  assert.match(r1.out, /revocation list 1 .*2 entries \(2 new\)/);
  assert.equal((await stat(w.file("ca.crl"))).mode & 0o777, 0o644);
  const r2 = await w.cert("revoke", "--name", "web1", "--name", "host7");
  assert.match(r2.out, /revocation list 2 .*3 entries \(1 new\)/);
  const r3 = await w.cert("revoke", "--name", "web1");
  assert.match(r3.out, /unchanged/);
  const list = parseRevocationList(await readFile(w.file("ca.crl"), "utf8"));
  assert.ok(list.ok);
  assert.ok(verifyRevocationList(list.value, { ca: w.ca }).ok);
  assert.equal(list.value.serial, 2);
  assert.deepEqual(
    list.value.entries.map((e) => e.name ?? e.nodeId),
    [nodeId, "host7", "web1"],
  );
  const printed = await w.cert("print", "ca.crl");
  assert.equal(printed.code, 0, printed.err);
  assert.match(printed.out, /kind: +revocation list\nnetwork: +lab\nserial: +2/);
  assert.match(printed.out, /name web1/);
  assert.equal(JSON.parse((await w.cert("print", "--json", "ca.crl")).out).serial, 2);

  for (const [args, pattern] of [
    [["revoke"], /missing --name/],
    [["revoke", "--node-id", "xyz"], /not a node id/],
    [["revoke", "--name", "bad name"], /not a member name/],
    [["revoke", "--name", "a", "--signal", "http://x"], /ws:\/\//],
    [["revoke", "--name", "a", "--signal", "ws://x:1", "--signal-ca", "ca.pem"], /--signal-ca is for a wss:\/\//],
  ] as const) {
    const r = await w.cert(...args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
  }
});

test("cert revoke --signal publishes to the server and prints its answer", async () => {
  const w = await workspace("publish");
  const server = await startSignalServer({ authority: { ca: w.ca } });
  try {
    const r = await w.cert("revoke", "--name", "host7", "--signal", server.url);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /took revocation list 1: sent to 0 members, disconnected 0/);
    // Publishing the same list again: the server says it is not newer.
    const again = await w.cert("revoke", "--signal", server.url);
    assert.equal(again.code, 1);
    assert.match(again.err, /refused: .*higher serial/);
  } finally {
    await server.close();
  }
  const unreachable = await w.cert("revoke", "--signal", server.url);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.err, /cannot reach|closed/);
});

test("cert revoke --signal wss:// checks the server's certificate against --signal-ca", async () => {
  const w = await workspace("publish-tls");
  const tlsCa = makeTestTlsCa(await mkdtemp(join(root, "tls-")));
  const server = await startSignalServer({
    authority: { ca: w.ca },
    tls: await loadTlsFiles(makeTestServerCert(tlsCa, "signal")),
  });
  try {
    // Without the private CA the server's certificate does not verify, and nothing is published.
    const refused = await w.cert("revoke", "--name", "host7", "--signal", server.url);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /--signal-ca/);
    const r = await w.cert("revoke", "--signal", server.url, "--signal-ca", tlsCa.certPath);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /took revocation list 1: sent to 0 members/);
  } finally {
    await server.close();
  }
});
