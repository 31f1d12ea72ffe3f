import { type MemberInfo, parseIpv4Address, ringAddress } from "@ipop/shared";
import { RingRoster } from "./ring-roster.js";

/** One member of a network: what it announced, its ring position and the connection handle that owns it. */
export interface Member<P> {
  readonly info: MemberInfo;
  /** Ring address of `info.ip` in the network (shared/src/ring.ts): where its neighbourhood is. */
  readonly ring: number;
  readonly peer: P;
}

/** Result of {@link NetworkRegistry.join}. */
export type JoinOutcome<P> =
  | {
      readonly ok: true;
      /** The connection that held the same node id before and has been removed; the caller must close it. */
      readonly replaced?: Member<P>;
    }
  | { readonly ok: false; readonly reason: "network-full" }
  /** Another node id of the network claims the same virtual IP. */
  | { readonly ok: false; readonly reason: "address-in-use"; readonly holder: MemberInfo };

/** Result of a successful {@link NetworkRegistry.leave}: the ring neighbourhood the member left. */
export interface LeaveOutcome<P> {
  /** The members closest to where the departed member sat: the ones its departure concerns. */
  readonly neighbours: readonly Member<P>[];
}

/** Counts for health checks. */
export interface RegistryStats {
  readonly networks: number;
  readonly members: number;
}

interface Network<P> {
  readonly byId: Map<string, Member<P>>;
  /** The member using each virtual IP: address checks and lease allocation ask this. */
  readonly byAddress: Map<string, Member<P>>;
  readonly roster: RingRoster<Member<P>>;
}

/**
 * Who is in which network. Pure bookkeeping with no I/O, generic over the connection handle `P` so it can be
 * tested without sockets. Networks exist only while they have members: the last leave deletes the network,
 * so a client cycling through network names cannot grow the map.
 *
 * Members are also kept in ring order, so the members closest to a ring position (a joiner's `welcome`, who
 * hears of a join or leave) cost O(log N + k), not O(N).
 */
export class NetworkRegistry<P> {
  private readonly networks = new Map<string, Network<P>>();
  private memberCount = 0;

  /**
   * @param maxMembers - members allowed per network.
   * @param neighbourhoodSize - how many members {@link leave} reports as the departed member's neighbourhood.
   */
  constructor(
    private readonly maxMembers: number,
    private readonly neighbourhoodSize = 16,
  ) {}

  /**
   * Adds `peer` as `info.nodeId` to `network`. A node id already present is replaced, not refused: an agent
   * that restarts quickly must get back in before the server notices its old connection is dead. A
   * replacement therefore never counts against the member limit.
   */
  join(network: string, info: MemberInfo, peer: P): JoinOutcome<P> {
    let net = this.networks.get(network);
    const previous = net?.byId.get(info.nodeId);
    if (previous === undefined && net !== undefined && net.byId.size >= this.maxMembers) {
      return { ok: false, reason: "network-full" };
    }
    // Two nodes with one address would split its traffic: the first claim stands. (A crashed agent's
    // connection closes with its process, so its restart is not refused.)
    const holder = net?.byAddress.get(info.ip);
    if (holder !== undefined && holder.info.nodeId !== info.nodeId) {
      return { ok: false, reason: "address-in-use", holder: holder.info };
    }
    if (net === undefined) {
      net = { byId: new Map(), byAddress: new Map(), roster: new RingRoster() };
      this.networks.set(network, net);
    }
    const joined: Member<P> = { info, ring: this.ringOf(network, info.ip), peer };
    if (previous !== undefined) {
      net.roster.remove(previous.ring, previous.info.nodeId);
      // A rejoin may come with another address: the old one is free again.
      if (net.byAddress.get(previous.info.ip) === previous) net.byAddress.delete(previous.info.ip);
    }
    net.byId.set(info.nodeId, joined);
    net.byAddress.set(info.ip, joined);
    net.roster.insert(joined.ring, info.nodeId, joined);
    if (previous === undefined) {
      this.memberCount++;
      return { ok: true };
    }
    return { ok: true, replaced: previous };
  }

  /**
   * Removes `nodeId` from `network` if, and only if, it is still held by `peer`. The check matters after a
   * replacement: the old connection's late close must not remove the new one.
   * @returns the departed member's ring neighbourhood, or undefined when nothing was removed.
   */
  leave(network: string, nodeId: string, peer: P): LeaveOutcome<P> | undefined {
    const net = this.networks.get(network);
    const member = net?.byId.get(nodeId);
    if (net === undefined || member === undefined || member.peer !== peer) return undefined;
    net.byId.delete(nodeId);
    if (net.byAddress.get(member.info.ip) === member) net.byAddress.delete(member.info.ip);
    net.roster.remove(member.ring, nodeId);
    this.memberCount--;
    if (net.byId.size === 0) {
      this.networks.delete(network);
      return { neighbours: [] };
    }
    return { neighbours: net.roster.closest(member.ring, this.neighbourhoodSize) };
  }

  /**
   * Up to `count` members of `network` closest on the ring to where `ip` sits, alternating clockwise and
   * anticlockwise, leaving out `exclude`. Everyone but `exclude` when the network is that small.
   */
  closest(network: string, ip: string, count: number, exclude?: string): Member<P>[] {
    const net = this.networks.get(network);
    if (net === undefined) return [];
    return net.roster.closest(this.ringOf(network, ip), count, exclude);
  }

  /** The connection holding `nodeId` in `network`, if any. */
  lookup(network: string, nodeId: string): P | undefined {
    return this.networks.get(network)?.byId.get(nodeId)?.peer;
  }

  /** The member of `network` using the virtual IP `ip` (dotted quad), if any. */
  memberAt(network: string, ip: string): Member<P> | undefined {
    return this.networks.get(network)?.byAddress.get(ip);
  }

  /** The members of `network` (empty when it does not exist). A snapshot, safe to iterate while mutating. */
  members(network: string): Member<P>[] {
    const net = this.networks.get(network);
    return net === undefined ? [] : [...net.byId.values()];
  }

  /** Each network with members, and how many it has. */
  *networkSizes(): IterableIterator<[network: string, members: number]> {
    for (const [network, net] of this.networks) yield [network, net.byId.size];
  }

  stats(): RegistryStats {
    return { networks: this.networks.size, members: this.memberCount };
  }

  private ringOf(network: string, ip: string): number {
    // The parser (signaling-protocol.ts) admits only dotted quads; 0 keeps a slip from throwing.
    return ringAddress(network, parseIpv4Address(ip) ?? 0);
  }
}
