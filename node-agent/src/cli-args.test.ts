import assert from "node:assert/strict";
import { test } from "vitest";
import { parseCli } from "./cli-args.js";
import { UsageError } from "./errors.js";

const creds = ["--ca", "ca.crt", "--cert", "h5.crt", "--key", "h5.key"];
const base = ["up", "--signal", "ws://127.0.0.1:7000", ...creds, "--network", "lab", "--ip", "10.88.0.5/16"];

test("ipop up: defaults and a full set of options", () => {
  const up = parseCli([...base, "--name", "h5"]);
  assert.equal(up.command, "up");
  if (up.command !== "up") return;
  assert.deepEqual(
    {
      dev: up.dev,
      webrtc: up.webrtc,
      mtu: up.mtu,
      name: up.name,
      prefix: up.address?.prefixLength,
      ice: up.iceServers,
      auth: up.auth,
    },
    {
      dev: "ipop0",
      webrtc: "ndc",
      mtu: 1400,
      name: "h5",
      prefix: 16,
      ice: [],
      auth: { kind: "files", ca: "ca.crt", cert: "h5.crt", key: "h5.key" },
    },
  );
  // Network, address and name default to the certificate's.
  const minimal = parseCli(["up", "--signal", "ws://127.0.0.1:7000", ...creds]);
  assert.ok(minimal.command === "up" && minimal.network === undefined && minimal.address === undefined);
  // A join token instead: from a file, or from the environment.
  const token = parseCli(["up", "--signal", "ws://127.0.0.1:7000", "--token-file", "t.txt"]);
  assert.deepEqual(token.command === "up" && token.auth, { kind: "token", file: "t.txt" });
  const fromEnv = parseCli(["up", "--signal", "ws://127.0.0.1:7000"], { IPOP_TOKEN: "ipop-token-v1.x.y" });
  assert.deepEqual(fromEnv.command === "up" && fromEnv.auth, { kind: "token", file: undefined });
  const all = parseCli([
    ...base,
    "--dev",
    "ov1",
    "--webrtc",
    "werift",
    "--mtu",
    "1280",
    "--ice-server",
    "stun:127.0.0.1:3478",
    "--log-level",
    "debug",
  ]);
  assert.ok(
    all.command === "up" &&
      all.dev === "ov1" &&
      all.webrtc === "werift" &&
      all.mtu === 1280 &&
      all.iceServers.length === 1,
  );
});

test("bad arguments are refused with a message naming the problem", () => {
  const cases: Array<[string[], RegExp]> = [
    [["up"], /missing --signal/],
    [["up", "--signal", "ws://x:1"], /missing --ca, --cert, --key: a node joins only with a certificate/],
    [["up", "--signal", "ws://x:1", "--ca", "ca.crt", "--cert", "h.crt"], /missing --key.*ipop cert sign/],
    [[...base, "--token-file", "t.txt"], /either --ca\/--cert\/--key or a join token/],
    [["up", "--signal", "http://x:1", ...creds], /ws:\/\//],
    [["up", "--signal", "not a url", ...creds], /--signal must be a ws:\/\/ or wss:\/\/ URL.*got "not a url"/],
    [[...base.slice(0, 10), "bad name!", "--ip", "10.88.0.5/16"], /--network/],
    [[...base.slice(0, 12), "10.88.0.5"], /prefix length/],
    [[...base.slice(0, 12), "10.88.0.0/16"], /network address/],
    [[...base, "--webrtc", "quic"], /--webrtc must be one of/],
    [[...base, "--mtu", "100"], /--mtu/],
    [[...base, "--mtu", "1e3"], /--mtu/],
    [[...base, "--dev", "a-very-long-device-name"], /--dev/],
    [[...base, "--name", "-x"], /--name/],
    [[...base, "--ice-server", "http://x"], /--ice-server/],
    [[...base, "--log-level", "loud"], /--log-level/],
    [[...base, "--max-links", "3"], /--max-links/],
    [[...base, "--bogus"], /Unknown option/],
    [[...base, "extra"], /positional/],
    [["frobnicate"], /unknown command/],
    [["status", "--dev", "x y"], /--dev/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseCli(argv),
      (e: unknown) => e instanceof UsageError && e.code === "IPOP_USAGE" && message.test(e.message),
      argv.join(" "),
    );
  }
});

test("help, version and status parse", () => {
  assert.deepEqual(parseCli([]), { command: "help" });
  assert.deepEqual(parseCli(["--version"]), { command: "version" });
  assert.deepEqual(parseCli(["status", "--json"]), { command: "status", json: true, dev: "ipop0" });
});

test("ping, down, and nodes by name or IP for status and route", () => {
  assert.deepEqual(parseCli(["ping", "h7"]), {
    command: "ping",
    target: "h7",
    count: 4,
    untilDirect: false,
    intervalMs: 1_000,
    json: false,
    dev: "ipop0",
  });
  assert.deepEqual(parseCli(["ping", "10.88.0.7", "--until-direct", "--json", "--dev", "ov1"]), {
    command: "ping",
    target: "10.88.0.7",
    count: 50,
    untilDirect: true,
    intervalMs: 200,
    json: true,
    dev: "ov1",
  });
  const counted = parseCli(["ping", "h7", "--count", "2", "--until-direct"]);
  assert.ok(counted.command === "ping" && counted.count === 2 && counted.untilDirect);
  assert.deepEqual(parseCli(["down"]), { command: "down", dev: "ipop0" });
  assert.deepEqual(parseCli(["down", "--dev", "ov1"]), { command: "down", dev: "ov1" });
  assert.deepEqual(parseCli(["status", "h7", "--json"]), { command: "status", target: "h7", json: true, dev: "ipop0" });
  assert.deepEqual(parseCli(["route", "h7"]), { command: "route", target: "h7", json: false, dev: "ipop0" });
  assert.deepEqual(parseCli(["route", "10.88.0.7", "--json"]), {
    command: "route",
    target: "10.88.0.7",
    json: true,
    dev: "ipop0",
  });
  const cases: Array<[string[], RegExp]> = [
    [["ping"], /needs a node's virtual IP or name/],
    [["ping", "--count", "3"], /needs a node's virtual IP or name/],
    [["ping", "bad name!"], /neither an IPv4 address nor a node name/],
    [["ping", "h7", "--count", "0"], /--count/],
    [["ping", "h7", "--count", "x"], /--count/],
    [["route"], /needs a node's virtual IP or name/],
    [["status", "h 7"], /neither an IPv4 address nor a node name/],
    [["down", "now"], /positional/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseCli(argv),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      argv.join(" "),
    );
  }
});

test("ipop up --metrics HOST:PORT: off by default, IPv6 in brackets, bad addresses refused", () => {
  const off = parseCli(base);
  assert.ok(off.command === "up" && off.metrics === undefined);
  const v4 = parseCli([...base, "--metrics", "127.0.0.1:9470"]);
  assert.deepEqual(v4.command === "up" && v4.metrics, { host: "127.0.0.1", port: 9470 });
  const v6 = parseCli([...base, "--metrics", "[::1]:9470"]);
  assert.deepEqual(v6.command === "up" && v6.metrics, { host: "::1", port: 9470 });
  for (const bad of ["9470", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9470", ":9470", "h ost:1"]) {
    assert.throws(
      () => parseCli([...base, "--metrics", bad]),
      (e: unknown) => e instanceof UsageError && /^--metrics must be HOST:PORT/.test(e.message),
      bad,
    );
  }
});

test("ipop up --dns on|off: on by default, anything else refused", () => {
  const dns = (argv: readonly string[]) => {
    const options = parseCli(argv);
    assert.ok(options.command === "up");
    return options.dns;
  };
  assert.equal(dns(base), true);
  assert.equal(dns([...base, "--dns", "on"]), true);
  assert.equal(dns([...base, "--dns", "off"]), false);
  assert.throws(
    () => parseCli([...base, "--dns", "no"]),
    (e: unknown) => e instanceof UsageError && /--dns must be on or off/.test(e.message),
  );
});
