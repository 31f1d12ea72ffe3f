import { readFileSync } from "node:fs";

/**
 * The Node flags a script's `#!/usr/bin/env -S node FLAGS` line gives it. The lab starts the agent
 * as `node FLAGS cli.js`, so it runs with the same flags as the installed `ipop` command does
 * (e.g. the V8 heap sizing that keeps its memory small) without repeating them here.
 */
export function shebangNodeFlags(firstLine: string): string[] {
  const m = /^#!\S*env\s+(?:-S\s+)?node((?:\s+-\S+)*)\s*$/.exec(firstLine);
  return m?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

/** {@link shebangNodeFlags} of the script at `path`. */
export function launcherNodeFlags(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return shebangNodeFlags(text.slice(0, text.indexOf("\n") >>> 0));
}
