/**
 * What a host shell needs besides its links (`@ipop/agent/host`): the driver of the overlay core and
 * the signaling client, which need nothing of Node (the WebSocket is handed in). The web console
 * bundles them, so the page runs the core and joins the network exactly as an agent does.
 */

export {
  SignalingClient,
  type SignalingClientOptions,
  type SignalingEvents,
  type SignalingState,
  signalUrls,
} from "../signaling-client.js";
export { HostDriver, type HostDriverOptions, type HostHooks } from "./host-driver.js";
export { type HostLogger, SILENT_LOGGER } from "./host-logger.js";
export type { SignalSocket, SignalSocketHandlers, SignalSocketOpener } from "./signal-socket.js";
