import type { MemberInfo } from "@ipop/shared";

/** One member of a network: what it announced and the connection handle that owns it. */
export interface Member<P> {
  readonly info: MemberInfo;
  readonly peer: P;
}

/** Result of {@link NetworkRegistry.join}. */
export type JoinOutcome<P> =
  | {
      readonly ok: true;
      /** Members other than the joining node, as they were before it joined. */
      readonly others: readonly Member<P>[];
      /** The connection that held the same node id before and has been removed; the caller must close it. */
      readonly replaced?: Member<P>;
    }
  | { readonly ok: false; readonly reason: "network-full" }
  /** Another node id of the network claims the same virtual IP. */
  | { readonly ok: false; readonly reason: "address-in-use"; readonly holder: MemberInfo };

/** Counts for health checks. */
export interface RegistryStats {
  readonly networks: number;
  readonly members: number;
}

/**
 * Who is in which network. Pure bookkeeping with no I/O, generic over the connection handle `P` so it can be
 * tested without sockets. Networks exist only while they have members: the last leave deletes the network,
 * so a client cycling through network names cannot grow the map.
 */
export class NetworkRegistry<P> {
  private readonly networks = new Map<string, Map<string, Member<P>>>();
  /** Per network, the member using each virtual IP: address checks and lease allocation ask this. */
  private readonly addresses = new Map<string, Map<string, Member<P>>>();
  private memberCount = 0;

  /** @param maxMembers - members allowed per network. */
  constructor(private readonly maxMembers: number) {}

  /**
   * Adds `peer` as `info.nodeId` to `network`. A node id already present is replaced, not refused: an agent
   * that restarts quickly must get back in before the server notices its old connection is dead. A
   * replacement therefore never counts against the member limit.
   */
  join(network: string, info: MemberInfo, peer: P): JoinOutcome<P> {
    let members = this.networks.get(network);
    const previous = members?.get(info.nodeId);
    if (previous === undefined && members !== undefined && members.size >= this.maxMembers) {
      return { ok: false, reason: "network-full" };
    }
    // Two nodes with one address would split its traffic: the first claim stands. (A crashed agent's
    // connection closes with its process, so its restart is not refused.)
    const holder = this.addresses.get(network)?.get(info.ip);
    if (holder !== undefined && holder.info.nodeId !== info.nodeId) {
      return { ok: false, reason: "address-in-use", holder: holder.info };
    }
    let addresses = this.addresses.get(network);
    if (members === undefined || addresses === undefined) {
      members = new Map();
      addresses = new Map();
      this.networks.set(network, members);
      this.addresses.set(network, addresses);
    }
    const others: Member<P>[] = [];
    for (const member of members.values()) if (member !== previous) others.push(member);
    const joined = { info, peer };
    members.set(info.nodeId, joined);
    // A rejoin may come with another address: the old one is free again.
    if (previous !== undefined && addresses.get(previous.info.ip) === previous) addresses.delete(previous.info.ip);
    addresses.set(info.ip, joined);
    if (previous === undefined) {
      this.memberCount++;
      return { ok: true, others };
    }
    return { ok: true, others, replaced: previous };
  }

  /**
   * Removes `nodeId` from `network` if, and only if, it is still held by `peer`. The check matters after a
   * replacement: the old connection's late close must not remove the new one.
   * @returns whether a member was removed.
   */
  leave(network: string, nodeId: string, peer: P): boolean {
    const members = this.networks.get(network);
    const member = members?.get(nodeId);
    if (members === undefined || member === undefined || member.peer !== peer) return false;
    members.delete(nodeId);
    const addresses = this.addresses.get(network);
    if (addresses?.get(member.info.ip) === member) addresses.delete(member.info.ip);
    this.memberCount--;
    if (members.size === 0) {
      this.networks.delete(network);
      this.addresses.delete(network);
    }
    return true;
  }

  /** The connection holding `nodeId` in `network`, if any. */
  lookup(network: string, nodeId: string): P | undefined {
    return this.networks.get(network)?.get(nodeId)?.peer;
  }

  /** The member of `network` using the virtual IP `ip` (dotted quad), if any. */
  memberAt(network: string, ip: string): Member<P> | undefined {
    return this.addresses.get(network)?.get(ip);
  }

  /** The members of `network` (empty when it does not exist). A snapshot, safe to iterate while mutating. */
  members(network: string): Member<P>[] {
    const members = this.networks.get(network);
    return members === undefined ? [] : [...members.values()];
  }

  /** Each network with members, and how many it has. */
  *networkSizes(): IterableIterator<[network: string, members: number]> {
    for (const [network, members] of this.networks) yield [network, members.size];
  }

  stats(): RegistryStats {
    return { networks: this.networks.size, members: this.memberCount };
  }
}
