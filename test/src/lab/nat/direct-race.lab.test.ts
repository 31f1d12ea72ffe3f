/**
 * The pairs where a direct path exists but TURN can win the race (docs/nat.md, "TURN must not win
 * where a direct path exists"): a public host with one behind a symmetric, a port-restricted or a
 * full-cone NAT (the kinds TURN won with in loaded runs).
 * Several such pairs start at once, rounds after rounds, optionally while busy loops load the CPU
 * (the loaded full CI runs are where ICE settled on TURN); every pair must go direct.
 *
 * Agents signal through a proxy that holds what the server sends them (slow-signal.ts), so an
 * answerer's first checks reach the offerer before its answer, as on a loaded machine.
 *
 * Knobs (environment): IPOP_RACE_ROUNDS (default 1), IPOP_RACE_PAIRS pairs of each kind per round
 * (default 2), IPOP_RACE_SIGNAL_DELAY_MS how long the proxy holds signals (default 500; 0: no proxy),
 * IPOP_RACE_LOAD busy-loop processes during the rounds (default 0), each ended when the test ends
 * and by itself after 15 minutes at the latest, IPOP_RACE_ALLOCATE_DROP percent of TURN Allocate
 * requests the internet drops (default 0): each drop delays a relay candidate by a retransmission
 * (500 ms or more), as a loaded TURN server does, so relayed checks start after signals that
 * came before them.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startSignaling } from "../agents.js";
import type { Coturn } from "./coturn.js";
import { NatLab, type SiteSpec } from "./nat-lab.js";
import { type PairResult, runPair } from "./nat-pair.js";
import type { NatKind } from "./nat-rules.js";
import { startSlowSignal } from "./slow-signal.js";

const ROUNDS = envCount("IPOP_RACE_ROUNDS", 1);
const PAIRS_PER_KIND = envCount("IPOP_RACE_PAIRS", 2);
const LOAD_PROCESSES = envCount("IPOP_RACE_LOAD", 0);
const SIGNAL_DELAY_MS = envCount("IPOP_RACE_SIGNAL_DELAY_MS", 500, 10_000);
const ALLOCATE_DROP_PERCENT = envCount("IPOP_RACE_ALLOCATE_DROP", 0, 100);
/**
 * Drops that share of STUN Allocate requests (message type 0x0003, the first two bytes of the UDP
 * payload) to the TURN port, in the internet namespace where coturn runs.
 */
const ALLOCATE_DROP_RULES = `table inet ipoprace {
  chain input {
    type filter hook input priority -10;
    udp dport 3478 @th,64,16 0x0003 numgen random mod 100 < ${ALLOCATE_DROP_PERCENT} counter drop
  }
}
`;
/** The busy loops end by themselves after this long, whatever happens to the test process. */
const LOAD_LIMIT_S = 900;

const RACE_KINDS: ReadonlyArray<readonly [NatKind, NatKind]> = [
  ["none", "symmetric"],
  ["none", "port-restricted"],
  ["none", "full-cone"],
];
const SITES: SiteSpec[] = Array.from({ length: PAIRS_PER_KIND }, () =>
  RACE_KINDS.flatMap(([a, b]) => [{ kind: a }, { kind: b }]),
).flat();

describe("direct beats TURN", () => {
  let nat: NatLab;
  let coturn: Coturn;
  let signalUrl: string;
  const load: ChildProcess[] = [];

  beforeAll(async () => {
    nat = await NatLab.create({ sites: SITES });
    coturn = await nat.startTurn();
    signalUrl = (await startSignaling(nat.lab)).url;
    if (ALLOCATE_DROP_PERCENT > 0)
      await nat.lab.execOk(nat.internet, ["nft", "-f", "-"], { input: ALLOCATE_DROP_RULES });
    if (SIGNAL_DELAY_MS > 0) signalUrl = (await startSlowSignal(nat.lab, SIGNAL_DELAY_MS)).url;
  }, 120_000);

  afterAll(async () => {
    for (const p of load) p.kill("SIGKILL");
    await nat?.destroy();
  }, 60_000);

  test(`${ROUNDS} round(s) of ${PAIRS_PER_KIND * RACE_KINDS.length} pairs at once, signals held ${SIGNAL_DELAY_MS} ms, ${ALLOCATE_DROP_PERCENT}% of Allocates dropped, ${LOAD_PROCESSES} busy loop(s): every pair goes direct`, async () => {
    for (let i = 0; i < LOAD_PROCESSES; i++) {
      // The loop ends itself: killing a wrapper such as `timeout` would leave its child spinning.
      const loop = `const end = Date.now() + ${LOAD_LIMIT_S * 1000}; while (Date.now() < end);`;
      load.push(spawn(process.execPath, ["-e", loop], { stdio: "ignore" }));
    }
    const hosts = nat.sites.map((s) => s.hosts[0]!);
    const rows: string[] = [];
    const relayed: string[] = [];
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const settled = await Promise.allSettled(
        Array.from({ length: hosts.length / 2 }, (_, i) =>
          runPair(nat, hosts[2 * i]!, hosts[2 * i + 1]!, { network: `race${round}x${i}`, signalUrl, coturn }),
        ),
      );
      for (const outcome of settled) {
        if (outcome.status === "rejected") {
          failures.push(String(outcome.reason).slice(0, 2000));
          continue;
        }
        const row = describeRow(round, outcome.value);
        rows.push(row);
        if (outcome.value.path !== "direct" || !outcome.value.pinged.every(Boolean)) relayed.push(row);
      }
    }
    for (const p of load) p.kill("SIGKILL");
    console.log(
      `direct race: ${relayed.length} of ${rows.length} pairs not direct, ${failures.length} failed\n${rows.join("\n")}`,
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(relayed, [], "a pair that can go direct stayed on TURN");
  }, 3_600_000);
});

function describeRow(round: number, r: PairResult): string {
  return `| ${round} | ${r.kinds[0]} <-> ${r.kinds[1]} | ${r.path} | ${r.candidates[0]} / ${r.candidates[1]} | ${r.roles.join(" / ")} | ${r.setupMs} ms | ${r.pinged.map((p) => (p ? "ok" : "FAIL")).join(" / ")} |`;
}

function envCount(name: string, fallback: number, max = 64): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be an integer 0..${max}, not "${text}"`);
  return n;
}
