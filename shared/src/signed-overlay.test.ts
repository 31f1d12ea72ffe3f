/**
 * The overlay with real certificates: nodes of a MiniNet seal and check every link envelope with
 * the network trust the agent uses, on a wall clock that follows the net's virtual time.
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import { nodeIdFor } from "./identity/envelope-guard.js";
import { NetworkTrust } from "./identity/network-trust.js";
import { createRevocationList } from "./identity/revocation.js";
import type { OverlayNode } from "./overlay-node.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { makeTestCa, makeTestNode, type TestCa, type TestNodeCredentials } from "./testing/identity.js";
import { MiniNet } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";

const START_SECONDS = 1_780_000_000;
const network = "test";

/** A MiniNet whose nodes hold certificates; `sealed` collects every envelope each node sealed. */
function certifiedNet() {
  const credentials = new Map<string, TestNodeCredentials>();
  const trusts = new Map<string, NetworkTrust>();
  const sealed: Array<{ from: string; to: string; body: unknown }> = [];
  const trustFor = (member: MemberInfo) => {
    const c = credentials.get(member.nodeId)!;
    const trust = new NetworkTrust({
      network,
      ca: c.ca,
      nodeId: member.nodeId,
      certText: c.certText,
      seed: c.keySeed,
    });
    const seal = trust.seal.bind(trust);
    trust.seal = (wallMs, to, envelope) => {
      const body = seal(wallMs, to, envelope);
      sealed.push({ from: member.nodeId, to, body });
      return body;
    };
    trusts.set(member.nodeId, trust);
    return trust;
  };
  const net = new MiniNet(16, {}, {}, 1, trustFor);
  // Certificates are judged by a wall clock that follows the net's virtual time.
  net.wallStartMs = START_SECONDS * 1000;
  let keys = 0;
  const join = (ca: TestCa, n: number, name = `h${n}`, nowSeconds = START_SECONDS): OverlayNode => {
    const c = makeTestNode(ca, name, `10.88.0.${n}/16`, nowSeconds, ++keys);
    const nodeId = nodeIdFor(c.cert, n.toString(16).padStart(8, "0"));
    credentials.set(nodeId, c);
    return net.join({ nodeId, name, ip: `10.88.0.${n}` });
  };
  return { net, join, sealed, trusts };
}

function upPeers(node: OverlayNode, now: number): string[] {
  return node
    .status(now)
    .links.filter((l) => l.state === "up")
    .map((l) => l.peer.name)
    .sort();
}

const ca = makeTestCa(network, START_SECONDS);

test("certified nodes link and carry packets; replayed and altered envelopes are refused", () => {
  const { net, join, sealed } = certifiedNet();
  const [a, b, c] = [1, 2, 3].map((n) => join(ca, n));
  net.advance(3_000);
  assert.deepEqual(upPeers(a!, net.now), ["h2", "h3"]);
  const packet = makeIpv4Packet("10.88.0.1", "10.88.0.3");
  a!.handleHostPacket(net.at(), withHeadroom(packet));
  net.settle();
  assert.equal(net.delivered.get(c!.self.nodeId)!.length, 1);

  // Replay an envelope b sealed for a, as a relay could: refused, nothing changes.
  const fromB = sealed.find((s) => s.from === b!.self.nodeId && s.to === a!.self.nodeId)!;
  a!.handleSignal(net.at(), b!.self.nodeId, structuredClone(fromB.body));
  // Alter one: flip a character of the signed part.
  const altered = structuredClone(fromB.body) as { signed: string };
  altered.signed = `${altered.signed.slice(0, 20)}${altered.signed[20] === "A" ? "B" : "A"}${altered.signed.slice(21)}`;
  a!.handleSignal(net.at(), b!.self.nodeId, altered);
  // And one sealed for b, sent to a.
  const forB = sealed.find((s) => s.to === b!.self.nodeId)!;
  a!.handleSignal(net.at(), forB.from, structuredClone(forB.body));
  const drops = a!.status(net.now).drops;
  assert.equal(drops["signal-envelope-replayed"], 1);
  assert.equal(drops["signal-envelope-bad-signature"], 1);
  assert.equal(drops["signal-envelope-misaddressed"], 1);
  assert.deepEqual(upPeers(a!, net.now), ["h2", "h3"]);
});

test("a node certified by another CA for the same network name links to nobody", () => {
  const { net, join } = certifiedNet();
  const [a, b] = [1, 2].map((n) => join(ca, n));
  const rogue = join(makeTestCa(network, START_SECONDS, 2), 9, "rogue");
  net.advance(30_000);
  assert.deepEqual(upPeers(a!, net.now), ["h2"]);
  assert.deepEqual(upPeers(b!, net.now), ["h1"]);
  assert.deepEqual(upPeers(rogue, net.now), []);
  const refused =
    (a!.status(net.now).drops["signal-cert-wrong-ca"] ?? 0) + (b!.status(net.now).drops["signal-cert-wrong-ca"] ?? 0);
  assert.ok(refused > 0, "the rogue's offers were refused for their CA");
  // And the members' answers, were any sent, would be refused by the rogue in turn: nothing reaches it.
  a!.handleHostPacket(net.at(), withHeadroom(makeIpv4Packet("10.88.0.1", "10.88.0.9")));
  net.settle();
  assert.equal(net.delivered.get(rogue.self.nodeId)!.length, 0);
});

test("a revocation list reaching one node closes every link to the revoked node, and it cannot rejoin", () => {
  const { net, join, trusts } = certifiedNet();
  const nodes = [1, 2, 3, 4].map((n) => join(ca, n));
  net.advance(5_000);
  const revoked = nodes[2]!;
  assert.ok(nodes.every((n) => n === revoked || upPeers(n, net.now).includes("h3")));
  const list = createRevocationList(
    { serial: 1, issuedAt: START_SECONDS, entries: [{ name: "h3", at: START_SECONDS }] },
    ca.ca,
    ca.caSeed,
  );
  nodes[0]!.handleRevocationList(net.at(), list);
  net.settle();
  for (const node of nodes) {
    if (node === revoked) continue;
    assert.ok(!upPeers(node, net.now).includes("h3"), `${node.self.name} still linked to h3`);
    assert.equal(trusts.get(node.self.nodeId)!.revocationList(), list, `${node.self.name} got the list`);
  }
  net.advance(30_000);
  assert.deepEqual(upPeers(revoked, net.now), []);
  assert.ok(nodes.some((n) => (n.status(net.now).drops["signal-cert-revoked"] ?? 0) > 0));
  // An older or forged list changes nothing.
  nodes[1]!.handleRevocationList(net.at(), list);
  const forged = createRevocationList(
    { serial: 2, issuedAt: START_SECONDS, entries: [] },
    makeTestCa(network, START_SECONDS, 3).ca,
    makeTestCa(network, START_SECONDS, 3).caSeed,
  );
  nodes[1]!.handleRevocationList(net.at(), forged);
  assert.equal(nodes[1]!.status(net.now).drops["revocations-crl-wrong-ca"], 1);
});

test("a node whose certificate expired cannot set up links", () => {
  const { net, join } = certifiedNet();
  const a = join(ca, 1);
  net.advance(3_000);
  // A day and an hour later a's certificate (valid for a day) has expired; c's is new.
  net.advance(25 * 3600 * 1000);
  const c = join(ca, 3, "h3", START_SECONDS + 25 * 3600);
  net.advance(10_000);
  assert.deepEqual(upPeers(c, net.now), []);
  assert.deepEqual(upPeers(a, net.now), []);
  assert.ok((c.status(net.now).drops["signal-cert-expired"] ?? 0) > 0, "c refused a's expired certificate");
});

test("a link closes when the peer's certificate expires, unless the peer renewed it", () => {
  const { net, join, trusts } = certifiedNet();
  const a = join(ca, 1);
  join(ca, 2);
  const c = join(ca, 3);
  net.advance(3_000);
  assert.deepEqual(upPeers(a, net.now), ["h2", "h3"]);
  // c renews 20 hours in (same key: makeTestNode derives it from the node number); a and b do not.
  net.advance(20 * 3600 * 1000);
  const renewed = makeTestNode(ca, "h3", "10.88.0.3/16", START_SECONDS + 20 * 3600, 3);
  trusts.get(c.self.nodeId)!.guard.renew(renewed.certText, renewed.keySeed);
  c.handleCertificateRenewed(net.at());
  net.settle();
  // Past the first certificates' expiry (a day after START): a and b have expired for everyone.
  net.advance(5 * 3600 * 1000);
  assert.deepEqual(upPeers(c, net.now), []);
  const reasons = net.events
    .filter((e) => e.node === c.self.nodeId && e.event.kind === "link-down")
    .map((e) => (e.event as { reason: string }).reason);
  assert.ok(reasons.includes("certificate-expired"), reasons.join(","));
  // c's own links were not closed for its expiry: nobody saw c's old certificate lapse.
  const closedForC = net.events.filter(
    (e) => e.node !== c.self.nodeId && e.event.kind === "link-down" && e.event.peer.name === "h3",
  );
  assert.ok(closedForC.every((e) => (e.event as { reason: string }).reason !== "certificate-expired"));
});
