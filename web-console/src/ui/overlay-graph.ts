import Sigma from "sigma";
import { el } from "./dom.js";
import { type GraphEdgeAttributes, GraphModel, type GraphNodeAttributes, type GraphPalette } from "./graph-model.js";
import { cssColor, onThemeChange } from "./theme.js";
import type { Topology } from "./topology.js";

function palette(): GraphPalette {
  return {
    node: cssColor("--graph-node", "#3b82c4"),
    self: cssColor("--graph-self", "#d97706"),
    refused: cssColor("--graph-refused", "#9ca3af"),
    edge: cssColor("--graph-edge", "#94a3b8"),
  };
}

/**
 * The overlay drawn with sigma (WebGL) over a {@link GraphModel}. Members also appear as a list of
 * buttons under the picture: the canvas cannot take keyboard focus, the list can, and it says in
 * words which nodes refused to report their links.
 */
export class OverlayGraph {
  readonly element: HTMLElement;
  readonly model: GraphModel;
  private readonly canvasBox = el("div", { class: "graph-canvas", role: "img", "aria-label": "Overlay graph" });
  private readonly members = el("ul", { class: "member-list", "aria-label": "Members" });
  private readonly legend = el("p", { class: "muted legend" });
  private readonly memberItems = new Map<string, HTMLLIElement>();
  private renderer: Sigma<GraphNodeAttributes, GraphEdgeAttributes> | undefined;
  private readonly stopTheme: () => void;

  constructor(private readonly onSelect: (nodeId: string) => void) {
    this.model = new GraphModel("", palette());
    this.element = el(
      "section",
      { class: "panel graph", "aria-labelledby": "graph-title" },
      el("h2", { id: "graph-title" }, "Overlay"),
      this.canvasBox,
      this.legend,
      this.members,
    );
    this.stopTheme = onThemeChange(() => {
      this.model.setPalette(palette());
      this.renderer?.setSetting("labelColor", { color: cssColor("--text", "#1f2937") });
    });
  }

  /** Starts drawing; call once the element is in the document (sigma measures its container). */
  start(): void {
    if (this.renderer) return;
    try {
      const renderer = new Sigma(this.model.graph, this.canvasBox, {
        labelColor: { color: cssColor("--text", "#1f2937") },
        labelFont: "system-ui, sans-serif",
        labelSize: 12,
        labelRenderedSizeThreshold: 0,
        // Overlays worth inspecting here are tens of nodes: show every name rather than thin them out.
        labelDensity: 10,
        labelGridCellSize: 40,
        stagePadding: 40,
        allowInvalidContainer: true,
      });
      // A fixed frame (the unit circle, with room on the right for labels) instead of fitting the current
      // nodes: adding a node at the edge must not rescale, and so visually move, every node already drawn.
      renderer.setCustomBBox({ x: [-1, 1.3], y: [-1, 1] });
      renderer.on("clickNode", ({ node }) => this.onSelect(node));
      this.renderer = renderer;
    } catch (error) {
      this.canvasBox.replaceChildren(
        el(
          "p",
          { class: "muted" },
          `The graph needs WebGL, which this browser refused (${String(error)}). The list below shows every member.`,
        ),
      );
    }
  }

  /** Starts over for `network` (after joining, or joining another). */
  reset(network: string): void {
    this.model.reset(network);
    this.showMembers([]);
  }

  /** Shows `topology`: only the differences reach the graph; positions of existing nodes never change. */
  update(topology: Topology): void {
    this.model.apply(topology);
    // Every name while they fit; past a few dozen nodes sigma's label grid thins them out.
    this.renderer?.setSetting("labelDensity", topology.nodes.length > 40 ? 1 : 10);
    const refused = topology.nodes.filter((n) => n.refused).length;
    this.legend.textContent = `${topology.nodes.length} members, ${topology.edges.length} links${
      refused > 0 ? `; ${refused} refused to report their links (grey)` : ""
    }`;
    this.showMembers(topology.nodes);
  }

  /** Keeps one button per member, reused across refreshes so keyboard focus survives an update. */
  private showMembers(nodes: Topology["nodes"]): void {
    const wanted = new Set(nodes.map((n) => n.nodeId));
    for (const [id, item] of this.memberItems) {
      if (!wanted.has(id)) {
        item.remove();
        this.memberItems.delete(id);
      }
    }
    for (const node of nodes) {
      const content = [
        el("span", { class: `dot${node.self ? " self" : node.refused ? " refused" : ""}`, "aria-hidden": "true" }),
        `${node.name} `,
        el("span", { class: "mono muted" }, node.ip),
        node.self ? el("span", { class: "tag" }, "this page") : "",
        node.refused ? el("span", { class: "tag warn" }, "refused") : "",
      ];
      let item = this.memberItems.get(node.nodeId);
      if (!item) {
        const button = el("button", { type: "button", class: "member", "data-node-id": node.nodeId });
        button.addEventListener("click", () => this.onSelect(node.nodeId));
        item = el("li", {}, button);
        this.memberItems.set(node.nodeId, item);
        this.members.append(item);
      }
      const button = item.firstElementChild as HTMLButtonElement;
      const signature = `${node.name}|${node.ip}|${node.self}|${node.refused}`;
      if (button.dataset.signature !== signature) {
        button.dataset.signature = signature;
        button.replaceChildren(...content);
      }
    }
  }

  /**
   * Where `nodeId` is drawn, in CSS pixels of the canvas, or undefined when it is not drawn (no WebGL,
   * not started, no such node). Tests use it to check that nothing moves as others come and go.
   */
  screenPosition(nodeId: string): { x: number; y: number } | undefined {
    const graph = this.model.graph;
    if (!this.renderer || !graph.hasNode(nodeId)) return undefined;
    const { x, y } = graph.getNodeAttributes(nodeId);
    const point = this.renderer.graphToViewport({ x, y });
    return { x: Math.round(point.x * 100) / 100, y: Math.round(point.y * 100) / 100 };
  }

  /** Stops drawing and frees the WebGL context. */
  destroy(): void {
    this.stopTheme();
    this.renderer?.kill();
    this.renderer = undefined;
  }
}
