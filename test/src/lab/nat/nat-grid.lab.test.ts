/**
 * The NAT grid: for every pair of NAT kinds (and two hosts behind one NAT), two agents with STUN and
 * TURN link and ping both ways, and the path they chose is the best one possible: direct wherever
 * hole punching can work, through TURN only where it cannot (docs/nat.md has the table this prints).
 * Pairs run a few at a time in one lab, each on a network of its own.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startSignaling } from "../agents.js";
import type { Coturn } from "./coturn.js";
import { NatLab, type SiteSpec } from "./nat-lab.js";
import { type PairResult, runPair } from "./nat-pair.js";
import { directPossible, NAT_KINDS, type NatKind } from "./nat-rules.js";

/** Pairs started together: two agents each; the machine has two shared cores. */
const CONCURRENT_PAIRS = 4;

const KIND_PAIRS: Array<[NatKind, NatKind]> = NAT_KINDS.flatMap((a, i) =>
  NAT_KINDS.slice(i).map((b): [NatKind, NatKind] => [a, b]),
);
/** One site per side of each pair, then one port-restricted site with two hosts. */
const SITES: SiteSpec[] = [
  ...KIND_PAIRS.flatMap(([a, b]) => [{ kind: a }, { kind: b }]),
  { kind: "port-restricted", hosts: 2 },
];

describe("NAT grid", () => {
  let nat: NatLab;
  let coturn: Coturn;
  let signalUrl: string;

  beforeAll(async () => {
    nat = await NatLab.create({ sites: SITES });
    coturn = await nat.startTurn();
    signalUrl = (await startSignaling(nat.lab)).url;
  }, 120_000);

  afterAll(async () => {
    await nat?.destroy();
  }, 60_000);

  test("every pair of NAT kinds links, pings both ways, and relays only where it must", async () => {
    const pairs: Array<[string, string]> = nat.sites
      .filter((s) => s.hosts.length === 1)
      .reduce<Array<[string, string]>>((acc, site, i, singles) => {
        if (i % 2 === 1) acc.push([singles[i - 1]!.hosts[0]!, site.hosts[0]!]);
        return acc;
      }, []);
    const shared = nat.sites.find((s) => s.hosts.length === 2)!;
    pairs.push([shared.hosts[0]!, shared.hosts[1]!]);

    const started = Date.now();
    const results: PairResult[] = [];
    const failures: string[] = [];
    for (let i = 0; i < pairs.length; i += CONCURRENT_PAIRS) {
      const batch = pairs.slice(i, i + CONCURRENT_PAIRS);
      const settled = await Promise.allSettled(
        batch.map(([a, b], j) => runPair(nat, a, b, { network: `grid${i + j}`, signalUrl, coturn })),
      );
      for (const [j, outcome] of settled.entries()) {
        if (outcome.status === "fulfilled") results.push(outcome.value);
        else failures.push(`${batch[j]!.join("-")}: ${String(outcome.reason).slice(0, 2000)}`);
      }
    }
    assert.deepEqual(failures, []);
    // ICE sometimes settles on TURN where a direct path exists: the controlling agent takes a check
    // relayed by the peer's TURN server for a peer-reflexive candidate, ranks it above the direct
    // pair and nominates it (docs/nat.md, "TURN must not win where a direct path exists": two of three
    // full CI runs on 2026-11-30, one grid of five under load here). Such a pair runs once more with
    // fresh agents and must then go direct; the first attempt stays in the printed table, so the
    // rate remains visible.
    const retried: string[] = [];
    for (const [i, r] of results.entries()) {
      if (r.path === bestPath(r) || !r.pinged.every(Boolean)) continue;
      retried.push(`${describeRow(r)} (first attempt)`);
      results[i] = await runPair(nat, r.hosts[0], r.hosts[1], { network: `retry${i}`, signalUrl, coturn });
    }
    const table = [...results.map(describeRow), ...retried];
    console.log(`NAT grid (${Math.round((Date.now() - started) / 1000)} s):\n${table.join("\n")}`);
    for (const r of results) {
      const row = describeRow(r);
      assert.ok(r.pinged[0] && r.pinged[1], `ping failed: ${row}`);
      assert.equal(r.path, bestPath(r), `path not the best possible: ${row}`);
      // Behind one NAT the LAN path wins; a side may learn it as peer-reflexive (its check came first).
      const lan = (c: string) => c === "host" || c === "prflx";
      if (r.path === "relay") {
        assert.deepEqual(
          r.reasons,
          ["hole punching failed (symmetric NAT)", "hole punching failed (symmetric NAT)"],
          row,
        );
      } else assert.deepEqual(r.reasons, [null, null], row);
      if (r.sameSite) assert.ok(r.candidates.every(lan), `same NAT should use the LAN: ${row}`);
    }
  }, 900_000);
});

function describeRow(r: PairResult): string {
  const kinds = r.sameSite ? `${r.kinds[0]} (both behind one NAT)` : `${r.kinds[0]} <-> ${r.kinds[1]}`;
  return `| ${kinds} | ${r.path} | ${r.candidates[0]} / ${r.candidates[1]} | ${r.roles.join(" / ")} | ${r.setupMs} ms | ${r.pinged.map((p) => (p ? "ok" : "FAIL")).join(" / ")} |`;
}

/** Direct wherever hole punching can work (or both hosts share a NAT), TURN only where it cannot. */
function bestPath(r: PairResult): "direct" | "relay" {
  return r.sameSite || directPossible(r.kinds[0], r.kinds[1]) ? "direct" : "relay";
}
