/**
 * @ipop/signaling: the IPOP signaling server, `ipop-signal`, as a library. Tests and embedders start it
 * in-process with {@link startSignalServer}; the CLI is a thin shell around the same function.
 */
export { type AuthorityOptions, leasedAddress } from "./authority.js";
export { type AuthorityPaths, loadAuthorityFiles } from "./authority-files.js";
export { newInstanceId } from "./cluster/redis-cluster.js";
export {
  CaError,
  ListenError,
  OptionError,
  SignalServerError,
  type SignalServerErrorCode,
  StoreError,
  TlsError,
} from "./errors.js";
export type { SignalServerStats } from "./http-handler.js";
export { DEFAULT_LIMITS, resolveLimits, type SignalServerLimits } from "./limits.js";
export { createLogger, type LogFields, type LogLevel, type SignalLogger, silentLogger } from "./logger.js";
export { SignalMetrics } from "./metrics.js";
export { type SignalServer, type SignalServerOptions, startSignalServer } from "./server.js";
export { FileStateStore } from "./store/file-store.js";
export { MemoryStateStore } from "./store/memory-store.js";
export { connectRedis, RedisStateStore } from "./store/redis-store.js";
export type { NetworkState, RemoteStateChange, SignalStateStore, StoredLease } from "./store/state-store.js";
export { loadTlsFiles, type TlsCredentials, type TlsPaths } from "./tls-files.js";
