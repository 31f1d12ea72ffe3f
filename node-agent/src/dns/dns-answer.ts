import dnsPacket from "dns-packet";

/**
 * The largest query answered. A query is one question, perhaps an EDNS record: glibc's stub sends
 * ~40 bytes, dig ~60; 512 is the classic UDP DNS message limit, so anything bigger is not a query
 * for a node's name.
 */
export const MAX_DNS_QUERY_BYTES = 512;

/**
 * Seconds resolvers may cache an answer. Short: a node that restarts with a token may get a new
 * address, and an unknown name may be a node about to join.
 */
export const DNS_TTL_S = 5;

/** Why a datagram got no answer at all; counted as host drops `dns-REASON`. */
export type DnsDropReason =
  /** Over {@link MAX_DNS_QUERY_BYTES}. */
  | "oversized"
  /** Shorter than a DNS header. */
  | "truncated"
  /** Not decodable as a DNS message (bad label, section past the end, ...). */
  | "malformed"
  /** A response, not a query: answering it could start a loop between two servers. */
  | "not-query"
  /** Not exactly one question. */
  | "question-count"
  /** Over the per-source rate limit (dns-server.ts). */
  | "rate-limited";

export type DnsVerdict =
  | { readonly kind: "answer"; readonly response: Uint8Array; readonly rcode: DnsRcode }
  | { readonly kind: "drop"; readonly reason: DnsDropReason };

export type DnsRcode = "NOERROR" | "NXDOMAIN" | "REFUSED" | "NOTIMP";

/**
 * The zone's names: `lookup("h5")` is the IPv4 address (dotted) of the node named h5, or undefined.
 * Names arrive in lower case; the table matches them case-insensitively.
 */
export type DnsNameTable = (name: string) => string | undefined;

/**
 * Answers one DNS query for the zone `NETWORK.ipop` (lower case, no trailing dot) from a name table.
 * Pure: bytes in, bytes out (or why none), never throws.
 *
 * - an A query for `NAME.zone` that the table knows: the address, authoritative, TTL {@link DNS_TTL_S};
 * - any other type (AAAA, ...) for a known name, or any query for the zone itself: NOERROR, no data;
 * - a name in the zone the table does not know: NXDOMAIN;
 * - a name outside the zone: REFUSED (nothing is forwarded), as is a class other than IN;
 * - an opcode other than QUERY: NOTIMP.
 */
export function answerDnsQuery(query: Uint8Array, zone: string, lookup: DnsNameTable): DnsVerdict {
  if (query.length > MAX_DNS_QUERY_BYTES) return drop("oversized");
  if (query.length < 12) return drop("truncated");
  let packet: dnsPacket.Packet;
  try {
    packet = dnsPacket.decode(Buffer.from(query.buffer, query.byteOffset, query.length));
  } catch {
    return drop("malformed");
  }
  if (packet.type !== "query") return drop("not-query");
  const questions = packet.questions ?? [];
  const [question] = questions;
  if (questions.length !== 1 || question === undefined) return drop("question-count");
  const flags = packet.flags ?? 0;
  const reply = (rcode: DnsRcode, answers: dnsPacket.Answer[] = []): DnsVerdict => {
    // dns-packet writes the flags word as given (less QR): the query's opcode and RD go back, AA
    // is set for answers from our own zone; RA stays clear, as this server recurses for no one.
    const authoritative = rcode === "REFUSED" || rcode === "NOTIMP" ? 0 : dnsPacket.AUTHORITATIVE_ANSWER;
    const response = encode({
      type: "response",
      id: packet.id ?? 0,
      flags: (flags & (OPCODE_MASK | dnsPacket.RECURSION_DESIRED)) | authoritative | RCODES[rcode],
      questions: [question],
      answers,
    });
    return response === undefined ? drop("malformed") : { kind: "answer", response, rcode };
  };
  if ((flags & OPCODE_MASK) !== 0) return reply("NOTIMP");
  if (question.class !== "IN") return reply("REFUSED");
  const name = question.name.toLowerCase().replace(/\.$/, "");
  if (name === zone) return reply("NOERROR");
  if (!name.endsWith(`.${zone}`)) return reply("REFUSED");
  const ip = lookup(name.slice(0, -zone.length - 1));
  if (ip === undefined) return reply("NXDOMAIN");
  if (question.type !== "A") return reply("NOERROR");
  return reply("NOERROR", [{ type: "A", class: "IN", name: question.name, ttl: DNS_TTL_S, data: ip }]);
}

const OPCODE_MASK = 0x7800;
const RCODES: Readonly<Record<DnsRcode, number>> = { NOERROR: 0, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

function drop(reason: DnsDropReason): DnsVerdict {
  return { kind: "drop", reason };
}

/** Encodes a response; a question that decoded but cannot be written back (odd rdata) is undefined. */
function encode(packet: dnsPacket.Packet): Uint8Array | undefined {
  try {
    return dnsPacket.encode(packet);
  } catch {
    return undefined;
  }
}
