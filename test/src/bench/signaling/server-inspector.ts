import { closeSync, openSync, writeSync } from "node:fs";
import WebSocket from "ws";
import { BenchError } from "../../errors.js";

/** The server's own view of its memory (`process.memoryUsage()`), in bytes. */
export interface ServerHeap {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory of C++ objects bound to JavaScript ones, Buffers included. */
  readonly external: number;
  readonly arrayBuffers: number;
}

/** The `ws://127.0.0.1:PORT/UUID` in the line Node prints on stderr when started with `--inspect`. */
export function inspectorUrlIn(line: string): string | undefined {
  return /^Debugger listening on (ws:\/\/\S+)$/.exec(line.trim())?.[1];
}

interface Reply {
  readonly id?: number;
  /** Set on an event (no id). */
  readonly method?: string;
  readonly params?: { readonly chunk?: string };
  readonly result?: { readonly result?: { readonly value?: unknown } };
  readonly error?: { readonly message?: string };
}

/**
 * A client of the server process's inspector (the Chrome DevTools protocol over a WebSocket on
 * loopback), for the load test's memory readings: RSS alone cannot tell a leak from memory the
 * collector has not yet reclaimed (or the allocator keeps), so the test forces a full collection and
 * reads the heap the server itself sees. Bench-only: a deployed server never runs with `--inspect`.
 */
export class ServerInspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** Where the chunks of a heap snapshot being taken go. */
  private snapshotChunk: ((chunk: string) => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const reply = JSON.parse(String(data)) as Reply;
      if (reply.method === "HeapProfiler.addHeapSnapshotChunk") this.snapshotChunk?.(reply.params?.chunk ?? "");
      if (reply.id === undefined) return; // an event, not an answer
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiting?.resolve(reply);
    });
    ws.on("close", () => {
      for (const waiting of this.pending.values())
        waiting.reject(new BenchError("BENCH_TOOL_FAILED", "inspector closed"));
      this.pending.clear();
    });
  }

  /** Connects to the inspector at `url` (from {@link inspectorUrlIn}). */
  static connect(url: string): Promise<ServerInspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once("open", () => resolve(new ServerInspector(ws)));
      ws.once("error", (err) =>
        reject(new BenchError("BENCH_TOOL_FAILED", `cannot reach the server's inspector: ${err.message}`)),
      );
    });
  }

  /** A full, synchronous garbage collection in the server. */
  async collectGarbage(): Promise<void> {
    await this.call("HeapProfiler.collectGarbage", {});
  }

  /** `process.memoryUsage()` as the server reports it. */
  async heap(): Promise<ServerHeap> {
    const reply = await this.call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    const value = reply.result?.result?.value;
    if (typeof value !== "string") throw new BenchError("BENCH_PARSE", "the inspector gave no memory usage");
    return JSON.parse(value) as ServerHeap;
  }

  /**
   * Writes a heap snapshot of the server to `path` (open it in Chrome DevTools' Memory tab and compare
   * two of them to see what grew). Taking one also collects garbage first.
   */
  async writeHeapSnapshot(path: string): Promise<void> {
    const fd = openSync(path, "w");
    this.snapshotChunk = (chunk) => writeSync(fd, chunk);
    try {
      await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    } finally {
      this.snapshotChunk = undefined;
      closeSync(fd);
    }
  }

  /** Closes the connection (the server keeps running). */
  close(): void {
    this.ws.close();
  }

  private call(method: string, params: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (reply) =>
          reply.error === undefined
            ? resolve(reply)
            : reject(new BenchError("BENCH_TOOL_FAILED", `${method}: ${reply.error.message ?? "failed"}`)),
        reject,
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
}
