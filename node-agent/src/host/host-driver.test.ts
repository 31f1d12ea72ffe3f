import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { type NodeEvent, OverlayNode, parseIpv4Address } from "@ipop/shared";
import { makeIpv4Packet, member, UnsignedTrust, withHeadroom } from "@ipop/shared/testing";
import { type SignalServer, startSignalServer } from "@ipop/signaling";
import { afterAll, beforeAll, test } from "vitest";
import { createFakeLinkFactory } from "../link/fake-link.js";
import { createNdcLinkFactory } from "../link/ndc-link.js";
import type { PeerLinkFactory } from "../link/peer-link.js";
import { openWsSignalSocket } from "../ws-signal-socket.js";
import { HostDriver } from "./host-driver.js";

let signal: SignalServer;
beforeAll(async () => {
  signal = await startSignalServer({});
});
afterAll(() => signal.close());

const links = createFakeLinkFactory();
const ndcLinks = createNdcLinkFactory({});

/** A host of the driver alone: a core, fake links (or others), the real signaling server; it records what it sees. */
function startHost(n: number, linkFactory: PeerLinkFactory = links) {
  const self = member(n, String(n).repeat(32));
  const node = new OverlayNode({
    self,
    network: "lab",
    prefixLength: 16,
    random: Math.random,
    trust: new UnsignedTrust(self),
  });
  const seen = { delivered: [] as Uint8Array[], events: [] as NodeEvent[], signaling: [] as boolean[] };
  const driver = new HostDriver({
    node,
    links: linkFactory,
    iceServers: [],
    subnet: { address: parseIpv4Address(self.ip)!, prefixLength: 16 },
    signaling: {
      url: signal.url,
      openSocket: openWsSignalSocket(),
      network: "lab",
      self,
      // A server without a CA checks only the credential's shape.
      credential: () => ({ cert: "unchecked", time: Date.now(), sig: "AAAA" }),
    },
    hooks: {
      // The packet is borrowed: keep a copy.
      deliver: (packet) => seen.delivered.push(packet.slice()),
      onEvent: (event) => seen.events.push(event),
      onSignaling: (up) => seen.signaling.push(up),
      onRefused: (message) => assert.fail(message),
    },
  });
  driver.start();
  return { driver, node, seen };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const linksUp = (node: OverlayNode) => node.status(performance.now()).links.filter((l) => l.state === "up").length;

test("two drivers join, link, carry a host packet, and a stopping one tells its peer before its links go", async () => {
  const a = startHost(1);
  const b = startHost(2);
  try {
    await until("both joined", () => a.seen.signaling[0] === true && b.seen.signaling[0] === true);
    await until("a link between them", () => linksUp(a.node) === 1 && linksUp(b.node) === 1);

    const packet = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([7, 7, 7]));
    a.driver.step((at) => a.node.handleHostPacket(at, withHeadroom(packet)));
    await until("the packet delivered to b's host", () => b.seen.delivered.length === 1);
    assert.deepEqual(b.seen.delivered[0], packet);
    assert.deepEqual(b.driver.hostDrops.toJSON(), {});

    await a.driver.stop();
    assert.equal(a.driver.stopped, true);
    await until("b sees the link go", () => b.seen.events.some((e) => e.kind === "link-down"));
    const down = b.seen.events.find((e) => e.kind === "link-down");
    // The close envelope went out before the link closed: b hears why, not just that the channel went.
    assert.equal(down?.kind === "link-down" ? down.reason : undefined, "closed-by-peer");
  } finally {
    await Promise.all([a.driver.stop(), b.driver.stop()]);
  }
});

/**
 * Over real ndc links with the IP track: data frames of one turn go on the track, full-size ones one
 * per packet, small ones sharing a packet (a batch frame of at most one packet's size), and the far
 * core takes them all.
 */
test("one turn's data frames go on the IP track: big ones alone, small ones batched into one packet", async () => {
  const a = startHost(1, ndcLinks);
  const b = startHost(2, ndcLinks);
  try {
    await until("both joined", () => a.seen.signaling[0] === true && b.seen.signaling[0] === true);
    await until("a link between them", () => linksUp(a.node) === 1 && linksUp(b.node) === 1);
    const linkId = a.node.status(performance.now()).links[0]!.linkId;
    const trackOf = async () => (await a.driver.linkStats(linkId))?.ipTrack;
    let trackCarrying = false;
    for (let i = 0; i < 200 && !trackCarrying; i++) {
      trackCarrying = (await trackOf())?.carrying === true;
      if (!trackCarrying) await sleep(20);
    }
    assert.ok(trackCarrying, "the track never carried");
    const sentBefore = (await trackOf())!.sent;

    const small = Array.from({ length: 40 }, (_, i) =>
      makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([i, i, i])),
    );
    const big = Array.from({ length: 5 }, (_, i) =>
      makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array(1372).fill(i)),
    );
    a.driver.step((at) => {
      for (const p of [...small, ...big]) a.node.handleHostPacket(at, withHeadroom(p));
    });
    await until("every packet delivered to b's host", () => b.seen.delivered.length === 45);
    assert.deepEqual(
      b.seen.delivered.map((p) => p.length),
      [...small, ...big].map((p) => p.length),
      "in order",
    );
    // 40 small frames (~30 bytes each) fit two packets of 1,424 bytes at most; the 5 big ones
    // (1,392-byte packets) go one per packet.
    const sent = (await trackOf())!.sent - sentBefore;
    assert.ok(sent >= 6 && sent <= 7, `track packets: ${sent}`);
    assert.deepEqual(b.driver.hostDrops.toJSON(), {});
  } finally {
    await Promise.all([a.driver.stop(), b.driver.stop()]);
  }
});
