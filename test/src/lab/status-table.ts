/**
 * Renders agents' `ipop status` as a plain-text table (used by the demo's live view).
 */
import type { AgentStatus } from "./status.js";

/** One agent's row source: its status, or why there is none. */
export interface HostStatus {
  host: string;
  status?: AgentStatus;
  error?: string;
}

const HEADER = ["HOST", "IP", "SIGNALING", "PEER", "PEER IP", "STATE", "CAND", "RTT", "TX", "RX"];

/** "999 B", "12.3 KiB", "4.0 MiB" */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} ${units[0]}` : `${v.toFixed(1)} ${units[u]}`;
}

/** The table, one line per peer (a host without peers or status gets one line), no trailing newline. */
export function renderStatusTable(hosts: readonly HostStatus[]): string {
  const rows: string[][] = [HEADER];
  const notes: string[] = [];
  for (const h of hosts) {
    if (!h.status) {
      rows.push([h.host, "-", "-", "-", "", "", "", "", "", ""]);
      notes.push(`${h.host}: ${h.error ?? "no status"}`);
      continue;
    }
    const s = h.status;
    const first = [h.host, s.node.ip, s.signaling.state];
    if (s.peers.length === 0) rows.push([...first, "(no peers)", "", "", "", "", "", ""]);
    for (const [i, p] of s.peers.entries()) {
      rows.push([
        ...(i === 0 ? first : ["", "", ""]),
        p.name,
        p.ip,
        p.state,
        p.candidateType ?? "-",
        p.rttMs === null ? "-" : `${p.rttMs.toFixed(1)} ms`,
        formatBytes(p.tx.bytes),
        formatBytes(p.rx.bytes),
      ]);
    }
  }
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
  return [...lines, ...notes].join("\n");
}
