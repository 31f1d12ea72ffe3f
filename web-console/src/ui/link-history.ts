import type { PeerRow } from "../api.js";

/** Samples kept per link: two minutes at one per second. */
const CAPACITY = 120;

/** One link's recent history, in the column form uPlot draws (time in seconds). */
export interface LinkSeries {
  readonly time: number[];
  readonly rttMs: (number | null)[];
  /** Bytes per second since the previous sample. */
  readonly inRate: (number | null)[];
  readonly outRate: (number | null)[];
}

interface LinkState extends LinkSeries {
  lastAt: number;
  lastIn: number;
  lastOut: number;
}

/**
 * Turns successive peer tables into per-link time series: RTT as reported, and traffic as the rate
 * between two samples (counters only grow; a reset, such as a relinked peer, gives a gap, not a spike).
 */
export class LinkHistory {
  private readonly links = new Map<string, LinkState>();

  /** Records one peer table taken at `nowMs` (wall clock). */
  record(nowMs: number, peers: readonly PeerRow[]): void {
    const seen = new Set<string>();
    for (const peer of peers) {
      seen.add(peer.nodeId);
      let link = this.links.get(peer.nodeId);
      if (!link) {
        link = {
          time: [],
          rttMs: [],
          inRate: [],
          outRate: [],
          lastAt: nowMs,
          lastIn: peer.bytesIn,
          lastOut: peer.bytesOut,
        };
        this.links.set(peer.nodeId, link);
      }
      const seconds = (nowMs - link.lastAt) / 1000;
      const rate = (now: number, last: number): number | null =>
        seconds > 0 && now >= last ? (now - last) / seconds : null;
      push(link.time, nowMs / 1000);
      push(link.rttMs, peer.rttMs ?? null);
      push(link.inRate, link.time.length > 1 ? rate(peer.bytesIn, link.lastIn) : null);
      push(link.outRate, link.time.length > 1 ? rate(peer.bytesOut, link.lastOut) : null);
      link.lastAt = nowMs;
      link.lastIn = peer.bytesIn;
      link.lastOut = peer.bytesOut;
    }
    for (const id of this.links.keys()) if (!seen.has(id)) this.links.delete(id);
  }

  /** The series of `nodeId`'s link, if the page has one. */
  series(nodeId: string): LinkSeries | undefined {
    return this.links.get(nodeId);
  }
}

function push<T>(column: T[], value: T): void {
  column.push(value);
  if (column.length > CAPACITY) column.shift();
}
