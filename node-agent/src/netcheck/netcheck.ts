/**
 * `ipop netcheck`: what this host's NAT does, asked of STUN servers the way RFC 5780 describes and
 * `tailscale netcheck` reports it. Mapping: the public address one local port gets towards different
 * servers (the same everywhere: endpoint-independent, hole punching works; different per server:
 * symmetric). Filtering: whether answers from an address or port we never sent to get through
 * (needs a server with a second address, RFC 5780 OTHER-ADDRESS, as coturn with two listening IPs).
 */
import { networkInterfaces } from "node:os";
import { parseIceUrl } from "../link/ice-servers.js";
import { type StunAnswer, StunClient } from "./stun-client.js";
import { ALLOCATE_REQUEST, BINDING_REQUEST, type StunAddress } from "./stun-message.js";

/** RFC 4787 behaviours; `unknown` when the servers could not tell. */
export type NatBehaviour = "endpoint-independent" | "address-dependent" | "address-and-port-dependent" | "unknown";

/** One server asked. */
export interface NetcheckServer {
  readonly url: string;
  readonly answered: boolean;
  /** Round trip of the first answer, ms. */
  readonly latencyMs: number | null;
  /** The public address it saw (STUN), or null. */
  readonly mapped: string | null;
  /** For TURN: what it answered to an unauthenticated Allocate (401: it wants credentials, as it should). */
  readonly note?: string;
}

/** What `ipop netcheck --json` prints (docs/nat.md). */
export interface NetcheckReport {
  readonly version: 1;
  /** Some STUN server answered over UDP. */
  readonly udp: boolean;
  /** This host's public IPv4 address and port as the first server saw it. */
  readonly publicAddress: string | null;
  /** The public address is none of this host's own: a NAT is in the way. */
  readonly behindNat: boolean | null;
  readonly mapping: NatBehaviour;
  readonly filtering: NatBehaviour;
  /** Hole punching to peers behind other NATs should work (endpoint-independent mapping). */
  readonly holePunching: boolean | null;
  readonly servers: readonly NetcheckServer[];
  /** Datagrams that were no answer to a question asked (malformed or stray). */
  readonly ignoredDatagrams: number;
}

/** Asks every server and works out the NAT's behaviour. */
export async function netcheck(urls: readonly string[]): Promise<NetcheckReport> {
  const client = await StunClient.open();
  const filterClient = await StunClient.open();
  try {
    const servers: NetcheckServer[] = [];
    const probes: Array<{ to: StunAddress; mapped: StunAddress }> = [];
    let other: { primary: StunAddress; other: StunAddress } | undefined;
    const answers = await Promise.all(urls.map((url) => ask(client, url)));
    for (const [i, url] of urls.entries()) {
      const { answer, to, turn } = answers[i]!;
      const mapped = answer?.response.mapped;
      if (!turn && mapped !== undefined) probes.push({ to, mapped });
      if (!turn && answer?.response.otherAddress !== undefined && other === undefined) {
        other = { primary: to, other: answer.response.otherAddress };
      }
      servers.push({
        url,
        answered: answer !== undefined,
        latencyMs: answer === undefined ? null : Math.round(answer.rttMs * 100) / 100,
        mapped: mapped === undefined ? null : `${mapped.ip}:${mapped.port}`,
        ...(turn && answer !== undefined ? { note: turnNote(answer) } : {}),
      });
    }
    if (other !== undefined) {
      // RFC 5780 tests II and III: the server's other address, with its primary and its other port.
      for (const to of [
        { ip: other.other.ip, port: other.primary.port },
        { ip: other.other.ip, port: other.other.port },
      ]) {
        const answer = await client.request(BINDING_REQUEST, to.ip, to.port);
        if (answer?.response.mapped !== undefined) probes.push({ to, mapped: answer.response.mapped });
      }
    }
    const filtering = other === undefined ? "unknown" : await testFiltering(filterClient, other.primary);
    const first = probes[0]?.mapped;
    const mapping = judgeMapping(probes);
    return {
      version: 1,
      udp: probes.length > 0,
      publicAddress: first === undefined ? null : `${first.ip}:${first.port}`,
      behindNat: first === undefined ? null : !localAddresses().has(first.ip),
      mapping,
      filtering,
      holePunching: mapping === "unknown" ? null : mapping === "endpoint-independent",
      servers,
      ignoredDatagrams: client.ignored + filterClient.ignored,
    };
  } finally {
    client.close();
    filterClient.close();
  }
}

/**
 * The mapping behaviour from the public addresses one port got towards several server addresses:
 * all equal is endpoint-independent; equal per server IP but not across IPs is address-dependent;
 * else address-and-port-dependent. One destination alone tells nothing.
 */
export function judgeMapping(probes: ReadonlyArray<{ to: StunAddress; mapped: StunAddress }>): NatBehaviour {
  const key = (a: StunAddress) => `${a.ip}:${a.port}`;
  const destinations = new Set(probes.map((p) => key(p.to)));
  if (destinations.size < 2) return "unknown";
  const mapped = new Set(probes.map((p) => key(p.mapped)));
  if (mapped.size === 1) return "endpoint-independent";
  const byIp = new Map<string, Set<string>>();
  for (const p of probes) byIp.set(p.to.ip, (byIp.get(p.to.ip) ?? new Set()).add(key(p.mapped)));
  const sameWithinIp = [...byIp.values()].every((set) => set.size === 1);
  const severalPortsOfOneIp = probes.some((p) => probes.some((q) => q.to.ip === p.to.ip && q.to.port !== p.to.port));
  return sameWithinIp && severalPortsOfOneIp ? "address-dependent" : "address-and-port-dependent";
}

/**
 * RFC 5780 section 4.4 on a fresh port: first a plain Binding (opens the mapping), then ask for the
 * answer from the other IP and port (it arrives: endpoint-independent filtering), then from the other
 * port only (arrives: address-dependent), else address-and-port-dependent.
 */
async function testFiltering(client: StunClient, server: StunAddress): Promise<NatBehaviour> {
  const opened = await client.request(BINDING_REQUEST, server.ip, server.port);
  if (opened === undefined) return "unknown";
  if (await client.request(BINDING_REQUEST, server.ip, server.port, { change: { ip: true, port: true } })) {
    return "endpoint-independent";
  }
  if (await client.request(BINDING_REQUEST, server.ip, server.port, { change: { ip: false, port: true } })) {
    return "address-dependent";
  }
  return "address-and-port-dependent";
}

async function ask(client: StunClient, url: string): Promise<{ answer: StunAnswer; to: StunAddress; turn: boolean }> {
  const parsed = parseIceUrl(url);
  const to = { ip: parsed?.host ?? "", port: parsed?.port ?? 0 };
  const turn = parsed?.scheme === "turn";
  if (parsed === undefined || parsed.scheme === "stuns" || parsed.scheme === "turns")
    return { answer: undefined, to, turn };
  const answer = await client.request(turn ? ALLOCATE_REQUEST : BINDING_REQUEST, to.ip, to.port);
  return { answer, to, turn };
}

function turnNote(answer: NonNullable<StunAnswer>): string {
  const code = answer.response.errorCode;
  if (code === 401) return "TURN server; asks for credentials (401), as it should";
  if (code === undefined) return "TURN server; allocated without credentials (an open relay)";
  return `TURN server; answered error ${code}`;
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) out.add(info.address);
  return out;
}

/** The report as `ipop netcheck` prints it. */
export function formatNetcheck(r: NetcheckReport): string {
  const lines = [
    "Report:",
    `  * UDP: ${r.udp}`,
    `  * Public address: ${r.publicAddress ?? "unknown"}${r.behindNat === null ? "" : r.behindNat ? " (behind NAT)" : " (no NAT)"}`,
    `  * Mapping: ${r.mapping}${r.mapping === "address-and-port-dependent" ? " (symmetric NAT)" : ""}`,
    `  * Filtering: ${r.filtering}`,
    `  * Hole punching: ${r.holePunching === null ? "unknown" : r.holePunching ? "should work" : "only with peers that have no NAT or a full-cone one; TURN otherwise"}`,
    "  * Servers:",
    ...r.servers.map(
      (s) =>
        `    - ${s.url}: ${s.answered ? `${s.latencyMs} ms` : "no answer"}${s.mapped === null ? "" : `, saw ${s.mapped}`}${s.note === undefined ? "" : `; ${s.note}`}`,
    ),
  ];
  return lines.join("\n");
}
