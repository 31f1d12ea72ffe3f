/**
 * What the report says about the machine. The load average is taken at start and end because the
 * machines are shared: a run next to someone else's build is not comparable with a quiet one.
 */
import { cpus, loadavg, release, totalmem } from "node:os";
import { packageVersion } from "./deps.js";
import type { MachineInfo } from "./results.js";

/** Packages whose versions the report names. */
const PACKAGES = ["iperf3", "wireguard-go", "wireguard-tools", "nebula"];

/** Load averages rounded to two decimals. */
export function loadAverage(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

/** The machine's description, with `start` as the load average when the run began. */
export function machineInfo(start: number[]): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    kernel: release(),
    node: process.versions.node,
    memTotalMb: Math.round(totalmem() / 2 ** 20),
    loadavg: { start, end: loadAverage() },
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p) ?? null])),
  };
}
