/**
 * End-to-end lab test: a signaling server and three real agents, each in its own network namespace,
 * joined only by the underlay bridge. Checks ping, TCP and UDP over the virtual network, recovery of a
 * killed agent, clean shutdown, and ping with each WebRTC backend.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  type Agent,
  agentStatus,
  type Overlay,
  startAgent,
  startSignaling,
  stopOverlay,
  virtualIp,
  type WebRtcBackend,
  waitForOverlayUp,
} from "./agents.js";
import { startLabOverlay, stopLabOverlay } from "./lab-overlay.js";
import { interfaceAddresses, tunDevices } from "./links.js";
import type { Lab } from "./netns.js";
import { type PingResult, ping, pingUntilClean } from "./ping.js";
import { addressHost } from "./status.js";
import { tcpTransfer, udpTransfer } from "./transfer.js";

/** Links come up within this; generous because the machine is shared and has two cores. */
const UP_TIMEOUT_MS = 60_000;
const PING = { count: 3, intervalS: 0.2, waitS: 2 };

/** Pings every ordered pair of agents by virtual IP (retrying while links settle); returns failures. */
async function pingAllPairs(lab: Lab, hosts: readonly string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const from of hosts) {
    for (const to of hosts) {
      if (from === to) continue;
      const r = await pingUntilClean(lab, from, virtualIp(lab, to), 5, PING);
      if (r.transmitted === 0 || r.lost > 0) failures.push(`${from} -> ${to}: ${r.summary}`);
    }
  }
  return failures;
}

/** Polls `ipop status` on `host` until `check` holds. */
async function waitForStatus(
  lab: Lab,
  host: string,
  check: (status: Awaited<ReturnType<typeof agentStatus>>) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await agentStatus(lab, host);
    if (check(status)) return;
    if (Date.now() > deadline) assert.fail(`${host}: status never matched: ${JSON.stringify(status.signaling)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Shuts the overlay down with SIGTERM and checks every agent exits 0 and removes its TUN device. */
async function shutdownCleanly(lab: Lab, overlay: Overlay): Promise<void> {
  const exits = await stopOverlay(overlay);
  for (const [host, exit] of exits) {
    const agent = overlay.agents.find((a) => a.host === host)!;
    assert.deepEqual(exit, { code: 0, signal: null }, `${host} agent exit on SIGTERM; output:\n${agent.proc.tail()}`);
    assert.deepEqual(await tunDevices(lab, host), [], `TUN devices left in ${host}`);
  }
}

describe("e2e: three agents over node-datachannel (default backend)", () => {
  let lab: Lab;
  let overlay: Overlay;
  const agent = (host: string): Agent => overlay.agents.find((a) => a.host === host)!;

  beforeAll(async () => {
    ({ lab, overlay } = await startLabOverlay(3, { network: "e2e" }));
  });
  afterAll(() => stopLabOverlay(lab, overlay));

  test("every agent reports signaling connected and both peers up over the underlay", { timeout: 90_000 }, async () => {
    const statuses = await waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS);
    const underlay = new Map<string, string[]>();
    for (const host of lab.hosts) underlay.set(virtualIp(lab, host), await interfaceAddresses(lab, host));
    for (const [i, status] of statuses.entries()) {
      const host = lab.hosts[i]!;
      assert.equal(status.node.ip, virtualIp(lab, host));
      assert.equal(status.node.name, host);
      assert.equal(status.node.network, "e2e");
      for (const peer of status.peers.filter((p) => p.state === "up")) {
        // No STUN or TURN in this lab: the selected pair must be a direct one on the underlay,
        // never through the overlay's own TUN device.
        assert.ok(peer.candidateType === "host" || peer.candidateType === "prflx", `${host}: ${JSON.stringify(peer)}`);
        assert.ok(peer.remoteAddress, `${host}: peer ${peer.name} up without remoteAddress`);
        const remote = addressHost(peer.remoteAddress);
        assert.ok(
          underlay.get(peer.ip)?.includes(remote),
          `${host}: peer ${peer.name} via ${remote}, not its underlay`,
        );
      }
    }
  });

  test("(a) every ordered pair pings by virtual IP", { timeout: 120_000 }, async () => {
    assert.deepEqual(await pingAllPairs(lab, lab.hosts), []);
  });

  test("(b) 20 MB over TCP arrive with the same sha256", { timeout: 180_000 }, async () => {
    const bytes = 20 * 1024 * 1024;
    const r = await tcpTransfer(lab, "h1", "h2", virtualIp(lab, "h2"), bytes, { timeoutMs: 150_000 });
    assert.equal(r.sent.bytes, bytes);
    assert.equal(r.received.bytes, bytes);
    assert.equal(r.received.sha256, r.sent.sha256);
  });

  test("(c) UDP datagrams arrive intact", { timeout: 90_000 }, async () => {
    const r = await udpTransfer(lab, "h2", "h3", virtualIp(lab, "h3"), 200, { size: 1000, intervalMs: 10 });
    assert.equal(r.sent, 200);
    assert.equal(r.corrupt, 0, JSON.stringify(r));
    // IP packets may be lost on the way (a full send buffer drops them, as a router would); at 100
    // datagrams/s nearly all arrive.
    assert.ok(r.unique >= 180, `only ${r.unique} of 200 datagrams arrived: ${JSON.stringify(r)}`);
  });

  test("(d) a SIGKILLed agent comes back while the other two keep talking", { timeout: 120_000 }, async () => {
    // Back-to-back ping runs h1 -> h2 for the whole kill/restart; each run waits for its last reply,
    // so nothing in flight is miscounted as lost.
    let stop = false;
    const runs: PingResult[] = [];
    const background = (async () => {
      while (!stop) runs.push(await ping(lab, "h1", virtualIp(lab, "h2"), { count: 10, intervalS: 0.2, waitS: 2 }));
    })();
    try {
      const old = agent("h3");
      old.proc.kill("SIGKILL");
      await old.proc.exited;
      const restarted = startAgent(lab, "h3", old.options);
      overlay.agents[overlay.agents.indexOf(old)] = restarted;

      const deadline = Date.now() + 30_000;
      let failures: string[] = [];
      do {
        failures = [];
        for (const [from, to] of [
          ["h1", "h3"],
          ["h3", "h1"],
          ["h2", "h3"],
          ["h3", "h2"],
        ] as const) {
          const r = await ping(lab, from, virtualIp(lab, to), { count: 1, waitS: 1 });
          if (r.received !== 1) failures.push(`${from} -> ${to}: ${r.summary}`);
        }
        assert.ok(restarted.proc.running, `restarted h3 agent exited:\n${restarted.proc.tail()}`);
      } while (failures.length > 0 && Date.now() < deadline);
      assert.deepEqual(failures, [], "h3 reachable again within 30 s of its restart");
      // Keep h1 -> h2 under watch a little longer: re-linking h3 must not disturb the others either.
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      stop = true;
      await background;
    }
    const transmitted = runs.reduce((n, r) => n + r.transmitted, 0);
    const lost = runs.reduce((n, r) => n + r.lost, 0);
    assert.ok(transmitted >= 20, `h1 -> h2 ping ran throughout (${transmitted} sent)`);
    assert.ok(lost <= 1, `h1 -> h2 lost ${lost} of ${transmitted}: ${runs.map((r) => r.summary).join(" | ")}`);
  });

  test("(e) the signaling server restarts: links stay up, agents rejoin by themselves", {
    timeout: 120_000,
  }, async () => {
    let stop = false;
    const runs: PingResult[] = [];
    const background = (async () => {
      while (!stop) runs.push(await ping(lab, "h2", virtualIp(lab, "h3"), { count: 10, intervalS: 0.2, waitS: 2 }));
    })();
    try {
      overlay.signaling.proc.kill("SIGKILL");
      await overlay.signaling.proc.exited;
      await waitForStatus(lab, "h1", (s) => s.signaling.state !== "connected", 15_000);
      // With the server gone, every pair still talks over the links it has.
      assert.deepEqual(await pingAllPairs(lab, lab.hosts), []);
      overlay.signaling = await startSignaling(lab);
      for (const host of lab.hosts) {
        await waitForStatus(lab, host, (s) => s.signaling.state === "connected" && s.signaling.members === 2, 30_000);
      }
    } finally {
      stop = true;
      await background;
    }
    const transmitted = runs.reduce((n, r) => n + r.transmitted, 0);
    const lost = runs.reduce((n, r) => n + r.lost, 0);
    assert.ok(lost <= 1, `h2 -> h3 lost ${lost} of ${transmitted} while signaling restarted`);
    // The links that carried traffic through the outage are the ones from before it.
    for (const host of lab.hosts) {
      const status = await agentStatus(lab, host);
      assert.equal(status.peers.filter((p) => p.state === "up").length, 2, `${host}: ${JSON.stringify(status.peers)}`);
    }
  });

  test("(f) SIGTERM stops every agent with exit 0 and no TUN left; destroy leaves nothing", async () => {
    await shutdownCleanly(lab, overlay);
    await lab.destroy();
    assert.deepEqual(lab.leftovers(), { namespaces: [], interfaces: [] });
  });
});

for (const webrtc of ["werift", "wrtc"] as const satisfies readonly WebRtcBackend[]) {
  describe(`e2e: three agents over ${webrtc}`, () => {
    let lab: Lab;
    let overlay: Overlay;
    beforeAll(async () => {
      ({ lab, overlay } = await startLabOverlay(3, { network: `e2e-${webrtc}`, webrtc }));
    });
    afterAll(() => stopLabOverlay(lab, overlay));

    test("every ordered pair pings by virtual IP", { timeout: 150_000 }, async () => {
      await waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS);
      assert.deepEqual(await pingAllPairs(lab, lab.hosts), []);
    });

    test("agents shut down cleanly", async () => {
      await shutdownCleanly(lab, overlay);
      await lab.destroy();
      assert.deepEqual(lab.leftovers(), { namespaces: [], interfaces: [] });
    });
  });
}
