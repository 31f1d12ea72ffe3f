import assert from "node:assert/strict";
import { test } from "vitest";
import { OptionError } from "./errors.js";
import { DEFAULT_LIMITS, resolveLimits } from "./limits.js";
import { DEFAULT_LISTEN, parseCliArgs, parseListen } from "./options.js";

test("no arguments: defaults", () => {
  assert.deepEqual(parseCliArgs([]), {
    kind: "run",
    ...parseListen(DEFAULT_LISTEN),
    limits: {},
    logLevel: "info",
  });
});

test("every flag is parsed into its limit", () => {
  const command = parseCliArgs([
    "--listen",
    "0.0.0.0:0",
    "--max-members",
    "7",
    "--welcome-members",
    "3",
    "--max-connections",
    "9",
    "--rate=2.5",
    "--max-message-bytes",
    "2048",
    "--join-timeout-ms",
    "500",
    "--log-level",
    "debug",
  ]);
  assert.deepEqual(command, {
    kind: "run",
    host: "0.0.0.0",
    port: 0,
    limits: {
      maxMembers: 7,
      welcomeMembers: 3,
      maxConnections: 9,
      messagesPerSecond: 2.5,
      burstMessages: 5,
      maxMessageBytes: 2048,
      joinTimeoutMs: 500,
    },
    logLevel: "debug",
  });
  assert.deepEqual(parseCliArgs(["-h"]), { kind: "help" });
  assert.deepEqual(parseCliArgs(["--listen", "x", "--help"]), { kind: "help" });
});

test("--listen accepts host:port and [ipv6]:port, and refuses the rest", () => {
  assert.deepEqual(parseListen("localhost:80"), { host: "localhost", port: 80 });
  assert.deepEqual(parseListen("[::1]:7700"), { host: "::1", port: 7700 });
  for (const bad of ["", "7700", ":7700", "host:", "host:-1", "host:65536", "host:7e3", "::1:7700", "a:b:1"]) {
    assert.throws(() => parseListen(bad), OptionError, bad);
  }
});

test("bad arguments throw OptionError with a message naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["stray"], /unexpected argument "stray"/],
    [["--listen"], /--listen/],
    [["--max-members", "0"], /--max-members must be an integer from 1/],
    [["--welcome-members", "1001"], /--welcome-members must be an integer from 1 to 1000, got 1001/],
    [["--max-members", "ten"], /--max-members must be an integer from 1 to 1000000, got "ten"/],
    [["--max-members", "1.5"], /--max-members must be an integer from 1 to 1000000, got 1.5/],
    [["--rate", "-1"], /--rate/], // parseArgs reads "-1" as an option: "argument is ambiguous"
    [["--rate", "0"], /--rate must be a number from 0.1/],
    [["--max-message-bytes", "100000"], /--max-message-bytes must be an integer from 512 to 65536/],
    [["--listen", "host:70000"], /--listen must be HOST:PORT with a port from 0 to 65535, got "host:70000"/],
    [["--join-timeout-ms", "1e3"], /--join-timeout-ms must be an integer from 1 to 3600000, got "1e3"/],
    [["--log-level", "loud"], /--log-level must be one of/],
    [["--help=yes"], /help/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseCliArgs(argv),
      (err: unknown) => {
        assert.ok(err instanceof OptionError, `${argv.join(" ")}: ${String(err)}`);
        assert.equal(err.code, "ERR_SIGNAL_OPTION");
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

test("resolveLimits fills defaults and range-checks overrides", () => {
  assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
  assert.equal(resolveLimits({ maxMembers: 3 }).maxMembers, 3);
  assert.throws(() => resolveLimits({ maxMessageBytes: 1_000_000 }), OptionError);
  assert.throws(() => resolveLimits({ joinTimeoutMs: Number.NaN }), OptionError);
  assert.throws(() => resolveLimits({ maxConnections: 2.5 }), OptionError);
});

test("--state-dir names the directory that keeps leases and revocation lists", () => {
  const command = parseCliArgs(["--state-dir", "/var/lib/ipop-signal"]);
  assert.equal(command.kind === "run" ? command.stateDir : undefined, "/var/lib/ipop-signal");
  assert.throws(() => parseCliArgs(["--state-dir", ""]), OptionError);
});

test("--redis takes a redis:// URL or a socket path, and does not go with --state-dir", () => {
  const command = parseCliArgs(["--redis", "redis://10.0.0.5:6379"]);
  assert.equal(command.kind === "run" ? command.redis : undefined, "redis://10.0.0.5:6379");
  const socket = parseCliArgs(["--redis", "/run/redis/redis.sock"]);
  assert.equal(socket.kind === "run" ? socket.redis : undefined, "/run/redis/redis.sock");
  assert.throws(() => parseCliArgs(["--redis", "http://x:1"]), /--redis must be redis:\/\/HOST:PORT/);
  assert.throws(() => parseCliArgs(["--redis", "redis://x:1", "--state-dir", "/d"]), /do not go together/);
});
