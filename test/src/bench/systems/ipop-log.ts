/**
 * Reading the agent's JSON log lines (pino: `time` is epoch ms) for the instants the bench times.
 * Tolerant by design: a line that is not JSON or lacks a field is skipped, so a change in the agent's
 * logging costs a number in the report, not the run.
 */

/** A "link up" the agent logged. */
export interface LinkUpEntry {
  /** Epoch ms when it was logged. */
  time: number;
  /** Peer's virtual IP. */
  peerIp: string;
  /** The core's measure: opening the link to up. */
  setupMs: number | undefined;
}

/** Every "link up" in `lines`, oldest first. */
export function linkUpEntries(lines: readonly string[]): LinkUpEntry[] {
  const out: LinkUpEntry[] = [];
  for (const line of lines) {
    if (!line.includes('"link up"')) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    const o = v as { msg?: unknown; time?: unknown; peer?: { ip?: unknown }; setupMs?: unknown };
    if (o.msg !== "link up" || typeof o.time !== "number" || typeof o.peer?.ip !== "string") continue;
    out.push({ time: o.time, peerIp: o.peer.ip, setupMs: typeof o.setupMs === "number" ? o.setupMs : undefined });
  }
  return out;
}

/**
 * The link to `peerIp` that was up at `atEpochMs`: the last "link up" logged in [`sinceEpochMs`, `atEpochMs`].
 * Not simply the first one after `since`: after a peer restarts, a first link can come up and be replaced
 * a few ms later, and the traffic then flows over a later one.
 */
export function linkUpBefore(
  lines: readonly string[],
  peerIp: string,
  sinceEpochMs: number,
  atEpochMs: number,
): LinkUpEntry | undefined {
  const entries = linkUpEntries(lines).filter(
    (e) => e.peerIp === peerIp && e.time >= sinceEpochMs && e.time <= atEpochMs,
  );
  return entries[entries.length - 1];
}
