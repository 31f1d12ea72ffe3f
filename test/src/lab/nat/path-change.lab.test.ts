/**
 * Paths change, data survives, behind real NATs (STUN, no TURN): a TCP stream over the overlay runs
 * while (a) a relayed pair's NAT turns from symmetric to full-cone, so the pair can go direct, and
 * (b) both NAT boxes of a directly linked pair lose their conntrack tables, as rebooted routers do.
 * Every byte must arrive (sha256) and the pair must be linked again. Time bounds are deadlines only a
 * hang exceeds; the times measured are printed, not asserted.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, startOverlay, stopOverlay, virtualIp } from "../agents.js";
import type { AgentStatus } from "../status.js";
import { type TcpTransferResult, tcpTransfer } from "../transfer.js";
import { NatLab, type SiteSpec } from "./nat-lab.js";

/** Agents start on two shared cores; a symmetric pair's direct attempt times out before the relay. */
const CONVERGE_TIMEOUT_MS = 150_000;
/** After a change, the next direct attempt comes when the setup backoff ends (at most 30 s). */
const RELINK_TIMEOUT_MS = 90_000;
/** 6 MB at 250 KB/s: about 25 s, longer than the change takes to start. */
const STREAM_BYTES = 6 * 1024 * 1024;
const STREAM_RATE = 250_000;
const POLL_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const directUp = (s: AgentStatus, ip: string) => s.peers.some((p) => p.ip === ip && p.state === "up");
const relayedUp = (s: AgentStatus, ip: string) => (s.relayed ?? []).some((r) => r.ip === ip && r.state === "up");

/** A NAT lab with an overlay on every host, STUN from coturn and no TURN server. */
function natOverlay(network: string, sites: SiteSpec[]) {
  const ctx: { nat: NatLab; overlay: Overlay | undefined } = {
    nat: undefined as unknown as NatLab,
    overlay: undefined,
  };
  beforeAll(async () => {
    ctx.nat = await NatLab.create({ sites });
    const coturn = await ctx.nat.startTurn();
    ctx.overlay = await startOverlay(ctx.nat.lab, {
      network,
      agentArgs: ["--ice-server", coturn.stunUrls[0]!, "--dns", "off"],
    });
  }, 120_000);
  afterAll(async () => {
    if (ctx.overlay) await stopOverlay(ctx.overlay).catch(() => undefined);
    await ctx.nat?.destroy();
  }, 60_000);
  return ctx;
}

/** Polls `host`'s status until `check` holds; returns the ms it took, fails with the status after `timeoutMs`. */
async function waitForStatus(
  nat: NatLab,
  host: string,
  what: string,
  timeoutMs: number,
  check: (s: AgentStatus) => boolean,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const s = await agentStatus(nat.lab, host).catch(() => undefined);
    if (s !== undefined && check(s)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      assert.fail(
        `${host}: ${what} not within ${timeoutMs} ms: ${JSON.stringify({ peers: s?.peers, relayed: s?.relayed })}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Starts a rate-limited TCP stream a -> b; resolve it after the path change. */
function startStream(nat: NatLab, a: string, b: string): Promise<TcpTransferResult> {
  return tcpTransfer(nat.lab, a, b, virtualIp(nat.lab, b), STREAM_BYTES, {
    rateBytesPerS: STREAM_RATE,
    timeoutMs: 240_000,
  });
}

function assertEveryByte(result: TcpTransferResult): void {
  assert.equal(result.received.bytes, STREAM_BYTES);
  assert.equal(result.received.sha256, result.sent.sha256, "every byte arrived, in order");
}

describe("a relayed path goes direct when a symmetric NAT becomes full-cone, under a TCP stream", () => {
  // A and B behind symmetric NATs cannot punch to each other; C is public. Three nodes: A and B are
  // ring neighbours, so A keeps a relayed path to B.
  const ctx = natOverlay("pathnat", [{ kind: "symmetric" }, { kind: "symmetric" }, { kind: "none" }]);

  test("A reaches B through a relay, then directly once its NAT is full-cone; the stream delivers every byte", {
    timeout: CONVERGE_TIMEOUT_MS + RELINK_TIMEOUT_MS + 240_000,
  }, async () => {
    const { nat } = ctx;
    const [a, b] = [nat.sites[0]!.hosts[0]!, nat.sites[1]!.hosts[0]!];
    const ipB = virtualIp(nat.lab, b);
    const relayedAfter = await waitForStatus(nat, a, `relayed path to ${b}`, CONVERGE_TIMEOUT_MS, (s) =>
      relayedUp(s, ipB),
    );
    console.log(`path change: ${a} -> ${b} relayed ${seconds(relayedAfter)} s after the first poll`);

    const transfer = startStream(nat, a, b);
    await sleep(3_000);
    const changedAt = Date.now();
    await nat.setKind(nat.sites[0]!.index, "full-cone");
    const directAfter = await waitForStatus(nat, a, `direct link to ${b}`, RELINK_TIMEOUT_MS, (s) => directUp(s, ipB));
    console.log(`path change: ${a} -> ${b} direct ${seconds(directAfter)} s after its NAT became full-cone`);
    const result = await transfer;
    console.log(`path change: stream of ${STREAM_BYTES} B done ${seconds(Date.now() - changedAt)} s after the change`);
    assertEveryByte(result);
  });
});

describe("a direct link survives both NAT boxes losing their conntrack tables, under a TCP stream", () => {
  const ctx = natOverlay("pathflush", [{ kind: "port-restricted" }, { kind: "port-restricted" }]);

  test("the stream delivers every byte and the agents are linked again", {
    timeout: CONVERGE_TIMEOUT_MS + RELINK_TIMEOUT_MS + 240_000,
  }, async () => {
    const { nat } = ctx;
    const [a, b] = [nat.sites[0]!.hosts[0]!, nat.sites[1]!.hosts[0]!];
    const ipB = virtualIp(nat.lab, b);
    const directAfter = await waitForStatus(nat, a, `direct link to ${b}`, CONVERGE_TIMEOUT_MS, (s) =>
      directUp(s, ipB),
    );
    console.log(`conntrack flush: ${a} -> ${b} direct ${seconds(directAfter)} s after the first poll`);

    const transfer = startStream(nat, a, b);
    await sleep(5_000);
    const flushedAt = Date.now();
    // Same kind again: the rules are reloaded unchanged and the conntrack table flushed.
    await Promise.all(nat.sites.map((site) => nat.setKind(site.index, "port-restricted")));
    const result = await transfer;
    console.log(
      `conntrack flush: stream of ${STREAM_BYTES} B done ${seconds(Date.now() - flushedAt)} s after the flush`,
    );
    assertEveryByte(result);
    const linkedAfter = await waitForStatus(
      nat,
      a,
      `link to ${b}`,
      RELINK_TIMEOUT_MS,
      (s) => directUp(s, ipB) || relayedUp(s, ipB),
    );
    console.log(`conntrack flush: ${a} -> ${b} linked ${seconds(linkedAfter)} s after the stream ended`);
  });
});
