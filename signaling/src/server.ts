import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { Authority, type AuthorityOptions } from "./authority.js";
import { tellMembers } from "./ca-requests.js";
import { RedisCluster } from "./cluster/redis-cluster.js";
import { ConsoleFiles, DEFAULT_CONSOLE_DIR } from "./console-files.js";
import { formatHostPort, ListenError, OptionError } from "./errors.js";
import { assertNoCompression } from "./frame-outbox.js";
import { handleHttpRequest, type SignalServerStats } from "./http-handler.js";
import { resolveLimits, type SignalServerLimits } from "./limits.js";
import { type SignalLogger, silentLogger } from "./logger.js";
import type { MemberPeer } from "./member-peer.js";
import { SignalMetrics } from "./metrics.js";
import { NetworkRegistry } from "./network-registry.js";
import { Session, type SessionContext } from "./session.js";
import type { SignalStateStore } from "./store/state-store.js";
import type { TlsCredentials } from "./tls-files.js";
import type { TurnCredentialIssuer } from "./turn-grants.js";

/** Options of {@link startSignalServer}. */
export interface SignalServerOptions {
  /** Address to bind, e.g. `127.0.0.1` (the default), `0.0.0.0`, `::1`. */
  readonly host?: string;
  /** Port to bind; 0 (the default) picks a free one, reported in the handle. */
  readonly port?: number;
  /** Overrides of {@link DEFAULT_LIMITS}; each is range-checked. */
  readonly limits?: Partial<SignalServerLimits>;
  /** Where logs go; silent by default, so in-process test servers stay quiet. */
  readonly logger?: SignalLogger;
  /** How long {@link SignalServer.close} waits for clients to finish the close handshake. Default 2000 ms. */
  readonly shutdownGraceMs?: number;
  /**
   * The network's CA (`--ca`, `--ca-key`, ...). With it, only members it certifies join (and only its
   * network), and the server keeps the revocation list; with its key it also issues certificates for
   * join tokens. Without it, anyone may join any network.
   */
  readonly authority?: AuthorityOptions;
  /** Wall-clock milliseconds since the Unix epoch; `Date.now` unless a test moves time. */
  readonly wallClock?: () => number;
  /**
   * Serve `wss://` and `https://` with this certificate and key (`--tls-cert`, `--tls-key`, read by
   * `loadTlsFiles`) instead of plain `ws://` and `http://`.
   */
  readonly tls?: TlsCredentials;
  /**
   * The web console's build directory, served at `/` (default: the repository's
   * web-console/dist/app when it is built); false serves no console.
   */
  readonly consoleDir?: string | false;
  /** TURN servers with REST credentials for every member (`--turn-url`, `--turn-secret-file`). */
  readonly turn?: TurnCredentialIssuer;
  /**
   * Where the CA side keeps address leases and revocation lists past a restart (`--state-dir`, or
   * Redis with `--redis`). The caller opens and closes it; the server reads it at start and flushes it
   * at close. Without it they live in memory only.
   */
  readonly store?: SignalStateStore;
  /**
   * With `--redis`: this instance shares its networks with every other instance on the same Redis
   * (cluster/redis-cluster.ts). `redis` is a connected client the caller owns; `instance` this
   * instance's id (the same the Redis store was given).
   */
  readonly cluster?: { readonly redis: Redis; readonly instance: string };
}

/** A running signaling server. */
export interface SignalServer {
  /** `ws://host:port` (`wss://` with TLS) of the listening socket, with the real port when 0 was asked for. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The limits in force, defaults filled in. */
  readonly limits: SignalServerLimits;
  /**
   * Stops accepting, closes every WebSocket with 1001 (terminating those that do not finish the handshake in
   * time) and releases the port. Idempotent; resolves when everything is closed.
   */
  close(): Promise<void>;
  /** Current counts, as served by `GET /healthz`. */
  stats(): SignalServerStats;
  /**
   * Serves a new TLS certificate and key from the next handshake on (connections already up keep
   * theirs). Check the pair first (`loadTlsFiles`).
   * @throws {@link OptionError} when the server was started without TLS.
   */
  reloadTls(tls: TlsCredentials): void;
  /** This server's Prometheus metrics, as served by `GET /metrics` (docs/metrics.md). */
  readonly metrics: SignalMetrics;
  /** Address leases the CA side holds (0 without `--ca`): its own and, with `--redis`, the other instances'. */
  leaseCount(): number;
}

// Sockets that have not (yet) become WebSockets: a few in-flight health checks or handshakes. Bounding the raw
// TCP connections too keeps idle or half-open sockets from eating file descriptors beyond the WebSocket cap.
const NON_WEBSOCKET_CONNECTION_SLACK = 64;
/** Connections waiting to be accepted; the kernel caps it at net.core.somaxconn (4096 on Debian 12). */
const LISTEN_BACKLOG = 4096;
/** Slices of the ping interval that the sessions' pings are spread over. */
const HEARTBEAT_SLICES = 10;

/**
 * Starts a signaling server and resolves once it listens.
 * @throws {@link OptionError} for an out-of-range limit or port, {@link ListenError} when the address cannot be bound.
 */
export async function startSignalServer(options: SignalServerOptions = {}): Promise<SignalServer> {
  const limits = resolveLimits(options.limits);
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OptionError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (typeof host !== "string" || host.length === 0) throw new OptionError("host must be a non-empty string");
  const log = options.logger ?? silentLogger();
  const shutdownGraceMs = options.shutdownGraceMs ?? 2000;

  const wallClock = options.wallClock ?? Date.now;
  const { store } = options;
  const authorityOptions: AuthorityOptions | undefined =
    options.authority === undefined || store === undefined
      ? options.authority
      : { ...options.authority, state: { store, kept: await store.load(options.authority.ca.network) } };
  const authority = authorityOptions === undefined ? undefined : new Authority(authorityOptions, wallClock());
  const registry = new NetworkRegistry<MemberPeer>(limits.maxMembers, limits.welcomeMembers);
  const sessions = new Set<Session>();
  const cluster =
    options.cluster === undefined
      ? undefined
      : new RedisCluster({
          ...options.cluster,
          registry,
          neighbourhoodSize: limits.welcomeMembers,
          maxMembers: limits.maxMembers,
          log,
        });
  if (authority !== undefined && store?.watch !== undefined) {
    await store.watch((change) => {
      const list = authority.applyRemote(change);
      if (list !== undefined) tellMembers(registry, authority.network, list.text);
    });
  }
  await cluster?.start();
  let shuttingDown = false;
  let allClosed: (() => void) | undefined;
  let connectionSeq = 0;

  const stats = (): SignalServerStats => ({ connections: sessions.size, ...registry.stats() });
  const metrics = new SignalMetrics({ connections: () => sessions.size, networkSizes: () => registry.networkSizes() });

  const context: SessionContext = {
    limits,
    registry,
    now: () => performance.now(),
    wallNow: wallClock,
    ...(authority === undefined ? {} : { authority }),
    ...(options.turn === undefined ? {} : { turn: options.turn }),
    ...(cluster === undefined ? {} : { cluster }),
    isShuttingDown: () => shuttingDown,
    onClosed(session) {
      sessions.delete(session);
      if (sessions.size === 0) allClosed?.();
    },
    metrics,
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    // Compression would let a small frame inflate into a large allocation; signaling messages are small anyway.
    perMessageDeflate: false,
    clientTracking: false,
  });
  // Sessions write raw frames past ws's sender, which compression would break: fail here, not on the wire.
  assertNoCompression(wss);

  const consoleDir = options.consoleDir ?? DEFAULT_CONSOLE_DIR;
  const consoleFiles = consoleDir === false ? undefined : ConsoleFiles.load(consoleDir);
  if (consoleFiles === undefined && typeof options.consoleDir === "string")
    throw new OptionError(`--console ${options.consoleDir}: no index.html there; build the console with npm run build`);
  const onRequest: RequestListener = (req, res) => {
    try {
      handleHttpRequest(req, res, {
        stats,
        metrics: () => metrics.render(),
        ...(consoleFiles === undefined ? {} : { console: consoleFiles }),
      });
    } catch (err) {
      log.error({ err: String(err) }, "http handler failed");
      res.destroy();
    }
  };
  const tls = options.tls;
  // The HTTPS server is an HTTP server over TLS: requests, upgrades and limits work the same.
  const tlsServer =
    tls === undefined
      ? undefined
      : createTlsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: 10_000 }, onRequest);
  const http: Server = tlsServer ?? createServer(onRequest);
  // Failed handshakes (scanners, clients that do not trust the certificate) are routine.
  http.on("tlsClientError", (err: Error) => log.debug({ err: err.message }, "TLS handshake failed"));
  // A bootstrap server has no slow uploads; short timeouts stop idle half-open clients from holding sockets.
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;
  http.maxConnections = limits.maxConnections + NON_WEBSOCKET_CONNECTION_SLACK;

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      socket.on("error", () => {
        // A reset during the handshake is routine; ws reports errors of established sockets itself.
      });
      if (shuttingDown || sessions.size >= limits.maxConnections) {
        log.warn({ connections: sessions.size }, "connection refused: server full or shutting down");
        metrics.connectionRefused();
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const remote = formatHostPort(req.socket.remoteAddress ?? "?", req.socket.remotePort ?? 0);
        const seq = ++connectionSeq;
        const session = new Session(ws, socket, context, log.child({ conn: seq, remote }), seq % HEARTBEAT_SLICES);
        sessions.add(session);
        metrics.connected();
        session.start();
      });
    } catch (err) {
      log.error({ err: String(err) }, "upgrade failed");
      socket.destroy();
    }
  });

  try {
    await listen(http, host, port);
  } catch (err) {
    await cluster?.close();
    throw err;
  }
  http.on("error", (err) => log.error({ err: err.message }, "http server error"));
  const address = http.address() as AddressInfo;
  const url = `${tls === undefined ? "ws" : "wss"}://${formatHostPort(address.address, address.port)}`;

  // Each session is pinged once per interval, but in one of several slices spread over the interval: with
  // ten thousand members, one callback pinging all of them (and the burst of pongs after it) would hold up
  // every join queued behind it.
  let slice = 0;
  const pingTimer = setInterval(() => {
    const current = slice;
    slice = (slice + 1) % HEARTBEAT_SLICES;
    for (const session of sessions) if (session.heartbeatSlice === current) session.heartbeat();
    if (current === 0) authority?.sweep(wallClock());
  }, limits.pingIntervalMs / HEARTBEAT_SLICES);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      clearInterval(pingTimer);
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      if (sessions.size > 0) {
        const drained = new Promise<void>((resolve) => {
          allClosed = resolve;
        });
        for (const session of sessions) session.close(1001, "server shutting down");
        let grace: NodeJS.Timeout | undefined;
        const timedOut = new Promise<void>((resolve) => {
          grace = setTimeout(resolve, shutdownGraceMs);
        });
        await Promise.race([drained, timedOut]);
        clearTimeout(grace);
        for (const session of sessions) session.terminate();
      }
      // Only now: closing HTTP connections earlier could cut WebSockets before their 1001 was sent.
      http.closeAllConnections();
      wss.close();
      await httpClosed;
      await cluster?.close();
      await store?.flush();
      log.info({}, "stopped");
    })();
    return closing;
  };

  const ca = authority === undefined ? undefined : { network: authority.network, issues: authority.issues };
  log.info(
    {
      url,
      host: address.address,
      port: address.port,
      limits,
      ...(ca === undefined ? {} : { ca }),
      ...(tls === undefined ? {} : { tls: describeTls(tls) }),
    },
    "listening",
  );
  const reloadTls = (next: TlsCredentials): void => {
    if (tlsServer === undefined) {
      throw new OptionError("this server was started without TLS; there is nothing to reload");
    }
    tlsServer.setSecureContext({ cert: next.cert, key: next.key });
    log.info({ tls: describeTls(next) }, "TLS certificate reloaded");
  };
  const leaseCount = () => authority?.leaseCount ?? 0;
  return { url, host: address.address, port: address.port, limits, close, stats, reloadTls, metrics, leaseCount };
}

/** What the logs say about a certificate: never the key. */
function describeTls(tls: TlsCredentials): { subject: string; fingerprint: string; notAfter: string } {
  return { subject: tls.subject, fingerprint: tls.fingerprint, notAfter: tls.notAfter };
}

function listen(http: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new ListenError(host, port, err));
    http.once("error", onError);
    try {
      // A big accept queue: a thousand joins a second arrive in bursts, and a full queue drops SYNs, which
      // costs the client a one-second retransmission (measured with the load test at the default 511).
      http.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        http.off("error", onError);
        resolve();
      });
    } catch (err) {
      // listen() throws synchronously for an invalid port (RangeError) before any 'error' event.
      http.off("error", onError);
      reject(new ListenError(host, port, err));
    }
  });
}
