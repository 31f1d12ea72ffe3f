/**
 * Reading the files the server is started with (`--ca`, `--ca-key`, `--tls-cert`, `--tls-key`, ...):
 * bounded in size, and keys refused when others may read them. Each caller says which flag the file
 * came from and which error to raise, so the message names what the operator typed.
 */
import { readFile, stat } from "node:fs/promises";
import { errorCode, errorMessage } from "@ipop/shared";

/** Makes the error a problem with a file is raised as (CaError, TlsError). */
export type Refusal = (message: string) => Error;

function why(error: unknown): string {
  return errorCode(error) === "ENOENT" ? "no such file" : errorMessage(error);
}

/** Reads `path`, refusing files over `limit` bytes (whatever is there cannot be what the flag wants). */
export async function readLimited(path: string, limit: number, flag: string, refuse: Refusal): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw refuse(`${flag} ${path}: ${why(error)}`);
  }
  if (size > limit) throw refuse(`${flag} ${path}: it is ${size} bytes, more than such a file can be`);
  try {
    return await readFile(path);
  } catch (error) {
    throw refuse(`${flag} ${path}: cannot read it: ${errorMessage(error)}`);
  }
}

/**
 * Refuses a key file that others may read or write, as ssh refuses an unprotected private key:
 * whoever reads it can act as its owner. `what` names the key in the message ("the CA key").
 */
export async function checkPrivate(path: string, flag: string, what: string, refuse: Refusal): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw refuse(`${flag} ${path}: ${why(error)}`);
  }
  if (!info.isFile()) throw refuse(`${flag} ${path}: not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw refuse(
      `${flag} ${path} is readable or writable by others (mode ${mode}); ${what} must be private: chmod 600 ${path}`,
    );
  }
}
