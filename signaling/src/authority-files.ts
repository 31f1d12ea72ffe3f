/**
 * The CA files of `ipop-signal --ca/--ca-key/--crl`: read and checked at start, so a server never
 * runs with a CA it cannot use, and the revocation list rewritten when a newer one is published.
 */
import { randomBytes } from "node:crypto";
import { open, rename } from "node:fs/promises";
import {
  errorMessage,
  MAX_CERTIFICATE_BYTES,
  MAX_PRIVATE_KEY_BYTES,
  MAX_REVOCATION_LIST_BYTES,
  parseCertificate,
  parsePrivateKey,
  parseRevocationList,
  type RevocationList,
} from "@ipop/shared";
import type { AuthorityOptions } from "./authority.js";
import { CaError } from "./errors.js";
import { checkPrivate, readLimited } from "./key-files.js";
import type { SignalLogger } from "./logger.js";

/** The paths and settings given on the command line. */
export interface AuthorityPaths {
  readonly caPath: string;
  readonly caKeyPath?: string;
  readonly crlPath?: string;
  readonly leaseSeconds?: number;
}

const refuse = (message: string) => new CaError(message);

/** Reads the list at `path`; undefined when the file does not exist yet (it is written on publish). */
async function readRevocationList(path: string): Promise<RevocationList | undefined> {
  let text: Buffer;
  try {
    text = await readLimited(path, MAX_REVOCATION_LIST_BYTES, "--crl", refuse);
  } catch (error) {
    if (error instanceof CaError && /no such file/.test(error.message)) return undefined;
    throw error;
  }
  const parsed = parseRevocationList(new Uint8Array(text));
  if (!parsed.ok) throw new CaError(`--crl ${path}: ${parsed.message}`);
  return parsed.value;
}

/**
 * Writes lists to `path` one after another (a newer list never overtaken by an older write), each
 * through a temporary file renamed over the old one, mode 0644: a reader never sees half a list.
 */
function revocationListWriter(path: string, log: SignalLogger): (text: string) => void {
  let queue: Promise<void> = Promise.resolve();
  return (text) => {
    queue = queue.then(async () => {
      const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        const handle = await open(temp, "wx", 0o644);
        try {
          await handle.writeFile(text, "utf8");
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
      } catch (error) {
        log.error({ path, err: errorMessage(error) }, "cannot write the revocation list; it is kept in memory");
      }
    });
  };
}

/**
 * Loads what `--ca`, `--ca-key` and `--crl` name. The checks that need no file (the key is the CA's,
 * the list is the CA's) are the Authority's, when the server starts.
 * @throws {@link CaError} with a message naming the file and what to do.
 */
export async function loadAuthorityFiles(paths: AuthorityPaths, log: SignalLogger): Promise<AuthorityOptions> {
  const caText = await readLimited(paths.caPath, MAX_CERTIFICATE_BYTES, "--ca", refuse);
  const ca = parseCertificate(new Uint8Array(caText));
  if (!ca.ok) throw new CaError(`--ca ${paths.caPath}: ${ca.message}`);
  let caKey: Uint8Array | undefined;
  if (paths.caKeyPath !== undefined) {
    await checkPrivate(paths.caKeyPath, "--ca-key", "the CA key", refuse);
    const keyText = await readLimited(paths.caKeyPath, MAX_PRIVATE_KEY_BYTES, "--ca-key", refuse);
    const key = parsePrivateKey(new Uint8Array(keyText));
    keyText.fill(0);
    if (!key.ok) throw new CaError(`--ca-key ${paths.caKeyPath}: ${key.message}`);
    caKey = key.value;
  }
  const revocationList = paths.crlPath === undefined ? undefined : await readRevocationList(paths.crlPath);
  return {
    ca: ca.value,
    ...(caKey === undefined ? {} : { caKey }),
    ...(paths.leaseSeconds === undefined ? {} : { leaseSeconds: paths.leaseSeconds }),
    ...(revocationList === undefined ? {} : { revocationList }),
    ...(paths.crlPath === undefined ? {} : { saveRevocationList: revocationListWriter(paths.crlPath, log) }),
  };
}
