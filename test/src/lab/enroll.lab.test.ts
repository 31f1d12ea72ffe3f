/**
 * Join tokens, address pools and revocation, in the lab (root): a signaling server holding the CA
 * (`ipop-signal --ca --ca-key --crl`), two agents with certificate files and two that start with
 * only a join token. Tokened nodes get distinct addresses from the pool at once and renew their
 * short leases; `ipop cert revoke --signal` cuts a member off everywhere within seconds and it
 * cannot come back; garbage tokens are refused with a message.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  type Agent,
  agentStatus,
  hostCredentials,
  type SignalingServer,
  startAgent,
  startSignaling,
  virtualIp,
  waitForPeersUp,
} from "./agents.js";
import { launcherCommand } from "./launcher.js";
import { Lab } from "./netns.js";
import { AGENT_CLI } from "./paths.js";
import { ping } from "./ping.js";
import { LabPki } from "./pki.js";
import type { LabProcess } from "./process.js";

const NETWORK = "enroll";
const POOL = "10.88.200.0/24";
const UP_TIMEOUT_MS = 60_000;
/** The shortest lease a token allows, so the test sees a renewal (due two thirds into it, at 40 s). */
const LEASE = "60s";

describe("join tokens, leases and revocation", () => {
  let lab: Lab;
  let pki: LabPki;
  let signaling: SignalingServer;
  let tokenFile: string;
  const members = new Map<string, Agent>();
  const tokened = new Map<string, LabProcess>();
  const leased = new Map<string, string>();

  const startTokened = (host: string, file: string, dev = "ipop0"): LabProcess =>
    lab.spawn(
      host,
      [
        ...launcherCommand(AGENT_CLI),
        AGENT_CLI,
        "up",
        "--signal",
        signaling.url,
        "--token-file",
        file,
        "--name",
        host,
        "--dev",
        dev,
      ],
      { label: `${host} tokened agent` },
    );
  const startMember = async (host: string): Promise<Agent> => {
    const agent = startAgent(lab, host, {
      signalUrl: signaling.url,
      network: NETWORK,
      ip: virtualIp(lab, host),
      credentials: await hostCredentials(lab, pki, host),
    });
    members.set(host, agent);
    return agent;
  };
  const peersUp = async (host: string): Promise<string[]> =>
    (await agentStatus(lab, host)).peers.filter((p) => p.state === "up").map((p) => p.name);

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 4 });
    pki = await LabPki.create(NETWORK);
    const crl = join(pki.dir, "ca.crl");
    signaling = await startSignaling(lab, ["--ca", pki.caPath, "--ca-key", pki.caKeyPath, "--crl", crl]);
    const token = await pki.ipop(["token", "create", "--ttl", "10m", "--pool", POOL, "--lease", LEASE]);
    tokenFile = join(pki.dir, "token");
    writeFileSync(tokenFile, token, { mode: 0o600 });
  });
  afterAll(async () => {
    await Promise.all([...members.values()].map((a) => a.proc.stop("SIGTERM", 10_000)));
    await Promise.all([...tokened.values()].map((p) => p.stop("SIGTERM", 10_000)));
    await signaling?.proc.stop("SIGTERM", 5_000);
    pki?.remove();
    lab?.destroy();
  });

  test("nodes with only a token enroll at once, get distinct pool addresses and join", {
    timeout: 120_000,
  }, async () => {
    await startMember("h1");
    await startMember("h2");
    for (const host of ["h3", "h4"]) tokened.set(host, startTokened(host, tokenFile));
    for (const host of ["h3", "h4"]) {
      const status = await waitForPeersUp(lab, host, [], UP_TIMEOUT_MS, { proc: tokened.get(host)! });
      assert.match(status.node.ip, /^10\.88\.200\.\d+$/, `${host} got ${status.node.ip}`);
      assert.equal(status.node.prefix, 16);
      assert.equal(status.node.name, host);
      leased.set(host, status.node.ip);
    }
    assert.notEqual(leased.get("h3"), leased.get("h4"));
    const everyone = ["h1", "h2", "h3", "h4"];
    const ipOf = (h: string) => leased.get(h) ?? virtualIp(lab, h);
    for (const host of everyone) {
      const others = everyone.filter((h) => h !== host).map(ipOf);
      await waitForPeersUp(lab, host, others, UP_TIMEOUT_MS);
    }
    for (const [from, to] of [
      ["h3", "h4"],
      ["h3", "h1"],
      ["h2", "h4"],
    ] as const) {
      const r = await ping(lab, from, ipOf(to), { count: 3, intervalS: 0.2, waitS: 2 });
      assert.equal(r.received, 3, `${from} -> ${to}: ${r.summary}`);
    }
  });

  test("a tokened node renews its lease before it ends and keeps its address", { timeout: 90_000 }, async () => {
    const before = await agentStatus(lab, "h3");
    const deadline = Date.now() + 60_000;
    let after = before;
    while (after.identity.notAfter === before.identity.notAfter && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      after = await agentStatus(lab, "h3");
    }
    assert.ok(after.identity.notAfter > before.identity.notAfter, `still ${after.identity.notAfter}`);
    assert.equal(after.node.ip, before.node.ip);
    assert.equal(after.identity.keyId, before.identity.keyId);
  });

  test("garbage and foreign tokens are refused with a message, before any device exists", {
    timeout: 60_000,
  }, async () => {
    const garbage = join(pki.dir, "garbage-token");
    writeFileSync(garbage, "ipop-token-v1.not.a-token\n", { mode: 0o600 });
    const other = await LabPki.create(NETWORK, "ipop-lab-other-pki-");
    try {
      const foreign = join(pki.dir, "foreign-token");
      writeFileSync(foreign, await other.ipop(["token", "create", "--pool", POOL]), { mode: 0o600 });
      for (const [file, why] of [
        [garbage, /token/i],
        [foreign, /token|CA/],
      ] as const) {
        const proc = startTokened("h4", file, "ipop9");
        const exit = await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 20_000))]);
        if (exit === undefined) await proc.stop("SIGKILL", 5_000);
        assert.equal(proc.exitInfo?.code, 1, proc.tail());
        assert.match(proc.tail(), why);
      }
    } finally {
      other.remove();
    }
  });

  test("a revoked member is cut off everywhere within seconds and cannot rejoin", { timeout: 90_000 }, async () => {
    const h2 = members.get("h2")!;
    const started = Date.now();
    await lab.execOk("h1", [
      process.execPath,
      AGENT_CLI,
      "cert",
      "revoke",
      "--name",
      "h2",
      "--signal",
      signaling.url,
      "--ca-crt",
      pki.caPath,
      "--ca-key",
      pki.caKeyPath,
      "--crl",
      join(pki.dir, "ca.crl"),
    ]);
    for (const host of ["h1", "h3", "h4"]) {
      while ((await peersUp(host)).includes("h2")) {
        assert.ok(Date.now() - started < 15_000, `${host} still linked to h2`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    console.log(`revoke command to no link to h2 anywhere: ${Date.now() - started} ms`);
    const exit = await Promise.race([h2.proc.exited, new Promise((r) => setTimeout(r, 15_000))]);
    assert.ok(exit, "the revoked agent stops");
    assert.equal(h2.proc.exitInfo?.code, 1, h2.proc.tail());
    assert.match(h2.proc.tail(), /revoked/);
    members.delete("h2");
    const r = await ping(lab, "h1", virtualIp(lab, "h2"), { count: 2, intervalS: 0.2, waitS: 1 });
    assert.equal(r.received, 0, r.summary);
    // Every node holds the list now; a restart with the same certificate is turned away.
    for (const host of ["h1", "h3", "h4"]) assert.equal((await agentStatus(lab, host)).identity.revocationSerial, 1);
    const again = await startMember("h2");
    await Promise.race([again.proc.exited, new Promise((r) => setTimeout(r, 20_000))]);
    assert.equal(again.proc.exitInfo?.code, 1, again.proc.tail());
    assert.match(again.proc.tail(), /revoked/);
    members.delete("h2");
  });
});
