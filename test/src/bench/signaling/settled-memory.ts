import type { ServerHeap, ServerInspector } from "./server-inspector.js";

/** The server's memory at a quiet moment, after a forced collection where it could be forced. */
export interface SettledMemory {
  /** The least of the RSS samples, in bytes: what the process still holds once the collector ran. */
  readonly rssBytes: number;
  /** The server's heap after the collection, when its inspector was reachable. */
  readonly heap: ServerHeap | undefined;
}

/**
 * Reads a settled server's memory: forces a full collection through its inspector, reads its heap,
 * then samples RSS `samples` times `gapMs` apart and keeps the least (pages the allocator returns
 * drain out over a moment; a leak is what stays). With `snapshotPath`, then writes a heap snapshot there
 * (after the readings: taking one inflates the server's RSS for good).
 */
export async function readSettledMemory(
  inspector: ServerInspector | undefined,
  rss: () => number,
  snapshotPath?: string,
  samples = 3,
  gapMs = 1000,
): Promise<SettledMemory> {
  let heap: ServerHeap | undefined;
  if (inspector !== undefined) {
    await inspector.collectGarbage();
    heap = await inspector.heap();
  }
  let least = rss();
  for (let i = 1; i < samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    least = Math.min(least, rss());
  }
  // Last: serializing a snapshot takes the server's RSS up by more than its heap, and keeps it there.
  if (snapshotPath !== undefined) await inspector?.writeHeapSnapshot(snapshotPath);
  return { rssBytes: least, heap };
}
