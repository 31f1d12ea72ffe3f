import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "vitest";
import { runScenario } from "./scenario.js";

test("1,000 nodes converge to routability 1 with O(log N) hops and bounded links", () => {
  const r = runScenario({ nodes: 1_000, seed: 11 });
  assert.equal(r.routability, 1, JSON.stringify(r));
  assert.ok(r.convergeMs !== null, "converged");
  assert.ok(r.meanHops <= Math.log2(1_000) / 2, `mean hops ${r.meanHops} > log2(N)/2`);
  assert.ok(r.maxLinks <= r.linkBound, `max links ${r.maxLinks} > ${r.linkBound}`);
  assert.ok(r.meanLinks < 999 / 10, `mean links ${r.meanLinks}: nothing like a full mesh`);
});

test("after 20% of the nodes crash at once, routability returns to 1", () => {
  const r = runScenario({ nodes: 1_000, seed: 12, churn: 0.2 });
  assert.equal(r.alive, 800);
  assert.ok(r.convergeMs !== null, `never reconverged: ${JSON.stringify(r)}`);
  assert.equal(r.routability, 1, JSON.stringify(r));
  assert.ok(r.maxLinks <= r.linkBound, `max links ${r.maxLinks} > ${r.linkBound}`);
});

test("with 20% crashing at once and 10% joining during the repair, routability returns to 1", () => {
  const r = runScenario({ nodes: 500, seed: 13, churn: 0.2, repairJoins: 0.1 });
  assert.equal(r.repairJoins, 50);
  assert.equal(r.alive, 500 - 100 + 50);
  assert.ok(r.convergeMs !== null, `never reconverged: ${JSON.stringify(r)}`);
  // The joins come within the first 5 s, so convergence cannot be claimed before they are all in.
  assert.ok(r.convergeMs >= 5_000, `converged after ${r.convergeMs} ms`);
  assert.equal(r.routability, 1, JSON.stringify(r));
  assert.ok(r.maxLinks <= r.linkBound, `max links ${r.maxLinks} > ${r.linkBound}`);
});

test("a run is a function of its seed", () => {
  const strip = ({ wallMs: _w, rssMb: _r, ...rest }: ReturnType<typeof runScenario>) => rest;
  const a = strip(runScenario({ nodes: 150, seed: 5, churn: 0.1 }));
  const b = strip(runScenario({ nodes: 150, seed: 5, churn: 0.1 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, strip(runScenario({ nodes: 150, seed: 6, churn: 0.1 })));
});

test("the CLI refuses bad arguments with a usage message and prints one JSON object", () => {
  // From the build (`npm test` builds first): a child process of Node 20 cannot run .ts.
  const main = fileURLToPath(new URL("../../dist/sim/main.js", import.meta.url));
  for (const args of [
    [],
    ["--nodes", "x"],
    ["--nodes", "10", "--churn", "1.5"],
    ["--nodes", "10", "--bogus"],
    ["--nodes", "10", "--repair-joins", "0.1"],
  ]) {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /usage: npm run sim/);
  }
  const r = spawnSync(process.execPath, [main, "--nodes", "30", "--seed", "3", "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim());
  for (const key of [
    "nodes",
    "routability",
    "meanHops",
    "maxHops",
    "meanLinks",
    "maxLinks",
    "convergeMs",
    "repairJoins",
    "wallMs",
    "rssMb",
  ]) {
    assert.ok(key in result, key);
  }
});
