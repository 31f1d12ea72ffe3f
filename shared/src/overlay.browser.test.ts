/**
 * The overlay core in a real browser (vitest's `browser` project: Debian's Chromium, headless). The
 * same source the agent runs, imported by package name, builds a certified overlay on the in-memory
 * MiniNet, routes packets, and signs and checks every link setup envelope (Ed25519 from @noble) in
 * the page: "the core runs unchanged in the browser" is tested here, not claimed. No Node module may
 * be imported in this file (no node:assert): the page has none.
 */
import {
  type MemberInfo,
  NetworkTrust,
  nodeIdFor,
  type OverlayNode,
  type SealedEnvelope,
  unsealEnvelope,
} from "@ipop/shared";
import { MiniNet, makeIpv4Packet, makeTestCa, makeTestNode, type TestCa, withHeadroom } from "@ipop/shared/testing";
import { expect, test } from "vitest";

const START_MS = 1_780_000_000_000;
const NETWORK = "test";

/** Flips one character of the signed part, as a relay tampering with a link setup would. */
function tampered(body: SealedEnvelope): SealedEnvelope {
  const i = 20;
  return {
    ...body,
    signed: `${body.signed.slice(0, i)}${body.signed[i] === "A" ? "B" : "A"}${body.signed.slice(i + 1)}`,
  };
}

/** A MiniNet of certified nodes; `sealed` collects every envelope each node sealed. */
function certifiedNet() {
  const credentials = new Map<string, { certText: string; seed: Uint8Array; ca: TestCa; tamper: boolean }>();
  const sealed: Array<{ from: string; body: SealedEnvelope }> = [];
  const trustFor = (member: MemberInfo) => {
    const c = credentials.get(member.nodeId)!;
    const trust = new NetworkTrust({
      network: NETWORK,
      ca: c.ca.ca,
      nodeId: member.nodeId,
      certText: c.certText,
      seed: c.seed,
    });
    const seal = trust.seal.bind(trust);
    trust.seal = (...args) => {
      const body = seal(...args) as SealedEnvelope;
      sealed.push({ from: member.nodeId, body });
      return c.tamper ? tampered(body) : body;
    };
    return trust;
  };
  const net = new MiniNet(16, {}, {}, 1, trustFor);
  // Certificates are judged by a wall clock that follows the net's virtual time.
  net.wallStartMs = START_MS;
  let keys = 0;
  const join = (ca: TestCa, n: number, options: { name?: string; tamper?: boolean } = {}): OverlayNode => {
    const name = options.name ?? `h${n}`;
    const c = makeTestNode(ca, name, `10.88.0.${n}/16`, START_MS / 1000, ++keys);
    const nodeId = nodeIdFor(c.cert, n.toString(16).padStart(8, "0"));
    credentials.set(nodeId, { certText: c.certText, seed: c.keySeed, ca, tamper: options.tamper ?? false });
    return net.join({ nodeId, name, ip: `10.88.0.${n}` });
  };
  return { net, join, sealed };
}

function upPeers(node: OverlayNode, now: number): string[] {
  return node
    .status(now)
    .links.filter((l) => l.state === "up")
    .map((l) => l.peer.name)
    .sort();
}

const ca = makeTestCa(NETWORK, START_MS / 1000);

test("this is a browser page, not Node", () => {
  expect(navigator.userAgent).toMatch(/Chrome\//);
  expect((globalThis as { process?: { versions?: unknown } }).process?.versions).toBeUndefined();
});

test("certified nodes link, route packets to their owners and sign every link setup envelope", () => {
  const { net, join, sealed } = certifiedNet();
  const nodes = [1, 2, 3, 4].map((n) => join(ca, n));
  net.advance(5_000);
  for (const node of nodes) {
    const others = nodes.filter((n) => n !== node).map((n) => n.self.name);
    expect(upPeers(node, net.now)).toEqual(others.sort());
  }
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      const packet = makeIpv4Packet(from.self.ip, to.self.ip);
      const before = net.delivered.get(to.self.nodeId)!.length;
      from.handleHostPacket(net.at(), withHeadroom(packet));
      net.settle();
      const got = net.delivered.get(to.self.nodeId)!;
      expect(got.length, `${from.self.name} -> ${to.self.name}`).toBe(before + 1);
      expect([...got.at(-1)!]).toEqual([...packet]);
    }
  }
  // Every envelope went out sealed, and its signature holds for its sender's certificate.
  expect(sealed.length).toBeGreaterThanOrEqual(nodes.length);
  for (const { from, body } of sealed) {
    const opened = unsealEnvelope(structuredClone(body));
    expect(opened.ok, `envelope from ${from}`).toBe(true);
    if (opened.ok) expect(opened.value.fields.from).toBe(from);
  }
});

test("envelopes altered in transit and nodes of another CA are refused: they link to nobody", () => {
  const { net, join } = certifiedNet();
  const [a, b] = [1, 2].map((n) => join(ca, n));
  const altered = join(ca, 7, { tamper: true });
  const rogue = join(makeTestCa(NETWORK, START_MS / 1000, 2), 9, { name: "rogue" });
  net.advance(30_000);
  expect(upPeers(a!, net.now)).toEqual(["h2"]);
  expect(upPeers(b!, net.now)).toEqual(["h1"]);
  expect(upPeers(altered, net.now)).toEqual([]);
  expect(upPeers(rogue, net.now)).toEqual([]);
  const drops = (reason: string) => [a!, b!].reduce((sum, node) => sum + (node.status(net.now).drops[reason] ?? 0), 0);
  expect(drops("signal-envelope-bad-signature"), "altered envelopes were checked and refused").toBeGreaterThan(0);
  expect(drops("signal-cert-wrong-ca"), "the rogue CA's envelopes were refused").toBeGreaterThan(0);
  a!.handleHostPacket(net.at(), withHeadroom(makeIpv4Packet("10.88.0.1", "10.88.0.9")));
  net.settle();
  expect(net.delivered.get(rogue.self.nodeId)).toEqual([]);
});
