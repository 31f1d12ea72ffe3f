import type { LinkLifecycle } from "./link-lifecycle.js";
import type { LinkRecord } from "./link-record.js";
import type { Membership } from "./membership.js";
import type { Messenger } from "./messenger.js";
import type { Neighbourhood } from "./neighbourhood.js";
import type { NodeContext } from "./node-context.js";
import { type NodeTrust, refusalReason } from "./node-trust.js";

/**
 * The network's revocation list as it spreads: a newer list (the trust checks its signature) is
 * adopted, passed on over every other link, and links to the nodes it revokes close at once,
 * without waiting for the revoked node's cooperation.
 */
export class Revocations {
  constructor(
    private readonly ctx: NodeContext,
    private readonly trust: NodeTrust,
    private readonly parts: {
      readonly lifecycle: LinkLifecycle;
      readonly messenger: Messenger;
      readonly membership: Membership;
      readonly neighbourhood: Neighbourhood;
    },
  ) {}

  /** A list from the signaling server or from `via`, a linked peer. */
  offer(now: number, list: string, via?: LinkRecord): void {
    const verdict = this.trust.offerRevocationList(list);
    if (verdict === "known") return;
    if (verdict !== "newer") {
      this.ctx.drops.add(`revocations-${refusalReason(verdict)}`);
      return;
    }
    const { lifecycle, messenger, membership, neighbourhood } = this.parts;
    const closedLinks = lifecycle.closeRevokedLinks(now);
    for (const link of this.ctx.links.up) if (link !== via) messenger.sendLinkMessage(link, { t: "revocations", list });
    neighbourhood.forgetRevoked();
    membership.forget((member) => this.trust.isRevoked(member.nodeId, member.name));
    const { self } = this.ctx;
    this.ctx.actions.emit({
      kind: "revocations-updated",
      closedLinks,
      self: this.trust.isRevoked(self.nodeId, self.name),
    });
  }
}
