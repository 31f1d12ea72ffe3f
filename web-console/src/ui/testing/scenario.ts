import { FakeConsole, type FakeNetwork } from "./fake-console.js";

/** A small lab-like network for the UI tests: five agents in a ring with two shortcuts. */
export const LAB_NETWORK: FakeNetwork = {
  network: "lab",
  tokens: { "ops-token": ["ops"], "plain-token": [] },
  agents: [
    { name: "alpha", ip: "10.88.0.1", rttMs: 0.84, openPorts: [7] },
    { name: "bravo", ip: "10.88.0.2", rttMs: 1.21 },
    { name: "charlie", ip: "10.88.0.3", rttMs: 3.5 },
    { name: "delta", ip: "10.88.0.4", rttMs: 12.7 },
    { name: "echo", ip: "10.88.0.5", rttMs: 0.92, refusesStatus: true },
  ],
  links: [
    ["alpha", "bravo"],
    ["bravo", "charlie"],
    ["charlie", "delta"],
    ["delta", "echo"],
    ["echo", "alpha"],
    ["alpha", "charlie"],
    ["bravo", "delta"],
  ],
  poolIp: "10.88.200.7",
};

/** A larger network: `size` agents on a ring, each also linked three places ahead (a shortcut). */
export function ringNetwork(size: number): FakeNetwork {
  const agents = Array.from({ length: size }, (_, i) => ({
    name: `node${String(i + 1).padStart(2, "0")}`,
    ip: `10.88.0.${i + 1}`,
    rttMs: 0.5 + (i % 7) * 1.7,
  }));
  const links = agents.flatMap((a, i) => [
    [a.name, agents[(i + 1) % size]!.name] as const,
    [a.name, agents[(i + 3) % size]!.name] as const,
  ]);
  return { network: "lab", tokens: { "ops-token": ["ops"] }, agents, links, poolIp: "10.88.200.7" };
}

/** A fresh fake over {@link LAB_NETWORK}. */
export function labConsole(): FakeConsole {
  return new FakeConsole(LAB_NETWORK);
}

/** Waits until `check` holds (polling each animation frame), failing with `what` after `limitMs`. */
export async function until(what: string, check: () => boolean, limitMs = 5000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > limitMs) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}
