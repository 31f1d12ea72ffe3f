/** A member of the overlay as the graph draws it. */
export interface TopologyNode {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  /** This page itself. */
  readonly self?: boolean;
  /** The node refused a status request (no operator group), so its own links are unknown. */
  readonly refused?: boolean;
}

/** A link between two members, by node id. */
export interface TopologyEdge {
  readonly a: string;
  readonly b: string;
  /** The link's round trip when one side reported it, ms. */
  readonly rttMs?: number;
}

/** A snapshot of the overlay: members and the links learned from the nodes that answered. */
export interface Topology {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

/** One key per undirected link, whichever side reported it. */
export function edgeKey(a: string, b: string): string {
  return a < b ? `${a}--${b}` : `${b}--${a}`;
}
