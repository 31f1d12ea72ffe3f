/**
 * Where the programs under test are, found from this file rather than the working directory, so tests
 * and the demo run from anywhere. The paths hold both from test/src/lab/paths.ts (vitest runs the tests
 * from source) and from test/dist/lab/paths.js (the demo): programs always run from the build, since
 * Node 20 cannot run .ts files.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LabError } from "../errors.js";

/** Root of the monorepo. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/**
 * The signaling server's CLI (`ipop-signal`). IPOP_SIGNAL_CLI overrides it, to run the lab against
 * another build or a stand-in.
 */
export const SIGNAL_CLI =
  process.env.IPOP_SIGNAL_CLI || fileURLToPath(new URL("../../../signaling/dist/cli.js", import.meta.url));
/** The node agent's CLI (`ipop`). IPOP_AGENT_CLI overrides it. */
export const AGENT_CLI =
  process.env.IPOP_AGENT_CLI || fileURLToPath(new URL("../../../node-agent/dist/cli.js", import.meta.url));

/** Path of a compiled helper script in test/dist/lab/tools, e.g. `tool("tcp-transfer")`. */
export function tool(name: string): string {
  return fileURLToPath(new URL(`../../dist/lab/tools/${name}.js`, import.meta.url));
}

/** Throws a LabError naming the fix when a program was not built. */
export function requireBuilt(path: string): string {
  if (!existsSync(path)) {
    throw new LabError("LAB_COMMAND_FAILED", `${path} does not exist; run \`npm run build\` first`);
  }
  return path;
}
