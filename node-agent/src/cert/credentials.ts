/**
 * The credentials `ipop up` starts with: the network's CA certificate, the node's certificate and
 * its private key, checked together before the agent joins anything.
 */
import { resolve } from "node:path";
import type { Ipv4Interface } from "@ipop/shared";
import {
  type Certificate,
  certificateSecondsOf,
  checkCa,
  formatIpv4Interface,
  formatIpv4Prefix,
  IdentityError,
  keyMatches,
  prefixContainsAddress,
  unwrapIdentity,
  verifyCertificate,
} from "./identity.js";
import { readCertificateFile, readPrivateKeyFile } from "./read.js";

export interface LoadCredentialsOptions {
  /** Paths as given (`--ca`, `--cert`, `--key`); relative ones resolve against `cwd`. */
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly cwd?: string;
  /** The network the agent was told to join; absent: the certificate's. */
  readonly network?: string;
  /** The address the agent was told to use (`--ip`); absent: the certificate's. */
  readonly ip?: Ipv4Interface;
  /** Wall-clock milliseconds since the Unix epoch, as `Date.now()`. */
  readonly nowMs: number;
  /** Node ids and names known to be revoked. */
  readonly revoked?: ReadonlySet<string>;
}

export interface Credentials {
  readonly ca: Certificate;
  readonly cert: Certificate;
  /** The node's private key seed. Secret: never log it. */
  readonly keySeed: Uint8Array;
  /** The node's overlay id, derived from its certified key. */
  readonly nodeId: string;
  readonly network: string;
  /**
   * The address to use: `--ip` when given (it was checked against the certificate), else the
   * certificate's. Absent for a pool-only certificate without `--ip`: an address must be leased.
   */
  readonly address?: Ipv4Interface;
}

/**
 * Reads and checks the three files. Throws `CertFileError` (missing, unreadable) or `IdentityError`
 * (malformed, expired, not yet valid, another CA or network, revoked, key not matching, address not
 * matching `ip`), each with a message that names the file and says what to do.
 */
export async function loadCredentials(options: LoadCredentialsOptions): Promise<Credentials> {
  const cwd = options.cwd ?? process.cwd();
  const caPath = resolve(cwd, options.caPath);
  const certPath = resolve(cwd, options.certPath);
  const keyPath = resolve(cwd, options.keyPath);
  const sign =
    "make them on the machine with the CA key: `ipop cert sign --name NAME --ip A.B.C.D/N`, then copy NAME.crt and NAME.key here";
  const ca = await readCertificateFile(
    caPath,
    `no CA certificate at ${caPath}: copy the network's ca.crt here, or pass --ca PATH`,
  );
  const cert = await readCertificateFile(certPath, `no certificate at ${certPath}: ${sign}, or pass --cert PATH`);
  const keySeed = await readPrivateKeyFile(keyPath, `no private key at ${keyPath}: ${sign}, or pass --key PATH`);

  const nowSeconds = certificateSecondsOf(options.nowMs);
  const network = options.network === undefined ? {} : { network: options.network };
  // The CA first, so a problem with it is reported against the CA's file.
  unwrapIdentity(checkCa(ca, { nowSeconds, ...network }), caPath);
  const revoked = options.revoked === undefined ? {} : { revoked: options.revoked };
  unwrapIdentity(verifyCertificate(cert, { ca, nowSeconds, ...network, ...revoked }), certPath);
  if (!keyMatches(keySeed, cert.publicKey)) {
    throw new IdentityError(
      "IPOP_KEY_MISMATCH",
      `${keyPath} is not the private key of ${certPath} (node id ${cert.nodeId}): ` +
        "use the key that was written together with that certificate",
    );
  }
  const address = checkAddress(cert, options.ip, certPath);
  return {
    ca,
    cert,
    keySeed,
    nodeId: cert.nodeId,
    network: cert.network,
    ...(address === undefined ? {} : { address }),
  };
}

function checkAddress(cert: Certificate, ip: Ipv4Interface | undefined, certPath: string): Ipv4Interface | undefined {
  if (ip === undefined) return cert.address;
  const asked = formatIpv4Interface(ip);
  if (cert.address !== undefined) {
    if (cert.address.address === ip.address && cert.address.prefixLength === ip.prefixLength) return ip;
    throw new IdentityError(
      "IPOP_CERT_IP_MISMATCH",
      `${certPath}: --ip ${asked} does not match the certificate, which is for ${cert.ip}: ` +
        `use --ip ${cert.ip} (or leave --ip out), or sign a certificate for ${asked}`,
    );
  }
  if (cert.poolPrefixes.some((pool) => prefixContainsAddress(pool, ip.address))) return ip;
  throw new IdentityError(
    "IPOP_CERT_IP_MISMATCH",
    `${certPath}: --ip ${asked} is outside the certificate's pools ` +
      `(${cert.poolPrefixes.map(formatIpv4Prefix).join(", ")}): pick an address in them`,
  );
}
