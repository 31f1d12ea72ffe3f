import { randomBytes } from "node:crypto";
import { errorMessage, type MemberInfo, SignalCloseCode } from "@ipop/shared";
import type { Redis } from "ioredis";
import type { SignalLogger } from "../logger.js";
import { broadcast, type ClaimVerdict, type ClusterAnnouncer, isLocal, type MemberPeer } from "../member-peer.js";
import type { NetworkRegistry } from "../network-registry.js";
import { REDIS_PREFIX } from "../store/redis-store.js";
import { OutgoingMessage } from "../wire.js";
import { EVENTS_CHANNEL, INSTANCE_KEY_PREFIX, type MemberRecord, MemberScripts } from "./member-scripts.js";
import { RemotePeer } from "./remote-peer.js";

const instanceChannel = (instance: string) => `${REDIS_PREFIX}:to:${instance}`;
const instanceKey = (instance: string) => `${INSTANCE_KEY_PREFIX}${instance}`;
/** An instance that has not refreshed its key for this long is gone; its members are dropped. */
const INSTANCE_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;
/** A claim Redis has not settled in this long is refused as unavailable (Redis out of reach). */
const CLAIM_TIMEOUT_MS = 5_000;

/** A claim sent to Redis whose join event this instance has not seen yet. */
interface PendingClaim {
  readonly network: string;
  readonly member: MemberInfo;
  /** Called once with the verdict; cleared when the claimant went away. */
  done: ((verdict: ClaimVerdict) => void) | undefined;
  readonly timer: NodeJS.Timeout;
}

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
  /** Members allowed per network, across all instances (the server's `maxMembers`). */
  readonly maxMembers: number;
  readonly log: SignalLogger;
}

/**
 * Several `ipop-signal` instances as one server (`--redis`): each keeps the whole membership of every
 * network in its registry, its own members as sessions and the others' as {@link RemotePeer}s.
 *  - A join here is a claim: one Lua script (cluster/member-scripts.ts) checks the address and the
 *    member limit, writes the member to a hash per network (for instances that start later) and
 *    publishes the join on one channel, all in one step, so clashing joins on two instances cannot
 *    both be admitted. Even the claiming instance admits its member only when the join event comes
 *    back on the channel: every instance then applies every join and leave in the one order Redis ran
 *    them, and agrees which of two claims of one node id came last (that one stays).
 *  - Every instance applies each join and leave to its registry and tells its own members in the ring
 *    neighbourhood, so the neighbourhood hears of it once, whoever holds each neighbour.
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
  private readonly scripts: MemberScripts;
  /** Claims by id whose join event has not come back yet. */
  private readonly pending = new Map<string, PendingClaim>();
  /**
   * The claim that admitted each member of ours (key: network, newline, node id). A leave releases only
   * that claim: a node rejoining here while its old connection closes has a newer claim in Redis, which
   * the old connection's leave must not remove.
   */
  private readonly admittedBy = new Map<string, string>();
  private claimSeq = 0;

  constructor(private readonly options: ClusterOptions) {
    this.scripts = new MemberScripts(options.redis);
  }

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

  /**
   * Claims `member`'s node id and address in `network` for this instance. `done` is called exactly once,
   * unless the returned cancel function is called first: with ok when the join event comes back from
   * Redis (synchronously, in event order, so the caller admits the member before any later event is
   * applied), or with the refusal. A claim cancelled after Redis admitted it is released again.
   */
  claim(network: string, member: MemberInfo, done: (verdict: ClaimVerdict) => void): () => void {
    const { instance, maxMembers, log } = this.options;
    const id = `${instance}.${++this.claimSeq}`;
    const timer = setTimeout(() => {
      this.settle(id, { ok: false, reason: "unavailable" });
      // Redis may still run it later: the event then finds no claim and releases it.
    }, CLAIM_TIMEOUT_MS);
    this.pending.set(id, { network, member, done, timer });
    const record: MemberRecord = { instance, member, claim: id };
    const event = JSON.stringify({ kind: "join", instance, network, member, claim: id });
    this.scripts.claim(network, record, event, maxMembers).then(
      (reply) => {
        if (!reply.ok) {
          this.settle(
            id,
            reply.reason === "address-in-use"
              ? { ...reply, holder: reply.holder.member }
              : { ok: false, reason: reply.reason },
          );
        }
        // Admitted: the join event on the channel settles it, in order with everyone else's.
      },
      (error: unknown) => {
        log.warn({ network, nodeId: member.nodeId, err: errorMessage(error) }, "redis claim failed");
        this.settle(id, { ok: false, reason: "unavailable" });
      },
    );
    return () => {
      const claim = this.pending.get(id);
      if (claim !== undefined) claim.done = undefined;
    };
  }

  left(network: string, nodeId: string): void {
    const { instance } = this.options;
    const event = JSON.stringify({ kind: "leave", instance, network, nodeId });
    const key = `${network}\n${nodeId}`;
    const claim = this.admittedBy.get(key);
    this.admittedBy.delete(key);
    // Only our own record, of the claim that admitted it: the member may already have joined another
    // instance, or claimed again here.
    if (claim !== undefined) this.write(this.scripts.release(network, nodeId, instance, claim, event));
  }

  /** Stops the heartbeat and the subscription and removes this instance's key (its members left already). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, reason: "unavailable" });
    this.subscriber?.disconnect();
    await this.options.redis.del(instanceKey(this.options.instance)).catch(() => undefined);
  }

  private onMessage(channel: string, text: string): void {
    const m = JSON.parse(text) as Record<string, unknown>;
    if (channel === instanceChannel(this.options.instance)) {
      // A message for one of our members from another instance's member.
      if (typeof m.network !== "string" || typeof m.to !== "string" || typeof m.text !== "string") return;
      const peer = this.options.registry.lookup(m.network, m.to);
      if (peer !== undefined && isLocal(peer)) peer.deliver(new OutgoingMessage(m.text));
      return;
    }
    if (typeof m.instance !== "string" || typeof m.network !== "string") return;
    if (m.instance === this.options.instance) {
      if (m.kind === "join" && typeof m.claim === "string")
        this.ownJoinEvent(m.claim, m.network, m.member as MemberInfo);
      return;
    }
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
        const { peer, info } = member;
        // Redis may have lost us (restarted empty) while another instance admitted a clash: ours goes.
        this.claim(network, info, (verdict) => {
          if (verdict.ok || verdict.reason === "unavailable") return;
          log.warn({ network, nodeId: info.nodeId, reason: verdict.reason }, "member clashes after a resync");
          const code = verdict.reason === "address-in-use" ? SignalCloseCode.addressInUse : SignalCloseCode.networkFull;
          peer.close(code, verdict.reason);
        });
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
    this.evictStaleHolder(network, member);
    const outcome = registry.join(network, member, peer);
    if (!outcome.ok) {
      // Redis admitted it, so this instance's view is behind (e.g. our own liveness key lapsed and the
      // others dropped our members); ours stays until it leaves.
      log.warn({ network, nodeId: member.nodeId, reason: outcome.reason }, "a join on another instance clashes here");
      return;
    }
    this.track(peer);
    const replaced = outcome.replaced?.peer;
    if (replaced instanceof RemotePeer) this.untrack(replaced);
    // Our member moved to another instance: its old connection here goes, without a departure notice.
    else if (replaced !== undefined) {
      // Its record in Redis is the other instance's now; the closing connection has nothing to release.
      this.admittedBy.delete(`${network}\n${member.nodeId}`);
      replaced.close(SignalCloseCode.replaced, "replaced by a connection to another instance");
    }
    const neighbours = registry.closest(network, member.ip, neighbourhoodSize, member.nodeId).map((m) => m.peer);
    if (replaced !== undefined) broadcast(neighbours, { v: 1, t: "member-left", nodeId: member.nodeId });
    broadcast(neighbours, { v: 1, t: "member-joined", member });
  }

  /** Our own join event is back: the claim is admitted, in order with every other event. */
  private ownJoinEvent(id: string, network: string, member: MemberInfo): void {
    const claim = this.pending.get(id);
    const done = claim?.done;
    if (claim !== undefined) {
      this.pending.delete(id);
      clearTimeout(claim.timer);
    }
    if (done === undefined) {
      // The claimant went away (closed, or the claim timed out) after Redis admitted it: undo it.
      this.write(
        this.scripts.release(
          network,
          member.nodeId,
          this.options.instance,
          id,
          JSON.stringify({ kind: "leave", instance: this.options.instance, network, nodeId: member.nodeId }),
        ),
      );
      return;
    }
    this.evictStaleHolder(network, member);
    this.admittedBy.set(`${network}\n${member.nodeId}`, id);
    done({ ok: true });
  }

  /**
   * Redis admitted `member`, so a remote member still holding its address here is stale (its instance
   * died and the heartbeat has not dropped it yet): drop it before the join.
   */
  private evictStaleHolder(network: string, member: MemberInfo): void {
    const holder = this.options.registry.memberAt(network, member.ip);
    if (holder !== undefined && holder.info.nodeId !== member.nodeId && holder.peer instanceof RemotePeer) {
      this.dropRemote(holder.peer);
    }
  }

  /** Settles a claim that was refused or not answered, if it is still pending. */
  private settle(id: string, verdict: ClaimVerdict): void {
    const claim = this.pending.get(id);
    if (claim === undefined) return;
    this.pending.delete(id);
    clearTimeout(claim.timer);
    claim.done?.(verdict);
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
        await this.scripts.release(peer.network, peer.nodeId, other);
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
          const record = JSON.parse(text) as MemberRecord;
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
