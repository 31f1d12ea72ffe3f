/**
 * The CA's two files as the commands that act for the CA (`sign`, `token create`, `revoke`) find
 * and check them: `--ca-crt`/`--ca-key`, by default ca.crt and ca.key in the current directory.
 */
import { resolve } from "node:path";
import { type ParsedArgs, stringFlag } from "./args.js";
import { type Certificate, checkCa, IdentityError, keyMatches, unwrapIdentity } from "./identity.js";
import type { CertIo } from "./io.js";
import { readCertificateFile, readPrivateKeyFile } from "./read.js";

const WHERE = "run this where the CA's files are, or pass --ca-crt and --ca-key (make a CA with `ipop cert ca`)";

export interface CaFiles {
  readonly crtPath: string;
  readonly keyPath: string;
}

/** The paths `--ca-crt` and `--ca-key` name, resolved against the working directory. */
export function caFiles(parsed: ParsedArgs, io: CertIo): CaFiles {
  return {
    crtPath: resolve(io.cwd, stringFlag(parsed, "ca-crt") ?? "ca.crt"),
    keyPath: resolve(io.cwd, stringFlag(parsed, "ca-key") ?? "ca.key"),
  };
}

/** Reads the CA certificate and checks it is a CA, intact and valid at `nowSeconds`. */
export async function readCa(files: CaFiles, nowSeconds: number): Promise<Certificate> {
  const ca = await readCertificateFile(files.crtPath, `no CA certificate at ${files.crtPath}: ${WHERE}`);
  unwrapIdentity(checkCa(ca, { nowSeconds }), files.crtPath);
  return ca;
}

/** Reads the CA key and checks it belongs to `ca`. The caller wipes the seed when done. */
export async function readCaKey(files: CaFiles, ca: Certificate): Promise<Uint8Array> {
  const seed = await readPrivateKeyFile(files.keyPath, `no CA key at ${files.keyPath}: ${WHERE}`);
  if (!keyMatches(seed, ca.publicKey)) {
    throw new IdentityError(
      "IPOP_KEY_MISMATCH",
      `${files.keyPath} is not the key of ${files.crtPath}; pass the matching pair`,
    );
  }
  return seed;
}
