import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CONFIG_BYTES } from "@ipop/shared";
import { afterAll, test } from "vitest";
import { parseCli, type UpOptions } from "./cli-args.js";
import { ConfigError, UsageError } from "./errors.js";

const dir = mkdtempSync(join(tmpdir(), "ipop-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `content` (an object as JSON, or text as is) to a new file in the test directory. */
function configFile(content: unknown): string {
  const path = join(dir, `ipop-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

function up(argv: readonly string[], env: NodeJS.ProcessEnv = {}): UpOptions {
  const command = parseCli(["up", ...argv], env);
  assert.equal(command.command, "up");
  return command as UpOptions;
}

/** Asserts that `ipop up argv` is refused with a ConfigError whose message matches. */
function refused(argv: readonly string[], message: RegExp | string): ConfigError {
  let caught: unknown;
  assert.throws(() => {
    try {
      parseCli(["up", ...argv]);
    } catch (error) {
      caught = error;
      throw error;
    }
  });
  assert.ok(caught instanceof ConfigError, `${argv.join(" ")}: ${String(caught)}`);
  assert.equal(caught.code, "IPOP_CONFIG");
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
}

const FULL = {
  signal: "wss://signal.example:7000",
  signalCa: "/etc/ipop/signal-ca.pem",
  ca: "/etc/ipop/ca.crt",
  cert: "/etc/ipop/h5.crt",
  key: "/etc/ipop/h5.key",
  crl: "/etc/ipop/ca.crl",
  network: "lab",
  ip: "10.88.0.5/16",
  name: "h5",
  dev: "ov1",
  webrtc: "werift",
  mtu: 1280,
  iceServers: ["stun:stun.example:3478", "turn:turn.example:3478"],
  maxLinks: 60,
  multicast: "off",
  logLevel: "debug",
  metrics: "[::1]:9470",
  dns: "off",
  operatorGroup: "netops",
};

test("a full config file gives every up option", () => {
  const options = up(["--config", configFile(FULL)]);
  assert.deepEqual(options, {
    command: "up",
    signal: "wss://signal.example:7000",
    signalCa: "/etc/ipop/signal-ca.pem",
    auth: { kind: "files", ca: "/etc/ipop/ca.crt", cert: "/etc/ipop/h5.crt", key: "/etc/ipop/h5.key" },
    crl: "/etc/ipop/ca.crl",
    network: "lab",
    address: up(["--signal", "ws://x:1", "--token-file", "t", "--ip", "10.88.0.5/16"]).address,
    name: "h5",
    dev: "ov1",
    webrtc: "werift",
    mtu: 1280,
    iceServers: ["stun:stun.example:3478", "turn:turn.example:3478"],
    logLevel: "debug",
    maxLinks: 60,
    multicast: false,
    metrics: { host: "::1", port: 9470 },
    dns: false,
    operatorGroup: "netops",
  });
});

test("multicast is on by default, and on|off as a flag or on|off|true|false in the file", () => {
  const base = ["--signal", "ws://x:1", "--token-file", "t"];
  assert.equal(up(base).multicast, true);
  assert.equal(up([...base, "--multicast", "off"]).multicast, false);
  assert.equal(up([...base, "--multicast", "on"]).multicast, true);
  assert.equal(up(["--config", configFile({ signal: "ws://x:1", tokenFile: "t", multicast: false })]).multicast, false);
  assert.equal(
    up(["--config", configFile({ signal: "ws://x:1", tokenFile: "t", multicast: "off" }), "--multicast", "on"])
      .multicast,
    true,
  );
  assert.throws(
    () => up([...base, "--multicast", "maybe"]),
    (e: unknown) => e instanceof UsageError && /--multicast/.test(e.message) && /on or off/.test(e.message),
  );
});

test("ipop up --config FILE reaches the same options as the equivalent flags", () => {
  const flags = [
    ...[
      "--signal",
      FULL.signal,
      "--signal-ca",
      FULL.signalCa,
      "--ca",
      FULL.ca,
      "--cert",
      FULL.cert,
      "--key",
      FULL.key,
      "--crl",
      FULL.crl,
    ],
    ...["--network", FULL.network, "--ip", FULL.ip, "--name", FULL.name, "--dev", FULL.dev],
    ...["--webrtc", FULL.webrtc, "--mtu", String(FULL.mtu), "--max-links", String(FULL.maxLinks)],
    ...["--multicast", FULL.multicast],
    ...FULL.iceServers.flatMap((url) => ["--ice-server", url]),
    ...["--log-level", FULL.logLevel, "--metrics", FULL.metrics, "--dns", FULL.dns],
    ...["--operator-group", FULL.operatorGroup],
  ];
  assert.deepEqual(up(["--config", configFile(FULL)]), up(flags));
  // With a token file, too.
  const token = { signal: "ws://127.0.0.1:7000", tokenFile: "/etc/ipop/token", name: "vm1" };
  assert.deepEqual(
    up(["--config", configFile(token)]),
    up(["--signal", "ws://127.0.0.1:7000", "--token-file", "/etc/ipop/token", "--name", "vm1"]),
  );
});

test("relative paths in the file are relative to the file's directory; on the command line, to the current one", () => {
  mkdirSync(join(dir, "etc"));
  const path = join(dir, "etc", "ipop.json");
  writeFileSync(path, JSON.stringify({ signal: "ws://x:1", ca: "ca.crt", cert: "keys/h5.crt", key: "../h5.key" }));
  assert.deepEqual(up(["--config", path]).auth, {
    kind: "files",
    ca: join(dir, "etc", "ca.crt"),
    cert: join(dir, "etc", "keys", "h5.crt"),
    key: join(dir, "h5.key"),
  });
  assert.deepEqual(up(["--config", path, "--key", "mine.key"]).auth, {
    kind: "files",
    ca: join(dir, "etc", "ca.crt"),
    cert: join(dir, "etc", "keys", "h5.crt"),
    key: "mine.key",
  });
});

test("flags override the file, and defaults fill what neither gives", () => {
  const path = configFile({ ...FULL, dev: undefined, webrtc: undefined });
  const options = up(["--config", path, "--mtu", "1400", "--ice-server", "stun:other:3478", "--name", "h6"]);
  assert.equal(options.mtu, 1400);
  assert.deepEqual(options.iceServers, ["stun:other:3478"]);
  assert.equal(options.name, "h6");
  assert.equal(options.maxLinks, 60);
  assert.equal(options.dev, "ipop0");
  assert.equal(options.webrtc, "ndc");
  // A flag's value is checked as a flag: the error names the flag, not the file.
  assert.throws(
    () => up(["--config", path, "--mtu", "x"]),
    (e: unknown) => e instanceof UsageError && /^--mtu must be an integer from 576 to \d+, got "x"$/.test(e.message),
  );
  // The signal and the credentials may come from either.
  const partial = configFile({ ca: "/c/ca.crt", cert: "/c/h.crt", key: "/c/h.key" });
  assert.equal(up(["--config", partial, "--signal", "ws://x:1"]).signal, "ws://x:1");
  assert.throws(() => up(["--config", partial]), /missing --signal ws:\/\/HOST:PORT \(or "signal" in /);
  assert.throws(() => up(["--config", partial, "--signal", "ws://x:1", "--token-file", "t"]), /either --ca/);
});

test("each kind of bad value is refused with its key, what was expected and what was found", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ maxLinks: "x" }, 'maxLinks: expected an integer from 8 to 1000, got "x"'],
    [{ maxLinks: 3 }, "maxLinks: expected an integer from 8 to 1000, got 3"],
    [{ maxLinks: 40.5 }, "maxLinks: expected an integer from 8 to 1000, got 40.5"],
    [
      { metrics: 9470 },
      "metrics: expected HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:9470 ([::1]:9470 for IPv6), got 9470",
    ],
    [{ mtu: "1400" }, "mtu: expected an integer from 576 to"],
    [{ webrtc: "quic" }, 'webrtc: expected one of ndc, werift, wrtc, got "quic"'],
    [{ logLevel: "loud" }, 'logLevel: expected one of fatal, error, warn, info, debug, trace, got "loud"'],
    [
      { signal: "http://x:1" },
      'signal: expected a ws:// or wss:// URL, e.g. ws://HOST:7000, or several separated by commas, got "http://x:1"',
    ],
    [
      { signal: 7000 },
      "signal: expected a ws:// or wss:// URL, e.g. ws://HOST:7000, or several separated by commas, got 7000",
    ],
    [{ iceServers: "stun:x:1" }, "iceServers: expected a list of stun:, turn: or turns: URLs"],
    [{ iceServers: ["stun:x:1", "http://x"] }, "iceServers[1]: expected a stun:HOST:PORT, turn:HOST:PORT"],
    // A password inside a URL is refused, and the refusal does not repeat it.
    [{ iceServers: ["turn:al:s3cret@x:3478"] }, "iceServers[0]: expected a stun:HOST:PORT, turn:HOST:PORT"],
    [{ ip: "10.88.0.0/16" }, "ip: expected a host address with its prefix length, like 10.88.0.5/16 (10.88.0.0 is"],
    [{ network: "bad name!" }, 'network: expected 1-64 characters of [A-Za-z0-9._-], starting alphanumeric, got "bad'],
    [{ name: "-x" }, 'name: expected 1-63 characters of [A-Za-z0-9._-], starting alphanumeric, got "-x"'],
    [{ dev: "a-very-long-device-name" }, "dev: expected 1-15 characters of [A-Za-z0-9_.-]"],
    [{ ca: 5 }, "ca: expected the path of a file, not its contents, got 5"],
    [{ crl: "" }, 'crl: expected the path of a file, not its contents, got ""'],
    [{ dev: null }, "dev: expected 1-15 characters of [A-Za-z0-9_.-], got null"],
  ];
  for (const [settings, message] of cases) {
    const path = configFile({ signal: "ws://x:1", ...settings });
    const error = refused(["--config", path], new RegExp(`^${escapeRegExp(`${path}: ${message}`)}`));
    assert.doesNotMatch(error.message, /\n/, "one problem, one line");
  }
  // Every problem is listed, one per line.
  const path = configFile({ maxLinks: "x", mtu: 1 });
  const error = refused(["--config", path], /maxLinks/);
  assert.deepEqual(
    error.message
      .split("\n")
      .map((line) => /: (\w+): expected/.exec(line)?.[1])
      .sort(),
    ["maxLinks", "mtu"],
  );
});

test("unknown keys are refused by name, with a hint for flag spellings", () => {
  const path = configFile({ signal: "ws://x:1", bogus: true });
  refused(
    ["--config", path],
    new RegExp(`^${escapeRegExp(path)}: bogus: unknown setting; the settings are signal, signalCa, ca, `),
  );
  refused(
    ["--config", configFile({ "max-links": 40 })],
    /: max-links: unknown setting; the config file spells it maxLinks$/,
  );
  refused(["--config", configFile({ iceServer: ["stun:x"] })], /: iceServer: unknown setting; .*iceServers/);
  refused(["--config", configFile({ config: "/etc/other.json" })], /: config: unknown setting/);
});

test("a secret in the config file must be a path: never the secret itself, never repeated in a message", () => {
  const key = "-----BEGIN IPOP PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END IPOP PRIVATE KEY-----\n";
  const token = "ipop-token-v1.c2VjcmV0.c2ln";
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ key }, /: key: expected the path of a file, not its contents$/],
    [{ key: "c2VjcmV0c2VjcmV0\nc2VjcmV0c2VjcmV0" }, /: key: expected the path of a file, not its contents$/],
    [{ tokenFile: token }, /: tokenFile: expected the path of a file, not its contents$/],
    [{ token }, /: token: a join token is a secret and never goes in the config file.*tokenFile.*IPOP_TOKEN/],
  ];
  for (const [settings, message] of cases) {
    const error = refused(["--config", configFile({ signal: "ws://x:1", ...settings })], message);
    assert.doesNotMatch(error.message, /c2VjcmV0/);
  }
});

test("a missing, unreadable, oversized or non-JSON file is refused with a clear message", () => {
  const missing = join(dir, "nope.json");
  refused(["--config", missing], `cannot read the config file ${missing}: no such file`);
  refused(["--config", dir], `cannot read the config file ${dir}: it is a directory; give the path of the file`);
  if (process.getuid?.() !== 0) {
    const locked = configFile({ signal: "ws://x:1" });
    chmodSync(locked, 0o000);
    refused(["--config", locked], /^cannot read the config file .*: permission denied/);
  }
  const big = configFile(`{"signal": "ws://x:1", "name": "${"a".repeat(MAX_CONFIG_BYTES)}"}`);
  refused(["--config", big], `${big}: larger than 64 KiB; is this the config file?`);
  const notJson = configFile("signal = ws://x:1\n");
  refused(
    ["--config", notJson],
    new RegExp(`^${escapeRegExp(notJson)}: not valid JSON \\(.+\\); the format is in docs/config.md$`),
  );
  assert.doesNotMatch(refused(["--config", notJson], /Unexpected token 's'\)/).message, /ws:/);
  refused(["--config", configFile('{\n  "signal": "ws://x:1",\n}')], /not valid JSON \(.* at line 3, column 1\)/);
  const pasted = configFile('{"key": "-----BEGIN IPOP PRIVATE KEY-----\nc2VjcmV0');
  assert.doesNotMatch(refused(["--config", pasted], /not valid JSON/).message, /c2VjcmV0/);
  for (const notObject of ["[]", "null", '"ws://x:1"', "7"]) {
    refused(["--config", configFile(notObject)], /: expected a JSON object of settings/);
  }
  // An empty object is a valid file; what is missing is missing whichever way it was given.
  assert.throws(() => up(["--config", configFile({})]), /missing --signal/);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("signalCa: a path relative to the file, only with a wss:// server", () => {
  const token = { tokenFile: "/t" };
  const options = up(["--config", configFile({ ...token, signal: "wss://s.example:7000", signalCa: "signal-ca.pem" })]);
  assert.equal(options.signalCa, join(dir, "signal-ca.pem"));
  assert.equal(up(["--signal", "wss://s:1", "--signal-ca", "ca.pem", "--token-file", "t"]).signalCa, "ca.pem");
  assert.equal(up(["--signal", "wss://s:1", "--token-file", "t"]).signalCa, undefined);
  assert.throws(() => up(["--signal", "ws://s:1", "--signal-ca", "ca.pem", "--token-file", "t"]), {
    code: "IPOP_USAGE",
    message: /--signal-ca is for a wss:\/\/ server, but --signal is ws:\/\/s:1/,
  });
  refused(
    ["--config", configFile({ ...token, signal: "wss://s:1", signalCa: 5 })],
    /signalCa: expected the path of a file/,
  );
  refused(
    ["--config", configFile({ ...token, "signal-ca": "x" })],
    /signal-ca: unknown setting; the config file spells it signalCa/,
  );
});
