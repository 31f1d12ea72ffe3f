/**
 * Lab test (root) of README.md: its commands, read from its ```sh blocks and run as written (only
 * SIGNAL filled in, and smaller numbers for the simulator) from a fresh clone after `npm ci`, the way
 * a new user would. Certificates, both CLIs' help, `status` with no agent, the signaling server on
 * loopback, a join token and the simulator run on the host; `ipop up` runs in network namespaces
 * (root): two certified hosts and a tokened one link, `status`, `route` and `ipop ping` answer, pings
 * cross the overlay, `cert revoke` cuts one host off and `ipop down` stops another. Only loopback and lab namespace addresses are used.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { type CommandResult, runCommand } from "./lab/command.js";
import { Lab } from "./lab/netns.js";
import { REPO_ROOT } from "./lab/paths.js";
import { pingUntilClean } from "./lab/ping.js";
import { LabProcess } from "./lab/process.js";
import { parseAgentStatus } from "./lab/status.js";
import { findCommand, readmeCommands } from "./readme/commands.js";

const dir = mkdtempSync(join(tmpdir(), "ipop-readme-"));
const clone = join(dir, "ipop");
// The commands run as in a user's shell, not inside the npm that started vitest: its npm_* variables
// (npm_config_local_prefix above all) would point npx at this checkout instead of the clone.
for (const name of Object.keys(process.env)) if (name.startsWith("npm_")) delete process.env[name];
/** npm must not stop to look for a newer npm: the test runs offline from the registry's point of view. */
const env = { npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
let commands: string[] = [];
const started: LabProcess[] = [];
let lab: Lab | undefined;

/** `command` as a user types it in the clone: through sh, so `> token` works as written. */
function shell(command: string): string[] {
  return ["env", "-C", clone, "sh", "-c", `exec ${command}`];
}

function run(command: string, timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(shell(command), { timeoutMs, env });
}

function describeResult(command: string, r: CommandResult): string {
  return `${command}: exit ${r.code ?? r.signal}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`;
}

async function runOk(command: string, timeoutMs?: number): Promise<CommandResult> {
  const r = await run(command, timeoutMs);
  assert.equal(r.code, 0, describeResult(command, r));
  return r;
}

/** The README command of `shape`, with the signaling server's address in place of SIGNAL. */
function readme(shape: RegExp, signal?: string): string {
  const command = findCommand(commands, shape);
  return signal === undefined ? command : command.replaceAll("SIGNAL", signal);
}

beforeAll(async () => {
  // The committed tree, as a new user gets it; npm may take packages from its cache, not the network.
  execFileSync("git", ["clone", "--quiet", REPO_ROOT, clone], { stdio: "inherit", timeout: 60_000 });
  const ci = await runCommand(["env", "-C", clone, "npm", "ci", "--prefer-offline"], { timeoutMs: 400_000, env });
  assert.equal(ci.code, 0, describeResult("npm ci", ci));
  commands = readmeCommands(join(clone, "README.md"));
}, 480_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop("SIGTERM", 10_000)));
  await lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe("README commands from a fresh clone", () => {
  test("cert ca, cert sign, both CLIs' help, and status with no agent running", async () => {
    await runOk(readme(/^npx ipop cert ca /));
    assert.equal(statSync(join(clone, "ca.key")).mode & 0o777, 0o600, "the CA key is private");
    await runOk(readme(/^npx ipop cert sign --name h5 /));
    for (const file of ["ca.crt", "h5.crt", "h5.key"]) assert.ok(statSync(join(clone, file)).size > 0, file);

    // The README points to it in prose: "see `npx ipop-signal --help`".
    assert.match(readFileSync(join(clone, "README.md"), "utf8"), /`npx ipop-signal --help`/);
    assert.match((await runOk("npx ipop-signal --help")).stdout, /^Usage: ipop-signal/);
    assert.match((await runOk("npx ipop --help")).stdout, /ipop up --signal ws:\/\/HOST:PORT/);

    const status = await run(readme(/^npx ipop status$/));
    assert.equal(status.code, 1, describeResult("status", status));
    assert.match(status.stderr, /no agent is running .*start one with `ipop up`/);
    assert.doesNotMatch(status.stderr, /^\s+at /m, "a message, not a stack trace");
  });

  test("ipop-signal starts on loopback and ends on SIGTERM; token create writes a token", async () => {
    // 0.0.0.0 would listen on every interface of this machine: on the host, loopback only.
    const command = readme(/^npx ipop-signal --listen 0\.0\.0\.0:7000 --ca ca\.crt$/).replace(
      "0.0.0.0:7000",
      "127.0.0.1:0",
    );
    const signal = LabProcess.spawn("ipop-signal", shell(command), { env });
    started.push(signal);
    await signal.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:\d+$/, { timeoutMs: 30_000 });
    // SIGTERM goes to the process group, as Ctrl-C does in a terminal: npx and the server under it end.
    // Not checked: a clean "stopped". npm forwards the signal to the server, which then sees it twice and
    // takes the second as "do not wait" (exit 1, log lines lost) in about half the runs.
    signal.kill("SIGTERM");
    const exit = await Promise.race([signal.exited, new Promise((r) => setTimeout(r, 10_000))]);
    assert.ok(exit, `ipop-signal still runs 10 s after SIGTERM:\n${signal.tail()}`);

    await runOk(readme(/^npx ipop token create .*> token$/));
    const token = readFileSync(join(clone, "token"), "utf8").trim();
    assert.match(token, /^\S{40,}$/, "one line of token text");
    assert.match((await runOk(`npx ipop token print ${token}`)).stdout, /10\.88\.200\.0\/24/);
  });

  test("npm run sim runs as written, with fewer nodes", { timeout: 120_000 }, async () => {
    const command = readme(/^npm run sim -- --nodes \d+ .*--json$/).replace(/--nodes \d+/, "--nodes 30");
    const r = await runOk(command, 110_000);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { nodes: number; routability: number };
    assert.equal(result.nodes, 30);
    assert.equal(result.routability, 1);
  });

  test("ipop up as written: hosts link and ping over the overlay, status, route and ping answer, revoke cuts h5 off, down stops h7", {
    timeout: 240_000,
  }, async () => {
    lab = await Lab.create({ hosts: 3 });
    const signalAt = lab.underlayIp(lab.signalHost!);
    // h7, for a second certified host, is the README's h5 with another name and address.
    await runOk(
      readme(/^npx ipop cert sign --name h5 /)
        .replaceAll("h5", "h7")
        .replace("10.88.0.5", "10.88.0.7"),
    );
    const agents = () => started.map((p) => `${p.label}: ${p.lines("stderr").slice(0, 3).join("\n")}`).join("\n");
    const inLab = (host: string, command: string, label: string) => {
      const proc = lab!.spawn(host, shell(command), { env, label });
      started.push(proc);
      return proc;
    };
    // Inside its namespace, 0.0.0.0 is that namespace's own addresses.
    const signal = inLab("sig", readme(/^npx ipop-signal .*--ca-key ca\.key$/), "ipop-signal");
    await signal.waitForLine(/^listening on /, { timeoutMs: 30_000 });
    const up = readme(/^npx ipop up --signal ws:\/\/SIGNAL:7000 --ca ca\.crt --cert h5\.crt /, signalAt);
    const h5 = inLab("h1", up, "h5 agent");
    const h7 = inLab("h2", up.replaceAll("h5", "h7"), "h7 agent");
    inLab("h3", readme(/^npx ipop up .*--token-file token$/, signalAt), "tokened agent");

    // status --json, as written, in h1 (h5): both others up.
    const statusJson = readme(/^npx ipop status --json$/);
    let peers: Array<{ name: string; ip: string; state: string }> = [];
    for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 500))) {
      const r = await lab.exec("h1", shell(statusJson), { env, timeoutMs: 30_000 });
      if (r.code === 0) peers = parseAgentStatus(r.stdout).peers.filter((p) => p.state === "up");
      if (peers.length === 2) break;
      assert.ok(Date.now() < deadline, `h5 never had 2 peers up: ${JSON.stringify(peers)}\n${agents()}`);
    }
    const tokened = peers.find((p) => p.name !== "h7")!;
    assert.ok(tokened?.ip.startsWith("10.88.200."), `the tokened host has a pool address: ${JSON.stringify(peers)}`);

    const status = await lab.exec("h1", shell(readme(/^npx ipop status$/)), { env, timeoutMs: 30_000 });
    assert.equal(status.code, 0, describeResult("status", status));
    assert.match(status.stdout, /h7/);
    const route = await lab.exec("h1", shell(readme(/^npx ipop route 10\.88\.0\.7$/)), { env, timeoutMs: 30_000 });
    assert.equal(route.code, 0, describeResult("route", route));
    assert.match(route.stdout, /h7/);
    for (const shape of [/^npx ipop ping h7$/, /^npx ipop ping h7 --until-direct$/]) {
      const overlayPing = await lab.exec("h1", shell(readme(shape)), { env, timeoutMs: 30_000 });
      assert.equal(overlayPing.code, 0, describeResult("ipop ping", overlayPing));
      assert.match(overlayPing.stdout, /^reply from h7 \(10\.88\.0\.7\) direct: [\d.]+ ms$/m);
    }
    for (const ip of ["10.88.0.7", tokened.ip]) {
      const ping = await pingUntilClean(lab, "h1", ip, 5);
      assert.ok(ping.received > 0, `h5 -> ${ip}: ${ping.summary}`);
    }

    // Revoke h5 from h2, as an admin host that reaches the signaling server: h5's agent stops.
    const revoke = await lab.exec("h2", shell(readme(/^npx ipop cert revoke --name h5 /, signalAt)), {
      env,
      timeoutMs: 30_000,
    });
    assert.equal(revoke.code, 0, describeResult("revoke", revoke));
    const exit = await Promise.race([h5.exited, new Promise((r) => setTimeout(r, 20_000))]);
    assert.ok(exit, `the revoked agent stops:\n${h5.tail()}`);
    assert.match(h5.tail(40), /revoked/);

    // `ipop down` in h2 stops h7's agent the way SIGTERM does.
    const down = await lab.exec("h2", shell(readme(/^npx ipop down$/)), { env, timeoutMs: 30_000 });
    assert.equal(down.code, 0, describeResult("ipop down", down));
    const h7Exit = await Promise.race([h7.exited, new Promise((r) => setTimeout(r, 20_000))]);
    assert.deepEqual(h7Exit, { code: 0, signal: null }, `h7's agent stops with exit 0:\n${h7.tail()}`);
  });
});
