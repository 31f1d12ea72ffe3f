/**
 * What a node answers a remote status request with (status-requests.ts): its peer table and
 * counters. Agents and the console build it; the console reads it from other nodes, so
 * {@link parseStatusReport} checks every field of an untrusted one. The console's `NodeReport` and
 * `PeerRow` (web-console/src/api.ts) are these shapes.
 */

/** How a link's packets travel, from its selected ICE candidate pair. */
export type StatusPathKind = "host" | "srflx" | "prflx" | "relay" | "unknown";
const PATH_KINDS: readonly StatusPathKind[] = ["host", "srflx", "prflx", "relay", "unknown"];

export interface StatusPeerRow {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  readonly kinds: readonly string[];
  readonly path: StatusPathKind;
  readonly rttMs?: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly drops: number;
  /** Link up since, wall-clock ms. */
  readonly upSinceMs: number;
}

export interface StatusReport {
  readonly nodeId: string;
  readonly name: string;
  readonly ip: string;
  /** "agent" or "console". */
  readonly role: string;
  readonly peers: readonly StatusPeerRow[];
  readonly counters: Readonly<Record<string, number>>;
  readonly atMs: number;
}

/** Most peer rows and counters a report may hold (it must fit one overlay message). */
export const MAX_REPORT_PEERS = 128;
export const MAX_REPORT_COUNTERS = 128;

/** A report from another node, checked; or what is wrong with it. */
export function parseStatusReport(value: unknown): StatusReport | string {
  if (!isObject(value)) return "report is not an object";
  const { nodeId, name, ip, role, peers, counters, atMs } = value;
  if (!isText(nodeId) || !isText(name) || !isText(ip) || !isText(role) || !isCount(atMs))
    return "report lacks its node's id, name, ip, role or time";
  if (!Array.isArray(peers) || peers.length > MAX_REPORT_PEERS) return "report peers is not a list of rows";
  const rows: StatusPeerRow[] = [];
  for (const raw of peers) {
    const row = parseRow(raw);
    if (typeof row === "string") return row;
    rows.push(row);
  }
  if (!isObject(counters)) return "report counters is not an object";
  const entries = Object.entries(counters);
  if (entries.length > MAX_REPORT_COUNTERS || !entries.every(([key, n]) => key.length <= 64 && isCount(n)))
    return "report counters must be named non-negative numbers";
  return { nodeId, name, ip, role, peers: rows, counters: Object.fromEntries(entries) as Record<string, number>, atMs };
}

function parseRow(raw: unknown): StatusPeerRow | string {
  if (!isObject(raw)) return "peer row is not an object";
  const { nodeId, name, ip, kinds, path, rttMs, bytesIn, bytesOut, packetsIn, packetsOut, drops, upSinceMs } = raw;
  if (!isText(nodeId) || !isText(name) || !isText(ip)) return "peer row lacks id, name or ip";
  if (!Array.isArray(kinds) || kinds.length > 8 || !kinds.every(isText)) return "peer row kinds is not a list of words";
  if (!(PATH_KINDS as readonly unknown[]).includes(path)) return "peer row path is not a candidate type";
  const counts = [bytesIn, bytesOut, packetsIn, packetsOut, drops, upSinceMs];
  if (!counts.every(isCount)) return "peer row counters must be non-negative numbers";
  if (rttMs !== undefined && !isCount(rttMs)) return "peer row rttMs must be a non-negative number";
  return {
    nodeId,
    name,
    ip,
    kinds: kinds as string[],
    path: path as StatusPathKind,
    ...(rttMs === undefined ? {} : { rttMs: rttMs as number }),
    bytesIn: bytesIn as number,
    bytesOut: bytesOut as number,
    packetsIn: packetsIn as number,
    packetsOut: packetsOut as number,
    drops: drops as number,
    upSinceMs: upSinceMs as number,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 128;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
