import { randomBytes } from "node:crypto";
import { errorMessage, type MemberInfo, SignalCloseCode } from "@ipop/shared";
import type { Redis } from "ioredis";
import type { SignalLogger } from "../logger.js";
import { broadcast, type ClusterAnnouncer, isLocal, type MemberPeer } from "../member-peer.js";
import type { NetworkRegistry } from "../network-registry.js";
import { REDIS_PREFIX } from "../store/redis-store.js";
import { RemotePeer } from "./remote-peer.js";

const EVENTS_CHANNEL = `${REDIS_PREFIX}:members`;
const instanceChannel = (instance: string) => `${REDIS_PREFIX}:to:${instance}`;
const instanceKey = (instance: string) => `${REDIS_PREFIX}:instance:${instance}`;
const membersKey = (network: string) => `${REDIS_PREFIX}:members:${network}`;
/** An instance that has not refreshed its key for this long is gone; its members are dropped. */
const INSTANCE_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;

/** A new random instance id: 16 hex digits. */
export function newInstanceId(): string {
  return randomBytes(8).toString("hex");
}

/** What the cluster needs of the server. */
export interface ClusterOptions {
  readonly instance: string;
  /** A connected client for commands; the cluster makes its own subscriber from it. Not closed by the cluster. */
  readonly redis: Redis;
  readonly registry: NetworkRegistry<MemberPeer>;
  /** Members a notice goes to (the server's `welcomeMembers`). */
  readonly neighbourhoodSize: number;
  readonly log: SignalLogger;
}

/**
 * Several `ipop-signal` instances as one server (`--redis`): each keeps the whole membership of every
 * network in its registry, its own members as sessions and the others' as {@link RemotePeer}s.
 *  - A join or leave here is written to a hash per network (for instances that start later) and
 *    published on one channel; every instance applies it to its registry and tells its own members in
 *    the ring neighbourhood, so the neighbourhood hears of it once, whoever holds each neighbour.
 *  - A `send` to a remote member is published on the channel of the instance holding it.
 *  - Each instance refreshes a key with a 15 s expiry every 5 s; when one's key is gone (killed, or cut
 *    off), the others drop its members and tell their neighbourhoods, and its members reconnect to
 *    another instance (agents take several `--signal` URLs) and join again.
 * Leases and revocation lists are shared through the Redis state store (store/redis-store.ts).
 */
export class RedisCluster implements ClusterAnnouncer {
  private subscriber: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Remote members by instance, so a dead instance's members can be dropped together. */
  private readonly byInstance = new Map<string, Set<RemotePeer>>();
  private closed = false;

  constructor(private readonly options: ClusterOptions) {}

  /** Subscribes, announces this instance and takes in the members the other instances hold. */
  async start(): Promise<void> {
    const { redis, instance, log } = this.options;
    await redis.set(instanceKey(instance), "1", "PX", INSTANCE_TTL_MS);
    const subscriber = redis.duplicate();
    subscriber.on("error", (error: Error) => log.warn({ err: error.message }, "redis subscriber error"));
    subscriber.on("message", (channel: string, text: string) => this.guard(() => this.onMessage(channel, text)));
    await subscriber.subscribe(EVENTS_CHANNEL, instanceChannel(instance));
    this.subscriber = subscriber;
    await this.loadSnapshot();
    // After Redis was out of reach, the others may have dropped our members (our key expired) and we may
    // have missed their joins: announce ours again and read theirs. (ioredis resubscribes by itself.)
    let connected = true;
    subscriber.on("close", () => {
      connected = false;
    });
    subscriber.on("ready", () => {
      if (connected || this.closed) return;
      connected = true;
      this.resync().catch((error: unknown) => log.warn({ err: errorMessage(error) }, "cluster resync failed"));
    });
    this.heartbeat = setInterval(() => {
      this.beat().catch((error: unknown) => log.warn({ err: errorMessage(error) }, "cluster heartbeat failed"));
    }, HEARTBEAT_MS);
  }

  joined(network: string, member: MemberInfo): void {
    const { redis, instance } = this.options;
    const record = JSON.stringify({ instance, member });
    this.write(
      redis
        .multi()
        .hset(membersKey(network), member.nodeId, record)
        .publish(EVENTS_CHANNEL, JSON.stringify({ kind: "join", instance, network, member }))
        .exec(),
    );
  }

  left(network: string, nodeId: string): void {
    const { redis, instance } = this.options;
    // Only our own record: the member may already have joined another instance.
    this.write(
      redis
        .eval(
          "local r = redis.call('HGET', KEYS[1], ARGV[1]); if r and cjson.decode(r).instance == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end; return redis.call('PUBLISH', ARGV[3], ARGV[4])",
          1,
          membersKey(network),
          nodeId,
          instance,
          EVENTS_CHANNEL,
          JSON.stringify({ kind: "leave", instance, network, nodeId }),
        )
        .then(() => undefined),
    );
  }

  /** Stops the heartbeat and the subscription and removes this instance's key (its members left already). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.subscriber?.disconnect();
    await this.options.redis.del(instanceKey(this.options.instance)).catch(() => undefined);
  }

  private onMessage(channel: string, text: string): void {
    const m = JSON.parse(text) as Record<string, unknown>;
    if (channel === instanceChannel(this.options.instance)) {
      // A message for one of our members from another instance's member.
      if (typeof m.network !== "string" || typeof m.to !== "string" || typeof m.text !== "string") return;
      const peer = this.options.registry.lookup(m.network, m.to);
      if (peer !== undefined && isLocal(peer)) peer.deliver(m.text);
      return;
    }
    if (m.instance === this.options.instance || typeof m.instance !== "string" || typeof m.network !== "string") return;
    if (m.kind === "join") this.remoteJoined(m.instance, m.network, m.member as MemberInfo);
    else if (m.kind === "leave" && typeof m.nodeId === "string") this.remoteLeft(m.instance, m.network, m.nodeId);
  }

  /** Announces every member of ours again and takes in the others' (after a Redis outage). */
  private async resync(): Promise<void> {
    const { registry, redis, instance, log } = this.options;
    await redis.set(instanceKey(instance), "1", "PX", INSTANCE_TTL_MS);
    let announced = 0;
    for (const [network] of [...registry.networkSizes()]) {
      for (const member of registry.members(network)) {
        if (!isLocal(member.peer)) continue;
        this.joined(network, member.info);
        announced++;
      }
    }
    await this.loadSnapshot();
    log.info({ announced }, "back in touch with Redis; members announced again");
  }

  /** A member joined another instance: mirror it and tell our members in its neighbourhood. */
  private remoteJoined(instance: string, network: string, member: MemberInfo): void {
    const { registry, neighbourhoodSize, log } = this.options;
    const known = registry.lookup(network, member.nodeId);
    // Announced again (a resync, or a snapshot after the event): nothing changed.
    if (
      known instanceof RemotePeer &&
      known.remoteInstance === instance &&
      registry.memberAt(network, member.ip)?.peer === known
    ) {
      return;
    }
    const peer = new RemotePeer(instance, network, member.nodeId, this.forward);
    const outcome = registry.join(network, member, peer);
    if (!outcome.ok) {
      // Two instances admitted clashing joins at the same moment; the member whose instance wins stays.
      log.warn({ network, nodeId: member.nodeId, reason: outcome.reason }, "a join on another instance clashes here");
      return;
    }
    this.track(peer);
    const replaced = outcome.replaced?.peer;
    if (replaced instanceof RemotePeer) this.untrack(replaced);
    // Our member moved to another instance: its old connection here goes, without a departure notice.
    else if (replaced !== undefined)
      replaced.close(SignalCloseCode.replaced, "replaced by a connection to another instance");
    const neighbours = registry.closest(network, member.ip, neighbourhoodSize, member.nodeId).map((m) => m.peer);
    if (replaced !== undefined) broadcast(neighbours, { v: 1, t: "member-left", nodeId: member.nodeId });
    broadcast(neighbours, { v: 1, t: "member-joined", member });
  }

  private remoteLeft(instance: string, network: string, nodeId: string): void {
    const peer = this.options.registry.lookup(network, nodeId);
    if (!(peer instanceof RemotePeer) || peer.remoteInstance !== instance) return;
    this.dropRemote(peer);
  }

  private dropRemote(peer: RemotePeer): void {
    this.untrack(peer);
    const left = this.options.registry.leave(peer.network, peer.nodeId, peer);
    if (left !== undefined) {
      broadcast(
        left.neighbours.map((m) => m.peer),
        { v: 1, t: "member-left", nodeId: peer.nodeId },
      );
    }
  }

  private readonly forward = (instance: string, network: string, to: string, text: string): void => {
    this.write(this.options.redis.publish(instanceChannel(instance), JSON.stringify({ network, to, text })));
  };

  /** Refreshes our key; drops the members of instances whose key expired. */
  private async beat(): Promise<void> {
    const { redis, instance, log } = this.options;
    await redis.set(instanceKey(instance), "1", "PX", INSTANCE_TTL_MS);
    for (const [other, peers] of [...this.byInstance]) {
      if ((await redis.exists(instanceKey(other))) === 1) continue;
      log.warn({ instance: other, members: peers.size }, "instance gone; dropping its members");
      for (const peer of [...peers]) {
        this.dropRemote(peer);
        await redis.eval(
          "local r = redis.call('HGET', KEYS[1], ARGV[1]); if r and cjson.decode(r).instance == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end; return 0",
          1,
          membersKey(peer.network),
          peer.nodeId,
          other,
        );
      }
    }
  }

  /** Takes in the members of the other live instances (an instance started after them). */
  private async loadSnapshot(): Promise<void> {
    const { redis } = this.options;
    const alive = new Map<string, boolean>();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${REDIS_PREFIX}:members:*`, "COUNT", 100);
      cursor = next;
      for (const key of keys) {
        const network = key.slice(`${REDIS_PREFIX}:members:`.length);
        for (const text of Object.values(await redis.hgetall(key))) {
          const record = JSON.parse(text) as { instance: string; member: MemberInfo };
          if (record.instance === this.options.instance) continue;
          let live = alive.get(record.instance);
          if (live === undefined) {
            live = (await redis.exists(instanceKey(record.instance))) === 1;
            alive.set(record.instance, live);
          }
          if (live) this.remoteJoined(record.instance, network, record.member);
        }
      }
    } while (cursor !== "0");
  }

  private track(peer: RemotePeer): void {
    let peers = this.byInstance.get(peer.remoteInstance);
    if (peers === undefined) {
      peers = new Set();
      this.byInstance.set(peer.remoteInstance, peers);
    }
    peers.add(peer);
  }

  private untrack(peer: RemotePeer): void {
    const peers = this.byInstance.get(peer.remoteInstance);
    peers?.delete(peer);
    if (peers?.size === 0) this.byInstance.delete(peer.remoteInstance);
  }

  private write(write: Promise<unknown>): void {
    write.catch((error: unknown) => this.options.log.error({ err: errorMessage(error) }, "redis write failed"));
  }

  /** Nothing another instance publishes may take this one down. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.options.log.error({ err: errorMessage(error) }, "cluster event failed");
    }
  }
}
