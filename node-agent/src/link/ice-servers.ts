import type { IceServer as NdcIceServer } from "node-datachannel";

/**
 * One STUN or TURN server, in the W3C `RTCIceServer` shape (one URL each): what the agent hands to
 * every backend. Credentials travel beside the URL, never inside it, so they never appear in argv,
 * config URLs or logs.
 */
export interface IceServer {
  /** `stun:HOST:PORT`, `turn:HOST:PORT[?transport=udp|tcp]` or `turns:HOST:PORT[?transport=tcp]`. */
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/** `stun:`/`turn:`/`turns:` URLs without user info, as the agent accepts them. */
const ICE_URL = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** The parts of an ICE server URL; undefined for anything else (user info included). */
export function parseIceUrl(
  url: string,
): { scheme: "stun" | "stuns" | "turn" | "turns"; host: string; port: number; transport?: "udp" | "tcp" } | undefined {
  const m = ICE_URL.exec(url);
  if (m === null) return undefined;
  const scheme = m[1] as "stun" | "stuns" | "turn" | "turns";
  const secure = scheme === "stuns" || scheme === "turns";
  const port = m[3] === undefined ? (secure ? 5349 : 3478) : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  const host = (m[2] ?? "").replace(/^\[|\]$/g, "");
  return { scheme, host, port, ...(m[4] === undefined ? {} : { transport: m[4] as "udp" | "tcp" }) };
}

/** True for a TURN URL (one that needs credentials). */
export function isTurnUrl(url: string): boolean {
  return url.startsWith("turn:") || url.startsWith("turns:");
}

/** The servers in the shape wrtc and werift take (the W3C one): a copy, nothing to convert. */
export function toW3cIceServers(servers: readonly IceServer[]): IceServer[] {
  return servers.map((s) => ({ ...s }));
}

/**
 * The servers in node-datachannel's object form. Its string form would need the credentials inside
 * the URL, percent-encoded (coturn REST usernames hold a `:`); the object form takes them as they are.
 * Unparsable URLs are left out (the CLI has already refused them).
 */
export function toNdcIceServers(servers: readonly IceServer[]): NdcIceServer[] {
  const out: NdcIceServer[] = [];
  for (const server of servers) {
    const parsed = parseIceUrl(server.urls);
    if (parsed === undefined) continue;
    const turn = parsed.scheme === "turn" || parsed.scheme === "turns";
    out.push({
      hostname: parsed.host,
      port: parsed.port,
      ...(turn
        ? {
            username: server.username ?? "",
            password: server.credential ?? "",
            relayType: parsed.scheme === "turns" ? "TurnTls" : parsed.transport === "tcp" ? "TurnTcp" : "TurnUdp",
          }
        : {}),
    });
  }
  return out;
}
