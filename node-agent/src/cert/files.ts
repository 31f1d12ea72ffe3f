/**
 * Reading and writing credential files. Reads are bounded (a certificate path pointing at a huge
 * file or a device costs one small read); writes never replace a file unless asked to, and a key
 * is created readable by its owner only.
 */
import { lstat, open, rename, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { errorCode, errorMessage } from "@ipop/shared";
import { CertFileError } from "../errors.js";
import { formatPrivateKey } from "./identity.js";

/** Mode of private key files. */
export const KEY_FILE_MODE = 0o600;
/** Mode of certificate files: public, but only their owner should change them. */
export const CERT_FILE_MODE = 0o644;

/**
 * Reads at most `limit + 1` bytes of `path`: enough for the parser to see that a file is too large
 * without reading all of it. `missing` is the message for a file that does not exist, saying what
 * to do; other failures (permissions, a directory) become IPOP_CERT_FILE_UNREADABLE.
 */
export async function readBounded(path: string, limit: number, missing: string): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const buffer = new Uint8Array(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") throw new CertFileError("IPOP_CERT_FILE_MISSING", missing);
    const why =
      code === "EACCES" || code === "EPERM"
        ? "permission denied; run as a user who may read it, or fix its permissions"
        : code === "EISDIR"
          ? "it is a directory; give the path of the file"
          : errorMessage(error);
    throw new CertFileError("IPOP_CERT_FILE_UNREADABLE", `cannot read ${path}: ${why}`);
  } finally {
    await handle?.close();
  }
}

/** One file to write. */
export interface OutputFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/**
 * Writes files as a set. Without `force`, refuses (IPOP_CERT_FILE_EXISTS) before writing anything
 * if any of them exists, so a key is never left without its certificate or overwritten. With
 * `force`, all files are first written beside their targets, then renamed over them, so a reader
 * never sees half a file. On failure, files this call created are removed again. Paths are absolute.
 */
export async function writeFiles(
  files: readonly OutputFile[],
  options: { readonly force: boolean; readonly tempSuffix: () => string },
): Promise<void> {
  const paths = files.map((f) => resolve(f.path));
  if (new Set(paths).size !== paths.length) {
    throw new CertFileError("IPOP_CERT_FILE_UNWRITABLE", `the output files must differ: ${paths.join(", ")}`);
  }
  if (!options.force) {
    for (const file of files) {
      if (await exists(file.path)) {
        throw new CertFileError(
          "IPOP_CERT_FILE_EXISTS",
          `${file.path} already exists; move it away, choose other output paths, or pass --force to replace it`,
        );
      }
    }
  }
  const created: string[] = [];
  try {
    const targets: string[] = [];
    for (const file of files) {
      const target = options.force ? `${file.path}.${options.tempSuffix()}.tmp` : file.path;
      const handle = await open(target, "wx", file.mode);
      created.push(target);
      targets.push(target);
      try {
        await handle.writeFile(file.content, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    if (options.force) {
      for (let i = 0; i < files.length; i++) await rename(targets[i]!, files[i]!.path);
    }
  } catch (error) {
    await Promise.all(created.map((path) => unlink(path).catch(() => undefined)));
    const code = errorCode(error);
    if (code === "EEXIST") {
      throw new CertFileError("IPOP_CERT_FILE_EXISTS", `${errorMessage(error)}; pass --force to replace it`);
    }
    throw new CertFileError("IPOP_CERT_FILE_UNWRITABLE", `cannot write: ${errorMessage(error)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw new CertFileError("IPOP_CERT_FILE_UNWRITABLE", `cannot check ${path}: ${errorMessage(error)}`);
  }
}

/**
 * Writes a new private key and its certificate as a set (see {@link writeFiles}), then wipes the
 * key's seed from memory, also when the write fails.
 */
export async function writeKeyAndCertificate(
  paths: { readonly keyPath: string; readonly crtPath: string },
  seed: Uint8Array,
  certificate: string,
  options: { readonly force: boolean; readonly randomBytes: (n: number) => Uint8Array },
): Promise<void> {
  try {
    await writeFiles(
      [
        { path: paths.keyPath, content: formatPrivateKey(seed), mode: KEY_FILE_MODE },
        { path: paths.crtPath, content: certificate, mode: CERT_FILE_MODE },
      ],
      { force: options.force, tempSuffix: () => Buffer.from(options.randomBytes(6)).toString("hex") },
    );
  } finally {
    seed.fill(0);
  }
}
