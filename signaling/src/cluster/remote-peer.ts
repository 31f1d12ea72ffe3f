import type { MemberPeer } from "../member-peer.js";
import type { OutgoingMessage } from "../wire.js";

/** How a remote peer forwards a message: to the instance holding the member, through Redis. */
export type ForwardToInstance = (instance: string, network: string, nodeId: string, text: string) => void;

/**
 * A member joined to another instance of the network (`--redis`). Messages for it are forwarded to that
 * instance; closing and revocation are that instance's business (it hears of the same events).
 */
export class RemotePeer implements MemberPeer {
  constructor(
    readonly remoteInstance: string,
    readonly network: string,
    readonly nodeId: string,
    private readonly forward: ForwardToInstance,
  ) {}

  deliver(message: OutgoingMessage): void {
    this.forward(this.remoteInstance, this.network, this.nodeId, message.text);
  }

  close(): void {
    // Its own instance closes it: it sees the join that replaced it through Redis too.
  }

  dropIfRevoked(): boolean {
    return false;
  }
}
