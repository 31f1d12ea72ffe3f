/**
 * The shell commands of README.md's fenced `sh` blocks, so a test can run what the README says rather
 * than its own copy of it: when a command changes shape, the test that looks it up fails.
 */
import { readFileSync } from "node:fs";
import { REPO_ROOT } from "../lab/paths.js";

/** Every command line of the ```sh blocks in `markdown`, without trailing `# comments`, in order. */
export function shCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inSh = false;
  for (const line of markdown.split(/\r?\n/)) {
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) {
      inSh = !inSh && fence[1] === "sh";
      continue;
    }
    if (!inSh) continue;
    // A comment starts at a `#` after whitespace; none of the commands quote one.
    const command = line.replace(/(^|\s)#.*$/, "").trim();
    if (command !== "") commands.push(command);
  }
  return commands;
}

/** The README's commands. */
export function readmeCommands(readme = `${REPO_ROOT}README.md`): string[] {
  return shCommands(readFileSync(readme, "utf8"));
}

/** The one command matching `shape`; throws, naming the shape, when none or several do. */
export function findCommand(commands: readonly string[], shape: RegExp): string {
  const found = commands.filter((c) => shape.test(c));
  if (found.length !== 1) {
    throw new Error(
      `README.md has ${found.length} commands of the shape ${shape} (expected one): ${JSON.stringify(found)}`,
    );
  }
  return found[0]!;
}
