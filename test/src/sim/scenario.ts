import { DEFAULT_LIMITS } from "@ipop/shared";
import { measureRoutability, type Routability } from "./probes.js";
import { World } from "./world.js";

export interface ScenarioOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Fraction of nodes that crash at once after convergence (0 for none). */
  readonly churn?: number;
  /** Virtual time between two joins. */
  readonly joinIntervalMs?: number;
  /** Ordered pairs sampled for the final routability figure. */
  readonly samples?: number;
  /** Give up waiting for routability 1 after this much virtual time. */
  readonly maxConvergeMs?: number;
}

/** The simulator's report, printed as one JSON object. */
export interface ScenarioResult {
  readonly nodes: number;
  readonly seed: number;
  readonly churn: number;
  /** Nodes alive at the end. */
  readonly alive: number;
  readonly routability: number;
  readonly meanHops: number;
  readonly maxHops: number;
  readonly meanLinks: number;
  readonly maxLinks: number;
  /** The bound the issue sets: 4 + ceil(log2 N) + the on-demand cap. */
  readonly linkBound: number;
  /** Virtual time from the last join (or from the churn) to routability 1; null if never. */
  readonly convergeMs: number | null;
  readonly virtualMs: number;
  readonly frames: number;
  readonly wallMs: number;
  readonly rssMb: number;
  readonly failures: readonly string[];
}

/** Probes per convergence check; the final figure uses `samples`. */
const CHECK_SAMPLES = 300;

/**
 * Joins `nodes` nodes one after another, waits until every sampled pair routes, optionally crashes a
 * fraction of them at once and waits again, then measures routability, hops and links.
 */
export function runScenario(options: ScenarioOptions): ScenarioResult {
  const started = performance.now();
  const world = new World({ seed: options.seed });
  const joinInterval = options.joinIntervalMs ?? 20;
  const maxConverge = options.maxConvergeMs ?? 180_000;
  for (let i = 1; i <= options.nodes; i++) world.queue.at(i * joinInterval, () => world.addNode(i));
  world.run(options.nodes * joinInterval + 1);

  let convergeMs = awaitConvergence(world, maxConverge);
  const churn = options.churn ?? 0;
  if (churn > 0 && convergeMs !== null) {
    const victims = [...world.nodes.keys()]
      .map((id) => ({ id, key: world.random() }))
      .sort((a, b) => a.key - b.key)
      .slice(0, Math.floor(churn * options.nodes));
    for (const { id } of victims) world.crash(id);
    convergeMs = awaitConvergence(world, maxConverge);
  }
  const final = measureRoutability(world, options.samples ?? 1_000);
  const links = [...world.nodes.values()].map(
    (n) => n.core.status(world.now).links.filter((l) => l.state === "up").length,
  );
  return {
    nodes: options.nodes,
    seed: options.seed,
    churn,
    alive: world.nodes.size,
    routability: final.routability,
    meanHops: round(final.meanHops),
    maxHops: final.maxHops,
    meanLinks: round(links.reduce((a, b) => a + b, 0) / Math.max(1, links.length)),
    maxLinks: Math.max(0, ...links),
    linkBound: 4 + Math.ceil(Math.log2(options.nodes)) + DEFAULT_LIMITS.maxOnDemand,
    convergeMs,
    virtualMs: Math.round(world.now),
    frames: world.counters.frames,
    wallMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    failures: final.failures,
  };
}

/** Checks routability every few seconds of virtual time; returns the time until it was 1. */
function awaitConvergence(world: World, maxMs: number): number | null {
  const start = world.now;
  for (;;) {
    const check: Routability = measureRoutability(world, CHECK_SAMPLES);
    if (check.routability === 1) return Math.round(world.now - start);
    if (world.now - start > maxMs) return null;
    world.run(2_000);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
