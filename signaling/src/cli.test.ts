import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignalCloseCode } from "@ipop/shared";
import { afterAll, test } from "vitest";
import { startSignalServer } from "./server.js";
import { httpGet, member, TestClient } from "./testing/test-client.js";

// The CLI runs as a child process from the build (`npm test` builds first): Node 20 cannot run .ts.
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "ipop-signal-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config file in the test directory with `settings`. */
function configFile(name: string, settings: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(settings));
  return path;
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function startCli(args: readonly string[]): { child: ChildProcess; output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  return { child, output };
}

/** Waits for the process to exit; kills it (and fails) if it runs longer than `waitMs`. */
async function finished(child: ChildProcess, output: { stdout: string; stderr: string }, waitMs = 10_000) {
  const timer = setTimeout(() => child.kill("SIGKILL"), waitMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, ...output } satisfies Finished;
}

function runCli(args: readonly string[]): Promise<Finished> {
  const { child, output } = startCli(args);
  return finished(child, output);
}

test("bad arguments exit 2 with a one-line reason and no stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["--listen", "nonsense"], /--listen must be HOST:PORT/],
    [["--listen", "127.0.0.1:99999"], /port from 0 to 65535/],
    [["--max-members", "zero"], /--max-members must be an integer from 1 to 1000000, got "zero"/],
    [
      ["--config", configFile("bad.json", { maxMembers: "zero" })],
      /^ipop-signal: \/.*bad\.json: maxMembers: expected an integer from 1 to 1000000, got "zero"\n/,
    ],
    [["--config", join(dir, "missing.json")], /cannot read the config file .*missing\.json: no such file/],
    [["--rate", "0"], /--rate must be a number from 0.1/],
    [["--max-message-bytes", "10"], /--max-message-bytes must be an integer from 512/],
    [["--log-level", "chatty"], /--log-level must be one of/],
    [["positional"], /unexpected argument/],
  ];
  for (const [args, reason] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /^ipop-signal: /);
    assert.match(result.stderr, reason);
    assert.match(result.stderr, /--help/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    assert.equal(result.stdout, "");
  }
});

test("--help prints usage and exits 0", async () => {
  const result = await runCli(["--help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: ipop-signal/);
  for (const flag of ["--listen", "--max-members", "--rate", "--max-message-bytes", "--log-level"]) {
    assert.ok(result.stdout.includes(flag), flag);
  }
});

test("a port in use exits 1 with an actionable message", async () => {
  const taken = await startSignalServer({ port: 0 });
  try {
    const result = await runCli(["--listen", `127.0.0.1:${taken.port}`]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken.port}: the port is already in use`),
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  } finally {
    await taken.close();
  }
});

test("runs on port 0, announces its address, logs without bodies, shuts down cleanly on SIGTERM", async () => {
  // Settings from a config file and from flags, the flags winning (the file's log level is overridden).
  const config = configFile("signal.json", { listen: "127.0.0.1:0", logLevel: "error", maxMembers: 8 });
  const { child, output } = startCli(["--config", config, "--log-level", "trace", "--rate", "100"]);
  try {
    const deadline = Date.now() + 10_000;
    let match: RegExpExecArray | null = null;
    while (match === null) {
      match = /^listening on (ws:\/\/127\.0\.0\.1:(\d+))$/m.exec(output.stdout);
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`no listening line: ${output.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const url = match[1]!;
    assert.notEqual(Number(match[2]), 0);

    const health = await httpGet(url, "/healthz");
    assert.equal(health.status, 200);
    const a = await TestClient.joined(url, "cli-net", member("cli-a", "10.88.0.1"));
    const b = await TestClient.joined(url, "cli-net", member("cli-b", "10.88.0.2"));
    await a.expect("member-joined");
    const secret = "s3cret-offer-do-not-log";
    a.send("cli-b", { sdp: secret }, 1);
    assert.deepEqual((await b.expect("message")).body, { sdp: secret });
    a.send("cli-nobody", { sdp: secret }, 2);
    assert.equal((await a.expect("error")).code, "unknown-peer");

    child.kill("SIGTERM");
    const result = await finished(child, output);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await a.closedWithin()).code, SignalCloseCode.serverShutdown);
    assert.equal((await b.closedWithin()).code, SignalCloseCode.serverShutdown);

    const lines = result.stderr.trim().split("\n");
    const logs = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const joined = logs.find((l) => l.msg === "joined" && l.nodeId === "cli-a");
    assert.equal(joined?.network, "cli-net");
    assert.ok(logs.some((l) => l.msg === "listening" && l.port === Number(match[2])));
    assert.ok(logs.some((l) => l.msg === "shutting down"));
    assert.ok(!result.stderr.includes(secret), "message bodies must never be logged");
    assert.ok(!result.stdout.includes(secret));
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
