import { createW3cLinkFactory, type PeerLinkFactory, type W3cPeerConnection } from "@ipop/agent/link";

/**
 * Links over the browser's own RTCPeerConnection, through the agent's W3C link (same channels, same
 * candidate filter, same signal checks).
 *
 * Chromium hides its host addresses behind mDNS names (`<uuid>.local`) unless a page holds camera
 * or microphone permission. The link filter never sends a `.local` candidate (it cannot check what
 * it hides) and agents cannot resolve one anyway, so the page sends no host candidates at all: it
 * learns the agent's real host candidates from the agent's description and sends its ICE checks to
 * them; the agent sees a check from an unknown address and makes it a peer-reflexive candidate
 * (RFC 8445 7.3.1.3). That is plain ICE, needs no privacy default turned off, and works whenever the
 * page can reach an agent's address (through STUN/TURN servers otherwise, as for agents).
 *
 * The page sends IP packets reliable and unordered (as agents on node-datachannel do; wrtc and
 * werift agents send them with `maxRetransmits: 0`): SCTP picks reliability per message at the
 * sender, so the receiving agent takes either.
 */
export function createBrowserLinkFactory(): PeerLinkFactory {
  return createW3cLinkFactory({
    name: "browser",
    resolvesMdns: false,
    closeDelayMs: 0,
    // Reliable but unordered from the page: partially reliable sends from Chromium to
    // node-datachannel stall (docs/console.md, "Unordered channels").
    sendModes: { data: { ordered: false } },
    createPeerConnection: (options) =>
      new RTCPeerConnection({
        iceServers: options.iceServers.map((server) => ({ ...server })),
      }) as unknown as W3cPeerConnection,
    send: (channel, message) => (channel as unknown as RTCDataChannel).send(message as Uint8Array<ArrayBuffer>),
  });
}
