import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, test } from "vitest";
import { parseCertificate } from "./identity.js";
import type { CertIo } from "./io.js";
import { runCertCommand } from "./run.js";

const T0 = Date.UTC(2026, 4, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ipop-cert-cli-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory, and a runner that records output, with a settable clock and seeded randomness. */
async function workspace(name: string) {
  const cwd = join(root, name);
  await mkdir(cwd);
  let counter = 0;
  const state = { now: T0, out: "", err: "" };
  const io: CertIo = {
    cwd,
    stdout: { write: (text: string) => (state.out += text) },
    stderr: { write: (text: string) => (state.err += text) },
    now: () => state.now,
    randomBytes: (n) => new Uint8Array(createHash("sha512").update(`${name}/${counter++}`).digest().subarray(0, n)),
  };
  const run = async (...argv: string[]) => {
    state.out = "";
    state.err = "";
    const code = await runCertCommand(argv, io);
    assert.doesNotMatch(state.err, /\n\s+at /, "no stack traces");
    return { code, out: state.out, err: state.err };
  };
  const file = (path: string) => join(cwd, path);
  const cert = async (path: string) => {
    const result = parseCertificate(await readFile(file(path), "utf8"));
    assert.ok(result.ok, path);
    return result.value;
  };
  return { cwd, state, run, file, cert };
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test("ca writes ca.crt and a private ca.key", async () => {
  const w = await workspace("ca");
  const r = await w.run("ca", "--network", "lab");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /CA "lab" for network "lab".*valid 365d until 2027-05-01T00:00:00Z/);
  assert.match(r.out, /secret/);
  assert.equal(await mode(w.file("ca.key")), 0o600);
  assert.equal((await mode(w.file("ca.crt"))) & 0o022, 0);
  const ca = await w.cert("ca.crt");
  assert.equal(ca.kind, "ca");
  assert.equal(ca.network, "lab");
  assert.equal(ca.notAfter, T0 / 1000 + 365 * 86_400);
  assert.match(await readFile(w.file("ca.key"), "utf8"), /^-----BEGIN IPOP PRIVATE KEY-----\n/);
});

test("ca refuses to replace existing files unless --force", async () => {
  const w = await workspace("overwrite");
  assert.equal((await w.run("ca", "--network", "lab")).code, 0);
  const key = await readFile(w.file("ca.key"), "utf8");
  const again = await w.run("ca", "--network", "lab");
  assert.equal(again.code, 1);
  assert.match(again.err, /ca\.key already exists; .*--force/);
  assert.equal(await readFile(w.file("ca.key"), "utf8"), key);
  // Only one of the pair existing also refuses, and writes neither.
  await rm(w.file("ca.key"));
  assert.equal((await w.run("ca", "--network", "lab")).code, 1);
  await assert.rejects(stat(w.file("ca.key")));
  const forced = await w.run("ca", "--network", "lab", "--name", "lab-2", "--force");
  assert.equal(forced.code, 0, forced.err);
  assert.equal((await w.cert("ca.crt")).name, "lab-2");
  assert.equal(await mode(w.file("ca.key")), 0o600);
  assert.deepEqual((await readdir(w.cwd)).sort(), ["ca.crt", "ca.key"]);
});

test("usage errors exit 2 with a message and the usage", async () => {
  const w = await workspace("usage");
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [["frobnicate"], /unknown subcommand "frobnicate"/],
    [["ca"], /missing --network NAME/],
    [["ca", "--network", "has space"], /--network "has space"/],
    [["ca", "--network", "lab", "--duration", "10x"], /--duration "10x" is not a duration/],
    [["ca", "--network", "lab", "--duration", "0h"], /longer than zero/],
    [["ca", "--network", "lab", "--pools", "10.88.0.1/16"], /--pools: .*host bits/],
    [["ca", "--network", "lab", "--bogus"], /Unknown option '--bogus'/],
    [["ca", "--network", "lab", "extra"], /extra/],
    [["ca", "--network"], /argument missing/],
    [["sign"], /missing --name NAME/],
    [["sign", "--name", "host7"], /missing --ip/],
    [["sign", "--name", "../etc/x", "--ip", "10.88.0.7/16"], /--name/],
    [["sign", "--name", "host7", "--ip", "10.88.0.7"], /--ip: .*prefix length/],
    [["sign", "--name", "host7", "--ip", "10.88.0.0/16"], /network address/],
    [["sign", "--name", "host7", "--ip", "10.88.0.7/16", "--groups", "a,b c"], /--groups: "b c"/],
    [["print"], /missing FILE/],
    [["print", "a", "b"], /unexpected argument "b"/],
    [["verify"], /missing FILE/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await w.run(...argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.match(r.err, pattern, argv.join(" "));
    assert.match(r.err, /Usage:\n {2}ipop cert ca/);
  }
  for (const help of [["help"], ["--help"], ["sign", "--help"]]) {
    const r = await w.run(...help);
    assert.equal(r.code, 0);
    assert.match(r.out, /ipop cert sign --name NAME/);
  }
  assert.deepEqual(await readdir(w.cwd), []);
});

test("sign makes NAME.crt and NAME.key that verify against the CA", async () => {
  const w = await workspace("sign");
  assert.equal((await w.run("ca", "--network", "lab")).code, 0);
  const r = await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16", "--groups", "web,db", "--duration", "720h");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /node "host7" \(10\.88\.0\.7\/16\) in network "lab"/);
  assert.equal(await mode(w.file("host7.key")), 0o600);
  const ca = await w.cert("ca.crt");
  const cert = await w.cert("host7.crt");
  assert.equal(cert.kind, "node");
  assert.equal(cert.issuer, ca.nodeId);
  assert.deepEqual(cert.groups, ["db", "web"]);
  assert.equal(cert.notAfter, T0 / 1000 + 720 * 3600);
  assert.ok(cert.notBefore < T0 / 1000, "backdated for clock skew");
  const v = await w.run("verify", "--ca", "ca.crt", "host7.crt");
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /host7\.crt: valid: certificate "host7" \(10\.88\.0\.7\/16\) of network "lab"/);
  // The CA in the current directory is the default.
  assert.equal((await w.run("verify", "host7.crt")).code, 0);
  // A second sign for the same name refuses to replace it.
  const again = await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16");
  assert.equal(again.code, 1);
  assert.match(again.err, /host7\.key already exists/);
});

test("a node certificate never outlives its CA: default to the CA's end, cut longer durations with a note", async () => {
  const w = await workspace("clamp");
  assert.equal((await w.run("ca", "--network", "lab", "--duration", "30d")).code, 0);
  const ca = await w.cert("ca.crt");
  assert.equal((await w.run("sign", "--name", "a", "--ip", "10.88.0.1/16")).code, 0);
  assert.equal((await w.cert("a.crt")).notAfter, ca.notAfter);
  const r = await w.run("sign", "--name", "b", "--ip", "10.88.0.2/16", "--duration", "90d");
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /note: --duration 90d would outlive the CA; the certificate expires with the CA at 2026-05-31/);
  assert.equal((await w.cert("b.crt")).notAfter, ca.notAfter);
});

test("sign refuses without a usable CA, saying what to do", async () => {
  const w = await workspace("sign-refusals");
  const none = await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16");
  assert.equal(none.code, 1);
  assert.match(none.err, /no CA certificate at .*ca\.crt: .*--ca-crt.*ipop cert ca/);

  await mkdir(w.file("other"));
  assert.equal((await w.run("ca", "--network", "lab")).code, 0);
  assert.equal(
    (await w.run("ca", "--network", "lab", "--out-crt", "other/ca.crt", "--out-key", "other/ca.key")).code,
    0,
  );
  const mismatch = await w.run("sign", "--name", "h", "--ip", "10.88.0.7/16", "--ca-key", "other/ca.key");
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.err, /other\/ca\.key is not the key of .*ca\.crt/);

  w.state.now = T0 + 400 * DAY;
  const expired = await w.run("sign", "--name", "h", "--ip", "10.88.0.7/16");
  assert.equal(expired.code, 1);
  assert.match(expired.err, /ca\.crt: CA certificate "lab" expired 2027-05-01T00:00:00Z; make a new CA/);
  assert.deepEqual((await readdir(w.cwd)).sort(), ["ca.crt", "ca.key", "other"]);
});

test("sign keeps to the CA's pools and groups", async () => {
  const w = await workspace("constraints");
  assert.equal((await w.run("ca", "--network", "lab", "--pools", "10.88.0.0/24", "--groups", "web")).code, 0);
  const outside = await w.run("sign", "--name", "h", "--ip", "10.88.1.7/16");
  assert.equal(outside.code, 1);
  assert.match(outside.err, /address 10\.88\.1\.7 of "h" is outside what CA "lab" allows \(10\.88\.0\.0\/24\)/);
  const group = await w.run("sign", "--name", "h", "--ip", "10.88.0.7/16", "--groups", "admin");
  assert.equal(group.code, 1);
  assert.match(group.err, /group "admin"/);
  const pooled = await w.run("sign", "--name", "console", "--pools", "10.88.0.128/25");
  assert.equal(pooled.code, 0, pooled.err);
  assert.equal((await w.cert("console.crt")).ip, undefined);
  assert.equal((await w.run("verify", "console.crt")).code, 0);
});

test("print shows a certificate as text or JSON", async () => {
  const w = await workspace("print");
  await w.run("ca", "--network", "lab");
  await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16", "--groups", "web");
  const cert = await w.cert("host7.crt");
  const text = await w.run("print", "host7.crt");
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^kind: {7}node\nname: {7}host7\nnetwork: {4}lab\nip: {9}10\.88\.0\.7\/16\n/);
  assert.match(text.out, new RegExp(`node id: {4}${cert.nodeId}`));
  const json = await w.run("print", "--json", "host7.crt");
  const summary = JSON.parse(json.out) as Record<string, unknown>;
  assert.equal(summary.nodeId, cert.nodeId);
  assert.equal(summary.ip, "10.88.0.7/16");
  assert.deepEqual(summary.groups, ["web"]);
  assert.equal(summary.kind, "node");
  assert.match(String(summary.notAfterTime), /^2027-05-01T00:00:00Z$/);
  assert.match((await w.run("print", "ca.crt")).out, /CA \(self-signed\)/);
  const key = await w.run("print", "host7.key");
  assert.equal(key.code, 1);
  assert.match(
    key.err,
    /host7\.key: it does not start with -----BEGIN IPOP CERTIFICATE-----; it holds a "IPOP PRIVATE KEY" block instead/,
  );
  const missing = await w.run("print", "nope.crt");
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no file at .*nope\.crt/);
  const dir = await w.run("print", ".");
  assert.equal(dir.code, 1);
  assert.match(dir.err, /cannot read .*: it is a directory/);
});

test("verify exits 1 with the reason for each kind of bad certificate", async () => {
  const w = await workspace("verify");
  await mkdir(w.file("other"));
  await w.run("ca", "--network", "lab");
  await w.run("ca", "--network", "lab", "--out-crt", "other/ca.crt", "--out-key", "other/ca.key");
  await w.run("ca", "--network", "prod", "--out-crt", "prod.crt", "--out-key", "prod.key");
  await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16", "--duration", "720h");
  await w.run("sign", "--name", "x", "--ip", "10.88.0.9/16", "--ca-crt", "other/ca.crt", "--ca-key", "other/ca.key");
  const good = await readFile(w.file("host7.crt"), "utf8");
  const lines = good.split("\n");
  const flipped = lines[1]![5] === "A" ? "B" : "A";
  lines[1] = lines[1]!.slice(0, 5) + flipped + lines[1]!.slice(6);
  await writeFile(w.file("tampered.crt"), lines.join("\n"));
  await writeFile(w.file("truncated.crt"), good.slice(0, 200));
  await writeFile(w.file("huge.crt"), good.repeat(100));
  await writeFile(w.file("garbage.crt"), new Uint8Array(300).fill(0xff));

  const cases: [string[], RegExp, number?][] = [
    [["verify", "x.crt"], /x\.crt: certificate "x" .* was issued by CA [0-9a-f]{32}, not by CA "lab"/],
    [["verify", "--network", "prod", "host7.crt"], /ca\.crt: CA certificate "lab" is for network "lab", not "prod"/],
    [["verify", "--ca", "prod.crt", "host7.crt"], /issued by CA/],
    [["verify", "--ca", "host7.crt", "host7.crt"], /is a node certificate, not a CA certificate/],
    [["verify", "ca.crt"], /is a CA certificate, not a node certificate/],
    [
      ["verify", "tampered.crt"],
      /tampered\.crt: (certificate "host7" .*has a bad signature|.*not base64|.*canonical|.*JSON)/,
    ],
    [["verify", "truncated.crt"], /truncated\.crt: it ends before -----END IPOP CERTIFICATE-----/],
    [["verify", "huge.crt"], /huge\.crt: it is 8193 bytes, more than a certificate can be \(8192\)/],
    [["verify", "garbage.crt"], /garbage\.crt: it is not a text certificate/],
    [
      ["verify", "--ca", "missing.crt", "host7.crt"],
      /no CA certificate at .*missing\.crt: pass the network's CA with --ca PATH/,
    ],
    [
      ["verify", "host7.crt"],
      /host7\.crt: certificate "host7" \(10\.88\.0\.7\/16\) expired 2026-05-31T00:00:00Z; sign a new one with `ipop cert sign --name host7 --ip 10\.88\.0\.7\/16`/,
      T0 + 31 * DAY,
    ],
    [["verify", "host7.crt"], /not valid until 2026-04-30T23:59:00Z.*check this machine's clock/, T0 - HOUR],
  ];
  for (const [argv, pattern, now] of cases) {
    w.state.now = now ?? T0;
    const r = await w.run(...argv);
    assert.equal(r.code, 1, `${argv.join(" ")}: ${r.out}`);
    assert.match(r.err, pattern, argv.join(" "));
  }
});

test("any file content makes verify and print exit 0 or 1, never throw", async () => {
  const w = await workspace("fuzz");
  await w.run("ca", "--network", "lab");
  await w.run("sign", "--name", "host7", "--ip", "10.88.0.7/16");
  const good = await readFile(w.file("host7.crt"));
  const content = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    // A valid certificate with a few bytes changed.
    fc
      .array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((changes) => {
        const bytes = new Uint8Array(good);
        for (const [i, x] of changes) bytes[i]! ^= x;
        return bytes;
      }),
  );
  await fc.assert(
    fc.asyncProperty(content, async (bytes) => {
      await writeFile(w.file("fuzz.crt"), bytes);
      const verify = await w.run("verify", "fuzz.crt");
      assert.ok(verify.code === 0 || verify.code === 1);
      if (verify.code === 0) assert.deepEqual((await w.cert("fuzz.crt")).body, (await w.cert("host7.crt")).body);
      const print = await w.run("print", "fuzz.crt");
      assert.ok(print.code === 0 || print.code === 1);
    }),
    { numRuns: 150 },
  );
});
