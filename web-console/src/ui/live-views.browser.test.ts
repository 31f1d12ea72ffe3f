import { afterEach, describe, expect, it } from "vitest";
import { page } from "vitest/browser";
import type { PeerRow } from "../api.js";
import { OverlayGraph } from "./overlay-graph.js";
import { PeerTable } from "./peer-table.js";
import { until } from "./testing/scenario.js";
import type { Topology } from "./topology.js";
// The page's own stylesheet: what is measured here (fixed columns, the phone-width cards) lives in it.
import "./styles.css";

function row(nodeId: string, bytes: number, rttMs?: number): PeerRow {
  return {
    nodeId,
    name: `node-${nodeId}`,
    ip: `10.88.0.${nodeId}`,
    kinds: ["near"],
    path: "host",
    ...(rttMs === undefined ? {} : { rttMs }),
    bytesIn: bytes,
    bytesOut: bytes * 3,
    packetsIn: 1,
    packetsOut: 1,
    drops: bytes > 1e6 ? 12345 : 0,
    upSinceMs: 0,
  };
}

const mounted: HTMLElement[] = [];
function host(width = 900): HTMLElement {
  const box = document.createElement("div");
  box.style.width = `${width}px`;
  document.body.append(box);
  mounted.push(box);
  return box;
}
afterEach(() => {
  for (const box of mounted.splice(0)) box.remove();
});

describe("peer table", () => {
  // Both layouts: the table (wide) and the labelled cards (phone width).
  it.each([1280, 390])(
    "updates rows in place at %i px: same elements, new text, nothing moves as numbers grow",
    async (width) => {
      await page.viewport(width, 800);
      const table = new PeerTable(() => {});
      host(width - 40).append(table.element);
      table.update([row("1", 10, 0.5), row("2", 20), row("3", 30, 3)]);
      const before = [...table.element.querySelectorAll("tbody tr")];
      const edges = (tr: Element) =>
        [...tr.children].map((td) => Math.round((td as HTMLElement).getBoundingClientRect().left));
      const columnsBefore = edges(before[0]!);

      table.update([row("1", 987_654_321, 123.4), row("2", 5_000_000, 12.5), row("3", 31, 3.1)]);
      const after = [...table.element.querySelectorAll("tbody tr")];

      expect(after).toEqual(before); // the very same row elements
      expect(after[0]!.textContent).toContain("941.9 MiB");
      expect(after[0]!.textContent).toContain("123 ms");
      expect(after[1]!.textContent).toContain("12,345");
      expect(edges(after[0]!)).toEqual(columnsBefore);
      expect(table.element.getBoundingClientRect().width).toBeLessThanOrEqual(width - 40);
    },
  );

  it("removes departed peers and adds new ones without touching the others", () => {
    const table = new PeerTable(() => {});
    host().append(table.element);
    table.update([row("1", 1), row("2", 2), row("3", 3)]);
    const [first, , third] = [...table.element.querySelectorAll("tbody tr")];

    table.update([row("1", 1), row("3", 3), row("4", 4)]);
    const rows = [...table.element.querySelectorAll("tbody tr")];

    expect(rows.map((r) => r.getAttribute("data-node-id"))).toEqual(["1", "3", "4"]);
    expect(rows[0]).toBe(first);
    expect(rows[1]).toBe(third);
    expect(table.element.querySelector(".empty")?.hasAttribute("hidden")).toBe(true);
    table.update([]);
    expect(table.element.querySelectorAll("tbody tr")).toHaveLength(0);
    expect(table.element.querySelector(".empty")?.hasAttribute("hidden")).toBe(false);
  });

  it("selects a link from the keyboard-reachable name button", () => {
    const picked: string[] = [];
    const table = new PeerTable((peer) => picked.push(peer.nodeId));
    host().append(table.element);
    table.update([row("1", 1), row("2", 2)]);
    table.update([row("1", 5), row("2", 7)]);
    const button = table.element.querySelector<HTMLButtonElement>('tr[data-node-id="2"] button');
    expect(button?.tagName).toBe("BUTTON");
    button?.click();
    expect(picked).toEqual(["2"]);
  });
});

describe("overlay graph", () => {
  const node = (id: string, extra: object = {}) => ({ nodeId: id, name: `n${id}`, ip: `10.88.0.${id}`, ...extra });
  const ring = (ids: string[]): Topology => ({
    nodes: ids.map((id) => node(id)),
    edges: ids.map((id, i) => ({ a: id, b: ids[(i + 1) % ids.length]! })),
  });

  it("adds and removes nodes without moving the ones already drawn, in the model and on screen", async () => {
    const graph = new OverlayGraph(() => {});
    const box = host(600);
    box.append(graph.element);
    graph.start();
    graph.reset("lab");
    graph.update(ring(["1", "2", "3", "4"]));
    await until("a drawn frame", () => graph.screenPosition("1") !== undefined);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const model = graph.model.graph;
    const before = new Map(["1", "2", "3"].map((id) => [id, { ...model.getNodeAttributes(id) }]));
    const screenBefore = new Map(["1", "2", "3"].map((id) => [id, graph.screenPosition(id)]));

    graph.update(ring(["1", "2", "3", "5", "6", "7", "8", "9"])); // 4 leaves, five join
    await new Promise((resolve) => requestAnimationFrame(resolve));
    await new Promise((resolve) => requestAnimationFrame(resolve));

    expect(model.hasNode("4")).toBe(false);
    expect(model.order).toBe(8);
    expect(model.size).toBe(8);
    for (const id of ["1", "2", "3"]) {
      const now = model.getNodeAttributes(id);
      expect({ x: now.x, y: now.y }).toEqual({ x: before.get(id)!.x, y: before.get(id)!.y });
      expect(graph.screenPosition(id)).toEqual(screenBefore.get(id));
    }
    graph.destroy();
  });

  it("places each node by its ring address, whatever else is in the picture", () => {
    const alone = new OverlayGraph(() => {});
    alone.reset("lab");
    alone.update({ nodes: [node("7")], edges: [] });
    const crowded = new OverlayGraph(() => {});
    crowded.reset("lab");
    crowded.update(ring(["1", "2", "3", "7", "9"]));
    const a = alone.model.graph.getNodeAttributes("7");
    const b = crowded.model.graph.getNodeAttributes("7");
    expect([a.x, a.y]).toEqual([b.x, b.y]);
    expect(Math.hypot(a.x, a.y)).toBeCloseTo(1, 9);
  });

  it("marks members that refused to report, in colour and in words", () => {
    const graph = new OverlayGraph(() => {});
    host().append(graph.element);
    graph.reset("lab");
    graph.update({
      nodes: [node("1", { self: true }), node("2"), node("3", { refused: true })],
      edges: [{ a: "1", b: "2" }],
    });
    expect(graph.element.querySelector('[data-node-id="3"]')?.textContent).toContain("refused");
    expect(graph.element.querySelector(".legend")?.textContent).toContain("1 refused");
    expect(graph.model.graph.getNodeAttribute("3", "refused")).toBe(true);
    expect(graph.model.graph.getNodeAttribute("3", "color")).not.toBe(graph.model.graph.getNodeAttribute("2", "color"));
  });

  it("keeps member buttons across refreshes so keyboard focus survives", () => {
    const graph = new OverlayGraph(() => {});
    host().append(graph.element);
    graph.reset("lab");
    graph.update(ring(["1", "2"]));
    const button = graph.element.querySelector<HTMLButtonElement>('[data-node-id="2"]');
    button?.focus();
    graph.update(ring(["1", "2", "3"]));
    expect(document.activeElement).toBe(button);
  });
});
