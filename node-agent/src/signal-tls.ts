/**
 * TLS toward the signaling server: a `wss://` server's certificate is checked against Node's default
 * CA store, or against the private CA that `ipop up --signal-ca FILE` names. A failed check is a
 * configuration problem, so the message says what to do about it.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { errorCode, errorMessage } from "@ipop/shared";
import { SignalCaError } from "./errors.js";

/** A CA bundle is a few certificates; more than this is not one. */
const MAX_CA_FILE_BYTES = 256 * 1024;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the PEM CA certificate(s) in `path`: the only CAs the agent then trusts for the server.
 * @throws {@link SignalCaError} for a missing file or one without a readable PEM certificate.
 */
export async function loadSignalCa(path: string): Promise<string> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_CA_FILE_BYTES) throw new Error(`it is ${bytes.length} bytes, more than a CA file can be`);
    text = bytes.toString("utf8");
  } catch (error) {
    throw new SignalCaError(
      `--signal-ca ${path}: ${errorCode(error) === "ENOENT" ? "no such file" : errorMessage(error)}`,
    );
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new SignalCaError(`--signal-ca ${path}: not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`);
  }
  for (const pem of certificates) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new SignalCaError(`--signal-ca ${path}: a certificate in it cannot be read: ${errorMessage(error)}`);
    }
  }
  return certificates.join("\n");
}

/** OpenSSL's codes for a server certificate that does not check out (Node puts them in `error.code`). */
const VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * Why a connection to the signaling server failed, for a log line or an error: a certificate that
 * does not verify is named as such, with what to do about it.
 */
export function describeConnectFailure(error: unknown, withCa: boolean): string {
  const code = errorCode(error);
  if (code === undefined || !VERIFY_CODES.has(code)) return errorMessage(error);
  const hint =
    code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? "the certificate is for another name: use the host name it was issued for in --signal"
      : withCa
        ? "the certificate is not from the CA in --signal-ca"
        : "is it from a private CA? give that CA's certificate with --signal-ca FILE";
  return `the signaling server's TLS certificate does not verify (${errorMessage(error)}, ${code}); ${hint}`;
}
