import { RING_SIZE } from "./ring.js";
import { type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";
import { decodeUtf8, encodeUtf8 } from "./utf8.js";

/**
 * Messages nodes exchange inside the overlay: over one link (`message` frames) or routed over
 * several hops (`routed` frames of kind message). JSON, because they are rare and small; the packet
 * path never sees them.
 *
 * - `neighbours`: a node's ring neighbours (near links), so the receiver can find its own; sent over
 *   near links periodically (stabilisation) and in answer to `join`. `links` (optional) lists the
 *   ring addresses of all the sender's up links, so the receiver can route with one hop of lookahead.
 * - `find` / `found`: routed to a ring position to learn which node is closest to it (shortcuts).
 * - `link`: a link-setup envelope (offer, answer, candidates) for the node owning the destination.
 * - `kinds`: why the sender keeps a link (near, shortcut, on-demand...); a link neither side needs
 *   is closed.
 * - `trace-reply`: the path a trace took (trace-path.ts: traces travel as routed frames of their own
 *   kind, so transit hops add themselves without decoding JSON), for `ipop route`.
 * - `ping-reply`: the answer to an overlay ping (`ipop ping`; pings travel like traces): the path it
 *   took and whether it came in over a direct link from its origin.
 * - `revocations`: the network's CA-signed revocation list, flooded over links when a node adopts a
 *   newer one, so revocation reaches every node even without the signaling server.
 * - `status-request` / `status-reply`: remote status for the console (status-requests.ts): a request
 *   sealed by the requester's key, answered with the node's report or a refusal.
 * - `relay-ask` / `relay-ok`: a node that cannot link to `node` asks a peer whether it has a link
 *   to it; the peer answers only if it has (relays.ts).
 * - `relay`: a sealed relay handshake envelope (hello or accept), routed through the chosen relay.
 */
export type OverlayMessage =
  | { readonly t: "neighbours"; readonly members: readonly MemberInfo[]; readonly links?: readonly number[] }
  | { readonly t: "find"; readonly from: MemberInfo }
  | {
      readonly t: "found";
      readonly member: MemberInfo;
      /**
       * The answering node has its share of shortcuts and would refuse one: the asker looks again
       * later without offering a link first. Older nodes leave it out (and older askers ignore it,
       * offer, and are refused as before).
       */
      readonly full?: true;
    }
  | {
      readonly t: "link";
      readonly from: string;
      /** The node id the envelope is for: a restarted agent has the old one's ring address, not its id. */
      readonly to?: string;
      readonly envelope: unknown;
    }
  | { readonly t: "kinds"; readonly kinds: readonly LinkKind[] }
  | { readonly t: "trace-reply"; readonly id: number; readonly path: readonly MemberInfo[]; readonly owner: boolean }
  | {
      readonly t: "ping-reply";
      readonly id: number;
      /** The nodes the ping passed, from its origin to the node answering. */
      readonly path: readonly MemberInfo[];
      /** The answering node owns the pinged address (false: it is only the closest to it). */
      readonly owner: boolean;
      /** The ping came in over a direct link from its origin. */
      readonly direct: boolean;
    }
  | { readonly t: "revocations"; readonly list: string }
  // Relays (relays.ts): may the receiver relay to `node`, yes it may, and the sealed handshake.
  | { readonly t: "relay-ask"; readonly node: string }
  | { readonly t: "relay-ok"; readonly node: string }
  | { readonly t: "relay"; readonly from: string; readonly envelope: unknown }
  | StatusMessage;

/** Remote status messages (status-requests.ts). */
export type StatusMessage =
  | {
      readonly t: "status-request";
      readonly id: number;
      /** The requester, whose certificate (inside `sealed`) must own `from.ip`. */
      readonly from: MemberInfo;
      /** A link envelope `{ status: id }` sealed by the requester for the target node. */
      readonly sealed: unknown;
    }
  /** Exactly one of `report` (the target host's JSON report) and `refused` (why not). */
  | { readonly t: "status-reply"; readonly id: number; readonly report?: unknown; readonly refused?: string };

/**
 * Why a node keeps a link. A link can serve several purposes at once. `relay`: a relayed path
 * runs over it (relays.ts), as this node's first hop or with this node as the relay in the middle.
 */
export type LinkKind = "bootstrap" | "near" | "shortcut" | "on-demand" | "relay";
export const LINK_KINDS: readonly LinkKind[] = ["bootstrap", "near", "shortcut", "on-demand", "relay"];

/** The most members a `neighbours` list or a trace path may hold. */
export const MAX_MEMBER_LIST = 64;
/** Largest encoded message; a link envelope with an SDP offer is the biggest, 2-4 KiB. */
export const MAX_OVERLAY_MESSAGE_BYTES = 48 * 1024;

export function encodeOverlayMessage(message: OverlayMessage): Uint8Array {
  return encodeUtf8(JSON.stringify(message));
}

/** Decodes and validates a message from a peer; returns it or why it was refused. */
export function decodeOverlayMessage(bytes: Uint8Array): OverlayMessage | string {
  if (bytes.length > MAX_OVERLAY_MESSAGE_BYTES) return "oversized";
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes));
  } catch {
    return "not-json";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not-object";
  const m = value as Record<string, unknown>;
  switch (m.t) {
    case "found": {
      const member = parseMemberInfo(m.member);
      if (typeof member === "string") return "bad-member";
      return m.full === true ? { t: "found", member, full: true } : { t: "found", member };
    }
    case "find": {
      const from = parseMemberInfo(m.from);
      return typeof from === "string" ? "bad-member" : { t: "find", from };
    }
    case "neighbours": {
      const members = memberList(m.members);
      if (members === null) return "bad-members";
      if (m.links === undefined) return { t: "neighbours", members };
      const links = ringList(m.links);
      return links === null ? "bad-links" : { t: "neighbours", members, links };
    }
    case "link":
      if (typeof m.from !== "string" || m.from.length > 64 || m.envelope === undefined) return "bad-link";
      if (m.to !== undefined && (typeof m.to !== "string" || m.to.length > 64)) return "bad-link";
      return m.to === undefined
        ? { t: "link", from: m.from, envelope: m.envelope }
        : { t: "link", from: m.from, to: m.to, envelope: m.envelope };
    case "kinds": {
      if (!Array.isArray(m.kinds) || m.kinds.length > LINK_KINDS.length) return "bad-kinds";
      const kinds = m.kinds.filter((k): k is LinkKind => (LINK_KINDS as readonly unknown[]).includes(k));
      return kinds.length === m.kinds.length ? { t: "kinds", kinds } : "bad-kinds";
    }
    case "trace-reply": {
      const path = memberList(m.path);
      if (path === null || !Number.isSafeInteger(m.id)) return "bad-trace";
      return { t: "trace-reply", id: m.id as number, path, owner: m.owner === true };
    }
    case "ping-reply": {
      const path = memberList(m.path);
      if (path === null || !Number.isSafeInteger(m.id)) return "bad-ping";
      return { t: "ping-reply", id: m.id as number, path, owner: m.owner === true, direct: m.direct === true };
    }
    case "revocations":
      // Checked by the node's trust (signature, network, serial); here only its shape.
      return typeof m.list === "string" ? { t: "revocations", list: m.list } : "bad-revocations";
    case "status-request":
    case "status-reply":
      return decodeStatusMessage(m);
    case "relay-ask":
    case "relay-ok":
      return typeof m.node === "string" && m.node.length <= 64 ? { t: m.t, node: m.node } : "bad-relay";
    case "relay":
      if (typeof m.from !== "string" || m.from.length > 64 || m.envelope === undefined) return "bad-relay";
      return { t: "relay", from: m.from, envelope: m.envelope };
    default:
      return "unknown-type";
  }
}

function decodeStatusMessage(m: Record<string, unknown>): StatusMessage | string {
  if (!Number.isSafeInteger(m.id)) return "bad-status";
  const id = m.id as number;
  if (m.t === "status-request") {
    const from = parseMemberInfo(m.from);
    if (typeof from === "string" || m.sealed === undefined) return "bad-status";
    return { t: "status-request", id, from, sealed: m.sealed };
  }
  if (typeof m.refused === "string") return { t: "status-reply", id, refused: m.refused.slice(0, 512) };
  return m.report === undefined ? "bad-status" : { t: "status-reply", id, report: m.report };
}

/** Ring addresses: at most {@link MAX_MEMBER_LIST} integers on the ring. */
function ringList(value: unknown): number[] | null {
  if (!Array.isArray(value) || value.length > MAX_MEMBER_LIST) return null;
  for (const ring of value) if (!Number.isSafeInteger(ring) || ring < 0 || ring >= RING_SIZE) return null;
  return value as number[];
}

function memberList(value: unknown): MemberInfo[] | null {
  if (!Array.isArray(value) || value.length > MAX_MEMBER_LIST) return null;
  const members: MemberInfo[] = [];
  for (const raw of value) {
    const member = parseMemberInfo(raw);
    if (typeof member === "string") return null;
    members.push(member);
  }
  return members;
}
