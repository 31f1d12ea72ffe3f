import { type LinkSignal, MAX_SDP_CHARS } from "./link/peer-link.js";

const MAX_CANDIDATE_CHARS = 1024;

/**
 * Validates a link signal that arrived from another node (the core treats it as opaque). Returns
 * the signal, or why it was refused.
 */
export function parseLinkSignal(payload: unknown): LinkSignal | string {
  if (typeof payload !== "object" || payload === null) return "signal is not an object";
  const p = payload as Record<string, unknown>;
  if (p.kind === "description") {
    if (p.type !== "offer" && p.type !== "answer") return "description type must be offer or answer";
    if (typeof p.sdp !== "string" || p.sdp.length === 0 || p.sdp.length > MAX_SDP_CHARS)
      return "description sdp is missing or too long";
    // Only `true` means anything; an older agent's parser drops the field altogether.
    return p.ipTrack === true && p.type === "answer"
      ? { kind: "description", type: p.type, sdp: p.sdp, ipTrack: true }
      : { kind: "description", type: p.type, sdp: p.sdp };
  }
  if (p.kind === "candidate") {
    if (typeof p.candidate !== "string" || p.candidate.length > MAX_CANDIDATE_CHARS)
      return "candidate is missing or too long";
    if (p.sdpMid !== null && typeof p.sdpMid !== "string") return "candidate sdpMid must be a string or null";
    return { kind: "candidate", candidate: p.candidate, sdpMid: (p.sdpMid as string | null) ?? null };
  }
  return "signal kind must be description or candidate";
}
