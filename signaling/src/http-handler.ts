import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConsoleFiles } from "./console-files.js";

/** Counts reported by `GET /healthz` and by `stats()`. */
export interface SignalServerStats {
  /** Open WebSocket connections, joined or not. */
  readonly connections: number;
  /** Networks with at least one member. */
  readonly networks: number;
  /** Members over all networks. */
  readonly members: number;
}

/** What the HTTP endpoints read. */
export interface HttpSources {
  /** Counts for `GET /healthz`. */
  stats(): SignalServerStats;
  /** The Prometheus text exposition for `GET /metrics`. */
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** The web console's build, served at `/`; absent when it is not built or turned off. */
  readonly console?: ConsoleFiles;
}

/**
 * Plain HTTP requests (WebSocket upgrades never reach here): `/healthz`, `/metrics` and the web console's
 * files (console-files.ts); everything else is a 404 rather than a redirect or a catch-all.
 */
export function handleHttpRequest(req: IncomingMessage, res: ServerResponse, sources: HttpSources): void {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path === "/healthz") {
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
      return;
    }
    reply(res, 200, { status: "ok", ...sources.stats() });
    return;
  }
  if (path === "/metrics") {
    if (req.method !== "GET") {
      reply(res, 405, { error: "method not allowed" }, { allow: "GET" });
      return;
    }
    sources.metrics().then(
      ({ contentType, body }) => {
        res.writeHead(200, {
          "content-type": contentType,
          "content-length": Buffer.byteLength(body),
          "cache-control": "no-store",
        });
        res.end(body);
      },
      () => reply(res, 500, { error: "metrics unavailable" }),
    );
    return;
  }
  if (path !== undefined && sources.console?.serve(req, res, path)) return;
  reply(res, 404, { error: "not found" });
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}
