/**
 * Finding what labs left behind: namespaces of crashed runs, and leak checks after a destroy.
 * Works from /run/netns and /sys/class/net directly (what `ip netns list` / `ip link` read), so it is
 * synchronous and usable from exit handlers.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { runCommandSync } from "./command.js";
import { DEFAULT_PREFIX, parseLabNamespace } from "./names.js";

const NETNS_DIR = "/run/netns";

/** Names of all named network namespaces (`ip netns list`). */
export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return []; // no namespace was ever created on this boot
  }
}

/** Interface names in our own (the root) network namespace. */
export function listRootInterfaces(): string[] {
  return readdirSync("/sys/class/net").sort();
}

/** What is still around of a lab. Both lists empty means clean. */
export interface Leftovers {
  namespaces: string[];
  interfaces: string[];
}

/**
 * Namespaces whose name starts with `nsPrefix` and root-namespace interfaces starting with `ifPrefix`.
 * Lab veths are created inside lab namespaces, so one showing up in the root namespace is a harness bug.
 */
export function findLeftovers(nsPrefix: string, ifPrefix?: string): Leftovers {
  return {
    namespaces: listNamespaces().filter((n) => n.startsWith(nsPrefix)),
    interfaces: ifPrefix ? listRootInterfaces().filter((n) => n.startsWith(ifPrefix)) : [],
  };
}

/** Pids of processes living in namespace `ns` (`ip netns pids`). */
export function namespacePids(ns: string): number[] {
  const r = runCommandSync(["ip", "netns", "pids", ns]);
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/**
 * SIGKILLs everything inside `ns`, then deletes it. Killing first matters: a namespace with live
 * processes outlives `ip netns delete`, and so do its veths and TUN devices.
 * @returns true when the namespace is gone afterwards
 */
export function deleteNamespaceSync(ns: string): boolean {
  for (const pid of namespacePids(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  runCommandSync(["ip", "netns", "delete", ns]);
  return !listNamespaces().includes(ns);
}

/**
 * Removes namespaces of earlier lab runs whose creating process is gone (it crashed or was SIGKILLed
 * before it could clean up). Labs of processes that are still alive are left alone.
 * @param prefix - namespace prefix to sweep, default `ipoplab`
 * @returns the namespaces removed
 */
export function sweepStaleLabs(prefix = DEFAULT_PREFIX): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const parsed = parseLabNamespace(ns, prefix);
    if (!parsed || parsed.pid === process.pid) continue;
    if (ownerAlive(parsed.pid, ns)) continue;
    if (deleteNamespaceSync(ns)) removed.push(ns);
  }
  return removed;
}

/**
 * Whether the process that created `ns` still runs. A zombie (killed, not yet reaped) does not count.
 * A pid can be reused (containers restart pid numbering), so a process that started after the
 * namespace was created cannot be its owner.
 */
function ownerAlive(pid: number, ns: string): boolean {
  const stat = procStat(pid);
  if (stat === undefined || stat.state === "Z" || stat.state === "X") return false;
  let created: number;
  try {
    created = statSync(`${NETNS_DIR}/${ns}`).mtimeMs;
  } catch {
    return true;
  }
  // One second of slack for clock-tick rounding of the start time.
  return stat.startMs <= created + 1_000;
}

/** State letter and wall-clock start time (ms) of `pid`, from /proc; undefined when there is no such process. */
export function procStat(pid: number): { state: string; startMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3 (state); starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[22 - 3]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    const CLK_TCK = 100; // USER_HZ; fixed at 100 on every Linux architecture Node runs on
    return { state: fields[0] ?? "?", startMs: btime * 1000 + (ticks * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}
