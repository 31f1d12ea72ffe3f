import type { CandidateType } from "./peer-link.js";

/**
 * One ICE candidate attribute (RFC 8839 section 5.1), the fields the agent needs: where the
 * candidate points and what kind it is.
 */
export interface ParsedCandidate {
  readonly foundation: string;
  readonly component: number;
  /** Lower-case transport, "udp" or "tcp". */
  readonly transport: string;
  readonly priority: number;
  /** An IPv4 or IPv6 literal, or a hostname (browsers hide host IPs behind mDNS `*.local` names). */
  readonly address: string;
  readonly port: number;
  readonly type: CandidateType;
}

const CANDIDATE_TYPES: ReadonlySet<string> = new Set<CandidateType>(["host", "srflx", "prflx", "relay"]);

/** Longest candidate line accepted; real ones are under 200 characters, this only bounds garbage. */
const MAX_CANDIDATE_LENGTH = 1024;

/**
 * Removes the `a=` prefix some stacks (node-datachannel) put on candidates, and surrounding
 * whitespace, giving the bare `candidate:...` form every stack accepts.
 */
export function stripCandidatePrefix(line: string): string {
  const trimmed = line.trim();
  return trimmed.startsWith("a=") ? trimmed.slice(2) : trimmed;
}

/**
 * Parses `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...`,
 * with or without the `a=` prefix. Returns undefined for anything malformed; never throws, since the
 * input comes from the network.
 */
export function parseCandidate(line: string): ParsedCandidate | undefined {
  if (line.length > MAX_CANDIDATE_LENGTH) return undefined;
  const bare = stripCandidatePrefix(line);
  if (!bare.startsWith("candidate:")) return undefined;
  const fields = bare.slice("candidate:".length).split(/\s+/);
  const [foundation, componentText, transportText, priorityText, addressText, portText, typ, typeText] = fields;
  if (
    foundation === undefined ||
    componentText === undefined ||
    transportText === undefined ||
    priorityText === undefined ||
    addressText === undefined ||
    portText === undefined ||
    typ !== "typ" ||
    typeText === undefined
  ) {
    return undefined;
  }
  const component = parseDecimal(componentText);
  const priority = parseDecimal(priorityText);
  const port = parseDecimal(portText);
  const address = normalizeAddress(addressText);
  if (component === undefined || priority === undefined || port === undefined || port > 65535) return undefined;
  const type = asCandidateType(typeText);
  if (foundation.length === 0 || address.length === 0 || type === undefined) return undefined;
  return {
    foundation,
    component,
    transport: transportText.toLowerCase(),
    priority,
    address,
    port,
    type,
  };
}

/** The candidate type named by `text`, or undefined if it names none (stats come in many shapes). */
export function asCandidateType(text: unknown): CandidateType | undefined {
  return typeof text === "string" && CANDIDATE_TYPES.has(text) ? (text as CandidateType) : undefined;
}

/** True for an mDNS hostname, which hides the real address until someone resolves it. */
export function isMdnsHostname(address: string): boolean {
  return address.endsWith(".local");
}

/**
 * Rewrites a session description keeping only the `a=candidate` lines `keep` accepts. Unparsable
 * candidate lines are dropped too: a stack that cannot parse them would reject the whole SDP.
 * Other lines pass unchanged, with the line ending the SDP used.
 */
export function filterSdpCandidates(sdp: string, keep: (candidate: ParsedCandidate) => boolean): string {
  if (!sdp.includes("a=candidate:")) return sdp;
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (!line.startsWith("a=candidate:")) return true;
      const candidate = parseCandidate(line);
      return candidate !== undefined && keep(candidate);
    })
    .join(eol);
}

/** Lists the candidates inside a session description (for tests and diagnostics). */
export function sdpCandidates(sdp: string): ParsedCandidate[] {
  const out: ParsedCandidate[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith("a=candidate:")) continue;
    const candidate = parseCandidate(line);
    if (candidate !== undefined) out.push(candidate);
  }
  return out;
}

/**
 * Puts an address in the form `isForbiddenAddress` is asked about: no IPv6 brackets or zone, IPv6
 * lower-case (hex digits may arrive in either case), IPv4-mapped IPv6 reduced to IPv4 (so a filter on
 * the IPv4 address also catches its mapped spelling).
 */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (!a.includes(":")) return a;
  a = a.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped?.[1] ?? a;
}

function parseDecimal(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
