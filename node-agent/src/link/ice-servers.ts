/** One ICE server in the W3C `RTCIceServer` shape that wrtc and werift take. */
export interface W3cIceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/**
 * Converts the agent's ICE server URLs to W3C form. TURN credentials travel inside the URL, in the
 * form node-datachannel reads natively: `turn:user:password@host:port?transport=udp` (user and
 * password percent-encoded if they contain `:` or `@`). URLs without credentials pass unchanged.
 */
export function toW3cIceServers(urls: readonly string[]): W3cIceServer[] {
  return urls.map(toW3cIceServer);
}

function toW3cIceServer(url: string): W3cIceServer {
  const match = /^(stuns?|turns?):([^:@/]*):([^@/]*)@(.+)$/.exec(url);
  if (match === null) return { urls: url };
  const [, scheme, user, password, rest] = match;
  return { urls: `${scheme}:${rest}`, username: decode(user ?? ""), credential: decode(password ?? "") };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // Not percent-encoded after all; use it as written.
  }
}
