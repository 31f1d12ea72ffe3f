import { readFileSync } from "node:fs";

/** What a script's `#!/usr/bin/env -S [VAR=value...] node [FLAGS]` line runs it with. */
export interface ShebangLaunch {
  /** Environment variables `env` sets before it starts node (e.g. glibc's MALLOC_ARENA_MAX). */
  env: Record<string, string>;
  /** Node and V8 flags. */
  nodeFlags: string[];
}

const ENV_SHEBANG = /^#!\S*env\s+(?:-S\s+)?((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)node((?:\s+-\S+)*)\s*$/;

/**
 * The environment and Node flags a script's first line gives it; empty for a plain `env node` line
 * and for anything that does not start node. The lab starts the agent as
 * `env VAR=value... node FLAGS cli.js` (see {@link launcherCommand}), so it runs exactly as the
 * installed `ipop` command does (e.g. with the malloc and V8 heap sizing that keep its memory
 * small) without repeating them here.
 */
export function parseShebang(firstLine: string): ShebangLaunch {
  const m = ENV_SHEBANG.exec(firstLine);
  if (!m) return { env: {}, nodeFlags: [] };
  const env: Record<string, string> = {};
  for (const assignment of m[1]!.trim().split(/\s+/).filter(Boolean)) {
    const eq = assignment.indexOf("=");
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return { env, nodeFlags: m[2]?.trim().split(/\s+/).filter(Boolean) ?? [] };
}

/** The Node flags of a script's first line ({@link parseShebang}). */
export function shebangNodeFlags(firstLine: string): string[] {
  return parseShebang(firstLine).nodeFlags;
}

function firstLine(path: string): string {
  const text = readFileSync(path, "utf8");
  return text.slice(0, text.indexOf("\n") >>> 0);
}

/** {@link shebangNodeFlags} of the script at `path`. */
export function launcherNodeFlags(path: string): string[] {
  return shebangNodeFlags(firstLine(path));
}

/**
 * The argv that starts the script at `path` the way its shebang does, with this process's node:
 * `[/usr/bin/env, VAR=value..., node, FLAGS...]` (just `[node, FLAGS...]` when the line sets no
 * variables), to which the caller appends the script and its arguments. `env` execs node, so the
 * spawned pid is node's own.
 */
export function launcherCommand(path: string): string[] {
  const { env, nodeFlags } = parseShebang(firstLine(path));
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const node = [process.execPath, ...nodeFlags];
  return assignments.length === 0 ? node : ["/usr/bin/env", ...assignments, ...node];
}
