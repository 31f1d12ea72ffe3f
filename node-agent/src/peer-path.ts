/**
 * How a link reaches its peer, in the words `ipop status` uses: the kind of path its selected
 * candidate pair takes, and for a relayed path, why nothing better was found.
 */
import type { CandidateType, LinkTransportStats } from "./link/peer-link.js";

/**
 * One word for how the selected pair reaches the peer: relayed if either end is a relay, through a
 * NAT mapping if either end is server- or peer-reflexive, else direct between host addresses.
 */
export function pairType(stats: LinkTransportStats | undefined): CandidateType | null {
  const types = [stats?.localCandidateType, stats?.remoteCandidateType];
  if (types[0] === undefined && types[1] === undefined) return null;
  for (const kind of ["relay", "srflx", "prflx"] as const) if (types.includes(kind)) return kind;
  return "host";
}

/**
 * Why a link goes through TURN, from the candidates each side offered (null when it is not relayed):
 * - "TURN only": a side offered nothing but relay candidates (a relay-only policy, or every other
 *   address filtered out);
 * - "no UDP path": a side got no server-reflexive candidate, so no STUN answer came back over UDP
 *   (UDP blocked, or no STUN server configured);
 * - "hole punching failed (symmetric NAT)": both sides learned their public address, yet no direct
 *   pair worked: a NAT on the way maps each destination to a new port (symmetric) while the other
 *   filters by address and port, the case RFC 4787 says hole punching cannot solve.
 */
export function relayReason(stats: LinkTransportStats | undefined): string | null {
  if (pairType(stats) !== "relay") return null;
  const local = stats?.localCandidateTypes ?? [];
  const remote = stats?.remoteCandidateTypes ?? [];
  const relayOnly = (types: readonly CandidateType[]) => types.length > 0 && types.every((t) => t === "relay");
  if (relayOnly(local) || relayOnly(remote)) return "TURN only";
  if (!local.includes("srflx") || !remote.includes("srflx")) return "no UDP path";
  return "hole punching failed (symmetric NAT)";
}
