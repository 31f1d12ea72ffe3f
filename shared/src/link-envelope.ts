import { LINK_KINDS, type LinkKind } from "./overlay-message.js";
import { type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";

/**
 * The body of a signaling `send` that sets up or tears down a link, as one node addresses it to
 * another. The signaling server forwards it without reading it.
 *
 * - `open`: the offerer's first envelope of a session; carries its member record, so the answerer
 *   can create the link even when the server has not told it about the offerer yet, and what the
 *   link is for, so a node with enough shortcuts can refuse one more.
 * - `signal`: a later description or candidate of the same session.
 * - `close`: the sender closed the link; the receiver closes its end at once instead of waiting for
 *   a timeout.
 * - `refresh`: the sender renewed its certificate; its seal carries the new one, so the receiver
 *   keeps the link past the old certificate's expiry.
 *
 * `session` names one link attempt (`<offerer node id>.<counter>`), so a late envelope of an earlier
 * attempt is recognised and dropped.
 */
export type LinkEnvelope =
  | {
      readonly v: 1;
      readonly kind: "open";
      readonly session: string;
      readonly from: MemberInfo;
      readonly purpose: LinkKind;
      readonly payload: unknown;
    }
  | { readonly v: 1; readonly kind: "signal"; readonly session: string; readonly payload: unknown }
  | { readonly v: 1; readonly kind: "close"; readonly session: string; readonly reason: string }
  | { readonly v: 1; readonly kind: "refresh"; readonly session: string };

const SESSION = /^[A-Za-z0-9_-]{1,64}\.\d{1,15}$/;

/** Validates an envelope from another node; returns it or why it was refused. */
export function parseLinkEnvelope(body: unknown): LinkEnvelope | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "envelope is not an object";
  const e = body as Record<string, unknown>;
  if (e.v !== 1) return "envelope version is not 1";
  if (typeof e.session !== "string" || !SESSION.test(e.session)) return "envelope session is malformed";
  switch (e.kind) {
    case "open": {
      const from = parseMemberInfo(e.from);
      if (typeof from === "string") return `open envelope: ${from}`;
      if (e.payload === undefined) return "open envelope has no payload";
      const purpose = e.purpose === undefined ? "near" : e.purpose;
      if (!(LINK_KINDS as readonly unknown[]).includes(purpose)) return "open envelope purpose is unknown";
      return { v: 1, kind: "open", session: e.session, from, purpose: purpose as LinkKind, payload: e.payload };
    }
    case "signal":
      if (e.payload === undefined) return "signal envelope has no payload";
      return { v: 1, kind: "signal", session: e.session, payload: e.payload };
    case "close":
      return {
        v: 1,
        kind: "close",
        session: e.session,
        reason: typeof e.reason === "string" ? e.reason.slice(0, 64) : "",
      };
    case "refresh":
      return { v: 1, kind: "refresh", session: e.session };
    default:
      return "envelope kind is unknown";
  }
}
