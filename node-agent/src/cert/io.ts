/**
 * What the certificate commands need from the process, passed in so tests run them in a temporary
 * directory with a fixed clock and seeded randomness.
 */
import { randomBytes } from "node:crypto";

export interface CertIo {
  /** Relative paths on the command line resolve against this directory. */
  readonly cwd: string;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Wall-clock milliseconds since the Unix epoch, as `Date.now()`. */
  now(): number;
  /** `n` cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
}

/** The real process: its directory, streams, clock and `crypto.randomBytes`. */
export function processCertIo(): CertIo {
  return {
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => Date.now(),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  };
}
