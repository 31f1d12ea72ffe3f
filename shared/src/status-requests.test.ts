/**
 * Remote status over the overlay with real certificates: an operator's request is answered with the
 * host's report, anyone else's is refused, and a forged or replayed request never reaches the host.
 */
import assert from "node:assert/strict";
import { test } from "vitest";
import type { NodeEvent } from "./actions.js";
import { nodeIdFor } from "./identity/envelope-guard.js";
import { NetworkTrust } from "./identity/network-trust.js";
import { parseIpv4Address } from "./ipv4.js";
import type { OverlayNode } from "./overlay-node.js";
import type { MemberInfo } from "./signaling-protocol.js";
import { makeTestCa, makeTestNode, type TestNodeCredentials } from "./testing/identity.js";
import { MiniNet } from "./testing/mini-net.js";

const START_SECONDS = 1_780_000_000;
const ca = makeTestCa("test", START_SECONDS);

function certifiedNet() {
  const credentials = new Map<string, TestNodeCredentials>();
  const trustFor = (member: MemberInfo) => {
    const c = credentials.get(member.nodeId)!;
    return new NetworkTrust({
      network: "test",
      ca: c.ca,
      nodeId: member.nodeId,
      certText: c.certText,
      seed: c.keySeed,
    });
  };
  const net = new MiniNet(16, {}, {}, 1, trustFor);
  net.wallStartMs = START_SECONDS * 1000;
  const join = (n: number, groups: readonly string[] = []): OverlayNode => {
    const name = `h${n}`;
    const c = makeTestNode(ca, name, `10.88.0.${n}/16`, START_SECONDS, n, groups);
    const nodeId = nodeIdFor(c.cert, n.toString(16).padStart(8, "0"));
    credentials.set(nodeId, c);
    return net.join({ nodeId, name, ip: `10.88.0.${n}` });
  };
  return { net, join };
}

/** Asks `target` for its status from `asker`; answers every `status-asked` event with a report naming the target. */
function ask(net: MiniNet, asker: OverlayNode, target: OverlayNode): NodeEvent[] {
  const before = net.events.length;
  const id = asker.askStatus(net.at(), parseIpv4Address(target.self.ip)!, target.self.nodeId);
  net.settle();
  for (const { node, event } of net.events.slice(before)) {
    if (event.kind === "status-asked") net.nodes.get(node)!.answerStatus(net.at(), event.handle, { name: node });
  }
  net.settle();
  return net.events
    .slice(before)
    .filter((e) => e.node === asker.self.nodeId && e.event.kind === "status-result" && e.event.id === id)
    .map((e) => e.event);
}

test("a node answers an operator's status request with its host's report, over several hops", () => {
  const { net, join } = certifiedNet();
  const nodes = [1, 2, 3, 4, 5, 6].map((n) => join(n, n === 1 ? ["ops"] : []));
  net.advance(5_000);
  for (const target of nodes.slice(1)) {
    const results = ask(net, nodes[0]!, target);
    assert.deepEqual(results, [
      {
        kind: "status-result",
        id: results[0]?.kind === "status-result" ? results[0].id : -1,
        report: { name: target.self.nodeId },
      },
    ]);
  }
  const asked = net.events.filter((e) => e.event.kind === "status-asked");
  assert.equal(asked.length, 5);
  const first = asked[0]!.event;
  assert.ok(first.kind === "status-asked");
  assert.deepEqual(first.requester, { nodeId: nodes[0]!.self.nodeId, name: "h1", ip: "10.88.0.1", groups: ["ops"] });
});

test("a member without the operator group is refused and the host is never asked", () => {
  const { net, join } = certifiedNet();
  const [a, b] = [join(1), join(2, ["dev"])];
  net.advance(3_000);
  const results = ask(net, b!, a!);
  assert.equal(results.length, 1);
  const result = results[0]!;
  assert.ok(result.kind === "status-result");
  assert.equal(result.report, undefined);
  assert.match(result.refused ?? "", /^not-operator: h2's certificate lacks the group "ops"/);
  assert.equal(net.events.filter((e) => e.event.kind === "status-asked").length, 0);
  assert.equal(a!.status(net.now).drops["status-refused-not-operator"], 1);
});

test("a status request for a node id that is not the target's is refused (the seal names the addressee)", () => {
  const { net, join } = certifiedNet();
  const [a, b, c] = [join(1, ["ops"]), join(2), join(3)];
  net.advance(3_000);
  const before = net.events.length;
  const id = a!.askStatus(net.at(), parseIpv4Address(b!.self.ip)!, c!.self.nodeId);
  net.settle();
  const result = net.events.slice(before).find((e) => e.event.kind === "status-result")?.event;
  assert.ok(result?.kind === "status-result" && result.id === id);
  assert.match(result.refused ?? "", /^envelope-misaddressed/);
  assert.equal(net.events.slice(before).filter((e) => e.event.kind === "status-asked").length, 0);
});

test("answering an unknown handle does nothing", () => {
  const { net, join } = certifiedNet();
  const a = join(1);
  assert.equal(a.answerStatus(net.at(), 99, {}), false);
});

test("a node without links answers its own request: no route yet, not a refusal by the target", () => {
  const { net, join } = certifiedNet();
  net.setSignaling(false);
  const a = join(1, ["ops"]);
  const before = net.events.length;
  a.askStatus(net.at(), parseIpv4Address("10.88.0.2")!, "00000000000000000000000000000000-00000002");
  net.settle();
  const result = net.events.slice(before).find((e) => e.event.kind === "status-result")?.event;
  assert.ok(result?.kind === "status-result");
  assert.match(result.refused ?? "", /^no-route:/);
});
