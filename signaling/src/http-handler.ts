import type { IncomingMessage, ServerResponse } from "node:http";

/** Counts reported by `GET /healthz` and by `stats()`. */
export interface SignalServerStats {
  /** Open WebSocket connections, joined or not. */
  readonly connections: number;
  /** Networks with at least one member. */
  readonly networks: number;
  /** Members over all networks. */
  readonly members: number;
}

/**
 * Plain HTTP requests (WebSocket upgrades never reach here). Only `/healthz` exists so far; the web console's
 * static build will be served from this handler later, so everything else is a 404 rather than a redirect
 * or a catch-all.
 */
export function handleHttpRequest(req: IncomingMessage, res: ServerResponse, stats: () => SignalServerStats): void {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path === "/healthz") {
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
      return;
    }
    reply(res, 200, { status: "ok", ...stats() });
    return;
  }
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
