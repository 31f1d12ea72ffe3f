import assert from "node:assert/strict";
import * as v from "valibot";
import { test } from "vitest";
import { filePathSchema, integerSchema, type SettingsSpec } from "./config-file.js";
import { type ConfigFileSystem, readConfigSettings } from "./config-read.js";
import { encodeUtf8 } from "./utf8.js";

/** Files in memory; a file named "/dev/zero" never ends, like the device. */
function memoryFiles(files: Record<string, string>): ConfigFileSystem & { open: number } {
  const fds = new Map<number, { bytes: Uint8Array | null; at: number }>();
  let next = 3;
  return {
    open: 0,
    openSync(path) {
      const text = files[path];
      if (text === undefined && path !== "/dev/zero") throw Object.assign(new Error("missing"), { code: "ENOENT" });
      this.open++;
      fds.set(next, { bytes: text === undefined ? null : encodeUtf8(text), at: 0 });
      return next++;
    },
    readSync(fd, buffer, offset, length) {
      const file = fds.get(fd)!;
      if (file.bytes === null) {
        buffer.fill(0, offset, offset + length);
        return length;
      }
      const chunk = file.bytes.subarray(file.at, file.at + Math.min(length, 5));
      buffer.set(chunk, offset);
      file.at += chunk.length;
      return chunk.length;
    },
    closeSync(fd) {
      fds.delete(fd);
      this.open--;
    },
  };
}

interface Settings {
  readonly mtu?: number;
  readonly key?: string;
}
const spec: SettingsSpec<Settings> = {
  schema: v.strictObject({ mtu: v.optional(integerSchema(576, 9000)), key: v.optional(filePathSchema()) }),
  flags: { mtu: "mtu", key: "key" },
  pathKeys: ["key"],
  quiet: new Set(["key"]),
};
const fromEtc = (relative: string) => (relative.startsWith("/") ? relative : `/etc/ipop/${relative}`);

test("a file read in small pieces gives its settings, paths taken from the file's directory", () => {
  const files = memoryFiles({ "/etc/ipop/ipop.json": '{"mtu": 1400, "key": "node.key"}' });
  const settings = readConfigSettings(spec, "/etc/ipop/ipop.json", files, fromEtc);
  assert.deepEqual(settings, { ok: true, value: { mtu: 1400, key: "/etc/ipop/node.key" } });
  assert.equal(files.open, 0, "the file is closed again");
});

test("a missing file, an endless one and a bad setting are each told, never thrown", () => {
  const files = memoryFiles({ "/etc/ipop/bad.json": '{"mtu": 70000}' });
  const message = (path: string) => {
    const settings = readConfigSettings(spec, path, files, fromEtc);
    return settings.ok ? "no problem" : settings.message;
  };
  assert.equal(message("/nowhere.json"), "cannot read the config file /nowhere.json: no such file");
  assert.match(message("/dev/zero"), /larger than 64 KiB/);
  assert.match(message("/etc/ipop/bad.json"), /mtu.*an integer from 576 to 9000/);
  assert.equal(files.open, 0);
});
