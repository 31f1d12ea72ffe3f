/**
 * `ipop-signal --config FILE`: reading the file. What a config file may hold and how problems are told is
 * the same for both programs (@ipop/shared's config-file.ts); the settings themselves are in
 * options.ts.
 */
import * as fs from "node:fs";
import { dirname, resolve } from "node:path";
import { readConfigSettings, type SettingsSpec } from "@ipop/shared";
import { ConfigError } from "./errors.js";

/**
 * The settings of the config file at `path`, checked against `spec`. A relative path in it is
 * relative to the file's directory, so `"ca": "ca.crt"` in /etc/ipop/signal.json is /etc/ipop/ca.crt
 * whatever directory `ipop-signal` starts in.
 * @throws {@link ConfigError} when the file cannot be read, is not a JSON object, or breaks `spec`.
 */
export function configSettings<T>(spec: SettingsSpec<T>, path: string): T {
  const settings = readConfigSettings(spec, path, fs, (relative) => resolve(dirname(resolve(path)), relative));
  if (!settings.ok) throw new ConfigError(settings.message);
  return settings.value;
}
