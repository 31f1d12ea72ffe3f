/**
 * `npm run sim -- --nodes N --seed S [--churn FRACTION] [--samples K] [--json]`
 *
 * Runs N copies of the real overlay core on virtual time (see scenario.ts) and prints the result,
 * as one JSON object with --json.
 */
import { parseArgs } from "node:util";
import { runScenario } from "./scenario.js";

function fail(message: string): never {
  process.stderr.write(
    `ipop-sim: ${message}\nusage: npm run sim -- --nodes N --seed S [--churn F] [--samples K] [--json]\n`,
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
      samples: { type: "string" },
      json: { type: "boolean" },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const nodes = integer(values.nodes as string | undefined, "nodes", 2, 60_000);
const seed = integer(values.seed as string | undefined, "seed", 0, 2 ** 32 - 1, 1);
const samples = integer(values.samples as string | undefined, "samples", 1, 1_000_000, 1_000);
const churnText = values.churn as string | undefined;
const churn = churnText === undefined ? 0 : Number(churnText);
if (!(churn >= 0 && churn < 1)) fail("--churn must be a fraction from 0 to below 1, e.g. 0.2");

const result = runScenario({ nodes, seed, churn, samples });
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  for (const [key, value] of Object.entries(result))
    process.stdout.write(`${key.padEnd(12)} ${JSON.stringify(value)}\n`);
}
process.exitCode = result.routability === 1 ? 0 : 1;
