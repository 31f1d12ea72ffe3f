import { errorMessage } from "@ipop/shared";
import { Redis } from "ioredis";
import { StoreError } from "../errors.js";
import type { SignalLogger } from "../logger.js";
import {
  decodeLease,
  encodeLease,
  type NetworkState,
  type RemoteStateChange,
  type SignalStateStore,
  type StoredLease,
} from "./state-store.js";

export type { RemoteStateChange } from "./state-store.js";

/** Every key and channel of the signaling servers starts with this. */
export const REDIS_PREFIX = "ipop-signal";
const STATE_CHANNEL = `${REDIS_PREFIX}:state`;
const leasesKey = (network: string) => `${REDIS_PREFIX}:leases:${network}`;
const listKey = (network: string) => `${REDIS_PREFIX}:revocations:${network}`;

/**
 * Opens a connection to `url` (`redis://HOST:PORT`, `redis+unix:` is not ioredis's; a socket is
 * `/path/redis.sock`) and waits until it is ready.
 * @throws {@link StoreError} when Redis cannot be reached.
 */
export async function connectRedis(url: string, log: SignalLogger): Promise<Redis> {
  const options = { lazyConnect: true, maxRetriesPerRequest: null, enableReadyCheck: true } as const;
  const redis = url.startsWith("/") ? new Redis({ ...options, path: url }) : new Redis(url, options);
  // ioredis reconnects by itself; errors while it does are logged once each, never thrown.
  redis.on("error", (error: Error) => log.warn({ err: error.message }, "redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new StoreError(`--redis ${url}: cannot connect (${errorMessage(error)})`);
  }
  return redis;
}

/**
 * Leases and revocation lists in Redis, shared by every instance of a network (`--redis`). Each lease
 * is a field of one hash per network; the newest list is a string. Every write is also published on a
 * channel, so the other instances' lease tables and lists follow ({@link watch}).
 *
 * Writes are pipelined and not awaited (the contract of {@link SignalStateStore}); `flush` waits for
 * them. While Redis is unreachable, ioredis queues them and replays them on reconnect.
 */
export class RedisStateStore implements SignalStateStore {
  private pending = new Set<Promise<unknown>>();
  private closed = false;
  private subscriber: Redis | undefined;

  /**
   * @param redis - a connected client, owned by the store from now on (closed by {@link close}).
   * @param instance - this server's instance id: its own published changes are not reported back to it.
   */
  constructor(
    private readonly redis: Redis,
    private readonly instance: string,
    private readonly log: SignalLogger,
  ) {}

  async load(network: string): Promise<NetworkState> {
    const [fields, list] = await Promise.all([
      this.redis.hgetall(leasesKey(network)),
      this.redis.get(listKey(network)),
    ]);
    const leases: StoredLease[] = [];
    for (const text of Object.values(fields)) {
      const lease = decodeLease(text);
      if (lease !== undefined) leases.push(lease);
    }
    return { leases, revocationList: list ?? undefined };
  }

  putLease(network: string, lease: StoredLease): void {
    if (this.closed) return;
    const text = encodeLease(lease);
    this.track(
      this.redis
        .multi()
        .hset(leasesKey(network), String(lease.address), text)
        .publish(STATE_CHANNEL, JSON.stringify({ from: this.instance, kind: "lease", network, lease: text }))
        .exec(),
    );
  }

  deleteLease(network: string, address: number): void {
    if (this.closed) return;
    this.track(
      this.redis
        .multi()
        .hdel(leasesKey(network), String(address))
        .publish(STATE_CHANNEL, JSON.stringify({ from: this.instance, kind: "drop", network, address }))
        .exec(),
    );
  }

  putRevocationList(network: string, text: string): void {
    if (this.closed) return;
    this.track(
      this.redis
        .multi()
        .set(listKey(network), text)
        .publish(STATE_CHANNEL, JSON.stringify({ from: this.instance, kind: "revocations", network, text }))
        .exec(),
    );
  }

  /**
   * Reports every change the other instances make, in the order they made it. Call once, before the
   * server takes joins.
   */
  async watch(listener: (change: RemoteStateChange) => void): Promise<void> {
    const subscriber = this.redis.duplicate();
    subscriber.on("error", (error: Error) => this.log.warn({ err: error.message }, "redis subscriber error"));
    this.subscriber = subscriber;
    subscriber.on("message", (_channel: string, text: string) => {
      const change = parseChange(text, this.instance);
      if (change === undefined) return;
      try {
        listener(change);
      } catch (error) {
        this.log.error({ err: errorMessage(error) }, "applying another instance's change failed");
      }
    });
    await subscriber.subscribe(STATE_CHANNEL);
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.subscriber?.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private track(write: Promise<unknown>): void {
    const tracked = write.then(
      () => undefined,
      (error: unknown) => this.log.error({ err: errorMessage(error) }, "redis write failed"),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

/** A published change of another instance, or undefined for our own or anything malformed. */
function parseChange(text: string, self: string): RemoteStateChange | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (m.from === self || typeof m.network !== "string") return undefined;
  const { network } = m;
  if (m.kind === "lease" && typeof m.lease === "string") {
    const lease = decodeLease(m.lease);
    return lease === undefined ? undefined : { kind: "lease", network, lease };
  }
  if (m.kind === "drop" && Number.isInteger(m.address)) return { kind: "drop", network, address: m.address as number };
  if (m.kind === "revocations" && typeof m.text === "string") return { kind: "revocations", network, text: m.text };
  return undefined;
}
