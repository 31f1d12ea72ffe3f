/**
 * Scale lab test (issue 14, item 3): fifty real agents, each in its own network namespace with a
 * real TUN device and real WebRTC, join one network at once. Every ordered pair must become routable
 * (all 2,450 pairs by the trace `ipop route` starts, asked as one `routes` control request per agent;
 * a sample of pairs by the kernel's ping), and the test reports how long after the last join (the
 * signaling server's log line of it) that took and the memory of each agent.
 *
 * It took 39-55 s of wall time in all on two busy cores: 12-15 s for fifty Node processes to start
 * and join, 3.3-7.2 s until every pair was seen routable (load averages 3-61 with a CPU burner
 * beside it), the rest namespaces and checks (docs/bench.md, "Fifty agents on one machine").
 * Timing decides nothing here: the deadlines are generous ceilings against a hang; the measured
 * times are printed for docs/bench.md.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  type Agent,
  agentRoute,
  controlSocketFile,
  type Overlay,
  type RouteResult,
  startOverlay,
  stopOverlay,
  virtualIp,
} from "./agents.js";
import { controlRequest, controlRoute, controlRoutes, treePssBytes, treeRssBytes } from "./control-socket.js";
import { Lab } from "./netns.js";
import { pingPairs } from "./ping.js";
import type { LabProcess } from "./process.js";
import { type AgentStatus, parseAgentStatus } from "./status.js";

const HOSTS = 50;
/** Fifty agents starting on two shared cores: a ceiling against a hang, not a measurement. */
const JOIN_TIMEOUT_MS = 240_000;
/** Every pair must be routable within this after the last join (the issue asks for 10 s; see the log). */
const ROUTABLE_TIMEOUT_MS = 120_000;
/**
 * Control requests in flight at once (a `routes` request traces all of one agent's pending pairs).
 * All fifty at once was tried: the burst of 2,450 traces into agents still setting up links made
 * the answers slower, not the sweep shorter (docs/bench.md).
 */
const ROUTE_CONCURRENCY = 16;
/** Ordered pairs that also ping through the kernels. */
const PING_SAMPLES = 40;
const POLL_MS = 500;

/**
 * With IPOP_SCALE_LOG_DIR set, the agents log at debug level and each one's output lands in that
 * directory (hN.log, signaling.log) after the run, with the wall-clock moments of the test's
 * milestones in milestones.json: what docs/bench.md's analysis of the time to routability reads.
 */
const LOG_DIR = process.env.IPOP_SCALE_LOG_DIR;

/** Each agent's (host's) latest join, in ms since the epoch, from the signaling server's JSON log lines. */
function serverJoins(proc: LabProcess): Map<string, number> {
  const joins = new Map<string, number>();
  for (const stream of ["stdout", "stderr"] as const) {
    for (const line of proc.lines(stream)) {
      if (!line.includes('"msg":"joined"')) continue;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; name?: unknown; time?: unknown };
        if (entry.msg === "joined" && typeof entry.name === "string" && typeof entry.time === "string") {
          joins.set(entry.name, Date.parse(entry.time));
        }
      } catch {
        // not a log line
      }
    }
  }
  return joins;
}

/** At most `size` tasks at once; the others wait their turn in order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("scale: fifty agents in namespaces form one overlay where every pair routes", () => {
  let lab: Lab;
  let overlay: Overlay;
  const sockets = new Map<string, string>();
  /** When the last agent joined: the signaling server's log line of that join (same clock as ours). */
  let lastJoinAt = 0;

  beforeAll(async () => {
    lab = await Lab.create({ hosts: HOSTS });
    for (const host of lab.hosts) sockets.set(host, await controlSocketFile(lab, host));
    overlay = await startOverlay(lab, {
      network: "scale",
      ...(LOG_DIR ? { agentArgs: ["--log-level", "debug"] } : {}),
    });
  }, 120_000);

  /** Wall-clock milestones and each pair's first routable answer, for IPOP_SCALE_LOG_DIR. */
  const milestones: Record<string, unknown> = {};

  afterAll(async () => {
    if (LOG_DIR && overlay) {
      mkdirSync(LOG_DIR, { recursive: true });
      for (const a of [...overlay.agents, { host: "signaling", proc: overlay.signaling.proc }]) {
        writeFileSync(
          join(LOG_DIR, `${a.host}.log`),
          [...a.proc.lines("stdout"), ...a.proc.lines("stderr")].join("\n"),
        );
      }
      writeFileSync(join(LOG_DIR, "milestones.json"), JSON.stringify(milestones));
    }
    if (overlay) await stopOverlay(overlay, 20_000);
    for (const path of sockets.values()) rmSync(path, { force: true });
    await lab?.destroy();
  }, 120_000);

  const status = async (host: string): Promise<AgentStatus> =>
    parseAgentStatus(JSON.stringify(await controlRequest(sockets.get(host)!, { op: "status" })));

  const exitedAgent = (): Agent | undefined => overlay.agents.find((a) => a.proc.exitInfo);

  test("all fifty agents join the signaling server", {
    timeout: JOIN_TIMEOUT_MS + 10_000,
  }, async () => {
    const started = Date.now();
    let missing: string[] = lab.hosts.slice();
    for (;;) {
      const dead = exitedAgent();
      assert.equal(dead, undefined, dead && `${dead.host} agent exited:\n${dead.proc.tail()}`);
      const polledAt = Date.now();
      // The server's log says when each agent joined; reading it costs the busy agents nothing (a
      // round of status requests took seconds, which delayed the route sweep by as much). Each
      // agent's own view of the server is checked with its links in the last test.
      const joined = serverJoins(overlay.signaling.proc);
      missing = lab.hosts.filter((host) => !joined.has(host));
      if (missing.length === 0) break;
      assert.ok(polledAt - started < JOIN_TIMEOUT_MS, `not joined within ${JOIN_TIMEOUT_MS} ms: ${missing.join(" ")}`);
      await sleep(POLL_MS);
    }
    // An agent that rejoined counts from its latest join.
    lastJoinAt = Math.max(...serverJoins(overlay.signaling.proc).values());
    milestones.started = started;
    milestones.lastJoinAt = lastJoinAt;
    console.log(
      `all ${HOSTS} agents joined within ${lastJoinAt - started} ms of starting them; ` +
        `the test saw it ${Date.now() - lastJoinAt} ms after the last join`,
    );
  });

  test("every ordered pair is routable (ipop route) and sampled pairs ping", {
    timeout: ROUTABLE_TIMEOUT_MS + 60_000,
  }, async () => {
    const pairs = lab.hosts.flatMap((from) => lab.hosts.filter((to) => to !== from).map((to) => ({ from, to })));
    const sweepStarted = Date.now() - lastJoinAt;
    /** Per pair: ms after the last join when its first successful route answer came, and each failure's why. */
    const routableFrom = new Map<string, number>();
    const failures = new Map<string, string[]>();
    /** Each `routes` request: when it was due, when it got a slot, when it was answered. */
    const requests: Array<{ from: string; askedAt: number; sentAt: number; answeredAt: number; targets: number }> = [];
    const slots = new Slots(ROUTE_CONCURRENCY);
    // Each agent asks for the routes to its pending targets with one `routes` request, and asks again
    // for those that failed, on its own: a round of 2,450 single `route` requests took 6-10 s on the busy
    // cores, and a round that waits for its slowest answer (a trace that times out after 5 s) holds
    // back every pair, so rounds over all pairs measured themselves rather than the overlay.
    const sweepFrom = async (from: string): Promise<void> => {
      let pending = pairs.filter((pair) => pair.from === from);
      while (pending.length > 0) {
        const askedAt = Date.now() - lastJoinAt;
        const ips = pending.map((pair) => virtualIp(lab, pair.to));
        let answers: readonly RouteResult[] | string;
        let sentAt = askedAt;
        try {
          answers = await slots.run(() => {
            sentAt = Date.now() - lastJoinAt;
            return controlRoutes(sockets.get(from)!, ips);
          });
        } catch (e) {
          answers = (e as Error).message;
        }
        const answeredAt = Date.now() - lastJoinAt;
        requests.push({ from, askedAt, sentAt, answeredAt, targets: ips.length });
        const failed: typeof pairs = [];
        pending.forEach((pair, i) => {
          const key = `${pair.from}->${pair.to}`;
          const r = typeof answers === "string" ? undefined : answers[i];
          if (r?.complete && r.owner && r.path.at(-1)?.ip === ips[i]) {
            routableFrom.set(key, answeredAt);
            return;
          }
          const why = r === undefined ? String(answers) : JSON.stringify(r);
          failures.set(key, [...(failures.get(key) ?? []), `${askedAt} ms: ${why}`]);
          failed.push(pair);
        });
        pending = failed;
        const dead = exitedAgent();
        assert.equal(dead, undefined, dead && `${dead.host} agent exited:\n${dead.proc.tail()}`);
        if (pending.length > 0) {
          const sample = pending
            .slice(0, 5)
            .map((p) => `${p.from}->${p.to}: ${failures.get(`${p.from}->${p.to}`)!.at(-1)}`);
          assert.ok(
            answeredAt < ROUTABLE_TIMEOUT_MS,
            `${pending.length} pairs from ${from} not routable:\n  ${sample.join("\n  ")}`,
          );
          await sleep(POLL_MS);
        }
      }
    };
    await Promise.all(lab.hosts.map(sweepFrom));
    const routableAfter = Math.max(...routableFrom.values());
    const notYet = [2, 4, 6, 8, 10, 12].map(
      (s) => `${s} s: ${[...routableFrom.values()].filter((t) => t > s * 1000).length}`,
    );
    console.log(`the route sweep started ${sweepStarted} ms after the last join`);
    console.log(
      `all ${pairs.length} ordered pairs routable at most ${routableAfter} ms after the last join ` +
        `(the answer to the last pair's first successful route request); pairs not yet seen routable ` +
        `after the last join at ${notYet.join(", ")}; ${failures.size} pairs failed at least once`,
    );
    const latest = [...routableFrom].sort((a, b) => b[1] - a[1]);
    console.log(
      `the last pairs seen routable: ${latest
        .slice(0, 5)
        .map(([p, t]) => `${p} at ${t} ms`)
        .join(", ")}`,
    );
    milestones.routableFrom = Object.fromEntries(routableFrom);
    milestones.failures = Object.fromEntries(failures);
    milestones.requests = requests;

    // The kernels agree: a sample of pairs pings by virtual IP, and `ipop route` itself answers.
    const shuffled = pairs.map((p, i) => ({ p, k: (i * 2654435761) % 4294967296 })).sort((a, b) => a.k - b.k);
    const sample = shuffled.slice(0, PING_SAMPLES).map(({ p }) => ({ from: p.from, to: virtualIp(lab, p.to) }));
    assert.deepEqual(await pingPairs(lab, sample), []);
    const cli = await agentRoute(lab, sample[0]!.from, sample[0]!.to);
    assert.ok(cli.complete && cli.owner, `ipop route ${sample[0]!.from} -> ${sample[0]!.to}: ${JSON.stringify(cli)}`);

    const hops = await Promise.all(
      sample.map(async (s) => (await controlRoute(sockets.get(s.from)!, s.to)).path.length - 1),
    );
    console.log(
      `hops over the sampled pairs: mean ${(hops.reduce((a, b) => a + b, 0) / hops.length).toFixed(2)}, max ${Math.max(...hops)}`,
    );
  });

  test("memory and links per agent are reported", async () => {
    const rss = overlay.agents.map((a) => treeRssBytes(a.proc.pid) / 2 ** 20).sort((a, b) => a - b);
    const pss = overlay.agents.map((a) => treePssBytes(a.proc.pid) / 2 ** 20).sort((a, b) => a - b);
    assert.ok(
      rss.every((mb) => mb > 0),
      "every agent is running",
    );
    const statuses = await Promise.all(lab.hosts.map(status));
    if (LOG_DIR) milestones.drops = Object.fromEntries(lab.hosts.map((host, i) => [host, statuses[i]!.drops]));
    const disconnected = lab.hosts.filter((_, i) => statuses[i]!.signaling.state !== "connected");
    assert.deepEqual(disconnected, [], "every agent is connected to the signaling server");
    const links = statuses.map((s) => s.peers.filter((p) => p.state === "up").length);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `RSS per agent: min ${rss[0]!.toFixed(0)} MiB, median ${rss[rss.length >> 1]!.toFixed(0)} MiB, ` +
        `max ${rss.at(-1)!.toFixed(0)} MiB, total ${rss.reduce((a, b) => a + b, 0).toFixed(0)} MiB; ` +
        `PSS per agent: median ${pss[pss.length >> 1]!.toFixed(0)} MiB, total ${pss.reduce((a, b) => a + b, 0).toFixed(0)} MiB; ` +
        `up links per agent: mean ${mean(links).toFixed(1)}, max ${Math.max(...links)} (full mesh ${HOSTS - 1})`,
    );
    assert.ok(Math.max(...links) < HOSTS - 1, "a structured overlay, not a full mesh");
  });
});
