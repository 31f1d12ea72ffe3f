/**
 * What a host shell needs besides its links (`@ipop/agent/host`): the signaling client, which needs
 * nothing of Node (the WebSocket is handed in). The web console bundles it, so the page joins the
 * network exactly as an agent does.
 */

export {
  SignalingClient,
  type SignalingClientOptions,
  type SignalingEvents,
  type SignalingState,
  signalUrls,
} from "../signaling-client.js";
export { type HostLogger, SILENT_LOGGER } from "./host-logger.js";
export type { SignalSocket, SignalSocketHandlers, SignalSocketOpener } from "./signal-socket.js";
