import type { MemberInfo } from "@ipop/shared";
import type { Redis } from "ioredis";
import { REDIS_PREFIX } from "../store/redis-store.js";

/** The channel every instance hears joins and leaves on, in the order Redis ran them. */
export const EVENTS_CHANNEL = `${REDIS_PREFIX}:members`;
/** Prefix of each instance's liveness key (`ipop-signal:instance:ID`, refreshed with an expiry). */
export const INSTANCE_KEY_PREFIX = `${REDIS_PREFIX}:instance:`;
/** The hash of a network's members: node id -> {@link MemberRecord} as JSON. */
export const membersKey = (network: string) => `${REDIS_PREFIX}:members:${network}`;
/** The hash of a network's addresses in use: virtual IP -> node id. */
export const addressesKey = (network: string) => `${REDIS_PREFIX}:addresses:${network}`;

/** What the members hash holds for each member. */
export interface MemberRecord {
  readonly instance: string;
  readonly member: MemberInfo;
  /** The claim that admitted it: a release of a given claim removes only that one. */
  readonly claim: string;
}

/**
 * Admission in one step, so two instances admitting clashing joins at the same instant cannot both
 * win: Redis runs scripts one at a time, and the first claim of an address stands. A claim of a node id
 * held elsewhere replaces it (the rule of one server: a node restarting elsewhere gets in), and the
 * order of the published events says which claim came last. An address whose holder's record is gone,
 * names another address, or whose instance's liveness key expired is free. Liveness keys are read
 * without being declared in KEYS: fine on one Redis, not on Redis Cluster.
 *
 * KEYS: members hash, addresses hash. ARGV: node id, ip, record (JSON), event (JSON), channel,
 * member limit, instance key prefix.
 * Returns {"ok"}, {"address-in-use", holder record} or {"network-full"}.
 */
const CLAIM_SCRIPT = `
local nodeId, ip = ARGV[1], ARGV[2]
local holder = redis.call('HGET', KEYS[2], ip)
if holder and holder ~= nodeId then
  local text = redis.call('HGET', KEYS[1], holder)
  if text then
    local held = cjson.decode(text)
    if held.member.ip == ip and redis.call('EXISTS', ARGV[7] .. held.instance) == 1 then
      return {'address-in-use', text}
    end
  end
end
local previous = redis.call('HGET', KEYS[1], nodeId)
if previous then
  local old = cjson.decode(previous).member.ip
  if old ~= ip and redis.call('HGET', KEYS[2], old) == nodeId then redis.call('HDEL', KEYS[2], old) end
elseif redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then
  return {'network-full'}
end
redis.call('HSET', KEYS[1], nodeId, ARGV[3])
redis.call('HSET', KEYS[2], ip, nodeId)
redis.call('PUBLISH', ARGV[5], ARGV[4])
return {'ok'}
`;

/**
 * Removes a member if its record is still the given instance's (and, with a claim id, that claim's):
 * the member may have joined another instance since. Publishes the event (when one is given) only
 * then. KEYS: members hash, addresses hash. ARGV: node id, instance, claim id or "", event JSON or "",
 * channel.
 */
const RELEASE_SCRIPT = `
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return 0 end
local held = cjson.decode(text)
if held.instance ~= ARGV[2] or (ARGV[3] ~= '' and held.claim ~= ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], held.member.ip) == ARGV[1] then redis.call('HDEL', KEYS[2], held.member.ip) end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[4]) end
return 1
`;

/** The outcome of {@link MemberScripts.claim}. */
export type ClaimReply =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "address-in-use"; readonly holder: MemberRecord }
  | { readonly ok: false; readonly reason: "network-full" };

interface ScriptedRedis {
  ipopClaim(...args: string[]): Promise<[string, string?]>;
  ipopRelease(...args: string[]): Promise<number>;
}

/** The membership scripts, defined once on a client (ioredis sends them by SHA after the first call). */
export class MemberScripts {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis) {
    redis.defineCommand("ipopClaim", { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    redis.defineCommand("ipopRelease", { numberOfKeys: 2, lua: RELEASE_SCRIPT });
    this.redis = redis as unknown as ScriptedRedis;
  }

  /** Claims `record.member` in `network` and publishes `event` if it is admitted. */
  async claim(network: string, record: MemberRecord, event: string, maxMembers: number): Promise<ClaimReply> {
    const { member } = record;
    const [verdict, holder] = await this.redis.ipopClaim(
      membersKey(network),
      addressesKey(network),
      member.nodeId,
      member.ip,
      JSON.stringify(record),
      event,
      EVENTS_CHANNEL,
      String(maxMembers),
      INSTANCE_KEY_PREFIX,
    );
    if (verdict === "ok") return { ok: true };
    if (verdict === "address-in-use" && holder !== undefined) {
      return { ok: false, reason: "address-in-use", holder: JSON.parse(holder) as MemberRecord };
    }
    return { ok: false, reason: "network-full" };
  }

  /**
   * Removes `nodeId` from `network` if `instance` (and `claim`, when given) still holds it, publishing
   * `event` (when given) if it did. Resolves with whether it did.
   */
  async release(network: string, nodeId: string, instance: string, claim = "", event = ""): Promise<boolean> {
    const removed = await this.redis.ipopRelease(
      membersKey(network),
      addressesKey(network),
      nodeId,
      instance,
      claim,
      event,
      EVENTS_CHANNEL,
    );
    return removed === 1;
  }
}
