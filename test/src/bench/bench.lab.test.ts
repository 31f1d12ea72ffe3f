/**
 * Smoke test of `npm run bench`: a quick run over the raw veth and IPOP (node-datachannel) must finish,
 * print the summary as the last line of stdout, write its three files and leave no namespace behind.
 * It checks that the numbers exist and are plausible, not how large they are: timing belongs in the
 * benchmark, not in a pass/fail test on a shared machine.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, test } from "vitest";
import { LabProcess } from "../lab/process.js";
import { findLeftovers } from "../lab/sweep.js";
import type { BenchSummary } from "./summary.js";

// From the build (`npm test` builds first): a child process of Node 20 cannot run .ts.
const MAIN = fileURLToPath(new URL("../../dist/bench/main.js", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "ipop-bench-test-"));
let proc: LabProcess | undefined;

afterAll(async () => {
  await proc?.stop("SIGTERM", 20_000);
  rmSync(out, { recursive: true, force: true });
});

test("bench --quick over veth and ipop-ndc", { timeout: 180_000 }, async () => {
  const args = ["--quick", "--systems", "veth,ipop-ndc", "--seconds", "1", "--pings", "20", "--link-samples", "1"];
  proc = LabProcess.spawn("bench", [process.execPath, MAIN, ...args, "--json", "--out", out]);
  const exit = await proc.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, proc.tail(40));

  const stdout = proc.lines("stdout").filter((l) => l.trim() !== "");
  const summary = JSON.parse(stdout[stdout.length - 1]!) as BenchSummary;
  assert.deepEqual(
    summary.systems.map((s) => s.name),
    ["veth", "ipop-ndc"],
  );
  for (const s of summary.systems) {
    assert.deepEqual(s.errors, [], `${s.name} errors`);
    assert.ok(s.tcpMbps !== null && s.tcpMbps > 0, `${s.name} TCP`);
    assert.ok(s.tcp4Mbps !== null && s.tcp4Mbps > 0, `${s.name} TCP x4`);
    assert.ok(s.tcpLossMbps !== null && s.tcpLossMbps > 0, `${s.name} TCP over the lossy underlay`);
    assert.ok(s.udp64Pps !== null && s.udp64Pps > 0, `${s.name} UDP 64`);
    assert.ok(s.udp1400Loss !== null && s.udp1400Loss >= 0 && s.udp1400Loss <= 1, `${s.name} UDP 1400 loss`);
    assert.ok(s.rttMs !== null && s.rttP99Ms !== null && s.rttP99Ms >= s.rttMs * 0.5, `${s.name} RTT`);
  }
  const [veth, ipop] = summary.systems;
  assert.equal(veth!.cpuSecPerGbit, null, "the raw veth has no daemon");
  assert.ok(ipop!.cpuSecPerGbit !== null && ipop!.cpuSecPerGbit > 0, "agents' CPU per Gbit");
  assert.ok(ipop!.rssMb !== null && ipop!.rssMb > 10, "agents' peak RSS");
  assert.ok(summary.ipop && summary.ipop.upToFirstPingMs !== null && summary.ipop.upToFirstPingMs > 0);
  assert.ok(summary.ipop.linkSetupMs !== null && summary.ipop.linkSetupMs > 0);
  assert.equal(summary.machine.loadavg.start.length, 3);
  assert.equal(summary.machine.loadavg.end.length, 3);

  for (const f of ["bench.json", "report.md", "chart.svg"]) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(findLeftovers(`ipopbench-${proc.pid}-`).namespaces, []);
});
