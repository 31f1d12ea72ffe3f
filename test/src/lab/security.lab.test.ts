/**
 * Security lab test (root): real agents in namespaces against the attacks of docs/threat-model.md.
 * - A rogue signaling server that rewrites the DTLS fingerprints in relayed offers and answers (a
 *   man in the middle) splices nothing: no link comes up, the agents count bad signatures.
 * - An agent whose certificate comes from another CA, for the same network name and a free
 *   address, reaches no member.
 * - A member sending packets with a source address that is not its own gets them dropped.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  type Agent,
  agentStatus,
  hostCredentials,
  SIGNAL_PORT,
  type SignalingServer,
  startAgent,
  startSignaling,
  virtualIp,
  waitForPeersUp,
} from "./agents.js";
import { Lab } from "./netns.js";
import { tool } from "./paths.js";
import { ping } from "./ping.js";
import { LabPki } from "./pki.js";
import type { LabProcess } from "./process.js";

const NETWORK = "sec";
const UP_TIMEOUT_MS = 60_000;
/** Long enough for several link attempts: setups that work finish in well under a second. */
const ATTEMPT_WINDOW_MS = 12_000;
const ROGUE_PORT = SIGNAL_PORT + 1;

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe("security: signed link setup, CA membership and source addresses", () => {
  let lab: Lab;
  let pki: LabPki;
  let otherPki: LabPki;
  let signaling: SignalingServer;
  let rogue: LabProcess;
  let rogueUrl: string;
  const agents: Agent[] = [];

  const start = async (host: string, url: string, credentials = hostCredentials(lab, pki, host)): Promise<Agent> => {
    const agent = startAgent(lab, host, {
      signalUrl: url,
      network: NETWORK,
      ip: virtualIp(lab, host),
      credentials: await credentials,
    });
    agents.push(agent);
    return agent;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(agents.splice(0).map((a) => a.proc.stop("SIGTERM", 10_000)));
  };

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 3 });
    pki = await LabPki.create(NETWORK);
    otherPki = await LabPki.create(NETWORK, "ipop-lab-other-pki-");
    signaling = await startSignaling(lab);
    const host = lab.signalHost!;
    rogue = lab.spawn(
      host,
      [
        process.execPath,
        tool("rogue-signal"),
        "--listen",
        `0.0.0.0:${ROGUE_PORT}`,
        "--upstream",
        `ws://127.0.0.1:${SIGNAL_PORT}`,
      ],
      { label: "rogue signaling" },
    );
    await rogue.waitForLine(/listening on/, { timeoutMs: 20_000 });
    rogueUrl = `ws://${lab.underlayIp(host)}:${ROGUE_PORT}`;
  });
  afterAll(async () => {
    await stopAll();
    await rogue?.stop("SIGTERM", 5_000);
    await signaling?.proc.stop("SIGTERM", 5_000);
    pki?.remove();
    otherPki?.remove();
    lab?.destroy();
  });

  test("a signaling server rewriting DTLS fingerprints cannot splice two agents", { timeout: 90_000 }, async () => {
    await start("h1", rogueUrl);
    await start("h2", rogueUrl);
    await rogue.waitForLine(/rewrote \d+/, { timeoutMs: 20_000 });
    await sleep(ATTEMPT_WINDOW_MS);
    for (const host of ["h1", "h2"]) {
      const status = await agentStatus(lab, host);
      assert.equal(status.signaling.state, "connected", `${host} joined through the rogue server`);
      assert.deepEqual(
        status.peers.filter((p) => p.state === "up"),
        [],
        `${host} must have no link: ${JSON.stringify(status.peers)}`,
      );
      assert.ok(
        (status.drops["signal-envelope-bad-signature"] ?? 0) > 0,
        `${host} drops: ${JSON.stringify(status.drops)}`,
      );
    }
    const r = await ping(lab, "h1", virtualIp(lab, "h2"), { count: 3, intervalS: 0.2, waitS: 1 });
    assert.equal(r.received, 0, r.summary);
    await stopAll();
  });

  test("an agent certified by another CA reaches no member", { timeout: 120_000 }, async () => {
    const [h1, h2] = [await start("h1", signaling.url), await start("h2", signaling.url)];
    await waitForPeersUp(lab, "h1", [virtualIp(lab, "h2")], UP_TIMEOUT_MS, { proc: h1.proc });
    await waitForPeersUp(lab, "h2", [virtualIp(lab, "h1")], UP_TIMEOUT_MS, { proc: h2.proc });
    const outsider = await start("h3", signaling.url, hostCredentials(lab, otherPki, "h3"));
    await sleep(ATTEMPT_WINDOW_MS);
    assert.equal(outsider.proc.exitInfo, undefined, "the outsider keeps running (and trying)");
    const status = await agentStatus(lab, "h3");
    assert.deepEqual(
      status.peers.filter((p) => p.state === "up"),
      [],
      JSON.stringify(status.peers),
    );
    for (const member of ["h1", "h2"]) {
      const r = await ping(lab, "h3", virtualIp(lab, member), { count: 3, intervalS: 0.2, waitS: 1 });
      assert.equal(r.received, 0, `h3 -> ${member}: ${r.summary}`);
    }
    const refused = await Promise.all(
      ["h1", "h2", "h3"].map(async (h) => (await agentStatus(lab, h)).drops["signal-cert-wrong-ca"] ?? 0),
    );
    assert.ok(
      refused.some((n) => n > 0),
      `wrong-ca refusals by h1, h2, h3: ${refused}`,
    );
    // The members still talk to each other.
    const r = await ping(lab, "h1", virtualIp(lab, "h2"), { count: 3, intervalS: 0.2, waitS: 2 });
    assert.equal(r.received, 3, r.summary);
  });

  test("packets from a member with a source address not its own are dropped", { timeout: 60_000 }, async () => {
    // h1 gives its TUN a second address it has no certificate for and sends from it.
    const spoofed = "10.88.0.99";
    await lab.execOk("h1", ["ip", "addr", "add", `${spoofed}/32`, "dev", "ipop0"]);
    const r = await ping(lab, "h1", virtualIp(lab, "h2"), { count: 3, intervalS: 0.2, waitS: 1, source: spoofed });
    assert.equal(r.received, 0, r.summary);
    const status = await agentStatus(lab, "h2");
    assert.ok((status.drops["spoofed-source"] ?? 0) >= 3, JSON.stringify(status.drops));
    // Its own address still works.
    const ok = await ping(lab, "h1", virtualIp(lab, "h2"), { count: 3, intervalS: 0.2, waitS: 2 });
    assert.equal(ok.received, 3, ok.summary);
  });
});
