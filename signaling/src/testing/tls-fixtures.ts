/**
 * TLS certificates for tests, made with Debian's `openssl` (Node can parse X.509 but not write it):
 * a throwaway CA and server certificates it signs, for 127.0.0.1 and localhost, valid for a day.
 * ECDSA P-256 keys, so each takes a few milliseconds.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A test CA's files. */
export interface TestTlsCa {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** A certificate and its key (mode 0600), as `--tls-cert`/`--tls-key` take them. */
export interface TestTlsPair {
  readonly certPath: string;
  readonly keyPath: string;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = ipop-test
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
`;

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: readonly string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`openssl ${args[0]} failed (Debian package openssl; scripts/system-deps.mjs): ${stderr}`);
  }
}

/** Makes a self-signed CA, `<name>.crt` and `<name>.key`, in `dir`. */
export function makeTestTlsCa(dir: string, name = "tls-ca"): TestTlsCa {
  const config = join(dir, "openssl.cnf");
  writeFileSync(config, CONFIG);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  openssl([
    "req",
    "-x509",
    "-config",
    config,
    "-extensions",
    "ca_ext",
    ...NEW_KEY,
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-subj",
    `/CN=${name}`,
    "-days",
    "1",
  ]);
  return { dir, certPath, keyPath };
}

let serial = 1;

/** Makes `<name>.crt` and `<name>.key` in the CA's directory: a server certificate the CA signs. */
export function makeTestServerCert(ca: TestTlsCa, name: string): TestTlsPair {
  const config = join(ca.dir, "openssl.cnf");
  const certPath = join(ca.dir, `${name}.crt`);
  const keyPath = join(ca.dir, `${name}.key`);
  const request = join(ca.dir, `${name}.csr`);
  openssl(["req", "-new", "-config", config, ...NEW_KEY, "-keyout", keyPath, "-out", request, "-subj", `/CN=${name}`]);
  openssl([
    "x509",
    "-req",
    "-in",
    request,
    "-CA",
    ca.certPath,
    "-CAkey",
    ca.keyPath,
    "-set_serial",
    String(++serial),
    "-days",
    "1",
    "-extfile",
    config,
    "-extensions",
    "server_ext",
    "-out",
    certPath,
  ]);
  chmodSync(keyPath, 0o600);
  return { certPath, keyPath };
}
