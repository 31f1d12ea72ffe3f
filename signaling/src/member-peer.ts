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
