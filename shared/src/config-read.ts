/**
 * Reading a config file through the host's file calls: both programs (`ipop up --config`,
 * `ipop-signal --config`) read theirs the same way, so the reading lives here once and each program
 * only hands in Node's `node:fs` and turns a problem into its own error class.
 */
import { configFileSettings, loadConfigFile, type SettingsResult, type SettingsSpec } from "./config-file.js";

/** The synchronous file calls a config file is read with; Node's `node:fs` module fits as it is. */
export interface ConfigFileSystem {
  openSync(path: string, flags: "r"): number;
  /** Reads into `buffer` from `offset`; returns how many bytes it read (0 at the end of the file). */
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  closeSync(fd: number): void;
}

/**
 * The settings of the config file at `path`, checked against `spec`, or what is wrong with the
 * file. A path in it is turned into one the host can open by `resolvePath` (relative to the file's
 * directory, so `"ca": "ca.crt"` in /etc/ipop/ipop.json is /etc/ipop/ca.crt wherever the program
 * starts).
 */
export function readConfigSettings<T>(
  spec: SettingsSpec<T>,
  path: string,
  files: ConfigFileSystem,
  resolvePath: (relative: string) => string,
): SettingsResult<T> {
  const file = loadConfigFile(path, (name, length) => readStart(files, name, length));
  if (typeof file === "string") return { ok: false, message: file };
  return configFileSettings(spec, file, resolvePath);
}

/** The first `length` bytes of a file: a device that never ends is not read past them. */
function readStart(files: ConfigFileSystem, path: string, length: number): Uint8Array {
  const fd = files.openSync(path, "r");
  try {
    const bytes = new Uint8Array(length);
    let read = 0;
    for (;;) {
      const n = files.readSync(fd, bytes, read, length - read, null);
      read += n;
      if (n === 0 || read === length) return bytes.subarray(0, read);
    }
  } finally {
    files.closeSync(fd);
  }
}
