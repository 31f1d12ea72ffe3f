/**
 * CPU time and peak memory of processes, and the machine's CPU time, from /proc. The overlays' daemons
 * run in other network namespaces but the same pid namespace, so /proc sees them directly.
 */
import { readdirSync, readFileSync } from "node:fs";

/**
 * USER_HZ: the unit of /proc's CPU times. It is 100 on every Linux architecture Node runs on, and the
 * lab's sweep code assumes the same; `getconf CLK_TCK` would only ever confirm it.
 */
export const CLK_TCK = 100;

/** The fields of /proc/<pid>/stat after the command name, which may itself contain spaces and parens. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in clock ticks; summed over all threads. */
export function parseStatCpuTicks(stat: string): number {
  const f = statFields(stat);
  return Number(f[14 - 3]) + Number(f[15 - 3]);
}

/** Process group id (field 5) of a /proc/<pid>/stat line. */
export function parseStatPgrp(stat: string): number {
  return Number(statFields(stat)[5 - 3]);
}

/** VmHWM (peak resident set) in kB from /proc/<pid>/status text; undefined when absent (a zombie). */
export function parseVmHwmKb(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** Busy and total jiffies of all CPUs from /proc/stat text (busy excludes idle and iowait). */
export function parseHostCpu(procStat: string): { busy: number; total: number } {
  const line = /^cpu\s+(.+)$/m.exec(procStat)?.[1];
  if (!line) return { busy: 0, total: 0 };
  const v = line.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system, all threads) used so far by `pid`; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat ? parseStatCpuTicks(stat) / CLK_TCK : 0;
}

/** Peak RSS of `pid` in kB; undefined when it is gone. */
export function peakRssKb(pid: number): number | undefined {
  const status = readOr(`/proc/${pid}/status`);
  return status ? parseVmHwmKb(status) : undefined;
}

/**
 * Every live process in the process group led by `leader`. Lab processes lead their own group, so this
 * finds helpers a daemon may have started as well as the daemon itself.
 */
export function groupPids(leader: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOr(`/proc/${name}/stat`);
    if (stat && parseStatPgrp(stat) === leader) pids.push(Number(name));
  }
  return pids;
}

/** The machine's busy CPU seconds so far (all CPUs together). */
export function hostBusySeconds(): number {
  return parseHostCpu(readOr("/proc/stat") ?? "").busy / CLK_TCK;
}
