/**
 * @ipop/signaling: the IPOP signaling server, `ipop-signal`, as a library. Tests and embedders start it
 * in-process with {@link startSignalServer}; the CLI is a thin shell around the same function.
 */
export { type AuthorityOptions, leasedAddress } from "./authority.js";
export { type AuthorityPaths, loadAuthorityFiles } from "./authority-files.js";
export {
  CaError,
  ListenError,
  OptionError,
  SignalServerError,
  type SignalServerErrorCode,
  TlsError,
} from "./errors.js";
export type { SignalServerStats } from "./http-handler.js";
export { DEFAULT_LIMITS, resolveLimits, type SignalServerLimits } from "./limits.js";
export { createLogger, type LogFields, type LogLevel, type SignalLogger, silentLogger } from "./logger.js";
export { SignalMetrics } from "./metrics.js";
export { type SignalServer, type SignalServerOptions, startSignalServer } from "./server.js";
export { loadTlsFiles, type TlsCredentials, type TlsPaths } from "./tls-files.js";
