import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AgentMetrics } from "@ipop/agent";
import { startSignalServer } from "@ipop/signaling";
import { test } from "vitest";

/** What docs/metrics.md says of one metric: its table row's type and labels. */
interface Documented {
  readonly type: string;
  readonly labels: readonly string[];
}

/** The rows of docs/metrics.md's metric tables: `| \`name\` | type | labels | meaning |`. */
function documentedMetrics(): Map<string, Documented> {
  const text = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
  const rows = new Map<string, Documented>();
  for (const match of text.matchAll(/^\| `([a-z_:]+)` \| (\w+) \| ([^|]*) \|/gm)) {
    const [, name, type, labels] = match;
    assert.ok(!rows.has(name!), `${name} is listed twice`);
    const names = labels!.trim() === "-" ? [] : labels!.split(",").map((label) => label.trim().replace(/`/g, ""));
    rows.set(name!, { type: type!, labels: names.sort() });
  }
  return rows;
}

/** The metrics of a registry as the docs describe them. prom-client keeps type and label names on each metric. */
function registered(metrics: readonly { name: string; type: unknown }[]): Map<string, Documented> {
  const rows = new Map<string, Documented>();
  for (const metric of metrics) {
    const { labelNames } = metric as unknown as { labelNames: readonly string[] };
    rows.set(metric.name, { type: String(metric.type), labels: [...labelNames].sort() });
  }
  return rows;
}

test("docs/metrics.md lists every metric of the agent and the signaling server, with its type and labels, and no others", async () => {
  const server = await startSignalServer({ port: 0 });
  try {
    const agent = new AgentMetrics(() => Promise.reject(new Error("not used")));
    const actual = new Map([
      ...registered(agent.registry.getMetricsAsArray()),
      ...registered(server.metrics.registry.getMetricsAsArray()),
    ]);
    const documented = documentedMetrics();
    assert.deepEqual([...documented.keys()].sort(), [...actual.keys()].sort());
    for (const [name, metric] of actual) assert.deepEqual(documented.get(name), metric, name);
    for (const name of actual.keys()) {
      assert.match(name, /^ipop_(signal_)?[a-z0-9_]+$/);
      const counter = actual.get(name)?.type === "counter";
      assert.equal(name.endsWith("_total"), counter, `${name}: _total is for counters, and counters end in it`);
    }
  } finally {
    await server.close();
  }
});
