import { DEFAULT_LIMITS } from "@ipop/shared";
import { measureRoutability, type Routability } from "./probes.js";
import { World } from "./world.js";

export interface ScenarioOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Fraction of nodes that crash at once after convergence (0 for none). */
  readonly churn?: number;
  /**
   * Fraction of `nodes` that join as new nodes while the survivors repair after the churn, spread
   * over {@link REPAIR_JOIN_WINDOW_MS} from the crash (0 for none; only with `churn`).
   */
  readonly repairJoins?: number;
  /** Virtual time between two joins; default {@link defaultJoinInterval}. */
  readonly joinIntervalMs?: number;
  /** Ordered pairs sampled for the final routability figure. */
  readonly samples?: number;
  /** Give up waiting for routability 1 after this much virtual time. */
  readonly maxConvergeMs?: number;
  /** Told how far the run is, every {@link PROGRESS_EVERY_MS} of virtual time and at each phase. */
  readonly progress?: (line: string) => void;
}

/** Virtual time between two progress lines. */
const PROGRESS_EVERY_MS = 5_000;

/** The simulator's report, printed as one JSON object. */
export interface ScenarioResult {
  readonly nodes: number;
  readonly seed: number;
  readonly churn: number;
  /** Nodes that joined during the repair. */
  readonly repairJoins: number;
  /** Virtual time between two joins of the initial build. */
  readonly joinIntervalMs: number;
  /** Nodes alive at the end. */
  readonly alive: number;
  readonly routability: number;
  /** Share of the final figure's first probes that were lost (each pair gets a second try). */
  readonly firstTryLoss: number;
  readonly meanHops: number;
  readonly maxHops: number;
  readonly meanLinks: number;
  readonly maxLinks: number;
  /** The most up links of any node, counting those still held only for bootstrap or closing. */
  readonly maxLinksAll: number;
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
 * Joins during repair arrive within this much virtual time of the crash: before the survivors have
 * even noticed the dead (a link is declared dead after 8 s of silence), so they land in the middle
 * of the repair.
 */
export const REPAIR_JOIN_WINDOW_MS = 5_000;
/** The initial build takes at most about this long in virtual time, however many nodes join. */
const BUILD_WINDOW_MS = 25_000;

/**
 * 20 ms between joins (50 per second) up to 1,250 nodes; beyond, the joins come faster so the build
 * takes {@link BUILD_WINDOW_MS} (400 per second at 10,000 nodes, 4,000 per second at 100,000). A
 * fixed interval would make the virtual time, and with it the work per node, grow with N: the total
 * cost would be quadratic. Every node does a little work every second of virtual time (maintenance,
 * keepalives, gossip), so the build is most of a large run's cost.
 */
export function defaultJoinInterval(nodes: number): number {
  return Math.min(20, BUILD_WINDOW_MS / nodes);
}

/**
 * Joins `nodes` nodes one after another, waits until every sampled pair routes, optionally crashes a
 * fraction of them at once and waits again, then measures routability, hops and links.
 */
export function runScenario(options: ScenarioOptions): ScenarioResult {
  const started = performance.now();
  const world = new World({ seed: options.seed });
  const joinInterval = options.joinIntervalMs ?? defaultJoinInterval(options.nodes);
  const maxConverge = options.maxConvergeMs ?? 180_000;
  const progress = (phase: string) => {
    if (options.progress === undefined) return;
    const wall = Math.round((performance.now() - started) / 1000);
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    options.progress(
      `${phase}: virtual ${Math.round(world.now / 1000)} s, ${world.nodes.size} nodes, wall ${wall} s, rss ${rss} MB`,
    );
  };
  for (let i = 1; i <= options.nodes; i++) world.queue.at(i * joinInterval, () => world.addNode(i));
  const built = options.nodes * joinInterval + 1;
  // In steps, to report progress; running in steps changes nothing (events run in time order).
  let reportedAt = 0;
  while (world.now < built) {
    world.run(Math.min(PROGRESS_EVERY_MS, built - world.now));
    // The last step is often a sliver: one line for it and the step before is enough.
    if (world.now - reportedAt >= PROGRESS_EVERY_MS / 2) {
      reportedAt = world.now;
      progress("build");
    }
  }

  const samples = options.samples ?? 1_000;
  const churn = options.churn ?? 0;
  const repairJoins = churn > 0 ? Math.floor((options.repairJoins ?? 0) * options.nodes) : 0;
  // The final figure confirms the last convergence; one before a churn needs no confirmation.
  let { convergeMs, final } = awaitConvergence(world, maxConverge, 0, churn > 0 ? 0 : samples);
  progress(`converged after ${convergeMs} ms`);
  if (churn > 0 && convergeMs !== null) {
    const victims = [...world.nodes.keys()]
      .map((id) => ({ id, key: world.random() }))
      .sort((a, b) => a.key - b.key)
      .slice(0, Math.floor(churn * options.nodes));
    for (const { id } of victims) world.crash(id);
    // Newcomers take fresh node numbers (and so fresh addresses) after the first `nodes`.
    const spacing = REPAIR_JOIN_WINDOW_MS / Math.max(1, repairJoins);
    for (let k = 1; k <= repairJoins; k++) {
      world.queue.at(world.now + k * spacing, () => world.addNode(options.nodes + k));
    }
    ({ convergeMs, final } = awaitConvergence(
      world,
      maxConverge,
      world.now + (repairJoins > 0 ? REPAIR_JOIN_WINDOW_MS : 0),
      samples,
    ));
    progress(`repaired after ${convergeMs} ms`);
  }
  final ??= measureRoutability(world, samples);
  const up = [...world.nodes.values()].map((n) => n.core.status(world.now).links.filter((l) => l.state === "up"));
  const links = up.map((list) => list.filter(keptForTheRing).length);
  return {
    nodes: options.nodes,
    seed: options.seed,
    churn,
    repairJoins,
    joinIntervalMs: joinInterval,
    alive: world.nodes.size,
    routability: final.routability,
    firstTryLoss: round(final.firstTryLoss, 4),
    meanHops: round(final.meanHops),
    maxHops: final.maxHops,
    meanLinks: round(links.reduce((a, b) => a + b, 0) / Math.max(1, links.length)),
    // A loop, not Math.max(...links): a spread of a million arguments overflows the stack.
    maxLinks: links.reduce((a, b) => Math.max(a, b), 0),
    maxLinksAll: up.reduce((a, list) => Math.max(a, list.length), 0),
    linkBound: 4 + Math.ceil(Math.log2(options.nodes)) + DEFAULT_LIMITS.maxOnDemand,
    convergeMs,
    virtualMs: Math.round(world.now),
    frames: world.counters.frames,
    wallMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    failures: final.failures,
  };
}

/**
 * Whether either side keeps the link for the overlay's structure or traffic (near, shortcut,
 * on-demand, relay). Links kept only as the first way in through the signaling server close by
 * themselves once `bootstrapHoldMs` has passed, and links neither side needs close after
 * `unneededGraceMs`: the link figures against the bound leave both out (`maxLinksAll` has them).
 * The final figures come right after convergence, while some of those are still open.
 */
function keptForTheRing(link: { kinds: readonly string[]; remoteKinds: readonly string[] }): boolean {
  const ring = (kind: string) => kind !== "bootstrap";
  return link.kinds.some(ring) || link.remoteKinds.some(ring);
}

/**
 * Checks routability every few seconds of virtual time; returns the time until it was 1, at
 * `notBefore` (virtual time) or later: while nodes are still joining, a lucky sample proves nothing.
 * With `confirmSamples`, a clean check is confirmed at once by a larger one (the final figure,
 * returned as `final`): a ring still repairing can pass 300 sampled pairs and fail one of 1,000,
 * so the run waits on until the larger sample is clean too, and `convergeMs` is when that one began.
 */
function awaitConvergence(
  world: World,
  maxMs: number,
  notBefore: number,
  confirmSamples: number,
): { convergeMs: number | null; final: Routability | undefined } {
  const start = world.now;
  let final: Routability | undefined;
  for (;;) {
    const check: Routability = measureRoutability(world, CHECK_SAMPLES);
    if (check.routability === 1 && world.now >= notBefore) {
      if (confirmSamples === 0) return { convergeMs: Math.round(world.now - start), final: undefined };
      const confirmedAt = world.now;
      final = measureRoutability(world, confirmSamples);
      if (final.routability === 1) return { convergeMs: Math.round(confirmedAt - start), final };
    }
    if (world.now - start > maxMs) return { convergeMs: null, final };
    world.run(2_000);
  }
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
