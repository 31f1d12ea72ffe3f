import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ipv4HeaderChecksum } from "@ipop/shared";
import { makeTestCa, makeTestNode, sampleValue } from "@ipop/shared/testing";
import { type SignalServer, startSignalServer } from "@ipop/signaling";
import { pino } from "pino";
import { afterAll, beforeAll, test } from "vitest";
import { Agent } from "../agent.js";
import { createFakeLinkFactory } from "../link/fake-link.js";
import { FakeTun } from "../tun/fake-tun.js";
import { AgentMetrics } from "./agent-metrics.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";

const nowSeconds = Math.floor(Date.now() / 1000);
const testCa = makeTestCa("metrics", nowSeconds);
const links = createFakeLinkFactory();

interface Node {
  readonly agent: Agent;
  readonly tun: FakeTun;
  readonly metrics: AgentMetrics;
  readonly endpoint: MetricsServer;
}

let server: SignalServer;
const nodes: Node[] = [];
beforeAll(async () => {
  server = await startSignalServer({ port: 0 });
});
afterAll(async () => {
  for (const node of nodes) {
    await node.agent.stop();
    await node.endpoint.close();
  }
  await server.close();
});

async function startNode(n: number): Promise<Node> {
  const tun = new FakeTun();
  let agent: Agent | undefined;
  const metrics = new AgentMetrics(() => (agent as Agent).status());
  agent = new Agent({
    signalUrl: server.url,
    credentials: makeTestNode(testCa, `m${n}`, `10.88.1.${n}/16`, nowSeconds, n),
    tun,
    onFatal: (message) => assert.fail(message),
    onEvent: (event) => metrics.observe(event),
    maxLinks: 40,
    links,
    iceServers: [],
    logger: pino({ level: "silent" }),
  });
  const endpoint = await startMetricsServer("127.0.0.1", 0, () => metrics.render());
  agent.start();
  const node = { agent, tun, metrics, endpoint };
  nodes.push(node);
  return node;
}

/** Scrapes the node's endpoint over loopback, as Prometheus would. */
async function scrape(node: Node): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${node.endpoint.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A UDP-like IPv4 packet of 28 bytes with a valid header checksum. */
function packet(src: readonly number[], dst: readonly number[]): Uint8Array {
  const p = new Uint8Array(28);
  p.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, ...src, ...dst]);
  const sum = ipv4HeaderChecksum(p, 20);
  p[10] = sum >> 8;
  p[11] = sum & 0xff;
  return p;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("the metrics endpoint follows traffic: links, bytes and packets per peer, drops, setup times", async () => {
  const a = await startNode(1);
  const b = await startNode(2);
  const peerB = { peer: "m2", ip: "10.88.1.2" };
  const peerA = { peer: "m1", ip: "10.88.1.1" };
  await until("a and b linked", async () => sampleValue(await scrape(a), "ipop_links", { state: "up" }) >= 1);
  await until("b sees a", async () => sampleValue(await scrape(b), "ipop_links", { state: "up" }) >= 1);

  let text = await scrape(a);
  assert.equal(sampleValue(text, "ipop_link_setup_seconds_count"), 1);
  assert.ok(sampleValue(text, "ipop_link_setup_seconds_sum") > 0);
  assert.ok(sampleValue(text, "ipop_known_members") >= 1);
  assert.ok(sampleValue(text, "ipop_ring_size_estimate") >= 1);
  // Every kind and state has a series, zero or not.
  assert.match(text, /^ipop_links\{kind="shortcut",state="connecting"\} 0$/m);
  const before = {
    txBytes: sampleValue(text, "ipop_peer_transmit_bytes_total", peerB),
    txPackets: sampleValue(text, "ipop_peer_transmit_packets_total", peerB),
  };

  const to = [10, 88, 1, 2];
  const from = [10, 88, 1, 1];
  a.tun.inject(packet(from, to), packet(from, to), packet(from, to));
  await until("b received them", async () => b.tun.written.length >= 3);
  text = await scrape(a);
  assert.equal(sampleValue(text, "ipop_peer_transmit_packets_total", peerB), before.txPackets + 3);
  assert.equal(sampleValue(text, "ipop_peer_transmit_bytes_total", peerB), before.txBytes + 3 * 28);
  const atB = await scrape(b);
  assert.ok(sampleValue(atB, "ipop_peer_receive_packets_total", peerA) >= 3);
  assert.ok(sampleValue(atB, "ipop_peer_receive_bytes_total", peerA) >= 3 * 28);

  // Drops: an off-network destination at a (node-wide), a spoofed source that b drops on its link to a.
  a.tun.inject(packet(from, [192, 168, 1, 1]));
  a.tun.inject(packet([10, 88, 1, 9], to));
  await until(
    "b drops the spoofed packet",
    async () => sampleValue(await scrape(b), "ipop_peer_drops_total", { ...peerA, reason: "spoofed-source" }) === 1,
  );
  text = await scrape(a);
  assert.equal(sampleValue(text, "ipop_drops_total", { reason: "off-network" }), 1);
  assert.equal(sampleValue(await scrape(b), "ipop_drops_total", { reason: "spoofed-source" }), 1);

  // The keepalive measures RTT every 2 s.
  await until("an RTT", async () => (await scrape(a)).includes('ipop_peer_rtt_seconds{peer="m2"'));
});

test("the endpoint serves only GET /metrics", async () => {
  const metrics = new AgentMetrics(() => Promise.reject(new Error("no status")));
  const endpoint = await startMetricsServer("127.0.0.1", 0, () => metrics.render());
  try {
    const base = `http://127.0.0.1:${endpoint.port}`;
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
    // A status that cannot be had is an error, not a half-filled page.
    assert.equal((await fetch(`${base}/metrics`)).status, 500);
  } finally {
    await endpoint.close();
  }
});
