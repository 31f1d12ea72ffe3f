import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AgentError } from "../errors.js";

/** What the endpoint serves: the Prometheus text exposition and its content type. */
export type RenderMetrics = () => Promise<{ readonly contentType: string; readonly body: string }>;

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Limits of the endpoint. A scraper needs one connection and a few seconds; these keep anything else
 * that reaches the port from holding sockets or memory.
 */
export const METRICS_SERVER_LIMITS = Object.freeze({
  maxConnections: 16,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
});

/**
 * Serves `GET /metrics` on `host:port` (`ipop up --metrics`) and nothing else: other paths get 404,
 * other methods 405. The body of a request is never read.
 * @throws {@link AgentError} `IPOP_METRICS_LISTEN` when the address cannot be bound.
 */
export async function startMetricsServer(host: string, port: number, render: RenderMetrics): Promise<MetricsServer> {
  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics") return plain(res, 404, "not found\n");
    if (req.method !== "GET") return plain(res, 405, "method not allowed\n", { allow: "GET" });
    render().then(
      ({ contentType, body }) => {
        res.writeHead(200, {
          "content-type": contentType,
          "content-length": Buffer.byteLength(body),
          "cache-control": "no-store",
        });
        res.end(body);
      },
      () => plain(res, 500, "metrics unavailable\n"),
    );
  });
  http.maxConnections = METRICS_SERVER_LIMITS.maxConnections;
  http.headersTimeout = METRICS_SERVER_LIMITS.headersTimeoutMs;
  http.requestTimeout = METRICS_SERVER_LIMITS.requestTimeoutMs;
  http.keepAliveTimeout = METRICS_SERVER_LIMITS.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) =>
      reject(
        new AgentError("IPOP_METRICS_LISTEN", `cannot serve metrics on ${formatListen(host, port)}: ${error.message}`),
      );
    http.once("error", fail);
    http.listen({ host, port }, () => {
      http.off("error", fail);
      resolve();
    });
  });
  http.on("error", () => {
    // After listening, errors belong to single connections; the endpoint stays up.
  });
  const address = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** `host:port`, with IPv6 literals in brackets. */
export function formatListen(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
