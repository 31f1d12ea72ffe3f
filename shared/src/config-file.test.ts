import assert from "node:assert/strict";
import { test } from "vitest";
import { MAX_CONFIG_BYTES, parseConfigFile, unreadableConfig } from "./config-file.js";
import { encodeUtf8 } from "./utf8.js";

const parse = (text: string) => parseConfigFile("/etc/ipop/ipop.json", encodeUtf8(text));

test("a JSON object of settings parses, with or without a byte order mark", () => {
  assert.deepEqual(parse('{"signal": "ws://h:7000"}'), {
    path: "/etc/ipop/ipop.json",
    settings: { signal: "ws://h:7000" },
  });
  assert.deepEqual(parse('\uFEFF{"mtu": 1400}'), { path: "/etc/ipop/ipop.json", settings: { mtu: 1400 } });
});

test("what is not an object of settings is refused with the file's name and what was expected", () => {
  for (const text of ["[]", "null", "7", '"x"'])
    assert.match(String(parse(text)), /ipop\.json: expected a JSON object/);
  assert.match(String(parseConfigFile("f.json", new Uint8Array([0x7b, 0xff, 0x7d]))), /f\.json: not UTF-8 text/);
  assert.match(String(parseConfigFile("f.json", new Uint8Array(MAX_CONFIG_BYTES + 1))), /larger than 64 KiB/);
});

test("a JSON syntax error says where, and never quotes the file (it may hold a pasted secret)", () => {
  const message = String(parse('{\n  "key": -----BEGIN SECRET KEY-----\n}'));
  assert.match(message, /not valid JSON \(.* at line 2, column \d+\)/);
  assert.doesNotMatch(message, /SECRET/);
});

test("a file that cannot be read is explained by its error code", () => {
  const failure = (code: string) => Object.assign(new Error(`${code}: boom`), { code });
  assert.equal(unreadableConfig("c.json", failure("ENOENT")), "cannot read the config file c.json: no such file");
  assert.match(unreadableConfig("c.json", failure("EACCES")), /permission denied/);
  assert.match(unreadableConfig("c.json", failure("EISDIR")), /is a directory/);
  assert.match(unreadableConfig("c.json", "odd"), /c\.json: odd$/);
});
