/**
 * Overlay relays behind real NATs: six agents, each on a site of its own, four behind symmetric NATs,
 * one behind a full-cone NAT, one public. STUN, no TURN. Two symmetric NATs cannot hole-punch to each
 * other, so such pairs that are ring neighbours must go through an overlay relay (docs/relays.md);
 * every ordered pair still pings. How each pair connected is printed, not asserted: which pairs are
 * ring neighbours depends on the node ids of the run. Time bounds are deadlines only a hang exceeds.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, startOverlay, stopOverlay, virtualIp } from "../agents.js";
import { type PingPair, pingPairs, pingUntilAllAnswer } from "../ping.js";
import type { AgentStatus } from "../status.js";
import { NatLab } from "./nat-lab.js";
import { directPossible } from "./nat-rules.js";

/**
 * Every pair pings within this: links that cannot punch through time out (10 s each) before a relay
 * is asked for, six agents start on two shared cores.
 */
const CONVERGE_TIMEOUT_MS = 180_000;
/** Relayed paths form after the failed direct attempts; wait for one this long once all pairs ping. */
const RELAY_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const relayedUp = (s: AgentStatus) => (s.relayed ?? []).filter((r) => r.state === "up");

describe("overlay relays behind real NATs: six agents, four behind symmetric NATs, no TURN", () => {
  let nat: NatLab;
  let overlay: Overlay | undefined;

  beforeAll(async () => {
    nat = await NatLab.create({
      sites: [
        { kind: "symmetric" },
        { kind: "symmetric" },
        { kind: "symmetric" },
        { kind: "symmetric" },
        { kind: "full-cone" },
        { kind: "none" },
      ],
    });
    // coturn for its STUN answers only: the agents are given no TURN server.
    const coturn = await nat.startTurn();
    overlay = await startOverlay(nat.lab, {
      network: "relaynat",
      agentArgs: ["--ice-server", coturn.stunUrls[0]!, "--dns", "off"],
    });
  }, 120_000);

  afterAll(async () => {
    if (overlay) await stopOverlay(overlay).catch(() => undefined);
    await nat?.destroy();
  }, 60_000);

  test("every ordered pair pings and symmetric-NAT neighbours reach each other through a relay", {
    timeout: CONVERGE_TIMEOUT_MS + RELAY_TIMEOUT_MS + 60_000,
  }, async () => {
    const lab = nat.lab;
    const pairs: PingPair[] = [];
    for (const from of lab.hosts)
      for (const to of lab.hosts) if (from !== to) pairs.push({ from, to: virtualIp(lab, to) });
    const startedAt = Date.now();
    assert.deepEqual(await pingUntilAllAnswer(lab, pairs, CONVERGE_TIMEOUT_MS), [], "pairs without a reply");
    console.log(`relay NAT lab: all ${pairs.length} ordered pairs ping after ${secondsSince(startedAt)} s`);
    // Reached again, at once: 100% pairwise, not a lucky round.
    assert.deepEqual(await pingPairs(lab, pairs, { attempts: 2 }), []);

    let statuses = await Promise.all(lab.hosts.map((h) => agentStatus(lab, h)));
    for (const deadline = Date.now() + RELAY_TIMEOUT_MS; !statuses.some((s) => relayedUp(s).length > 0); ) {
      if (Date.now() > deadline) break;
      await sleep(1_000);
      statuses = await Promise.all(lab.hosts.map((h) => agentStatus(lab, h)));
    }
    console.log(`relay NAT lab: how each pair connected\n${describePaths(nat, statuses).join("\n")}`);
    assert.ok(
      statuses.some((s) => relayedUp(s).length > 0),
      `no agent lists a relayed peer that is up: ${JSON.stringify(statuses.map((s) => s.relayed ?? []))}`,
    );
    // Real NATs, not a pretend block: no direct link where hole punching cannot work.
    for (const [i, from] of lab.hosts.entries()) {
      for (const link of statuses[i]!.peers.filter((p) => p.state === "up")) {
        const to = lab.hosts.find((h) => virtualIp(lab, h) === link.ip);
        if (to === undefined) continue;
        const kinds = [nat.siteOf(from).kind, nat.siteOf(to).kind] as const;
        assert.ok(directPossible(kinds[0], kinds[1]), `${from} (${kinds[0]}) has a direct link to ${to} (${kinds[1]})`);
      }
    }
    // The relay must not have cost reachability: every pair still answers.
    assert.deepEqual(await pingPairs(lab, pairs, { attempts: 2 }), []);
  });
});

function secondsSince(t: number): string {
  return ((Date.now() - t) / 1000).toFixed(0);
}

/** One line per ordered pair: a direct link and its candidate type, a relayed path, or overlay routing. */
function describePaths(nat: NatLab, statuses: readonly AgentStatus[]): string[] {
  const lab = nat.lab;
  const lines: string[] = [];
  for (const [i, from] of lab.hosts.entries()) {
    const s = statuses[i]!;
    for (const to of lab.hosts) {
      if (to === from) continue;
      const ip = virtualIp(lab, to);
      const link = s.peers.find((p) => p.ip === ip && p.state === "up");
      const relayed = relayedUp(s).find((r) => r.ip === ip);
      const how = link
        ? `direct (${link.candidateType ?? "unknown"})`
        : relayed
          ? `relayed via ${relayed.via?.name ?? "?"}`
          : "routed through the overlay";
      lines.push(`  ${from} (${nat.siteOf(from).kind}) -> ${to} (${nat.siteOf(to).kind}): ${how}`);
    }
  }
  return lines;
}
