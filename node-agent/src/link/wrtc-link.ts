import wrtc from "@roamhq/wrtc";
import { toW3cIceServers } from "./ice-servers.js";
import type { LinkOptions, PeerLinkFactory } from "./peer-link.js";
import { createW3cLinkFactory, type W3cBackend, type W3cPeerConnection } from "./w3c-link.js";

type W3cPeerConnectionConstructor = new (configuration: {
  iceServers: ReturnType<typeof toW3cIceServers>;
}) => W3cPeerConnection;

/**
 * @roamhq/wrtc (libwebrtc). Quirks:
 * - It gathers loopback candidates (127.0.0.1, ::1) as well; the filter decides.
 * - `send()` is synchronous and copies the view's bytes before it returns; `bufferedAmount` stayed 0
 *   even under a 28 MB flood in one tick, so backpressure never triggers here: a send blocks the
 *   event loop for ~0.1 ms instead.
 * - `.local` candidates would go to getaddrinfo, which cannot resolve mDNS without nss-mdns: dropped.
 * - Its type declarations re-export DOM types this package does not load, hence the cast below.
 */
const WRTC: W3cBackend = {
  name: "wrtc",
  resolvesMdns: false,
  closeDelayMs: 0,
  createPeerConnection(options: LinkOptions): W3cPeerConnection {
    const Ctor = (wrtc as unknown as { RTCPeerConnection: W3cPeerConnectionConstructor }).RTCPeerConnection;
    return new Ctor({ iceServers: toW3cIceServers(options.iceServers) });
  },
  send(channel, message) {
    (channel as unknown as { send(data: Uint8Array): void }).send(message);
  },
};

/** Creates links on wrtc. Nothing to shut down: each link closes its connection. */
export function createWrtcLinkFactory(): PeerLinkFactory {
  return createW3cLinkFactory(WRTC);
}
