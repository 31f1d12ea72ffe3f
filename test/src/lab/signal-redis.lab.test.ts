/**
 * Two signaling instances sharing one network through Redis (`ipop-signal --redis`), with real agents:
 * agents joined to different instances link to each other, and killing one instance (SIGKILL) loses no
 * link: its agents fail over to the other instance (`--signal URL1,URL2`) and every pair still pings.
 */
import assert from "node:assert/strict";
import { startTestRedis, type TestRedis } from "@ipop/signaling/testing";
import { afterAll, beforeAll, test } from "vitest";
import { type Agent, agentStatus, hostCredentials, startAgent, virtualIp, waitForPeersUp } from "./agents.js";
import { Lab } from "./netns.js";
import { requireBuilt, SIGNAL_CLI } from "./paths.js";
import { pingPairs } from "./ping.js";
import { LabPki } from "./pki.js";
import type { LabProcess } from "./process.js";

const HOSTS = 4;
/** Links come up within this; generous because the machine is shared and has two cores. */
const UP_TIMEOUT_MS = 90_000;
const PORTS = [7070, 7071] as const;

let lab: Lab;
let pki: LabPki;
let redis: TestRedis;
const instances: LabProcess[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  lab = await Lab.create({ hosts: HOSTS, prefix: "ipopredis" });
  pki = await LabPki.create("lab");
  redis = await startTestRedis();
  const sig = lab.signalHost!;
  for (const port of PORTS) {
    const proc = lab.spawn(
      sig,
      [process.execPath, requireBuilt(SIGNAL_CLI), "--listen", `0.0.0.0:${port}`, "--redis", redis.url],
      { label: `signaling :${port}` },
    );
    await proc.waitForLine(/listening on ws:\/\/\S+/, { timeoutMs: 20_000 });
    instances.push(proc);
  }
  const urls = PORTS.map((port) => `ws://${lab.underlayIp(sig)}:${port}`);
  for (const [i, host] of lab.hosts.entries()) {
    // h1, h3 start on the first instance, h2, h4 on the second; each has the other as its fallback.
    const order = i % 2 === 0 ? urls : [...urls].reverse();
    agents.push(
      startAgent(lab, host, {
        signalUrl: order.join(","),
        network: "lab",
        ip: virtualIp(lab, host),
        credentials: await hostCredentials(lab, pki, host),
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await agent.proc.stop("SIGTERM", 10_000);
  for (const proc of instances) await proc.stop("SIGTERM", 5_000);
  await redis?.stop();
  pki?.remove();
  await lab?.destroy();
});

const allPairs = () =>
  lab.hosts.flatMap((from) => lab.hosts.filter((to) => to !== from).map((to) => ({ from, to: virtualIp(lab, to) })));

const upIps = async (host: string) =>
  new Set((await agentStatus(lab, host)).peers.filter((p) => p.state === "up").map((p) => p.ip));

test("agents on different instances link; killing one instance loses no link and its agents fail over", async () => {
  const ips = lab.hosts.map((h) => virtualIp(lab, h));
  for (const agent of agents) {
    const others = ips.filter((ip) => ip !== agent.options.ip);
    await waitForPeersUp(lab, agent.host, others, UP_TIMEOUT_MS, { proc: agent.proc });
  }
  assert.deepEqual(await pingPairs(lab, allPairs()), []);
  const before = new Map<string, Set<string>>();
  for (const host of lab.hosts) before.set(host, await upIps(host));

  instances[0]!.kill("SIGKILL");
  await instances[0]!.stop("SIGKILL", 5_000);

  // h1 and h3 were on the killed instance: they reconnect to the other one.
  const failedOver = PORTS[1];
  for (const host of [lab.hosts[0]!, lab.hosts[2]!]) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { signaling } = await agentStatus(lab, host);
      if (signaling.state === "connected" && signaling.url.endsWith(`:${failedOver}`)) break;
      if (Date.now() > deadline) assert.fail(`${host} did not fail over: ${JSON.stringify(signaling)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  assert.deepEqual(await pingPairs(lab, allPairs()), [], "every pair still pings");
  for (const host of lab.hosts) {
    const now = await upIps(host);
    for (const ip of before.get(host)!) assert.ok(now.has(ip), `${host} lost its link to ${ip}`);
  }
}, 240_000);
