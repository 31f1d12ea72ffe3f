/**
 * `npm run sim -- --nodes N --seed S [--churn FRACTION [--repair-joins FRACTION]] [--samples K] [--json] [--progress]`
 *
 * Runs N copies of the real overlay core on virtual time (see scenario.ts) and prints the result,
 * as one JSON object with --json. `--churn 0.2 --repair-joins 0.1` crashes 20% of the nodes at once
 * after convergence and has 10% of N join as new nodes while the survivors repair.
 */
import { parseArgs } from "node:util";
import { runScenario } from "./scenario.js";
import { MAX_SIM_NODES } from "./world.js";

function fail(message: string): never {
  process.stderr.write(
    `ipop-sim: ${message}\nusage: npm run sim -- --nodes N --seed S [--churn F [--repair-joins F]] [--samples K] [--json] [--progress]\n`,
  );
  process.exit(2);
}

function integer(value: string | undefined, name: string, min: number, max: number, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    fail(`missing --${name}`);
  }
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    fail(`--${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    options: {
      nodes: { type: "string" },
      seed: { type: "string" },
      churn: { type: "string" },
      "repair-joins": { type: "string" },
      samples: { type: "string" },
      json: { type: "boolean" },
      progress: { type: "boolean" },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const nodes = integer(values.nodes as string | undefined, "nodes", 2, 1_000_000);
const seed = integer(values.seed as string | undefined, "seed", 0, 2 ** 32 - 1, 1);
const samples = integer(values.samples as string | undefined, "samples", 1, 1_000_000, 1_000);
const churnText = values.churn as string | undefined;
const churn = churnText === undefined ? 0 : Number(churnText);
if (!(churn >= 0 && churn < 1)) fail("--churn must be a fraction from 0 to below 1, e.g. 0.2");
const joinsText = values["repair-joins"] as string | undefined;
const repairJoins = joinsText === undefined ? 0 : Number(joinsText);
if (!(repairJoins >= 0 && repairJoins <= 1)) fail("--repair-joins must be a fraction from 0 to 1, e.g. 0.1");
if (repairJoins > 0 && churn === 0) fail("--repair-joins needs --churn: the joins come during the repair");
if (Math.floor(nodes * (1 + repairJoins)) > MAX_SIM_NODES) fail(`at most ${MAX_SIM_NODES} nodes in all`);

const result = runScenario({
  nodes,
  seed,
  churn,
  repairJoins,
  samples,
  ...(values.progress ? { progress: (line: string) => process.stderr.write(`${line}\n`) } : {}),
});
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  for (const [key, value] of Object.entries(result))
    process.stdout.write(`${key.padEnd(12)} ${JSON.stringify(value)}\n`);
}
process.exitCode = result.routability === 1 ? 0 : 1;
