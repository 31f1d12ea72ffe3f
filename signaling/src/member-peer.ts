import type { MemberInfo, ServerMessage } from "@ipop/shared";
import { encodeServerMessage } from "./wire.js";

/**
 * What the registry holds for each member: the connection it is on. A member joined to this server is a
 * local {@link Session}; with `--redis`, a member joined to another instance is a remote peer
 * (cluster/remote-peer.ts) that forwards through Redis.
 */
export interface MemberPeer {
  /**
   * The instance id of the server holding the connection, for a member of another instance; undefined
   * for a local one. Notices (member-joined, member-left, revocations) go only to local peers: every
   * instance tells its own members.
   */
  readonly remoteInstance: string | undefined;
  /** Sends an encoded server message to the member (through Redis for a remote one). */
  deliver(text: string): void;
  /** Closes the member's connection with `code` (a remote one is closed by its own instance). */
  close(code: number, reason: string): void;
  /** Closes the connection if the member's certificate is now revoked; true when it did. */
  dropIfRevoked(): boolean;
}

/** Whether `peer` is connected to this server. */
export function isLocal(peer: MemberPeer): boolean {
  return peer.remoteInstance === undefined;
}

/** How a session tells other instances (cluster/redis-cluster.ts) that a member joined or left here. */
export interface ClusterAnnouncer {
  joined(network: string, member: MemberInfo): void;
  left(network: string, nodeId: string): void;
}

/**
 * Sends `message` to the local ones of `peers`. Members of other instances hear of it from their own
 * instance, which sees the same join or leave through Redis and works out the same neighbourhood.
 */
export function broadcast(peers: readonly MemberPeer[], message: ServerMessage): void {
  const text = encodeServerMessage(message);
  if (text === undefined) return;
  for (const peer of peers) if (isLocal(peer)) peer.deliver(text);
}
