/** `ipop-signal --ca/--ca-key/--lease/--crl`: parsing, the file checks, and refusing to start. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatPrivateKey } from "@ipop/shared";
import { afterAll, beforeAll, test } from "vitest";
import { loadAuthorityFiles } from "./authority-files.js";
import { CaError, OptionError } from "./errors.js";
import { silentLogger } from "./logger.js";
import { parseCliArgs } from "./options.js";
import { startSignalServer } from "./server.js";
import { makeCa } from "./testing/ca-fixtures.js";
import { TestClient } from "./testing/test-client.js";

// The CLI runs as a child process from the build (`npm test` builds first): Node 20 cannot run .ts.
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
let dir: string;
const ca = makeCa(Date.now());
const other = makeCa(Date.now(), { label: "other" });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ipop-signal-ca-"));
  await writeFile(join(dir, "ca.crt"), ca.text);
  await writeFile(join(dir, "ca.key"), formatPrivateKey(ca.keys.seed), { mode: 0o600 });
  await writeFile(join(dir, "open.key"), formatPrivateKey(ca.keys.seed), { mode: 0o644 });
  await chmod(join(dir, "open.key"), 0o644);
  await writeFile(join(dir, "other.key"), formatPrivateKey(other.keys.seed), { mode: 0o600 });
  await writeFile(join(dir, "other.crl"), other.revocations(1, []));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test("the CA flags parse; each needs what it goes with", () => {
  const run = parseCliArgs(["--ca", "ca.crt", "--ca-key", "ca.key", "--lease", "2h", "--crl", "ca.crl"]);
  assert.equal(run.kind, "run");
  assert.deepEqual(run.kind === "run" && run.authority, {
    caPath: "ca.crt",
    caKeyPath: "ca.key",
    crlPath: "ca.crl",
    leaseSeconds: 7200,
  });
  const cases: [string[], RegExp][] = [
    [["--ca-key", "ca.key"], /--ca-key needs --ca/],
    [["--crl", "x"], /--crl needs --ca/],
    [["--ca", "ca.crt", "--lease", "1h"], /--lease needs --ca-key/],
    [["--ca", "ca.crt", "--ca-key", "k", "--lease", "soon"], /not a duration/],
    [
      ["--ca", "ca.crt", "--ca-key", "k", "--lease", "10s"],
      /--lease must be a duration from 1m to 30d, like 1h, got "10s"/,
    ],
    [["--ca", ""], /--ca must be the path of a file/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(
      () => parseCliArgs(args),
      (e: unknown) => e instanceof OptionError && pattern.test(e.message),
      args.join(" "),
    );
  }
});

test("loadAuthorityFiles: refuses a CA key others may read, a missing file, a list of another CA", async () => {
  const log = silentLogger();
  const loaded = await loadAuthorityFiles(
    { caPath: join(dir, "ca.crt"), caKeyPath: join(dir, "ca.key"), crlPath: join(dir, "missing.crl") },
    log,
  );
  assert.equal(loaded.ca.nodeId, ca.ca.nodeId);
  assert.deepEqual(loaded.caKey, ca.keys.seed);
  assert.equal(loaded.revocationList, undefined);
  const refused = async (paths: Parameters<typeof loadAuthorityFiles>[0], pattern: RegExp) =>
    assert.rejects(loadAuthorityFiles(paths, log), (e: unknown) => e instanceof CaError && pattern.test(e.message));
  await refused({ caPath: join(dir, "ca.crt"), caKeyPath: join(dir, "open.key") }, /mode 0644.*chmod 600/);
  await refused({ caPath: join(dir, "nope.crt") }, /no such file/);
  await refused({ caPath: join(dir, "ca.key") }, /--ca .*IPOP CERTIFICATE|does not start/);
  await refused({ caPath: join(dir, "ca.crt"), caKeyPath: join(dir, "ca.crt") }, /--ca-key/);
  // Loaded fine, but another CA's key or list: the server refuses to start.
  const mismatched = await loadAuthorityFiles({ caPath: join(dir, "ca.crt"), caKeyPath: join(dir, "other.key") }, log);
  await assert.rejects(startSignalServer({ authority: mismatched }), /is not the key of CA/);
  const foreignList = await loadAuthorityFiles({ caPath: join(dir, "ca.crt"), crlPath: join(dir, "other.crl") }, log);
  await assert.rejects(startSignalServer({ authority: foreignList }), /--crl: .*not by CA/);
});

test("a published list is written to --crl, mode 0644", async () => {
  const crlPath = join(dir, "ca.crl");
  const authority = await loadAuthorityFiles({ caPath: join(dir, "ca.crt"), crlPath }, silentLogger());
  const server = await startSignalServer({ authority });
  try {
    const c = await TestClient.connect(server.url);
    const list = ca.revocations(7, [{ name: "host7", at: 1 }]);
    c.sendJson({ v: 1, t: "publish-revocations", network: "lab", list });
    await c.expect("published");
    await c.close();
    for (let i = 0; i < 100 && (await readFile(crlPath, "utf8").catch(() => "")) !== list; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await readFile(crlPath, "utf8"), list);
  } finally {
    await server.close();
  }
  // And read back at the next start.
  const again = await loadAuthorityFiles({ caPath: join(dir, "ca.crt"), crlPath }, silentLogger());
  assert.equal(again.revocationList?.serial, 7);
});

test("ipop-signal exits 1 with a one-line reason when the CA key is not private", async () => {
  const child = spawn(
    process.execPath,
    [CLI, "--listen", "127.0.0.1:0", "--ca", join(dir, "ca.crt"), "--ca-key", join(dir, "open.key")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^ipop-signal: --ca-key .* chmod 600/);
  assert.doesNotMatch(stderr, /\n\s+at /);
});
