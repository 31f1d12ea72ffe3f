import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ipv4HeaderChecksum } from "@ipop/shared";
import { makeTestCa, makeTestNode } from "@ipop/shared/testing";
import { type SignalServer, startSignalServer } from "@ipop/signaling";
import { pino } from "pino";
import { afterAll, test } from "vitest";
import { Agent } from "./agent.js";
import { AgentError } from "./errors.js";
import { createFakeLinkFactory } from "./link/fake-link.js";
import { FakeTun } from "./tun/fake-tun.js";

const links = createFakeLinkFactory();
const agents: Agent[] = [];
const fatals: string[] = [];
afterAll(async () => {
  for (const agent of agents) await agent.stop();
});

const nowSeconds = Math.floor(Date.now() / 1000);
const testCa = makeTestCa("unit", nowSeconds);
let keys = 0;

function startAgent(n: number, url: string, name = `h${n}`): { agent: Agent; tun: FakeTun } {
  const credentials = makeTestNode(testCa, name, `10.88.0.${n}/16`, nowSeconds, ++keys);
  const tun = new FakeTun();
  const agent = new Agent({
    signalUrl: url,
    credentials,
    tun,
    onFatal: (message) => fatals.push(message),
    maxLinks: 40,
    links,
    iceServers: [],
    logger: pino({ level: "silent" }),
  });
  agent.start();
  agents.push(agent);
  return { agent, tun };
}

/** A UDP-like IPv4 packet with a valid header checksum. */
function packet(src: number, dst: number, marker: number): Uint8Array {
  const p = new Uint8Array(28);
  p.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 88, 0, src, 10, 88, 0, dst]);
  const sum = ipv4HeaderChecksum(p, 20);
  p[10] = sum >> 8;
  p[11] = sum & 0xff;
  p[27] = marker;
  return p;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function peersUp(agent: Agent): Promise<number> {
  return (await agent.status()).peers.filter((p) => p.state === "up").length;
}

async function delivers(from: FakeTun, to: FakeTun, src: number, dst: number, marker: number): Promise<void> {
  from.inject(packet(src, dst, marker));
  await until(`packet ${marker} from .${src} to .${dst}`, () =>
    to.written.some((p) => p[27] === marker && p[15] === src),
  );
}

test("agents link through the signaling server, carry packets, and survive its restart", async () => {
  let server: SignalServer = await startSignalServer({ port: 0 });
  const { port } = server;
  const a = startAgent(1, server.url);
  const b = startAgent(2, server.url);
  await until("a and b linked", async () => (await peersUp(a.agent)) === 1 && (await peersUp(b.agent)) === 1);
  await delivers(a.tun, b.tun, 1, 2, 1);
  await delivers(b.tun, a.tun, 2, 1, 2);

  const status = await a.agent.status();
  assert.equal(status.signaling.state, "connected");
  assert.equal(status.peers[0]!.ip, "10.88.0.2");
  assert.equal(status.peers[0]!.tx.packets, 1);
  assert.equal(status.peers[0]!.rx.packets, 1);

  // A TUN batch of packets for one peer crosses the link together (a batch frame), every one delivered.
  const written = b.tun.written.length;
  a.tun.inject(packet(1, 2, 10), packet(1, 2, 11), packet(1, 2, 12));
  await until("the batch", () => b.tun.written.length === written + 3);
  assert.deepEqual(
    b.tun.written.slice(written).map((p) => p[27]),
    [10, 11, 12],
  );

  // The server goes away: links stay up and keep carrying packets.
  await server.close();
  await until("a notices", async () => (await a.agent.status()).signaling.state !== "connected");
  await delivers(a.tun, b.tun, 1, 2, 3);

  // It comes back on the same port: agents rejoin on their own, and a newcomer links to both.
  server = await startSignalServer({ port });
  await until("a rejoined", async () => (await a.agent.status()).signaling.state === "connected");
  const c = startAgent(3, server.url);
  await until("c linked to both", async () => (await peersUp(c.agent)) === 2);
  await delivers(c.tun, a.tun, 3, 1, 4);
  await delivers(b.tun, c.tun, 2, 3, 5);
  assert.equal(await peersUp(a.agent), 2);
  // The a-b link was never replaced.
  const ab = (await a.agent.status()).peers.find((p) => p.ip === "10.88.0.2")!;
  assert.ok(ab.tx.packets >= 2);
  await server.close();
});

test("a second node claiming an address in use is refused with a message naming the holder", async () => {
  const server = await startSignalServer({ port: 0 });
  try {
    startAgent(7, server.url, "first");
    await new Promise((r) => setTimeout(r, 200));
    fatals.length = 0;
    startAgent(7, server.url, "second");
    await until("refusal", () => fatals.length > 0);
    assert.match(fatals[0]!, /10\.88\.0\.7 is already used by first \(node [0-9a-f-]+\) in network unit/);
  } finally {
    await server.close();
  }
});

test("agents ping each other by name or IP, say the ping went direct, and resolve names for status and route", async () => {
  const server = await startSignalServer({ port: 0 });
  try {
    const a = startAgent(21, server.url);
    const b = startAgent(22, server.url);
    await until("a and b linked", async () => (await peersUp(a.agent)) === 1 && (await peersUp(b.agent)) === 1);
    const byName = await a.agent.ping("h22");
    assert.deepEqual(
      { ...byName, rttMs: typeof byName.rttMs },
      {
        ip: "10.88.0.22",
        name: "h22",
        answered: true,
        owner: true,
        direct: true,
        rttMs: "number",
        path: [
          { name: "h21", ip: "10.88.0.21" },
          { name: "h22", ip: "10.88.0.22" },
        ],
      },
    );
    const byIp = await b.agent.ping("10.88.0.21");
    assert.ok(byIp.answered && byIp.direct && byIp.name === "h21");
    const route = await a.agent.route("h22");
    assert.deepEqual(route.path.at(-1), { name: "h22", ip: "10.88.0.22" });
    assert.deepEqual(
      (await a.agent.status("h22")).peers.map((p) => p.name),
      ["h22"],
    );
    assert.deepEqual((await a.agent.status("10.88.0.99")).peers, []);
    await assert.rejects(
      a.agent.ping("nobody"),
      (e: unknown) => e instanceof AgentError && e.code === "IPOP_UNKNOWN_NODE",
    );
    // The DNS server's name table: any case, self included, unknown names undefined.
    assert.equal(a.agent.addressOfName("H22"), "10.88.0.22");
    assert.equal(a.agent.addressOfName("h21"), "10.88.0.21");
    assert.equal(a.agent.addressOfName("nobody"), undefined);
    a.agent.countHostDrop("dns-malformed");
    assert.equal((await a.agent.status()).drops["dns-malformed"], 1);
    await assert.rejects(a.agent.route("nobody"), /no node named "nobody"/);
    const [both, self] = await a.agent.routes(["h22", "10.88.0.21"]);
    assert.deepEqual([both!.path.at(-1), both!.owner, self!.owner], [{ name: "h22", ip: "10.88.0.22" }, true, true]);
    for (const bad of [undefined, [], ["h22", 7], Array.from({ length: 65 }, () => "h22")]) {
      await assert.rejects(a.agent.routes(bad), (e: unknown) => e instanceof AgentError && e.code === "IPOP_CONTROL");
    }
    await assert.rejects(a.agent.status("nobody"), /no node named "nobody"/);
    await assert.rejects(
      a.agent.ping("10.99.0.1"),
      (e: unknown) => e instanceof AgentError && e.code === "IPOP_ADDRESS_OUTSIDE_NETWORK",
    );
  } finally {
    await server.close();
  }
});
