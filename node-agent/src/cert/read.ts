/**
 * Reading a certificate or key file into its parsed form; every failure is a typed error whose
 * message starts with the path.
 */
import { readBounded } from "./files.js";
import {
  type Certificate,
  MAX_CERTIFICATE_BYTES,
  MAX_PRIVATE_KEY_BYTES,
  parseCertificate,
  parsePrivateKey,
  unwrapIdentity,
} from "./identity.js";

/** Reads and parses a certificate (structure only; verify it before trusting it). */
export async function readCertificateFile(path: string, missing: string): Promise<Certificate> {
  const bytes = await readBounded(path, MAX_CERTIFICATE_BYTES, missing);
  return unwrapIdentity(parseCertificate(bytes), path);
}

/** Reads a private key file's seed. */
export async function readPrivateKeyFile(path: string, missing: string): Promise<Uint8Array> {
  const bytes = await readBounded(path, MAX_PRIVATE_KEY_BYTES, missing);
  return unwrapIdentity(parsePrivateKey(bytes), path);
}
