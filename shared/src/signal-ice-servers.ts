// The ICE servers a signaling server hands its members (`ice-servers` messages), and their checks.

/**
 * One STUN or TURN server the signaling server hands its members (`ipop-signal --turn-url`), in the
 * W3C `RTCIceServer` shape with one URL. TURN ones carry coturn REST credentials: `username` is
 * `EXPIRY:NAME` (Unix seconds), `credential` base64(HMAC-SHA1(shared secret, username)).
 */
export interface SignalIceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/** Most ICE servers one `ice-servers` message may list. */
export const MAX_SIGNAL_ICE_SERVERS = 8;
const MAX_ICE_URL_CHARS = 256;
const MAX_ICE_CREDENTIAL_CHARS = 512;
/** A stun:/turn: URL without user info (credentials travel beside it). */
const ICE_URL = /^(stuns?|turns?):[^\s@/]+$/;

/** Validates an `ice-servers` list; undefined when anything in it is malformed or over a limit. */
export function parseIceServers(value: unknown): SignalIceServer[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_SIGNAL_ICE_SERVERS) return undefined;
  const out: SignalIceServer[] = [];
  for (const raw of value) {
    if (!isRecord(raw)) return undefined;
    const { urls, username, credential } = raw;
    if (typeof urls !== "string" || urls.length > MAX_ICE_URL_CHARS || !ICE_URL.test(urls)) return undefined;
    const text = (x: unknown) => x === undefined || (typeof x === "string" && x.length <= MAX_ICE_CREDENTIAL_CHARS);
    if (!text(username) || !text(credential)) return undefined;
    out.push({
      urls,
      ...(typeof username === "string" ? { username } : {}),
      ...(typeof credential === "string" ? { credential } : {}),
    });
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
