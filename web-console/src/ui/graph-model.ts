import { parseIpv4Address, RING_SIZE, ringAddress } from "@ipop/shared";
import Graph from "graphology";
import { edgeKey, type Topology } from "./topology.js";

/** Node attributes sigma reads (x, y, size, label, color) and ours (ip, refused, self). */
export interface GraphNodeAttributes {
  x: number;
  y: number;
  size: number;
  label: string;
  color: string;
  ip: string;
  self: boolean;
  refused: boolean;
}

export interface GraphEdgeAttributes {
  size: number;
  color: string;
  rttMs: number | undefined;
}

/** Colours the model gives nodes; the view passes the current theme's. */
export interface GraphPalette {
  readonly node: string;
  readonly self: string;
  readonly refused: string;
  readonly edge: string;
}

/**
 * The overlay as a graphology graph, laid out as the IPOP ring: each node sits at the angle of its ring
 * address (a hash of network and IP, the same one routing uses). So a node's place never depends on
 * who else is there: a joining node lands between its ring neighbours, and nothing already drawn moves.
 * `apply` changes only what differs from the last snapshot.
 */
export class GraphModel {
  readonly graph = new Graph<GraphNodeAttributes, GraphEdgeAttributes>({ type: "undirected", multi: false });

  constructor(
    private network: string,
    private palette: GraphPalette,
  ) {}

  /** Starts over for another network (ring positions depend on the network's name). */
  reset(network: string): void {
    if (network === this.network) return;
    this.network = network;
    this.graph.clear();
  }

  /** Brings the graph to `topology`: adds and drops nodes and edges, updates labels and colours in place. */
  apply(topology: Topology): void {
    const wanted = new Set(topology.nodes.map((n) => n.nodeId));
    this.graph.forEachNode((id) => {
      if (!wanted.has(id)) this.graph.dropNode(id);
    });
    for (const node of topology.nodes) {
      const color = node.self ? this.palette.self : node.refused ? this.palette.refused : this.palette.node;
      const attributes = {
        label: node.name,
        color,
        ip: node.ip,
        self: Boolean(node.self),
        refused: Boolean(node.refused),
      };
      if (this.graph.hasNode(node.nodeId)) {
        this.graph.mergeNodeAttributes(node.nodeId, attributes);
      } else {
        const { x, y } = this.ringPoint(node.ip);
        this.graph.addNode(node.nodeId, { ...attributes, x, y, size: node.self ? 9 : 7 });
      }
    }
    const edges = new Map(
      topology.edges.filter((e) => wanted.has(e.a) && wanted.has(e.b)).map((e) => [edgeKey(e.a, e.b), e]),
    );
    this.graph.forEachEdge((key) => {
      if (!edges.has(key)) this.graph.dropEdge(key);
    });
    for (const [key, edge] of edges) {
      if (this.graph.hasEdge(key)) this.graph.mergeEdgeAttributes(key, { rttMs: edge.rttMs });
      else this.graph.addEdgeWithKey(key, edge.a, edge.b, { size: 1.5, color: this.palette.edge, rttMs: edge.rttMs });
    }
  }

  /** Recolours for a theme change (light/dark). */
  setPalette(palette: GraphPalette): void {
    this.palette = palette;
    this.graph.updateEachNodeAttributes((_, a) => ({
      ...a,
      color: a.self ? palette.self : a.refused ? palette.refused : palette.node,
    }));
    this.graph.updateEachEdgeAttributes((_, a) => ({ ...a, color: palette.edge }));
  }

  /** Where on the unit circle `ip` sits: its ring address as an angle, 0 at the top, clockwise. */
  ringPoint(ip: string): { x: number; y: number } {
    const address = parseIpv4Address(ip) ?? 0;
    const angle = (ringAddress(this.network, address) / RING_SIZE) * 2 * Math.PI;
    return { x: Math.sin(angle), y: Math.cos(angle) };
  }
}
