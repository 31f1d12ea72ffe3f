import type { LinkRecord } from "./link-record.js";
import type { Messenger } from "./messenger.js";
import type { NodeContext } from "./node-context.js";
import { MAX_MEMBER_LIST } from "./overlay-message.js";
import type { MemberInfo } from "./signaling-protocol.js";

/**
 * An unchanged neighbour list goes to a peer again this many times per `knownTtlMs` (every 20 s by
 * default), so the nodes on it stay known to the peer while nothing changes.
 */
const GOSSIP_REFRESHES_PER_TTL = 3;

/**
 * Tells every linked node who our near neighbours are. Near neighbours use it to knit the ring; a
 * node whose neighbours on one side all died walks towards its new ones through whatever links it
 * has, each round learning nodes closer to its position.
 *
 * Only what changed goes out: a peer gets our neighbour list when it differs from the one it last
 * got (a new link gets it at once), and an unchanged one again only every
 * {@link GOSSIP_REFRESHES_PER_TTL}th of `knownTtlMs`, before the peer would forget the nodes on it.
 * Repeating an unchanged list every 2 s on every link was a fifth of a large simulation's CPU
 * (decoding and `learn`) and told nobody anything; a change (a neighbour joined, died or went
 * quiet) still goes out within one gossip interval. The message is the same as ever, so older
 * peers read it as before and merely get it less often.
 */
export function sendNeighbourLists(
  ctx: NodeContext,
  messenger: Messenger,
  now: number,
  near: ReadonlySet<string>,
): void {
  const members: MemberInfo[] = [ctx.self];
  for (const nodeId of near) {
    const link = ctx.links.byPeer.get(nodeId);
    // Only neighbours heard from lately: a dead one must not be spread while its link times out.
    const fresh = link !== undefined && now - link.heardAt() < 1.5 * ctx.timing.keepaliveIntervalMs;
    if (link?.life.state === "up" && fresh) members.push(link.peer);
  }
  const membersVersion = members.map((member) => member.nodeId).join(",");
  const refreshBefore = now - ctx.timing.knownTtlMs / GOSSIP_REFRESHES_PER_TTL;
  // Our link list goes only to peers that have not had this version of it: the control channel is
  // reliable and ordered, and decoding it every 2 s on every link was most of the gossip's cost.
  const links = ctx.links.up.slice(0, MAX_MEMBER_LIST).map((link) => link.ring);
  const version = links.join(",");
  const withLinks: LinkRecord[] = [];
  const membersOnly: LinkRecord[] = [];
  for (const link of ctx.links.up) {
    const { purpose } = link;
    const linksStale = purpose.linksSent !== version;
    if (!linksStale && purpose.membersSent === membersVersion && purpose.membersSentAt > refreshBefore) continue;
    purpose.membersSent = membersVersion;
    purpose.membersSentAt = now;
    if (linksStale) {
      purpose.linksSent = version;
      withLinks.push(link);
    } else membersOnly.push(link);
  }
  if (withLinks.length > 0) messenger.sendLinkMessages(withLinks, { t: "neighbours", members, links });
  if (membersOnly.length > 0) messenger.sendLinkMessages(membersOnly, { t: "neighbours", members });
}
