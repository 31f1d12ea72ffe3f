/**
 * The link layer as a browser uses it (`@ipop/agent/link`): the W3C link with its candidate filter,
 * signal checks and life cycle, which need nothing of Node. The web console drives it over the
 * browser's own RTCPeerConnection, so a console link behaves exactly like an agent's.
 */

export { parseLinkSignal } from "../link-signal.js";
export { LINK_CHANNELS } from "./channels.js";
export type { IceServer } from "./ice-servers.js";
export type {
  LinkChannel,
  LinkEvents,
  LinkOptions,
  LinkSignal,
  LinkTransportStats,
  PeerLink,
  PeerLinkFactory,
} from "./peer-link.js";
export { createW3cLinkFactory, type W3cBackend, type W3cDataChannel, type W3cPeerConnection } from "./w3c-link.js";
