/**
 * The relay lab's topology, in one place: which agents may link directly and which may not. Here
 * the "cannot link" pairs are made real with UDP blocks on the underlay (udp-blocks.ts); behind the
 * NAT lab's symmetric NATs the same description holds (a symmetric NAT on both ends of a pair means
 * exactly "no direct UDP path"), so the relay tests can run there unchanged but for how the lab
 * is built.
 */
export interface RelayTopology {
  /** Agents h1..hN. */
  readonly hosts: number;
  /**
   * Hosts that every other can link to (public addresses, or behind an endpoint-independent NAT).
   * Every pair of hosts not listed here cannot link directly.
   */
  readonly reachable: readonly string[];
}

/**
 * Six agents: h1 is the only one any other can link to; the other five cannot link to each other
 * (10 of the 15 pairs). Each of those five reaches its ring neighbours only through h1.
 */
export const RELAY_LAB: RelayTopology = { hosts: 6, reachable: ["h1"] };

/** The pairs of `topology` that cannot link directly, each once, in host order. */
export function blockedPairs(topology: RelayTopology): Array<[string, string]> {
  const hosts = Array.from({ length: topology.hosts }, (_, i) => `h${i + 1}`);
  const open = new Set(topology.reachable);
  const pairs: Array<[string, string]> = [];
  for (const [i, a] of hosts.entries())
    for (const b of hosts.slice(i + 1)) if (!open.has(a) && !open.has(b)) pairs.push([a, b]);
  return pairs;
}
