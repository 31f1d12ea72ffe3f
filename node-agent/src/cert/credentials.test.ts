import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseIpv4Interface } from "@ipop/shared";
import { afterAll, beforeAll, test } from "vitest";
import { CertFileError } from "../errors.js";
import { type LoadCredentialsOptions, loadCredentials } from "./credentials.js";
import { IdentityError } from "./identity.js";
import type { CertIo } from "./io.js";
import { runCertCommand } from "./run.js";

const T0 = Date.UTC(2026, 4, 1);
const DAY = 86_400_000;
let dir: string;

async function cert(...argv: string[]) {
  let counter = 0;
  let err = "";
  const io: CertIo = {
    cwd: dir,
    stdout: { write: () => true },
    stderr: { write: (text: string) => (err += text) },
    now: () => T0,
    randomBytes: (n) =>
      new Uint8Array(
        createHash("sha512")
          .update(`${argv.join(" ")}/${counter++}`)
          .digest()
          .subarray(0, n),
      ),
  };
  assert.equal(await runCertCommand(argv, io), 0, err);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ipop-credentials-"));
  await mkdir(join(dir, "other"));
  await cert("ca", "--network", "lab");
  await cert("ca", "--network", "lab", "--out-crt", "other/ca.crt", "--out-key", "other/ca.key");
  await cert("ca", "--network", "prod", "--out-crt", "prod.crt", "--out-key", "prod.key");
  await cert("sign", "--name", "host7", "--ip", "10.88.0.7/16", "--duration", "30d");
  await cert("sign", "--name", "host8", "--ip", "10.88.0.8/16", "--duration", "30d");
  await cert("sign", "--name", "pooled", "--pools", "10.88.200.0/24");
  await cert("sign", "--name", "alien", "--ip", "10.88.0.9/16", "--ca-crt", "other/ca.crt", "--ca-key", "other/ca.key");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<LoadCredentialsOptions> = {}): LoadCredentialsOptions {
  return { caPath: "ca.crt", certPath: "host7.crt", keyPath: "host7.key", cwd: dir, nowMs: T0, ...overrides };
}

function ip(text: string) {
  const parsed = parseIpv4Interface(text);
  assert.ok(typeof parsed !== "string");
  return parsed;
}

async function refuses(overrides: Partial<LoadCredentialsOptions>, code: string, pattern: RegExp) {
  await assert.rejects(loadCredentials(options(overrides)), (error: unknown) => {
    assert.ok(error instanceof IdentityError || error instanceof CertFileError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

test("good credentials load, with the certificate's address", async () => {
  const c = await loadCredentials(options({ network: "lab" }));
  assert.equal(c.network, "lab");
  assert.equal(c.cert.name, "host7");
  assert.equal(c.nodeId, c.cert.nodeId);
  assert.match(c.nodeId, /^[0-9a-f]{32}$/);
  assert.equal(c.keySeed.length, 32);
  assert.deepEqual(c.address, ip("10.88.0.7/16"));
  assert.deepEqual((await loadCredentials(options({ ip: ip("10.88.0.7/16") }))).address, ip("10.88.0.7/16"));
});

test("a pool certificate takes --ip inside its pools, and has no address without one", async () => {
  const pooled = options({ certPath: "pooled.crt", keyPath: "pooled.key" });
  assert.equal((await loadCredentials(pooled)).address, undefined);
  const c = await loadCredentials({ ...pooled, ip: ip("10.88.200.9/16") });
  assert.deepEqual(c.address, ip("10.88.200.9/16"));
  await refuses(
    { certPath: "pooled.crt", keyPath: "pooled.key", ip: ip("10.88.0.9/16") },
    "IPOP_CERT_IP_MISMATCH",
    /--ip 10\.88\.0\.9\/16 is outside the certificate's pools \(10\.88\.200\.0\/24\)/,
  );
});

test("missing files say which, and what to do", async () => {
  await refuses(
    { caPath: "nope/ca.crt" },
    "IPOP_CERT_FILE_MISSING",
    /no CA certificate at .*nope\/ca\.crt: copy the network's ca\.crt here, or pass --ca PATH/,
  );
  await refuses(
    { certPath: "nope.crt" },
    "IPOP_CERT_FILE_MISSING",
    /no certificate at .*nope\.crt: .*ipop cert sign --name NAME --ip A\.B\.C\.D\/N.*--cert PATH/,
  );
  await refuses({ keyPath: "nope.key" }, "IPOP_CERT_FILE_MISSING", /no private key at .*nope\.key: .*--key PATH/);
  await refuses({ keyPath: "other" }, "IPOP_CERT_FILE_UNREADABLE", /cannot read .*other: it is a directory/);
  await refuses({ certPath: "host7.key" }, "IPOP_CERT_MALFORMED", /host7\.key: .*PRIVATE KEY/);
  await refuses({ keyPath: "host7.crt" }, "IPOP_KEY_MALFORMED", /certificate, not a key/);
});

test("expired and not yet valid certificates are refused with their dates", async () => {
  await refuses(
    { nowMs: T0 + 31 * DAY },
    "IPOP_CERT_EXPIRED",
    /host7\.crt: certificate "host7" \(10\.88\.0\.7\/16\) expired 2026-05-31T00:00:00Z; sign a new one/,
  );
  await refuses(
    { nowMs: T0 - DAY },
    "IPOP_CERT_NOT_YET_VALID",
    /ca\.crt: CA certificate "lab" is not valid until 2026-04-30T23:59:00Z.*clock/,
  );
  await refuses({ nowMs: T0 + 400 * DAY }, "IPOP_CERT_EXPIRED", /ca\.crt: CA certificate "lab" expired/);
});

test("another network, another CA, a node certificate as CA", async () => {
  await refuses(
    { network: "prod" },
    "IPOP_CERT_WRONG_NETWORK",
    /ca\.crt: CA certificate "lab" is for network "lab", not "prod"/,
  );
  await refuses({ caPath: "prod.crt", network: "prod" }, "IPOP_CERT_WRONG_CA", /host7\.crt: .*issued by CA/);
  await refuses({ certPath: "alien.crt", keyPath: "alien.key" }, "IPOP_CERT_WRONG_CA", /alien\.crt/);
  await refuses({ caPath: "host8.crt" }, "IPOP_CERT_WRONG_KIND", /host8\.crt: .*not a CA certificate/);
});

test("the key must belong to the certificate", async () => {
  await refuses({ keyPath: "host8.key" }, "IPOP_KEY_MISMATCH", /host8\.key is not the private key of .*host7\.crt/);
});

test("--ip must match the certificate", async () => {
  await refuses(
    { ip: ip("10.88.0.8/16") },
    "IPOP_CERT_IP_MISMATCH",
    /--ip 10\.88\.0\.8\/16 does not match the certificate, which is for 10\.88\.0\.7\/16/,
  );
  await refuses({ ip: ip("10.88.0.7/24") }, "IPOP_CERT_IP_MISMATCH", /does not match/);
});

test("a revoked certificate is refused", async () => {
  await refuses({ revoked: new Set(["host7"]) }, "IPOP_CERT_REVOKED", /host7\.crt: .*revoked/);
});
