import type { PeerRow } from "../api.js";
import { el, setText } from "./dom.js";
import { formatBytes, formatCount, formatRtt } from "./format.js";

// Widths are fixed for every column but the name, which takes what is left (and ellipsizes).
const COLUMNS = [
  { key: "name", label: "Name", width: "auto" },
  { key: "ip", label: "Virtual IP", width: "7.5rem" },
  { key: "kinds", label: "Link", width: "5rem" },
  { key: "path", label: "Path", width: "3.5rem" },
  { key: "rtt", label: "RTT", width: "4.5rem", numeric: true },
  { key: "in", label: "In", width: "5rem", numeric: true },
  { key: "out", label: "Out", width: "5rem", numeric: true },
  { key: "drops", label: "Drops", width: "3.5rem", numeric: true },
] as const;

type ColumnKey = (typeof COLUMNS)[number]["key"];

interface RowView {
  readonly row: HTMLTableRowElement;
  readonly cells: Readonly<Record<ColumnKey, HTMLElement>>;
}

/**
 * The page's own links, one row per peer. Rows are kept by node id and updated in place (text only,
 * and only when it changed): with fixed column widths and tabular numerals nothing shifts while the
 * numbers tick. Each name is a button, so a keyboard selects a link as a mouse does.
 */
export class PeerTable {
  readonly element: HTMLElement;
  private readonly body = el("tbody");
  private readonly empty = el("p", { class: "muted empty" }, "No links yet.");
  private readonly rows = new Map<string, RowView>();
  /** The newest row data per node, so a click selects what the row shows now. */
  private readonly latest = new Map<string, PeerRow>();
  private selected: string | undefined;

  constructor(private readonly onSelect: (peer: PeerRow) => void) {
    // Widths on the header cells: with table-layout fixed, the first row decides and content never does.
    // Set through the CSSOM, not a style attribute, which a strict Content-Security-Policy refuses.
    const headers = COLUMNS.map((c) => {
      const th = el("th", { scope: "col", class: "numeric" in c ? "num" : "" }, c.label);
      th.style.width = c.width;
      return th;
    });
    const head = el("thead", {}, el("tr", {}, ...headers));
    this.element = el(
      "section",
      { class: "panel peers", "aria-labelledby": "peers-title" },
      el("h2", { id: "peers-title" }, "Peers"),
      el("div", { class: "table-scroll" }, el("table", { class: "peer-table" }, head, this.body)),
      this.empty,
    );
  }

  /** Replaces the table's content with `peers`, reusing the rows of peers still present. */
  update(peers: readonly PeerRow[]): void {
    const seen = new Set<string>();
    let previous: HTMLTableRowElement | undefined;
    for (const peer of peers) {
      seen.add(peer.nodeId);
      let view = this.rows.get(peer.nodeId);
      if (!view) {
        view = this.createRow(peer);
        this.rows.set(peer.nodeId, view);
      }
      this.fill(view, peer);
      // Keep the given order without re-inserting rows that are already in place.
      const expected: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== view.row) this.body.insertBefore(view.row, expected);
      previous = view.row;
    }
    for (const [nodeId, view] of this.rows) {
      if (!seen.has(nodeId)) {
        view.row.remove();
        this.rows.delete(nodeId);
        this.latest.delete(nodeId);
      }
    }
    this.empty.hidden = peers.length > 0;
  }

  /** Marks the row of `nodeId` as the selected link. */
  select(nodeId: string | undefined): void {
    this.selected = nodeId;
    for (const [id, view] of this.rows) view.row.setAttribute("aria-selected", String(id === nodeId));
  }

  private createRow(peer: PeerRow): RowView {
    const button = el("button", { type: "button", class: "link-button" });
    const cells = {} as Record<ColumnKey, HTMLElement>;
    const row = el("tr", { "data-node-id": peer.nodeId, "aria-selected": String(peer.nodeId === this.selected) });
    for (const column of COLUMNS) {
      // The label lets a phone-width layout show each row as a small card (styles.css).
      const cell = el("td", { class: "numeric" in column ? "num" : "", "data-label": column.label });
      cells[column.key] = column.key === "name" ? button : cell;
      if (column.key === "name") cell.append(button);
      row.append(cell);
    }
    button.addEventListener("click", () => {
      const current = this.latest.get(peer.nodeId);
      if (current) this.onSelect(current);
    });
    return { row, cells };
  }

  private fill(view: RowView, peer: PeerRow): void {
    this.latest.set(peer.nodeId, peer);
    const c = view.cells;
    setText(c.name, peer.name);
    setText(c.ip, peer.ip);
    setText(c.kinds, peer.kinds.join(", "));
    setText(c.path, peer.path);
    setText(c.rtt, formatRtt(peer.rttMs));
    setText(c.in, formatBytes(peer.bytesIn));
    setText(c.out, formatBytes(peer.bytesOut));
    setText(c.drops, formatCount(peer.drops));
    c.in.title = `${formatCount(peer.packetsIn)} packets`;
    c.out.title = `${formatCount(peer.packetsOut)} packets`;
  }
}
