import type { MemberInfo, ServerMessage } from "@ipop/shared";
import { type OutgoingMessage, outgoing } from "./wire.js";

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
  deliver(message: OutgoingMessage): void;
  /** Closes the member's connection with `code` (a remote one is closed by its own instance). */
  close(code: number, reason: string): void;
  /** Closes the connection if the member's certificate is now revoked; true when it did. */
  dropIfRevoked(): boolean;
}

/** Whether `peer` is connected to this server. */
export function isLocal(peer: MemberPeer): boolean {
  return peer.remoteInstance === undefined;
}

/** The answer to a {@link ClusterAnnouncer.claim}. */
export type ClaimVerdict =
  | { readonly ok: true }
  /** Another node id of the network holds the address, on some instance. */
  | { readonly ok: false; readonly reason: "address-in-use"; readonly holder: MemberInfo }
  | { readonly ok: false; readonly reason: "network-full" }
  /** Redis did not answer in time (out of reach): the client should try again, perhaps elsewhere. */
  | { readonly ok: false; readonly reason: "unavailable" };

/** How a session admits a member across instances (cluster/redis-cluster.ts) and says it left. */
export interface ClusterAnnouncer {
  /**
   * Claims the member's node id and address atomically across instances. `done` is called once with
   * the verdict (an ok in the order every instance applies joins), unless the returned cancel function
   * is called first; a cancelled claim that Redis admitted is released by the cluster.
   */
  claim(network: string, member: MemberInfo, done: (verdict: ClaimVerdict) => void): () => void;
  left(network: string, nodeId: string): void;
}

/**
 * Sends `message` to the local ones of `peers`. Members of other instances hear of it from their own
 * instance, which sees the same join or leave through Redis and works out the same neighbourhood.
 */
export function broadcast(peers: readonly MemberPeer[], message: ServerMessage): void {
  // Encoded (and framed) once, whatever the number of recipients.
  const encoded = outgoing(message);
  if (encoded === undefined) return;
  for (const peer of peers) if (isLocal(peer)) peer.deliver(encoded);
}
