/**
 * @ipop/agent as a library: the agent shell and the types of its status output, for tests and tools
 * that drive `ipop` programmatically.
 */
export { Agent, type AgentOptions } from "./agent.js";
export { CONTROL_DIR } from "./control/socket-path.js";
export { AgentError, type AgentErrorCode } from "./errors.js";
export type { CandidateType, LinkSignal, PeerLink, PeerLinkFactory, WebRtcBackendName } from "./link/peer-link.js";
export { AgentMetrics } from "./metrics/agent-metrics.js";
export { type MetricsServer, startMetricsServer } from "./metrics/metrics-server.js";
export type { SignalingState } from "./signaling-client.js";
export { type AgentStatus, formatStatus, type PeerStatus } from "./status.js";
export type { TunDevice } from "./tun/tun-device.js";
