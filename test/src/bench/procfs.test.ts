import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "vitest";
import {
  cpuSeconds,
  groupPids,
  parseHostCpu,
  parseStatCpuTicks,
  parseStatPgrp,
  parseVmHwmKb,
  peakRssKb,
} from "./procfs.js";

// A command name with spaces and a parenthesis, which naive splitting gets wrong.
const STAT = "4242 (node (x) y) S 1 4240 4240 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 5000 1000000 2000";

test("utime + stime and the process group, after the command name", () => {
  assert.equal(parseStatCpuTicks(STAT), 1234 + 567);
  assert.equal(parseStatPgrp(STAT), 4240);
});

test("VmHWM in kB", () => {
  assert.equal(parseVmHwmKb("Name:\tnode\nVmPeak:\t  100 kB\nVmHWM:\t   89876 kB\nVmRSS:\t 1 kB\n"), 89876);
  assert.equal(parseVmHwmKb("Name:\tzombie\n"), undefined);
});

test("host CPU: busy excludes idle and iowait, guest is not counted twice", () => {
  const r = parseHostCpu("cpu  100 5 50 1000 20 3 7 0 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n");
  assert.equal(r.total, 100 + 5 + 50 + 1000 + 20 + 3 + 7 + 0);
  assert.equal(r.busy, 100 + 5 + 50 + 3 + 7);
});

test("our own process: CPU time grows, RSS is known, we are in our process group", () => {
  const before = cpuSeconds(process.pid);
  const until = Date.now() + 50;
  while (Date.now() < until) {
    // spin so the kernel charges us a few ticks
  }
  assert.ok(cpuSeconds(process.pid) > before);
  assert.ok((peakRssKb(process.pid) ?? 0) > 1000);
  const pgrp = parseStatPgrp(readFileSync(`/proc/${process.pid}/stat`, "utf8"));
  assert.ok(groupPids(pgrp).includes(process.pid));
  assert.equal(cpuSeconds(2 ** 22 + 1), 0);
});
