import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CONFIG_BYTES } from "@ipop/shared";
import { afterAll, test } from "vitest";
import { ConfigError, OptionError } from "./errors.js";
import { parseCliArgs } from "./options.js";

const dir = mkdtempSync(join(tmpdir(), "ipop-signal-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `content` (an object as JSON, or text as is) to a new file in the test directory. */
function configFile(content: unknown): string {
  const path = join(dir, `signal-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

function refused(argv: readonly string[], message: RegExp): ConfigError {
  let caught: unknown;
  try {
    parseCliArgs(argv);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `${argv.join(" ")}: ${String(caught)}`);
  assert.equal(caught.code, "ERR_SIGNAL_CONFIG");
  assert.match(caught.message, message);
  return caught;
}

const FULL = {
  listen: "0.0.0.0:7000",
  maxMembers: 500,
  maxConnections: 2000,
  rate: 20,
  maxMessageBytes: 32768,
  joinTimeoutMs: 5000,
  logLevel: "warn",
  ca: "/etc/ipop/ca.crt",
  caKey: "/etc/ipop/ca.key",
  lease: "12h",
  crl: "/var/lib/ipop/ca.crl",
  tlsCert: "/etc/ipop/signal.crt",
  tlsKey: "/etc/ipop/signal.key",
};
const FULL_FLAGS = [
  ...["--listen", "0.0.0.0:7000", "--max-members", "500", "--max-connections", "2000", "--rate", "20"],
  ...["--max-message-bytes", "32768", "--join-timeout-ms", "5000", "--log-level", "warn"],
  ...["--ca", "/etc/ipop/ca.crt", "--ca-key", "/etc/ipop/ca.key", "--lease", "12h", "--crl", "/var/lib/ipop/ca.crl"],
  ...["--tls-cert", "/etc/ipop/signal.crt", "--tls-key", "/etc/ipop/signal.key"],
];

test("a full config file gives every option, the same as the equivalent flags", () => {
  const command = parseCliArgs(["--config", configFile(FULL)]);
  assert.deepEqual(command, {
    kind: "run",
    host: "0.0.0.0",
    port: 7000,
    limits: {
      maxMembers: 500,
      maxConnections: 2000,
      messagesPerSecond: 20,
      burstMessages: 40,
      maxMessageBytes: 32768,
      joinTimeoutMs: 5000,
    },
    logLevel: "warn",
    authority: {
      caPath: "/etc/ipop/ca.crt",
      caKeyPath: "/etc/ipop/ca.key",
      crlPath: "/var/lib/ipop/ca.crl",
      leaseSeconds: 12 * 3600,
    },
    tls: { certPath: "/etc/ipop/signal.crt", keyPath: "/etc/ipop/signal.key" },
  });
  assert.deepEqual(command, parseCliArgs(FULL_FLAGS));
});

test("flags override the file; relative paths in the file are relative to its directory", () => {
  const path = configFile({ ...FULL, ca: "ca.crt", caKey: "keys/ca.key", crl: undefined });
  const command = parseCliArgs(["--config", path, "--listen", "127.0.0.1:0", "--rate", "5", "--crl", "ca.crl"]);
  assert.ok(command.kind === "run");
  assert.equal(command.port, 0);
  assert.equal(command.limits.messagesPerSecond, 5);
  assert.equal(command.limits.maxMembers, 500);
  assert.deepEqual(command.authority, {
    caPath: join(dir, "ca.crt"),
    caKeyPath: join(dir, "keys", "ca.key"),
    crlPath: "ca.crl",
    leaseSeconds: 12 * 3600,
  });
  // A flag's value is still checked as a flag; what goes together is checked on the merged settings.
  assert.throws(() => parseCliArgs(["--config", path, "--rate", "0"]), OptionError);
  assert.throws(() => parseCliArgs(["--config", configFile({ lease: "1h" })]), /--lease needs --ca/);
  assert.deepEqual(parseCliArgs(["--config", configFile({}), "--help"]), { kind: "help" });
});

test("each kind of bad value and unknown key is refused with its key and what was expected", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ maxMembers: "x" }, 'maxMembers: expected an integer from 1 to 1000000, got "x"'],
    [{ maxMembers: 0 }, "maxMembers: expected an integer from 1 to 1000000, got 0"],
    [{ rate: 0.01 }, "rate: expected a number from 0.1 to 100000, got 0.01"],
    [{ maxMessageBytes: 1e6 }, "maxMessageBytes: expected an integer from 512 to 65536, got 1000000"],
    [{ joinTimeoutMs: 1.5 }, "joinTimeoutMs: expected an integer from 1 to 3600000, got 1.5"],
    [{ listen: 7000 }, "listen: expected HOST:PORT, e.g. 127.0.0.1:7700, 0.0.0.0:7700 or [::1]:7700, got 7000"],
    [{ listen: "x:70000" }, 'listen: expected HOST:PORT with a port from 0 to 65535, got "x:70000"'],
    [{ logLevel: "loud" }, 'logLevel: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"'],
    [{ ca: "/ca.crt", caKey: "/k", lease: "soon" }, 'lease: expected a duration from 1m to 30d, like 1h ("soon" is'],
    [{ ca: ["ca.crt"] }, 'ca: expected the path of a file, not its contents, got ["ca.crt"]'],
    [{ bogus: 1 }, "bogus: unknown setting; the settings are listen, maxMembers, "],
    [{ "max-members": 1 }, "max-members: unknown setting; the config file spells it maxMembers"],
  ];
  for (const [settings, message] of cases) {
    const path = configFile(settings);
    const error = refused(["--config", path], /./);
    assert.ok(error.message.startsWith(`${path}: ${message}`), `${error.message}\n  should start with\n${message}`);
  }
});

test("the CA key in the config file must be a path, and is never repeated in a message", () => {
  const key = "-----BEGIN IPOP PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END IPOP PRIVATE KEY-----\n";
  const error = refused(
    ["--config", configFile({ ca: "/ca.crt", caKey: key })],
    /: caKey: expected the path of a file, not its contents$/,
  );
  assert.doesNotMatch(error.message, /c2VjcmV0/);
});

test("TLS: both files or neither, relative to the config file, and the key never repeated in a message", () => {
  const relative = parseCliArgs(["--config", configFile({ tlsCert: "tls/signal.crt", tlsKey: "tls/signal.key" })]);
  assert.ok(relative.kind === "run");
  assert.deepEqual(relative.tls, { certPath: join(dir, "tls", "signal.crt"), keyPath: join(dir, "tls", "signal.key") });
  const plain = parseCliArgs([]);
  assert.ok(plain.kind === "run" && plain.tls === undefined);
  assert.throws(() => parseCliArgs(["--tls-cert", "/s.crt"]), {
    code: "ERR_SIGNAL_OPTION",
    message: "--tls-cert needs --tls-key PATH, the certificate's private key",
  });
  assert.throws(() => parseCliArgs(["--config", configFile({ tlsKey: "/s.key" })]), /--tls-key needs --tls-cert/);
  assert.throws(() => parseCliArgs(["--tls-cert", ""]), OptionError);

  const key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END PRIVATE KEY-----\n";
  const error = refused(
    ["--config", configFile({ tlsCert: "/s.crt", tlsKey: key })],
    /: tlsKey: expected the path of a file, not its contents$/,
  );
  assert.doesNotMatch(error.message, /c2VjcmV0/);
  assert.throws(
    () => parseCliArgs(["--tls-cert", "/s.crt", "--tls-key", key]),
    (caught: unknown) => {
      assert.ok(caught instanceof OptionError);
      assert.doesNotMatch(caught.message, /c2VjcmV0/);
      return true;
    },
  );
  refused(
    ["--config", configFile({ "tls-cert": "/s.crt" })],
    /tls-cert: unknown setting; the config file spells it tlsCert/,
  );
});

test("a missing, unreadable, oversized or non-JSON file is refused with a clear message", () => {
  refused(["--config", join(dir, "nope.json")], /^cannot read the config file .*nope\.json: no such file$/);
  refused(["--config", dir], /: it is a directory; give the path of the file$/);
  refused(
    ["--config", configFile(" ".repeat(MAX_CONFIG_BYTES + 1))],
    /: larger than 64 KiB; is this the config file\?$/,
  );
  refused(["--config", configFile("listen: 0.0.0.0:7000\n")], /: not valid JSON \(Unexpected token 'l'\)/);
  refused(["--config", configFile('["--listen", "0.0.0.0:7000"]')], /: expected a JSON object of settings/);
});
