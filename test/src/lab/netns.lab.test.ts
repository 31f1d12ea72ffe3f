/**
 * Lab test of the lab itself: builds a 3-host lab, checks the underlay and its isolation, and that
 * teardown (orderly, and the sweep of a crashed run's leftovers) removes everything.
 */
import assert from "node:assert/strict";
import { afterAll, describe, test } from "vitest";
import { runChecked, runCommand } from "./command.js";
import { Lab } from "./netns.js";
import { tool } from "./paths.js";
import { ping } from "./ping.js";
import { LabProcess } from "./process.js";
import { findLeftovers, listNamespaces, procStat, sweepStaleLabs } from "./sweep.js";

/** Whether `pid` runs (a zombie waiting to be reaped counts as dead). */
function alive(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}

/** SIGKILL is delivered asynchronously: give the kernel a moment before calling a process a survivor. */
async function gone(pid: number, ms = 2_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (!alive(pid)) return true;
  }
  return !alive(pid);
}

describe("network-namespace lab", () => {
  let lab: Lab | undefined;
  afterAll(() => lab?.destroy());

  test("a 3-host lab has a working, isolated underlay and tears down without leftovers", async () => {
    const t0 = performance.now();
    lab = await Lab.create({ hosts: 3 });
    const built = performance.now() - t0;
    assert.deepEqual(lab.hosts, ["h1", "h2", "h3"]);
    for (const host of lab.allHosts) assert.ok(listNamespaces().includes(lab.nsName(host)), host);

    const hosts = [...lab.hosts, lab.signalHost!];
    for (const from of hosts) {
      for (const to of hosts) {
        if (from === to) continue;
        const r = await ping(lab, from, lab.underlayIp(to), { count: 1 });
        assert.equal(r.received, 1, `${from} -> ${to}: ${r.summary}`);
      }
    }

    // The lab must not be able to reach anything outside itself: only the underlay route exists.
    const routes = await lab.execOk("h1", ["ip", "-4", "route", "show"]);
    assert.deepEqual(
      routes.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]),
      ["172.31.250.0/24"],
    );

    // A tracked process and a grandchild it started both die with the lab.
    const proc = lab.spawn("h2", ["sh", "-c", 'sleep 300 & echo "child $!"; wait']);
    const child = Number((await proc.waitForLine(/^child (\d+)$/))[1]);
    assert.ok(alive(proc.pid) && alive(child));
    const exec = lab.exec("h3", ["sleep", "300"]);

    const t1 = performance.now();
    await lab.destroy();
    const destroyed = performance.now() - t1;
    assert.notEqual((await exec).code, 0, "exec'd command was killed");
    await proc.exited;
    assert.ok(await gone(child), "grandchild was killed with its process group");
    assert.deepEqual(lab.leftovers(), { namespaces: [], interfaces: [] });
    await assert.rejects(lab.exec("h1", ["true"]), { code: "LAB_DESTROYED" });
    console.log(`lab: build ${built.toFixed(0)} ms, destroy ${destroyed.toFixed(0)} ms`);
  });

  test("sweepStaleLabs removes a dead run's namespaces and keeps a live one's", async () => {
    const dead = (await runCommand(["sh", "-c", "echo $$"])).stdout.trim();
    const sleeper = (await import("node:child_process")).spawn("sleep", ["60"]);
    const staleNs = `ipoplab-${dead}-1-h1`;
    const liveNs = `ipoplab-${sleeper.pid}-1-h1`;
    try {
      await runChecked(["ip", "netns", "add", staleNs]);
      await runChecked(["ip", "netns", "add", liveNs]);
      const removed = sweepStaleLabs();
      assert.ok(removed.includes(staleNs), `removed ${removed.join(", ")}`);
      assert.ok(!listNamespaces().includes(staleNs));
      assert.ok(listNamespaces().includes(liveNs), "a live process's lab is kept");
    } finally {
      sleeper.kill("SIGKILL");
      await runCommand(["ip", "netns", "delete", staleNs]);
      await runCommand(["ip", "netns", "delete", liveNs]);
    }
  });

  for (const [how, args] of [
    ["SIGINT", []],
    ["SIGTERM", []],
    ["an uncaught exception", ["--crash"]],
  ] as const) {
    test(`a lab is removed when its process ends by ${how}`, async () => {
      const fixture = tool("hold-lab");
      const proc = LabProcess.spawn("hold-lab", [process.execPath, fixture, ...args]);
      try {
        const [, nsPrefix, pid] = await proc.waitForLine(/^ready (\S+) (\d+)$/, { timeoutMs: 10_000 });
        assert.ok(listNamespaces().some((n) => n.startsWith(nsPrefix!)));
        if (how.startsWith("SIG")) proc.kill(how as NodeJS.Signals);
        const exit = await proc.exited;
        assert.ok(exit.code !== 0, `fixture should not exit 0: ${JSON.stringify(exit)}`);
        assert.deepEqual(findLeftovers(nsPrefix!).namespaces, []);
        assert.ok(await gone(Number(pid)), "the lab's process was killed");
      } finally {
        await proc.stop("SIGKILL");
      }
    });
  }
});
