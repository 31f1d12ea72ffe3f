import type { MemberInfo } from "./signaling-protocol.js";

/**
 * The signaling server's view of the network, as far as this node knows it: whether the server is
 * reachable and who it lists as members. It is the way in for a node with no link at all; links
 * that are up do not depend on it.
 */
export class Membership {
  private up = false;
  private readonly listed = new Map<string, MemberInfo>();

  constructor(private readonly selfId: string) {}

  get signalingUp(): boolean {
    return this.up;
  }

  get members(): ReadonlyMap<string, MemberInfo> {
    return this.listed;
  }

  /** The server welcomed us with the current members (revoked ones left out by the caller). */
  welcome(members: readonly MemberInfo[]): void {
    this.up = true;
    this.listed.clear();
    for (const member of members) if (member.nodeId !== this.selfId) this.listed.set(member.nodeId, member);
  }

  down(): void {
    this.up = false;
  }

  joined(member: MemberInfo): void {
    this.listed.set(member.nodeId, member);
  }

  left(nodeId: string): void {
    this.listed.delete(nodeId);
  }

  /** Forgets members for which `revoked` holds. */
  forget(revoked: (member: MemberInfo) => boolean): void {
    for (const [nodeId, member] of this.listed) if (revoked(member)) this.listed.delete(nodeId);
  }

  /** Forgets everyone (the node is shutting down). */
  clear(): void {
    this.listed.clear();
    this.up = false;
  }
}
