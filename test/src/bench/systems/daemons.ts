/**
 * Helpers for systems made of one daemon per host.
 */

import { BenchError } from "../../errors.js";
import type { LabProcess } from "../../lab/process.js";
import { groupPids } from "../procfs.js";

/** Every live process in the daemons' process groups (a daemon and anything it started). */
export function daemonPids(procs: readonly LabProcess[]): number[] {
  return procs.filter((p) => p.running).flatMap((p) => groupPids(p.pid));
}

/** SIGTERMs the daemons (SIGKILL after `graceMs`), all at once. */
export async function stopDaemons(procs: readonly LabProcess[], graceMs = 5_000): Promise<void> {
  await Promise.all(procs.map((p) => p.stop("SIGTERM", graceMs)));
}

/**
 * Polls `check` every 50 ms until it returns true, failing early when one of `procs` exits.
 * @throws BenchError BENCH_SETUP_FAILED on exit or timeout, with the daemon's last output
 */
export async function waitFor(
  what: string,
  check: () => boolean,
  procs: readonly LabProcess[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return;
    const dead = procs.find((p) => !p.running);
    if (dead)
      throw new BenchError("BENCH_SETUP_FAILED", `${dead.label} exited while waiting for ${what}:\n${dead.tail()}`);
    if (Date.now() > deadline) throw new BenchError("BENCH_SETUP_FAILED", `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A short interface name unique to this bench process: the tunnel devices live in the lab's namespaces,
 * but wireguard-go's control sockets (/var/run/wireguard/NAME.sock) are shared by the whole machine.
 */
export function deviceName(kind: string, host: string): string {
  const name = `${kind}${process.pid.toString(36)}${host}`;
  if (name.length > 15) throw new RangeError(`device name ${name} is longer than 15 characters`);
  return name;
}
