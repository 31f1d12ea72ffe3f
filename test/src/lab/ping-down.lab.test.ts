/**
 * `ipop ping` and `ipop down` lab test (issue 13, item 1): real agents in network namespaces. A ring
 * of eight, so that some pair has no direct link: pings by name and by IP say `direct` for a
 * neighbour and name the nodes in between otherwise; `--until-direct` keeps pinging until the
 * on-demand link its own traffic asked for carries it; `status` and `route` take names; then
 * `ipop down` stops an agent as SIGTERM does (exit 0, TUN gone) and its peers see it leave at once.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, controlSocketFile, type Overlay, startOverlay, stopOverlay, virtualIp } from "./agents.js";
import { tunDevices } from "./links.js";
import { Lab } from "./netns.js";
import { AGENT_CLI, requireBuilt } from "./paths.js";
import type { AgentStatus } from "./status.js";

const HOSTS = 8;
/** Eight agents starting on two cores: links up and the ring settled within this. */
const CONVERGE_TIMEOUT_MS = 120_000;

interface PingReport {
  version: number;
  target: string;
  ip: string | null;
  name: string | null;
  sent: number;
  received: number;
  direct: boolean;
  rttMs: { min: number; avg: number; max: number } | null;
  replies: Array<{
    seq: number;
    answered: boolean;
    owner: boolean;
    direct: boolean;
    rttMs: number | null;
    path: Array<{ name: string; ip: string }>;
  }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const upPeers = (s: AgentStatus) => s.peers.filter((p) => p.state === "up");

describe("ipop ping and ipop down", () => {
  let lab: Lab;
  let overlay: Overlay;

  /** Runs `ipop ARGS` in `host`'s namespace. */
  const ipop = (host: string, args: readonly string[], timeoutMs = 30_000) =>
    lab.exec(host, [process.execPath, requireBuilt(AGENT_CLI), ...args], { timeoutMs });
  const statuses = async () =>
    new Map(await Promise.all(lab.hosts.map(async (h) => [h, await agentStatus(lab, h)] as const)));
  const linked = (all: Map<string, AgentStatus>, a: string, b: string) =>
    upPeers(all.get(a)!).some((p) => p.name === b) || upPeers(all.get(b)!).some((p) => p.name === a);

  beforeAll(async () => {
    lab = await Lab.create({ hosts: HOSTS });
    overlay = await startOverlay(lab, { network: "pinglab" });
    // Every agent has its four ring neighbours and the link set has stopped changing.
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    let previous = "";
    for (;;) {
      let current = "";
      try {
        const all = await statuses();
        const ready = [...all.values()].every((s) => upPeers(s).filter((p) => p.kinds.includes("near")).length === 4);
        current = ready
          ? [...all.values()]
              .map(
                (s) =>
                  `${s.node.name}:${upPeers(s)
                    .map((p) => p.name)
                    .sort()}`,
              )
              .join(" ")
          : "";
      } catch {}
      if (current !== "" && current === previous) break;
      previous = current;
      assert.ok(Date.now() < deadline, `the ring did not settle: ${previous}`);
      await sleep(3_000);
    }
  }, CONVERGE_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (overlay) await stopOverlay(overlay);
    await lab?.destroy();
  });

  test("a neighbour answers direct, by name and by IP, in text and JSON; an unknown name is an error", {
    timeout: 60_000,
  }, async () => {
    const status = await agentStatus(lab, "h1");
    // A ring neighbour: its link stays while the ring does (a shortcut may be traded for another).
    const neighbour = upPeers(status).find((p) => p.kinds.includes("near"))!;
    const text = await ipop("h1", ["ping", neighbour.name, "--count", "2"]);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    const line = new RegExp(
      `^reply from ${neighbour.name} \\(${neighbour.ip.replaceAll(".", "\\.")}\\) direct: [\\d.]+ ms$`,
      "m",
    );
    assert.match(text.stdout, line);
    assert.match(text.stdout, /2 sent, 2 received, 0% lost, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms, direct link/);

    const json = await ipop("h1", ["ping", neighbour.ip, "--count", "1", "--json"]);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    const report = JSON.parse(json.stdout) as PingReport;
    assert.deepEqual(
      { ...report, rttMs: null, replies: report.replies.map((r) => ({ ...r, rttMs: typeof r.rttMs })) },
      {
        version: 1,
        target: neighbour.ip,
        ip: neighbour.ip,
        name: neighbour.name,
        sent: 1,
        received: 1,
        direct: true,
        rttMs: null,
        replies: [
          {
            seq: 1,
            answered: true,
            owner: true,
            direct: true,
            rttMs: "number",
            path: [
              { name: "h1", ip: virtualIp(lab, "h1") },
              { name: neighbour.name, ip: neighbour.ip },
            ],
          },
        ],
      },
    );

    const unknown = await ipop("h1", ["ping", "nobody"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no node named "nobody" is known here/);
    assert.doesNotMatch(unknown.stderr, /^\s+at /m, "a message, not a stack trace");
  });

  test("a pair without a direct link pings through other nodes, then --until-direct gets it a direct link", {
    timeout: 90_000,
  }, async () => {
    const all = await statuses();
    let pair: [string, string] | undefined;
    for (const a of lab.hosts)
      for (const b of lab.hosts) if (pair === undefined && a !== b && !linked(all, a, b)) pair = [a, b];
    assert.ok(pair, "every pair of the eight is linked: no pair to test --until-direct with");
    const [from, to] = pair;
    const toIp = virtualIp(lab, to);

    const relayed = await ipop(from, ["ping", to, "--count", "1"]);
    assert.equal(relayed.code, 0, relayed.stdout + relayed.stderr);
    assert.match(relayed.stdout, new RegExp(`^reply from ${to} \\([\\d.]+\\) via (h\\d+ -> )+${to}: [\\d.]+ ms$`, "m"));
    const route = await ipop(from, ["route", to]);
    assert.equal(route.code, 0, route.stdout + route.stderr);
    assert.match(route.stdout, new RegExp(`^${toIp.replaceAll(".", "\\.")}: [2-9] hops: `));

    const untilDirect = await ipop(from, ["ping", to, "--until-direct", "--json"], 60_000);
    assert.equal(untilDirect.code, 0, untilDirect.stdout + untilDirect.stderr);
    const report = JSON.parse(untilDirect.stdout) as PingReport;
    assert.ok(report.direct, JSON.stringify(report));
    assert.equal(report.replies.at(-1)!.path.length, 2);
    assert.ok(!report.replies[0]!.direct, "the first ping went through other nodes");
    assert.ok(report.sent >= 2 && report.sent < 50, `${report.sent} pings`);

    // The link the pings earned is an on-demand one, and status and route by name see it.
    const status = await ipop(from, ["status", to, "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const peers = (JSON.parse(status.stdout) as AgentStatus).peers;
    assert.deepEqual(
      peers.map((p) => [p.name, p.state]),
      [[to, "up"]],
    );
    assert.ok(
      peers[0]!.kinds.includes("on-demand") || peers[0]!.remoteKinds.includes("on-demand"),
      JSON.stringify(peers[0]),
    );
    const direct = await ipop(from, ["route", to]);
    assert.match(direct.stdout, new RegExp(`: 1 hop: ${from} \\([\\d.]+\\) -> ${to} `));
  });

  test("ipop down stops an agent as SIGTERM does, and its peers see its links close at once", {
    timeout: 60_000,
  }, async () => {
    const host = "h5";
    const agent = overlay.agents.find((a) => a.host === host)!;
    const socket = await controlSocketFile(lab, host);
    const peersBefore = upPeers(await agentStatus(lab, host)).map((p) => p.name);
    assert.ok(peersBefore.length >= 4, peersBefore.join(","));
    const startedAt = Date.now();
    const down = await ipop(host, ["down"]);
    assert.equal(down.code, 0, down.stdout + down.stderr);
    assert.equal(down.stdout, `stopped ${host} (${virtualIp(lab, host)}) on ipop0\n`);
    const exit = await Promise.race([agent.proc.exited, sleep(10_000).then(() => undefined)]);
    assert.deepEqual(exit, { code: 0, signal: null }, `the agent exits 0:\n${agent.proc.tail()}`);
    assert.deepEqual(await tunDevices(lab, host), [], "its TUN device is gone");
    assert.ok(!existsSync(socket), "its control socket is gone");
    assert.match(agent.proc.tail(40), /stopped; TUN device removed/);
    // The peers were told: no keepalive timeout (8 s), the link is gone well before that.
    for (const peer of peersBefore) {
      const status = await agentStatus(lab, peer);
      assert.ok(!upPeers(status).some((p) => p.name === host), `${peer} still has a link up to ${host}`);
      const proc = overlay.agents.find((a) => a.host === peer)!.proc;
      const closed = proc
        .lines("stderr")
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; time?: number; reason?: string; peer?: { name?: string } };
          } catch {
            return {};
          }
        })
        .filter((l) => l.msg === "link down" && l.peer?.name === host && (l.time ?? 0) >= startedAt);
      // The first: a peer may try to link to it again (and fail) before it hears it left.
      assert.equal(closed[0]?.reason, "closed-by-peer", `${peer} saw ${host}'s link close: ${JSON.stringify(closed)}`);
    }
    assert.ok(Date.now() - startedAt < 7_000, `took ${Date.now() - startedAt} ms`);
    overlay.agents = overlay.agents.filter((a) => a !== agent);
    const again = await ipop(host, ["down"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no agent is running/);
  });
});
