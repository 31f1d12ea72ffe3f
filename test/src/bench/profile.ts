/**
 * Summaries of V8 CPU profiles (`node --cpu-prof` writes `.cpuprofile` JSON): self time per function and
 * per package, to see where an IPOP agent's main thread spends its time. Native threads (libdatachannel's,
 * libuv's pool) never appear in these profiles; time the main thread spends inside a native call is
 * charged to the JavaScript function that made it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** One line of a summary. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the profile's non-idle time, 0..1. */
  share: number;
}

/** The summary of one profile. */
export interface ProfileTop {
  /** Profile file, relative to the directory searched. */
  file: string;
  totalMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Which package a script belongs to: the npm package under node_modules, a workspace package
 * (shared, node-agent, ...), `node:` internals, or V8's pseudo-entries such as "(garbage collector)".
 */
export function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (url.startsWith("node:")) return "node: internals";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ws = /\/(shared|node-agent|signaling|test)\/dist\//.exec(url);
  return ws ? `@ipop ${ws[1]}` : url;
}

/** A script URL shortened to what identifies it: from the last node_modules/, or from the workspace package. */
export function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm);
  return /\/([^/]+\/dist\/.*)$/.exec(path)?.[1] ?? path;
}

/** Summarizes one parsed profile. */
export function summarizeProfile(profile: CpuProfile, file: string, top = 15): ProfileTop {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fnTime = new Map<string, number>();
  const pkgTime = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node || dt <= 0) continue;
    total += dt;
    const f = node.callFrame;
    if (f.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    const file = shortUrl(f.url);
    const name = `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
    fnTime.set(name, (fnTime.get(name) ?? 0) + dt);
    const pkg = packageOf(f);
    pkgTime.set(pkg, (pkgTime.get(pkg) ?? 0) + dt);
  }
  const busy = total - idle;
  const entries = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, selfMs]) => ({ name, selfMs, share: busy > 0 ? selfMs / busy : 0 }));
  return { file, totalMs: total, idleMs: idle, functions: entries(fnTime, top), packages: entries(pkgTime, 10) };
}

/** Every `.cpuprofile` under `dir`, summarized, sorted by file name. */
export function summarizeProfiles(dir: string): ProfileTop[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".cpuprofile")) files.push(p);
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return files.sort().map((f) => summarizeProfile(JSON.parse(readFileSync(f, "utf8")) as CpuProfile, relative(dir, f)));
}
