import { type MemberInfo, SignalCloseCode } from "@ipop/shared";
import { type SignalServerLimits, wireLimits } from "./limits.js";
import type { ClaimVerdict, MemberPeer } from "./member-peer.js";
import type { Member, NetworkRegistry } from "./network-registry.js";
import { type OutgoingMessage, outgoing } from "./wire.js";

/** The result of {@link enterNetwork}. */
export type NetworkEntry =
  | {
      readonly ok: true;
      /** The encoded `welcome` for the newcomer. */
      readonly welcome: OutgoingMessage;
      /** The newcomer's ring neighbourhood: the welcome lists them, and they hear of the join. */
      readonly neighbours: readonly MemberPeer[];
      /** The connection that held the same node id before; the caller closes it. */
      readonly replaced?: Member<MemberPeer>;
    }
  | {
      readonly ok: false;
      readonly code: "address-in-use" | "network-full";
      /** What the refused client is told. */
      readonly message: string;
      /** The address's holder, for the log. */
      readonly holder?: MemberInfo;
      readonly closeCode: number;
      readonly closeReason: string;
    };

/**
 * Puts `member` into `network` in the registry and builds its `welcome`, or says why it cannot join.
 *
 * The welcome lists the members closest on the ring, not everyone: it stays small however big the
 * network grows, and those are the ones the newcomer links to first (its near neighbours). The node
 * finds the rest through the overlay. It must still fit the message limit that clients enforce; a join
 * that would need a bigger welcome is refused like a full network.
 */
export function enterNetwork(
  registry: NetworkRegistry<MemberPeer>,
  limits: SignalServerLimits,
  network: string,
  member: MemberInfo,
  peer: MemberPeer,
): NetworkEntry {
  const closest = registry.closest(network, member.ip, limits.welcomeMembers, member.nodeId);
  const welcome = outgoing({
    v: 1,
    t: "welcome",
    network,
    members: closest.map((m) => m.info),
    limits: wireLimits(limits),
  });
  const welcomeFits = welcome !== undefined && Buffer.byteLength(welcome.text) <= limits.maxMessageBytes;
  const outcome = welcomeFits ? registry.join(network, member, peer) : undefined;
  if (outcome !== undefined && !outcome.ok && outcome.reason === "address-in-use") {
    return addressInUse(network, member, outcome.holder);
  }
  if (welcome === undefined || outcome === undefined || !outcome.ok) {
    const why = welcomeFits
      ? `has reached its limit of ${limits.maxMembers} members`
      : `has too many members to list within the ${limits.maxMessageBytes}-byte message limit`;
    return networkFull(`network ${network} ${why}`);
  }
  const neighbours = closest.map((m) => m.peer);
  return outcome.replaced === undefined
    ? { ok: true, welcome, neighbours }
    : { ok: true, welcome, neighbours, replaced: outcome.replaced };
}

/** The refusal of a join that Redis turned down (cluster/redis-cluster.ts). */
export function claimRefusal(
  network: string,
  member: MemberInfo,
  verdict: ClaimVerdict & { readonly ok: false; readonly reason: "address-in-use" | "network-full" },
  maxMembers: number,
): NetworkEntry & { ok: false } {
  return verdict.reason === "network-full"
    ? networkFull(`network ${network} has reached its limit of ${maxMembers} members`)
    : addressInUse(network, member, verdict.holder);
}

/** The refusal of a join whose address `holder` already uses. */
export function addressInUse(network: string, member: MemberInfo, holder: MemberInfo): NetworkEntry & { ok: false } {
  return {
    ok: false,
    code: "address-in-use",
    message: `${member.ip} is already used by ${holder.name} (node ${holder.nodeId}) in network ${network}: the same certificate running on two hosts, or two certificates for one address`,
    holder,
    closeCode: SignalCloseCode.addressInUse,
    closeReason: "address in use",
  };
}

/** The refusal of a join to a network at its member limit. */
export function networkFull(message: string): NetworkEntry & { ok: false } {
  return {
    ok: false,
    code: "network-full",
    message,
    closeCode: SignalCloseCode.networkFull,
    closeReason: "network full",
  };
}
