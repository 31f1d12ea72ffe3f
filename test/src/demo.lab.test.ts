/**
 * Lab test of `npm run demo`: one round with --once, and Ctrl-C out of the live view. Both must exit 0
 * and leave no namespace behind.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { afterAll, describe, test } from "vitest";
import { LabProcess } from "./lab/process.js";
import { findLeftovers, sweepStaleLabs } from "./lab/sweep.js";

// From the build (`npm test` builds first): a child process of Node 20 cannot run .ts.
const DEMO = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
const started: LabProcess[] = [];

/** Starts the demo as a child of its own process group, like a user in a terminal. */
function startDemo(...args: string[]): LabProcess {
  const proc = LabProcess.spawn("demo", [process.execPath, DEMO, ...args]);
  started.push(proc);
  return proc;
}

/** The demo's exit, or a timeout error with its output. */
async function exitWithin(proc: LabProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`demo still running after ${ms} ms:\n${proc.tail(40)}`)), ms);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("npm run demo", () => {
  afterAll(async () => {
    // A demo that hung gets SIGTERM (its own orderly teardown) first; whatever a killed one left
    // behind is then stale and swept.
    await Promise.all(started.map((p) => p.stop("SIGTERM", 20_000)));
    sweepStaleLabs();
  });

  test("--once pings every pair, prints the status table, exits 0 and leaves nothing", {
    timeout: 180_000,
  }, async () => {
    const proc = startDemo("--once");
    const exit = await exitWithin(proc, 170_000);
    assert.deepEqual(exit, { code: 0, signal: null }, proc.tail(60));
    const out = proc.lines("stdout");
    const pings = out.filter((l) => /^\s+h\d -> h\d \(10\.88\.0\.\d\): 3 packets transmitted, 3 received/.test(l));
    assert.equal(pings.length, 6, proc.tail(60));
    assert.ok(
      out.some((l) => /^HOST\s+IP\s+SIGNALING\s+PEER/.test(l)),
      "status table printed",
    );
    assert.deepEqual(findLeftovers(`ipoplab-${proc.pid}-`).namespaces, []);
  });

  test("Ctrl-C in the live view removes everything and exits 0", { timeout: 180_000 }, async () => {
    const proc = startDemo();
    await proc.waitForLine(/^HOST\s+IP\s+SIGNALING/, { timeoutMs: 150_000 });
    // Only the demo gets the signal, as from a terminal: its children run in process groups of their own.
    process.kill(proc.pid, "SIGINT");
    const exit = await exitWithin(proc, 25_000);
    assert.deepEqual(exit, { code: 0, signal: null }, proc.tail(60));
    assert.ok(proc.lines("stdout").includes("lab removed, nothing left"), proc.tail(20));
    assert.deepEqual(findLeftovers(`ipoplab-${proc.pid}-`).namespaces, []);
  });
});
