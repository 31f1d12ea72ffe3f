/**
 * The TLS certificate and key of `ipop-signal --tls-cert/--tls-key`: read and checked at start and
 * again on each reload (SIGHUP), so the server only ever serves a pair that fits together.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { errorMessage } from "@ipop/shared";
import { TlsError } from "./errors.js";
import { checkPrivate, readLimited } from "./key-files.js";

/** The paths given on the command line or in the config file. */
export interface TlsPaths {
  readonly certPath: string;
  readonly keyPath: string;
}

/** A checked certificate (with its chain, if the file has one) and its key, as the server uses them. */
export interface TlsCredentials {
  /** PEM: the server's certificate first, then any intermediates. */
  readonly cert: Buffer;
  /** PEM, unencrypted. */
  readonly key: Buffer;
  /** The server certificate's SHA-256 fingerprint (colon-separated hex, as openssl prints it), for logs. */
  readonly fingerprint: string;
  readonly subject: string;
  /** When the certificate expires, as the certificate says it (e.g. `Dec  1 12:00:00 2027 GMT`). */
  readonly notAfter: string;
}

/** A certificate chain file is a few KiB; a key file well under one. */
const MAX_CHAIN_BYTES = 256 * 1024;
const MAX_KEY_BYTES = 64 * 1024;

const refuse = (message: string) => new TlsError(message);

/**
 * Loads what `--tls-cert` and `--tls-key` name and checks that they make a usable pair.
 * @throws {@link TlsError} naming the file and what is wrong with it.
 */
export async function loadTlsFiles(paths: TlsPaths, nowMs: number = Date.now()): Promise<TlsCredentials> {
  const { certPath, keyPath } = paths;
  const cert = await readLimited(certPath, MAX_CHAIN_BYTES, "--tls-cert", refuse);
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsError(`--tls-cert ${certPath}: not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  let x509: X509Certificate;
  try {
    // The first certificate is the server's; any after it are the chain sent along with it.
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new TlsError(`--tls-cert ${certPath}: not a readable certificate: ${errorMessage(error)}`);
  }
  if (Date.parse(x509.validTo) <= nowMs) {
    throw new TlsError(`--tls-cert ${certPath}: the certificate expired on ${x509.validTo}`);
  }

  await checkPrivate(keyPath, "--tls-key", "a TLS key", refuse);
  const key = await readLimited(keyPath, MAX_KEY_BYTES, "--tls-key", refuse);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString("latin1"))) {
    key.fill(0);
    throw new TlsError(`--tls-key ${keyPath}: not a PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line)`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (error) {
    key.fill(0);
    const encrypted = /passphrase/i.test(errorMessage(error));
    throw new TlsError(
      encrypted
        ? `--tls-key ${keyPath}: the key is encrypted; ipop-signal needs it without a passphrase (mode 0600 protects it)`
        : `--tls-key ${keyPath}: not a readable private key: ${errorMessage(error)}`,
    );
  }
  if (!x509.checkPrivateKey(keyObject)) {
    key.fill(0);
    throw new TlsError(`--tls-key ${keyPath} is not the key of the certificate in --tls-cert ${certPath}`);
  }
  try {
    // What the server will do with them: catches what the checks above do not (a broken chain entry).
    createSecureContext({ cert, key });
  } catch (error) {
    key.fill(0);
    throw new TlsError(`--tls-cert ${certPath} with --tls-key ${keyPath}: unusable: ${errorMessage(error)}`);
  }
  return { cert, key, fingerprint: x509.fingerprint256, subject: x509.subject, notAfter: x509.validTo };
}
