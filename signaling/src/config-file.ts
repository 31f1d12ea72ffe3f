/**
 * `ipop-signal --config FILE`: reading the file. What a config file may hold and how problems are told
 * is the same for both programs (@ipop/shared's config-file.ts); the settings themselves are in
 * options.ts.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type ConfigFile, MAX_CONFIG_BYTES, parseConfigFile, unreadableConfig } from "@ipop/shared";
import { ConfigError } from "./errors.js";

export {
  type ConfigFile,
  describeIssues,
  filePathSchema,
  type IssueSource,
  integerSchema,
  MAX_CONFIG_BYTES,
  textSchema,
} from "@ipop/shared";

/**
 * Reads `path` as a JSON object of settings.
 * @throws {@link ConfigError} when the file is missing, unreadable, too large, not JSON, or not an object.
 */
export function readConfigFile(path: string): ConfigFile {
  let bytes: Uint8Array;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    // One byte past the limit is enough to tell a file that is too large; a device never ends.
    const buffer = new Uint8Array(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
      if (n === 0 || length === buffer.length) break;
    }
    bytes = buffer.subarray(0, length);
  } catch (error) {
    throw new ConfigError(unreadableConfig(path, error));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const parsed = parseConfigFile(path, bytes);
  if (typeof parsed === "string") throw new ConfigError(parsed);
  return parsed;
}

/**
 * A relative path in a config file is relative to the file's directory, so `"ca": "ca.crt"` in
 * /etc/ipop/signal.json is /etc/ipop/ca.crt whatever directory `ipop-signal` starts in.
 */
export function pathInConfig(file: ConfigFile, path: string): string {
  return resolve(dirname(resolve(file.path)), path);
}
