import { describe, expect, it } from "vitest";
import { FakeConsole } from "./testing/fake-console.js";
import { LAB_NETWORK } from "./testing/scenario.js";
import { TopologyWatcher } from "./topology-watcher.js";

async function joined(network = LAB_NETWORK, token = "ops-token"): Promise<FakeConsole> {
  const api = new FakeConsole(network);
  await api.join({ network: network.network, token });
  return api;
}

describe("topology watcher", () => {
  it("learns links between other members from their reports", async () => {
    const api = await joined();
    const topology = await new TopologyWatcher(api).refresh();
    const names = new Map(api.members().map((m) => [m.nodeId, m.name]));
    const links = topology.edges.map((e) => [names.get(e.a), names.get(e.b)].sort().join("-"));
    // bravo-delta is a link between two agents: only their own reports can tell the page about it.
    expect(links).toContain("bravo-delta");
    expect(links).toContain("alpha-charlie");
    expect(topology.nodes.find((n) => n.name === "echo")?.refused).toBe(true);
    expect(topology.nodes.find((n) => n.self)?.ip).toBe(LAB_NETWORK.poolIp);
  });

  it("finishes a round when a member never answers, and marks nothing refused for it", async () => {
    const network = {
      ...LAB_NETWORK,
      agents: LAB_NETWORK.agents.map((a) => (a.name === "charlie" ? { ...a, silent: true } : a)),
    };
    const api = await joined(network);
    const watcher = new TopologyWatcher(api, { answerDeadlineMs: 200 });
    const topology = await watcher.refresh();
    const charlie = api.members().find((m) => m.name === "charlie");
    expect(watcher.viewOf(charlie?.nodeId ?? "")).toMatchObject({ kind: "failed" });
    expect(topology.nodes.find((n) => n.name === "charlie")?.refused).toBe(false);
    expect(topology.nodes).toHaveLength(network.agents.length + 1);
  });

  it("shares one round between callers and forgets members that left", async () => {
    const api = await joined();
    const watcher = new TopologyWatcher(api);
    const [a, b] = await Promise.all([watcher.refresh(), watcher.refresh()]);
    expect(a).toBe(b);
    api.removeAgent("10.88.0.4");
    const after = await watcher.refresh();
    expect(after.nodes.map((n) => n.name)).not.toContain("delta");
    expect(after.edges.length).toBeLessThan(a.edges.length);
  });

  it("asks a large overlay in turns, longest-unasked first, until everyone has answered", async () => {
    const api = await joined();
    const watcher = new TopologyWatcher(api, { membersPerRound: 2 });
    const others = api.members().filter((m) => m.name !== "console-1");
    const asked = () => others.filter((m) => watcher.viewOf(m.nodeId) !== undefined).length;
    await watcher.refresh();
    expect(asked()).toBe(2);
    await watcher.refresh();
    expect(asked()).toBe(4);
    await watcher.refresh();
    expect(asked()).toBe(5);
    const topology = await watcher.refresh();
    expect(topology.nodes.find((n) => n.name === "echo")?.refused).toBe(true);
  });
});
