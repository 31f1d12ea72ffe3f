/**
 * Requests to the CA side of the server (`--ca`, `--ca-key`), whichever connection they arrive on:
 * `enroll` and `renew` (a certificate from the CA key) and `publish-revocations` (a newer list, sent
 * to every member, revoked members disconnected). Refusals carry the identity verdict's code; logs
 * name who asked, never a token, a proof or a key.
 */
import {
  type EnrollRequest,
  formatIpv4Address,
  type RenewRequest,
  type ServerMessage,
  type SignalErrorCode,
} from "@ipop/shared";
import type { Authority, AuthorityRefusal, MemberDirectory } from "./authority.js";
import type { SignalLogger } from "./logger.js";
import type { NetworkRegistry } from "./network-registry.js";
import { type OutgoingMessage, outgoing } from "./wire.js";

/**
 * What a CA request needs of the server: the CA side, the members of a network and the wall clock. A
 * session's context is one; only this much is named here, so this file does not depend on the session.
 */
export interface CaContext {
  readonly authority?: Authority;
  readonly registry: Pick<NetworkRegistry<CaMember>, "members" | "memberAt">;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallNow(): number;
}

/** What a published revocation list does to a connected member. */
export interface CaMember {
  /** Set for a member of another instance (`--redis`): it is not told from here. */
  readonly remoteInstance: string | undefined;
  /** Sends an encoded server message. */
  deliver(message: OutgoingMessage): void;
  /** Closes the connection if the member's certificate is now revoked; true when it did. */
  dropIfRevoked(): boolean;
}

/** How a request is answered: through the connection it came on. */
export interface CaReply {
  send(message: ServerMessage): void;
  refuse(code: SignalErrorCode, message: string): void;
  readonly log: SignalLogger;
}

/** `enroll` and `renew`: a certificate from the CA key, answered with `enrolled`. */
export function answerIssue(ctx: CaContext, reply: CaReply, request: EnrollRequest | RenewRequest): void {
  const { authority } = ctx;
  if (authority === undefined) {
    reply.refuse("no-ca", "this server has no CA: it admits anyone and issues no certificates");
    return;
  }
  const members = directory(ctx, request.network);
  const now = ctx.wallNow();
  const issued =
    request.t === "enroll" ? authority.enroll(request, now, members) : authority.renew(request, now, members);
  const op = request.t;
  if (!issued.ok) {
    refuseByAuthority(
      reply,
      issued,
      { network: request.network, ...(op === "enroll" ? { name: request.name } : {}) },
      `${op} refused`,
    );
    return;
  }
  reply.send({ v: 1, t: "enrolled", cert: issued.cert, ca: issued.ca });
  const { name, nodeId, ip, tokenId } = issued;
  // Never the token itself: it is a bearer secret. Its id names it.
  reply.log.info(
    { network: request.network, name, nodeId, ip, ...(tokenId === undefined ? {} : { tokenId }) },
    op === "enroll" ? "enrolled" : "renewed",
  );
}

/** A newer revocation list: stored, sent to every member, and revoked members disconnected. */
export function answerPublish(ctx: CaContext, reply: CaReply, network: string, text: string): void {
  const { authority, registry } = ctx;
  if (authority === undefined) {
    reply.refuse("no-ca", "this server has no CA (start it with --ca), so it cannot check or keep revocation lists");
    return;
  }
  const published = authority.publish(network, text);
  if (!published.ok) {
    refuseByAuthority(reply, published, { network }, "revocation list refused");
    return;
  }
  const { list } = published;
  const { notified, disconnected } = tellMembers(registry, network, list.text);
  reply.send({ v: 1, t: "published", network, serial: list.serial, notified, disconnected });
  reply.log.info(
    { network, serial: list.serial, entries: list.entries.length, notified, disconnected },
    "revocation list published",
  );
}

/**
 * Sends a newer revocation list to this server's members of `network` and disconnects the ones it
 * revokes. Members of other instances are told by their own instance, which gets the list through Redis.
 */
export function tellMembers(
  registry: Pick<NetworkRegistry<CaMember>, "members">,
  network: string,
  text: string,
): { notified: number; disconnected: number } {
  const message = outgoing({ v: 1, t: "revocations", network, list: text });
  let notified = 0;
  let disconnected = 0;
  for (const member of registry.members(network)) {
    if (member.peer.remoteInstance !== undefined) continue;
    // A list too large for one message (64 KiB, some hundreds of entries) is not sent: members
    // then need it as a file (ipop up --crl); `notified` tells the publisher.
    if (message !== undefined) {
      member.peer.deliver(message);
      notified++;
    }
    if (member.peer.dropIfRevoked()) disconnected++;
  }
  return { notified, disconnected };
}

/** What the authority may know of a network's members: who uses an address, who has a name. */
function directory(ctx: CaContext, network: string): MemberDirectory {
  const { registry } = ctx;
  return {
    userOf: (address) => registry.memberAt(network, formatIpv4Address(address))?.info.nodeId,
    named: (name) => registry.members(network).find((m) => m.info.name === name)?.info.nodeId,
  };
}

/** Answers a refusal of the CA side (a join, an enrollment, a list) with its code and reason, and logs it. */
export function refuseByAuthority(
  reply: CaReply,
  refusal: AuthorityRefusal,
  fields: Record<string, unknown>,
  what: string,
): void {
  const { code, message, reason } = refusal;
  reply.send(reason === undefined ? { v: 1, t: "error", code, message } : { v: 1, t: "error", code, message, reason });
  // The reason code and who asked; never a token, a proof or a key.
  reply.log.info({ ...fields, code, ...(reason === undefined ? {} : { reason }) }, what);
}
